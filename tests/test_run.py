"""Generated workflows run end to end on Argo's own workflow controller (issue 7).

Each pipeline is compiled with kfp, transpiled, and run by ``tools/argo-harness/bin/kfp2argo-sim``:
Argo v4.0.2's workflow controller on fake clientsets, with a simulated kubelet and executor
that run every pod's command on this machine (see tools/argo-harness/README.md). Where kfp.local
(SubprocessRunner) can run the pipeline, the Argo run must equal the kfp.local run: final state,
which tasks ran, their states, typed output parameters, artifact contents and metadata. Where it
cannot (container components; kfp.local limitations named at each test), the expected values
are the ones the pipeline's logic implies, written out here.

Skipped without Go, except under CI=true (as tests/argo_lint.py). Each run takes seconds: most
of it is the pods' Python (pip's check that kfp is installed, then importing kfp).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from sim import FAILED, SUCCEEDED, ArgoRun, Run, compile_ir, load_fixture, require_sim, run_argo, run_local, typed_json

FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(autouse=True)
def _sim() -> None:
    require_sim()


def both(case: str, arguments: dict[str, Any], tmp_path: Path) -> tuple[ArgoRun, Run]:
    """The Argo run and the kfp.local run of a fixture (run side by side)."""
    fixture = FIXTURES / f"{case}.py"
    ir_text = compile_ir(fixture)
    with ThreadPoolExecutor(2) as pool:
        argo = pool.submit(run_argo, ir_text, arguments, tmp_path, case)
        local = pool.submit(run_local, fixture, arguments, tmp_path)
        return argo.result(), local.result()


def ok(**parameters: Any) -> dict[str, Any]:
    """A task that succeeded with these output parameters and no output artifacts."""
    return {
        "state": SUCCEEDED,
        "parameters": {k: typed_json(v) for k, v in parameters.items()},
        "artifacts": {},
    }


def tasks(**entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Expected tasks by IR task name (``_`` for ``-``), each list in the order Run sorts it."""
    return {name.replace("_", "-"): sorted(e, key=lambda x: json.dumps(x, sort_keys=True)) for name, e in sorted(entries.items())}


# ----------------------------------------------------------------------------------------------
# Equal to kfp.local


@pytest.mark.parametrize(
    ("case", "arguments"),
    [
        ("run_artifacts", {}),  # artifacts across three steps: a file, a directory, a file
        ("artifacts_chain", {}),  # ... and a Metrics artifact that is only metadata
        ("outputs_namedtuple", {}),  # NamedTuple and OutputPath outputs
        ("nested_pipeline", {}),  # pipelines as components, with parameter and artifact outputs
        ("run_branches", {}),  # If/Elif/Else on int, float, bool, string outputs: first arms
        ("run_branches", {"i": 3, "f": 0.5, "b": False, "s": "alpha"}),  # Elif arms, bool Else
        ("run_branches", {"i": 1, "f": 0.75, "s": "omega"}),  # Else arms
        ("conditions", {}),  # dsl.OneOf, nested conditions, a bool parameter
        ("conditions", {"seed": 3, "verbose": False, "threshold": 2}),
        ("run_loops", {}),  # ParallelFor over raw, parameter and task-output lists, Collected
        ("exit_handler", {}),  # exit handlers and ignore_upstream_failure when nothing fails
    ],
)
def test_run_equals_kfp_local(case: str, arguments: dict[str, Any], tmp_path: Path) -> None:
    argo, local = both(case, arguments, tmp_path)
    assert argo.run == local, argo.failures()


