"""Lists of artifacts (lower/collected.py): the key-only locations the iterations write and the
consumers download, the list manifests, their expressions evaluated by Argo's own code, the
launcher building the list (run with the real KFP executor), and whole pipelines on Argo's
controller (tests/sim.py)."""

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import List

import pytest
import yaml

from argo_lint import HarnessError, evaluate, require_harness
from conftest import GOLDEN
from test_launcher import assert_ok, launch
from transpiler import transpile, wire
from transpiler.errors import UnsupportedFeature
from transpiler.options import Options

kfp = pytest.importorskip("kfp")
from kfp import compiler, dsl  # noqa: E402
from kfp.dsl import Dataset, Input, Output  # noqa: E402

IMAGE = "python:3.11"
CASE = GOLDEN / "collected_artifacts"
LISTS = GOLDEN / "artifact_lists"
OUTPUT = "pipelinechannel--make-part-part"  # the loop's collected outputs in the fixture
BIG_OUTPUT = "pipelinechannel--make-part-2-part"  # made inside a condition


@dsl.component(base_image=IMAGE)
def make_part(n: int, part: Output[Dataset]) -> int:
    with open(part.path, "w") as f:
        f.write(str(n * n))
    part.metadata["n"] = str(n)
    return n


@dsl.component(base_image=IMAGE)
def read_parts(parts: Input[List[Dataset]]) -> str:
    import json
    found = []
    for part in parts:
        with open(part.path) as f:
            found.append({"content": f.read(), "metadata": part.metadata, "type": part.schema_title})
    return json.dumps(found)


@dsl.component(base_image=IMAGE)
def count_parts(parts: Input[List[Dataset]]) -> str:
    return "None" if parts is None else str(len(parts))


# ---- the workflow ----

def manifest(case: Path = CASE) -> dict:
    return yaml.safe_load(transpile(case.joinpath("pipeline.yaml").read_bytes(), file="pipeline.yaml"))


def template(workflow: dict, name: str) -> dict:
    return next(t for t in workflow["spec"]["templates"] if t["name"] == name)


def dag_task(workflow: dict, template_name: str, task: str) -> dict:
    return next(t for t in template(workflow, template_name)["dag"]["tasks"] if t["name"] == task)


def parameter(task: dict, name: str) -> str:
    return next(p["value"] for p in task["arguments"]["parameters"] if p["name"] == name)


def output_expression(workflow: dict, template_name: str, name: str) -> str:
    return next(p["valueFrom"]["expression"] for p in template(workflow, template_name)["outputs"]["parameters"] if p["name"] == name)


def test_producer_writes_its_artifact_at_the_key_it_is_given():
    producer = template(manifest(), "comp-make-part")
    artifacts = {a["name"]: a for a in producer["outputs"]["artifacts"]}
    assert set(artifacts) == {"part"}  # the metadata travels in the list manifest, as a parameter
    assert artifacts["part"]["s3"] == {"key": "{{inputs.parameters.kfp2argo-collect-part}}"}
    assert {"name": "kfp2argo-collect-part"} in producer["inputs"]["parameters"]


def test_loop_gets_a_fresh_prefix_per_list_and_hands_it_to_the_iterations():
    workflow = manifest()
    loop_task = dag_task(workflow, "collected-artifacts", "for-loop-1")
    for output in (OUTPUT, BIG_OUTPUT):
        prefix = parameter(loop_task, "kfp2argo-collect-" + output)
        assert prefix == "kfp2argo-collected/{{workflow.uid}}/{{=sprig.sha256sum(node.name + '.for-loop-1')}}/" + output + "/list"
        iteration = dag_task(workflow, "comp-for-loop-1", "iteration")
        assert parameter(iteration, "kfp2argo-collect-" + output) == "{{inputs.parameters.kfp2argo-collect-" + output + "}}"
    assert parameter(dag_task(workflow, "comp-for-loop-1", "iteration"), "kfp2argo-loop-node") == "{{node.name}}"


def test_consumer_downloads_the_prefix_and_reads_the_manifest():
    workflow = manifest()
    consumer = dag_task(workflow, "collected-artifacts", "combine")
    arguments = {a["name"]: a for a in consumer["arguments"]["artifacts"]}
    assert set(arguments) == {"parts", "big_parts"}
    for name, output in (("parts", OUTPUT), ("big_parts", BIG_OUTPUT)):
        argument = arguments[name]  # optional on the argument: Argo keeps the argument's flag
        assert set(argument) == {"name", "optional", "s3"} and argument["optional"] is True
        assert f"tasks['for-loop-1'].outputs.parameters['kfp2argo-meta-{output}']" in argument["s3"]["key"]
        assert parameter(consumer, "kfp2argo-meta-" + name) == "{{tasks.for-loop-1.outputs.parameters.kfp2argo-meta-" + output + "}}"
    declared = template(workflow, "comp-combine")["inputs"]["artifacts"]
    assert {"name": "parts", "optional": True, "path": "/kfp2argo/inputs/artifacts/parts"} in declared


