"""Large DAGs stay admissible: a DAG of more than 200 tasks is cut into nested partitions
(transpiler/partition.py, docs/partitioning.md).

The pipelines are generated here as IR. Each is compiled twice: as kfp2argo writes it, and
without the partition pass (the reference, which Argo's CRDs refuse). The checks:

* the partitioned manifest passes the lint harness, CRD limits included, and no DAG, template
  list or input list exceeds Argo's limits;
* data flow is unchanged: every argument of every container task, followed through the emitted
  manifest (inputs to the calling task's arguments, DAG outputs to the task that makes them, up
  and down any number of templates), resolves to the same producer, constant, pipeline parameter
  or default in both manifests, and so do the operands of every ``when``;
* ordering is kept: every task still waits for everything it waited for before.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from typing import Any

import pytest

import transpiler.partition as partition_module
from argo_lint import evaluate, lint, require_harness
from conftest import ROOT
from transpiler import compile_document, emit, ir, load, wire
from transpiler.analysis import Analysis
from transpiler.errors import OutputSchemaError
from transpiler.partition import MAX_DAG_TASKS, partition

# --- generated IR ---------------------------------------------------------------------------

DATASET = {"artifactType": {"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"}}
PYTHON_ARGV = {"command": ["python3", "-c", "print('component')"], "args": ["--executor_input", "{{$}}"]}


def _sh(*placeholders: str) -> dict:
    return {"command": ["sh", "-c", 'echo "$@"', "sh", *placeholders]}


# name: (inputs, outputs, executor argv); inputs/outputs are IR inputDefinitions/outputDefinitions.
COMPONENTS: dict[str, tuple[dict, dict, dict]] = {
    "head": (
        {"parameters": {"x": {"parameterType": "STRING"}}},
        {"parameters": {"Output": {"parameterType": "STRING"}}, "artifacts": {"data": DATASET}},
        _sh("{{$.inputs.parameters['x']}}", "{{$.outputs.parameters['Output'].output_file}}",
            "{{$.outputs.artifacts['data'].path}}"),
    ),
    "step": (
        {"parameters": {"x": {"parameterType": "STRING"}}, "artifacts": {"data": DATASET}},
        {"parameters": {"Output": {"parameterType": "STRING"}}, "artifacts": {"data": DATASET}},
        _sh("{{$.inputs.parameters['x']}}", "{{$.inputs.artifacts['data'].path}}",
            "{{$.outputs.parameters['Output'].output_file}}", "{{$.outputs.artifacts['data'].path}}"),
    ),
    "echo": (
        {"parameters": {"x": {"parameterType": "STRING", "isOptional": True, "defaultValue": "nothing"}}},
        {},
        _sh("{{$.inputs.parameters['x']}}"),
    ),
    "echo-list": ({"parameters": {"x": {"parameterType": "LIST"}}}, {}, _sh("{{$.inputs.parameters['x']}}")),
    "py": (
        {"parameters": {"x": {"parameterType": "STRING"}}},
        {"parameters": {"Output": {"parameterType": "STRING"}}},
        PYTHON_ARGV,
    ),
    "py-list": ({}, {"parameters": {"Output": {"parameterType": "LIST"}}}, PYTHON_ARGV),
    "report": (
        {"parameters": {"status": {"parameterType": "TASK_FINAL_STATUS", "isOptional": True}}},
        {},
        PYTHON_ARGV,
    ),
    "five": (
        {"parameters": {f"p{i}": {"parameterType": "STRING"} for i in range(5)}},
        {},
        _sh(*(f"{{{{$.inputs.parameters['p{i}']}}}}" for i in range(5))),
    ),
}


def inp(name: str) -> dict:
    return {"componentInputParameter": name}


def out(task: str, key: str = "Output") -> dict:
    return {"taskOutputParameter": {"producerTask": task, "outputParameterKey": key}}


def art_in(name: str) -> dict:
    return {"componentInputArtifact": name}


def art_out(task: str, key: str = "data") -> dict:
    return {"taskOutputArtifact": {"producerTask": task, "outputArtifactKey": key}}


def const(value: Any) -> dict:
    return {"runtimeValue": {"constant": value}}


def task(component: str, params: dict | None = None, artifacts: dict | None = None, after: tuple[str, ...] = (),
         condition: str | None = None, after_failure: bool = False, **extra: Any) -> dict:
    """An IR task; like the KFP compiler, it depends on every task whose outputs it reads."""
    producers = {s[k]["producerTask"] for s in [*(params or {}).values(), *(artifacts or {}).values()]
                 for k in ("taskOutputParameter", "taskOutputArtifact") if k in s}
    producers |= {s["taskFinalStatus"]["producerTask"] for s in (params or {}).values() if "taskFinalStatus" in s}
    body: dict[str, Any] = {"componentRef": {"name": f"comp-{component}"}}
    if producers | set(after):
        body["dependentTasks"] = sorted(producers | set(after))
    inputs = {k: v for k, v in (("parameters", params), ("artifacts", artifacts)) if v}
    if inputs:
        body["inputs"] = inputs
    trigger = {}
    if condition:
        trigger["condition"] = condition
    if after_failure:
        trigger["strategy"] = "ALL_UPSTREAM_TASKS_COMPLETED"
    if trigger:
        body["triggerPolicy"] = trigger
    return {**body, **extra}


class Spec:
    """A PipelineSpec built in code: the shared components above plus DAG components."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.components: dict[str, dict] = {}
        self.executors: dict[str, dict] = {}
        for key, (inputs, outputs, argv) in COMPONENTS.items():
            self.components[f"comp-{key}"] = {"executorLabel": f"exec-{key}", "inputDefinitions": inputs,
                                              "outputDefinitions": outputs}
            self.executors[f"exec-{key}"] = {"container": {"image": "alpine:3.20", **argv}}

    def dag(self, name: str, tasks: dict, inputs: dict | None = None, outputs: dict | None = None,
            output_types: dict | None = None) -> None:
        """A DAG component. ``outputs``: name -> IR output selector; ``output_types``: their defs."""
        body: dict[str, Any] = {"dag": {"tasks": tasks}}
        if outputs:
            body["dag"]["outputs"] = outputs
        if inputs:
            body["inputDefinitions"] = inputs
        if output_types:
            body["outputDefinitions"] = output_types
        self.components[f"comp-{name}"] = body

    def document(self, tasks: dict, inputs: dict | None = None, outputs: dict | None = None,
                 output_types: dict | None = None, platform: dict | None = None) -> bytes:
        root: dict[str, Any] = {"dag": {"tasks": tasks}}
        if outputs:
            root["dag"]["outputs"] = outputs
        if inputs:
            root["inputDefinitions"] = inputs
        if output_types:
            root["outputDefinitions"] = output_types
        spec = {
            "pipelineInfo": {"name": self.name},
            "components": dict(sorted(self.components.items())),
            "deploymentSpec": {"executors": dict(sorted(self.executors.items()))},
            "root": root,
            "schemaVersion": "2.1.0",
            "sdkVersion": "kfp-2.17.0",
        }
        text = json.dumps(spec, indent=1)
        if platform:
            text += "\n---\n" + json.dumps({"platforms": {"kubernetes": {"deploymentSpec": {"executors": platform}}}}, indent=1)
        return text.encode()


