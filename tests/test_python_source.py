"""Compiling a pipeline's Python file or object (issue 18): the same manifest as from the IR kfp
writes, and located errors for what goes wrong in the user's code."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from conftest import GOLDEN, ROOT
from transpiler import compile_pipeline, transpile
from transpiler.cli import app

FIXTURES = ROOT / "tests" / "fixtures"
runner = CliRunner()


def test_a_py_file_compiles_to_the_manifest_of_its_ir(tmp_path):
    out = tmp_path / "wf.yaml"
    result = runner.invoke(app, ["compile", str(FIXTURES / "run_image.py"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    expected = transpile((GOLDEN / "run_image" / "pipeline.yaml").read_bytes(), file="x")
    assert out.read_text() == expected


def test_compile_pipeline_takes_the_pipeline_object():
    import importlib.util

    spec = importlib.util.spec_from_file_location("fixture_loops", FIXTURES / "loops.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = transpile((GOLDEN / "loops" / "pipeline.yaml").read_bytes(), file="x")
    assert compile_pipeline(module.pipeline) == expected


def test_several_pipelines_need_function_and_errors_point_at_the_line(tmp_path):
    two = tmp_path / "two.py"
    two.write_text(
        "from kfp import dsl\n\n"
        "@dsl.container_component\n"
        "def hi():\n    return dsl.ContainerSpec(image='alpine:3.20', command=['echo', 'hi'])\n\n"
        "@dsl.pipeline(name='first')\ndef first():\n    hi()\n\n"
        "@dsl.pipeline(name='second')\ndef second():\n    hi()\n"
    )
    result = runner.invoke(app, ["compile", str(two)])
    assert result.exit_code == 2 and "several pipelines (first, second)" in result.stderr
    result = runner.invoke(app, ["compile", str(two), "--function", "second"])
    assert result.exit_code == 0 and yaml.safe_load(result.stdout)["metadata"]["generateName"] == "second-"
    broken = tmp_path / "broken.py"
    broken.write_text("from kfp import dsl\n\nvalue = 1 / 0\n")
    result = runner.invoke(app, ["compile", str(broken)])
    assert result.exit_code == 1 and f"{broken}:3: Importing the file failed: ZeroDivisionError" in result.stderr
    assert "Traceback" not in result.output


def test_function_is_only_for_a_py_input(tmp_path):
    result = runner.invoke(app, ["compile", str(GOLDEN / "loops" / "pipeline.yaml"), "--function", "x"])
    assert result.exit_code == 2 and "--function applies to a .py input" in result.stderr
