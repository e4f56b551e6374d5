"""dsl.Collected of artifacts (Input[List[...]]): the key-only locations the iterations write and
the consumer downloads (lower/collected.py), their key expressions evaluated by Argo's own code,
and the launcher building the list, run with the real KFP executor."""

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
from transpiler.lower.context import Options

kfp = pytest.importorskip("kfp")
from kfp import compiler, dsl  # noqa: E402
from kfp.dsl import Dataset, Input, Output  # noqa: E402

IMAGE = "python:3.11"
CASE = GOLDEN / "collected_artifacts"
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


# ---- the manifest ----

def manifest() -> dict:
    return yaml.safe_load(transpile(CASE.joinpath("pipeline.yaml").read_bytes(), file="pipeline.yaml"))


def template(workflow: dict, name: str) -> dict:
    return next(t for t in workflow["spec"]["templates"] if t["name"] == name)


def dag_task(workflow: dict, template_name: str, task: str) -> dict:
    return next(t for t in template(workflow, template_name)["dag"]["tasks"] if t["name"] == task)


def parameter(task: dict, name: str) -> str:
    return next(p["value"] for p in task["arguments"]["parameters"] if p["name"] == name)


def test_producer_writes_artifact_and_metadata_at_key_only_locations():
    producer = template(manifest(), "comp-make-part")
    artifacts = {a["name"]: a for a in producer["outputs"]["artifacts"]}
    assert artifacts["part"]["s3"] == {"key": "{{inputs.parameters.kfp2argo-collect-part}}/artifact"}
    assert artifacts["kfp2argo-meta-part"]["s3"] == {"key": "{{inputs.parameters.kfp2argo-collect-part}}/metadata"}
    assert artifacts["kfp2argo-meta-part"]["path"] == "/kfp2argo/outputs/metadata.part"
    assert {"name": "kfp2argo-collect-part"} in producer["inputs"]["parameters"]


def test_consumer_downloads_the_prefixes_as_optional_inputs():
    workflow = manifest()
    consumer = dag_task(workflow, "collected-artifacts", "combine")
    arguments = {a["name"]: a for a in consumer["arguments"]["artifacts"]}
    assert set(arguments) == {"parts", "big_parts"}
    for argument in arguments.values():  # optional on the argument: Argo keeps the argument's flag
        assert set(argument) == {"name", "optional", "s3"} and set(argument["s3"]) == {"key"}
        assert argument["optional"] is True
    assert arguments["parts"]["s3"]["key"].endswith(f"/{OUTPUT}/iterations")
    assert arguments["big_parts"]["s3"]["key"].endswith(f"/{BIG_OUTPUT}/iterations")
    assert "for-loop-1" in consumer["depends"]
    declared = template(workflow, "comp-combine")["inputs"]["artifacts"]
    assert {"name": "parts", "optional": True, "path": "/kfp2argo/inputs/artifacts/parts"} in declared
    assert {"name": "big_parts", "optional": True, "path": "/kfp2argo/inputs/artifacts/big_parts"} in declared


def test_key_reaches_a_producer_inside_a_condition():
    workflow = manifest()
    condition = dag_task(workflow, "comp-for-loop-1-iteration", "condition-2")
    key_parameter = "kfp2argo-collect-" + BIG_OUTPUT
    assert parameter(condition, key_parameter) == producer_key_text(BIG_OUTPUT)
    assert {"name": key_parameter} in template(workflow, "comp-condition-2")["inputs"]["parameters"]
    inner = dag_task(workflow, "comp-condition-2", "make-big-part")
    assert parameter(inner, "kfp2argo-collect-part") == "{{inputs.parameters." + key_parameter + "}}"


def test_loop_passes_its_node_name_to_the_iteration():
    loop_task = dag_task(manifest(), "comp-for-loop-1", "iteration")
    assert parameter(loop_task, "kfp2argo-loop-node") == "{{node.name}}"


def test_collect_producers_are_never_memoized():
    """A cache hit would write nothing under this run's keys; the consumer would miss it."""
    text = transpile(CASE.joinpath("pipeline.yaml").read_bytes(), Options(cache=True), file="pipeline.yaml")
    workflow = yaml.safe_load(text)
    assert "memoize" not in template(workflow, "comp-make-part")
    assert "enable-cache" in str(template(workflow, "comp-make-part")["metadata"])  # the IR does cache it


# ---- the key expressions, evaluated by Argo ----

LOOP_NODE = 'wf-abc.for-loop-1'
TRICKY_ITEMS = ['{"a":"(1:x"}', "10:", ").iteration(99:z", "", "日本 {x}", "a.iteration(5:b)"]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def eval_texts(requests: list[dict]) -> list[dict]:
    require_harness()
    try:
        return evaluate(requests)
    except HarnessError as err:  # pragma: no cover - the harness is required above
        pytest.fail(str(err))


