"""The Kubernetes platform spec (kfp-kubernetes): every feature's Kubernetes object in the
generated manifest, run-time values bound by the DAG task, pod spec patches and PVC manifests as
Argo renders them (tools/argo-harness argo-eval), and located errors for what has no mapping.

Expected objects come from what kfp-kubernetes documents and KFP's driver builds
(backend/src/v2/driver/k8s.go), never from the generated text.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from argo_lint import evaluate, require_harness
from conftest import GOLDEN, require_corpus
from transpiler import InputSchemaError, UnsupportedFeature, transpile, wire


def workflow(case: str) -> dict:
    return yaml.safe_load((GOLDEN / case / "workflow.yaml").read_text(encoding="utf-8"))


def template(manifest: dict, name: str) -> dict:
    return next(t for t in manifest["spec"]["templates"] if t["name"] == name)


def task(manifest: dict, dag: str, name: str) -> dict:
    return next(t for t in template(manifest, dag)["dag"]["tasks"] if t["name"] == name)


def argument(dag_task: dict, name: str) -> str:
    return next(p["value"] for p in dag_task["arguments"]["parameters"] if p["name"] == name)


def env(tmpl: dict, name: str) -> dict:
    return next(e for e in tmpl["container"]["env"] if e["name"] == name)


def volume_at(tmpl: dict, mount_path: str) -> tuple[dict, dict]:
    """The (volume, volumeMount) pair that puts something at mount_path."""
    mount = next(m for m in tmpl["container"]["volumeMounts"] if m["mountPath"] == mount_path)
    volume = next(v for v in tmpl["volumes"] if v["name"] == mount["name"])
    return volume, mount


def render(text: str, scope: dict[str, str]) -> str:
    """``text`` (a template field) as Argo renders it with ``scope``."""
    [answer] = evaluate([{"text": text, "scope": scope, "strict": "all"}])
    assert "error" not in answer, answer
    return answer["text"]


# ---- secrets, config maps, field paths, image pull secrets --------------------------------


@pytest.fixture(scope="module")
def secrets() -> dict:
    return workflow("platform_secrets")


def test_secret_and_config_map_env(secrets):
    show = template(secrets, "comp-show-env")
    assert env(show, "DB_PASSWORD")["valueFrom"] == {"secretKeyRef": {"name": "db-creds", "key": "password", "optional": False}}
    assert env(show, "API_TOKEN")["valueFrom"]["secretKeyRef"]["key"] == "token"
    level = env(show, "LOG_LEVEL")["valueFrom"]["configMapKeyRef"]
    assert level["key"] == "level" and level["optional"] is True
    assert env(show, "POD_NAME")["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}


def test_names_from_a_parameter_and_a_task_output_are_bound_by_the_task(secrets):
    show = template(secrets, "comp-show-env")
    dag_task = task(secrets, "platform-secrets", "show-env")
    level = env(show, "LOG_LEVEL")["valueFrom"]["configMapKeyRef"]["name"]
    from_task = env(show, "FROM_TASK")["valueFrom"]["secretKeyRef"]["name"]
    assert argument(dag_task, level[len("{{inputs.parameters."):-2]) == "{{workflow.parameters.config_name}}"
    assert argument(dag_task, from_task[len("{{inputs.parameters."):-2]) == "{{tasks.secret-name.outputs.parameters.Output}}"
    assert dag_task["depends"] == "secret-name"


def test_secret_and_config_map_volumes(secrets):
    files = template(secrets, "comp-list-files")
    volume, _ = volume_at(files, "/etc/creds")
    assert volume["secret"] == {"secretName": "db-creds", "optional": False}
    volume, _ = volume_at(files, "/etc/config")
    assert volume["configMap"]["name"] == "{{inputs.parameters.kfp2argo-config-map-0}}"
    assert volume["configMap"]["optional"] is False  # KFP's driver: unset means not optional


def test_image_pull_secrets_go_into_the_pod_spec_patch(secrets):
    show = json.loads(template(secrets, "comp-show-env")["podSpecPatch"].split(',"imagePullSecrets":')[1][:-1])
    assert show == [{"name": "registry-creds"}]
    files = template(secrets, "comp-list-files")["podSpecPatch"]
    assert '"imagePullSecrets":[{"name":"{{inputs.parameters.kfp2argo-image-pull-secret-0}}"}]' in files


def test_an_absent_optional_secret_is_left_out_and_a_given_one_is_used(secrets):
    """KFP's driver skips a secret whose name is an optional input nobody supplied."""
    require_harness()
    show, files = template(secrets, "comp-show-env"), template(secrets, "comp-list-files")
    assert "EXTRA" not in {e["name"] for e in show["container"]["env"]}
    assert "/etc/extra" not in {m["mountPath"] for m in files["container"]["volumeMounts"]}
    base = {"inputs.parameters.kfp2argo-config-map-0": "app-config", "inputs.parameters.kfp2argo-image-pull-secret-0": "app-config"}
    absent = dict(base, **{"inputs.parameters.kfp2argo-secret-0": "kfp2argo:none"})
    given = dict(base, **{"inputs.parameters.kfp2argo-secret-0": "extra-creds"})
    assert json.loads(render(show["podSpecPatch"], absent))["containers"] == [{"env": [], "name": "main"}]
    assert json.loads(render(show["podSpecPatch"], given))["containers"][0]["env"] == [
        {"name": "EXTRA", "valueFrom": {"secretKeyRef": {"key": "extra", "name": "extra-creds", "optional": True}}}
    ]
    patch = json.loads(render(files["podSpecPatch"], absent))
    assert patch["volumes"] == [] and patch["containers"][0]["volumeMounts"] == []
    patch = json.loads(render(files["podSpecPatch"], given))
    [volume] = patch["volumes"]
    assert volume["secret"] == {"secretName": "extra-creds", "optional": True}
    assert patch["containers"][0]["volumeMounts"] == [{"mountPath": "/etc/extra", "name": volume["name"]}]


