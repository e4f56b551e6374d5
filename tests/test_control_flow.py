"""Control flow at run time: the expressions kfp2argo writes for loops, loop item fields, collected
outputs and exit-task final status, evaluated by Argo's own code (tools/argo-harness argo-eval) and
decoded with the transpiler's wire rules; and the DAG shape of exit handlers.

Expected values come from KFP's semantics (what a component receives on KFP or ``kfp.local``),
never from the generated text.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from argo_lint import evaluate, require_harness
from conftest import GOLDEN, require_corpus
from transpiler import transpile, wire
from transpiler.errors import TranspileError, UnsupportedFeature

HARD_STRINGS = ["plain", "", "{{workflow.name}}", "{{=1+1}}", "a{{b", "kfp2argo:b64:eA==", "line\n", "é😀", "it's \\ \"q\""]


def _workflow(case: str) -> dict:
    text = transpile((GOLDEN / case / "pipeline.yaml").read_bytes(), file=f"{case}.yaml")
    return yaml.safe_load(text)


def _templates(workflow: dict) -> dict[str, dict]:
    return {t["name"]: t for t in workflow["spec"]["templates"]}


def _loop_tasks(workflow: dict) -> list[dict]:
    return [
        task
        for t in workflow["spec"]["templates"]
        if "dag" in t
        for task in t["dag"]["tasks"]
        if "withParam" in task or "withItems" in task
    ]


def _argument(task: dict, name: str) -> str:
    return next(p["value"] for p in task["arguments"]["parameters"] if p["name"] == name)


@pytest.fixture(scope="module")
def loops() -> dict:
    require_harness()
    return _workflow("loops")


def test_loop_items_from_a_run_time_list_arrive_as_wire_texts(loops):
    task = next(t for t in _loop_tasks(loops) if "make-words" in t["withParam"] or "words" in json.dumps(t["arguments"]))
    list_input = task["withParam"].split("inputs.parameters['")[1].split("'")[0]
    lists = [HARD_STRINGS, [], ["one"]]
    answers = evaluate(
        [{"text": task["withParam"], "scope": {f"inputs.parameters.{list_input}": wire.wire_value(v, "LIST")}} for v in lists]
    )
    for values, answer in zip(lists, answers):
        items = json.loads(answer["text"])
        assert [wire.decode_typed(item, "STRING") for item in items] == values
        assert all(wire.is_argo_inert(item) for item in items), items


def test_loop_items_of_other_types_decode_to_the_same_values(loops):
    task = next(t for t in _loop_tasks(loops) if "numbers" in t["withParam"])
    list_input = task["withParam"].split("inputs.parameters['")[1].split("'")[0]
    cases = [([1, 2, -3, 10**15], "NUMBER_INTEGER"), ([0.5, 1e-7, 2.0], "NUMBER_DOUBLE"), ([{"a": "{{x}}", "n": [1, 2]}, {}], "STRUCT"), ([[1], ["é"]], "LIST"), ([True, False], "BOOLEAN")]
    answers = evaluate(
        [{"text": task["withParam"], "scope": {f"inputs.parameters.{list_input}": wire.wire_value(v, "LIST")}} for v, _ in cases]
    )
    for (values, item_type), answer in zip(cases, answers):
        items = json.loads(answer["text"])
        assert [wire.decode_typed(item, item_type) for item in items] == values


def test_literal_loop_items_are_wire_texts(loops):
    task = next(t for t in _loop_tasks(loops) if t.get("withItems") == ["10", "20"])
    assert task["arguments"]["parameters"][-1]["value"] == "{{item}}"


def test_loop_item_field_is_selected_and_encoded(loops):
    templates = _templates(loops)
    body = next(t for t in templates.values() if "dag" in t and any(task["name"] == "label" for task in t["dag"]["tasks"]))
    label = next(task for task in body["dag"]["tasks"] if task["name"] == "label")
    item_input = body["inputs"]["parameters"][-1]["name"]
    items = [{"word": "a", "x": 1}, {"word": "{{workflow.name}}", "x": -7}, {"x": 3, "word": "é\n"}]
    requests = [
        {"text": _argument(label, field), "scope": {f"inputs.parameters.{item_input}": wire.wire_value(item, "STRUCT")}}
        for item in items
        for field in ("name", "x")
    ]
    answers = iter(evaluate(requests))
    for item in items:
        assert wire.decode_typed(next(answers)["text"], "STRING") == item["word"]
        assert wire.decode_typed(next(answers)["text"], "NUMBER_INTEGER") == item["x"]


def _argo_aggregate(values: list[str]) -> str:
    """How Argo aggregates a looped task's output parameter (operator.go): a JSON array of the
    successful iterations' values, parsed only when all of them are JSON objects or arrays."""
    parsed = []
    for value in values:
        try:
            parsed.append(json.loads(value))
        except ValueError:
            break
    if len(parsed) == len(values) and all(isinstance(p, (dict, list)) for p in parsed):
        return json.dumps(parsed)
    return json.dumps(values)