def test_key_reaches_a_producer_inside_a_condition():
    workflow = manifest()
    condition = dag_task(workflow, "comp-for-loop-1-iteration", "condition-2")
    key_parameter = "kfp2argo-collect-" + BIG_OUTPUT
    assert parameter(condition, key_parameter) == element_key_text(BIG_OUTPUT)
    assert {"name": key_parameter} in template(workflow, "comp-condition-2")["inputs"]["parameters"]
    inner = dag_task(workflow, "comp-condition-2", "make-big-part")
    assert parameter(inner, "kfp2argo-collect-part") == "{{inputs.parameters." + key_parameter + "}}"


def test_lists_between_dags_are_parameters_only():
    """A list passed up as a sub-pipeline's output, into a sub-pipeline, and into a loop over
    it is its manifest alone: no Argo artifact stands for it."""
    workflow = manifest(LISTS)
    make_parts = template(workflow, "comp-make-parts")
    assert "artifacts" not in make_parts["outputs"]
    assert {"name": "kfp2argo-collect-Output"} in make_parts["inputs"]["parameters"]
    assert parameter(dag_task(workflow, "comp-make-parts", "for-loop-1"), "kfp2argo-collect-pipelinechannel--make-part-part") \
        == "{{inputs.parameters.kfp2argo-collect-Output}}"  # the sub-pipeline's own prefix
    describe_parts = template(workflow, "comp-describe-parts")
    assert "artifacts" not in describe_parts["inputs"]
    assert {"name": "kfp2argo-meta-parts", "default": wire.NONE} in describe_parts["inputs"]["parameters"]


def test_collect_producers_are_never_memoized():
    """A cache hit would write nothing under this run's keys; the consumer would miss it."""
    text = transpile(CASE.joinpath("pipeline.yaml").read_bytes(), Options(cache=True), file="pipeline.yaml")
    workflow = yaml.safe_load(text)
    assert "memoize" not in template(workflow, "comp-make-part")
    assert "enable-cache" in str(template(workflow, "comp-make-part")["metadata"])  # the IR does cache it


# ---- the expressions, evaluated by Argo's code ----

LOOP_NODE = 'wf-abc.for-loop-1'
PREFIX = "kfp2argo-collected/uid-1/abc/out/list"
TRICKY_ITEMS = ['{"a":"(1:x"}', "10:", ").iteration(99:z", "", "日本 {x}", "a.iteration(5:b)"]
HARD_METADATA = {"n": 3, "text": "{{workflow.name}} 'q' \"d\" \n 日本", "nested": {"list": [1, None, True]}}


def eval_all(requests: list[dict]) -> list[dict]:
    require_harness()
    try:
        return evaluate(requests)
    except HarnessError as err:  # pragma: no cover - the harness is required above
        pytest.fail(str(err))


def element_key_text(output: str = OUTPUT) -> str:
    iteration = "comp-for-loop-1-iteration"
    if output == OUTPUT:
        return parameter(dag_task(manifest(), iteration, "make-part"), "kfp2argo-collect-part")
    return parameter(dag_task(manifest(), iteration, "condition-2"), "kfp2argo-collect-" + output)


def element_request(loop_node: str, node: str, output: str = OUTPUT) -> dict:
    scope = {"inputs.parameters.kfp2argo-collect-" + output: PREFIX,
             "inputs.parameters.kfp2argo-loop-node": loop_node, "node.name": node}
    return {"text": element_key_text(output), "scope": scope, "strict": "all"}


@pytest.mark.parametrize("loop_node", [LOOP_NODE, "wf-abc.outer.iteration(3:a.iteration(7:b)).for-loop-1"])
def test_element_key_has_the_iteration_index(loop_node):
    cases = [(i, item) for i in range(13) for item in TRICKY_ITEMS]
    answers = eval_all([element_request(loop_node, f"{loop_node}.iteration({i}:{item})") for i, item in cases])
    for (index, item), answer in zip(cases, answers):
        assert answer == {"text": f"{PREFIX}/{index}/artifact"}, (index, item)