def chain(prefix: str, length: int, first_x: dict, first_data: dict | None = None, far: str | None = None,
          forwarded: str | None = None) -> dict:
    """``length`` tasks ``<prefix>-<i>``, each reading the previous one's value and dataset;
    every 7th reads ``far``'s value instead, every 5th the enclosing DAG's input ``forwarded``."""
    tasks = {}
    if first_data is None:
        tasks[f"{prefix}-0"] = task("head", {"x": first_x})
    else:
        tasks[f"{prefix}-0"] = task("step", {"x": first_x}, {"data": first_data})
    for i in range(1, length):
        previous = f"{prefix}-{i - 1}"
        x = out(previous)
        if far and i % 7 == 0:
            x = out(far)
        elif forwarded and i % 5 == 0:
            x = inp(forwarded)
        tasks[f"{prefix}-{i}"] = task("step", {"x": x}, {"data": art_out(previous)})
    return tasks


STRING = {"parameterType": "STRING"}


def features_pipeline(length: int = 240) -> bytes:
    """One root DAG of about ``length`` + 25 tasks with every kind of edge the pass must route."""
    spec = Spec("features")
    tasks = chain("c", length, inp("text"), far="c-0", forwarded="text")
    last = f"c-{length - 1}"
    late = f"c-{length - 20}"
    tasks["py-0"] = task("py", {"x": inp("text")})
    tasks["list-0"] = task("py-list")
    # Conditions: on a forwarded pipeline parameter, and on a Python output from far away.
    spec.dag("cond-flag", {"flag-echo": task("echo", {"x": inp("pipelinechannel--text")})},
             inputs={"parameters": {"pipelinechannel--flag": {"parameterType": "BOOLEAN"},
                                    "pipelinechannel--text": STRING}})
    tasks["cond-flag"] = task("cond-flag", {"pipelinechannel--flag": inp("flag"), "pipelinechannel--text": inp("text")},
                              after=(late,), condition="inputs.parameter_values['pipelinechannel--flag'] == true")
    spec.dag("cond-go", {"go-echo": task("echo", {"x": inp("pipelinechannel--late")})},
             inputs={"parameters": {"pipelinechannel--py-0-Output": STRING, "pipelinechannel--late": STRING}})
    tasks["cond-go"] = task("cond-go", {"pipelinechannel--py-0-Output": out("py-0"), "pipelinechannel--late": out(late)},
                            condition="inputs.parameter_values['pipelinechannel--py-0-Output'] == 'go'")
    # A loop over a list made far away, with a field-free item and a collected output.
    spec.dag("loop-body", {"loop-py": task("py", {"x": inp("pipelinechannel--list-0-Output-loop-item")})},
             inputs={"parameters": {"pipelinechannel--list-0-Output": {"parameterType": "LIST"},
                                    "pipelinechannel--list-0-Output-loop-item": STRING}},
             outputs={"parameters": {"pipelinechannel--loop-py-Output": {"valueFromParameter": {
                 "producerSubtask": "loop-py", "outputParameterKey": "Output"}}}},
             output_types={"parameters": {"pipelinechannel--loop-py-Output": {"parameterType": "LIST"}}})
    tasks["loop-1"] = task("loop-body", {"pipelinechannel--list-0-Output": out("list-0")}, after=(late,),
                           parameterIterator={"itemInput": "pipelinechannel--list-0-Output-loop-item",
                                              "items": {"inputParameter": "pipelinechannel--list-0-Output"}})
    tasks["collect"] = task("echo-list", {"x": out("loop-1", "pipelinechannel--loop-py-Output")})
    # A sub-pipeline whose output comes from a conditional task: absent (kfp2argo:none) when skipped.
    spec.dag("maybe-inner", {"maybe-py": task("py", {"x": inp("pipelinechannel--x")})},
             inputs={"parameters": {"pipelinechannel--x": STRING}},
             outputs={"parameters": {"pipelinechannel--maybe-py-Output": {"valueFromParameter": {
                 "producerSubtask": "maybe-py", "outputParameterKey": "Output"}}}},
             output_types={"parameters": {"pipelinechannel--maybe-py-Output": STRING}})
    spec.dag("maybe", {"maybe-cond": task("maybe-inner", {"pipelinechannel--x": inp("x")},
                                          condition="inputs.parameter_values['pipelinechannel--x'] == 'yes'")},
             inputs={"parameters": {"x": STRING}},
             outputs={"parameters": {"Output": {"valueFromParameter": {
                 "producerSubtask": "maybe-cond", "outputParameterKey": "pipelinechannel--maybe-py-Output"}}}},
             output_types={"parameters": {"Output": STRING}})
    tasks["maybe-1"] = task("maybe", {"x": out("c-1")})
    tasks["after-maybe"] = task("echo", {"x": out("maybe-1")}, after=(late,))
    # A conditional task whose output is read directly (hand-written IR; the SDK only allows
    # dsl.OneOf) and is a pipeline output: a skipped producer's output is absent.
    for opt in ("opt", "opt2"):
        spec.dag(opt, {f"{opt}-py": task("py", {"x": inp("pipelinechannel--text")})},
                 inputs={"parameters": {"pipelinechannel--text": STRING, "pipelinechannel--flag": {"parameterType": "BOOLEAN"}}},
                 outputs={"parameters": {"pipelinechannel--opt-py-Output": {"valueFromParameter": {
                     "producerSubtask": f"{opt}-py", "outputParameterKey": "Output"}}}},
                 output_types={"parameters": {"pipelinechannel--opt-py-Output": STRING}})
    tasks["opt-1"] = task("opt", {"pipelinechannel--text": inp("text"), "pipelinechannel--flag": inp("flag")},
                          condition="inputs.parameter_values['pipelinechannel--flag'] == false")
    tasks["opt-reader"] = task("echo", {"x": out("opt-1", "pipelinechannel--opt-py-Output")}, after=(late,))
    tasks["opt-2"] = task("opt2", {"pipelinechannel--text": out(late), "pipelinechannel--flag": inp("flag")},
                          condition="inputs.parameter_values['pipelinechannel--flag'] == false")
    # A status read by a task that does not run after failures (hand-written IR).
    tasks["status-reader"] = task("report", {"status": {"taskFinalStatus": {"producerTask": "c-60"}}})
    # dsl.OneOf over two conditional branches, as a pipeline output.
    for branch, word in (("heads", "'heads'"), ("tails", "'tails'")):
        spec.dag(f"branch-{branch}", {f"{branch}-py": task("py", {"x": inp("pipelinechannel--py-0-Output")})},
                 inputs={"parameters": {"pipelinechannel--py-0-Output": STRING}},
                 outputs={"parameters": {"pipelinechannel--py-Output": {"valueFromParameter": {
                     "producerSubtask": f"{branch}-py", "outputParameterKey": "Output"}}}},
                 output_types={"parameters": {"pipelinechannel--py-Output": STRING}})
        tasks[f"branch-{branch}"] = task(f"branch-{branch}", {"pipelinechannel--py-0-Output": out("py-0")},
                                         condition=f"inputs.parameter_values['pipelinechannel--py-0-Output'] == {word}")
    # An exit handler: the guarded group and the exit task reading its final status.
    spec.dag("exit-handler-1", chain("g", 3, inp("pipelinechannel--text")),
             inputs={"parameters": {"pipelinechannel--text": STRING}})
    tasks["exit-handler-1"] = task("exit-handler-1", {"pipelinechannel--text": inp("text")})
    tasks["report"] = task("report", {"status": {"taskFinalStatus": {"producerTask": "exit-handler-1"}}},
                           after_failure=True)
    # ignore_upstream_failure in the middle of the chain, reading its upstream's output, and a
    # task after it (so pinned tasks split the topological order into runs).
    middle = f"c-{length // 2}"
    tasks["tolerant"] = task("echo", {"x": out(middle)}, after_failure=True)
    tasks["after-tolerant"] = task("step", {"x": out("c-3")}, {"data": art_out(last)}, after=("tolerant",))
    outputs = {
        "parameters": {
            "chain": {"valueFromParameter": {"producerSubtask": last, "outputParameterKey": "Output"}},
            "opt": {"valueFromParameter": {"producerSubtask": "opt-2", "outputParameterKey": "pipelinechannel--opt-py-Output"}},
            "coin": {"valueFromOneof": {"parameterSelectors": [
                {"producerSubtask": "branch-heads", "outputParameterKey": "pipelinechannel--py-Output"},
                {"producerSubtask": "branch-tails", "outputParameterKey": "pipelinechannel--py-Output"}]}},
        },
        "artifacts": {"data": {"artifactSelectors": [{"producerSubtask": late, "outputArtifactKey": "data"}]}},
    }
    output_types = {"parameters": {"chain": STRING, "coin": STRING, "opt": STRING}, "artifacts": {"data": DATASET}}
    inputs = {"parameters": {"text": {"parameterType": "STRING", "defaultValue": "hello", "isOptional": True},
                             "flag": {"parameterType": "BOOLEAN", "defaultValue": True, "isOptional": True}}}
    return spec.document(tasks, inputs, outputs, output_types)


