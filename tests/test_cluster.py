"""Generated workflows on a real single-node Kubernetes with Argo v4.0.2 (issue 19, tools/cluster).

These run only with `pytest --cluster` (which builds the harness first, or reuses the cached
build); a plain `pytest` skips them. A machine that cannot run the cluster (not root, no
namespaces, cgroups not writable) skips them with the reason, except under CI=true, where that
fails. One cluster for the session: up once,
down at the end (nothing left running, mounted or in the cgroup tree).

What runs:

* every golden manifest, transpiled at test time from golden/<case>/pipeline.yaml, must be
  admitted by the API server (server-side dry-run against Argo's full CRDs), and manifests just
  under and just over the CRDs' caps (200 templates, 200 tasks per DAG, 500 input parameters)
  must be admitted and refused;
* the fixture pipelines tests/test_run.py runs on the simulator, with the same expectations
  (tests/run_cases.py: equal to kfp.local, or to the pipeline's logic);
* what only a real cluster shows: Secrets, ConfigMaps, claims and real volumes
  (platform_secrets, platform_volumes, DeletePVC against the claim's finalizer), artifacts
  through MinIO (collected_artifacts, artifact_lists, run_artifacts), retries with a counter on a
  shared volume, an exit handler after a failure, values with `$(...)`, `{{`, quotes, newlines
  and non-ASCII byte for byte;
* KFP features that need a pod's own file system (issue 15): the pipeline workspace, an importer
  that downloads into it, an importer URI given at submission and a pipeline input artifact, read
  by Python components at KFP's local paths (/minio/..., /kfp-workspace/.artifacts/...).

Every workflow is submitted when the session starts and up to 6 run at once; each test waits for
its own.
"""

from __future__ import annotations

import copy
import json
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml

from cluster import Session, compare_reports, in_ci, requested, stuck_node, unavailable_reason
from conftest import GOLDEN, ROOT, golden_options
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
from runs import SUCCEEDED, ArgoRun, compile_ir, load_fixture, run_local

GOLDEN_CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "pipeline.yaml").is_file())
LINT_CASES = ROOT / "tests" / "lint_cases"
COUNTER_DIR = "/kfp2argo-counter"


# ----------------------------------------------------------------------------------------------
# The session's cluster, and every workflow submitted up front


@pytest.fixture(scope="session")
def session(request: pytest.FixtureRequest) -> Iterator[Session]:
    reason = unavailable_reason(request.config)
    if reason:
        if in_ci() and requested(request.config):
            pytest.fail(f"{reason} (CI=true: a requested cluster must run, not skip)")
        pytest.skip(reason)
    try:
        s = Session.start(build_first=requested(request.config), wait_for_lock=requested(request.config))
    except Exception as e:  # noqa: BLE001
        if in_ci() or requested(request.config):
            raise
        pytest.skip(f"the cluster did not start: {e}")
    try:
        yield s
    finally:
        left = s.stop()
        # Report what the session measured (pytest -s shows it; always in the JUnit/log output).
        print(f"\ncluster: up {s.up_seconds.get('total')} s ({json.dumps(s.up_seconds)}); down {left.get('seconds')} s; "
              f"workflow seconds {json.dumps(s.timings, sort_keys=True)}; peak MiB {json.dumps(s.peak_memory, sort_keys=True)}")
        (s.cluster.state.parent / "last-session.json").write_text(json.dumps(
            {"up_seconds": s.up_seconds, "down_seconds": left.get("seconds"), "workflow_seconds": s.timings,
             "peak_memory_mib": s.peak_memory}, indent=1, sort_keys=True))
        problems = {k: v for k, v in left.items() if k != "seconds"}
        assert not problems, f"the cluster left things behind: {problems}"


def _platform_secrets(s: Session) -> Future:
    s.client.kube.apply(
        [
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-creds", "namespace": "argo"},
             "stringData": {"password": "pa$$word (secret)", "token": "t0ken"}},
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "runtime-secret", "namespace": "argo"},
             "stringData": {"value": "from a task output"}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app-config", "namespace": "argo"},
             "data": {"level": "debug"}},
        ]
    )
    return s.submit_ir((GOLDEN / "platform_secrets" / "pipeline.yaml").read_text(encoding="utf-8"), {}, "platform-secrets")