# ---- volumes ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def volumes() -> dict:
    return workflow("platform_volumes")


def test_create_pvc_is_a_resource_template_that_outputs_the_claim_name(volumes):
    create = template(volumes, "comp-createpvc")
    assert create["resource"]["action"] == "create"
    assert "successCondition" not in create["resource"]  # create returns once the claim exists
    assert create["outputs"]["parameters"] == [{"name": "name", "valueFrom": {"jsonPath": "{.metadata.name}"}}]


def test_create_pvc_manifest_as_argo_renders_it(volumes):
    require_harness()
    create = template(volumes, "comp-createpvc")
    dag_task = task(volumes, "platform-volumes", "createpvc")
    scope = {f"inputs.parameters.{p['name']}": p.get("default", "") for p in create["inputs"]["parameters"]}
    scope.update({f"inputs.parameters.{p['name']}": p["value"] for p in dag_task["arguments"]["parameters"]})
    scope["workflow.name"] = "run-x1"
    claim = yaml.safe_load(render(create["resource"]["manifest"], scope))
    assert claim["kind"] == "PersistentVolumeClaim" and claim["apiVersion"] == "v1"
    assert claim["metadata"]["name"] == "run-x1-work"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"] == {"requests": {"storage": "1Gi"}}
    assert claim["spec"]["storageClassName"] == "standard"
    assert claim["spec"]["dataSource"] is None and claim["metadata"]["annotations"] is None  # null: unset

    scope.update({"inputs.parameters.pvc_name_suffix": "kfp2argo:none", "inputs.parameters.storage_class_name": "kfp2argo:none"})
    claim = yaml.safe_load(render(create["resource"]["manifest"], scope))
    assert claim["metadata"]["name"] is None and claim["metadata"]["generateName"] == "run-x1-"
    assert claim["spec"]["storageClassName"] is None  # the cluster's default, as the SDK documents None
    scope.update({"inputs.parameters.pvc_name": "fixed", "inputs.parameters.pvc_name_suffix": "-x"})
    claim = yaml.safe_load(render(create["resource"]["manifest"], scope))
    assert claim["metadata"]["name"].startswith("kfp2argo:error:")  # KFP refuses both too


def test_delete_pvc_runs_after_every_task_that_mounts_the_claim(volumes):
    require_harness()
    delete = template(volumes, "comp-deletepvc")
    assert delete["resource"]["action"] == "delete"
    # KFP fails on a missing claim, and does not wait for the claim's finalizer (pods that mounted it).
    assert delete["resource"]["flags"] == ["--ignore-not-found=false", "--wait=false"]
    assert "outputs" not in delete  # a delete with outputs fails at run time
    rendered = yaml.safe_load(render(delete["resource"]["manifest"], {"inputs.parameters.pvc_name": "run-x1-work"}))
    assert rendered == {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "run-x1-work"}}
    dag_task = task(volumes, "platform-volumes", "deletepvc")
    # read-file by .after(); write-file and the loop because they mount the claim.
    assert set(dag_task["depends"].split(" && ")) == {"createpvc", "read-file", "write-file", "for-loop-2"}


