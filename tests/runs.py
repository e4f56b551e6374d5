"""What a pipeline run looks like, whoever ran it: the shape tests/test_run.py (the simulator),
tests/test_cluster.py (a real cluster) and kfp.local share, and the kfp.local runner.

* :class:`Run`: the final state and, for every task that ran (an IR task name, once per loop
  iteration), its state, its output parameters as typed JSON text (so ``3`` and ``3.0`` differ)
  and its output artifacts' contents and metadata. Argo's wire texts are decoded by the IR's
  declared types (``transpiler.wire``).
* :class:`ArgoRun`: a Run of an Argo workflow with the report it came from, in the shape
  ``kfp2argo-sim`` prints (tools/argo-harness/cmd/kfp2argo-sim/report.go; tests/cluster.py builds the
  same shape from a real cluster's Workflow object, pods and S3 store), and the attempts per task.
* :class:`TaskIndex`: which IR task each Argo DAG task is, from the transpiler's own naming; its
  ``normalize`` turns a report into a Run.
* ``run_local``: the pipeline with ``kfp.local`` and its ``SubprocessRunner``, in a fresh Python
  process (kfp.local keeps global state).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

RUN_TIMEOUT_S = 240

SUCCEEDED, FAILED = "SUCCEEDED", "FAILED"
META_PREFIX = "kfp2argo-meta-"


@dataclasses.dataclass
class Run:
    """A run in a shape both runners give: ``tasks`` maps an IR task name to one entry per
    execution, sorted, each ``{"state", "parameters", "artifacts"}`` (outputs only for tasks that
    succeeded)."""

    state: str
    tasks: dict[str, list[dict[str, Any]]]


@dataclasses.dataclass
class ArgoRun:
    run: Run
    report: dict[str, Any]  # what kfp2argo-sim printed
    attempts: dict[str, int]  # pods started per IR task (retries)

    def failures(self) -> str:
        """The message of every node that failed (for assertion messages)."""
        return "\n".join(
            f"{n['name']}: {n['phase']}: {n.get('message', '')}"
            for n in self.report["nodes"]
            if n["phase"] in ("Failed", "Error")
        )

    @property
    def workflow_uid(self) -> str:
        return self.report["uid"]

    def stdout(self, task: str) -> list[str]:
        """What the pods of an Argo DAG task printed, one text per pod, in pod-name order."""
        names = {n["id"]: n["displayName"] for n in self.report["nodes"]}
        return [p["stdout"] for p in self.report["pods"] if names[p["nodeID"]].split("(")[0] == task]


def load_fixture(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"fixture_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compile_ir(fixture: Path) -> str:
    """The IR kfp compiles from a fixture module's ``pipeline``."""
    from kfp import compiler

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "pipeline.yaml"
        compiler.Compiler().compile(load_fixture(fixture).pipeline, str(target))
        return target.read_text(encoding="utf-8")


@dataclasses.dataclass
class _Typed:
    """A parameter's name on the other side (Argo for KFP, KFP for Argo) and its IR type."""

    name: str
    type: str


@dataclasses.dataclass
class _Task:
    ir_name: str
    parameters: dict[str, _Typed]  # Argo output parameter name -> KFP name and type
    artifacts: dict[str, str]  # Argo output artifact name -> KFP name


class TaskIndex:
    """Which IR task each Argo DAG task is, from the transpiler's own naming (its Plan)."""

    def __init__(self, ir_text: str) -> None:
        from transpiler import names
        from transpiler.analysis import Analysis
        from transpiler.load import load
        from transpiler.parse import parse
        from transpiler.partition import partition
        from transpiler.plan import Plan
        from transpiler.validate import validate

        source = load(ir_text, "pipeline.yaml")
        validate(source)
        pipeline = parse(source)
        pipeline, facts = partition(source, pipeline, Analysis(pipeline))
        plan = Plan(pipeline, facts)
        self.root_parameters = {
            p.name: _Typed(names.parameter_name(p.name), p.type) for p in pipeline.root.inputs.parameters
        }
        self.tasks: dict[tuple[str, str], _Task] = {}
        for component in plan.dag_components():
            templates = {plan.dag_template(component.name)}
            if facts.loop_task(component) is not None:
                templates.add(plan.iteration_template(component.name))
            argo_names = plan.task_names(component)
            for task in component.dag.tasks:
                outputs = pipeline.components[task.component].outputs
                info = _Task(
                    task.name,
                    {names.parameter_name(p.name): _Typed(p.name, p.type) for p in outputs.parameters},
                    {names.parameter_name(a.name): a.name for a in outputs.artifacts},
                )
                for template in templates:
                    self.tasks[(template, argo_names[task.name])] = info

    def normalize(self, report: dict[str, Any]) -> tuple[Run, dict[str, int]]:
        nodes = {n["id"]: n for n in report["nodes"]}
        parent = {child: n for n in report["nodes"] for child in n.get("children", [])}
        tasks: dict[str, list[dict[str, Any]]] = {}
        attempts: dict[str, int] = {}
        for node in report["nodes"]:
            if node["type"] not in ("Pod", "Retry"):
                continue
            retried = node["type"] == "Pod" and parent.get(node["id"], {}).get("type") == "Retry"
            owner = parent[node["id"]] if retried else node
            info = self.tasks[(nodes[owner["boundaryID"]]["templateName"], owner["displayName"])]
            attempts[info.ir_name] = attempts.get(info.ir_name, 0) + (node["type"] == "Pod")
            if not retried:
                tasks.setdefault(info.ir_name, []).append(self._entry(node, info))
        return Run(_state(report["phase"]), _sorted(tasks)), attempts

    def _entry(self, node: dict[str, Any], info: _Task) -> dict[str, Any]:
        from transpiler import wire

        state = _state(node["phase"])
        if state != SUCCEEDED:
            return {"state": state}
        outputs = node.get("outputs") or {}
        values = outputs.get("parameters") or {}
        parameters = {
            p.name: typed_json(None if values.get(argo) is None else wire.decode_typed(values[argo], wire.wire_type(p.type)))
            for argo, p in info.parameters.items()
        }
        artifacts = {}
        for argo, kfp_name in info.artifacts.items():
            stored = (outputs.get("artifacts") or {}).get(argo)
            metadata = values.get(META_PREFIX + argo)
            artifacts[kfp_name] = {
                "content": _argo_content(stored),
                "metadata": _loose(wire.decode_typed(metadata, "STRUCT") if metadata is not None else None),
            }
        return {"state": state, "parameters": parameters, "artifacts": artifacts}