def _platform_volumes(s: Session) -> Future:
    s.client.kube.apply(
        [
            {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "shared-data", "namespace": "argo"},
             "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "", "resources": {"requests": {"storage": "1Gi"}}}},
        ]
    )
    # Were DeletePVC to wait for the claim to be gone again (the test below), the run would hang:
    # give up when that task is still running 90 s after it started.
    return s.submit_ir(
        (GOLDEN / "platform_volumes" / "pipeline.yaml").read_text(encoding="utf-8"), {}, "platform-volumes",
        give_up=stuck_node("comp-deletepvc", 90),
    )


def _with_shared_counter(manifest: dict[str, Any], folder: Path) -> None:
    """Every attempt of `flaky` is a new pod: give all pods one host folder at COUNTER_DIR (the
    simulator's pods share the host's file system, real pods do not)."""
    spec = manifest["spec"]
    spec.setdefault("volumes", []).append({"name": "kfp2argo-counter", "hostPath": {"path": str(folder), "type": "DirectoryOrCreate"}})
    for template in spec["templates"]:
        if "container" in template:
            template["container"].setdefault("volumeMounts", []).append({"name": "kfp2argo-counter", "mountPath": COUNTER_DIR})


def _plan() -> dict[str, Callable[[Session], Future]]:
    plan: dict[str, Callable[[Session], Future]] = {}
    for i, (case, arguments) in enumerate(LOCAL_CASES):
        plan[f"local-{i}"] = lambda s, case=case, arguments=arguments: s.submit_ir(compile_ir(FIXTURES / f"{case}.py"), arguments, case)
    for name, case in LOGIC_CASES.items():
        plan[f"logic-{name}"] = lambda s, case=case: s.submit_ir(compile_ir(case.path), case.arguments, case.name)
    plan["retries"] = lambda s: s.submit_ir(
        compile_ir(RETRIES_FIXTURE), {"counter_dir": COUNTER_DIR}, "run-retries",
        lambda m: _with_shared_counter(m, s.cluster.node / "shared" / "retries"),
    )
    plan["platform-secrets"] = _platform_secrets
    plan["platform-volumes"] = _platform_volumes
    plan["collected-artifacts"] = lambda s: s.submit_ir(
        compile_ir(FIXTURES / "collected_artifacts.py"), {"numbers": [3, 1, 2, 12, 0, 5]}, "collected-artifacts"
    )
    plan["artifact-lists"] = lambda s: s.submit_ir(
        compile_ir(FIXTURES / "artifact_lists.py"), {"numbers": [1, 2, 3], "tags": ["a", "b"]}, "artifact-lists"
    )
    plan.update(_kfp_features())
    return plan


# KFP features that need a real pod's file system (issue 15): a Python component reads an imported
# artifact at KFP's local path (/minio/...) or in the workspace, which the simulator cannot map.
DATA_KEY = "kfp2argo-test-data/iris.csv"
DATA_URI = f"minio://kfp2argo/{DATA_KEY}"


def _kfp_features() -> dict[str, Callable[[Session], Future]]:
    from transpiler import Options

    def seeded(s: Session) -> Session:
        s.client.s3.put(DATA_KEY, b"a,b\n1,2\n3,4\n")
        return s

    return {
        "workspace": lambda s: s.submit_ir(compile_ir(FIXTURES / "run_workspace.py"), {"text": "shared notes"}, "run-workspace"),
        "workspace-importer": lambda s: seeded(s).submit_ir(
            compile_ir(FIXTURES / "run_workspace_importer.py"), {"uri": DATA_URI}, "run-workspace-importer",
            options=Options(importer_scheme="minio")),
        "importer-uri": lambda s: seeded(s).submit_ir(
            compile_ir(FIXTURES / "run_importer_uri.py"), {"uri": DATA_URI}, "run-importer-uri",
            options=Options(importer_scheme="minio")),
        "input-artifact": lambda s: seeded(s).submit_ir(
            compile_ir(FIXTURES / "run_input_artifact.py"), {}, "run-input-artifact",
            options=Options(input_artifacts=(("data", DATA_URI),))),
    }


PLAN = _plan()


@pytest.fixture(scope="session")
def runs(session: Session, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future]]:
    """Every planned workflow, submitted now (at most 6 run at once), and the simulator's runs of
    the same cases (``sim:<key>``, two at a time, beside them)."""
    futures: dict[str, Future] = {}
    sim_pool = ThreadPoolExecutor(2, thread_name_prefix="simulator")
    for key, (fixture, arguments) in COMPARABLE.items():
        futures[f"sim:{key}"] = sim_pool.submit(_simulate, fixture, arguments, tmp_path_factory.mktemp("sim"))
    for key, start in PLAN.items():
        try:
            futures[key] = start(session)
        except Exception as e:  # noqa: BLE001 (reported by the test that waits for it)
            failed: Future = Future()
            failed.set_exception(e)
            futures[key] = failed
    yield futures
    sim_pool.shutdown(wait=False, cancel_futures=True)


