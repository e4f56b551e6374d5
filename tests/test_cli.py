"""The command line: exit codes, stderr diagnostics, outputs written only on success."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from typer.testing import CliRunner

from conftest import GOLDEN
from transpiler.cli import app

runner = CliRunner()
HELLO = GOLDEN / "hello_container" / "pipeline.yaml"
TYPES = GOLDEN / "parameter_types" / "pipeline.yaml"


def invoke(*args: str, stdin: bytes | None = None):
    return runner.invoke(app, list(args), input=stdin)


def test_compile_to_stdout_matches_golden():
    result = invoke("compile", str(HELLO))
    assert result.exit_code == 0, result.output
    assert result.stdout == (GOLDEN / "hello_container" / "workflow.yaml").read_text()


def test_compile_writes_output_file(tmp_path):
    out = tmp_path / "wf.yaml"
    result = invoke("compile", str(HELLO), "-o", str(out), "--namespace", "ml", "--service-account", "runner")
    assert result.exit_code == 0
    document = yaml.safe_load(out.read_text())
    assert document["metadata"]["namespace"] == "ml"
    assert document["spec"]["serviceAccountName"] == "runner"
    assert list(tmp_path.iterdir()) == [out]


def test_json_output_and_fixed_name():
    result = invoke("compile", str(HELLO), "--output-format", "json", "--name", "hello-1")
    document = json.loads(result.stdout)
    assert document["metadata"] == {**document["metadata"], "name": "hello-1"}
    assert "generateName" not in document["metadata"]


def test_stdin_input():
    result = invoke("compile", "-", stdin=HELLO.read_bytes())
    assert result.exit_code == 0 and "kind: Workflow" in result.stdout


def test_typed_parameter_override():
    result = invoke("compile", str(TYPES), "-p", "i=12", "-p", "f=2.50", "-p", "b=True", "-p", "l=[1, 2]", "-p", "s={{workflow.name}}")
    assert result.exit_code == 0, result.output
    values = {p["name"]: p["value"] for p in yaml.safe_load(result.stdout)["spec"]["arguments"]["parameters"]}
    assert values["i"] == "12" and values["f"] == "2.5" and values["b"] == "true" and values["l"] == "[1,2]"
    assert values["s"].startswith("kfp2argo:b64:")


@pytest.mark.parametrize(
    "args, message",
    [
        (["-p", "nope=1"], "Unknown pipeline parameter 'nope'"),
        (["-p", "i=1.5"], "does not fit its type NUMBER_INTEGER"),
        (["-p", "novalue"], "expects NAME=VALUE"),
    ],
)
def test_bad_parameters_are_usage_errors(args, message, tmp_path):
    out = tmp_path / "wf.yaml"
    result = invoke("compile", str(TYPES), "-o", str(out), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not out.exists()


def test_invalid_input_exit_1_no_output_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("pipelineInfo: {name: x}\nroot: {dag: {tasks: {a: {componentRef: {name: missing}}}}}\n")
    out = tmp_path / "wf.yaml"
    result = invoke("compile", str(bad), "-o", str(out))
    assert result.exit_code == 1
    assert f"{bad}:2:" in result.stderr and "/root/dag/tasks/a/componentRef/name" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_missing_file_is_usage_error():
    result = invoke("compile", "does-not-exist.yaml")
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_validate_command(tmp_path):
    assert invoke("validate", str(HELLO)).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    result = invoke("validate", str(bad))
    assert result.exit_code == 1 and "not UTF-8 text" in result.stderr


def test_encode_value():
    assert invoke("encode-value", "plain").stdout == "plain\n"
    assert invoke("encode-value", "{{workflow.name}}").stdout.startswith("kfp2argo:b64:")


def test_help_and_version_and_module_entry():
    assert "compile" in invoke("--help").stdout
    assert "Examples" in invoke("compile", "--help").stdout
    proc = subprocess.run([sys.executable, "-m", "transpiler", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("kfp2argo ")