def test_mount_of_the_created_claim(volumes):
    writer = template(volumes, "comp-write-file")
    volume, mount = volume_at(writer, "/data")
    assert volume["persistentVolumeClaim"] == {"claimName": "{{inputs.parameters.kfp2argo-pvc-0}}"}
    assert argument(task(volumes, "platform-volumes", "write-file"), "kfp2argo-pvc-0") == "{{tasks.createpvc.outputs.parameters.name}}"
    looped = task(volumes, "comp-for-loop-2-iteration", "read-file-2")
    assert argument(looped, "kfp2argo-pvc-0") == "{{inputs.parameters.pipelinechannel--createpvc-name}}"


def test_existing_claim_ephemeral_volume_and_empty_dir(volumes):
    scratch = template(volumes, "comp-scratch")
    volume, mount = volume_at(scratch, "/shared")
    assert volume["persistentVolumeClaim"]["claimName"] == "{{inputs.parameters.kfp2argo-pvc-0}}"
    assert mount["subPath"] == "team-a"
    assert argument(task(volumes, "platform-volumes", "scratch"), "kfp2argo-pvc-0") == "{{workflow.parameters.existing_claim}}"
    volume, _ = volume_at(scratch, "/scratch")
    claim = volume["ephemeral"]["volumeClaimTemplate"]
    assert claim["metadata"] == {"labels": {"team": "ml"}}
    assert claim["spec"] == {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}
    volume, _ = volume_at(scratch, "/cache")
    assert volume == {"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}}


# ---- scheduling and pod settings ----------------------------------------------------------


@pytest.fixture(scope="module")
def scheduling() -> dict:
    return workflow("platform_scheduling")


def test_static_scheduling_and_pod_settings(scheduling):
    static = template(scheduling, task(scheduling, "platform-scheduling", "static")["template"])
    assert static["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}
    assert static["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoExecute", "tolerationSeconds": 60}
    ]
    node = static["affinity"]["nodeAffinity"]
    assert node["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "disktype", "operator": "In", "values": ["ssd"]}]}
    ]
    assert node["preferredDuringSchedulingIgnoredDuringExecution"] == [
        {"weight": 20, "preference": {"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["z9"]}]}}
    ]
    assert static["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == [
        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "cache"}}}
    ]
    [anti] = static["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert anti["weight"] == 50 and anti["podAffinityTerm"]["topologyKey"] == "topology.kubernetes.io/zone"
    assert static["container"]["imagePullPolicy"] == "Always"
    assert static["container"]["securityContext"] == {"runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": True}
    assert static["metadata"]["labels"] == {"team": "ml"}
    assert static["metadata"]["annotations"]["owner"] == "data-science"
    assert static["activeDeadlineSeconds"] == 600


def test_run_time_selector_tolerations_and_affinity(scheduling):
    """JSON from pipeline parameters, plus the constant terms: KFP's driver uses the JSON
    selector alone, appends tolerations and merges the affinity terms."""
    require_harness()
    dag_task = task(scheduling, "platform-scheduling", "dynamic")
    dynamic = template(scheduling, dag_task["template"])
    assert "nodeSelector" not in dynamic and "tolerations" not in dynamic and "affinity" not in dynamic
    submitted = {
        "pool": wire.wire_value({"pool": "gpu"}, "STRUCT"),
        "gpu_tolerations": wire.wire_value([{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}], "LIST"),
        "zone_affinity": wire.wire_value({"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["eu-west-1a"]}]}]}}, "STRUCT"),
    }
    scope = {}
    for parameter in dag_task["arguments"]["parameters"]:
        value = parameter["value"]
        if value.startswith("{{workflow.parameters."):
            value = submitted[value[len("{{workflow.parameters."):-2]]
        scope[f"inputs.parameters.{parameter['name']}"] = value
    patch = json.loads(render(dynamic["podSpecPatch"], scope))
    assert patch["nodeSelector"] == {"pool": "gpu"}
    assert patch["tolerations"] == [
        {"key": "dedicated", "operator": "Exists"},
        {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"},
    ]
    assert patch["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "disktype", "operator": "In", "values": ["ssd"]}]},
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["eu-west-1a"]}]},
    ]
    # One toleration object instead of a list, an empty one (KFP ignores it), a broken value.
    one = dict(scope, **{"inputs.parameters.kfp2argo-toleration-0": '{"key":"a","operator":"Exists"}'})
    assert json.loads(render(dynamic["podSpecPatch"], one))["tolerations"][1:] == [{"key": "a", "operator": "Exists"}]
    empty = dict(scope, **{"inputs.parameters.kfp2argo-toleration-0": "{}"})
    assert json.loads(render(dynamic["podSpecPatch"], empty))["tolerations"] == [{"key": "dedicated", "operator": "Exists"}]
    broken = dict(scope, **{"inputs.parameters.kfp2argo-node-selector-0": "not json"})
    assert json.loads(render(dynamic["podSpecPatch"], broken))["nodeSelector"].startswith("kfp2argo:error:")


def test_absent_json_values_add_nothing():
    """An optional STRUCT/LIST parameter nobody supplied: KFP's driver skips the entry; the patch
    keeps every list (a null would delete the container's own env and volumes)."""
    require_harness()
    manifest = yaml.safe_load(transpile(_ir(_SCHEDULING_OPTIONAL, _SCHEDULING_OPTIONAL_PARAMETERS), file="optional.yaml"))
    comp = next(t for t in manifest["spec"]["templates"] if "podSpecPatch" in t)
    scope = {f"inputs.parameters.{p['name']}": "kfp2argo:none" for p in comp["inputs"]["parameters"]}
    patch = json.loads(render(comp["podSpecPatch"], scope))
    assert patch["nodeSelector"] == {} and patch["tolerations"] == []
    assert patch["affinity"]["nodeAffinity"] == {
        "requiredDuringSchedulingIgnoredDuringExecution": None, "preferredDuringSchedulingIgnoredDuringExecution": None,
    }


# ---- the corpus ---------------------------------------------------------------------------


CORPUS_OBJECTS = {
    "toleration.yaml": lambda t: t["tolerations"] == [
        {"key": "key1", "operator": "Equal", "value": "value1", "effect": "NoExecute", "tolerationSeconds": 10}
    ],
    "timeout.yaml": lambda t: t["activeDeadlineSeconds"] == 20,
    "node_selector.yaml": lambda t: t["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-tesla-p4"},
    "security_context.yaml": lambda t: t["container"]["securityContext"] == {"runAsUser": 65534, "runAsGroup": 0},
    "field_path_as_env.yaml": lambda t: env(t, "KFP_RUN_NAME")["valueFrom"]["fieldRef"]["fieldPath"]
    == "metadata.annotations['pipelines.kubeflow.org/run_name']",
    "secret_as_env.yaml": lambda t: env(t, "SECRET_VAR")["valueFrom"]["secretKeyRef"]["name"] == "my-secret",
    "secret_as_vol.yaml": lambda t: volume_at(t, "/mnt/my_vol")[0]["secret"] == {"secretName": "my-secret", "optional": False},
    "config_map_as_env.yaml": lambda t: env(t, "CONFIG_MAP_VAR")["valueFrom"]["configMapKeyRef"]["name"] == "my-cm",
    "config_map_as_vol.yaml": lambda t: volume_at(t, "/mnt/my_vol")[0]["configMap"]["name"] == "my-cm",
    "empty_dir_mounts.yaml": lambda t: volume_at(t, "/mnt/my_vol_1")[0]["emptyDir"] == {"medium": "Memory", "sizeLimit": "1Gi"},
    "general_ephemeral_volume.yaml": lambda t: volume_at(t, "path")[0]["ephemeral"]["volumeClaimTemplate"]["metadata"]
    == {"annotations": {"annotation1": "a1"}},
    "image_pull_secrets.yaml": lambda t: '"imagePullSecrets":[{"name":"my-secret"}]' in t["podSpecPatch"],
}


@pytest.mark.parametrize("name", sorted(CORPUS_OBJECTS))
def test_corpus_kubernetes_objects(name):
    path = require_corpus() / "kfp-ir" / "kubernetes" / name
    manifest = yaml.safe_load(transpile(path.read_bytes(), file=name))
    [comp] = [t for t in manifest["spec"]["templates"] if "container" in t]
    assert CORPUS_OBJECTS[name](comp)


def test_corpus_node_affinity_json_constants():
    path = require_corpus() / "kfp-ir" / "kubernetes" / "nodeaffinity.yaml"
    manifest = yaml.safe_load(transpile(path.read_bytes(), file="nodeaffinity.yaml"))
    affinities = {t["name"]: t.get("affinity") for t in manifest["spec"]["templates"] if "container" in t}
    assert affinities["comp-print-hello-with-empty-json"] is None  # {} gives no terms
    preferred = affinities["comp-print-hello-with-json-affinity-2"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert [p["weight"] for p in preferred] == [100, 50]  # protobuf doubles become integers
    assert affinities["comp-print-hello-with-preferred-affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] == [
        {"weight": 50, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["us-west-1"]}]}}
    ]