def chain_pipeline(length: int) -> bytes:
    spec = Spec(f"chain-{length}")
    inputs = {"parameters": {"text": {"parameterType": "STRING", "defaultValue": "hi", "isOptional": True}}}
    return spec.document(chain("c", length, inp("text"), far="c-0", forwarded="text"), inputs)


def nested_pipeline(length: int = 250) -> bytes:
    """A sub-pipeline of ``length`` tasks with inputs (a value and a dataset) and outputs."""
    spec = Spec("nested")
    inner = chain("b", length, inp("pipelinechannel--prep-Output"), art_in("pipelinechannel--prep-data"),
                  far="b-0", forwarded="pipelinechannel--prep-Output")
    spec.dag("big", inner,
             inputs={"parameters": {"pipelinechannel--prep-Output": STRING},
                     "artifacts": {"pipelinechannel--prep-data": DATASET}},
             outputs={"parameters": {"pipelinechannel--b-Output": {"valueFromParameter": {
                      "producerSubtask": f"b-{length - 1}", "outputParameterKey": "Output"}}},
                      "artifacts": {"pipelinechannel--b-data": {"artifactSelectors": [
                          {"producerSubtask": "b-7", "outputArtifactKey": "data"}]}}},
             output_types={"parameters": {"pipelinechannel--b-Output": STRING},
                           "artifacts": {"pipelinechannel--b-data": DATASET}})
    tasks = {
        "prep": task("head", {"x": const("start")}),
        "big": task("big", {"pipelinechannel--prep-Output": out("prep")},
                    {"pipelinechannel--prep-data": art_out("prep")}),
        "final": task("step", {"x": out("big", "pipelinechannel--b-Output")},
                      {"data": art_out("big", "pipelinechannel--b-data")}),
    }
    return spec.document(tasks)


def loop_pipeline(length: int = 220) -> bytes:
    """A dsl.ParallelFor whose body has ``length`` tasks, over a list made before it."""
    spec = Spec("big-loop")
    item = "pipelinechannel--list-0-Output-loop-item"
    body = chain("l", length, inp(item), far="l-0", forwarded=item)
    # The last task reads one field of the item (a dict), as dsl.ParallelFor over dicts writes it.
    body[f"l-{length - 1}"]["inputs"]["parameters"]["x"] = {**inp(item), "parameterExpressionSelector": 'parseJson(string_value)["a"]'}
    body[f"l-{length - 1}"]["dependentTasks"] = [f"l-{length - 2}"]
    spec.dag("body", body,
             inputs={"parameters": {"pipelinechannel--list-0-Output": {"parameterType": "LIST"}, item: {"parameterType": "STRUCT"}}},
             outputs={"parameters": {"pipelinechannel--l-Output": {"valueFromParameter": {
                 "producerSubtask": f"l-{length - 1}", "outputParameterKey": "Output"}}}},
             output_types={"parameters": {"pipelinechannel--l-Output": {"parameterType": "LIST"}}})
    tasks = {
        "list-0": task("py-list"),
        "loop": task("body", {"pipelinechannel--list-0-Output": out("list-0")},
                     parameterIterator={"itemInput": item, "items": {"inputParameter": "pipelinechannel--list-0-Output"}}),
        "final": task("echo-list", {"x": out("loop", "pipelinechannel--l-Output")}),
    }
    return spec.document(tasks)


