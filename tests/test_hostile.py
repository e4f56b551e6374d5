"""Hostile and malformed input (issue 16): each class of problem the fuzzer found is one located
error, never a traceback, and nothing a user wrote reaches a field Argo evaluates. The fuzzer
itself is tests/test_fuzz.py; these pin each class with the smallest input that shows it."""

from __future__ import annotations

import json

import pytest
import yaml

from snippets import BASE, assert_refused, snippet
from transpiler import LoadError, TranspileError, load, transpile

# --- reading --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, message", [
    ("pipelineInfo: {name: !!bool 1}\n", "The value '1' cannot be read as bool"),
    ("pipelineInfo: {name: !!int abc}\n", "The value 'abc' cannot be read as int"),
    ("pipelineInfo: {name: !!float ''}\n", "cannot be read as float"),
    ("pipelineInfo: {name: " + "1" * 5000 + "}\n", "cannot be read"),
])
def test_a_scalar_that_cannot_be_read_is_a_located_error(text, message):
    with pytest.raises(LoadError) as err:
        load(text, "p.yaml")
    [diagnostic] = err.value.diagnostics
    assert message in diagnostic.message
    assert (diagnostic.pointer, diagnostic.line) == ("/pipelineInfo/name", 1)


def test_json_is_read_as_json():
    spec = json.loads(snippet({"/root/inputDefinitions/parameters/lr": {"parameterType": "NUMBER_DOUBLE", "defaultValue": 0.5}}))
    text = json.dumps(spec).replace("0.5", "1e-05")  # valid JSON, a string in YAML 1.1
    assert load(text, "p.json").pipeline_spec["root"]["inputDefinitions"]["parameters"]["lr"]["defaultValue"] == 1e-05
    manifest = yaml.safe_load(transpile(text, file="p.json"))
    assert manifest["spec"]["arguments"]["parameters"][0]["value"] == "0.00001"  # the number's wire text


# --- structure and values -------------------------------------------------------------------------


@pytest.mark.parametrize("changes, pointer, message", [
    ({"/root/dag": None}, "/root", "no root DAG"),
    ({"/components/comp-c/executorLabel": None}, "/components/comp-c", "neither an executorLabel nor a dag"),
    ({"/root/dag/outputs/parameters/Output": {}}, "/root/dag/outputs/parameters/Output", "names no source"),
    ({"/root/outputDefinitions/parameters/Output/parameterType": "STRING"},
     "/root/outputDefinitions/parameters/Output", "has no source in dag.outputs"),
    ({"/root/inputDefinitions/parameters/s": {"parameterType": "STRING", "defaultValue": True}},
     "/root/inputDefinitions/parameters/s/defaultValue", "does not fit its type STRING"),
    ({"/root/inputDefinitions/parameters/n": {"parameterType": "NUMBER_INTEGER", "defaultValue": 1.5}},
     "/root/inputDefinitions/parameters/n/defaultValue", "does not fit its type NUMBER_INTEGER"),
])
def test_malformed_structure_is_refused_where_it_is(changes, pointer, message):
    assert_refused(changes, pointer, message)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_default_that_no_parameter_can_hold_is_refused(value):
    text = snippet({"/root/inputDefinitions/parameters/f": {"parameterType": "NUMBER_DOUBLE", "defaultValue": 0.5}})
    text = text.replace("0.5", "NaN" if value != value else "Infinity")
    with pytest.raises(TranspileError) as err:
        transpile(text, file="p.json")
    assert err.value.diagnostics[0].pointer == "/root/inputDefinitions/parameters/f/defaultValue"


def test_an_infinite_backoff_factor_is_refused():
    assert_refused({"/root/dag/tasks/t/retryPolicy": {"maxRetryCount": 2, "backoffFactor": float("inf")}},
                   "/root/dag/tasks/t/retryPolicy/backoffFactor", "not a whole number")


# --- nothing reaches a field Argo evaluates --------------------------------------------------------

TAG = "{{workflow.parameters.x}}"
EXECUTOR = "platform:/platforms/kubernetes/deploymentSpec/executors/exec-c"