@pytest.mark.parametrize("node", ["", "x", "wf-abc.for-loop-1", "wf-abc.for-loop-1.iteration(", "wf-abc.for-loop-1.iteration(:1)",
                                  "'\"\\ {{ }}", "wf-abc.for-loop-1.iteration(x12:3)"])
def test_element_key_never_fails_on_garbage(node):
    [answer] = eval_all([element_request(LOOP_NODE, node)])
    assert answer == {"text": f"{PREFIX}//artifact"}


def aggregate(values: list[str]) -> str:
    """What Argo makes of the iterations' output values (operator.go aggregatedJSONValueList):
    a JSON array of the parsed values when each parses as an object or array, else of the texts."""
    try:
        parsed = [json.loads(v) for v in values]
        if all(isinstance(p, (dict, list)) for p in parsed):
            return json.dumps(parsed)
    except ValueError:
        pass
    return json.dumps(values)


def iteration_items(expression: str, task: str, output: str, value: str | None) -> list:
    scope = {f"tasks.{task}.status": "Skipped"} if value is None else {f"tasks.{task}.outputs.parameters.{output}": value}
    [answer] = eval_all([{"expr": expression, "scope": scope}])
    assert "text" in answer, answer
    return json.loads(wire.decode(answer["text"]))


@pytest.mark.parametrize("metadata", [{}, {"n": 1}, HARD_METADATA])
def test_iteration_items_of_an_element(metadata):
    workflow = manifest()
    made = output_expression(workflow, "comp-for-loop-1-iteration", "kfp2argo-meta-" + OUTPUT)
    meta = wire.wire_value(metadata, "STRUCT")
    assert iteration_items(made, "make-part", "kfp2argo-meta-part", meta) == [{"path": "artifact", "metadata": metadata}]
    big = output_expression(workflow, "comp-for-loop-1-iteration", "kfp2argo-meta-" + BIG_OUTPUT)
    name = "kfp2argo-meta-" + BIG_OUTPUT
    assert iteration_items(big, "condition-2", name, wire.NONE) == []  # the condition skipped the producer
    assert iteration_items(big, "condition-2", name, None) == []  # the condition DAG has no outputs


def loop_manifest(iterations: list[list[dict]]) -> dict:
    workflow = manifest()
    expression = output_expression(workflow, "comp-for-loop-1", "kfp2argo-meta-" + OUTPUT)
    values = [wire.wire_value(items, "LIST") for items in iterations]
    scope = {"inputs.parameters.kfp2argo-collect-" + OUTPUT: PREFIX, "tasks.iteration.status": "Succeeded"}
    if iterations:
        scope["tasks.iteration.outputs.parameters.kfp2argo-meta-" + OUTPUT] = aggregate(values)
    [answer] = eval_all([{"expr": expression, "scope": scope}])
    assert "text" in answer, answer
    return json.loads(wire.decode(answer["text"]))


def test_loop_manifest_joins_the_iterations_in_order():
    iterations = [[{"path": "artifact", "metadata": {"i": i}}] if i % 3 else [] for i in range(12)]
    found = loop_manifest(iterations)
    assert found == {"prefix": PREFIX, "items": [{"path": f"{i}/artifact", "metadata": {"i": i}} for i in range(12) if i % 3]}


def test_loop_manifest_flattens_nested_lists_and_keeps_hard_metadata():
    """An iteration whose items hold text Argo would alter travels escaped; Argo then aggregates
    texts, not arrays."""
    iterations = [[{"path": "list/0/artifact", "metadata": HARD_METADATA}, {"path": "list/2/artifact", "metadata": {}}], [],
                  [{"path": "list/1/list/0/artifact", "metadata": {"k": "v"}}]]
    assert not all(isinstance(v, list) for v in json.loads(aggregate([wire.wire_value(i, "LIST") for i in iterations])))
    assert loop_manifest(iterations) == {"prefix": PREFIX, "items": [
        {"path": "0/list/0/artifact", "metadata": HARD_METADATA}, {"path": "0/list/2/artifact", "metadata": {}},
        {"path": "2/list/1/list/0/artifact", "metadata": {"k": "v"}}]}


def test_loop_over_no_items_makes_an_empty_list():
    assert loop_manifest([]) == {"prefix": PREFIX, "items": []}