def _argo_content(stored: dict[str, Any] | None) -> Any:
    if stored is None or stored.get("missing"):
        return None
    if "file" in stored:
        return _text(stored["file"])
    return {path: _text(content) for path, content in stored["files"].items()}


def _text(content: dict[str, Any]) -> str:
    return content["text"] if "text" in content else "base64:" + content["base64"]


def _state(phase: str) -> str:
    return {"Succeeded": SUCCEEDED, "Failed": FAILED, "Error": FAILED}.get(phase, phase.upper())


_TaskIndex = TaskIndex


# ----------------------------------------------------------------------------------------------
# kfp.local


def run_local(fixture: Path, arguments: dict[str, Any], tmp_path: Path) -> Run:
    """Run the fixture's pipeline with kfp.local (SubprocessRunner) in a fresh interpreter."""
    work = tmp_path / "local"
    work.mkdir(parents=True, exist_ok=True)
    result = work / "result.json"
    proc = subprocess.run(
        [sys.executable, __file__, str(fixture.resolve()), json.dumps(arguments), str(work), str(result)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1"),
        cwd=work,
        timeout=RUN_TIMEOUT_S,
    )
    if proc.returncode != 0 or not result.is_file():
        raise RuntimeError(f"the kfp.local run failed to run (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    data = json.loads(result.read_text(encoding="utf-8"))
    return Run(data["state"], _sorted(data["tasks"]))


def _local_main(fixture: str, arguments: str, work: str, result: str) -> None:
    """In the child process: run the pipeline, recording every task kfp.local executes."""
    from kfp import dsl, local
    from kfp.local import status
    from kfp.local.orchestrator import task_executor

    records: list[tuple[str, dict[str, Any], Any]] = []
    execute = task_executor.execute_single_task

    def recording(*args: Any, **kwargs: Any) -> Any:
        outputs, task_status = execute(*args, **kwargs)
        records.append((kwargs.get("task_name") or args[0], outputs, task_status))
        return outputs, task_status

    task_executor.execute_single_task = recording
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=os.path.join(work, "outputs"),
        workspace_root=os.path.join(work, "workspace"),
        raise_on_error=True,
    )
    try:
        load_fixture(Path(fixture)).pipeline(**json.loads(arguments))
        state = SUCCEEDED
    except RuntimeError as e:
        if "finished with status" not in str(e):
            raise
        state = FAILED
    tasks: dict[str, list[dict[str, Any]]] = {}
    for name, outputs, task_status in records:
        if task_status != status.Status.SUCCESS:
            tasks.setdefault(name, []).append({"state": FAILED})
            continue
        entry: dict[str, Any] = {"state": SUCCEEDED, "parameters": {}, "artifacts": {}}
        for key, value in outputs.items():
            if isinstance(value, dsl.Artifact):
                entry["artifacts"][key] = {"content": _local_content(value.path), "metadata": _loose(dict(value.metadata))}
            else:
                entry["parameters"][key] = typed_json(value)
        tasks.setdefault(name, []).append(entry)
    Path(result).write_text(json.dumps({"state": state, "tasks": tasks}), encoding="utf-8")


def _local_content(path: str) -> Any:
    p = Path(path)
    if p.is_file():
        return _file_text(p)
    if p.is_dir():
        return {f.relative_to(p).as_posix(): _file_text(f) for f in sorted(p.rglob("*")) if f.is_file()}
    return None


def _file_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        import base64

        return "base64:" + base64.b64encode(data).decode("ascii")


# ----------------------------------------------------------------------------------------------
# shared


def typed_json(value: Any) -> str:
    """A parameter value as JSON text: equal texts mean equal values of the same types (``3`` is
    not ``3.0``), except for numbers inside lists and structs (see ``_loose``)."""
    return json.dumps(_loose(value) if isinstance(value, (list, dict)) else value, sort_keys=True, ensure_ascii=False)


def _loose(value: Any) -> Any:
    """Integral floats as ints: inside lists, structs and artifact metadata KFP has only
    doubles (protobuf Values), where kfp2argo keeps integers (docs/runtime-contract.md)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _loose(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_loose(v) for v in value]
    return value


def _sorted(tasks: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {name: sorted(entries, key=lambda e: json.dumps(e, sort_keys=True)) for name, entries in sorted(tasks.items())}


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    _local_main(*sys.argv[1:])
