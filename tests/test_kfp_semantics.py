"""One-line rules for what KFP's backend does with fields users set (issue 14): each either maps
as KFP's driver or compiler does, or is refused with a located error."""

from __future__ import annotations

import hashlib

import pytest

from snippets import assert_lowers, assert_refused
from transpiler import Options

EXEC = "/deploymentSpec/executors/exec-c/container"


def test_a_custom_cache_key_replaces_the_computed_key() -> None:
    digest = hashlib.sha256(b"snippet\0comp-c\0my-key").hexdigest()
    assert_lowers({"/root/dag/tasks/t/cachingOptions": {"enableCache": True, "cacheKey": "my-key"}},
                  "/spec/templates/1/memoize/key", f"kfp2argo-{digest}", Options(cache=True))


def test_two_cache_keys_give_two_keys_and_the_pipeline_name_scopes_them() -> None:
    keys = set()
    for key, name in (("a", "snippet"), ("b", "snippet"), ("a", "other")):
        manifest = assert_lowers({"/root/dag/tasks/t/cachingOptions": {"enableCache": True, "cacheKey": key},
                                  "/pipelineInfo/name": name}, "/kind", "Workflow", Options(cache=True))
        keys.add(manifest["spec"]["templates"][1]["memoize"]["key"])
    assert len(keys) == 3


def test_a_constant_that_is_a_job_placeholder_is_resolved_as_kfp_does() -> None:
    inputs = {n: {"parameterType": "STRING"} for n in ("a", "b", "c", "d")}
    values = {"a": "{{$.pipeline_job_name}}", "b": "{{$.pipeline_job_uuid}}", "c": "{{$.pipeline_task_name}}",
              "d": "x {{$.pipeline_job_name}}"}
    changes = {"/components/comp-c/inputDefinitions": {"parameters": inputs},
               "/root/dag/tasks/t/inputs": {"parameters": {k: {"runtimeValue": {"constant": v}} for k, v in values.items()}}}
    manifest = assert_lowers(changes, "/kind", "Workflow")
    arguments = {p["name"]: p["value"] for p in manifest["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]}
    assert arguments == {"a": "{{workflow.name}}", "b": "{{workflow.uid}}", "c": "t", "d": "x {{$.pipeline_job_name}}"}


def test_the_schedule_time_is_the_cron_time_for_a_cron_workflow() -> None:
    changes = {f"{EXEC}/args": ["{{$.pipeline_job_schedule_time_utc}}"]}
    assert_lowers(changes, "/spec/templates/1/container/args/0", "{{workflow.creationTimestamp.RFC3339}}")
    assert_lowers(changes, "/spec/workflowSpec/templates/1/container/args/0", "{{workflow.scheduledTime}}",
                  Options(kind="cron-workflow", schedules=("0 1 * * *",)))


def test_an_image_from_a_parameter_is_bound_like_any_input() -> None:
    changes = {"/components/comp-c/inputDefinitions": {"parameters": {"img": {"parameterType": "STRING"}}},
               "/root/dag/tasks/t/inputs": {"parameters": {"img": {"runtimeValue": {"constant": "python:3.11"}}}},
               f"{EXEC}/image": "{{$.inputs.parameters['img']}}"}
    assert_lowers(changes, "/spec/templates/1/container/image", "{{inputs.parameters.img}}")


def test_an_image_with_text_around_a_parameter_is_refused() -> None:
    changes = {"/components/comp-c/inputDefinitions": {"parameters": {"tag": {"parameterType": "STRING"}}},
               "/root/dag/tasks/t/inputs": {"parameters": {"tag": {"runtimeValue": {"constant": "3.11"}}}},
               f"{EXEC}/image": "python:{{$.inputs.parameters['tag']}}"}
    assert_refused(changes, f"{EXEC}/image", "must be one pipeline value")


def test_images_argo_would_rewrite_or_kubernetes_cannot_pull_are_refused() -> None:
    for image in ("{{workflow.name}}", "python 3", "", "{{=sprig.env('X')}}"):
        assert_refused({f"{EXEC}/image": image}, f"{EXEC}/image", "is not an image reference")


# --- artifact metadata in a container component's command ----------------------------------------

def test_an_output_artifacts_metadata_in_a_container_command_is_empty_json() -> None:
    # Before the component runs its output artifact has no metadata: kfp.local gives "{}".
    assert_lowers({"/components/comp-c/outputDefinitions/artifacts/model/artifactType":
                   {"schemaTitle": "system.Model", "schemaVersion": "0.0.1"},
                   "/deploymentSpec/executors/exec-c/container/args": ["--meta", "{{$.outputs.artifacts['model'].metadata}}"]},
                  "/spec/templates/1/container/args", ["--meta", "{}"])


@pytest.mark.parametrize("text", ["{{$.inputs.artifacts['data'].metadata}}", "{{$.inputs.artifacts['data'].metadata['k']}}"])
def test_an_input_artifacts_metadata_in_a_container_command_is_refused_with_a_way_out(text: str) -> None:
    assert_refused({"/components/comp-c/inputDefinitions/artifacts/data":
                    {"artifactType": {"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"}, "isOptional": True},
                    "/deploymentSpec/executors/exec-c/container/args": [text]},
                   "/deploymentSpec/executors/exec-c/container/args/0", "Read the metadata in a Python component")


def test_task_config_is_refused_rather_than_half_applied() -> None:
    # KFP applies a passthrough field to the pod only with apply_to_task, and hands the component
    # the configuration as JSON (backend/src/v2/driver); kfp2argo does neither yet.
    assert_refused({"/components/comp-c/taskConfigPassthroughs": [{"field": "RESOURCES"}]},
                   "/components/comp-c/taskConfigPassthroughs", "dsl.TaskConfig is not supported yet")
    assert_refused({"/components/comp-c/inputDefinitions/parameters/cfg": {"parameterType": "TASK_CONFIG", "isOptional": True}},
                   "/components/comp-c/inputDefinitions/parameters/cfg", "dsl.TaskConfig is not supported yet")


def test_a_pipeline_parameters_description_reaches_the_submit_form() -> None:
    # The SDK writes docstring text as `description`; Argo shows a workflow parameter's description.
    assert_lowers({"/root/inputDefinitions/parameters/lr": {"parameterType": "NUMBER_DOUBLE", "defaultValue": 0.1,
                                                            "description": "Learning rate."}},
                  "/spec/arguments/parameters/0", {"name": "lr", "value": "0.1", "description": "Learning rate."})