def producer_key_text(output: str = OUTPUT) -> str:
    iteration = "comp-for-loop-1-iteration"
    if output == OUTPUT:
        return parameter(dag_task(manifest(), iteration, "make-part"), "kfp2argo-collect-part")
    return parameter(dag_task(manifest(), iteration, "condition-2"), "kfp2argo-collect-" + output)


def producer_request(loop_node: str, node: str, output: str = OUTPUT) -> dict:
    scope = {"workflow.uid": "uid-1", "inputs.parameters.kfp2argo-loop-node": loop_node, "node.name": node}
    return {"text": producer_key_text(output), "scope": scope, "strict": "all"}


@pytest.mark.parametrize("loop_node", [LOOP_NODE, "wf-abc.outer.iteration(3:a.iteration(7:b)).for-loop-1"])
def test_producer_key_has_the_iteration_index(loop_node):
    cases = [(i, item) for i in range(13) for item in TRICKY_ITEMS]
    answers = eval_texts([producer_request(loop_node, f"{loop_node}.iteration({i}:{item})") for i, item in cases])
    for (index, item), answer in zip(cases, answers):
        assert answer == {"text": f"kfp2argo-collected/uid-1/{sha(loop_node)}/{OUTPUT}/iterations/{index}"}, (index, item)


@pytest.mark.parametrize("node", ["", "x", "wf-abc.for-loop-1", "wf-abc.for-loop-1.iteration(", "wf-abc.for-loop-1.iteration(:1)",
                                  "'\"\\ {{ }}", "wf-abc.for-loop-1.iteration(x12:3)"])
def test_producer_key_never_fails_on_garbage(node):
    [answer] = eval_texts([producer_request(LOOP_NODE, node)])
    assert answer == {"text": f"kfp2argo-collected/uid-1/{sha(LOOP_NODE)}/{OUTPUT}/iterations/"}


@pytest.mark.parametrize("parent", ["wf-abc", "wf-abc.outer.iteration(2:{\"k\":\"v\"}).body"])
@pytest.mark.parametrize("output", [OUTPUT, BIG_OUTPUT])
def test_consumer_key_is_the_producers_prefix(parent, output):
    workflow = manifest()
    arguments = {a["name"]: a for a in dag_task(workflow, "collected-artifacts", "combine")["arguments"]["artifacts"]}
    argument = arguments["parts" if output == OUTPUT else "big_parts"]
    loop_node = parent + ".for-loop-1"  # the loop task's node, as Argo names a DAG task's node
    consumer, producer, other_loop = eval_texts([
        {"text": argument["s3"]["key"], "scope": {"workflow.uid": "uid-1", "node.name": parent}, "strict": "all"},
        producer_request(loop_node, loop_node + ".iteration(4:x)", output),
        producer_request(parent + ".for-loop-10", parent + ".for-loop-10.iteration(4:x)", output),
    ])
    assert producer["text"] == consumer["text"] + "/4"
    assert not other_loop["text"].startswith(consumer["text"] + "/")


# ---- the launcher ----

def lay_out(folder: Path, parts: dict[int, tuple[str, dict]]) -> None:
    """The directory Argo downloads for the consumer: <index>/artifact and <index>/metadata."""
    for index, (content, metadata) in parts.items():
        (folder / str(index)).mkdir()
        (folder / str(index) / "artifact").write_text(content)
        (folder / str(index) / "metadata").write_text(wire.wire_value(metadata, "STRUCT"))


def place(parts: dict[int, tuple[str, dict]] | None):
    def edit(spec):
        art = spec["inputs"]["artifacts"]["parts"]
        assert art["list"] is True
        if parts is not None:
            Path(art["path"]).mkdir(parents=True)
            lay_out(Path(art["path"]), parts)
    return edit


def test_launcher_builds_the_list_in_index_order_with_metadata(tmp_path):
    parts = {i: (f"c{i}", {"n": str(i), "odd": i % 2 == 1}) for i in (10, 9, 0, 2, 1, 11)}
    run = launch(tmp_path, read_parts, spec_edit=place(parts))
    assert_ok(run)
    found = json.loads(run.value("Output"))
    assert [f["content"] for f in found] == ["c0", "c1", "c2", "c9", "c10", "c11"]
    assert [f["metadata"] for f in found] == [{"n": str(i), "odd": i % 2 == 1} for i in (0, 1, 2, 9, 10, 11)]
    assert {f["type"] for f in found} == {"system.Dataset"}