PLATFORM = "/platforms/kubernetes/deploymentSpec/executors/exec-c"
SECRET = {"secretNameParameter": {"runtimeValue": {"constant": "s"}}}


@pytest.mark.parametrize("field, value, where, message", [
    ("secretAsEnv", [{**SECRET, "keyToEnv": [{"secretKey": TAG, "envVar": "X"}]}], "/secretAsEnv/0", "the secret key"),
    ("secretAsEnv", [{**SECRET, "keyToEnv": [{"secretKey": "k", "envVar": TAG}]}], "/secretAsEnv/0", "the environment variable"),
    ("secretAsVolume", [{"secretNameParameter": {"runtimeValue": {"constant": TAG}}, "mountPath": "/s"}],
     "/secretAsVolume/0/secretNameParameter", "the secret name"),
    ("secretAsVolume", [{**SECRET, "mountPath": TAG}], "/secretAsVolume/0", "the mount path"),
    ("fieldPathAsEnv", [{"name": "X", "fieldPath": TAG}], "", "the field path"),
    ("nodeSelector", {"labels": {"k": TAG}}, "", "the node selector value"),
    ("tolerations", [{"key": TAG, "operator": "Exists"}], "", "the toleration key"),
    ("podMetadata", {"labels": {"a": TAG}}, "", "the label value"),
    ("podMetadata", {"annotations": {"a": TAG}}, "", "the annotation value"),
    ("emptyDirMounts", [{"volumeName": "v", "mountPath": "/v", "sizeLimit": TAG}], "/emptyDirMounts/0", "the size limit"),
    ("fieldPathAsEnv", [{"name": "X", "fieldPath": "metadata.name"}, {"name": "X", "fieldPath": "metadata.uid"}],
     "", "is set twice"),
])
def test_a_platform_constant_its_field_would_refuse_is_refused(field, value, where, message):
    assert_refused({f"{EXECUTOR}/{field}": value}, PLATFORM + where, message)


def test_a_constant_resource_must_be_a_quantity():
    assert_refused({"/deploymentSpec/executors/exec-c/container/resources": {"accelerator": {"resourceType": "nvidia.com/gpu", "resourceCount": TAG}}},
                   "/deploymentSpec/executors/exec-c/container/resources", "not a Kubernetes quantity")


def test_names_with_argo_tags_reach_the_launcher_encoded():
    changes = {
        "/components/comp-c/inputDefinitions/parameters/" + TAG: {"parameterType": "STRING", "isOptional": True},
        "/deploymentSpec/executors/exec-c/container/command": ["python3", "-c", "pass"],
        "/deploymentSpec/executors/exec-c/container/args": ["--executor_input", "{{$}}"],
    }
    manifest = yaml.safe_load(transpile(snippet(changes), file="p.json"))
    template = next(t for t in manifest["spec"]["templates"] if "container" in t)
    assert all(TAG not in arg for arg in template["container"]["args"])
    assert template["container"]["args"][0].startswith("base64:")


def test_control_characters_in_the_description_are_escaped_in_yaml_and_json():
    text = snippet({"/pipelineInfo/description": "a\x7fb\x9bc\ufffe", "/pipelineInfo/displayName": "T\x85"})
    for output_format in ("yaml", "json"):
        manifest = transpile(text, file="p.json", output_format=output_format)
        assert "\x7f" not in manifest and "\x9b" not in manifest and "\ufffe" not in manifest
        assert yaml.safe_load(manifest)["metadata"]["annotations"]["workflows.argoproj.io/description"] == "a\x7fb\x9bc\ufffe"


def test_a_cron_workflow_parameter_needs_a_value():
    from transpiler import Options

    changes = {"/root/inputDefinitions/parameters/x": {"parameterType": "STRING"}}
    options = Options(kind="cron-workflow", schedules=("0 * * * *",))
    assert_refused(changes, "/root/inputDefinitions/parameters/x", "needs a value", options)
    transpile(snippet(changes), Options(kind="cron-workflow", schedules=("0 * * * *",), parameters=(("x", "v"),)), file="p.json")