def pvc_pipeline(length: int = 250) -> bytes:
    """kfp-kubernetes' usual shape: a PVC made first, mounted by every task (its name a task
    output read by the executor's platform spec), deleted after the last one; and a
    ``dsl.importer`` (no Argo task) whose dataset tasks in every partition read."""
    spec = Spec("pvc")
    spec.components["comp-createpvc"] = {
        "executorLabel": "exec-createpvc",
        "inputDefinitions": {"parameters": {
            "access_modes": {"parameterType": "LIST"}, "size": {"parameterType": "STRING"},
            "pvc_name_suffix": {"parameterType": "STRING", "isOptional": True},
            "storage_class_name": {"parameterType": "STRING", "isOptional": True, "defaultValue": ""}}},
        "outputDefinitions": {"parameters": {"name": STRING}},
    }
    spec.components["comp-deletepvc"] = {"executorLabel": "exec-deletepvc",
                                         "inputDefinitions": {"parameters": {"pvc_name": STRING}}}
    spec.components["comp-importer"] = {"executorLabel": "exec-importer",
                                        "inputDefinitions": {"parameters": {"uri": STRING}},
                                        "outputDefinitions": {"artifacts": {"artifact": DATASET}}}
    spec.executors["exec-createpvc"] = {"container": {"image": "argostub/createpvc"}}
    spec.executors["exec-deletepvc"] = {"container": {"image": "argostub/deletepvc"}}
    spec.executors["exec-importer"] = {"importer": {"artifactUri": {"runtimeParameter": "uri"},
                                                    "typeSchema": DATASET["artifactType"]}}
    for key in ("mount", "mount-read"):
        inputs, outputs, argv = COMPONENTS["step" if key == "mount-read" else "head"]
        spec.components[f"comp-{key}"] = {"executorLabel": f"exec-{key}", "inputDefinitions": inputs,
                                          "outputDefinitions": outputs}
        spec.executors[f"exec-{key}"] = {"container": {"image": "alpine:3.20", **argv}}
    claim = {"taskOutputParameter": {"producerTask": "createpvc", "outputParameterKey": "name"}}
    mount = {"pvcMount": [{"mountPath": "/data", "pvcNameParameter": claim, **claim}]}
    tasks = {
        "createpvc": task("createpvc", {"access_modes": const(["ReadWriteOnce"]), "size": const("1Gi"),
                                        "pvc_name_suffix": const("-work")}),
        "importer": task("importer", {"uri": inp("uri")}),
    }
    for i in range(length):  # pairs: only the claim keeps DeletePVC after all of them
        x = inp("text") if i % 2 == 0 else out(f"m-{i - 1}")
        if i % 50 == 25:
            tasks[f"m-{i}"] = task("mount-read", {"x": x}, {"data": art_out("importer", "artifact")}, after=("createpvc",))
        else:
            tasks[f"m-{i}"] = task("mount", {"x": x}, after=("createpvc",))
    tasks["deletepvc"] = task("deletepvc", {"pvc_name": out("createpvc", "name")}, after=("m-0",))
    inputs = {"parameters": {"text": {"parameterType": "STRING", "defaultValue": "hi", "isOptional": True},
                             "uri": {"parameterType": "STRING", "defaultValue": "gs://bucket/data.csv", "isOptional": True}}}
    return spec.document(tasks, inputs, platform={"exec-mount": mount, "exec-mount-read": mount})


# --- compiling ------------------------------------------------------------------------------


def compile_both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    """(partitioned manifest, reference manifest compiled without the partition pass)."""
    partitioned = compile_document(data, file="generated.json")
    with monkeypatch.context() as patch:
        patch.setattr(partition_module, "partition", lambda source, pipeline, facts: (pipeline, facts))
        reference = compile_document(data, file="generated.json")
    return partitioned, reference


