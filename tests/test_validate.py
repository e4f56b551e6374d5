"""``kfp2argo validate`` gives ``compile``'s verdict: the same outcome, the same located messages,
on every pipeline of the corpus and of the project's own fixtures, with several option sets; and
the refusals that used to be found only while lowering are found by ``validate`` too."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import CORPUS, GOLDEN, ROOT
from snippets import assert_refused
from transpiler import Options, TranspileError, check, compile_document
from transpiler.cli import app

OPTION_SETS = {
    "default": Options(),
    "cache-root-template": Options(cache=True, pipeline_root="s3://bucket/root", kind="workflow-template", namespace="ml"),
    "placeholders-cron": Options(placeholder_values=(("pipeline_google_cloud_project_id", "p"),), pipeline_root="gs://b/r",
                                 kind="cron-workflow", schedules=("0 1 * * *",)),
    "bad-root": Options(pipeline_root="file:///tmp/root"),
}


def inputs() -> list[Path]:
    found = sorted(GOLDEN.glob("*/pipeline.yaml"))
    if CORPUS.is_dir():
        found += sorted(p for p in (CORPUS / "kfp-ir").rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
        found += sorted((CORPUS / "invalid").iterdir())
    return found


def verdict(run, data: bytes, options: Options, file: str) -> str:
    try:
        run(data, options, file)
    except TranspileError as error:
        return f"{type(error).__name__}\n{error.format(1000)}"
    return "ok"


@pytest.mark.parametrize("option_set", sorted(OPTION_SETS))
def test_validate_and_compile_agree_on_every_input(option_set: str) -> None:
    options = OPTION_SETS[option_set]
    differences = []
    for path in inputs():
        data, file = path.read_bytes(), str(path.relative_to(ROOT.parent))
        compiled, checked = verdict(compile_document, data, options, file), verdict(check, data, options, file)
        if compiled != checked:
            differences.append(f"{file}:\n  compile: {compiled}\n  validate: {checked}")
    assert not differences, "\n".join(differences)


def test_the_cli_validate_exits_as_compile_does(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    runner = CliRunner()
    cases = [GOLDEN / "hello_container" / "pipeline.yaml", GOLDEN / "importer" / "pipeline.yaml"]
    if CORPUS.is_dir():
        cases += [CORPUS / "kfp-ir" / "input_artifact.yaml", CORPUS / "invalid" / "wrong_format.png"]
    for path in cases:
        for flags in ([], ["--kind", "cron-workflow"], ["--pipeline-root", "ftp://x/y"], ["-p", "nope=1"]):
            compiled = runner.invoke(app, ["compile", str(path), "-o", str(tmp_path / "out.yaml"), *flags])
            validated = runner.invoke(app, ["validate", str(path), *flags])
            assert (validated.exit_code, validated.stderr.replace(f"{path}: ok\n", "")) == (compiled.exit_code, compiled.stderr), (path, flags)


# Refusals that ``validate`` missed before (found only while lowering), one line each.

def test_a_non_integer_backoff_factor_is_refused_by_validate() -> None:
    assert_refused({"/root/dag/tasks/t/retryPolicy": {"maxRetryCount": 2, "backoffFactor": 1.5}},
                   "/root/dag/tasks/t/retryPolicy/backoffFactor", "is not a whole number")


def test_a_condition_calling_size_is_refused_by_validate() -> None:
    assert_refused({"/components/comp-c/inputDefinitions": {"parameters": {"s": {"parameterType": "STRING"}}},
                    "/root/dag/tasks/t/inputs": {"parameters": {"s": {"runtimeValue": {"constant": "x"}}}},
                    "/root/dag/tasks/t/triggerPolicy": {"condition": "size(inputs.parameter_values['s']) > 1"}},
                   "/root/dag/tasks/t/triggerPolicy/condition", "'size' is not a function")


def test_an_unknown_output_in_a_container_component_is_refused_by_validate() -> None:
    assert_refused({"/components/comp-c/outputDefinitions": {"artifacts": {"m": {"artifactType": {"schemaTitle": "system.Model"}}}},
                    "/deploymentSpec/executors/exec-c/container/args": ["{{$.outputs.artifacts['n'].metadata}}"]},
                   "/deploymentSpec/executors/exec-c/container/args/0", "is not supported in a container component")


def test_an_unknown_accelerator_is_refused_by_validate() -> None:
    assert_refused({"/deploymentSpec/executors/exec-c/container/resources": {"accelerator": {"resourceType": "TPU_V3", "resourceCount": "1"}}},
                   "/deploymentSpec/executors/exec-c/container/resources/accelerator", "has no Kubernetes resource name")


def test_a_vertex_placeholder_is_refused_until_given() -> None:
    changes = {"/deploymentSpec/executors/exec-c/container/args": ["{{$.pipeline_google_cloud_project_id}}"]}
    assert_refused(changes, "/deploymentSpec/executors/exec-c/container/args/0", "can only be filled by Vertex AI")
    assert_refused(changes, "/deploymentSpec/executors/exec-c/container/args/0", "can only be filled by Vertex AI",
                   Options(placeholder_values=(("pipeline_location", "x"),)))


def test_a_constant_that_does_not_fit_its_type_is_refused_by_validate() -> None:
    assert_refused({"/components/comp-c/inputDefinitions": {"parameters": {"n": {"parameterType": "NUMBER_INTEGER"}}},
                    "/root/dag/tasks/t/inputs": {"parameters": {"n": {"runtimeValue": {"constant": "three"}}}}},
                   "/root/dag/tasks/t/inputs/parameters/n", "does not fit its type NUMBER_INTEGER")


def test_literal_argo_tags_in_argv_are_refused_by_validate() -> None:
    assert_refused({"/deploymentSpec/executors/exec-c/container/args": ["{{workflow.name}}"]},
                   "/deploymentSpec/executors/exec-c/container/args/0", "which Argo's templating would read")
