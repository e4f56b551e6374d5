"""`cluster up` / `cluster down`: a single-node Kubernetes with Argo, from the built artefacts.

Host network namespace, all on 127.0.0.1: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler, a relay from the unix socket STATE/kas.sock to the API server, and a relay from
127.0.0.1:30250 to the kubelet (so the API server can serve pod logs).

The node is a private network *and* mount namespace (held by a `sleep infinity`): loopback with
10.96.0.1 (the `kubernetes` Service: a relay to kas.sock) and 10.96.0.2 (MinIO, the S3 artifact
store), tmpfs over /run, /var/lib and /var/log, containerd, the kubelet, the pods on a CNI bridge
and Argo's workflow-controller. Every mount the kubelet and containerd make lives in that mount
namespace and disappears with it; nothing listens outside 127.0.0.1 on the host.

Each process started is recorded in STATE/pids/<name>.json (PID and start time); `down` stops only
those, checking the start time so that a recycled PID is never signalled, then removes the
cgroup tree (cgroupRoot /kfp2argo) the kubelet made.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from . import config


class ClusterError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[cluster {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# Can this machine run the cluster?


def _cgroup_hierarchies() -> list[Path]:
    """cgroup v1 hierarchies (and a hybrid's unified mount), or [/sys/fs/cgroup] on pure v2."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            fstype, mountpoint = fields[sep + 1], fields[4]
            if fstype in ("cgroup", "cgroup2") and mountpoint.startswith("/sys/fs/cgroup"):
                mounts.append((fstype, Path(mountpoint)))
    return [m for _, m in mounts]


def cgroup_version() -> int:
    try:
        os.statvfs("/sys/fs/cgroup")
        return 2 if _fs_type("/sys/fs/cgroup").startswith("cgroup2") else 1  # stat says "cgroup2fs"
    except OSError:
        return 0


def _fs_type(path: str) -> str:
    out = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True)
    return out.stdout.strip()


def preflight() -> list[str]:
    """Why this machine cannot run the cluster (empty when it can)."""
    problems = []
    if os.geteuid() != 0:
        return ["not root: the cluster needs root (namespaces, mounts, cgroups, containers)"]
    for tool in ("unshare", "nsenter", "ip", "mount", "umount", "openssl"):
        if not shutil.which(tool):
            problems.append(f"{tool} is not on PATH")
    if problems:
        return problems
    probe = subprocess.run(
        ["unshare", "--net", "--mount", "--propagation", "private", "sh", "-c",
         "ip link set lo up && ip link add kfpb0 type bridge && ip link add kfpv0 type veth peer name kfpv1"
         " && mount -t tmpfs none /mnt && umount /mnt"],
        capture_output=True, text=True,
    )
    if probe.returncode != 0:
        problems.append(f"cannot make a network+mount namespace with a bridge and a veth pair: {probe.stderr.strip()}")
    version = cgroup_version()
    test = "kfp2argo-preflight"
    if version == 1:
        hierarchies = _cgroup_hierarchies()
        needed = {"cpu", "memory", "pids", "cpuset", "devices", "freezer"}
        present = {h.name for h in hierarchies} | {part for h in hierarchies for part in h.name.split(",")}
        missing = needed - present
        if missing:
            problems.append(f"cgroup v1 without the {', '.join(sorted(missing))} hierarchies")
        for h in hierarchies:
            try:
                (h / test).mkdir(exist_ok=True)
                (h / test).rmdir()
            except OSError as e:
                problems.append(f"cgroup v1 hierarchy {h} is not writable: {e}")
    elif version == 2:
        root = Path("/sys/fs/cgroup")
        controllers = set((root / "cgroup.controllers").read_text().split())
        missing = {"cpu", "memory", "pids"} - controllers
        if missing:
            problems.append(f"cgroup v2 without delegated controllers {', '.join(sorted(missing))}")
        try:
            (root / test).mkdir(exist_ok=True)
            (root / test).rmdir()
        except OSError as e:
            problems.append(f"cgroup v2 is not writable (no delegation): {e}")
    else:
        problems.append("no cgroup file system at /sys/fs/cgroup")
    return problems


# ----------------------------------------------------------------------------------------------
# Processes


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()[19]


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()[0]