def test_retries_fail_twice_then_succeed(tmp_path: Path) -> None:
    fixture = FIXTURES / "run_retries.py"
    counters = {side: tmp_path / f"attempts-{side}" for side in ("argo", "local")}
    for directory in counters.values():
        directory.mkdir()
    argo = run_argo(compile_ir(fixture), {"counter_dir": str(counters["argo"])}, tmp_path)
    local = run_local(fixture, {"counter_dir": str(counters["local"])}, tmp_path)
    assert argo.run == local, argo.failures()
    assert argo.run == Run(SUCCEEDED, tasks(flaky=[ok(Output=3)], report=[ok(Output="succeeded on attempt 3")]))
    assert argo.attempts == {"flaky": 3, "report": 1}
    assert [n["phase"] for n in argo.report["nodes"] if n["displayName"].startswith("flaky(")] == ["Failed", "Failed", "Succeeded"]


# ----------------------------------------------------------------------------------------------
# What the pipeline's logic implies (kfp.local cannot run these)


def test_exit_handler_after_a_failing_task(tmp_path: Path) -> None:
    """The failing task fails the run, yet the exit tasks and the tasks that ignore upstream
    failures run; the one reading the failed task's output gets its input's default. (kfp.local
    stops with "Tried to get output 'Output' from task 'work-3', but task 'work-3' not found".)"""
    argo = run_argo(compile_ir(FIXTURES / "exit_handler.py"), {"fail": True}, tmp_path)
    assert argo.run == Run(
        FAILED,
        tasks(
            work=[{"state": FAILED}],  # guarded by the first handler; work-2 after it never runs
            work_3=[{"state": FAILED}],  # "risky", in the second handler
            report=[ok(Output="FAILED")],  # exit task of the first handler: sees the failure
            cleanup=[ok(), ok()],  # the second handler's exit pipeline, and "after risky"
            describe=[ok(Output="risky said: no result")],
        ),
    ), argo.failures()


def test_loops_with_nested_fan_in(tmp_path: Path) -> None:
    """Every loop form of tests/fixtures/loops.py. (kfp.local passes collected integers as
    doubles, so `grid` fails there: "returned value of type float; want type int".)"""
    argo = run_argo(compile_ir(FIXTURES / "loops.py"), {}, tmp_path)
    assert argo.run == Run(
        SUCCEEDED,
        tasks(
            make_words=[ok(Output=["hello", "loop", "world"])],
            shout=[ok(Output="HELLO"), ok(Output="LOOP"), ok(Output="WORLD")],
            square=[ok(Output=1), ok(Output=4), ok(Output=9)],
            square_2=[ok(Output=4), ok(Output=9)],  # "square-big": only where n > 1
            square_3=[ok(Output=1), ok(Output=4), ok(Output=1), ok(Output=4)],
            make_points=[ok(Output=[{"word": "a", "x": 1}, {"word": "b", "x": 2}])],
            label=[ok(Output="a=1"), ok(Output="b=2")],
            total=[ok(Output=14)],
            total_2=[ok(Output=13)],  # "total-big": the iterations that skipped are left out
            summary=[ok(Output="HELLO,LOOP,WORLD;[1, 4, 9]")],
            grid=[ok(Output=10)],
            done=[ok()],
        ),
    ), argo.failures()


def test_every_parameter_type_through_python_components(tmp_path: Path) -> None:
    """(kfp.local rejects the dict with a None value: "Value must be one of the following types".)
    Integers inside lists and dicts stay integers (docs/runtime-contract.md)."""
    argo = run_argo(compile_ir(FIXTURES / "parameter_types.py"), {}, tmp_path)
    assert argo.run == Run(
        SUCCEEDED,
        tasks(
            echo_types=[ok(Output=repr(("text", 7, 1.5, False, [1, 2, 3], {"k": "v"})))],
            echo_types_2=[ok(Output=repr(("text", 42, 0.5, True, [1, "two", {"three": 3}], {"a": [1, 2], "b": None})))],
            make_int=[ok(Output=42)],
            make_float=[ok(Output=0.5)],
            make_bool=[ok(Output=True)],
            make_list=[ok(Output=[1, "two", {"three": 3}])],
            make_dict=[ok(Output={"a": [1, 2], "b": None})],
        ),
    ), argo.failures()


