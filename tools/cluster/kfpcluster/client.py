"""Python client API of the cluster harness (stdlib + PyYAML).

* :class:`Kube`: the API server's REST API with the cluster's static token: create (or dry-run)
  YAML/JSON objects, get, list, delete, pod logs.
* :class:`S3`: the MinIO artifact store, over the unix socket relayed from the node namespace
  (AWS signature v4, no SDK): make a bucket, get an object, list keys, read an artifact (Argo's
  .tgz archives unpacked).
* :class:`ClusterClient`: what the tests use: submit a workflow, wait for it, and a report of it
  in the simulator's shape (nodes with phases, output parameters and artifact contents; pods with
  their stdout and stderr) so the same expectations apply to both.

    from kfpcluster.client import ClusterClient
    c = ClusterClient.from_state()
    name = c.submit(manifest_text, parameters={"n": "3"})
    report = c.wait(name, timeout=300)
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import hmac
import http.client
import io
import json
import socket
import ssl
import tarfile
import time
import urllib.parse
from pathlib import Path
from typing import Any, Iterable

from . import config

WORKFLOW_PATH = "/apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows"


def _yaml_loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# kind -> (api prefix, plural, namespaced)
_RESOURCES = {
    ("v1", "Namespace"): ("/api/v1", "namespaces", False),
    ("v1", "Secret"): ("/api/v1", "secrets", True),
    ("v1", "ConfigMap"): ("/api/v1", "configmaps", True),
    ("v1", "ServiceAccount"): ("/api/v1", "serviceaccounts", True),
    ("v1", "PersistentVolume"): ("/api/v1", "persistentvolumes", False),
    ("v1", "PersistentVolumeClaim"): ("/api/v1", "persistentvolumeclaims", True),
    ("v1", "Pod"): ("/api/v1", "pods", True),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): ("/apis/apiextensions.k8s.io/v1", "customresourcedefinitions", False),
    ("argoproj.io/v1alpha1", "Workflow"): ("/apis/argoproj.io/v1alpha1", "workflows", True),
    ("argoproj.io/v1alpha1", "WorkflowTemplate"): ("/apis/argoproj.io/v1alpha1", "workflowtemplates", True),
    ("argoproj.io/v1alpha1", "CronWorkflow"): ("/apis/argoproj.io/v1alpha1", "cronworkflows", True),
    ("argoproj.io/v1alpha1", "ClusterWorkflowTemplate"): ("/apis/argoproj.io/v1alpha1", "clusterworkflowtemplates", False),
}


class ApiError(RuntimeError):
    def __init__(self, status: int, body: Any, what: str) -> None:
        self.status = status
        self.body = body
        message = body.get("message") if isinstance(body, dict) else str(body)[:2000]
        super().__init__(f"{what}: HTTP {status}: {message}")


class Kube:
    """A small REST client of the API server (TLS not verified: the server's self-signed cert)."""

    def __init__(self, server: str, token: str, namespace: str = config.NAMESPACE) -> None:
        parsed = urllib.parse.urlparse(server)
        self.host, self.port = parsed.hostname, parsed.port or 443
        self.token = token
        self.namespace = namespace
        self._ctx = ssl.create_default_context()
        self._ctx.check_hostname = False
        self._ctx.verify_mode = ssl.CERT_NONE

    def request(self, method: str, path: str, body: Any = None, content_type: str = "application/json", raw: bool = False, timeout: float = 60) -> tuple[int, Any]:
        conn = http.client.HTTPSConnection(self.host, self.port, context=self._ctx, timeout=timeout)
        try:
            headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
            data = None
            if body is not None:
                data = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")
                headers["Content-Type"] = content_type
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        if raw:
            return response.status, payload
        try:
            return response.status, json.loads(payload) if payload else None
        except ValueError:
            return response.status, payload.decode("utf-8", "replace")

    # objects
    def collection(self, doc: dict[str, Any]) -> str:
        key = (doc.get("apiVersion"), doc.get("kind"))
        if key not in _RESOURCES:
            raise ValueError(f"unknown kind {key}")
        prefix, plural, namespaced = _RESOURCES[key]
        if namespaced:
            ns = (doc.get("metadata") or {}).get("namespace") or self.namespace
            return f"{prefix}/namespaces/{ns}/{plural}"
        return f"{prefix}/{plural}"

    def create(self, doc: dict[str, Any] | str, dry_run: bool = False) -> tuple[int, Any]:
        """POST one object (a dict, or YAML/JSON text sent as it is); returns (status, body)."""
        if isinstance(doc, str):
            import yaml

            parsed = yaml.load(doc, Loader=_yaml_loader())
            path = self.collection(parsed)
            content_type = "application/yaml"
        else:
            path, content_type = self.collection(doc), "application/json"
        if dry_run:
            path += "?dryRun=All"
        return self.request("POST", path, doc, content_type)

    def apply(self, docs: Iterable[dict[str, Any]]) -> None:
        """Create each object, or replace it when it exists."""
        for doc in docs:
            status, body = self.create(doc)
            if status == 409:
                path = f"{self.collection(doc)}/{doc['metadata']['name']}"
                status, current = self.request("GET", path)
                if status == 200:
                    doc = dict(doc, metadata=dict(doc["metadata"], resourceVersion=current["metadata"]["resourceVersion"]))
                    status, body = self.request("PUT", path, doc)
            if status not in (200, 201):
                raise ApiError(status, body, f"apply {doc.get('kind')} {doc.get('metadata', {}).get('name')}")

    def apply_yaml(self, text: str) -> None:
        import yaml

        self.apply(d for d in yaml.load_all(text, Loader=_yaml_loader()) if d)

    def get(self, path: str) -> Any:
        status, body = self.request("GET", path)
        if status != 200:
            raise ApiError(status, body, f"GET {path}")
        return body

    def logs(self, pod: str, container: str = "main", namespace: str | None = None) -> str:
        """A container's log through the API server (stdout and stderr interleaved)."""
        path = f"/api/v1/namespaces/{namespace or self.namespace}/pods/{pod}/log?container={container}"
        status, body = self.request("GET", path, raw=True)
        if status != 200:
            raise ApiError(status, body.decode("utf-8", "replace"), f"logs of {pod}/{container}")
        return body.decode("utf-8", "replace")


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 60) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class S3:
    """The S3 store (MinIO) through the unix socket relayed from the node namespace."""

    def __init__(self, socket_path: Path, access_key: str = config.S3_ACCESS_KEY, secret_key: str = config.S3_SECRET_KEY, region: str = "us-east-1") -> None:
        self.socket_path = str(socket_path)
        self.access_key, self.secret_key, self.region = access_key, secret_key, region
        self.host = f"{config.S3_ADDRESS}:{config.S3_PORT}"

    def _request(self, method: str, path: str, query: dict[str, str] | None = None, body: bytes = b"") -> tuple[int, bytes]:
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        payload_hash = hashlib.sha256(body).hexdigest()
        query = query or {}
        canonical_query = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in sorted(query.items()))
        canonical_path = urllib.parse.quote(path, safe="/-_.~")
        headers = {"host": self.host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
        signed = ";".join(sorted(headers))
        canonical = "\n".join([method, canonical_path, canonical_query, "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), signed, payload_hash])
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret_key).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"
        conn = _UnixHTTPConnection(self.socket_path)
        try:
            conn.request(method, canonical_path + (f"?{canonical_query}" if canonical_query else ""), body=body or None, headers={k.title(): v for k, v in headers.items()})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def ready(self) -> bool:
        conn = _UnixHTTPConnection(self.socket_path, timeout=5)
        try:
            conn.request("GET", "/minio/health/live", headers={"Host": self.host})
            return conn.getresponse().status == 200
        finally:
            conn.close()

    def make_bucket(self, bucket: str) -> None:
        status, body = self._request("PUT", f"/{bucket}")
        if status not in (200, 409):
            raise RuntimeError(f"S3 make bucket {bucket}: HTTP {status}: {body[:500]!r}")

    def put(self, key: str, data: bytes, bucket: str = config.S3_BUCKET) -> None:
        status, body = self._request("PUT", f"/{bucket}/{key}", body=data)
        if status != 200:
            raise RuntimeError(f"S3 PUT {bucket}/{key}: HTTP {status}: {body[:500]!r}")

    def get(self, key: str, bucket: str = config.S3_BUCKET) -> bytes | None:
        status, body = self._request("GET", f"/{bucket}/{key}")
        if status == 404:
            return None
        if status != 200:
            raise RuntimeError(f"S3 GET {bucket}/{key}: HTTP {status}: {body[:500]!r}")
        return body

    def list(self, prefix: str, bucket: str = config.S3_BUCKET) -> list[str]:
        import xml.etree.ElementTree as ET

        keys, token = [], None
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if token:
                query["continuation-token"] = token
            status, body = self._request("GET", f"/{bucket}", query)
            if status != 200:
                raise RuntimeError(f"S3 list {bucket}/{prefix}: HTTP {status}: {body[:500]!r}")
            root = ET.fromstring(body)
            ns = {"s": root.tag.split("}")[0].strip("{")} if root.tag.startswith("{") else {}
            find = (lambda e, tag: e.findall(f"s:{tag}", ns)) if ns else (lambda e, tag: e.findall(tag))
            keys += [c.findtext("s:Key" if ns else "Key", namespaces=ns) for c in find(root, "Contents")]
            truncated = root.findtext("s:IsTruncated" if ns else "IsTruncated", namespaces=ns)
            token = root.findtext("s:NextContinuationToken" if ns else "NextContinuationToken", namespaces=ns)
            if truncated != "true" or not token:
                return keys

    def artifact(self, key: str) -> dict[str, Any]:
        """An artifact's content in the simulator's report shape: {"file": content} for a file,
        {"files": {relative path: content}} for a directory, {"missing": True} when absent.
        Argo's default archive (tar + gzip of the one file or folder) is unpacked."""
        data = self.get(key)
        if data is None:
            keys = self.list(key.rstrip("/") + "/")
            if not keys:
                return {"key": key, "missing": True}
            base = key.rstrip("/") + "/"
            return {"key": key, "files": {k[len(base):]: _content(self.get(k) or b"") for k in keys}}
        if key.endswith(".tgz") or data[:2] == b"\x1f\x8b":
            try:
                with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
                    members = [m for m in tar.getmembers()]
                    files = {m.name: tar.extractfile(m).read() for m in members if m.isfile()}
            except (OSError, tarfile.TarError, EOFError):
                return {"key": key, "file": _content(data)}
            tops = {m.name.split("/")[0] for m in members}
            if len(tops) == 1 and len(files) == 1 and next(iter(files)) in tops:
                return {"key": key, "file": _content(next(iter(files.values())))}
            top = next(iter(tops)) if len(tops) == 1 else ""
            strip = len(top) + 1 if top else 0
            return {"key": key, "files": {name[strip:]: _content(content) for name, content in sorted(files.items())}}
        return {"key": key, "file": _content(data)}


def _content(data: bytes) -> dict[str, str]:
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        import base64

        return {"base64": base64.b64encode(data).decode("ascii")}


# ----------------------------------------------------------------------------------------------


def parse_cri_log(text: str) -> dict[str, str]:
    """A CRI log file ("<time> <stream> <P|F> <line>") as {"stdout": ..., "stderr": ...}."""
    streams = {"stdout": [], "stderr": []}
    for line in text.splitlines():
        parts = line.split(" ", 3)
        if len(parts) < 3 or parts[1] not in streams:
            continue
        content = parts[3] if len(parts) == 4 else ""
        streams[parts[1]].append(content if parts[2] == "P" else content + "\n")
    return {k: "".join(v) for k, v in streams.items()}


class ClusterClient:
    """The running cluster, as the tests see it."""

    def __init__(self, state: Path | None = None) -> None:
        self.state = state or config.state_dir()
        token = (self.state / "pki" / "token").read_text().strip()
        self.kube = Kube(f"https://127.0.0.1:{config.APISERVER_PORT}", token)
        self.s3 = S3(self.state / "s3.sock")
        self.namespace = config.NAMESPACE

    @classmethod
    def from_state(cls) -> "ClusterClient":
        return cls()

    # submit and wait
    def submit(self, manifest: str | dict[str, Any], parameters: dict[str, str] | None = None, name: str | None = None, labels: dict[str, str] | None = None) -> str:
        """Create a Workflow (as `argo submit -p k=v` would: spec.arguments.parameters set);
        returns its name."""
        import yaml

        doc = yaml.load(manifest, Loader=_yaml_loader()) if isinstance(manifest, str) else json.loads(json.dumps(manifest))
        if doc.get("kind") != "Workflow":
            raise ValueError(f"not a Workflow: {doc.get('kind')}")
        metadata = doc.setdefault("metadata", {})
        metadata["namespace"] = self.namespace
        if name:
            metadata.pop("generateName", None)
            metadata["name"] = name
        if labels:
            metadata.setdefault("labels", {}).update(labels)
        if parameters:
            arguments = doc.setdefault("spec", {}).setdefault("arguments", {}).setdefault("parameters", [])
            by_name = {p["name"]: p for p in arguments}
            for key, value in parameters.items():
                if key in by_name:
                    by_name[key].pop("valueFrom", None)
                    by_name[key]["value"] = value
                else:
                    arguments.append({"name": key, "value": value})
        status, body = self.kube.create(doc)
        if status != 201:
            raise ApiError(status, body, "create Workflow")
        return body["metadata"]["name"]

    def dry_run(self, manifest: str) -> tuple[int, Any]:
        """Server-side dry-run create: (201, object) when the API server admits it."""
        import yaml

        doc = yaml.load(manifest, Loader=_yaml_loader()) if isinstance(manifest, str) else json.loads(json.dumps(manifest))
        doc.setdefault("metadata", {})["namespace"] = self.namespace
        return self.kube.create(doc, dry_run=True)

    def workflow(self, name: str) -> dict[str, Any]:
        return self.kube.get(f"{WORKFLOW_PATH.format(ns=self.namespace)}/{name}")

    def wait(self, name: str, timeout: float = 600, give_up: Any = None) -> dict[str, Any]:
        """Wait until the workflow completes; returns its report (see :meth:`report`), with
        "timedOut" true when it did not finish in time, or when ``give_up(workflow)`` (called at
        every poll) returned a reason, which is kept as "gaveUp"."""
        deadline = time.monotonic() + timeout
        while True:
            wf = self.workflow(name)
            status = wf.get("status") or {}
            done = status.get("phase") in ("Succeeded", "Failed", "Error") and status.get("finishedAt")
            reason = None if done or give_up is None else give_up(wf)
            if done or reason or time.monotonic() > deadline:
                report = self.report(wf)
                report["timedOut"] = not done
                if reason:
                    report["gaveUp"] = reason
                return report
            time.sleep(1)

    # reading results
    def pods(self, workflow: str) -> list[dict[str, Any]]:
        selector = urllib.parse.quote(f"workflows.argoproj.io/workflow={workflow}")
        return self.kube.get(f"/api/v1/namespaces/{self.namespace}/pods?labelSelector={selector}")["items"]

    def pod_streams(self, pod: dict[str, Any], container: str = "main") -> dict[str, str]:
        """stdout and stderr apart, from the kubelet's CRI log file (the API's log merges them)."""
        meta = pod["metadata"]
        folder = self.state / "node" / "pod-logs" / f"{meta['namespace']}_{meta['name']}_{meta['uid']}" / container
        files = sorted(folder.glob("*.log"), key=lambda p: int(p.stem) if p.stem.isdigit() else -1) if folder.is_dir() else []
        if not files:
            return {"stdout": "", "stderr": ""}
        return parse_cri_log(files[-1].read_text(encoding="utf-8", errors="replace"))

    def logs(self, pod: str, container: str = "main") -> str:
        return self.kube.logs(pod, container)

    def report(self, wf: dict[str, Any]) -> dict[str, Any]:
        """The workflow in the shape kfp2argo-sim prints (tools/argo-lint/cmd/kfp2argo-sim/report.go)."""
        status = wf.get("status") or {}
        nodes_status = status.get("nodes") or {}
        if not nodes_status and status.get("compressedNodes"):
            import base64

            nodes_status = json.loads(gzip.decompress(base64.b64decode(status["compressedNodes"])))
        name = wf["metadata"]["name"]
        nodes = []
        for node in nodes_status.values():
            entry = {
                "id": node["id"], "name": node["name"], "displayName": node.get("displayName", ""), "type": node["type"],
                "templateName": node.get("templateName", ""), "phase": node.get("phase", ""), "message": node.get("message", ""),
                "boundaryID": node.get("boundaryID", ""), "children": node.get("children", []),
            }
            inputs = (node.get("inputs") or {}).get("parameters")
            if inputs:
                entry["inputs"] = {p["name"]: p.get("value") for p in inputs}
            outputs = node.get("outputs")
            if outputs:
                out: dict[str, Any] = {k: outputs[k] for k in ("result", "exitCode") if outputs.get(k) is not None}
                if outputs.get("parameters"):
                    out["parameters"] = {p["name"]: p.get("value") for p in outputs["parameters"]}
                for art in outputs.get("artifacts") or []:
                    out.setdefault("artifacts", {})[art["name"]] = self._artifact(art)
                entry["outputs"] = out
            nodes.append(entry)
        nodes.sort(key=lambda n: n["name"])
        pods = []
        for pod in self.pods(name):
            annotations = pod["metadata"].get("annotations") or {}
            node_id = annotations.get("workflows.argoproj.io/node-id") or _node_id_of(pod, nodes_status)
            streams = self.pod_streams(pod)
            main = next((c for c in (pod.get("status") or {}).get("containerStatuses") or [] if c["name"] == "main"), {})
            terminated = (main.get("state") or {}).get("terminated") or {}
            pods.append({
                "name": pod["metadata"]["name"], "nodeID": node_id, "phase": (pod.get("status") or {}).get("phase", ""),
                "exitCode": terminated.get("exitCode"), "message": terminated.get("message", ""),
                "stdout": streams["stdout"], "stderr": streams["stderr"],
            })
        pods.sort(key=lambda p: p["name"])
        return {"workflow": name, "uid": wf["metadata"]["uid"], "phase": status.get("phase", ""), "message": status.get("message", ""),
                "nodes": nodes, "pods": pods, "startedAt": status.get("startedAt"), "finishedAt": status.get("finishedAt")}

    def _artifact(self, art: dict[str, Any]) -> dict[str, Any]:
        s3 = art.get("s3") or {}
        key = s3.get("key")
        if not key:
            return {"missing": True}
        return self.s3.artifact(key)

    def delete_workflows(self) -> None:
        self.kube.request("DELETE", WORKFLOW_PATH.format(ns=self.namespace))


def _node_id_of(pod: dict[str, Any], nodes: dict[str, Any]) -> str:
    """Argo v4 pod names are <workflow>-<template>-<hash>; match a Pod node by its hash suffix
    when the node-id annotation is absent."""
    name = pod["metadata"]["name"]
    for node_id, node in nodes.items():
        if node.get("type") == "Pod" and name.endswith(node_id.rsplit("-", 1)[-1]):
            return node_id
    return ""
