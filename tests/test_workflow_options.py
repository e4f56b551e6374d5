"""Manifest kinds, workflow options (flags and config file), the skeleton, and caching.

Every kind and option combination that is generated here is checked by Argo's JSON Schema and by
the lint harness (Argo's own lint plus the API server's CRD validation), so an option that
produces an inadmissible manifest fails.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import argo_lint
from argo_schema import argo_schema_errors
from conftest import GOLDEN
from transpiler import compile_document, config
from transpiler.cli import app
from transpiler.errors import UsageError
from transpiler import Options

HELLO = GOLDEN / "hello_container" / "pipeline.yaml"
TYPES = GOLDEN / "parameter_types" / "pipeline.yaml"
ARTIFACTS = GOLDEN / "artifacts_chain" / "pipeline.yaml"
CONDITIONS = GOLDEN / "conditions" / "pipeline.yaml"
CACHE_KEY = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")  # Argo's workflow/controller/cache.cacheKeyRegex

runner = CliRunner()


def invoke(*args: str, cwd: Path | None = None):
    if cwd is None:
        return runner.invoke(app, list(args))
    import os

    previous = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(app, list(args))
    finally:
        os.chdir(previous)


def compiled(*args: str, cwd: Path | None = None) -> dict:
    result = invoke("compile", *args, cwd=cwd)
    assert result.exit_code == 0, result.output
    return yaml.safe_load(result.stdout)


FULL_OPTIONS = (
    "--namespace", "ml",
    "--service-account", "runner",
    "--label", "team=search",
    "--annotation", "owner=me@example.com",
    "--artifact-repository-ref", "artifact-repositories/minio",
    "--image-pull-secret", "regcred",
    "--pod-gc", "OnPodSuccess",
    "--ttl", "86400",
    "--parallelism", "4",
    "--active-deadline-seconds", "7200",
    "--cache",
    "--cache-max-age", "24h",
)

KIND_CASES = {
    "workflow": ("--kind", "workflow"),
    "workflow-template": ("--kind", "workflow-template"),
    "cluster-workflow-template": ("--kind", "cluster-workflow-template"),
    "cron-workflow": ("--kind", "cron-workflow", "--schedule", "0 2 * * *", "--schedule", "30 14 * * 1-5",
                      "--timezone", "Europe/Berlin", "--concurrency-policy", "Forbid"),
}


def _kind_manifest(kind: str) -> dict:
    options = FULL_OPTIONS if kind != "cluster-workflow-template" else FULL_OPTIONS[2:]
    return compiled(str(TYPES), *KIND_CASES[kind], *options)


@pytest.mark.parametrize("kind", sorted(KIND_CASES))
def test_every_kind_is_valid_argo(kind):
    document = _kind_manifest(kind)
    assert document["kind"] == {"workflow": "Workflow", "workflow-template": "WorkflowTemplate",
                                "cluster-workflow-template": "ClusterWorkflowTemplate", "cron-workflow": "CronWorkflow"}[kind]
    assert argo_schema_errors(document) == []


def test_every_kind_passes_the_lint_harness(tmp_path):
    argo_lint.require_harness()
    for kind in KIND_CASES:
        (tmp_path / f"{kind}.yaml").write_text(yaml.safe_dump(_kind_manifest(kind)))
    assert argo_lint.lint([tmp_path]) == []


def test_templates_get_a_stable_name_and_workflows_a_generate_name():
    workflow = compiled(str(HELLO))
    template = compiled(str(HELLO), "--kind", "workflow-template")
    assert workflow["metadata"]["generateName"] == "hello-container-" and "name" not in workflow["metadata"]
    assert template["metadata"]["name"] == "hello-container" and "generateName" not in template["metadata"]
    assert compiled(str(HELLO), "--kind", "workflow-template", "--name", "other")["metadata"]["name"] == "other"


def test_cron_workflow_fields_and_metadata_for_started_workflows():
    document = _kind_manifest("cron-workflow")
    spec = document["spec"]
    assert spec["schedules"] == ["0 2 * * *", "30 14 * * 1-5"]
    assert (spec["timezone"], spec["concurrencyPolicy"]) == ("Europe/Berlin", "Forbid")
    assert spec["workflowMetadata"]["labels"] == {"team": "search"}
    assert spec["workflowMetadata"]["annotations"]["owner"] == "me@example.com"
    assert spec["workflowSpec"]["entrypoint"] == "parameter-types"
    assert len(document["metadata"]["name"]) <= 52


def test_cron_name_is_cut_to_argo_limit():
    text = HELLO.read_text().replace("name: hello-container", "name: " + "x" * 80, 1)
    options = Options(kind="cron-workflow", schedules=("* * * * *",))
    assert len(compile_document(text, options)["metadata"]["name"]) == 52


def test_workflow_options_reach_the_spec():
    document = _kind_manifest("workflow")
    spec = document["spec"]
    assert document["metadata"]["namespace"] == "ml"
    assert document["metadata"]["labels"] == {"team": "search"}
    assert spec["serviceAccountName"] == "runner"
    assert spec["artifactRepositoryRef"] == {"configMap": "artifact-repositories", "key": "minio"}
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    assert spec["podGC"] == {"strategy": "OnPodSuccess"}
    assert spec["ttlStrategy"] == {"secondsAfterCompletion": 86400}
    assert (spec["parallelism"], spec["activeDeadlineSeconds"]) == (4, 7200)


@pytest.mark.parametrize(
    "args, flag, message",
    [
        (("--kind", "cron-workflow"), "--schedule", "needs at least one schedule"),
        (("--schedule", "* * * * *"), "--schedule", "only applies to --kind cron-workflow"),
        (("--kind", "cluster-workflow-template", "-n", "ml"), "--namespace", "cluster-scoped"),
        (("--kind", "workflow-template", "--generate-name", "x-"), "--generate-name", "fixed name"),
        (("--pod-gc", "Never"), "--pod-gc", "Expected one of OnPodCompletion"),
        (("--kind", "cron-workflow", "--schedule", "x", "--concurrency-policy", "Sometimes"), "--concurrency-policy", "Expected one of Allow"),
        (("--artifact-repository-ref", "/key"), "", "expects CONFIGMAP or CONFIGMAP/KEY"),
    ],
)
def test_options_that_do_not_fit_are_usage_errors(args, flag, message, tmp_path):
    out = tmp_path / "wf.yaml"
    result = invoke("compile", str(HELLO), "-o", str(out), *args, cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and flag in result.stderr
    assert not out.exists()


# --- config file ---------------------------------------------------------------------------


def test_config_file_is_found_upwards_and_flags_override_it(tmp_path):
    (tmp_path / "kfp2argo.yaml").write_text(
        "namespace: ml\nlabels: {team: search, tier: batch}\npodGC: {strategy: OnPodSuccess}\nkind: workflow-template\n"
    )
    below = tmp_path / "a" / "b"
    below.mkdir(parents=True)
    document = compiled(str(HELLO), "--label", "tier=online", "-n", "prod", cwd=below)
    assert document["kind"] == "WorkflowTemplate"
    assert document["metadata"]["namespace"] == "prod"
    assert document["metadata"]["labels"] == {"team": "search", "tier": "online"}
    assert document["spec"]["podGC"] == {"strategy": "OnPodSuccess"}


def test_pyproject_table_is_a_config_and_nearest_file_wins(tmp_path):
    (tmp_path / "kfp2argo.yaml").write_text("namespace: outer\n")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.kfp2argo]\nnamespace = "inner"\nparallelism = 3\n')
    document = compiled(str(HELLO), cwd=inner)
    assert document["metadata"]["namespace"] == "inner" and document["spec"]["parallelism"] == 3
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "pyproject.toml").write_text('[project]\nname = "y"\n')  # no table: does not count
    assert compiled(str(HELLO), cwd=plain)["metadata"]["namespace"] == "outer"


def test_explicit_config_path(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text("serviceAccountName: team-runner\n")
    assert compiled(str(HELLO), "--config", str(path))["spec"]["serviceAccountName"] == "team-runner"


def test_config_problems_are_all_reported_with_line_and_key(tmp_path):
    (tmp_path / "kfp2argo.yaml").write_text(
        "namespace: ml\n"
        "labels: {team: 3}\n"
        "podGC: {strategy: OnPodSuccess, deleteDelay: 5s}\n"
        "ttlStrategy: {secondsAfterCompletion: soon}\n"
        "kind: job\n"
        "nope: 1\n"
    )
    result = invoke("compile", str(HELLO), cwd=tmp_path)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 5, lines
    assert re.search(r"kfp2argo.yaml:2:\d+: /labels/team: Expected a string", lines[0])
    assert re.search(r"kfp2argo.yaml:3:\d+: /podGC/deleteDelay: PodGC has no field 'deleteDelay'", lines[1])
    assert re.search(r"kfp2argo.yaml:4:\d+: /ttlStrategy/secondsAfterCompletion: Not a valid TTLStrategy", lines[2])
    assert re.search(r"kfp2argo.yaml:5:\d+: /kind: Expected one of workflow, ", lines[3])
    assert re.search(r"kfp2argo.yaml:6:\d+: /nope: Unknown key 'nope'", lines[4])
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "text, message",
    [
        ("labels: [\n", "not valid YAML"),
        ("- a\n", "Expected a mapping of options"),
        ("securityContext: {runAsUser: root}\n", "Not a valid PodSecurityContext"),
        ("securityContext: {runAsUsr: 1}\n", "PodSecurityContext has no field 'runAsUsr'"),
    ],
)
def test_bad_config_files(text, message, tmp_path):
    (tmp_path / "kfp2argo.yaml").write_text(text)
    result = invoke("compile", str(HELLO), cwd=tmp_path)
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_security_context_and_pod_metadata_from_config(tmp_path):
    (tmp_path / "kfp2argo.yaml").write_text(
        "securityContext: {runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000}\n"
        "podMetadata: {labels: {app: ml}, annotations: {sidecar.istio.io/inject: 'false'}}\n"
    )
    spec = compiled(str(HELLO), cwd=tmp_path)["spec"]
    assert spec["securityContext"] == {"runAsNonRoot": True, "runAsUser": 1000, "fsGroup": 2000}
    assert spec["podMetadata"] == {"labels": {"app": "ml"}, "annotations": {"sidecar.istio.io/inject": "false"}}


def test_config_values_round_trip_through_to_options():
    values = {"kind": "cron-workflow", "schedules": ["@daily"], "imagePullSecrets": ["a", "b"], "placeholders": {"x": "1"}}
    assert config.check(values) == []
    options = config.to_options(values)
    assert options.kind == "cron-workflow" and options.schedules == ("@daily",)
    assert dict(options.workflow_fields)["imagePullSecrets"] == [{"name": "a"}, {"name": "b"}]
    assert options.placeholder_values == (("x", "1"),)


# --- skeleton ------------------------------------------------------------------------------


def test_default_skeleton_writes_the_readable_annotations():
    annotations = compiled(str(HELLO))["metadata"]["annotations"]
    assert annotations["workflows.argoproj.io/description"] == "One container step."
    assert annotations["kfp2argo.io/pipeline-name"] == "hello-container"


def test_custom_skeleton_adds_metadata_and_spec_fields(tmp_path):
    (tmp_path / "skeletons").mkdir()
    (tmp_path / "skeletons" / "team.yaml.j2").write_text(
        "metadata:\n"
        "  labels:\n"
        "    owner: << pipeline.name | quote >>\n"
        "  annotations:\n"
        "    generated-from: << source | quote >>\n"
        "    kind: << kind | quote >>\n"
        "spec:\n"
        "  podDisruptionBudget: {minAvailable: 1}\n"
        "  workflowMetadata: {labels: {cost-center: '42'}}\n"
    )
    (tmp_path / "kfp2argo.yaml").write_text("skeleton: skeletons/team.yaml.j2\nkind: cron-workflow\nschedules: ['@hourly']\n")
    document = compiled(str(HELLO), cwd=tmp_path)
    assert document["metadata"]["labels"] == {"owner": "hello-container"}
    assert document["metadata"]["annotations"]["generated-from"] == str(HELLO)
    assert document["spec"]["workflowMetadata"]["labels"] == {"owner": "hello-container"}
    assert document["spec"]["workflowSpec"]["podDisruptionBudget"] == {"minAvailable": 1}
    assert "workflows.argoproj.io/description" not in document["metadata"]["annotations"]  # replaced skeleton
    assert argo_schema_errors(document) == []


@pytest.mark.parametrize(
    "skeleton, message",
    [
        ("spec:\n  entrypoint: other\n", "sets spec.entrypoint, which kfp2argo"),
        ("spec:\n  entrypont: other\n", "WorkflowSpec has no field 'entrypont'"),
        ("metadata:\n  name: x\n", "not metadata.name"),
        ("metadata:\n  annotations: {kfp2argo.io/pipeline-name: x}\n", "already sets"),
        ("kind: Pod\n", "at most the keys metadata and spec"),
        ("x: << nope >>\n", "failed to render"),
        ("<% if %>\n", "not a valid Jinja2 template"),
        ("a: [\n", "not valid YAML"),
    ],
)
def test_a_skeleton_cannot_change_the_generated_body(skeleton, message, tmp_path):
    path = tmp_path / "s.j2"
    path.write_text(skeleton)
    (tmp_path / "kfp2argo.yaml").write_text(f"skeleton: {path.name}\n")
    out = tmp_path / "wf.yaml"
    result = invoke("compile", str(HELLO), "-o", str(out), cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "s.j2" in result.stderr
    assert not out.exists()


def test_skeleton_leaves_argo_braces_alone(tmp_path):
    (tmp_path / "s.j2").write_text("metadata:\n  annotations:\n    run: '{{workflow.name}}'\n")
    document = compile_document(HELLO.read_bytes(), Options(skeleton=str(tmp_path / "s.j2")))
    assert document["metadata"]["annotations"]["run"] == "{{workflow.name}}"


# --- caching -------------------------------------------------------------------------------


def _templates(document: dict) -> dict[str, dict]:
    spec = document["spec"].get("workflowSpec", document["spec"])
    return {t["name"]: t for t in spec["templates"]}


def test_no_memoization_unless_asked():
    assert not any("memoize" in t for t in _templates(compiled(str(TYPES))).values())
    assert not any("memoize" in t for t in _templates(compiled(str(TYPES), "--cache", "--no-cache")).values())


def test_cache_flag_memoizes_cached_tasks_without_input_artifacts():
    templates = _templates(compiled(str(ARTIFACTS), "--cache", "--cache-config-map", "ml-cache"))
    containers = {name: t for name, t in templates.items() if "container" in t}
    assert containers
    for name, template in containers.items():
        has_artifacts = bool(template.get("inputs", {}).get("artifacts"))
        if has_artifacts:
            assert "memoize" not in template, name
        else:
            assert template["memoize"]["cache"] == {"configMap": {"name": "ml-cache"}}
            assert template["memoize"]["maxAge"] == ""
    assert any("memoize" in t for t in containers.values()) and any("memoize" not in t for t in containers.values())


def test_tasks_with_caching_disabled_in_the_ir_are_not_memoized():
    text = TYPES.read_text().replace("enableCache: true", "enableCache: false")
    document = compile_document(text, Options(cache=True))
    assert not any("memoize" in t for t in _templates(document).values())


def _keyed_template(document: dict) -> dict:
    return next(t for t in _templates(document).values() if "memoize" in t and t.get("inputs", {}).get("parameters"))


def test_memoization_key_is_a_valid_argo_cache_key_for_any_input():
    template = _keyed_template(compile_document(CONDITIONS.read_bytes(), Options(cache=True)))
    names = [p["name"] for p in template["inputs"]["parameters"]]
    key = template["memoize"]["key"]
    tricky = ["plain", "a b", "quote ' \" ", "{{workflow.name}}", "ünï", "", "x" * 5000, "<&>"]
    requests = [
        {"text": key, "scope": {f"inputs.parameters.{n}": value for n in names}, "strict": "all"} for value in tricky
    ]
    answers = argo_lint.evaluate(requests)
    keys = [a.get("text") for a in answers]
    assert all(k and CACHE_KEY.match(k) and len(k) <= 253 for k in keys), answers
    assert len(set(keys)) == len(tricky)  # different inputs, different keys
    again = argo_lint.evaluate(requests[:1])[0]["text"]
    assert again == keys[0]
    digest = hashlib.sha256(json.dumps(["plain"] * len(names), separators=(",", ":")).encode()).hexdigest()
    assert keys[0].endswith("-" + digest)


def test_memoization_key_changes_with_the_component():
    one = _keyed_template(compile_document(CONDITIONS.read_bytes(), Options(cache=True)))
    changed = CONDITIONS.read_text().replace("image: python:3.11", "image: python:3.12")
    assert changed != CONDITIONS.read_text()
    two = _templates(compile_document(changed, Options(cache=True)))[one["name"]]
    assert one["memoize"]["key"].split("-")[1] != two["memoize"]["key"].split("-")[1]


def test_options_error_is_a_usage_error():
    with pytest.raises(UsageError):
        compile_document(HELLO.read_bytes(), Options(kind="cron-workflow"))


# --- pipeline root -------------------------------------------------------------------------


def _output_artifacts(document: dict) -> list[dict]:
    return [a for t in _templates(document).values() for a in t.get("outputs", {}).get("artifacts", [])]


@pytest.mark.parametrize(
    "root, field, prefix",
    [
        ("s3://ml-bucket/pipelines/runs/", "s3", "pipelines/runs/"),
        ("minio://mlpipeline/v2/artifacts", "s3", "v2/artifacts/"),
        ("gs://vertex-bucket/root", "gcs", "root/"),
        ("s3://only-a-bucket", "s3", ""),
    ],
)
def test_pipeline_root_places_output_artifacts_under_its_path(root, field, prefix):
    document = compiled(str(ARTIFACTS), "--pipeline-root", root)
    artifacts = _output_artifacts(document)
    assert artifacts
    for artifact in artifacts:
        assert artifact[field] == {"key": f"{prefix}{{{{workflow.name}}}}/{{{{pod.name}}}}/{artifact['name']}"}
    assert argo_schema_errors(document) == []


def test_pipeline_root_manifest_passes_the_lint_harness(tmp_path):
    argo_lint.require_harness()
    for name, root in (("s3", "s3://b/p"), ("gs", "gs://b/p")):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(compiled(str(ARTIFACTS), "--pipeline-root", root)))
    assert argo_lint.lint([tmp_path]) == []


def test_without_pipeline_root_the_repository_keys_apply():
    assert all(set(a) == {"name", "path", "archive", "optional"} for a in _output_artifacts(compiled(str(ARTIFACTS))))


def test_unmappable_pipeline_root_is_an_error(tmp_path):
    result = invoke("compile", str(ARTIFACTS), "--pipeline-root", "https://example.com/x", cwd=tmp_path)
    assert result.exit_code == 2 and "has no Argo artifact location" in result.stderr
    text = ARTIFACTS.read_text().replace("pipelineInfo:", "defaultPipelineRoot: oci://registry/x\npipelineInfo:", 1)
    source = tmp_path / "p.yaml"
    source.write_text(text)
    result = invoke("compile", str(source), cwd=tmp_path)
    assert result.exit_code == 1 and "/defaultPipelineRoot: The pipeline root 'oci://registry/x'" in result.stderr


def test_ir_default_pipeline_root_is_used_and_the_flag_wins():
    text = ARTIFACTS.read_text().replace("pipelineInfo:", "defaultPipelineRoot: s3://b/from-ir\npipelineInfo:", 1)
    keys = {a["s3"]["key"].split("/")[0] for a in _output_artifacts(compile_document(text))}
    assert keys == {"from-ir"}
    keys = {a["s3"]["key"].split("/")[0] for a in _output_artifacts(compile_document(text, Options(pipeline_root="s3://b/flag")))}
    assert keys == {"flag"}


def test_placeholder_values_given_by_the_user_survive_kubernetes_expansion():
    ir_text = (
        "pipelineInfo: {name: p}\n"
        "components: {comp-echo: {executorLabel: exec-echo}}\n"
        "deploymentSpec: {executors: {exec-echo: {container: {image: alpine, command: [echo],"
        " args: ['{{$.pipeline_google_cloud_project_id}}', '{{$.pipeline_root}}']}}}}\n"
        "root: {dag: {tasks: {echo: {componentRef: {name: comp-echo}, taskInfo: {name: echo}}}}}\n"
    )
    options = Options(placeholder_values=(("pipeline_google_cloud_project_id", "a$(HOME)$$b"),), pipeline_root="s3://b/p$x")
    args = _templates(compile_document(ir_text, options))["comp-echo"]["container"]["args"]
    # Kubernetes turns "$$" into "$" and leaves "$(" after "$$" alone, so these arrive as given.
    assert args == ["a$$(HOME)$$$$b", "s3://b/p$$x"]


def test_kfp_run_time_options_from_config_and_flags(tmp_path):
    # What KFP's API server or a run supplies: the default workspace spec (config), pipeline input
    # artifacts (a flag per pipeline, as -p), the scheme of importer URIs known at run time.
    (tmp_path / "kfp2argo.yaml").write_text(
        "defaultWorkspace: {accessModes: [ReadWriteMany], storageClassName: nfs}\n"
    )
    workspace = str(GOLDEN / "run_workspace" / "pipeline.yaml")
    documents = list(yaml.safe_load_all(Path(workspace).read_text()))
    documents[1]["platforms"]["kubernetes"]["pipelineConfig"]["workspace"].pop("kubernetes")
    source = tmp_path / "ws.yaml"
    source.write_text(yaml.safe_dump_all(documents))
    [claim] = compiled(str(source), cwd=tmp_path)["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"] and claim["spec"]["storageClassName"] == "nfs"
    artifacts = str(GOLDEN / "run_input_artifact" / "pipeline.yaml")
    flagged = compiled(artifacts, "--input-artifact", "data=s3://other/flag.csv", cwd=tmp_path)["spec"]["arguments"]["artifacts"][0]
    assert flagged["s3"]["bucket"] == "other" and flagged["s3"]["key"] == "flag.csv"
    importer = str(GOLDEN / "run_importer_uri" / "pipeline.yaml")
    assert invoke("compile", importer, cwd=tmp_path).exit_code == 1  # the scheme is unknown
    assert compiled(importer, "--importer-scheme", "gs", cwd=tmp_path)["kind"] == "Workflow"


@pytest.mark.parametrize("text, message", [
    ("defaultWorkspace: {accessMode: [ReadWriteOnce]}\n", "PersistentVolumeClaimSpec has no field 'accessMode'"),
    ("importerScheme: ftp\n", "Expected one of gs, s3, minio, http, https"),
])
def test_bad_kfp_run_time_options(text, message, tmp_path):
    (tmp_path / "kfp2argo.yaml").write_text(text)
    result = invoke("compile", str(HELLO), cwd=tmp_path)
    assert result.exit_code == 2 and message in result.stderr, result.output


@pytest.mark.parametrize("schedule, message", [
    ("0 0 2 * * *", "Drop the seconds field: '0 2 * * *'"),  # KFP's cron with seconds
    ("every day", "is not a cron expression Argo reads"),
    ("0 2 * *", "is not a cron expression Argo reads"),
])
def test_a_schedule_argo_cannot_read_is_a_usage_error(schedule, message, tmp_path):
    result = invoke("compile", str(HELLO), "--kind", "cron-workflow", "--schedule", schedule, "-o", str(tmp_path / "c.yaml"))
    assert result.exit_code == 2 and message in result.stderr and not (tmp_path / "c.yaml").exists()


@pytest.mark.parametrize("schedule", ["0 2 * * *", "*/5 9-17 * * MON-FRI", "@daily", "@every 1h30m"])
def test_schedules_argo_reads_are_accepted(schedule):
    assert compiled(str(HELLO), "--kind", "cron-workflow", "--schedule", schedule)["spec"]["schedules"] == [schedule]


def test_help_shows_what_each_option_takes():
    result = invoke("compile", "--help")
    assert "list[str]" not in result.output and "<str>" not in result.output.split("Options:")[-1]
    assert "-p, --parameter NAME=VALUE" in result.output