def test_iteration_items_of_a_nested_list():
    workflow = manifest(LISTS)
    name = "kfp2argo-meta-pipelinechannel--make-part-part"  # of the outer loop (for-loop-2) and the inner one
    expression = output_expression(workflow, "comp-for-loop-2-iteration", name)
    assert parameter(dag_task(workflow, "comp-for-loop-2-iteration", "for-loop-3"), "kfp2argo-collect-pipelinechannel--make-part-part") \
        .endswith("/list")  # the inner loop's prefix is below the outer iteration's element
    inner = {"prefix": PREFIX + "/4/list", "items": [{"path": "0/artifact", "metadata": {"n": 1}}, {"path": "1/artifact", "metadata": {}}]}
    items = iteration_items(expression, "for-loop-3", name, wire.wire_value(inner, "STRUCT"))
    assert items == [{"path": "list/0/artifact", "metadata": {"n": 1}}, {"path": "list/1/artifact", "metadata": {}}]


def test_consumer_key_and_loop_items_of_a_manifest():
    workflow = manifest(LISTS)
    reader = dag_task(workflow, "artifact-lists", "describe-parts")
    assert "artifacts" not in reader["arguments"]  # a sub-pipeline gets the manifest alone
    loop = template(workflow, "comp-for-loop-1")  # over the list make-parts returns
    with_param = dag_task(workflow, "comp-for-loop-1", "iteration")["withParam"]
    arguments = dag_task(workflow, "comp-for-loop-1", "iteration")["arguments"]
    key = next(a["s3"]["key"] for a in arguments["artifacts"])
    metadata = next(p["value"] for p in arguments["parameters"] if p["name"].endswith("-loop-item"))
    list_input = next(p["name"] for p in loop["inputs"]["parameters"] if p["name"].startswith("kfp2argo-meta-"))
    listed = {"prefix": PREFIX, "items": [{"path": "0/artifact", "metadata": HARD_METADATA}, {"path": "2/artifact", "metadata": {}}]}
    [items] = eval_all([{"text": with_param, "scope": {"inputs.parameters." + list_input: wire.wire_value(listed, "STRUCT")}, "strict": "all"}])
    texts = json.loads(items["text"])
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)
    answers = eval_all([{"text": text, "scope": {"item": item}, "strict": "all"} for item in texts for text in (key, metadata)])
    assert [a["text"] for a in answers[::2]] == [f"{PREFIX}/0/artifact", f"{PREFIX}/2/artifact"]
    assert [wire.decode_typed(a["text"], "STRUCT") for a in answers[1::2]] == [HARD_METADATA, {}]
    [empty] = eval_all([{"text": with_param, "scope": {"inputs.parameters." + list_input: wire.NONE}, "strict": "all"}])
    assert empty == {"text": "[]"}


@pytest.mark.parametrize("value, expected", [(wire.wire_value({"prefix": PREFIX, "items": []}, "STRUCT"), PREFIX),
                                             (wire.NONE, "kfp2argo-collected/uid-1/absent"), ("garbage", "kfp2argo-collected/uid-1/absent")])
def test_download_key_is_the_prefix_or_a_key_no_task_writes(value, expected):
    workflow = manifest()
    argument = next(a for a in dag_task(workflow, "collected-artifacts", "combine")["arguments"]["artifacts"] if a["name"] == "parts")
    scope = {"workflow.uid": "uid-1", "tasks.for-loop-1.outputs.parameters.kfp2argo-meta-" + OUTPUT: value}
    [answer] = eval_all([{"text": argument["s3"]["key"], "scope": scope, "strict": "all"}])
    assert answer == {"text": expected}


def test_container_component_gets_the_artifacts_as_json():
    workflow = manifest(LISTS)
    task = dag_task(workflow, "artifact-lists", "list-in-container")
    value = parameter(task, "kfp2argo-artifacts-parts")
    listed = {"prefix": PREFIX, "items": [{"path": "0/artifact", "metadata": {"n": 1}}, {"path": "1/artifact", "metadata": HARD_METADATA}]}
    scope = {"tasks.make-parts.outputs.parameters.kfp2argo-meta-Output": wire.wire_value(listed, "STRUCT")}
    [answer] = eval_all([{"text": value, "scope": scope, "strict": "all"}])
    kind = {"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"}
    assert json.loads(wire.decode(answer["text"])) == [
        {"name": "0", "uri": "/kfp2argo/inputs/artifacts/parts/0/artifact", "metadata": {"n": 1}, "type": kind},
        {"name": "1", "uri": "/kfp2argo/inputs/artifacts/parts/1/artifact", "metadata": HARD_METADATA, "type": kind},
    ]


# ---- the launcher ----

