"""A real single-node Kubernetes with Argo for the tests (tools/cluster, issue 19).

* ``unavailable_reason(config)``: why the cluster tests cannot run (not built and no --cluster,
  a machine that cannot run it, another cluster running); None when they can;
* :class:`Session`: the cluster of one pytest session: ``up`` (building first with --cluster),
  ``down`` at the end; ``run`` submits a generated workflow and returns it in the shape of
  tests/runs.py (:class:`runs.ArgoRun`), so the expectations of tests/run_cases.py apply as they
  do to the simulator; at most ``PARALLEL`` workflows run at once.

    from cluster import Session
    session = Session.start()
    future = session.submit_ir(ir_text, {"n": 3}, "my-case")  # runs in the background
    argo = future.result()                                    # an ArgoRun
    session.stop()
"""

from __future__ import annotations

import os
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import pytest

from runs import ArgoRun, TaskIndex

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools" / "cluster"
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

from kfpcluster import build as cluster_build  # noqa: E402
from kfpcluster import client as cluster_client  # noqa: E402
from kfpcluster import config as cluster_config  # noqa: E402
from kfpcluster import node as cluster_node  # noqa: E402

PARALLEL = 6  # workflows at once (about 6 small ones fit on 2 cores)
WORKFLOW_TIMEOUT_S = 600

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def requested(config: pytest.Config) -> bool:
    return bool(config.getoption("--cluster", default=False))


def built() -> bool:
    return cluster_build.built() is not None


def unavailable_reason(config: pytest.Config) -> str | None:
    """Why the cluster tests do not run here (None: they run)."""
    if not requested(config):
        # Its own step (pytest --cluster tests/test_cluster.py): a plain `pytest` stays quick
        # and CI does not run the workflows twice.
        return "the real-cluster tests run with pytest --cluster (which builds the harness first)"
    problems = cluster_node.preflight()
    if problems:
        return "this machine cannot run the cluster: " + "; ".join(problems)
    return None


class Session:
    """The cluster of a test session, and the workflows run on it."""

    def __init__(self, cluster: cluster_node.Cluster, lock: Any, up_seconds: dict[str, float]) -> None:
        self.cluster = cluster
        self.client = cluster_client.ClusterClient(cluster.state)
        self.up_seconds = up_seconds
        self._lock = lock
        self._pool = ThreadPoolExecutor(PARALLEL, thread_name_prefix="workflow")
        self._counter = 0
        self._counter_lock = threading.Lock()
        self.timings: dict[str, float] = {}
        self.peak_memory: dict[str, float] = {}
        self._sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample, name="memory", daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        """Peak resident memory (MiB) of the cluster's parts, and of the whole host, every 2 s."""
        while not self._sampling.wait(2):
            try:
                now = self.cluster.memory()
                info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
                now["host used"] = round((int(info["MemTotal"].split()[0]) - int(info["MemAvailable"].split()[0])) / 1024, 1)
            except Exception:  # noqa: BLE001 (a sample lost while stopping)
                continue
            for key, value in now.items():
                self.peak_memory[key] = max(value, self.peak_memory.get(key, 0.0))

    @classmethod
    def start(cls, build_first: bool, wait_for_lock: bool = False) -> "Session":
        if build_first:
            cluster_build.build()
        manifest = cluster_build.built()
        if manifest is None:
            raise cluster_node.ClusterError("the cluster is not built")
        # One cluster per machine (fixed ports): a lock beside the state folder.
        state = cluster_config.state_dir()
        state.parent.mkdir(parents=True, exist_ok=True)
        lock = open(state.parent / "cluster.lock", "w")
        if fcntl is not None:
            deadline = time.monotonic() + (1800 if in_ci() or wait_for_lock else 0)
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if time.monotonic() >= deadline:
                        lock.close()
                        raise cluster_node.ClusterError("another test session is running a cluster on this machine") from None
                    time.sleep(5)
        cluster = cluster_node.Cluster(manifest)
        if cluster.running():
            # A cluster left running by `cluster up` (not by a test session): stop it first.
            cluster.down()
        try:
            up_seconds = cluster.up()
        except BaseException:
            lock.close()
            raise
        return cls(cluster, lock, up_seconds)

    def stop(self) -> dict[str, Any]:
        self._sampling.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        try:
            return self.cluster.down()
        finally:
            self._lock.close()

    # ------------------------------------------------------------------------------------------

    def unique(self, stem: str) -> str:
        with self._counter_lock:
            self._counter += 1
            return f"{stem.replace('_', '-')[:40]}-{self._counter}"

    def submit_manifest(self, manifest: str | dict[str, Any], parameters: dict[str, str], name: str, give_up: Any = None) -> Future:
        """Run a manifest in the background; the future gives the report (simulator shape)."""

        def work() -> dict[str, Any]:
            t0 = time.monotonic()
            created = self.client.submit(manifest, parameters, name=name)
            report = self.client.wait(created, timeout=WORKFLOW_TIMEOUT_S, give_up=give_up)
            self.timings[created] = round(time.monotonic() - t0, 1)
            report["seconds"] = self.timings[created]
            return report

        return self._pool.submit(work)

    def submit_ir(
        self,
        ir_text: str,
        arguments: dict[str, Any],
        stem: str,
        patch: Callable[[dict[str, Any]], None] | None = None,
        give_up: Callable[[dict[str, Any]], str | None] | None = None,
        options: Any = None,
    ) -> Future:
        """Transpile the IR with the current transpiler (and ``options``) and run it with
        ``arguments`` (typed pipeline parameters, in their wire form as ``argo submit -p`` would
        pass them); the future gives an :class:`runs.ArgoRun`. ``patch`` may edit the manifest (a
        dict) first."""
        import yaml

        from transpiler import transpile, wire

        index = TaskIndex(ir_text)
        manifest = yaml.safe_load(transpile(ir_text, options, file=f"{stem}.yaml"))
        if patch:
            patch(manifest)
        parameters = {}
        for key, value in arguments.items():
            parameter = index.root_parameters[key]
            parameters[parameter.name] = wire.wire_value(value, parameter.type)
        inner = self.submit_manifest(manifest, parameters, self.unique(stem), give_up)
        outer: Future = Future()

        def done(f: Future) -> None:
            try:
                report = f.result()
                if report.get("timedOut") and not report.get("gaveUp"):
                    raise AssertionError(f"workflow {report['workflow']} did not finish in {WORKFLOW_TIMEOUT_S} s: {report['phase']}")
                run, attempts = index.normalize(report)
                outer.set_result(ArgoRun(run=run, report=report, attempts=attempts))
            except BaseException as e:  # noqa: BLE001 (handed to the test)
                outer.set_exception(e)

        inner.add_done_callback(done)
        return outer


