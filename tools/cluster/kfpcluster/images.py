"""Container images without a registry or a container tool: a folder (or several, stacked) packed
as one layer into a docker-archive tarball (`docker save` format), which `ctr images import`
reads. Files are owned by root in the layer whatever their owner on the host."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

SKIP_CONTENTS = {"dev", "proc", "sys", "run"}  # mount points: the folder, not what is in it
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def busybox_rootfs(busybox: Path, root: Path) -> None:
    """A minimal root: busybox-static with one symlink per applet, /etc/passwd, /etc/group, /tmp."""
    (root / "bin").mkdir(parents=True)
    shutil.copy2(busybox, root / "bin" / "busybox")
    applets = subprocess.run([str(busybox), "--list-full"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        target = root / applet
        if target.exists() or target.is_symlink():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(os.path.relpath(root / "bin" / "busybox", target.parent))
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    (root / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    for d in ("tmp", "root", "dev", "proc", "sys", "var/run"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)


def _layer(roots: list[Path], extra_files: dict[str, Path], out: Path) -> None:
    seen: set[str] = set()

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for root in roots:
            for dirpath, dirnames, filenames in os.walk(root):
                rel_dir = os.path.relpath(dirpath, root)
                dirnames.sort()
                if rel_dir.split(os.sep)[0] in SKIP_CONTENTS:
                    dirnames[:] = []
                    filenames = []
                names = [] if rel_dir == "." else [rel_dir]
                names += [os.path.normpath(os.path.join(rel_dir, f)) for f in sorted(filenames)]
                # symlinks to directories are listed in dirnames and not followed by os.walk
                names += [os.path.normpath(os.path.join(rel_dir, d)) for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
                for name in names:
                    if name in seen:
                        continue
                    seen.add(name)
                    path = os.path.join(root, name)
                    info = tar.gettarinfo(path, arcname=name)
                    if info.type in (tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE) or info is None:
                        continue
                    normalise(info)
                    if info.isreg():
                        with open(path, "rb") as f:
                            tar.addfile(info, f)
                    else:
                        tar.addfile(info)
        for name, source in extra_files.items():
            info = normalise(tar.gettarinfo(str(source), arcname=name))
            info.mode = 0o755
            with open(source, "rb") as f:
                tar.addfile(info, f)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_image(
    roots: list[Path],
    refs: list[str],
    out: Path,
    *,
    entrypoint: list[str] | None = None,
    extra_files: dict[str, Path] | None = None,
) -> None:
    """Write a docker-archive tarball of one layer (the roots stacked, then extra_files) tagged
    with every ref (fully qualified names, so containerd keeps them as they are)."""
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        layer = Path(tmp) / "layer.tar"
        _layer(roots, extra_files or {}, layer)
        diff_id = _sha256(layer)
        config = {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": [f"PATH={PATH}"], "WorkingDir": "/", **({"Entrypoint": entrypoint} if entrypoint else {})},
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
            "history": [{"created_by": "kfp2argo tools/cluster/images.py"}],
        }
        config_bytes = json.dumps(config, sort_keys=True).encode()
        config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
        manifest = [{"Config": config_name, "RepoTags": refs, "Layers": [f"{diff_id}/layer.tar"]}]
        with tarfile.open(out, "w") as tar:
            for name, data in ((config_name, config_bytes), ("manifest.json", json.dumps(manifest).encode())):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
            info = tarfile.TarInfo(diff_id)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
            tar.add(layer, arcname=f"{diff_id}/layer.tar")