def lay_out(folder: Path, parts: dict[str, str]) -> None:
    """The directory Argo downloads for the consumer: the elements at their paths."""
    for path, content in parts.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(content)


def list_input(parts: dict[str, str] | None):
    def edit(spec):
        art = spec["inputs"]["artifacts"]["parts"]
        assert art["list"] is True
        if parts is not None:
            Path(art["path"]).mkdir(parents=True)
            lay_out(Path(art["path"]), parts)
    return edit


def test_launcher_builds_the_list_in_manifest_order_with_metadata(tmp_path):
    paths = ["10/artifact", "9/artifact", "0/list/3/artifact", "2/artifact"]
    parts = {path: f"c{i}" for i, path in enumerate(paths)}
    listed = {"prefix": PREFIX, "items": [{"path": p, "metadata": {"i": i, "odd": i % 2 == 1}} for i, p in enumerate(paths)]}
    run = launch(tmp_path, read_parts, metadata={"parts": wire.wire_value(listed, "STRUCT")}, spec_edit=list_input(parts))
    assert_ok(run)
    found = json.loads(run.value("Output"))
    assert [f["content"] for f in found] == ["c0", "c1", "c2", "c3"]
    assert [f["metadata"] for f in found] == [{"i": i, "odd": i % 2 == 1} for i in range(4)]
    assert {f["type"] for f in found} == {"system.Dataset"}


@pytest.mark.parametrize("listed", [None, wire.NONE, {"prefix": PREFIX, "items": []}])
def test_launcher_gives_an_empty_list_when_nothing_was_collected(tmp_path, listed):
    """No manifest, an absent one, or one without items: the executor input holds an empty
    list, which KFP's own executor hands to the function as None, as on KFP."""
    metadata = {} if listed is None else {"parts": listed if isinstance(listed, str) else wire.wire_value(listed, "STRUCT")}
    run = launch(tmp_path, count_parts, metadata=metadata, spec_edit=list_input(None))
    assert_ok(run)
    assert run.value("Output") == "None"


@pytest.mark.parametrize("listed", ["{not json", wire.wire_value({"items": [{"no": "path"}]}, "STRUCT")])
def test_launcher_rejects_a_malformed_manifest(tmp_path, listed):
    run = launch(tmp_path, count_parts, metadata={"parts": listed}, spec_edit=list_input({}))
    assert run.proc.returncode != 0
    assert "list of artifacts 'parts'" in run.stderr


# ---- on Argo's own controller (tests/sim.py) ----

@pytest.mark.parametrize("numbers, expected", [
    ([3, 1, 2, 12, 0, 5, 6, 7, 8, 9, 10, 11],
     "3:9,1:1,2:4,12:144,0:0,5:25,6:36,7:49,8:64,9:81,10:100,11:121,"  # every iteration, item order
     "3:9,2:4,12:144,5:25,6:36,7:49,8:64,9:81,10:100,11:121"  # n > 1 only: skipped ones add nothing
     ";[3, 1, 2, 12, 0, 5, 6, 7, 8, 9, 10, 11]"),
    ([0, 1], "0:0,1:1;[0, 1]"),  # the condition skipped every iteration: no prefix, an empty list
    ([], ";[]"),  # no iteration at all
])
def test_fixture_runs_on_argo(tmp_path, numbers, expected):
    from sim import SUCCEEDED, compile_ir, require_sim, run_argo

    require_sim()
    run = run_argo(compile_ir(GOLDEN.parent / "tests" / "fixtures" / "collected_artifacts.py"), {"numbers": numbers}, tmp_path)
    assert run.run.state == SUCCEEDED, run.failures()
    [combine] = run.run.tasks["combine"]
    assert json.loads(combine["parameters"]["Output"]) == expected


@dsl.pipeline
def part_pipeline(n: int) -> Dataset:
    return make_part(n=n).outputs["part"]


@dsl.pipeline
def through_sub_pipeline(numbers: List[int] = [4, 5]):
    with dsl.ParallelFor(numbers) as n:
        made = part_pipeline(n=n)
    read_parts(parts=dsl.Collected(made.output))


def test_producer_inside_a_sub_pipeline_runs_on_argo(tmp_path):
    from sim import SUCCEEDED, require_sim, run_argo

    require_sim()
    path = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(through_sub_pipeline, str(path))
    run = run_argo(path.read_text(encoding="utf-8"), {"numbers": [4, 5, 6]}, tmp_path)
    assert run.run.state == SUCCEEDED, run.failures()
    [reader] = run.run.tasks["read-parts"]
    found = json.loads(json.loads(reader["parameters"]["Output"]))
    assert [(f["content"], f["metadata"]) for f in found] == [("16", {"n": "4"}), ("25", {"n": "5"}), ("36", {"n": "6"})]