# ----------------------------------------------------------------------------------------------
# The simulator against the cluster


def _normalise(value: Any, replacements: dict[str, str]) -> Any:
    import json as _json

    import re

    text = _json.dumps(value, sort_keys=True, ensure_ascii=False)
    for old, new in sorted(replacements.items(), key=lambda kv: -len(kv[0])):
        if old:
            text = text.replace(old, new)
    # sha256 digests of names (the collected-artifact prefixes hash the node's name)
    text = re.sub(r"\b[0-9a-f]{64}\b", "SHA256", text)
    return _json.loads(text)


def comparable(argo: ArgoRun) -> dict[str, Any]:
    """A report with what differs by construction taken out: the workflow's name and uid, node
    ids, pod names and artifact keys (they embed the names), start and finish times."""
    report = argo.report
    replacements = {report["workflow"]: "WORKFLOW", report["uid"]: "UID"}
    for pod in report["pods"]:
        replacements[pod["name"]] = "POD"
    nodes = {}
    by_id = {n["id"]: n for n in report["nodes"]}
    for n in report["nodes"]:
        outputs = dict(n.get("outputs") or {})
        if outputs.get("artifacts"):
            outputs["artifacts"] = {k: {f: v for f, v in a.items() if f != "key"} for k, a in outputs["artifacts"].items()}
        nodes[n["name"]] = {
            "type": n["type"], "phase": n["phase"], "message": n.get("message", ""), "templateName": n.get("templateName", ""),
            "inputs": n.get("inputs"), "outputs": outputs or None,
            "children": sorted(by_id[c]["name"] for c in n.get("children", []) if c in by_id),
        }
    pods: dict[str, list[str]] = {}
    for pod in report["pods"]:
        owner = by_id.get(pod["nodeID"], {}).get("name", "?")
        pods.setdefault(owner, []).append(_stable_stdout(pod["stdout"]))
    return _normalise({"phase": report["phase"], "message": report.get("message", ""), "nodes": nodes, "stdout": pods}, replacements)


def _stable_stdout(text: str) -> str:
    """What a pod printed, less what differs from run to run or by where the pod ran: the KFP
    executor's log timestamps, `mktemp -d` names, and the simulator's per-pod root folder (its
    pods run on the host, so the absolute paths KFP writes into the executor input are rewritten
    below a scratch folder)."""
    import re

    text = re.sub(r"\[KFP Executor \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", "[KFP Executor TIME ", text)
    text = re.sub(r"/tmp/tmp\.[A-Za-z0-9]+", "/tmp/TMPDIR", text)
    text = re.sub(r"/[^\s\"'`]*/argo/pods/[^/\s]+/root(?=/)", "", text)
    return text


def compare_reports(sim: ArgoRun, real: ArgoRun) -> list[str]:
    """Every difference between the simulator's and the cluster's run of one manifest."""
    a, b = comparable(sim), comparable(real)
    diffs = []
    if sim.run != real.run:
        diffs.append(f"run: simulator {sim.run} != cluster {real.run}")
    for field in ("phase", "message"):
        if a[field] != b[field]:
            diffs.append(f"workflow {field}: simulator {a[field]!r} != cluster {b[field]!r}")
    for name in sorted(set(a["nodes"]) | set(b["nodes"])):
        x, y = a["nodes"].get(name), b["nodes"].get(name)
        if x is None or y is None:
            diffs.append(f"node {name}: only on the {'cluster' if x is None else 'simulator'}")
            continue
        for field in x:
            if x[field] != y[field]:
                diffs.append(f"node {name} {field}: simulator {x[field]!r} != cluster {y[field]!r}")
    for name in sorted(set(a["stdout"]) | set(b["stdout"])):
        x, y = sorted(a["stdout"].get(name, [])), sorted(b["stdout"].get(name, []))
        if x != y:
            diffs.append(f"stdout of {name}: simulator {x!r} != cluster {y!r}")
    return diffs


def stuck_node(template: str, seconds: float) -> Callable[[dict[str, Any]], str | None]:
    """A give_up predicate: a node of ``template`` still running ``seconds`` after it started."""
    import datetime

    def check(wf: dict[str, Any]) -> str | None:
        now = datetime.datetime.now(datetime.timezone.utc)
        for node in ((wf.get("status") or {}).get("nodes") or {}).values():
            started = node.get("startedAt")
            if node.get("templateName") == template and node.get("phase") == "Running" and started:
                age = (now - datetime.datetime.fromisoformat(started.replace("Z", "+00:00"))).total_seconds()
                if age > seconds:
                    return f"node {node['displayName']} ({template}) still running after {age:.0f} s"
        return None

    return check