@pytest.mark.parametrize(
    "produced, value_type, loop_over, output",
    [
        (["A", "{{x}}", "é😀", "", "kfp2argo:none"], "STRING", "make-words", "shout-Output"),
        ([1, 4, 9, -16], "NUMBER_INTEGER", "numbers", "pipelinechannel--square-Output"),
        ([], "NUMBER_INTEGER", "numbers", "pipelinechannel--square-Output"),
        # square-2 runs under dsl.If(n > 1): skipped iterations pass kfp2argo:none, not a value
        ([None, 4, None, 9], "NUMBER_INTEGER", "numbers", "pipelinechannel--square-2-Output"),
    ],
)
def test_collected_outputs_are_typed_lists(loops, produced, value_type, loop_over, output):
    loop = next(t for t in _templates(loops).values() if "dag" in t and loop_over in t["dag"]["tasks"][0].get("withParam", ""))
    [parameter] = [p for p in loop["outputs"]["parameters"] if p["name"].endswith(output)]
    scope = {"tasks.iteration.status": "Succeeded"}
    if produced:
        key = f"tasks.iteration.outputs.parameters.{parameter['name']}"
        texts = [wire.NONE if v is None else wire.wire_value(v, value_type) for v in produced]
        scope[key] = _argo_aggregate(texts)
    [answer] = evaluate([{"expr": parameter["valueFrom"]["expression"], "scope": scope}])
    assert wire.decode_typed(answer["text"], "LIST") == [v for v in produced if v is not None]


def test_loop_parallelism_is_on_the_loop_template(loops):
    limited = [t for t in _templates(loops).values() if t.get("parallelism")]
    assert [t["parallelism"] for t in limited] == [2]
    assert len(limited[0]["dag"]["tasks"]) == 1


@pytest.fixture(scope="module")
def exit_handler() -> dict:
    return _workflow("exit_handler")


@pytest.mark.parametrize(
    "phase, state, error",
    [
        ("Succeeded", "SUCCEEDED", {}),
        ("Failed", "FAILED", {"code": 1, "message": "Task exit-handler-1 failed."}),
        ("Error", "FAILED", {"code": 1, "message": "Task exit-handler-1 failed."}),
        ("Skipped", "SKIPPED", {}),
        ("Omitted", "NOT_TRIGGERED", {}),
    ],
)
def test_final_status_is_the_struct_kfp_gives_the_exit_task(exit_handler, phase, state, error):
    require_harness()
    root = _templates(exit_handler)[exit_handler["spec"]["entrypoint"]]
    report = next(t for t in root["dag"]["tasks"] if t["name"] == "report")
    [answer] = evaluate([{"text": _argument(report, "status"), "scope": {"tasks.guarded.status": phase, "workflow.name": "exit-handler-x7"}}])
    assert wire.decode_typed(answer["text"], "STRUCT") == {
        "state": state,
        "pipelineJobResourceName": "exit-handler-x7",
        "pipelineTaskName": "exit-handler-1",
        "error": error,
    }


def test_exit_tasks_wait_for_any_outcome_and_failures_still_fail_the_dag(exit_handler):
    templates = _templates(exit_handler)
    root = templates[exit_handler["spec"]["entrypoint"]]
    tasks = {t["name"]: t for t in root["dag"]["tasks"]}
    for exit_task, guarded in (("report", "guarded"), ("cleanup-pipeline", "exit-handler-2")):
        for result in ("Succeeded", "Failed", "Errored", "Skipped", "Omitted"):
            assert f"{guarded}.{result}" in tasks[exit_task]["depends"]
        assert guarded in root["dag"]["target"].split()
        assert exit_task in root["dag"]["target"].split()
    assert root["dag"]["failFast"] is False
    inner = templates[tasks["exit-handler-2"]["template"]]["dag"]
    assert set(inner["target"].split()) == {"cleanup", "describe", "work-3"}