@pytest.mark.parametrize("folder", [None, {}])
def test_launcher_gives_an_empty_list_when_nothing_was_collected(tmp_path, folder):
    """No download (no iteration made one) or an empty folder: the executor input holds an empty
    list, which KFP's own executor hands to the function as None, as on KFP."""
    run = launch(tmp_path, count_parts, spec_edit=place(folder))
    assert_ok(run)
    assert run.value("Output") == "None"
    (tmp_path / "one").mkdir()
    run = launch(tmp_path / "one", count_parts, spec_edit=place({3: ("x", {})}))
    assert_ok(run)
    assert run.value("Output") == "1"


def test_producer_outputs_feed_the_consumer(tmp_path):
    """What one iteration's launcher writes (artifact and metadata file), placed where Argo's keys
    put them, is what the consumer reads."""
    folder = tmp_path / "collected"
    for index, n in ((1, 5), (0, 7)):
        (tmp_path / f"make{index}").mkdir()
        run = launch(tmp_path / f"make{index}", make_part, {"n": str(n)})
        assert_ok(run)
        art = run.spec["outputs"]["artifacts"]["part"]
        (folder / str(index)).mkdir(parents=True)
        shutil.copy(art["path"], folder / str(index) / "artifact")
        shutil.copy(art["metadataPath"], folder / str(index) / "metadata")

    def edit(spec):
        shutil.copytree(folder, spec["inputs"]["artifacts"]["parts"]["path"])

    (tmp_path / "read").mkdir()
    run = launch(tmp_path / "read", read_parts, spec_edit=edit)
    assert_ok(run)
    found = json.loads(run.value("Output"))
    assert [(f["content"], f["metadata"]) for f in found] == [("49", {"n": "7"}), ("25", {"n": "5"})]


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


# ---- what stays a located error ----

@dsl.pipeline
def sub_pipeline_used_twice():
    with dsl.ParallelFor([1, 2]) as n:
        made = part_pipeline(n=n)
    part_pipeline(n=3)  # the SDK writes a second component; the test makes both tasks share one
    read_parts(parts=dsl.Collected(made.output))


def share_part_pipeline(spec: dict) -> None:
    spec["root"]["dag"]["tasks"]["part-pipeline-2"]["componentRef"]["name"] = "comp-part-pipeline"


@dsl.container_component
def list_in_container(parts: Input[List[Dataset]]):
    return dsl.ContainerSpec(image=IMAGE, command=["ls"], args=[])


@dsl.pipeline
def inner_parts() -> List[Dataset]:
    with dsl.ParallelFor([1, 2]) as n:
        made = make_part(n=n)
    return dsl.Collected(made.outputs["part"])


@dsl.pipeline
def passed_up():
    read_parts(parts=inner_parts().output)


@dsl.pipeline
def container_consumer():
    with dsl.ParallelFor([1, 2]) as n:
        made = make_part(n=n)
    list_in_container(parts=dsl.Collected(made.outputs["part"]))


@dsl.pipeline
def reads_list(parts: Input[List[Dataset]]):
    read_parts(parts=parts)


@dsl.pipeline
def dag_consumer():
    with dsl.ParallelFor([1, 2]) as n:
        made = make_part(n=n)
    reads_list(parts=dsl.Collected(made.outputs["part"]))


@dsl.pipeline
def nested_loops():
    with dsl.ParallelFor([1, 2]) as a:
        with dsl.ParallelFor([3, 4]) as b:
            made = make_part(n=b)
    read_parts(parts=dsl.Collected(made.outputs["part"]))


def diagnostics(pipeline, tmp_path, edit=None) -> list:
    path = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    if edit:
        edit(spec)
    with pytest.raises(UnsupportedFeature) as caught:
        transpile(yaml.safe_dump(spec), file="pipeline.yaml")
    return [(d.pointer, d.message) for d in caught.value.diagnostics]


@pytest.mark.parametrize("pipeline, pointer, fragment, edit", [
    (passed_up, "/components/comp-inner-parts/dag/outputs/artifacts/Output", "not passed up as a DAG output", None),
    (container_consumer, "/root/dag/tasks/list-in-container/inputs/artifacts/parts", "a container component cannot", None),
    (dag_consumer, "/root/dag/tasks/reads-list/inputs/artifacts/parts", "a DAG component (sub-pipeline) cannot", None),
    (nested_loops, r"/components/comp-for-loop-\d+/dag/outputs/artifacts/pipelinechannel--make-part-part",
     "which holds a nested loop", None),
    (sub_pipeline_used_twice, r"/components/comp-for-loop-\d+/dag/outputs/artifacts/pipelinechannel--part-pipeline-Output",
     "a sub-pipeline that other tasks use too", share_part_pipeline),
])
def test_unsupported_uses_are_located_errors(tmp_path, pipeline, pointer, fragment, edit):
    found = diagnostics(pipeline, tmp_path, edit)
    assert any(re.fullmatch(pointer, p) and fragment in message for p, message in found), found
