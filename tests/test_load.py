"""The load pass: every kind of bad input is a located LoadError, never a crash."""

from __future__ import annotations

import pytest

from transpiler import LoadError, load
from transpiler.load import MAX_INPUT_BYTES

SPEC = "pipelineInfo: {name: p}\nroot: {dag: {tasks: {}}}\n"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"   \n# only a comment\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not UTF-8 text"),
        (b"PK\x03\x04\x14\x00\x00\x00", "not UTF-8 text"),
        (b"a: [1, 2\n", "not valid YAML"),
        (b"- 1\n- 2\n", "not a mapping"),
        (b"foo: bar\n", "not a PipelineSpec"),
        (b"a: &x [1]\nb: *x\n", "anchors and aliases"),
        (b"pipelineInfo: {name: p}\npipelineInfo: {name: q}\n", "Duplicate key"),
        ((SPEC + "---\nfoo: 1\n").encode(), "platform spec"),
        ((SPEC + "---\nplatforms: {}\n---\nplatforms: {}\n").encode(), "3 YAML documents"),
    ],
)
def test_bad_inputs(data, message):
    with pytest.raises(LoadError) as caught:
        load(data, "in.yaml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("in.yaml")


def test_alias_bomb_is_refused_quickly():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9)
    )
    with pytest.raises(LoadError, match="aliases"):
        load(bomb.encode(), "bomb.yaml")


def test_too_large_input_is_refused():
    with pytest.raises(LoadError, match="more than"):
        load(b"#" * (MAX_INPUT_BYTES + 1), "big.yaml")


def test_error_locations_are_lines_and_columns():
    with pytest.raises(LoadError) as caught:
        load(b"pipelineInfo:\n  name: p\n  name: q\n", "dup.yaml")
    diagnostic = caught.value.diagnostics[0]
    assert (diagnostic.line, diagnostic.column) == (3, 3)


def test_pipeline_job_wrapper():
    source = load(
        b"pipelineSpec: {pipelineInfo: {name: p}, root: {dag: {tasks: {}}}}\n"
        b"runtimeConfig: {parameterValues: {x: 1}}\n",
        "job.yaml",
    )
    assert source.spec_pointer == "/pipelineSpec" and source.runtime_parameters == {"x": 1}


def test_json_input():
    source = load(b'{"pipelineInfo": {"name": "p"}, "root": {"dag": {"tasks": {}}}}', "p.json")
    assert source.pipeline_spec["pipelineInfo"]["name"] == "p"


@pytest.mark.parametrize(
    "data, message, line",
    [
        (b"pipelineInfo: {name: p}\n" + b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply", 2),
        (b"pipelineInfo: {name: p}\n1: x\n", "Mapping keys must be strings, got int", 2),
        (b"pipelineInfo: {name: p}\n? [a]\n: x\n", "Mapping keys must be strings, got a collection", 1),
        (b"root: {dag: {tasks: {}}}\npipelineInfo:\n  name: p\n  name: q\n", "Duplicate key 'name'", 4),
    ],
)
def test_structural_refusals_are_located(data, message, line):
    with pytest.raises(LoadError) as caught:
        load(data, "in.yaml")
    diagnostic = caught.value.diagnostics[0]
    assert message in diagnostic.message and diagnostic.line == line


def test_duplicate_key_points_at_its_mapping():
    with pytest.raises(LoadError) as caught:
        load(b"root: {dag: {tasks: {}}}\npipelineInfo:\n  name: p\n  name: q\n", "in.yaml")
    assert caught.value.diagnostics[0].pointer == "/pipelineInfo"


def test_values_match_pyyaml_and_positions_are_found_lazily():
    import yaml

    text = (
        "pipelineInfo: {name: p, description: 'x: y'}\n"
        "root: {dag: {tasks: {}}}\n"
        "deploymentSpec: {executors: {e: {container: {image: a, args: [1, 1.5, true, null, '1', ~, 0x10, 2020-01-01, 'y']}}}}\n"
    )
    source = load(text.encode(), "in.yaml")
    expected = yaml.load(text, Loader=yaml.SafeLoader)
    expected["deploymentSpec"]["executors"]["e"]["container"]["args"][7] = "2020-01-01"  # timestamps stay text
    assert source.pipeline_spec == expected
    line = text.splitlines()[2]
    assert source.locate("/deploymentSpec/executors/e/container/args/1") == (3, line.index("1.5") + 1)


def test_an_empty_document_before_the_spec_is_ignored():
    source = load(("---\n---\n" + SPEC).encode(), "in.yaml")
    assert source.pipeline_spec["pipelineInfo"] == {"name": "p"}
    assert source.locate("/pipelineInfo") == (3, 15)


def test_positions_only_drops_values_but_still_locates():
    source = load(SPEC.encode(), "in.yaml").positions_only()
    assert source.pipeline_spec == {} and source.locate("/root/dag") == (2, 13)
