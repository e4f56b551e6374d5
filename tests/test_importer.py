"""dsl.importer: no pod of its own; each consumer gets the artifact's location (gcs, s3, key-only
s3 for minio://; http(s) is not downloaded, as on KFP) as its argument, its metadata and original URI in the metadata
companion; run-time URIs are split by expressions that Argo evaluates (tools/argo-harness argo-eval).
The launcher side (KFP's executor sees the URI, ``.path`` reads the download) is in
test_launcher.py.
"""

from __future__ import annotations

import json

import pytest
import yaml

from argo_lint import evaluate, require_harness
from conftest import GOLDEN
from transpiler import UnsupportedFeature, transpile, wire


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((GOLDEN / "importer" / "workflow.yaml").read_text(encoding="utf-8"))


def templates(manifest: dict) -> dict[str, dict]:
    return {t["name"]: t for t in manifest["spec"]["templates"]}


def root_tasks(manifest: dict) -> dict[str, dict]:
    return {t["name"]: t for t in templates(manifest)["importer"]["dag"]["tasks"]}


def only_artifact(task: dict) -> dict:
    [artifact] = task["arguments"]["artifacts"]
    return artifact


def parameter(task: dict, name: str) -> str:
    return next(p["value"] for p in task["arguments"]["parameters"] if p["name"] == name)


def render(texts: list[str], scope: dict[str, str]) -> list[str]:
    answers = evaluate([{"text": t, "scope": scope} for t in texts])
    assert all("error" not in a for a in answers), answers
    return [a["text"] for a in answers]


def test_importers_are_not_argo_tasks(manifest):
    tasks = root_tasks(manifest)
    assert set(tasks) == {"describe", "locate", "copy-model", "inner-describe"}
    assert all("depends" not in t for t in tasks.values())  # the importers waited for nothing


def test_constant_gs_uri_with_metadata_placeholder(manifest):
    require_harness()
    task = root_tasks(manifest)["describe"]
    artifact = only_artifact(task)
    assert artifact["gcs"] == {"bucket": "ml-pipeline-playground", "key": "shakespeare1.txt"}
    assert artifact["archive"] == {"none": {}}  # the object as it is, never untarred
    assert "from" not in artifact
    [companion] = render([parameter(task, "kfp2argo-meta-data")], {"workflow.parameters.owner": "data-team"})
    assert wire.decode_typed(companion, "STRUCT") == {
        "owner": "data-team", "source": "gcs", "kfp2argo:uri": "gs://ml-pipeline-playground/shakespeare1.txt",
    }
    [escaped] = render([parameter(task, "kfp2argo-meta-data")], {"workflow.parameters.owner": "{{x}} é😀"})
    assert wire.decode_typed(escaped, "STRUCT")["owner"] == "{{x}} é😀"
    describe = templates(manifest)[task["template"]]
    assert {"name": "kfp2argo-gcs", "mountPath": "/gcs"} in describe["container"]["volumeMounts"]


def test_https_uri_is_not_downloaded_as_on_kfp(manifest):
    task = root_tasks(manifest)["locate"]
    assert "artifacts" not in task["arguments"]  # KFP's launcher downloads gs://, s3:// and minio:// only
    assert json.loads(parameter(task, "kfp2argo-meta-data")) == {"kfp2argo:uri": "https://example.com/data/page.html"}
    assert "volumeMounts" not in templates(manifest)[task["template"]]["container"]  # only the outputs (templateDefaults)


def test_s3_uri_from_a_parameter_is_split_at_run_time(manifest):
    require_harness()
    task = root_tasks(manifest)["copy-model"]
    s3 = only_artifact(task)["s3"]
    assert s3["endpoint"] == "s3.amazonaws.com" and s3["useSDKCreds"] is True
    texts = [s3["bucket"], s3["key"], parameter(task, "kfp2argo-uri-model")]
    bucket, key, uri = render(texts, {"workflow.parameters.model_uri": "s3://other-bucket/a/b c/ü.bin"})
    assert (bucket, key, uri) == ("other-bucket", "a/b c/ü.bin", "s3://other-bucket/a/b c/ü.bin")
    for wrong in ("gs://b/k", "s3://only-bucket", "s3:///k", "kfp2argo:none"):
        bucket, key, _ = render(texts, {"workflow.parameters.model_uri": wrong})
        assert bucket.startswith("kfp2argo:error:") and key.startswith("kfp2argo:error:"), wrong


def test_container_component_reads_the_original_uri_and_the_downloaded_path(manifest):
    copy = templates(manifest)[root_tasks(manifest)["copy-model"]["template"]]
    uri = "{{=sprig.replace('$', '$$', inputs.parameters['kfp2argo-uri-model'])}}"  # "$" doubled for Kubernetes
    assert copy["container"]["args"] == [uri, "/kfp2argo/inputs/artifacts/model"]