@pytest.mark.parametrize(
    "ran, expected",
    [("condition-2", "from 2"), ("condition-3", "from 3"), ("condition-4", "from 4"), (None, None)],
)
def test_one_of_takes_the_branch_that_ran(ran, expected):
    require_harness()
    templates = _templates(_workflow("conditions"))
    [output] = templates["comp-condition-branches-1"]["outputs"]["parameters"]
    scope = {}
    for branch, inner in (("condition-2", "say"), ("condition-3", "say-2"), ("condition-4", "say-3")):
        scope[f"tasks.{branch}.status"] = "Succeeded" if branch == ran else "Skipped"
        if branch == ran:
            scope[f"tasks.{branch}.outputs.parameters.pipelinechannel--{inner}-Output"] = f"from {branch[-1]}"
    [answer] = evaluate([{"expr": output["valueFrom"]["expression"], "scope": scope}])
    if expected is None:
        assert "none of its branches ran" in answer["error"], answer  # fails, as on KFP
    else:
        assert answer == {"text": expected}


def test_collected_through_nested_loops_is_a_list_of_lists(loops):
    templates = _templates(loops)
    outer, inner = templates["comp-for-loop-5"], templates["comp-for-loop-7"]
    [inner_out] = inner["outputs"]["parameters"]
    [outer_out] = outer["outputs"]["parameters"]
    rows = [[1, 4], [9, 16, 25], []]
    inner_requests = [
        {
            "expr": inner_out["valueFrom"]["expression"],
            "scope": {f"tasks.iteration.outputs.parameters.{inner_out['name']}": _argo_aggregate([wire.wire_value(v, "NUMBER_INTEGER") for v in row])}
            if row
            else {"tasks.iteration.status": "Skipped"},
        }
        for row in rows
    ]
    row_texts = [answer["text"] for answer in evaluate(inner_requests)]
    scope = {f"tasks.iteration.outputs.parameters.{outer_out['name']}": _argo_aggregate(row_texts)}
    [answer] = evaluate([{"expr": outer_out["valueFrom"]["expression"], "scope": scope}])
    assert wire.decode_typed(answer["text"], "LIST") == rows


def test_a_condition_outside_the_cel_subset_is_a_located_error():
    spec = yaml.safe_load((GOLDEN / "conditions" / "pipeline.yaml").read_text())
    task = spec["root"]["dag"]["tasks"]["condition-branches-1"]
    assert "condition" not in task.get("triggerPolicy", {})
    inner = spec["components"]["comp-condition-branches-1"]["dag"]["tasks"]["condition-2"]
    inner["triggerPolicy"]["condition"] = "size(inputs.parameter_values['pipelinechannel--flip-Output']) > 2"
    with pytest.raises(UnsupportedFeature) as raised:
        transpile(yaml.safe_dump(spec).encode(), file="bad.yaml")
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.file == "bad.yaml" and diagnostic.line is not None
    assert diagnostic.pointer == "/components/comp-condition-branches-1/dag/tasks/condition-2/triggerPolicy/condition"
    assert "size" in diagnostic.message and "at character 1" in diagnostic.message


@pytest.mark.parametrize("phase, outputs, expected", [("Succeeded", {"Output": "done"}, "done"), ("Failed", {}, "no result"), ("Error", {}, "no result")])
def test_a_task_after_a_failure_reads_its_default_for_the_failed_output(exit_handler, phase, outputs, expected):
    require_harness()
    inner = _templates(exit_handler)["comp-exit-handler-2"]
    describe = next(t for t in inner["dag"]["tasks"] if t["name"] == "describe")
    scope = {"tasks.work-3.status": phase}
    scope.update({f"tasks.work-3.outputs.parameters.{k}": v for k, v in outputs.items()})
    [answer] = evaluate([{"text": _argument(describe, "text"), "scope": scope}])
    assert answer == {"text": expected}


# After a task ran, Argo substitutes its template again with the task's *unresolved* arguments
# (dag.go executeDAGTask), and Argo 4.0.0-4.0.3 make a failing expression an Error of the task
# that succeeded. So expressions in tags must give a text, never fail, even for such input.
UNRESOLVED = "{{tasks.producer.outputs.parameters.Output}}"


def test_loop_items_expression_never_fails_and_refuses_a_non_list(loops):
    task = next(t for t in _loop_tasks(loops) if "numbers" in t["withParam"])
    list_input = task["withParam"].split("inputs.parameters['")[1].split("'")[0]
    answers = evaluate(
        [
            {"text": task["withParam"], "scope": {f"inputs.parameters.{list_input}": value}, "strict": "all"}
            for value in (UNRESOLVED, '{"a": 1}', "kfp2argo:none", "[1, 2")
        ]
    )
    for answer in answers:
        assert "text" in answer, answer
        try:
            parsed = json.loads(answer["text"])
        except ValueError:
            continue  # not JSON: Argo refuses it as a withParam list
        assert not isinstance(parsed, list), answer