def _simulate(fixture: Path, arguments: dict[str, Any], tmp_path: Path) -> ArgoRun:
    from sim import require_sim, run_argo

    require_sim()
    return run_argo(compile_ir(fixture), arguments, tmp_path, fixture.stem)


def result(runs: dict[str, Future], key: str) -> ArgoRun:
    return runs[key].result()


# ----------------------------------------------------------------------------------------------
# The API server admits every golden manifest, and enforces the CRDs' caps


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_api_server_admits_the_golden_manifest(session: Session, case: str) -> None:
    from transpiler import transpile

    manifest = transpile((GOLDEN / case / "pipeline.yaml").read_bytes(), golden_options(case), file=f"golden/{case}/pipeline.yaml")
    docs = [d for d in yaml.safe_load_all(manifest) if d]
    assert docs
    for doc in docs:
        status, body = session.client.dry_run(yaml.safe_dump(doc))
        assert status == 201, f"{doc.get('kind')} {case}: HTTP {status}: {body.get('message') if isinstance(body, dict) else body}"


def _drop_one(doc: dict[str, Any], limit: str) -> dict[str, Any]:
    under = copy.deepcopy(doc)
    templates = under["spec"]["templates"]
    if limit == "templates":
        templates.pop()
    elif limit == "dag-tasks":
        dag = next(t for t in templates if "dag" in t)
        dag["dag"]["tasks"].pop()
    else:
        templates[0]["inputs"]["parameters"].pop()
    return under


@pytest.mark.parametrize(
    ("limit", "file", "count", "message"),
    [
        ("templates", "too-many-templates.yaml", 200, "spec.templates: Too many: 201: must have at most 200 items"),
        ("dag-tasks", "too-many-dag-tasks.yaml", 200, "must have at most 200 items"),
        ("input-parameters", "too-many-input-parameters.yaml", 500, "inputs.parameters: Too many: 501: must have at most 500 items"),
    ],
)
def test_api_server_enforces_the_crd_caps(session: Session, limit: str, file: str, count: int, message: str) -> None:
    over = yaml.safe_load((LINT_CASES / file).read_text(encoding="utf-8"))
    under = _drop_one(over, limit)
    status, body = session.client.dry_run(yaml.safe_dump(under))
    assert status == 201, f"{limit} at the cap ({count}) was refused: {body.get('message') if isinstance(body, dict) else body}"
    status, body = session.client.dry_run(yaml.safe_dump(over))
    assert status == 422, f"{limit} over the cap ({count + 1}) was admitted (HTTP {status})"
    assert message in body["message"], body["message"]


# ----------------------------------------------------------------------------------------------
# The simulator's cases (tests/run_cases.py), with the same expectations


@pytest.mark.parametrize("index", range(len(LOCAL_CASES)), ids=[f"{c}-{i}" for i, (c, _) in enumerate(LOCAL_CASES)])
def test_cluster_run_equals_kfp_local(runs: dict[str, Future], index: int, tmp_path: Path) -> None:
    case, arguments = LOCAL_CASES[index]
    local = run_local(FIXTURES / f"{case}.py", arguments, tmp_path)
    argo = result(runs, f"local-{index}")
    assert argo.run == local, argo.failures()


@pytest.mark.parametrize("name", sorted(LOGIC_CASES))
def test_cluster_run_equals_the_pipelines_logic(runs: dict[str, Future], name: str) -> None:
    case = LOGIC_CASES[name]
    argo = result(runs, f"logic-{name}")
    assert argo.run == case.expected(load_fixture(case.path)), argo.failures()
    if case.check:
        case.check(argo, load_fixture(case.path))


def test_retries_fail_twice_then_succeed(runs: dict[str, Future]) -> None:
    argo = result(runs, "retries")
    assert argo.run == RETRIES_EXPECTED, argo.failures()
    assert argo.attempts == RETRIES_ATTEMPTS
    assert retry_phases(argo) == RETRIES_FLAKY_PHASES


# ----------------------------------------------------------------------------------------------
# What only a real cluster shows


