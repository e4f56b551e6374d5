"""`cluster build`: build and cache every piece of the cluster, keyed by its pinned versions.

Steps (each skipped when its cache folder is complete, see config.artefact_dirs):

* kubernetes: kube-apiserver, kube-controller-manager, kube-scheduler, kubelet from the Go module
  k8s.io/kubernetes through a generated wrapper module (the staging modules are replaced by their
  published versions, as k8s.io/kubernetes cannot be required directly);
* argo: workflow-controller and argoexec from github.com/argoproj/argo-workflows/v4, built from a
  copy of the module (a `replace`) in which the file the published module lacks
  (workflow/executor/osspecific/signal_linux.go) is restored from the module's own
  signal_darwin.go (Go refuses -overlay for module-cache files); plus Argo's full CRDs;
* minio: the S3 artifact store, from the Go module github.com/minio/minio;
* debs: etcd, containerd, runc, CNI plugins, socat (+libwrap0), busybox-static and debootstrap,
  `apt-get download` + `dpkg-deb -x` (nothing is installed on the host);
* rootfs-python: Debian minbase by debootstrap with python3 and kfp installed from wheels built on
  the host (`pip wheel`);
* images: docker-archive tarballs (one layer each) for every image the test pipelines name,
  the executor and the pause image, imported by `up` with `ctr images import`.

Go builds use the caller's Go caches (GOMODCACHE, GOCACHE): set them to empty folders to measure a
cold build. Go is run with GOTOOLCHAIN=local, CGO_ENABLED=0 and `nice`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from . import config
from . import images

GO_ENV = {"GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod -buildvcs=false"}


class BuildError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[cluster build {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, logfile: Path | None = None) -> str:
    """Run a command; its output goes to ``logfile`` (and is returned when there is none)."""
    full_env = dict(os.environ, **(env or {}))
    if logfile is not None:
        logfile.parent.mkdir(parents=True, exist_ok=True)
        with open(logfile, "ab") as out:
            out.write(f"\n$ {' '.join(command)}\n".encode())
            out.flush()
            proc = subprocess.run(command, cwd=cwd, env=full_env, stdout=out, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            tail = logfile.read_text(errors="replace")[-3000:]
            raise BuildError(f"{' '.join(command[:4])}... exited {proc.returncode} (log {logfile}):\n{tail}")
        return ""
    proc = subprocess.run(command, cwd=cwd, env=full_env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"{' '.join(command)} exited {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc.stdout


def go() -> str:
    found = shutil.which("go")
    if not found:
        raise BuildError("go is not on PATH (a Go toolchain >= 1.24 is needed to build the cluster)")
    return found


def _go_build(module_dir: Path, packages: list[str], out_dir: Path, logfile: Path, *, ldflags: str = "-s -w", extra: list[str] = ()) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    command = ["nice", "-n", "10", go(), "build", "-p", "2", "-trimpath", f"-ldflags={ldflags}", *extra, "-o", str(out_dir) + "/", *packages]
    run(command, cwd=module_dir, env=GO_ENV, logfile=logfile)


def _module_info(module_dir: Path, module: str, version: str, logfile: Path) -> dict:
    out = run([go(), "mod", "download", "-json", f"{module}@{version}"], cwd=module_dir, env=GO_ENV)
    info = json.loads(out)
    if info.get("Error"):
        raise BuildError(f"go mod download {module}@{version}: {info['Error']}")
    return info


def _complete(directory: Path) -> bool:
    return (directory / ".complete").is_file()


def _finish(directory: Path, details: dict) -> None:
    (directory / ".complete").write_text(json.dumps(details, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _fresh(directory: Path) -> Path:
    """An empty work folder beside ``directory``, renamed into place by _publish."""
    tmp = directory.with_name(directory.name + ".tmp")
    if tmp.exists():
        _rmtree(tmp)
    tmp.mkdir(parents=True)
    return tmp


def _publish(tmp: Path, directory: Path) -> None:
    if directory.exists():
        _rmtree(directory)
    tmp.rename(directory)


def _rmtree(path: Path) -> None:
    # Go's module cache and debootstrap trees hold read-only folders.
    subprocess.run(["chmod", "-R", "u+w", str(path)], check=False, capture_output=True)
    shutil.rmtree(path)


# ----------------------------------------------------------------------------------------------
# Go components


def build_kubernetes(directory: Path, logs: Path) -> dict:
    tmp = _fresh(directory)
    module = tmp / "src"
    module.mkdir()
    (module / "go.mod").write_text("module kfp2argo.local/kubernetes\n\ngo 1.24\n", encoding="utf-8")
    info = _module_info(module, "k8s.io/kubernetes", config.KUBERNETES, logs / "kubernetes.log")
    staging = re.findall(r"^\s*(k8s\.io/[\w.-]+)\s*=>\s*\./staging/", Path(info["GoMod"]).read_text(), re.M)
    if not staging:
        raise BuildError("no staging replacements found in k8s.io/kubernetes's go.mod")
    minor = config.KUBERNETES.lstrip("v").split(".")
    staging_version = f"v0.{minor[1]}.{minor[2]}"
    lines = ["module kfp2argo.local/kubernetes", "", "go 1.24", "", f"require k8s.io/kubernetes {config.KUBERNETES}", ""]
    lines += [f"replace {m} => {m} {staging_version}" for m in staging]
    (module / "go.mod").write_text("\n".join(lines) + "\n", encoding="utf-8")
    commands = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet"]
    version = config.KUBERNETES.lstrip("v").split(".")
    pkg = "k8s.io/component-base/version"
    ldflags = " ".join(
        [
            "-s -w",
            f"-X {pkg}.gitVersion={config.KUBERNETES}",
            f"-X {pkg}.gitMajor={version[0]}",
            f"-X {pkg}.gitMinor={version[1]}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.gitCommit={info.get('Origin', {}).get('Hash', '')}",
        ]
    )
    _go_build(module, [f"k8s.io/kubernetes/cmd/{c}" for c in commands], tmp / "bin", logs / "kubernetes.log", ldflags=ldflags)
    _publish(tmp, directory)
    return {"kubernetes": config.KUBERNETES, "binaries": commands}


def build_argo(directory: Path, logs: Path) -> dict:
    tmp = _fresh(directory)
    module = tmp / "src"
    module.mkdir()
    argo = "github.com/argoproj/argo-workflows/v4"
    (module / "go.mod").write_text(f"module kfp2argo.local/argo\n\ngo 1.24\n\nrequire {argo} {config.ARGO}\n", encoding="utf-8")
    info = _module_info(module, argo, config.ARGO, logs / "argo.log")
    source = Path(info["Dir"])
    osspecific = Path("workflow") / "executor" / "osspecific"
    restored = not (source / osspecific / "signal_linux.go").exists()
    if restored:
        # The published module lacks the Linux file, and Go refuses -overlay for files in the
        # module cache: build from a copy of the module (a `replace`) with the file restored as
        # the module's own signal_darwin.go, the same Unix code.
        copy = module / "argo-src"
        shutil.copytree(source, copy, symlinks=True)
        subprocess.run(["chmod", "-R", "u+w", str(copy)], check=True)
        shutil.copyfile(copy / osspecific / "signal_darwin.go", copy / osspecific / "signal_linux.go")
        with open(module / "go.mod", "a", encoding="utf-8") as f:
            f.write(f"\nreplace {argo} => ./argo-src\n")
    ldflags = f"-s -w -X {argo}.version={config.ARGO}"
    _go_build(module, [f"{argo}/cmd/workflow-controller", f"{argo}/cmd/argoexec"], tmp / "bin", logs / "argo.log", ldflags=ldflags)
    crds = tmp / "crds"
    crds.mkdir()
    for crd in sorted((source / "manifests" / "base" / "crds" / "full").glob("argoproj.io_*.yaml")):
        shutil.copyfile(crd, crds / crd.name)
    if restored:
        _rmtree(module / "argo-src")
    _publish(tmp, directory)
    return {"argo": config.ARGO, "restored_signal_linux": restored}


def build_minio(directory: Path, logs: Path) -> dict:
    tmp = _fresh(directory)
    module = tmp / "src"
    module.mkdir()
    (module / "go.mod").write_text(f"module kfp2argo.local/minio\n\ngo 1.24\n\nrequire github.com/minio/minio {config.MINIO}\n", encoding="utf-8")
    _go_build(module, ["github.com/minio/minio"], tmp / "bin", logs / "minio.log")
    _publish(tmp, directory)
    return {"minio": config.MINIO}


# ----------------------------------------------------------------------------------------------
# Debian packages


def _apt_download(name: str, version: str, into: Path, logfile: Path) -> str:
    """Download one .deb (the pinned version, else the candidate); returns the version got."""
    for attempt in (f"{name}={version}", name):
        proc = subprocess.run(["apt-get", "download", attempt], cwd=into, capture_output=True, text=True)
        with open(logfile, "a") as out:
            out.write(f"$ apt-get download {attempt}\n{proc.stdout}{proc.stderr}")
        if proc.returncode == 0:
            break
        if "Unable to locate" in proc.stderr or "not found" in proc.stderr:
            # Fresh machines may have no package lists yet.
            subprocess.run(["apt-get", "update", "-q"], capture_output=True)
    else:
        raise BuildError(f"apt-get download {name} failed (see {logfile})")
    [deb] = sorted(into.glob(f"{name}_*.deb"))
    got = run(["dpkg-deb", "-f", str(deb), "Version"]).strip()
    if got != version:
        log(f"warning: {name} {version} is no longer served; using {got}")
    return got


def build_debs(directory: Path, logs: Path) -> dict:
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        raise BuildError("apt-get and dpkg-deb are needed to fetch etcd, containerd, runc, CNI plugins and socat")
    tmp = _fresh(directory)
    debs = tmp / "debs"
    debs.mkdir()
    root = tmp / "root"
    got = {}
    for name, version in config.DEBS.items():
        got[name] = _apt_download(name, version, debs, logs / "debs.log")
    for deb in sorted(debs.glob("*.deb")):
        run(["dpkg-deb", "-x", str(deb), str(root)])
    _publish(tmp, directory)
    return {"versions": got}


def _apt_mirror() -> str:
    """The Debian mirror apt is configured with (deb822 .sources or one-line sources.list)."""
    candidates = []
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for stanza in path.read_text(errors="replace").split("\n\n"):
            fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
            if "Enabled" in fields and fields["Enabled"].strip().lower() == "no":
                continue
            suites = fields.get("Suites", "").split()
            if config.DEBIAN_SUITE in suites and "main" in fields.get("Components", "").split():
                candidates += fields.get("URIs", "").split()
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*.list"))]:
        if path.is_file():
            for line in path.read_text(errors="replace").splitlines():
                m = re.match(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$", line.strip())
                if m and m.group(2) == config.DEBIAN_SUITE and "main" in m.group(3).split():
                    candidates.append(m.group(1))
    if not candidates:
        raise BuildError(f"no apt source for Debian {config.DEBIAN_SUITE} main: debootstrap needs one")
    return candidates[0]


def build_rootfs_python(directory: Path, debs: Path, logs: Path) -> dict:
    tmp = _fresh(directory)
    root = tmp / "root"
    tools = debs / "root"
    env = {"DEBOOTSTRAP_DIR": str(tools / "usr/share/debootstrap"), "PATH": f"{tools / 'usr/sbin'}:{os.environ['PATH']}"}
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    command = [str(tools / "usr/sbin/debootstrap"), "--variant=minbase", "--include=python3,python3-pip,ca-certificates"]
    if Path(keyring).is_file():
        command.append(f"--keyring={keyring}")
    run(command + [config.DEBIAN_SUITE, str(root), _apt_mirror()], env=env, logfile=logs / "debootstrap.log")
    wheels = root / "tmp" / "wheels"
    wheels.mkdir(parents=True)
    python = _python_311()
    run([python, "-m", "pip", "wheel", "--quiet", "-w", str(wheels), f"kfp=={config.KFP}"], logfile=logs / "wheels.log")
    run(
        ["chroot", str(root), "python3", "-m", "pip", "install", "--quiet", "--no-index", "--break-system-packages",
         "--find-links", "/tmp/wheels", f"kfp=={config.KFP}"],
        env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "PIP_FIND_LINKS": "", "PIP_CERT": ""},
        logfile=logs / "wheels.log",
    )
    _rmtree(wheels)
    # KFP's launcher command runs `pip install kfp==... --no-deps` in the image: with kfp
    # installed it is satisfied offline, but Debian's marker would refuse it first.
    for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()
    for cache in [root / "var/cache/apt/archives", root / "var/lib/apt/lists", root / "root/.cache"]:
        if cache.is_dir():
            for child in cache.iterdir():
                if child.is_file():
                    child.unlink()
                elif child.is_dir() and child.name != "partial":
                    _rmtree(child)
    _publish(tmp, directory)
    return {"suite": config.DEBIAN_SUITE, "kfp": config.KFP}


def _python_311() -> str:
    """A host Python 3.11 to build wheels with (the image's interpreter is Debian's 3.11)."""
    for candidate in [sys.executable, shutil.which("python3.11") or "", shutil.which("python3") or ""]:
        if candidate:
            out = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 11))"], capture_output=True, text=True)
            if out.stdout.strip() == "True":
                return candidate
    raise BuildError("a Python 3.11 on the host is needed to build wheels for the image's python3.11")


# ----------------------------------------------------------------------------------------------
# Images


def build_images(directory: Path, dirs: dict[str, Path], logs: Path) -> dict:
    tmp = _fresh(directory)
    debs_root = dirs["debs"] / "root"
    busybox_root = tmp / "busybox-root"
    images.busybox_rootfs(debs_root / "bin" / "busybox", busybox_root)
    argoexec = dirs["argo"] / "bin" / "argoexec"
    python_root = dirs["rootfs-python"] / "root"
    by_kind: dict[str, list[str]] = {}
    for ref, kind in config.IMAGES.items():
        by_kind.setdefault(kind, []).append(ref)
    tarballs = {}
    for kind, refs in sorted(by_kind.items()):
        out = tmp / f"{kind}.tar"
        if kind == "python":
            images.write_image([python_root], refs, out)
        elif kind == "busybox":
            images.write_image([busybox_root], refs, out)
        elif kind == "pause":
            images.write_image(
                [busybox_root], refs, out,
                entrypoint=["/bin/sh", "-c", 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'],
            )
        elif kind == "argoexec":
            images.write_image([busybox_root], refs, out, extra_files={"bin/argoexec": argoexec}, entrypoint=["argoexec"])
        tarballs[kind] = {"file": out.name, "refs": refs}
    _rmtree(busybox_root)
    _publish(tmp, directory)
    return {"tarballs": tarballs}


# ----------------------------------------------------------------------------------------------


def build(only: list[str] | None = None) -> dict:
    """Build whatever is missing; returns the manifest `up` reads (also written to disk).
    Builds into one cache are serialised by a lock file (a second build waits)."""
    import fcntl

    config.cache_dir().mkdir(parents=True, exist_ok=True)
    with open(config.cache_dir() / "build.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            log("another build of this cache is running; waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        return _build(only)


def _build(only: list[str] | None) -> dict:
    dirs = config.artefact_dirs()
    logs = config.cache_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    steps: list[tuple[str, Callable[[], dict]]] = [
        ("debs", lambda: build_debs(dirs["debs"], logs)),
        ("rootfs-python", lambda: build_rootfs_python(dirs["rootfs-python"], dirs["debs"], logs)),
        ("kubernetes", lambda: build_kubernetes(dirs["kubernetes"], logs)),
        ("argo", lambda: build_argo(dirs["argo"], logs)),
        ("minio", lambda: build_minio(dirs["minio"], logs)),
        ("images", lambda: build_images(dirs["images"], dirs, logs)),
    ]
    timings = {}
    for name, step in steps:
        if only and name not in only:
            continue
        if _complete(dirs[name]):
            log(f"{name}: cached ({dirs[name].name})")
            continue
        log(f"{name}: building into {dirs[name]}")
        start = time.monotonic()
        details = step()
        elapsed = round(time.monotonic() - start, 1)
        details["build_seconds"] = elapsed
        _finish(dirs[name], details)
        timings[name] = elapsed
        log(f"{name}: done in {elapsed:.0f} s")
        with open(logs / "build-times.jsonl", "a") as out:
            out.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S"), "step": name, "seconds": elapsed,
                                  "GOMODCACHE": os.environ.get("GOMODCACHE", ""), "GOCACHE": os.environ.get("GOCACHE", "")}) + "\n")
    manifest = {name: str(path) for name, path in dirs.items()}
    if all(_complete(path) for path in dirs.values()):
        config.manifest_path().write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        _prune(dirs)
    return manifest


def _prune(dirs: dict[str, Path]) -> None:
    """Remove artefacts of other (older) pins, so the cache does not grow without bound."""
    keep = {path.name for path in dirs.values()}
    root = next(iter(dirs.values())).parent
    for child in root.iterdir():
        if child.name not in keep and not child.name.endswith(".tmp"):
            log(f"removing stale artefact {child.name}")
            _rmtree(child)


def built() -> dict | None:
    """The manifest of a complete build, or None."""
    path = config.manifest_path()
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.keys() != config.artefact_dirs().keys():
        return None
    if any(manifest[k] != str(v) or not _complete(v) for k, v in config.artefact_dirs().items()):
        return None
    return manifest
