"""Runs that check a manifest does what KFP's backend does for constructs users write and kfp2argo
once mistranslated (issue 14): run-time images, retry policies on sub-pipelines, outputs a
component leaves unwritten, arguments Go's YAML readers take for numbers. Each runs on Argo's own
controller (tests/sim.py) and, where kfp.local can run it, is compared with kfp.local."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import GOLDEN, ROOT
from sim import FAILED, SUCCEEDED, compile_ir, require_sim, run_argo, run_local, typed_json

FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(autouse=True)
def _sim() -> None:
    require_sim()


def test_a_retry_on_a_sub_pipeline_retries_its_tasks(tmp_path: Path) -> None:
    counters = tmp_path / "attempts"
    counters.mkdir()
    argo = run_argo(compile_ir(FIXTURES / "run_nested_retry.py"), {"counter_dir": str(counters)}, tmp_path)
    assert argo.run.state == SUCCEEDED, argo.failures()
    # `inherits` takes the sub-pipeline task's three retries; `own` keeps its own one.
    assert (counters / "inherits").read_text() == "3" and (counters / "own").read_text() == "2"
    assert argo.run.tasks["report"][0]["parameters"] == {"Output": typed_json("succeeded on attempt 3")}
    assert argo.attempts["flaky"] == 3 and argo.attempts["flaky-2"] == 2


def test_a_retry_on_a_sub_pipeline_is_not_more_than_kfp_gives(tmp_path: Path) -> None:
    counters = tmp_path / "attempts"
    counters.mkdir()
    argo = run_argo(compile_ir(FIXTURES / "run_nested_retry.py"), {"counter_dir": str(counters), "succeed_on": 5}, tmp_path)
    assert argo.run.state == FAILED
    assert (counters / "inherits").read_text() == "4"  # one try and three retries, the DAG is not retried


def test_images_chosen_at_run_time(tmp_path: Path) -> None:
    manifest = yaml.safe_load((GOLDEN / "run_image" / "workflow.yaml").read_text())
    images = {t["name"]: t["container"]["image"] for t in manifest["spec"]["templates"] if "container" in t}
    assert images == {"comp-pick": "{{inputs.parameters.pipelinechannel--image}}", "comp-show": "{{inputs.parameters.pipelinechannel--pick-Output}}"}
    argo = run_argo(compile_ir(FIXTURES / "run_image.py"), {"image": "python:3.12"}, tmp_path)
    assert argo.run.state == SUCCEEDED, argo.failures()
    names = {n["id"]: n["displayName"] for n in argo.report["nodes"]}
    assert {names[p["nodeID"]]: p["image"] for p in argo.report["pods"]} == {"pick": "python:3.12", "show": "python:3.12"}
    assert argo.run.tasks["pick"][0]["parameters"] == {"Output": typed_json("python:3.12")}


def test_outputs_left_unwritten_reach_the_consumer_as_kfp_gives_them(tmp_path: Path) -> None:
    fixture = FIXTURES / "run_unwritten_outputs.py"
    argo = run_argo(compile_ir(fixture), {}, tmp_path)
    local = run_local(fixture, {}, tmp_path)
    assert argo.run.state == SUCCEEDED, argo.failures()
    expected = "accuracy=0.9 passed=True note=no page written page_exists=False extra=True"
    assert argo.run.tasks["report"][0]["parameters"] == {"Output": typed_json(expected)}
    assert local.tasks["report"][0]["parameters"] == {"Output": typed_json(expected)}


def test_number_like_arguments_arrive_as_strings(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_yaml_numbers", FIXTURES / "run_yaml_numbers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    argo = run_argo(compile_ir(FIXTURES / "run_yaml_numbers.py"), {"lr": "1e-5"}, tmp_path)
    assert argo.run.state == SUCCEEDED, argo.failures()
    assert argo.stdout("show") == ["|".join(["--lr", "1e-5", *module.VALUES, "1e-5"]) + "|"]