def test_minio_uri_is_key_only_and_reaches_a_sub_pipeline(manifest):
    task = root_tasks(manifest)["inner-describe"]
    assert only_artifact(task)["s3"] == {"key": "datasets/iris.csv"}  # bucket and credentials: the repository
    assert json.loads(parameter(task, "kfp2argo-meta-data")) == {"kfp2argo:uri": "minio://mlpipeline/datasets/iris.csv"}
    inner = templates(manifest)["comp-inner-describe"]
    [inner_task] = inner["dag"]["tasks"]
    assert only_artifact(inner_task)["from"] == "{{inputs.artifacts.data}}"
    consumer = templates(manifest)[inner_task["template"]]
    assert {"name": "kfp2argo-minio", "mountPath": "/minio"} in consumer["container"]["volumeMounts"]


# ---- errors ---------------------------------------------------------------------------------


def _pipeline(uri_spec: str, uri_binding: str, root_inputs: str = "", consumer_outputs: str = "") -> str:
    return f"""
pipelineInfo: {{name: p}}
components:
  comp-importer:
    executorLabel: exec-importer
    inputDefinitions: {{parameters: {{uri: {{parameterType: STRING}}}}}}
    outputDefinitions: {{artifacts: {{artifact: {{artifactType: {{schemaTitle: system.Dataset, schemaVersion: 0.0.1}}}}}}}}
  comp-use:
    executorLabel: exec-use
    inputDefinitions: {{artifacts: {{d: {{artifactType: {{schemaTitle: system.Dataset, schemaVersion: 0.0.1}}}}}}}}
deploymentSpec:
  executors:
    exec-importer: {{importer: {{artifactUri: {uri_spec}, typeSchema: {{schemaTitle: system.Dataset, schemaVersion: 0.0.1}}}}}}
    exec-use: {{container: {{image: alpine, command: [cat, "{{{{$.inputs.artifacts['d'].path}}}}"]}}}}
root:
  dag:
    tasks:
      importer: {{componentRef: {{name: comp-importer}}, taskInfo: {{name: importer}}, inputs: {{parameters: {{uri: {uri_binding}}}}}}}
      use:
        componentRef: {{name: comp-use}}
        taskInfo: {{name: use}}
        dependentTasks: [importer]
        inputs: {{artifacts: {{d: {{taskOutputArtifact: {{producerTask: importer, outputArtifactKey: artifact}}}}}}}}
{consumer_outputs}{root_inputs}"""


def test_an_unsupported_scheme_is_a_located_error():
    text = _pipeline("{constant: 'oci://registry/model:1'}", "{runtimeValue: {constant: 'oci://registry/model:1'}}")
    with pytest.raises(UnsupportedFeature) as caught:
        transpile(text, file="p.yaml")
    [problem] = caught.value.diagnostics
    assert problem.pointer == "/deploymentSpec/executors/exec-importer/importer/artifactUri" and problem.line == 13
    assert "oci://registry/model:1" in problem.message


def test_a_uri_without_a_compile_time_scheme_is_a_located_error():
    text = _pipeline("{runtimeParameter: uri}", "{componentInputParameter: u}", "  inputDefinitions: {parameters: {u: {parameterType: STRING}}}\n")
    with pytest.raises(UnsupportedFeature) as caught:
        transpile(text, file="p.yaml")
    [problem] = caught.value.diagnostics
    assert "scheme is unknown at compile time" in problem.message
    with_default = text.replace("{parameterType: STRING}}}", "{parameterType: STRING, defaultValue: 'gs://b/k'}}}")
    manifest = yaml.safe_load(transpile(with_default, file="p.yaml"))
    [use] = manifest["spec"]["templates"][0]["dag"]["tasks"]
    assert set(use["arguments"]["artifacts"][0]["gcs"]) == {"bucket", "key"}


def test_an_importer_artifact_as_a_pipeline_output_is_a_located_error():
    outputs = "    outputs: {artifacts: {out: {artifactSelectors: [{producerSubtask: importer, outputArtifactKey: artifact}]}}}\n"
    text = _pipeline("{constant: 'gs://b/k'}", "{runtimeValue: {constant: 'gs://b/k'}}", consumer_outputs=outputs)
    text = text.replace("root:\n", "root:\n  outputDefinitions: {artifacts: {out: {artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}}}}\n")
    with pytest.raises(UnsupportedFeature) as caught:
        transpile(text, file="p.yaml")
    assert [d.pointer for d in caught.value.diagnostics] == ["/root/dag/outputs/artifacts/out"]


def test_a_container_reading_the_path_of_an_http_import_is_refused():
    data = yaml.safe_load((GOLDEN / "importer" / "pipeline.yaml").read_text(encoding="utf-8"))
    tasks = data["root"]["dag"]["tasks"]
    tasks["copy-model"]["inputs"]["artifacts"]["model"]["taskOutputArtifact"]["producerTask"] = "importer-3"
    with pytest.raises(UnsupportedFeature) as err:
        transpile(yaml.safe_dump(data), file="p.yaml")
    [diagnostic] = err.value.diagnostics
    assert diagnostic.pointer == "/root/dag/tasks/copy-model/inputs/artifacts/model"
    assert "leaves this placeholder unresolved" in diagnostic.message