def test_every_parameter_type_through_a_container_component(tmp_path: Path) -> None:
    argo = run_argo(compile_ir(FIXTURES / "run_container_types.py"), {}, tmp_path)
    values = ("some text", -7, 2.5, False, ["one", 2, True], {"k": ["v", 1.5]})
    names = ("s_out", "i_out", "f_out", "b_out", "l_out", "d_out")
    assert argo.run == Run(
        SUCCEEDED,
        tasks(copy_values=[ok(**dict(zip(names, values)))], describe=[ok(Output=repr(values))]),
    ), argo.failures()


def test_hard_values_arrive_byte_for_byte(tmp_path: Path) -> None:
    """Quotes, a newline, $(...), a backslash, non-ASCII and Argo tags, into Python components
    (and out again), one of them with an f-string holding {{ in its source."""
    from transpiler import wire

    module = load_fixture(FIXTURES / "hard_values.py")
    argo = run_argo(compile_ir(FIXTURES / "hard_values.py"), {}, tmp_path)
    assert argo.run == Run(
        SUCCEEDED,
        tasks(
            echo_back=[ok(Output=module.HARD_DEFAULT)],
            echo_back_2=[ok(Output="{{inert}} plain")],
            echo_back_3=[ok(Output=module.HARD)],
            show=[ok()],
        ),
    ), argo.failures()
    assert "{literal} {'key': \"{it'}\"}" in argo.stdout("echo-back-3")[0]
    # A container component receives a value Argo would alter in its escaped form (README).
    assert wire.decode(argo.stdout("show")[0]) == module.HARD


def test_values_kubernetes_would_expand_arrive_byte_for_byte(tmp_path: Path) -> None:
    """Kubernetes expands `$(NAME)` and turns `$$` into `$` in a container's env values, command
    and args (the simulated kubelet does the same); a value must still arrive unchanged."""
    module = load_fixture(FIXTURES / "run_dollar_values.py")
    argo = run_argo(compile_ir(FIXTURES / "run_dollar_values.py"), {}, tmp_path)
    assert argo.run == Run(SUCCEEDED, tasks(echo=[ok(Output=module.DOLLARS)], copy_text=[ok(out=module.DOLLARS)])), argo.failures()


def test_container_component_writes_its_output_files(tmp_path: Path) -> None:
    """tests/fixtures/container_placeholders.py: `produce` writes its OutputPath file without
    creating its folder first, as a KFP container component may (KFP's launcher creates the
    folders of every output file before the command runs)."""
    argo = run_argo(compile_ir(FIXTURES / "container_placeholders.py"), {}, tmp_path)
    produced = {"state": SUCCEEDED, "parameters": {"size": typed_json(3)}, "artifacts": {"data": {"content": "hi", "metadata": {}}}}
    assert argo.run == Run(SUCCEEDED, tasks(produce=[produced], consume=[ok()], consume_2=[ok()])), argo.failures()
    name, uid = argo.report["workflow"], argo.workflow_uid
    assert argo.stdout("consume") == [f"hi label=first --no-flag {name} consume {uid}\n"]
    assert argo.stdout("consume-2") == [f"hi label=second --flag on {name} consume-2\n"]


# ----------------------------------------------------------------------------------------------
# The simulator itself, on hand-written workflows

