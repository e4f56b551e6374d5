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
