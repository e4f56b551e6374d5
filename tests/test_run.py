"""Generated workflows run end to end on Argo's own workflow controller (issue 7).

Each pipeline is compiled with kfp, transpiled, and run by ``tools/argo-harness/bin/kfp2argo-sim``:
Argo v4.0.2's workflow controller on fake clientsets, with a simulated kubelet and executor
that run every pod's command on this machine (see tools/argo-harness/README.md). Where kfp.local
(SubprocessRunner) can run the pipeline, the Argo run must equal the kfp.local run: final state,
which tasks ran, their states, typed output parameters, artifact contents and metadata. Where it
cannot (container components; kfp.local limitations named at each test), the expected values
are the ones the pipeline's logic implies, written out here.

Skipped without Go, except under CI=true (as tests/argo_lint.py). Each run takes seconds: most
of it is the pods' Python (pip's check that kfp is installed, then importing kfp).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from run_cases import (
    FIXTURES,
    LOCAL_CASES,
    LOGIC_CASES,
    RETRIES_ATTEMPTS,
    RETRIES_EXPECTED,
    RETRIES_FIXTURE,
    RETRIES_FLAKY_PHASES,
    retry_phases,
)
from sim import ArgoRun, Run, compile_ir, load_fixture, require_sim, run_argo, run_local


@pytest.fixture(autouse=True)
def _sim() -> None:
    require_sim()


def both(case: str, arguments: dict[str, Any], tmp_path: Path) -> tuple[ArgoRun, Run]:
    """The Argo run and the kfp.local run of a fixture (run side by side)."""
    fixture = FIXTURES / f"{case}.py"
    ir_text = compile_ir(fixture)
    with ThreadPoolExecutor(2) as pool:
        argo = pool.submit(run_argo, ir_text, arguments, tmp_path, case)
        local = pool.submit(run_local, fixture, arguments, tmp_path)
        return argo.result(), local.result()


# ----------------------------------------------------------------------------------------------
# Equal to kfp.local (the case table is tests/run_cases.py, shared with tests/test_cluster.py)


@pytest.mark.parametrize(("case", "arguments"), LOCAL_CASES)
def test_run_equals_kfp_local(case: str, arguments: dict[str, Any], tmp_path: Path) -> None:
    argo, local = both(case, arguments, tmp_path)
    assert argo.run == local, argo.failures()


def test_retries_fail_twice_then_succeed(tmp_path: Path) -> None:
    counters = {side: tmp_path / f"attempts-{side}" for side in ("argo", "local")}
    for directory in counters.values():
        directory.mkdir()
    argo = run_argo(compile_ir(RETRIES_FIXTURE), {"counter_dir": str(counters["argo"])}, tmp_path)
    local = run_local(RETRIES_FIXTURE, {"counter_dir": str(counters["local"])}, tmp_path)
    assert argo.run == local, argo.failures()
    assert argo.run == RETRIES_EXPECTED
    assert argo.attempts == RETRIES_ATTEMPTS
    assert retry_phases(argo) == RETRIES_FLAKY_PHASES


# ----------------------------------------------------------------------------------------------
# What the pipeline's logic implies (kfp.local cannot run these; see LOGIC_CASES for each)


def run_logic_case(name: str, tmp_path: Path) -> None:
    case = LOGIC_CASES[name]
    module = load_fixture(case.path)
    argo = run_argo(compile_ir(case.path), case.arguments, tmp_path)
    assert argo.run == case.expected(module), argo.failures()
    if case.check:
        case.check(argo, module)


def test_exit_handler_after_a_failing_task(tmp_path: Path) -> None:
    run_logic_case("exit_handler_failing", tmp_path)


def test_loops_with_nested_fan_in(tmp_path: Path) -> None:
    run_logic_case("loops", tmp_path)


def test_every_parameter_type_through_python_components(tmp_path: Path) -> None:
    run_logic_case("parameter_types", tmp_path)


def test_every_parameter_type_through_a_container_component(tmp_path: Path) -> None:
    run_logic_case("container_types", tmp_path)


def test_hard_values_arrive_byte_for_byte(tmp_path: Path) -> None:
    run_logic_case("hard_values", tmp_path)


def test_values_kubernetes_would_expand_arrive_byte_for_byte(tmp_path: Path) -> None:
    run_logic_case("dollar_values", tmp_path)


def test_container_component_writes_its_output_files(tmp_path: Path) -> None:
    run_logic_case("container_placeholders", tmp_path)


# ----------------------------------------------------------------------------------------------
# The simulator itself, on hand-written workflows

PVC_WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: shared-volume-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: make-pvc, template: make-pvc}
      - name: write
        template: write
        depends: make-pvc
        arguments: {parameters: [{name: claim, value: '{{tasks.make-pvc.outputs.parameters.claim}}'}]}
      - name: read
        template: read
        depends: write
        arguments: {parameters: [{name: claim, value: '{{tasks.make-pvc.outputs.parameters.claim}}'}]}
      - name: delete-pvc
        template: delete-pvc
        depends: read
        arguments: {parameters: [{name: claim, value: '{{tasks.make-pvc.outputs.parameters.claim}}'}]}
  - name: make-pvc
    resource:
      action: create
      manifest: |
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {generateName: '{{workflow.name}}-data-'}
        spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
    outputs:
      parameters: [{name: claim, valueFrom: {jsonPath: '{.metadata.name}'}}]
  - name: write
    inputs: {parameters: [{name: claim}]}
    volumes: [{name: data, persistentVolumeClaim: {claimName: '{{inputs.parameters.claim}}'}}]
    container:
      image: alpine:3.20
      command: [sh, -c, 'printf "written by %s" "$0" > /data/file', '{{pod.name}}']
      volumeMounts: [{name: data, mountPath: /data}]
  - name: read
    inputs: {parameters: [{name: claim}]}
    volumes: [{name: data, persistentVolumeClaim: {claimName: '{{inputs.parameters.claim}}'}}]
    container:
      image: alpine:3.20
      command: [cat, /data/file]
      volumeMounts: [{name: data, mountPath: /data}]
    outputs:
      parameters: [{name: text, valueFrom: {path: /data/file}}]
  - name: delete-pvc
    inputs: {parameters: [{name: claim}]}
    resource:
      action: delete
      manifest: |
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: '{{inputs.parameters.claim}}'}
"""