def lint_manifest(document: dict, tmp_path, name: str = "workflow.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(emit.to_yaml(document), encoding="utf-8")
    return lint([path])


# --- following references through a manifest ------------------------------------------------

SIMPLE = re.compile(r"\{\{(inputs|workflow)\.parameters\.([-\w]+)\}\}|\{\{tasks\.([-\w]+)\.outputs\.parameters\.([-\w]+)\}\}")
ARTIFACT = re.compile(r"\{\{inputs\.artifacts\.([-\w]+)\}\}|\{\{tasks\.([-\w]+)\.outputs\.artifacts\.([-\w]+)\}\}")
VARIABLE = re.compile(
    r"inputs\.parameters\['([^']+)'\]|workflow\.parameters\['([^']+)'\]|tasks\['([^']+)'\]\.outputs\.parameters\['([^']+)'\]"
)
DEPENDS_NAME = re.compile(r"(?<![.\w-])([a-z0-9][-a-z0-9]*)(?=\.|\s|\)|$)")


class Flow:
    """Resolves every value in a manifest to where it comes from, by following its references."""

    def __init__(self, document: dict) -> None:
        self.templates = {t["name"]: t for t in document["spec"]["templates"]}
        self.entry = document["spec"]["entrypoint"]
        self.consumers: dict[str, dict] = {}
        self.whens: dict[str, Any] = {}
        self.waits: dict[str, set[str]] = {}
        self._inside: dict[str, set[str]] = {}
        self._walk([(self.templates[self.entry], None)], set())
        self.outputs = self._outputs([(self.templates[self.entry], None)])

    # walking

    def _walk(self, stack: list, inherited: set[str]) -> None:
        template = stack[-1][0]
        before = self._before(template, inherited)
        for t in template["dag"]["tasks"]:
            if "when" in t:
                self.whens[t["name"]] = self._expression(stack, t["when"][3:-2], resolve_all=True)
            callee = self.templates[t["template"]]
            if "dag" in callee:
                self._walk(stack + [(callee, t)], before[t["name"]])
                continue
            assert t["name"] not in self.consumers, f"task names must be unique in these tests: {t['name']}"
            self.waits[t["name"]] = before[t["name"]]
            arguments = t.get("arguments", {})
            self.consumers[t["name"]] = {
                **{p["name"]: self.argument(stack, p["value"], callee, p["name"]) for p in arguments.get("parameters", [])},
                **{"artifact:" + a["name"]: (a.get("optional", False), self._artifact_argument(stack, a))
                   for a in arguments.get("artifacts", [])},
            }

    def _before(self, template: dict, inherited: set[str]) -> dict[str, set[str]]:
        """For each task of a DAG template, the container tasks that finish before it starts:
        everything inside its upstream tasks (its ``depends``, transitively) and ``inherited``,
        what finishes before the DAG itself starts."""
        tasks = {t["name"]: t for t in template["dag"]["tasks"]}
        upstream = {name: set(DEPENDS_NAME.findall(t.get("depends", ""))) for name, t in tasks.items()}
        before: dict[str, set[str]] = {}
        ready = [name for name, ups in upstream.items() if not ups]
        while ready:
            name = ready.pop()
            before[name] = set(inherited).union(*(self._containers(tasks[u]) | before[u] for u in upstream[name]))
            ready += [n for n, ups in upstream.items() if name in ups and n not in before and ups <= before.keys()]
        assert before.keys() == tasks.keys(), f"a cycle in {template['name']}"
        return before

    def _containers(self, t: dict) -> set[str]:
        """The container tasks a DAG task runs (itself, or every one inside its template)."""
        callee = self.templates[t["template"]]
        if "dag" not in callee:
            return {t["name"]}
        if callee["name"] not in self._inside:
            self._inside[callee["name"]] = set().union(*(self._containers(inner) for inner in callee["dag"]["tasks"]))
        return self._inside[callee["name"]]

    def _outputs(self, stack: list) -> dict[str, Any]:
        """What the outputs of the template on top of ``stack`` resolve to."""
        outputs = stack[-1][0].get("outputs") or {}
        found = {}
        for declared in outputs.get("parameters") or []:
            value_from = declared["valueFrom"]
            if "parameter" in value_from:
                value = self.parameter(stack, value_from["parameter"])
            else:
                value = self._expression(stack, value_from["expression"])
            found[declared["name"]] = ("or-default", value_from["default"], value) if "default" in value_from else value
        for declared in outputs.get("artifacts") or []:
            value = self.artifact(stack, declared["from"]) if "from" in declared else ("expression", declared["fromExpression"])
            found["artifact:" + declared["name"]] = (declared.get("optional", False), value)
        return found

    # values

    def parameter(self, stack: list, text: str) -> Any:
        match = SIMPLE.fullmatch(text)
        if match and match.group(1) == "inputs":
            return self._input(stack, match.group(2))
        if match and match.group(1) == "workflow":
            return ("workflow", match.group(2))
        if match:
            return self._task_output(stack, match.group(3), match.group(4))
        if text == "{{item}}":
            return ("item",)
        if text.startswith("{{=") and text.endswith("}}"):
            return self._expression(stack, text[3:-2])
        assert "{{" not in text, text
        return ("constant", text)

    def _input(self, stack: list, name: str) -> Any:
        template, caller = stack[-1]
        given = next((p for p in caller["arguments"].get("parameters", []) if p["name"] == name), None) if caller else None
        if given is None:
            return ("default", self._default(template, name))
        return self.argument(stack[:-1], given["value"], template, name)

    def argument(self, stack: list, text: str, callee: dict, name: str) -> Any:
        """An argument for input ``name`` of ``callee``. When it is exactly an output of a task
        with a ``when`` (which may be skipped), Argo gives the input's default instead."""
        found = self.parameter(stack, text)
        match = SIMPLE.fullmatch(text)
        if match and match.group(3):
            producer = next(t for t in stack[-1][0]["dag"]["tasks"] if t["name"] == match.group(3))
            if "when" in producer:
                return ("absent-gives", self._default(callee, name), found)
        return found

    @staticmethod
    def _default(template: dict, name: str) -> Any:
        declared = next(p for p in template["inputs"]["parameters"] if p["name"] == name)
        return declared.get("default")

    def _task_output(self, stack: list, task_name: str, output: str) -> Any:
        t = next(t for t in stack[-1][0]["dag"]["tasks"] if t["name"] == task_name)
        callee = self.templates[t["template"]]
        if "dag" not in callee:
            return ("output", task_name, output)
        declared = next(p for p in callee["outputs"]["parameters"] if p["name"] == output)
        value_from = declared["valueFrom"]
        inner = stack + [(callee, t)]
        if "parameter" in value_from:
            found = self.parameter(inner, value_from["parameter"])
        else:
            found = self._expression(inner, value_from["expression"])
        return ("or-default", value_from["default"], found) if "default" in value_from else found

    def _expression(self, stack: list, expression: str, resolve_all: bool = False) -> Any:
        """An expression with its variables resolved; ``resolve_all``: only the resolved
        operands (a ``when`` is worded differently once its operands are inputs)."""
        operands = []

        def resolve(match: re.Match) -> str:
            if match.group(1):
                operands.append(self._input(stack, match.group(1)))
            elif match.group(2):
                operands.append(("workflow", match.group(2)))
            else:
                operands.append(self._task_output(stack, match.group(3), match.group(4)))
            return f"<{len(operands) - 1}>"

        text = VARIABLE.sub(resolve, expression)
        return ("when", sorted(map(repr, operands))) if resolve_all else ("expression", text, tuple(operands))

    def _artifact_argument(self, stack: list, argument: dict) -> Any:
        """Where an argument artifact comes from: another artifact, or a location (an imported one)."""
        if "from" in argument:
            return self.artifact(stack, argument["from"])
        def resolved(value: Any) -> Any:
            if isinstance(value, dict):
                return tuple(sorted((k, resolved(v)) for k, v in value.items()))
            return self.parameter(stack, value) if isinstance(value, str) else value

        return ("location", resolved({k: v for k, v in argument.items() if k not in ("name", "optional")}))

    def artifact(self, stack: list, text: str) -> Any:
        match = ARTIFACT.fullmatch(text)
        assert match, text
        if match.group(1):
            _, caller = stack[-1]
            given = next(a for a in caller["arguments"]["artifacts"] if a["name"] == match.group(1))
            return self.artifact(stack[:-1], given["from"])
        t = next(t for t in stack[-1][0]["dag"]["tasks"] if t["name"] == match.group(2))
        callee = self.templates[t["template"]]
        if "dag" not in callee:
            return ("artifact", match.group(2), match.group(3))
        declared = next(a for a in callee["outputs"]["artifacts"] if a["name"] == match.group(3))
        # (Every artifact is optional: a producer may leave it unwritten, lower/artifacts.py.)
        return self.artifact(stack + [(callee, t)], declared["from"])


def assert_admissible(document: dict) -> None:
    templates = document["spec"]["templates"]
    assert len(templates) <= 200
    for template in templates:
        if "dag" in template:
            assert len(template["dag"]["tasks"]) <= MAX_DAG_TASKS, template["name"]
        assert len((template.get("inputs") or {}).get("parameters") or []) <= 500, template["name"]


def assert_same_flow(partitioned: dict, reference: dict) -> Flow:
    """The partitioned manifest moves the same values between the same tasks as the reference."""
    new, old = Flow(partitioned), Flow(reference)
    assert new.consumers.keys() == old.consumers.keys()
    for name, arguments in old.consumers.items():
        assert new.consumers[name] == arguments, name
    assert new.whens == old.whens
    assert new.outputs == old.outputs
    for name, waits in old.waits.items():
        assert waits <= new.waits[name], f"{name} no longer waits for {sorted(waits - new.waits[name])}"
    return new


def dag_sizes(document: dict) -> list[int]:
    return sorted(len(t["dag"]["tasks"]) for t in document["spec"]["templates"] if "dag" in t)


def template(document: dict, name: str) -> dict:
    return next(t for t in document["spec"]["templates"] if t["name"] == name)


# --- the failing starting point -------------------------------------------------------------


def test_unpartitioned_manifest_of_250_tasks_is_refused_by_the_crd_check(tmp_path, monkeypatch):
    require_harness()
    _, reference = compile_both(chain_pipeline(250), monkeypatch)
    problems = lint_manifest(reference, tmp_path)
    assert any("CRD:" in p and "200" in p and "dag.tasks" in p for p in problems), problems


# --- admissible and faithful ----------------------------------------------------------------


def test_chain_of_250_tasks_becomes_two_partitions_that_lint_clean(tmp_path, monkeypatch):
    require_harness()
    partitioned, reference = compile_both(chain_pipeline(250), monkeypatch)
    assert dag_sizes(reference) == [250]
    assert dag_sizes(partitioned) == [2, 125, 125]
    root = template(partitioned, partitioned["spec"]["entrypoint"])
    assert [t["name"] for t in root["dag"]["tasks"]] == ["part-1", "part-2"]
    assert root["dag"]["tasks"][1]["depends"] == "part-1"
    assert [t["template"] for t in root["dag"]["tasks"]] == ["chain-250-part-1", "chain-250-part-2"]
    assert_admissible(partitioned)
    assert_same_flow(partitioned, reference)
    assert lint_manifest(partitioned, tmp_path) == []


def test_every_kind_of_crossing_edge_keeps_its_data_flow(tmp_path, monkeypatch):
    require_harness()
    partitioned, reference = compile_both(features_pipeline(), monkeypatch)
    assert max(dag_sizes(reference)) > MAX_DAG_TASKS
    assert_admissible(partitioned)
    flow = assert_same_flow(partitioned, reference)
    assert lint_manifest(partitioned, tmp_path) == []
    root = template(partitioned, partitioned["spec"]["entrypoint"])
    kept = {t["name"] for t in root["dag"]["tasks"]} - {f"part-{i}" for i in range(1, 10)}
    # State-observing tasks stay beside the partitions; nothing else does.
    assert kept == {"exit-handler-1", "report", "tolerant", "c-120", "branch-heads", "branch-tails", "opt-1",
                    "opt-reader", "status-reader", "c-60"}
    # A value that crosses partitions: the consumer reads its partition's input, bound to the
    # producer partition's output, which reads the producer.
    assert flow.consumers["c-203"]["x"] == ("output", "c-0", "Output")
    assert flow.consumers["after-tolerant"]["artifact:data"] == (True, ("artifact", "c-239", "data"))
    assert flow.consumers["flag-echo"]["x"] == ("workflow", "text")
    assert flow.consumers["collect"]["x"][0] == "expression"  # the collected list of the loop
    # kfp2argo:none of a skipped producer flows through a partition output unchanged: from a
    # sub-pipeline's output, and from a conditional task in a partition to the pipeline output.
    assert flow.consumers["after-maybe"]["x"] == ("or-default", wire.NONE, ("output", "maybe-py", "Output"))
    assert flow.outputs["opt"] == ("or-default", wire.NONE, ("output", "opt2-py", "Output"))
    holder = next(t for t in partitioned["spec"]["templates"] if "dag" in t and any(x["name"] == "opt-2" for x in t["dag"]["tasks"]))
    assert "-part-" in holder["name"]
    assert any(p["valueFrom"].get("default") == wire.NONE for p in holder["outputs"]["parameters"])
    # The reader of a conditional task gets its own default when the task was skipped.
    assert flow.consumers["opt-reader"]["x"] == ("absent-gives", "nothing", ("output", "opt-py", "Output"))


def test_tasks_that_observe_state_keep_their_depends_and_targets(monkeypatch):
    partitioned, reference = compile_both(features_pipeline(), monkeypatch)
    new_root = template(partitioned, partitioned["spec"]["entrypoint"])
    old_root = template(reference, reference["spec"]["entrypoint"])
    new_tasks = {t["name"]: t for t in new_root["dag"]["tasks"]}
    old_tasks = {t["name"]: t for t in old_root["dag"]["tasks"]}
    for name in ("report", "tolerant"):
        assert "Failed" in old_tasks[name]["depends"]
        assert new_tasks[name]["depends"] == old_tasks[name]["depends"]
        assert new_tasks[name]["arguments"] == old_tasks[name]["arguments"]
    # The guarded upstream tasks stay targets, so their failure still fails the run.
    assert {"exit-handler-1", "c-120"} <= set(new_root["dag"]["target"].split())
    assert new_root["dag"]["failFast"] is False
    # dsl.OneOf still picks between the branches by their own state.
    coin = next(p for p in new_root["outputs"]["parameters"] if p["name"] == "coin")
    assert coin == next(p for p in old_root["outputs"]["parameters"] if p["name"] == "coin")


def test_conditions_on_forwarded_inputs_evaluate_as_before(monkeypatch):
    """The ``when`` of a conditional task inside a partition reads inputs forwarded through the
    partition; Argo evaluates it to the same result as the reference's for the same values."""
    require_harness()
    partitioned, reference = compile_both(features_pipeline(), monkeypatch)
    cases = {"cond-flag": ["true", "false", "True", "0"], "cond-go": ["go", "stop", "", "{{go}}"]}
    requests, expected = [], []
    for document in (partitioned, reference):
        for task_name, values in cases.items():
            owner = next(t for t in document["spec"]["templates"] if "dag" in t
                         and any(x["name"] == task_name for x in t["dag"]["tasks"]))
            when = next(x for x in owner["dag"]["tasks"] if x["name"] == task_name)["when"]
            for value in values:
                scope = {}
                for key in re.findall(r"inputs\.parameters\['([^']+)'\]", when):
                    scope[f"inputs.parameters.{key}"] = value
                for producer, output in re.findall(r"tasks\['([^']+)'\]\.outputs\.parameters\['([^']+)'\]", when):
                    scope[f"tasks.{producer}.outputs.parameters.{output}"] = value
                for key in re.findall(r"workflow\.parameters\['([^']+)'\]", when):
                    scope[f"workflow.parameters.{key}"] = value
                requests.append({"when": when, "scope": scope})
    answers = evaluate(requests)
    half = len(answers) // 2
    assert answers[:half] == answers[half:]
    assert {"result": True} in answers and {"result": False} in answers


def test_sub_pipeline_of_250_tasks_is_partitioned_inside_its_template(tmp_path, monkeypatch):
    require_harness()
    partitioned, reference = compile_both(nested_pipeline(), monkeypatch)
    assert dag_sizes(partitioned) == [2, 3, 125, 125]
    big = template(partitioned, "comp-big")
    part = template(partitioned, "comp-big-part-2")
    # Inputs of the sub-pipeline are forwarded under their own names, artifacts with their metadata.
    assert {p["name"] for p in part["inputs"]["parameters"]} >= {"pipelinechannel--prep-Output"}
    assert [a["name"] for a in template(partitioned, "comp-big-part-1")["inputs"]["artifacts"]] == ["pipelinechannel--prep-data"]
    assert {o["name"] for o in big["outputs"]["parameters"]} == {"pipelinechannel--b-Output", "kfp2argo-meta-pipelinechannel--b-data"}
    assert_admissible(partitioned)
    flow = assert_same_flow(partitioned, reference)
    assert flow.consumers["final"]["x"] == ("output", "b-249", "Output")
    assert flow.consumers["final"]["artifact:data"] == (True, ("artifact", "b-7", "data"))
    assert flow.consumers["b-0"]["artifact:data"] == (True, ("artifact", "prep", "data"))
    assert lint_manifest(partitioned, tmp_path) == []


def test_loop_body_of_220_tasks_is_partitioned(tmp_path, monkeypatch):
    require_harness()
    partitioned, reference = compile_both(loop_pipeline(), monkeypatch)
    assert dag_sizes(partitioned) == [1, 2, 3, 110, 110]
    assert_admissible(partitioned)
    flow = assert_same_flow(partitioned, reference)
    assert flow.consumers["l-150"]["x"] == ("item",)  # every 5th reads the loop item
    field = flow.consumers["l-219"]["x"]  # a field of the item, picked in the partition
    assert field[0] == "expression" and set(field[2]) == {("item",)} and "'a'" in field[1]
    assert lint_manifest(partitioned, tmp_path) == []


def test_kfp_shaped_pipeline_of_600_tasks(tmp_path, monkeypatch):
    """The benchmark's synthetic IR, shaped like what the KFP compiler writes (per-task components,
    nested dsl.ParallelFor with dsl.Collected, a condition in the loop, datasets through the loop
    bodies) in its first 20 stages, plain fan-out/fan-in stages after: a root DAG of
    20 * 11 + 15 * 17 + 5 = 480 tasks."""
    require_harness()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    partitioned, reference = compile_both(bench.synthetic_ir_text(600).encode(), monkeypatch)
    assert dag_sizes(reference)[-1] == 480
    assert dag_sizes(partitioned)[-3:] == [160, 160, 160]
    assert_admissible(partitioned)
    flow = assert_same_flow(partitioned, reference)
    assert len(flow.consumers) == 20 * 14 + 15 * 17 + 5 and len(flow.whens) == 20  # container tasks, conditions
    assert lint_manifest(partitioned, tmp_path) == []


def test_platform_spec_values_importers_and_pvc_deletion_across_partitions(tmp_path, monkeypatch):
    """A PVC name read by the platform spec of tasks in every partition arrives through the
    partitions' inputs (in a copy of the executor), DeletePVC still waits for every task that
    mounts the claim, and an importer's dataset reaches readers in several partitions."""
    require_harness()
    partitioned, reference = compile_both(pvc_pipeline(), monkeypatch)
    assert max(dag_sizes(reference)) == 252  # the importer is no Argo task
    assert_admissible(partitioned)
    flow = assert_same_flow(partitioned, reference)
    assert lint_manifest(partitioned, tmp_path) == []
    readers = [name for name in flow.consumers if name.startswith("m-") and "artifact:data" in flow.consumers[name]]
    holders = {t["name"] for t in partitioned["spec"]["templates"] if "dag" in t
               for x in t["dag"]["tasks"] if x["name"] in readers}
    assert len(readers) == 5 and len(holders) == 2
    assert all(flow.consumers[name]["artifact:data"][1][0] == "location" for name in readers)
    mounts = [name for name in flow.consumers if name.startswith("m-")]
    assert all(flow.consumers[name]["kfp2argo-pvc-0"] == ("output", "createpvc", "name") for name in mounts)
    assert len(mounts) == 250 and set(mounts) <= flow.waits["deletepvc"]


def test_partitions_stay_under_500_input_parameters(tmp_path, monkeypatch):
    """250 tasks reading 5 pipeline parameters each: partitions are cut at 500 inputs, not 125 tasks."""
    require_harness()
    spec = Spec("many-inputs")
    names = [f"p{i}" for i in range(1250)]
    tasks = {f"t-{i}": task("five", {f"p{k}": inp(names[5 * i + k]) for k in range(5)}) for i in range(250)}
    inputs = {"parameters": {n: {"parameterType": "STRING", "defaultValue": n, "isOptional": True} for n in names}}
    partitioned, reference = compile_both(spec.document(tasks, inputs), monkeypatch)
    assert dag_sizes(partitioned) == [3, 50, 100, 100]
    sizes = sorted(len(t["inputs"]["parameters"]) for t in partitioned["spec"]["templates"] if "-part-" in t["name"])
    assert sizes == [250, 500, 500]
    assert_same_flow(partitioned, reference)
    assert lint_manifest(partitioned, tmp_path) == []


def test_a_thousand_tasks(tmp_path, monkeypatch):
    require_harness()
    data = chain_pipeline(1000)
    started = time.perf_counter()
    partitioned = compile_document(data, file="generated.json")
    seconds = time.perf_counter() - started
    assert dag_sizes(partitioned) == [5, 200, 200, 200, 200, 200]
    assert_admissible(partitioned)
    assert lint_manifest(partitioned, tmp_path) == []
    assert seconds < 60


def test_pipelines_within_the_limits_are_left_alone():
    source = load(chain_pipeline(200), "generated.json")
    from transpiler.parse import parse

    pipeline = parse(source)
    facts = Analysis(pipeline)
    assert partition(source, pipeline, facts) == (pipeline, facts)


def test_partition_output_is_identical_across_hash_seeds(tmp_path):
    source = tmp_path / "features.json"
    source.write_bytes(features_pipeline())
    outputs = set()
    for seed in ("0", "1", "12345"):
        proc = subprocess.run([sys.executable, "-m", "transpiler", "compile", str(source)], capture_output=True,
                              env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}, check=True)
        outputs.add(proc.stdout)
    assert len(outputs) == 1 and b"features-part-1" in outputs.pop()