# ---- located errors -----------------------------------------------------------------------


def _ir(platform: str, parameters: str = "") -> str:
    return (
        "pipelineInfo: {name: p}\n"
        "components: {comp-c: {executorLabel: exec-c}}\n"
        "deploymentSpec: {executors: {exec-c: {container: {image: alpine, command: [echo]}}}}\n"
        "root:\n  dag: {tasks: {c: {componentRef: {name: comp-c}, taskInfo: {name: c}}}}\n"
        + parameters
        + "---\nplatforms:\n  kubernetes:\n    deploymentSpec:\n      executors:\n        exec-c:\n"
        + platform
    )


_SCHEDULING_OPTIONAL = (
    "          nodeSelector: {nodeSelectorJson: {componentInputParameter: s}}\n"
    "          tolerations: [{tolerationJson: {componentInputParameter: t}}]\n"
    "          nodeAffinity: [{nodeAffinityJson: {componentInputParameter: a}}]\n"
)
_SCHEDULING_OPTIONAL_PARAMETERS = (
    "  inputDefinitions: {parameters: {s: {parameterType: STRUCT, isOptional: true},"
    " t: {parameterType: LIST, isOptional: true}, a: {parameterType: STRUCT, isOptional: true}}}\n"
)


def test_a_field_without_mapping_is_a_located_error_not_dropped():
    text = _ir("          enabledSharedMemory: {volumeName: shm, size: 1Gi}\n")
    with pytest.raises(UnsupportedFeature) as caught:
        transpile(text, file="p.yaml")
    [problem] = caught.value.diagnostics
    assert problem.document == 1 and problem.line == 12
    assert problem.pointer == "/platforms/kubernetes/deploymentSpec/executors/exec-c/enabledSharedMemory"
    assert "enabledSharedMemory" in problem.message