def simulate(manifest: str, tmp_path: Path, objects: str = "") -> dict[str, Any]:
    import subprocess

    (tmp_path / "workflow.yaml").write_text(manifest, encoding="utf-8")
    (tmp_path / "objects.yaml").write_text(objects, encoding="utf-8")
    command = [str(require_sim()), "-work", str(tmp_path / "work"), "-timeout", "60s", "-objects", str(tmp_path / "objects.yaml")]
    proc = subprocess.run(command + [str(tmp_path / "workflow.yaml")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_resource_templates_and_a_shared_volume(tmp_path: Path) -> None:
    report = simulate(PVC_WORKFLOW, tmp_path)
    nodes = {n["displayName"]: n for n in report["nodes"]}
    assert report["phase"] == "Succeeded", report
    claim = nodes["make-pvc"]["outputs"]["parameters"]["claim"]
    assert claim.startswith("shared-volume-sim-data-")
    writer = next(p["name"] for p in report["pods"] if p["nodeID"] == nodes["write"]["id"])
    assert nodes["read"]["outputs"]["parameters"] == {"text": f"written by {writer}"}
    assert nodes["delete-pvc"]["phase"] == "Succeeded"


def test_a_pod_past_its_deadline_fails(tmp_path: Path) -> None:
    report = simulate(
        """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: deadline}
spec:
  entrypoint: slow
  templates:
  - name: slow
    activeDeadlineSeconds: 1
    container: {image: alpine:3.20, command: [sleep, '30']}
""",
        tmp_path,
    )
    assert report["phase"] == "Failed"
    [node] = report["nodes"]
    assert node["message"] == "Pod was active on the node longer than the specified deadline"


def test_cluster_objects_as_env_and_volumes(tmp_path: Path) -> None:
    """A Secret as an env variable (and `$(NAME)` in args expanded from it, as the kubelet does)
    and a ConfigMap as files, in a directory the host needs (/etc) for itself."""
    objects = """
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: argo}
stringData: {token: s3cr3t}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: argo}
data: {level: debug}
"""
    report = simulate(
        """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: objects}
spec:
  entrypoint: show
  templates:
  - name: show
    volumes: [{name: settings, configMap: {name: settings}}]
    container:
      image: alpine:3.20
      command: [sh, -c, 'printf "%s %s %s" "$0" "$TOKEN" "$(cat /etc/app/level)"', '$(TOKEN)$$']
      env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: token}}}]
      volumeMounts: [{name: settings, mountPath: /etc/app}]
""",
        tmp_path,
        objects,
    )
    assert report["phase"] == "Succeeded", report
    assert [p["stdout"] for p in report["pods"]] == ["s3cr3t$ s3cr3t debug"]