def test_a_description_too_long_for_the_annotations_is_refused():
    assert_refused({"/pipelineInfo/description": "x" * 300_000}, "/pipelineInfo", "Shorten the description")


def test_base_is_unchanged():
    assert "outputDefinitions" not in BASE["root"]  # the snippets above start from the plain one-task pipeline


# --- fields no pass would read are refused, and a PipelineJob's are mapped ---------------------------


@pytest.mark.parametrize("changes, pointer", [
    ({"/schemaVersion": "2.0.0"}, "/schemaVersion"),
    ({"/root/inputDefinitions/parameters/x": {"type": "STRING"}}, "/root/inputDefinitions/parameters/x/type"),
    ({"/root/inputDefinitions/parameters/x": {"parameterType": "STRING", "literals": ["a"], "defaultValue": "a"}},
     "/root/inputDefinitions/parameters/x/literals"),
    ({"/components/comp-c/outputDefinitions/artifacts/m": {"artifactType": {"schemaTitle": "system.Model"}, "metadata": {"a": 1}}},
     "/components/comp-c/outputDefinitions/artifacts/m/metadata"),
    ({"/components/comp-c/inputDefinitions/artifacts/a": {"artifactType": {"instanceSchema": "title: x"}, "isOptional": True}},
     "/components/comp-c/inputDefinitions/artifacts/a/artifactType/instanceSchema"),
    ({"/components/comp-c/singlePlatformSpecs": [{"platform": "kubernetes"}]}, "/components/comp-c/singlePlatformSpecs"),
    ({"/root/taskConfigPassthroughs": [{"field": "RESOURCES"}]}, "/root/taskConfigPassthroughs"),
    ({"/components/comp-c/inputDefinitions/parameters/p": {"parameterType": "STRING"},
      "/root/dag/tasks/t/inputs/parameters/p/runtimeValue/runtimeParameter": "x"},
     "/root/dag/tasks/t/inputs/parameters/p/runtimeValue/runtimeParameter"),
])
def test_a_field_no_pass_reads_is_refused_where_it_is(changes, pointer):
    assert_refused(changes, pointer, "")


def test_a_pipeline_job_gives_its_values_root_name_and_labels():
    spec = json.loads(snippet({"/root/inputDefinitions/parameters": {"n": {"parameterType": "NUMBER_INTEGER"},
                                                                    "s": {"parameterType": "STRING"}}}))
    job = {"displayName": "Nightly", "labels": {"team": "ml"},
           "runtimeConfig": {"gcsOutputDirectory": "s3://bucket/runs",
                             "parameters": {"n": {"intValue": "7"}, "s": {"stringValue": "old"}},
                             "parameterValues": {"s": "new"}},  # wins over the deprecated map
           "pipelineSpec": spec}
    manifest = yaml.safe_load(transpile(json.dumps(job), file="job.json"))
    assert {p["name"]: p["value"] for p in manifest["spec"]["arguments"]["parameters"]} == {"n": "7", "s": "new"}
    assert manifest["metadata"]["labels"] == {"team": "ml"}
    assert manifest["metadata"]["annotations"]["workflows.argoproj.io/title"] == "Nightly"
    bad_root = {"runtimeConfig": {**job["runtimeConfig"], "gcsOutputDirectory": "ftp://host/runs"}}
    for extra, pointer in (({"name": "projects/p/pipelineJobs/j"}, "/name"), ({"owner": "me"}, ""),
                           (bad_root, "/runtimeConfig/gcsOutputDirectory")):
        with pytest.raises(TranspileError) as err:
            transpile(json.dumps({**job, **extra}), file="job.json")
        assert err.value.diagnostics[0].pointer == pointer


def test_a_pipeline_jobs_output_directory_is_the_pipeline_root():
    from conftest import GOLDEN

    spec = yaml.safe_load((GOLDEN / "artifacts_chain" / "pipeline.yaml").read_text())
    job = {"runtimeConfig": {"gcsOutputDirectory": "s3://bucket/runs"}, "pipelineSpec": spec}
    assert "key: runs/{{workflow.name}}/{{pod.name}}/data" in transpile(json.dumps(job), file="job.json")