def test_a_parameter_spec_kfp_does_not_resolve_is_a_located_error():
    text = _ir("          secretAsEnv: [{keyToEnv: [{secretKey: k, envVar: E}], secretNameParameter: {taskFinalStatus: {producerTask: c}}}]\n")
    with pytest.raises(UnsupportedFeature) as caught:
        transpile(text, file="p.yaml")
    assert [d.pointer for d in caught.value.diagnostics] == [
        "/platforms/kubernetes/deploymentSpec/executors/exec-c/secretAsEnv/0/secretNameParameter/taskFinalStatus"
    ]


def test_a_reference_to_an_input_the_dag_does_not_have_is_a_located_error():
    text = _ir("          secretAsEnv: [{keyToEnv: [{secretKey: k, envVar: E}], secretNameParameter: {componentInputParameter: nope}}]\n")
    with pytest.raises(InputSchemaError) as caught:
        transpile(text, file="p.yaml")
    [problem] = caught.value.diagnostics
    assert problem.pointer.endswith("/secretAsEnv/0/secretNameParameter") and problem.document == 1
    assert "'nope'" in problem.message and "'root'" in problem.message


def test_other_platforms_are_located_errors():
    text = _ir("          imagePullPolicy: Always\n") + "  vertex: {platform: vertex}\n"
    with pytest.raises(UnsupportedFeature) as caught:
        transpile(text, file="p.yaml")
    assert sorted(d.pointer for d in caught.value.diagnostics) == ["/platforms/vertex"]


def test_a_constant_node_selector_must_map_to_strings():
    text = _ir("          nodeSelector: {nodeSelectorJson: {runtimeValue: {constant: {gpu: 1}}}}\n")
    with pytest.raises(UnsupportedFeature) as caught:
        transpile(text, file="p.yaml")
    [problem] = caught.value.diagnostics
    assert problem.pointer.endswith("/nodeSelector/nodeSelectorJson") and problem.document == 1