PVC_WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: shared-volume-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: make-pvc, template: make-pvc}
      - name: write
        template: write
        depends: make-pvc
        arguments: {parameters: [{name: claim, value: '{{tasks.make-pvc.outputs.parameters.claim}}'}]}
      - name: read
        template: read
        depends: write
        arguments: {parameters: [{name: claim, value: '{{tasks.make-pvc.outputs.parameters.claim}}'}]}
      - name: delete-pvc
        template: delete-pvc
        depends: read
        arguments: {parameters: [{name: claim, value: '{{tasks.make-pvc.outputs.parameters.claim}}'}]}
  - name: make-pvc
    resource:
      action: create
      manifest: |
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {generateName: '{{workflow.name}}-data-'}
        spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
    outputs:
      parameters: [{name: claim, valueFrom: {jsonPath: '{.metadata.name}'}}]
  - name: write
    inputs: {parameters: [{name: claim}]}
    volumes: [{name: data, persistentVolumeClaim: {claimName: '{{inputs.parameters.claim}}'}}]
    container:
      image: alpine:3.20
      command: [sh, -c, 'printf "written by %s" "$0" > /data/file', '{{pod.name}}']
      volumeMounts: [{name: data, mountPath: /data}]
  - name: read
    inputs: {parameters: [{name: claim}]}
    volumes: [{name: data, persistentVolumeClaim: {claimName: '{{inputs.parameters.claim}}'}}]
    container:
      image: alpine:3.20
      command: [cat, /data/file]
      volumeMounts: [{name: data, mountPath: /data}]
    outputs:
      parameters: [{name: text, valueFrom: {path: /data/file}}]
  - name: delete-pvc
    inputs: {parameters: [{name: claim}]}
    resource:
      action: delete
      manifest: |
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: '{{inputs.parameters.claim}}'}
"""


def simulate(manifest: str, tmp_path: Path, objects: str = "") -> dict[str, Any]:
    import subprocess

    (tmp_path / "workflow.yaml").write_text(manifest, encoding="utf-8")
    (tmp_path / "objects.yaml").write_text(objects, encoding="utf-8")
    command = [str(require_sim()), "-work", str(tmp_path / "work"), "-timeout", "60s", "-objects", str(tmp_path / "objects.yaml")]
    proc = subprocess.run(command + [str(tmp_path / "workflow.yaml")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_resource_templates_and_a_shared_volume(tmp_path: Path) -> None:
    report = simulate(PVC_WORKFLOW, tmp_path)
    nodes = {n["displayName"]: n for n in report["nodes"]}
    assert report["phase"] == "Succeeded", report
    claim = nodes["make-pvc"]["outputs"]["parameters"]["claim"]
    assert claim.startswith("shared-volume-sim-data-")
    writer = next(p["name"] for p in report["pods"] if p["nodeID"] == nodes["write"]["id"])
    assert nodes["read"]["outputs"]["parameters"] == {"text": f"written by {writer}"}
    assert nodes["delete-pvc"]["phase"] == "Succeeded"


def test_a_pod_past_its_deadline_fails(tmp_path: Path) -> None:
    report = simulate(
        """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: deadline}
spec:
  entrypoint: slow
  templates:
  - name: slow
    activeDeadlineSeconds: 1
    container: {image: alpine:3.20, command: [sleep, '30']}
""",
        tmp_path,
    )
    assert report["phase"] == "Failed"
    [node] = report["nodes"]
    assert node["message"] == "Pod was active on the node longer than the specified deadline"


def test_cluster_objects_as_env_and_volumes(tmp_path: Path) -> None:
    """A Secret as an env variable (and `$(NAME)` in args expanded from it, as the kubelet does)
    and a ConfigMap as files, in a directory the host needs (/etc) for itself."""
    objects = """
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: argo}
stringData: {token: s3cr3t}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: argo}
data: {level: debug}
"""
    report = simulate(
        """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: objects}
spec:
  entrypoint: show
  templates:
  - name: show
    volumes: [{name: settings, configMap: {name: settings}}]
    container:
      image: alpine:3.20
      command: [sh, -c, 'printf "%s %s %s" "$0" "$TOKEN" "$(cat /etc/app/level)"', '$(TOKEN)$$']
      env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: token}}}]
      volumeMounts: [{name: settings, mountPath: /etc/app}]
""",
        tmp_path,
        objects,
    )
    assert report["phase"] == "Succeeded", report
    assert [p["stdout"] for p in report["pods"]] == ["s3cr3t$ s3cr3t debug"]
