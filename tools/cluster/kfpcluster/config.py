"""Pinned versions, fixed addresses and the folders the cluster harness uses.

Every artefact is cached under ``cache_dir()`` in a folder whose name carries the versions it was
built from (plus ``RECIPE``, bumped when a build step changes), so changing a pin here rebuilds
exactly that piece and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]

# Bump when a build recipe changes in a way that must invalidate cached artefacts.
RECIPE = 1

KUBERNETES = "v1.33.1"  # k8s.io/kubernetes; its staging modules are k8s.io/<name> v0.33.1
ARGO = "v4.0.2"  # github.com/argoproj/argo-workflows/v4
MINIO = "v0.0.0-20260212201848-7aac2a2c5b7c"  # github.com/minio/minio (no semver tags on the proxy)
DEBIAN_SUITE = "bookworm"
KFP = "2.17.0"

# Debian packages unpacked with dpkg-deb -x (never installed). Exact versions first; when the
# mirror no longer serves one, the build takes the candidate apt offers and says so.
DEBS = {
    "etcd-server": "3.4.23-4+b4",
    "containerd": "1.6.20~ds1-1+deb12u3",
    "runc": "1.1.5+ds1-1+deb12u1",
    "containernetworking-plugins": "1.1.1+ds1-3+b5",
    "socat": "1.7.4.4-2",
    "libwrap0": "7.6.q-32",
    "busybox-static": "1:1.35.0-4+deb12u1+b1",
    "debootstrap": "1.0.128+nmu2+deb12u2",
}

# Images built locally (no registry): image ref -> rootfs kind. The refs are the fully qualified
# names containerd's CRI normalises a manifest's short names to (python:3.11 ->
# docker.io/library/python:3.11), and none is ":latest", so the kubelet never pulls.
EXECUTOR_IMAGE = f"quay.io/argoproj/argoexec:{ARGO}"
PAUSE_IMAGE = "localhost/kfp2argo/pause:1"
IMAGES = {
    "docker.io/library/python:3.11": "python",
    "docker.io/library/python:3.11-slim": "python",
    "docker.io/library/alpine:3.20": "busybox",
    "docker.io/library/busybox:1.36": "busybox",
    EXECUTOR_IMAGE: "argoexec",
    PAUSE_IMAGE: "pause",
}

# Addresses. Host side: everything on 127.0.0.1. Inside the node's private network namespace:
# 10.96.0.1 is the `kubernetes` Service (a relay to the API server), 10.96.0.2 the S3 store.
ETCD_CLIENT_PORT = 23790
ETCD_PEER_PORT = 23800
ETCD_METRICS_PORT = 23810
APISERVER_PORT = 26443
KCM_PORT = 30257
SCHEDULER_PORT = 30259
KUBELET_PORT = 30250
KUBELET_HEALTHZ_PORT = 30248
S3_ADDRESS = "10.96.0.2"
S3_PORT = 9000
S3_BUCKET = "kfp2argo"
S3_ACCESS_KEY = "kfp2argo-access"
S3_SECRET_KEY = "kfp2argo-secret-key"
SERVICE_CIDR = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"
POD_CIDR = "10.244.0.0/24"
BRIDGE = "kfp2argo0"
CGROUP_ROOT = "kfp2argo"
NAMESPACE = "argo"
NODE_NAME = "localhost"  # the API server reaches the kubelet by this name: 127.0.0.1, relayed into the node


def cache_dir() -> Path:
    """Build artefacts: $KFP2ARGO_CLUSTER_CACHE, else $XDG_CACHE_HOME/kfp2argo-cluster."""
    explicit = os.environ.get("KFP2ARGO_CLUSTER_CACHE")
    if explicit:
        return Path(explicit).resolve()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base).resolve() / "kfp2argo-cluster"


def state_dir() -> Path:
    """The running cluster's state (etcd data, PKI, kubelet and containerd roots, logs, PIDs)."""
    explicit = os.environ.get("KFP2ARGO_CLUSTER_STATE")
    return Path(explicit).resolve() if explicit else cache_dir() / "state"


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps([RECIPE, *parts], sort_keys=True).encode()).hexdigest()[:12]


def artefact_dirs() -> dict[str, Path]:
    """The cache folder of each artefact, named by what it is built from."""
    root = cache_dir() / "artefacts"
    return {
        "kubernetes": root / f"kubernetes-{KUBERNETES}-r{RECIPE}",
        "argo": root / f"argo-{ARGO}-r{RECIPE}",
        "minio": root / f"minio-{MINIO}-r{RECIPE}",
        "debs": root / f"debs-{_key(DEBS)}",
        "rootfs-python": root / f"rootfs-python-{DEBIAN_SUITE}-kfp{KFP}-{_key(DEBS['debootstrap'])}",
        "images": root / f"images-{_key(IMAGES, DEBS, KFP, ARGO, DEBIAN_SUITE)}",
    }


def manifest_path() -> Path:
    """Written by a complete build: where every artefact is (what `up` and the tests read)."""
    return cache_dir() / "current.json"