def test_secrets_and_config_maps_as_env_and_volumes(runs: dict[str, Future], session: Session) -> None:
    argo = result(runs, "platform-secrets")
    assert argo.run.state == SUCCEEDED, argo.failures()
    [env] = argo.run.tasks["show-env"]
    # EXTRA: an optional Secret named by a parameter without a default: left out.
    assert json.loads(env["parameters"]["Output"]) == "DB_PASSWORD=set,API_TOKEN=set,LOG_LEVEL=set,POD_NAME=set,EXTRA=unset,FROM_TASK=set"
    [listing] = argo.stdout("list-files")
    assert "/etc/creds:" in listing and "password" in listing and "token" in listing, listing
    assert "/etc/config:" in listing and "level" in listing, listing


def test_claims_and_volumes(runs: dict[str, Future], session: Session) -> None:
    """CreatePVC, the new claim mounted by a writer, a reader and a loop, an existing claim with a
    sub-path, a generic ephemeral volume and an emptyDir (whatever DeletePVC does, below)."""
    argo = result(runs, "platform-volumes")
    states = {name: [e["state"] for e in entries] for name, entries in argo.run.tasks.items() if name != "deletepvc"}
    assert all(state == SUCCEEDED for entries in states.values() for state in entries), states
    reads = sorted(json.loads(e["parameters"]["Output"]) for name, entries in argo.run.tasks.items() if name.startswith("read-file") for e in entries)
    assert reads == ["hello", "hello", "hello"]  # the reader and both loop iterations
    [df] = argo.stdout("scratch")
    # busybox df names a bind mount by the last mount point of its file system, so the two
    # host-path volumes (/scratch, /shared) may both show as /shared; the emptyDir is a 1G tmpfs.
    lines = df.splitlines()[1:]
    assert len(lines) == 3, df
    assert any(line.split()[0] == "tmpfs" and line.split()[1] == "1.0G" and line.endswith("/cache") for line in lines), df
    [created] = argo.run.tasks["createpvc"]
    claim = json.loads(created["parameters"]["name"])
    assert claim.startswith(argo.report["workflow"]) and claim.endswith("-work"), claim
    claims = {c["metadata"]["name"]: c for c in session.client.kube.get("/api/v1/namespaces/argo/persistentvolumeclaims")["items"]}
    assert "shared-data" in claims and not claims["shared-data"]["metadata"].get("deletionTimestamp")


def test_deletepvc_marks_the_claim_for_deletion_and_does_not_wait(runs: dict[str, Future], session: Session) -> None:
    """Found on the real cluster: `kubectl delete` waits until the claim is gone, which its
    `kubernetes.io/pvc-protection` finalizer holds off while any pod object that mounted it
    exists (Argo keeps completed pods), so a DeletePVC task without `--wait=false` never ended.
    KFP's driver deletes without waiting (backend/src/v2/driver/k8s.go, deletePVC). The simulator
    has no finalizers, so only this cluster shows it."""
    argo = result(runs, "platform-volumes")
    claims = {c["metadata"]["name"]: c for c in session.client.kube.get("/api/v1/namespaces/argo/persistentvolumeclaims")["items"]}
    stuck = {n: c["metadata"].get("finalizers") for n, c in claims.items() if c["metadata"].get("deletionTimestamp")}
    assert not argo.report.get("gaveUp"), (
        f"{argo.report['gaveUp']}; claims being deleted but held by their finalizers: {stuck}"
    )
    assert argo.run.state == SUCCEEDED, argo.failures()
    [created] = argo.run.tasks["createpvc"]
    claim = json.loads(created["parameters"]["name"])
    assert claim not in claims or claims[claim]["metadata"].get("deletionTimestamp"), claims.get(claim)


def test_collected_artifacts_and_optional_outputs_through_s3(runs: dict[str, Future], session: Session) -> None:
    """The expectation of tests/test_artifact_lists.py (simulator), on a shorter list."""
    argo = result(runs, "collected-artifacts")
    assert argo.run.state == SUCCEEDED, argo.failures()
    [combine] = argo.run.tasks["combine"]
    assert json.loads(combine["parameters"]["Output"]) == "3:9,1:1,2:4,12:144,0:0,5:25,3:9,2:4,12:144,5:25;[3, 1, 2, 12, 0, 5]"
    # The artifacts really are objects in the S3 store (their contents were read from there).
    keys = [a["key"] for n in argo.report["nodes"] for a in ((n.get("outputs") or {}).get("artifacts") or {}).values() if a.get("key")]
    assert keys and all(session.client.s3.get(k) is not None or session.client.s3.list(k.rstrip("/") + "/") for k in keys), keys


