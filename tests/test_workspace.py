"""The pipeline workspace and config (``dsl.PipelineConfig``): the claim Argo creates per run, as
KFP's compiler builds it (backend/src/v2/compiler/argocompiler/argo.go, ``GetWorkspacePVC``), the
mount, ``{{$.workspace_path}}``, the TTLs and deadline, and the located refusals. The run (files
shared by tasks) is in test_run_kfp_features.py."""

from __future__ import annotations

import pytest
import yaml

from conftest import GOLDEN
from transpiler import Options, TranspileError, transpile

IR = (GOLDEN / "run_workspace" / "pipeline.yaml").read_text(encoding="utf-8")


def compile_with(config: dict | None = None, options: Options | None = None, ir: str = IR) -> dict:
    documents = list(yaml.safe_load_all(ir))
    if config is not None:
        documents[1]["platforms"]["kubernetes"]["pipelineConfig"] = config
    return yaml.safe_load(transpile(yaml.safe_dump_all(documents), options, file="p.yaml"))


def refusals(config: dict | None = None, options: Options | None = None, ir: str = IR) -> list[tuple[str, str]]:
    with pytest.raises(TranspileError) as err:
        compile_with(config, options, ir)
    return [(d.pointer, d.message) for d in err.value.diagnostics]


def test_the_claim_is_per_run_with_the_size_and_access_modes():
    spec = compile_with()["spec"]
    assert spec["volumeClaimTemplates"] == [{
        "metadata": {"name": "kfp-workspace"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }]
    assert {"name": "kfp-workspace", "mountPath": "/kfp-workspace"} in spec["templateDefaults"]["container"]["volumeMounts"]


def test_the_workspace_placeholder_is_kfps_mount_path_also_inside_a_value():
    tasks = {t["name"]: t for t in compile_with()["spec"]["templates"][0]["dag"]["tasks"]}
    values = {t: [p["value"] for p in tasks[t]["arguments"]["parameters"]] for t in ("write-notes", "copy-notes")}
    assert "/kfp-workspace" in values["write-notes"]
    assert values["copy-notes"] == ["/kfp-workspace/notes/a.txt"]


def test_the_default_workspace_spec_is_patched_by_the_pipeline():
    default = (("accessModes", ["ReadWriteMany"]), ("storageClassName", "standard"), ("volumeMode", "Filesystem"),
               ("resources", {"requests": {"storage": "5Gi"}}))
    [claim] = compile_with(options=Options(default_workspace=default))["spec"]["volumeClaimTemplates"]
    # The patch's accessModes win; the default's other fields stay; the pipeline's size is the request.
    assert claim["spec"] == {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard", "volumeMode": "Filesystem",
                             "resources": {"requests": {"storage": "1Gi"}}}


def test_ttls_and_deadline_map_and_flags_win():
    config = {"workspace": {"size": "1Gi", "kubernetes": {"pvcSpecPatch": {"accessModes": ["ReadWriteOnce"]}}},
              "resourceTtlOnSuccess": 600, "resourceTtlOnFailure": 3600, "activeDeadlineSeconds": 900}
    spec = compile_with(config)["spec"]
    assert spec["ttlStrategy"] == {"secondsAfterSuccess": 600, "secondsAfterFailure": 3600}
    assert spec["activeDeadlineSeconds"] == 900
    flags = Options(workflow_fields=(("activeDeadlineSeconds", 60), ("ttlStrategy", {"secondsAfterCompletion": 5})))
    spec = compile_with(config, flags)["spec"]
    assert spec["activeDeadlineSeconds"] == 60 and spec["ttlStrategy"] == {"secondsAfterCompletion": 5}


@pytest.mark.parametrize("workspace, expected", [
    ({"size": "1Gi"}, "The workspace needs access modes"),
    ({"size": "-1Gi", "kubernetes": {"pvcSpecPatch": {"accessModes": ["ReadWriteOnce"]}}}, "The workspace size '-1Gi'"),
    ({"size": "lots", "kubernetes": {"pvcSpecPatch": {"accessModes": ["ReadWriteOnce"]}}}, "The workspace size 'lots'"),
    ({"size": "1Gi", "kubernetes": {"pvcSpecPatch": {"accessModes": ["ReadWriteOnce"], "storageClassName": ""}}},
     "storageClassName must be left out"),
])
def test_a_workspace_kfp_refuses_is_refused(workspace, expected):
    found = refusals({"workspace": workspace})
    assert any(expected in message for _, message in found), found


def test_a_patch_field_kfp_refuses_is_refused_where_it_is():
    found = refusals({"workspace": {"size": "1Gi", "kubernetes": {"pvcSpecPatch": {"accessModes": ["ReadWriteOnce"], "volumeName": "pv-1"}}}})
    assert found[0][0] == "/platforms/kubernetes/pipelineConfig/workspace/kubernetes/pvcSpecPatch/volumeName"


def test_the_workspace_placeholder_without_a_workspace_is_refused():
    documents = list(yaml.safe_load_all(IR))
    del documents[1]["platforms"]["kubernetes"]["pipelineConfig"]
    found = refusals(ir=yaml.safe_dump_all(documents))
    assert found and all("workspace" in message for _, message in found)
    assert "/root/dag/tasks/copy-notes/inputs/parameters/path" in {pointer for pointer, _ in found}