# --- what cannot fit ------------------------------------------------------------------------


def test_too_many_tasks_that_must_stay_in_the_dag_is_a_located_error():
    spec = Spec("tolerant")
    tasks = {}
    for i in range(150):
        tasks[f"w-{i}"] = task("py", {"x": const("v")})
        tasks[f"t-{i}"] = task("echo", {"x": out(f"w-{i}")}, after_failure=True)
    with pytest.raises(OutputSchemaError) as raised:
        compile_document(spec.document(tasks), file="tolerant.json")
    [problem] = raised.value.diagnostics
    assert problem.pointer == "/root/dag" and problem.line is not None
    assert "300 tasks" in problem.message and "300 tasks that must stay" in problem.message


def test_more_than_200_partitions_is_a_located_error():
    """45,000 tasks in one DAG would need 225 partitions, and as many DAG templates: more than a
    workflow may hold. (Built as the typed model: compiling 45,000 tasks from text takes minutes.)"""
    source = load(chain_pipeline(3), "big.json")
    step = ir.Component("comp-step", ir.Interface((ir.ParameterDef("x", "STRING"),)),
                        ir.Interface((ir.ParameterDef("Output", "STRING"),)), executor="exec-step")
    tasks = tuple(
        ir.Task(f"t-{i}", "comp-step", f"t-{i}", dependent_tasks=(f"t-{i - 1}",) if i else (),
                parameters=(ir.ParameterBinding("x", ir.TaskOutput(f"t-{i - 1}", "Output") if i else ir.Constant("a")),))
        for i in range(45_000)
    )
    root = ir.Component("root", ir.Interface(), ir.Interface(), dag=ir.Dag(tasks), pointer="/root")
    pipeline = ir.Pipeline("big", "", "", root, {"comp-step": step}, {"exec-step": ir.ContainerSpec("alpine")})
    started = time.perf_counter()
    with pytest.raises(OutputSchemaError) as raised:
        partition(source, pipeline, Analysis(pipeline))
    assert time.perf_counter() - started < 30
    [problem] = raised.value.diagnostics
    assert problem.pointer == "/root/dag" and problem.line is not None
    assert "45000 tasks" in problem.message and "225 partitions" in problem.message