def test_loop_item_field_expression_never_fails_and_gives_no_value(loops):
    body = next(t for t in _templates(loops).values() if "dag" in t and any(task["name"] == "label" for task in t["dag"]["tasks"]))
    label = next(task for task in body["dag"]["tasks"] if task["name"] == "label")
    item_input = body["inputs"]["parameters"][-1]["name"]
    values = (UNRESOLVED, wire.wire_value({"x": 1}, "STRUCT"), "[1]", "kfp2argo:b64:!!")
    answers = evaluate(
        [{"text": _argument(label, "name"), "scope": {f"inputs.parameters.{item_input}": v}, "strict": "all"} for v in values]
    )
    for answer in answers:
        assert "text" in answer, answer
        with pytest.raises(ValueError, match="no value"):
            wire.decode_typed(answer["text"], "STRING")


def _expression_tags(workflow: dict) -> list[str]:
    """Every string in the manifest that holds an expression tag."""
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and "{{=" in node:
            found.append(node)

    walk(workflow)
    return found


_VARIABLES = re.compile(
    r"(inputs|workflow)\.parameters\['([^']+)'\]|tasks\['([^']+)'\]\.outputs\.parameters\['([^']+)'\]|tasks\['([^']+)'\]\.status"
)

_SIMPLE_INPUTS = re.compile(r"\{\{inputs\.parameters\.([^{}]+)\}\}")


def _never_fail_requests(workflow: dict, garbage: str) -> list[dict]:
    requests = []
    for text in _expression_tags(workflow):
        scope = {}
        for match in _VARIABLES.finditer(text):
            if match.group(1):
                scope[f"{match.group(1)}.parameters.{match.group(2)}"] = garbage
            elif match.group(3):
                # In that substitution tasks.* are missing and Argo leaves the tag alone; here they
                # must be given, as a value any type reads.
                scope[f"tasks.{match.group(3)}.outputs.parameters.{match.group(4)}"] = "1"
            else:
                scope[f"tasks.{match.group(5)}.status"] = "Failed"
        for match in _SIMPLE_INPUTS.finditer(text):  # a simple tag beside an expression tag
            scope[f"inputs.parameters.{match.group(1)}"] = garbage
        if re.search(r"\bitem\b", text):  # a loop's item, always there in a looped task
            scope["item"] = garbage
        scope["workflow.name"] = "wf"
        scope["workflow.uid"] = "uid"  # always in Argo's scope, as node.name is (any text)
        scope["node.name"] = garbage
        requests.append({"text": text, "scope": scope, "strict": "all"})
    return requests


GARBAGE = [UNRESOLVED, "", "kfp2argo:none", "kfp2argo:b64:!!", "[1", "1e999"]


@pytest.mark.parametrize("case", ["conditions", "loops", "exit_handler"])
@pytest.mark.parametrize("garbage", GARBAGE)
def test_no_expression_tag_fails_whatever_its_inputs(case, garbage):
    """The substitution of a finished task's template with its unresolved arguments (see
    UNRESOLVED) sees any text in inputs.parameters; no tag may fail on it."""
    require_harness()
    requests = _never_fail_requests(_workflow(case), garbage)
    assert requests
    failures = [(r["text"][:120], a) for r, a in zip(requests, evaluate(requests)) if "error" in a]
    assert not failures


def test_no_expression_tag_of_the_corpus_fails_whatever_its_inputs():
    require_harness()
    corpus = require_corpus() / "kfp-ir"
    requests = []
    for path in sorted(p for p in corpus.rglob("*") if p.suffix in (".yaml", ".json")):
        try:
            workflow = yaml.safe_load(transpile(path.read_bytes(), file=path.name))
        except TranspileError:
            continue
        for garbage in GARBAGE:
            requests += [dict(r, file=path.name) for r in _never_fail_requests(workflow, garbage)]
    assert len(requests) > 100
    answers = evaluate([{k: v for k, v in r.items() if k != "file"} for r in requests])
    failures = [(r["file"], r["text"][:100], a) for r, a in zip(requests, answers) if "error" in a]
    assert not failures[:5]


def test_a_field_selector_on_a_task_output_is_a_located_error():
    spec = yaml.safe_load((GOLDEN / "loops" / "pipeline.yaml").read_text())
    binding = spec["root"]["dag"]["tasks"]["total"]["inputs"]["parameters"]["values"]
    assert "taskOutputParameter" in binding
    binding["parameterExpressionSelector"] = 'parseJson(string_value)["x"]'
    with pytest.raises(UnsupportedFeature) as raised:
        transpile(yaml.safe_dump(spec).encode(), file="bad.yaml")
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.pointer == "/root/dag/tasks/total/inputs/parameters/values/parameterExpressionSelector"
    assert "selector" in diagnostic.message