class Cluster:
    """The cluster described by the build manifest and the state folder."""

    def __init__(self, manifest: dict[str, str] | None = None, state: Path | None = None) -> None:
        if manifest is None:
            from . import build

            manifest = build.built()
            if manifest is None:
                raise ClusterError("the cluster is not built: run `tools/cluster/cluster build`")
        self.art = {k: Path(v) for k, v in manifest.items()}
        self.state = state or config.state_dir()
        self.debs = self.art["debs"] / "root"
        self.k8s_bin = self.art["kubernetes"] / "bin"
        self.argo_bin = self.art["argo"] / "bin"
        self.lib = self.debs / "usr/lib/x86_64-linux-gnu"

    # paths
    @property
    def pids(self) -> Path:
        return self.state / "pids"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def node(self) -> Path:
        return self.state / "node"

    @property
    def kubeconfig(self) -> Path:
        return self.state / "kubeconfig"

    @property
    def token(self) -> str:
        return (self.state / "pki" / "token").read_text().strip()

    @property
    def s3_socket(self) -> Path:
        return self.state / "s3.sock"

    @property
    def pod_logs(self) -> Path:
        return self.node / "pod-logs"

    # process bookkeeping
    def _record(self, name: str, proc: subprocess.Popen, command: list[str]) -> None:
        self.pids.mkdir(parents=True, exist_ok=True)
        record = {"pid": proc.pid, "start": _start_time(proc.pid), "command": command}
        (self.pids / f"{name}.json").write_text(json.dumps(record), encoding="utf-8")

    def _spawn(self, name: str, command: list[str], *, env: dict[str, str] | None = None, netns: bool = False) -> subprocess.Popen:
        if netns:
            command = ["nsenter", f"--net=/proc/{self._holder()}/ns/net", f"--mount=/proc/{self._holder()}/ns/mnt", "--", *command]
        self.logs.mkdir(parents=True, exist_ok=True)
        out = open(self.logs / f"{name}.log", "ab")
        full_env = {"PATH": f"{self.debs / 'usr/bin'}:{self.debs / 'usr/sbin'}:{self.debs / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin",
                    "HOME": str(self.state), "LANG": "C.UTF-8"}
        full_env.update(env or {})
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=full_env, start_new_session=True, cwd=self.state)
        out.close()
        self._record(name, proc, command)
        return proc

    def _holder(self) -> int:
        record = json.loads((self.pids / "node-ns.json").read_text())
        return record["pid"]

    def _in_node(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        holder = self._holder()
        proc = subprocess.run(
            ["nsenter", f"--net=/proc/{holder}/ns/net", f"--mount=/proc/{holder}/ns/mnt", "--", *command],
            capture_output=True, text=True, env={"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LD_LIBRARY_PATH": str(self.lib)},
        )
        if check and proc.returncode != 0:
            raise ClusterError(f"{' '.join(command)} (in the node namespace) exited {proc.returncode}: {proc.stderr}")
        return proc

    def running(self) -> dict[str, int]:
        """Recorded processes still alive (zombies count as stopped)."""
        alive = {}
        if not self.pids.is_dir():
            return alive
        for path in sorted(self.pids.glob("*.json")):
            record = json.loads(path.read_text())
            pid = record["pid"]
            if _start_time(pid) == record["start"] and _state(pid) not in (None, "Z", "X"):
                alive[path.stem] = pid
        return alive

    def _stop(self, name: str, timeout: float = 15) -> None:
        path = self.pids / f"{name}.json"
        if not path.is_file():
            return
        record = json.loads(path.read_text())
        pid = record["pid"]
        deadline = time.monotonic() + timeout
        sent_kill = False
        if _start_time(pid) == record["start"] and _state(pid) not in (None, "Z", "X"):
            os.kill(pid, signal.SIGTERM)
        while _start_time(pid) == record["start"] and _state(pid) not in (None, "Z", "X"):
            if time.monotonic() > deadline and not sent_kill:
                log(f"{name} (pid {pid}) ignored SIGTERM; SIGKILL")
                os.kill(pid, signal.SIGKILL)
                sent_kill = True
            time.sleep(0.1)
        try:  # reap it when it is our child (in-process use from the tests)
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        path.unlink()

    # ------------------------------------------------------------------------------------------
    # up

    def up(self) -> dict[str, float]:
        """Start everything; returns the seconds each phase took."""
        problems = preflight()
        if problems:
            raise ClusterError("this machine cannot run the cluster:\n  " + "\n  ".join(problems))
        if self.running():
            raise ClusterError(f"a cluster is already running from {self.state} ({', '.join(self.running())}): `cluster down` first")
        for forbidden in ("/run", "/var/lib", "/var/log"):
            if str(self.state).startswith(forbidden + "/"):
                raise ClusterError(f"the state folder {self.state} must not be under {forbidden} (hidden in the node namespace)")
        self._check_ports()
        times: dict[str, float] = {}
        t0 = time.monotonic()

        def mark(name: str) -> None:
            times[name] = round(time.monotonic() - t0 - sum(times.values()), 2)

        if self.state.exists():
            self._wipe_state()
        mark("remove the previous state")
        for d in (self.state, self.pids, self.logs, self.node):
            d.mkdir(parents=True, exist_ok=True)
        self._pki()
        mark("pki")
        try:
            self._start_control_plane(mark)
            self._start_node(mark)
            self._configure(mark)
            self._start_kubelet(mark)
            self._start_controller(mark)
        except BaseException:
            log(f"start-up failed; logs in {self.logs}; tearing down")
            try:
                self.down()
            except Exception as e:  # keep the first error
                log(f"teardown after the failed start-up: {e}")
            raise
        times["total"] = round(time.monotonic() - t0, 2)
        (self.state / "up.json").write_text(json.dumps({"seconds": times}, indent=1) + "\n")
        return times

    def _check_ports(self) -> None:
        for port in (config.ETCD_CLIENT_PORT, config.ETCD_PEER_PORT, config.ETCD_METRICS_PORT, config.APISERVER_PORT,
                     config.KCM_PORT, config.SCHEDULER_PORT, config.KUBELET_PORT):
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    raise ClusterError(f"127.0.0.1:{port} is in use (another cluster running?)") from None

    def _wipe_state(self) -> None:
        with open("/proc/self/mountinfo") as f:
            below = [line.split()[4] for line in f if line.split()[4].startswith(str(self.state) + "/")]
        if below:
            raise ClusterError(f"mounts remain below {self.state}: {below[:5]}")
        subprocess.run(["chmod", "-R", "u+w", str(self.state)], capture_output=True)
        shutil.rmtree(self.state)

    def _pki(self) -> None:
        pki = self.state / "pki"
        (pki / "serving").mkdir(parents=True)
        subprocess.run(["openssl", "genrsa", "-out", str(pki / "sa.key"), "2048"], check=True, capture_output=True)
        subprocess.run(["openssl", "rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub")], check=True, capture_output=True)
        token = os.urandom(24).hex()
        (pki / "token").write_text(token)
        (pki / "tokens.csv").write_text(f'{token},kfp2argo-admin,kfp2argo-admin,"system:masters"\n')
        self.kubeconfig.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "kfp2argo", "cluster": {"server": f"https://127.0.0.1:{config.APISERVER_PORT}", "insecure-skip-tls-verify": True}}],
                    "users": [{"name": "admin", "user": {"token": token}}],
                    "contexts": [{"name": "kfp2argo", "context": {"cluster": "kfp2argo", "user": "admin", "namespace": config.NAMESPACE}}],
                    "current-context": "kfp2argo",
                },
                indent=1,
            )
        )
        for p in pki.iterdir():
            if p.is_file():
                p.chmod(0o600)

    def _wait(self, what: str, check, timeout: float, proc_name: str | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except Exception:
                pass
            if proc_name and proc_name not in self.running():
                raise ClusterError(f"{proc_name} exited while waiting for {what}; log tail:\n{self._tail(proc_name)}")
            time.sleep(0.2)
        raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}" + (f"; log tail:\n{self._tail(proc_name)}" if proc_name else ""))

    def _tail(self, name: str, chars: int = 3000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.is_file() else "(no log)"

    def api(self, method: str, path: str, body: Any = None, content_type: str = "application/json") -> tuple[int, Any]:
        from .client import Kube

        return Kube(f"https://127.0.0.1:{config.APISERVER_PORT}", self.token).request(method, path, body, content_type)

    def _start_control_plane(self, mark) -> None:
        pki = self.state / "pki"
        self._spawn(
            "etcd",
            [
                str(self.debs / "usr/bin/etcd"), "--name", "kfp2argo", "--data-dir", str(self.state / "etcd-data"),
                "--listen-client-urls", f"http://127.0.0.1:{config.ETCD_CLIENT_PORT}",
                "--advertise-client-urls", f"http://127.0.0.1:{config.ETCD_CLIENT_PORT}",
                "--listen-peer-urls", f"http://127.0.0.1:{config.ETCD_PEER_PORT}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{config.ETCD_PEER_PORT}",
                "--initial-cluster", f"kfp2argo=http://127.0.0.1:{config.ETCD_PEER_PORT}",
                "--listen-metrics-urls", f"http://127.0.0.1:{config.ETCD_METRICS_PORT}",
                "--quota-backend-bytes", str(4 << 30), "--log-level", "warn",
            ],
        )
        self._wait("etcd", lambda: urllib.request.urlopen(f"http://127.0.0.1:{config.ETCD_CLIENT_PORT}/health", timeout=2).status == 200, 30, "etcd")
        mark("etcd")
        self._spawn(
            "kube-apiserver",
            [
                str(self.k8s_bin / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{config.ETCD_CLIENT_PORT}",
                "--bind-address=127.0.0.1", f"--secure-port={config.APISERVER_PORT}",
                f"--cert-dir={pki / 'serving'}", f"--token-auth-file={pki / 'tokens.csv'}",
                "--authorization-mode=AlwaysAllow", "--anonymous-auth=false",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--api-audiences=https://kubernetes.default.svc",
                f"--service-cluster-ip-range={config.SERVICE_CIDR}",
                f"--advertise-address={config.KUBERNETES_SERVICE_IP}",
                "--endpoint-reconciler-type=none",
                "--kubelet-preferred-address-types=Hostname",
                "--allow-privileged=true", "--profiling=false", "--v=1",
            ],
        )
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE

        def ready() -> bool:
            req = urllib.request.Request(f"https://127.0.0.1:{config.APISERVER_PORT}/readyz", headers={"Authorization": f"Bearer {self.token}"})
            return urllib.request.urlopen(req, context=ctx, timeout=2).status == 200

        self._wait("the API server", ready, 90, "kube-apiserver")
        mark("kube-apiserver")
        socat = str(self.debs / "usr/bin/socat")
        lib = {"LD_LIBRARY_PATH": str(self.lib)}
        self._spawn("relay-kas", [socat, f"UNIX-LISTEN:{self.state / 'kas.sock'},fork,mode=600", f"TCP:127.0.0.1:{config.APISERVER_PORT}"], env=lib)
        self._spawn("relay-kubelet", [socat, f"TCP-LISTEN:{config.KUBELET_PORT},bind=127.0.0.1,fork,reuseaddr", f"UNIX-CONNECT:{self.state / 'kubelet.sock'}"], env=lib)
        self._spawn(
            "kube-controller-manager",
            [
                str(self.k8s_bin / "kube-controller-manager"), f"--kubeconfig={self.kubeconfig}",
                "--bind-address=127.0.0.1", f"--secure-port={config.KCM_PORT}",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'serving' / 'apiserver.crt'}",
                "--leader-elect=false", "--use-service-account-credentials=false",
                f"--service-cluster-ip-range={config.SERVICE_CIDR}", "--profiling=false", "--v=1",
            ],
        )
        self._spawn(
            "kube-scheduler",
            [str(self.k8s_bin / "kube-scheduler"), f"--kubeconfig={self.kubeconfig}", "--bind-address=127.0.0.1",
             f"--secure-port={config.SCHEDULER_PORT}", "--leader-elect=false", "--profiling=false", "--v=1"],
        )
        mark("controller-manager+scheduler started")

    def _start_node(self, mark) -> None:
        node = self.node
        for d in ("containerd/root", "containerd/state", "kubelet", "cni/net.d", "cni/ipam", "pod-logs", "s3-data", "pvs"):
            (node / d).mkdir(parents=True, exist_ok=True)
        # The holder of the node's network and mount namespaces (unshare execs sleep: same PID).
        self._spawn("node-ns", ["unshare", "--net", "--mount", "--propagation", "private", "sleep", "infinity"])
        self._wait("the node namespace", lambda: Path(f"/proc/{self._holder()}/ns/net").exists()
                   and os.readlink(f"/proc/{self._holder()}/ns/net") != os.readlink("/proc/self/ns/net"), 10, "node-ns")
        for command in (
            ["ip", "link", "set", "lo", "up"],
            ["ip", "addr", "add", f"{config.KUBERNETES_SERVICE_IP}/32", "dev", "lo"],
            ["ip", "addr", "add", f"{config.S3_ADDRESS}/32", "dev", "lo"],
            ["mount", "-t", "tmpfs", "-o", "mode=755", "kfp2argo-run", "/run"],
            ["mount", "-t", "tmpfs", "-o", "mode=755", "kfp2argo-varlib", "/var/lib"],
            ["mount", "-t", "tmpfs", "-o", "mode=755", "kfp2argo-varlog", "/var/log"],
            ["mkdir", "-p", "/run/netns", "/var/lib/cni", "/var/log/pods", "/var/log/containers"],
        ):
            self._in_node(*command)
        socat = str(self.debs / "usr/bin/socat")
        lib = {"LD_LIBRARY_PATH": str(self.lib)}
        kas = self.state / "kas.sock"
        self._spawn("node-relay-kas", [socat, f"TCP-LISTEN:{config.APISERVER_PORT},bind=127.0.0.1,fork,reuseaddr", f"UNIX-CONNECT:{kas}"], env=lib, netns=True)
        self._spawn("node-relay-service", [socat, f"TCP-LISTEN:443,bind={config.KUBERNETES_SERVICE_IP},fork,reuseaddr", f"UNIX-CONNECT:{kas}"], env=lib, netns=True)
        self._spawn("node-relay-kubelet", [socat, f"UNIX-LISTEN:{self.state / 'kubelet.sock'},fork,mode=600", f"TCP:127.0.0.1:{config.KUBELET_PORT}"], env=lib, netns=True)
        self._spawn("node-relay-s3", [socat, f"UNIX-LISTEN:{self.s3_socket},fork,mode=600", f"TCP:{config.S3_ADDRESS}:{config.S3_PORT}"], env=lib, netns=True)
        self._spawn(
            "minio",
            [str(self.art["minio"] / "bin" / "minio"), "server", "--quiet", "--address", f"{config.S3_ADDRESS}:{config.S3_PORT}",
             "--console-address", "127.0.0.1:9001", str(node / "s3-data")],
            env={"MINIO_ROOT_USER": config.S3_ACCESS_KEY, "MINIO_ROOT_PASSWORD": config.S3_SECRET_KEY,
                 "MINIO_BROWSER": "off", "MINIO_UPDATE": "off", "MINIO_CI_CD": "1", "HOME": str(node / "s3-data")},
            netns=True,
        )
        self._write_containerd_config()
        self._spawn("containerd", [str(self.debs / "usr/bin/containerd"), "--config", str(node / "containerd/config.toml")], netns=True)
        self._wait("containerd", lambda: (node / "containerd/containerd.sock").is_socket() and self._ctr("version").returncode == 0, 30, "containerd")
        mark("node namespace, containerd, minio")
        from .client import S3

        s3 = S3(self.s3_socket)
        self._wait("minio", lambda: s3.ready(), 60, "minio")
        # Live is not ready: until MinIO has initialised its drive it answers 503.
        self._wait("the S3 bucket", lambda: s3.make_bucket(config.S3_BUCKET) is None, 60, "minio")
        mark("minio bucket")
        images = self.art["images"]
        for tarball in sorted(images.glob("*.tar")):
            proc = self._ctr("images", "import", "--all-platforms", f"--snapshotter={self._snapshotter()}", str(tarball))
            if proc.returncode != 0:
                raise ClusterError(f"ctr images import {tarball.name}: {proc.stderr}")
        mark("image import")

    def _ctr(self, *args: str) -> subprocess.CompletedProcess:
        return self._in_node(str(self.debs / "usr/bin/ctr"), "--address", str(self.node / "containerd/containerd.sock"), "-n", "k8s.io", *args, check=False)

    def _snapshotter(self) -> str:
        """overlayfs, except on an overlay file system (a container's), where it cannot nest."""
        return "native" if _fs_type(str(self.node)) in ("overlayfs", "overlay") else "overlayfs"

    def _write_containerd_config(self) -> None:
        node = self.node
        snapshotter = self._snapshotter()
        (node / "containerd/config.toml").write_text(
            f"""version = 2
root = "{node / 'containerd/root'}"
state = "{node / 'containerd/state'}"
[grpc]
  address = "{node / 'containerd/containerd.sock'}"
[ttrpc]
  address = "{node / 'containerd/containerd.sock.ttrpc'}"
[debug]
  level = "info"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{node / 'containerd/opt'}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{config.PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  max_container_log_line_size = -1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "{snapshotter}"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "{self.debs / 'usr/sbin/runc'}"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{self.debs / 'usr/lib/cni'}"
    conf_dir = "{node / 'cni/net.d'}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ""
""",
            encoding="utf-8",
        )
        (node / "cni/net.d/10-kfp2argo.conflist").write_text(
            json.dumps(
                {
                    "cniVersion": "1.0.0",
                    "name": "kfp2argo",
                    "plugins": [
                        {
                            "type": "bridge",
                            "bridge": config.BRIDGE,
                            "isGateway": True,
                            "ipMasq": False,
                            "hairpinMode": True,
                            "ipam": {
                                "type": "host-local",
                                "ranges": [[{"subnet": config.POD_CIDR}]],
                                "routes": [{"dst": "0.0.0.0/0"}],
                                "dataDir": str(node / "cni/ipam"),
                            },
                        },
                        {"type": "loopback"},
                    ],
                },
                indent=1,
            )
        )

    def _configure(self, mark) -> None:
        """Wait for the default service account; apply Argo's CRDs, the namespace, the S3
        credentials and the controller's ConfigMap; persistent volumes for the tests' claims."""
        from .client import Kube

        kube = Kube(f"https://127.0.0.1:{config.APISERVER_PORT}", self.token)
        for crd in sorted((self.art["argo"] / "crds").glob("*.yaml")):
            # Sent as YAML text: the API server parses it (PyYAML takes seconds on these files).
            status, body = kube.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd.read_text(encoding="utf-8"), "application/yaml")
            if status not in (201, 409):
                raise ClusterError(f"creating the CRD {crd.name}: HTTP {status}: {body}")
        kube.apply(
            [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": config.NAMESPACE}},
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "s3-cred", "namespace": config.NAMESPACE},
                    "stringData": {"accesskey": config.S3_ACCESS_KEY, "secretkey": config.S3_SECRET_KEY},
                },
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "workflow-controller-configmap", "namespace": config.NAMESPACE},
                    "data": {
                        "artifactRepository": json.dumps(
                            {
                                "archiveLogs": False,
                                "s3": {
                                    "bucket": config.S3_BUCKET,
                                    "endpoint": f"{config.S3_ADDRESS}:{config.S3_PORT}",
                                    "insecure": True,
                                    "accessKeySecret": {"name": "s3-cred", "key": "accesskey"},
                                    "secretKeySecret": {"name": "s3-cred", "key": "secretkey"},
                                },
                            }
                        ),
                        "metricsConfig": json.dumps({"enabled": False}),
                        "telemetryConfig": json.dumps({"enabled": False}),
                        "executor": json.dumps({"imagePullPolicy": "IfNotPresent"}),
                    },
                },
            ]
        )
        for i in range(12):  # host-path volumes for claims (CreatePVC, ephemeral volumes, existing claims, workspaces)
            storage_class = "standard" if i < 6 else ""
            path = self.node / "pvs" / f"pv-{i}"
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o777)
            kube.apply(
                [
                    {
                        "apiVersion": "v1",
                        "kind": "PersistentVolume",
                        "metadata": {"name": f"kfp2argo-pv-{i}"},
                        "spec": {
                            "capacity": {"storage": "10Gi"},
                            "accessModes": ["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"],
                            "persistentVolumeReclaimPolicy": "Retain",
                            "storageClassName": storage_class,
                            "hostPath": {"path": str(path), "type": "Directory"},
                        },
                    }
                ]
            )
        mark("CRDs and configuration")
        # Every pod's projected token volume needs the namespace's default service account and
        # the kube-root-ca.crt ConfigMap, both made by the controller-manager.
        self._wait(
            "the default service account and kube-root-ca.crt",
            lambda: kube.request("GET", f"/api/v1/namespaces/{config.NAMESPACE}/serviceaccounts/default")[0] == 200
            and kube.request("GET", f"/api/v1/namespaces/{config.NAMESPACE}/configmaps/kube-root-ca.crt")[0] == 200,
            90,
            "kube-controller-manager",
        )
        mark("default service account")

    def _cgroup_root(self) -> list[Path]:
        if cgroup_version() == 2:
            return [Path("/sys/fs/cgroup") / config.CGROUP_ROOT]
        return [h / config.CGROUP_ROOT for h in _cgroup_hierarchies()]

    def _start_kubelet(self, mark) -> None:
        for path in self._cgroup_root():
            path.mkdir(exist_ok=True)
            if path.parent.name == "cpuset" or (path.parent / "cpuset.cpus").exists() and cgroup_version() == 1:
                for f in ("cpuset.cpus", "cpuset.mems"):
                    if (path / f).exists() and not (path / f).read_text().strip():
                        (path / f).write_text((path.parent / f).read_text())
        if cgroup_version() == 2:
            root = Path("/sys/fs/cgroup")
            wanted = [c for c in ("cpu", "memory", "pids", "cpuset", "io") if c in (root / "cgroup.controllers").read_text().split()]
            for level in (root, root / config.CGROUP_ROOT):
                try:
                    (level / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in wanted))
                except OSError:
                    pass
        node = self.node
        kubelet_config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "address": "127.0.0.1",
            "port": config.KUBELET_PORT,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": config.KUBELET_HEALTHZ_PORT,
            "readOnlyPort": 0,
            "authentication": {"anonymous": {"enabled": True}, "webhook": {"enabled": False}, "x509": {}},
            "authorization": {"mode": "AlwaysAllow"},
            "cgroupDriver": "cgroupfs",
            "cgroupRoot": f"/{config.CGROUP_ROOT}",
            "failCgroupV1": False,
            "failSwapOn": False,
            "resolvConf": "",
            "enforceNodeAllocatable": [],
            "evictionHard": {"memory.available": "1Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "containerRuntimeEndpoint": f"unix://{node / 'containerd/containerd.sock'}",
            "podLogsDir": str(self.pod_logs),
            "serializeImagePulls": False,
            "maxPods": 110,
            "nodeStatusUpdateFrequency": "4s",
            "syncFrequency": "10s",
            "registerNode": True,
            "staticPodPath": "",
            "localStorageCapacityIsolation": False,
        }
        (node / "kubelet-config.json").write_text(json.dumps(kubelet_config, indent=1))
        self._spawn(
            "kubelet",
            [
                str(self.k8s_bin / "kubelet"), f"--config={node / 'kubelet-config.json'}", f"--kubeconfig={self.kubeconfig}",
                f"--hostname-override={config.NODE_NAME}", f"--root-dir={node / 'kubelet'}", f"--node-ip={config.KUBERNETES_SERVICE_IP}", "--v=1",
            ],
            netns=True,
        )
        from .client import Kube

        kube = Kube(f"https://127.0.0.1:{config.APISERVER_PORT}", self.token)

        def node_ready() -> bool:
            status, body = kube.request("GET", f"/api/v1/nodes/{config.NODE_NAME}")
            return status == 200 and any(c["type"] == "Ready" and c["status"] == "True" for c in body["status"].get("conditions", []))

        self._wait("the node to be Ready", node_ready, 90, "kubelet")
        mark("kubelet")

    def _start_controller(self, mark) -> None:
        self._spawn(
            "workflow-controller",
            [
                str(self.argo_bin / "workflow-controller"), f"--kubeconfig={self.kubeconfig}", f"--namespace={config.NAMESPACE}",
                f"--executor-image={config.EXECUTOR_IMAGE}", "--executor-image-pull-policy=IfNotPresent", "--loglevel=info",
            ],
            # DEFAULT_REQUEUE_TIME (10s by default): how long after a pod or task-result event the
            # workflow is reconciled again; 1s shortens every step without changing what happens.
            env={"LEADER_ELECTION_DISABLE": "true", "LEADER_ELECTION_IDENTITY": "kfp2argo", "DEFAULT_REQUEUE_TIME": "1s"},
            netns=True,
        )
        # The controller is up once it has read its ConfigMap (it logs the configuration).
        self._wait("the workflow controller", lambda: "Configuration" in self._tail("workflow-controller", 200000)
                   or "Starting Workflow Controller" in self._tail("workflow-controller", 200000), 60, "workflow-controller")
        mark("workflow-controller")

    # ------------------------------------------------------------------------------------------
    # down

    def down(self) -> dict[str, Any]:
        """Stop everything this state folder started; returns what was left behind (nothing)."""
        t0 = time.monotonic()
        running = self.running()
        self._stop("workflow-controller", timeout=5)
        if "kube-apiserver" in running and "kubelet" in running:
            self._delete_pods()
        self._stop("kubelet", timeout=20)
        if "containerd" in self.running() and "node-ns" in self.running():
            self._remove_containers()
        self._stop("containerd")
        self._stop_shims()
        for name in ("minio", "node-relay-s3", "node-relay-kubelet", "node-relay-service", "node-relay-kas"):
            self._stop(name)
        self._stop("node-ns")
        for name in ("kube-scheduler", "kube-controller-manager", "relay-kubelet", "relay-kas", "kube-apiserver", "etcd"):
            self._stop(name)
        # Anything else recorded (a start-up interrupted between two steps).
        if self.pids.is_dir():
            for path in sorted(self.pids.glob("*.json")):
                self._stop(path.stem)
        leftovers = self._cleanup_host()
        leftovers["seconds"] = round(time.monotonic() - t0, 1)
        return leftovers

    def _delete_pods(self) -> None:
        from .client import Kube

        kube = Kube(f"https://127.0.0.1:{config.APISERVER_PORT}", self.token)
        status, body = kube.request("GET", "/api/v1/pods")
        if status != 200:
            return
        for pod in body.get("items", []):
            meta = pod["metadata"]
            kube.request("DELETE", f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}", {"gracePeriodSeconds": 1})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, body = kube.request("GET", "/api/v1/pods")
            if status != 200 or not body.get("items"):
                return
            time.sleep(0.5)
        log(f"{len(body.get('items', []))} pods still present after 60 s; removing their containers directly")

    def _remove_containers(self) -> None:
        proc = self._ctr("tasks", "ls", "-q")
        for task in proc.stdout.split():
            self._ctr("tasks", "kill", "-s", "SIGKILL", task)
        time.sleep(0.5)
        for task in proc.stdout.split():
            self._ctr("tasks", "delete", "-f", task)
        for container in self._ctr("containers", "ls", "-q").stdout.split():
            self._ctr("containers", "delete", container)

    def _stop_shims(self) -> None:
        """containerd's shims daemonize; they are ours when their -address is our socket."""
        socket_path = str(self.node / "containerd/containerd.sock")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"containerd-shim-runc-v2") and socket_path.encode() in argv:
                pid = int(entry.name)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def _cleanup_host(self) -> dict[str, Any]:
        left: dict[str, Any] = {}
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split()[4] for line in f if line.split()[4].startswith(str(self.state) + "/")]
        for mount in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], capture_output=True)
        if mounts:
            left["unmounted"] = mounts
        remaining = []
        for root in self._cgroup_root():
            if not root.is_dir():
                continue
            for dirpath, dirnames, _ in sorted(os.walk(root, topdown=False), key=lambda x: -len(x[0])):
                deadline = time.monotonic() + 5
                while True:
                    try:
                        os.rmdir(dirpath)
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        if time.monotonic() > deadline:
                            remaining.append(dirpath)
                            break
                        time.sleep(0.2)
        if remaining:
            left["cgroups"] = remaining
        alive = self.running()
        if alive:
            left["processes"] = alive
        return left

    def status(self) -> dict[str, Any]:
        return {"state": str(self.state), "running": self.running(), "memory_mib": self.memory()}

    def memory(self) -> dict[str, float]:
        """Resident memory (MiB) of each recorded process, of containerd's shims, and of the
        pods (the kubelet's cgroup tree; cgroup v1 memory.usage_in_bytes or v2 memory.current)."""
        def rss(pid: int) -> float:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
            except OSError:
                pass
            return 0.0

        out = {name: round(rss(pid), 1) for name, pid in self.running().items()}
        socket_path = str(self.node / "containerd/containerd.sock").encode()
        shims = 0.0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    argv = (entry / "cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                if argv and argv[0].endswith(b"containerd-shim-runc-v2") and socket_path in argv:
                    shims += rss(int(entry.name))
        out["shims"] = round(shims, 1)
        # Pods: anonymous memory of the kubelet's cgroup tree (page cache left out).
        for candidate, key in ((Path("/sys/fs/cgroup/memory") / config.CGROUP_ROOT / "memory.stat", "total_rss"),
                               (Path("/sys/fs/cgroup") / config.CGROUP_ROOT / "memory.stat", "anon")):
            if candidate.is_file():
                stat = dict(line.split() for line in candidate.read_text().splitlines() if len(line.split()) == 2)
                out["pods"] = round(int(stat.get(key, 0)) / 2**20, 1)
                break
        out["total"] = round(sum(v for k, v in out.items()), 1)
        return out