def test_a_task_reading_more_than_500_values_from_outside_its_partition_is_a_located_error():
    spec = Spec("wide")
    names = [f"p{i}" for i in range(501)]
    spec.components["comp-wide"] = {"executorLabel": "exec-wide",
                                    "inputDefinitions": {"parameters": {n: STRING for n in names}}}
    spec.executors["exec-wide"] = {"container": {"image": "alpine:3.20", **_sh("{{$.inputs.parameters['p0']}}")}}
    tasks = chain("c", 200, inp("p0"))
    tasks["wide"] = task("wide", {n: inp(n) for n in names})
    inputs = {"parameters": {n: {"parameterType": "STRING", "defaultValue": n, "isOptional": True} for n in names}}
    with pytest.raises(OutputSchemaError) as raised:
        compile_document(spec.document(tasks, inputs), file="wide.json")
    [problem] = raised.value.diagnostics
    assert problem.pointer == "/root/dag/tasks/wide" and problem.line is not None
    assert "task 'wide' needs 501 input parameters" in problem.message


@pytest.mark.parametrize("distinct, admissible", [(199, True), (200, False)])
def test_more_than_200_templates_is_an_error(distinct, admissible, tmp_path):
    spec = Spec("distinct")
    tasks = {}
    for i in range(distinct):
        spec.components[f"comp-own-{i}"] = {"executorLabel": f"exec-own-{i}",
                                            "inputDefinitions": {"parameters": {"x": STRING}}}
        spec.executors[f"exec-own-{i}"] = {"container": {"image": f"alpine:{i}", **_sh("{{$.inputs.parameters['x']}}")}}
        tasks[f"t-{i}"] = task(f"own-{i}", {"x": const("v")})
    data = spec.document(tasks)
    if admissible:
        require_harness()
        document = compile_document(data, file="distinct.json")
        assert len(document["spec"]["templates"]) == 200
        assert lint_manifest(document, tmp_path) == []
        return
    with pytest.raises(OutputSchemaError) as raised:
        compile_document(data, file="distinct.json")
    [problem] = raised.value.diagnostics
    assert "201 templates" in problem.message and problem.pointer == "/components"