@pytest.mark.parametrize("case", ["platform_secrets", "platform_volumes", "platform_scheduling", "importer"])
def test_no_expression_tag_fails_whatever_its_inputs(case):
    """As test_control_flow checks for control flow: Argo may substitute a finished task's
    template with any text in its inputs, so no tag may fail (Argo 4.0.0-4.0.3 would turn the
    task into an Error)."""
    from test_control_flow import GARBAGE, _never_fail_requests

    require_harness()
    requests = [r for garbage in GARBAGE for r in _never_fail_requests(workflow(case), garbage)]
    for request in requests:  # simple tags beside the expression (a podSpecPatch holds both)
        for name in re.findall(r"\{\{inputs\.parameters\.([-\w]+)\}\}", request["text"]):
            request["scope"][f"inputs.parameters.{name}"] = "x"
    assert requests
    failures = [(r["text"][:120], a) for r, a in zip(requests, evaluate(requests)) if "error" in a]
    assert not failures


@pytest.mark.parametrize("platform, field, fragment", [
    ("tolerations: [{tolerationJson: {runtimeValue: {constant: {key: 1}}}}]", "/tolerations/0/tolerationJson", "key"),
    ("nodeAffinity: [{nodeAffinityJson: {runtimeValue: {constant: {requiredDuringSchedulingIgnoredDuringExecution: 3}}}}]",
     "/nodeAffinity/0/nodeAffinityJson", "requiredDuringSchedulingIgnoredDuringExecution"),
])
def test_a_constant_json_value_must_fit_its_kubernetes_object(platform, field, fragment):
    with pytest.raises(UnsupportedFeature) as caught:
        transpile(_ir(f"          {platform}\n"), file="p.yaml")
    [problem] = caught.value.diagnostics
    assert problem.pointer.endswith(field) and problem.document == 1 and fragment in problem.message


def test_every_field_of_the_installed_proto_is_mapped_or_reported():
    """Walk KubernetesExecutorConfig in the generated schema (from the installed kfp-kubernetes
    descriptors): each field is in parse's table of mapped fields, or has a stated reason to be
    rejected. A kfp-kubernetes upgrade that adds a field fails here until it is decided."""
    from conftest import ROOT
    from transpiler import parse_platform as parse

    defs = json.loads((ROOT / "schemas" / "pipeline_spec.schema.json").read_text())["$defs"]
    undecided = []

    def walk(definition: str, mapped: dict, path: str) -> None:
        for name, schema in defs[definition]["properties"].items():
            if name not in mapped:
                if name not in parse._UNMAPPED_REASONS:
                    undecided.append(path + name)
                continue
            ref = (schema.get("items") or schema).get("$ref", "").rsplit("/", 1)[-1]
            if ref.startswith("kfp_kubernetes.") and mapped[name] is not None:
                walk(ref, mapped[name], f"{path}{name}.")

    walk("kfp_kubernetes.KubernetesExecutorConfig", parse._KUBERNETES_FIELDS, "")
    assert undecided == []


def test_image_pull_secrets_absent_present_and_constant_in_one_list():
    require_harness()
    platform = ("          imagePullSecret: [{secretNameParameter: {componentInputParameter: a}},"
                " {secretNameParameter: {componentInputParameter: b}}, {secretName: c}]\n")
    inputs = "  inputDefinitions: {parameters: {a: {parameterType: STRING, isOptional: true}, b: {parameterType: STRING, defaultValue: bee}}}\n"
    manifest = yaml.safe_load(transpile(_ir(platform, inputs), file="p.yaml"))
    comp = next(t for t in manifest["spec"]["templates"] if "podSpecPatch" in t)
    [dag_task] = manifest["spec"]["templates"][0]["dag"]["tasks"]
    bound = {p["name"]: p["value"] for p in dag_task["arguments"]["parameters"]}
    assert sorted(bound.values()) == ["{{workflow.parameters.a}}", "{{workflow.parameters.b}}"]
    values = {"{{workflow.parameters.a}}": "kfp2argo:none", "{{workflow.parameters.b}}": "bee"}
    scope = {f"inputs.parameters.{name}": values[value] for name, value in bound.items()}
    assert json.loads(render(comp["podSpecPatch"], scope)) == {"imagePullSecrets": [{"name": "bee"}, {"name": "c"}]}
    scope = {name: "given" if value == "kfp2argo:none" else value for name, value in scope.items()}
    assert json.loads(render(comp["podSpecPatch"], scope))["imagePullSecrets"] == [{"name": "given"}, {"name": "bee"}, {"name": "c"}]
