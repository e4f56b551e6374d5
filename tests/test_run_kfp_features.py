"""Runs of KFP features kfp2argo once refused (issue 15): the pipeline workspace, importers whose
URI is given at submission. Each runs on Argo's own controller (tests/sim.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT
from sim import FAILED, SUCCEEDED, compile_ir, require_sim, run_argo, typed_json

FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(autouse=True)
def _sim() -> None:
    require_sim()


def test_tasks_share_files_through_the_workspace(tmp_path: Path) -> None:
    argo = run_argo(compile_ir(FIXTURES / "run_workspace.py"), {"text": "shared notes"}, tmp_path)
    assert argo.run.state == SUCCEEDED, argo.failures()
    outputs = {task: entries[0]["parameters"] for task, entries in argo.run.tasks.items()}
    assert outputs["write-notes"] == {"Output": typed_json(12)}
    assert outputs["read-notes"] == {"Output": typed_json("SHARED NOTES")}  # written by another pod
    assert outputs["copy-notes"] == {"copied": typed_json("shared notes")}  # a path built on the placeholder


def test_a_pipeline_input_artifact_given_by_the_workflow_that_runs_the_template(tmp_path: Path) -> None:
    from transpiler import Options

    data = tmp_path / "argo" / "artifacts" / "kfp2argo-data"
    data.mkdir(parents=True)
    (data / "iris.csv").write_text("a,b\n1,2\n3,4\n")

    def submit(manifest: dict) -> None:  # what a Workflow with workflowTemplateRef and arguments gives
        manifest["kind"] = "Workflow"
        manifest["spec"]["arguments"]["artifacts"] = [{"name": "data", "gcs": {"bucket": "kfp2argo-data", "key": "iris.csv"}}]

    argo = run_argo(compile_ir(FIXTURES / "run_input_artifact.py"), {}, tmp_path,
                    options=Options(kind="workflow-template"), edit=submit)
    assert argo.run.state == SUCCEEDED, argo.failures()
    assert argo.run.tasks["summarize"][0]["parameters"] == {"Output": typed_json("3 rows, metadata {}")}
    first = argo.run.tasks["first-line"][0]["parameters"]
    assert first["line"] == typed_json("a,b")
    assert json.loads(first["uri"]).endswith("/kfp2argo/inputs/artifacts/data")  # no URI given: where Argo put it


def test_an_importer_uri_given_only_at_submission(tmp_path: Path) -> None:
    from transpiler import Options

    data = tmp_path / "argo" / "artifacts" / "kfp2argo-data"
    data.mkdir(parents=True)
    (data / "iris.csv").write_text("a,b\n1,2\n3,4\n")
    uri = "gs://kfp2argo-data/iris.csv"
    argo = run_argo(compile_ir(FIXTURES / "run_importer_uri.py"), {"uri": uri}, tmp_path, options=Options(importer_scheme="gs"))
    assert argo.run.state == SUCCEEDED, argo.failures()
    assert argo.run.tasks["describe"][0]["parameters"] == {"Output": typed_json(uri + " {'origin': 'submission'}")}
    assert argo.run.tasks["first-line"][0]["parameters"] == {"line": typed_json("a,b"), "uri": typed_json(uri)}


def test_an_importer_uri_of_another_scheme_fails_the_consumer(tmp_path: Path) -> None:
    from transpiler import Options

    argo = run_argo(compile_ir(FIXTURES / "run_importer_uri.py"), {"uri": "s3://kfp2argo-data/iris.csv"}, tmp_path,
                    options=Options(importer_scheme="gs"))
    assert argo.run.state == FAILED
    assert "the importer URI is not a gs:" in argo.failures()  # the reason, in the location Argo reports