def test_lists_of_artifacts_and_loops_over_them_through_s3(runs: dict[str, Future]) -> None:
    """The expectation of tests/test_artifact_lists.py (simulator), first case."""
    argo = result(runs, "artifact-lists")
    assert argo.run.state == SUCCEEDED, argo.failures()
    found = {task: sorted(json.loads(next(iter(pod["parameters"].values()))) for pod in pods)
             for task, pods in argo.run.tasks.items() if task != "make-part"}
    expected = {
        "describe": ["1=a1,2=a4,3=a9", "1=b1,2=b4,3=b9", "1=p1,2=p4,3=p9"],
        "describe-2": ["1=a1,2=a4,3=a9,1=b1,2=b4,3=b9"],
        "list-in-container": ["1=p1,2=p4,3=p9"],
        "read-one": ["1=p1", "2=p4", "3=p9"],
    }
    assert found == {task: sorted(values) for task, values in expected.items()}


def test_pod_logs_through_the_api_server(runs: dict[str, Future], session: Session) -> None:
    """The API server serves a pod's log (through the kubelet), as `kubectl logs` would."""
    argo = result(runs, "logic-container_placeholders")
    pod = next(p for p in argo.report["pods"] if p["stdout"].startswith("hi label=first"))
    # The API's log interleaves stdout and stderr (argoexec's emissary logs to stderr).
    assert pod["stdout"] in session.client.logs(pod["name"])


# ----------------------------------------------------------------------------------------------
# The simulator (tests/test_run.py) against the cluster: the same manifest, the same arguments


def _comparable_cases() -> dict[str, tuple[Path, dict[str, Any]]]:
    cases = {f"local-{i}": (FIXTURES / f"{c}.py", a) for i, (c, a) in enumerate(LOCAL_CASES)}
    cases.update({f"logic-{n}": (c.path, c.arguments) for n, c in LOGIC_CASES.items()})
    cases["collected-artifacts"] = (FIXTURES / "collected_artifacts.py", {"numbers": [3, 1, 2, 12, 0, 5]})
    cases["artifact-lists"] = (FIXTURES / "artifact_lists.py", {"numbers": [1, 2, 3], "tags": ["a", "b"]})
    return cases


COMPARABLE = _comparable_cases()


@pytest.mark.parametrize("key", sorted(COMPARABLE))
def test_simulator_agrees_with_the_cluster(runs: dict[str, Future], session: Session, key: str) -> None:
    simulated = result(runs, f"sim:{key}")
    real = result(runs, key)
    reports = session.cluster.state.parent / "reports"
    reports.mkdir(exist_ok=True)
    for side, run in (("simulator", simulated), ("cluster", real)):
        (reports / f"{key}.{side}.json").write_text(json.dumps(run.report, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    # What differs by construction (names, uids, timestamps, the simulator's per-pod root folder)
    # is taken out by cluster.comparable; everything else must be equal.
    differences = compare_reports(simulated, real)
    assert not differences, "\n".join(differences)


# ----------------------------------------------------------------------------------------------
# KFP features on real pods (issue 15)


def _outputs(argo: ArgoRun) -> dict[str, dict[str, Any]]:
    """The output parameters of each task (run once), as typed JSON texts."""
    assert argo.run.state == SUCCEEDED, argo.failures()
    return {task: entries[0]["parameters"] for task, entries in argo.run.tasks.items()}


def test_tasks_share_files_through_the_workspace(runs: dict[str, Future]) -> None:
    outputs = _outputs(result(runs, "workspace"))
    assert json.loads(outputs["read-notes"]["Output"]) == "SHARED NOTES"  # written by another pod
    assert json.loads(outputs["copy-notes"]["copied"]) == "shared notes"


def test_an_importer_downloads_into_the_workspace(runs: dict[str, Future]) -> None:
    outputs = _outputs(result(runs, "workspace-importer"))
    assert json.loads(outputs["count-rows"]["Output"]) == f"3 rows, in workspace: True, uri {DATA_URI}"


def test_an_importer_uri_given_at_submission_reaches_python_and_container_components(runs: dict[str, Future]) -> None:
    outputs = _outputs(result(runs, "importer-uri"))
    assert json.loads(outputs["describe"]["Output"]) == DATA_URI + " {'origin': 'submission'}"
    assert json.loads(outputs["first-line"]["line"]) == "a,b" and json.loads(outputs["first-line"]["uri"]) == DATA_URI


def test_a_pipeline_input_artifact_is_read_at_kfps_local_path(runs: dict[str, Future]) -> None:
    outputs = _outputs(result(runs, "input-artifact"))
    assert json.loads(outputs["summarize"]["Output"]) == "3 rows, metadata {}"
    assert json.loads(outputs["first-line"]["line"]) == "a,b" and json.loads(outputs["first-line"]["uri"]) == DATA_URI