@pytest.mark.parametrize("numbers, tags, expected", [
    ([1, 2, 3], ["a", "b"], {
        "describe": ["1=a1,2=a4,3=a9", "1=b1,2=b4,3=b9", "1=p1,2=p4,3=p9"],  # per tag, and in describe-parts
        "describe-2": ["1=a1,2=a4,3=a9,1=b1,2=b4,3=b9"],  # after the nested loops: one flat list
        "list-in-container": ["1=p1,2=p4,3=p9"],
        "read-one": ["1=p1", "2=p4", "3=p9"],  # the loop over the list
    }),
    ([], ["a"], {"describe": ["", ""], "describe-2": [""], "list-in-container": [""]}),  # empty lists everywhere
])
def test_lists_between_dags_loops_and_containers_run_on_argo(tmp_path, numbers, tags, expected):
    from sim import SUCCEEDED, compile_ir, require_sim, run_argo

    require_sim()
    run = run_argo(compile_ir(GOLDEN.parent / "tests" / "fixtures" / "artifact_lists.py"), {"numbers": numbers, "tags": tags}, tmp_path)
    assert run.run.state == SUCCEEDED, run.failures()
    found = {task: sorted(json.loads(next(iter(pod["parameters"].values()))) for pod in pods)
             for task, pods in run.run.tasks.items() if task != "make-part"}
    assert found == {task: sorted(values) for task, values in expected.items()}


# ---- what stays a located error ----

@dsl.pipeline
def sub_pipeline_used_twice():
    with dsl.ParallelFor([1, 2]) as n:
        made = part_pipeline(n=n)
    part_pipeline(n=3)  # the SDK writes a second component; the test makes both tasks share one
    read_parts(parts=dsl.Collected(made.output))


def share_part_pipeline(spec: dict) -> None:
    spec["root"]["dag"]["tasks"]["part-pipeline-2"]["componentRef"]["name"] = "comp-part-pipeline"


def diagnostics(pipeline, tmp_path, edit=None) -> list:
    path = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    if edit:
        edit(spec)
    with pytest.raises(UnsupportedFeature) as caught:
        transpile(yaml.safe_dump(spec), file="pipeline.yaml")
    return [(d.pointer, d.message) for d in caught.value.diagnostics]


def test_a_producer_in_a_shared_sub_pipeline_is_a_located_error(tmp_path):
    found = diagnostics(sub_pipeline_used_twice, tmp_path, share_part_pipeline)
    pointer = r"/components/comp-for-loop-\d+/dag/outputs/artifacts/pipelinechannel--part-pipeline-Output"
    assert any(re.fullmatch(pointer, p) and "a sub-pipeline that other tasks use too" in m for p, m in found), found


def test_one_artifact_where_a_list_is_expected_is_a_located_error(tmp_path):
    """The SDK does not write this; a hand-edited IR might."""
    def edit(spec):
        spec["root"]["dag"]["tasks"]["read-parts"]["inputs"]["artifacts"]["parts"] = {
            "taskOutputArtifact": {"outputArtifactKey": "part", "producerTask": "make-part"}}
        spec["root"]["dag"]["tasks"]["make-part"] = {
            "componentRef": {"name": "comp-make-part"}, "taskInfo": {"name": "make-part"},
            "inputs": {"parameters": {"n": {"runtimeValue": {"constant": 1}}}}}
        spec["root"]["dag"]["tasks"]["read-parts"]["dependentTasks"] = ["make-part"]
    found = diagnostics(through_sub_pipeline, tmp_path, edit)
    assert ("/root/dag/tasks/read-parts/inputs/artifacts/parts", "This input is a list of artifacts but receives one artifact") in found


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "0//artifact", "0/./artifact", "0/../../x", ""])
def test_launcher_refuses_list_paths_outside_the_download(tmp_path, path):
    """Element paths come from run-time data (the list manifest): each must be plain segments
    below the downloaded folder."""
    listed = {"prefix": PREFIX, "items": [{"path": path, "metadata": {}}]}
    run = launch(tmp_path, read_parts, metadata={"parts": wire.wire_value(listed, "STRUCT")}, spec_edit=list_input({}))
    assert run.proc.returncode == 2
    assert "list of artifacts 'parts': unsafe path" in run.stderr
