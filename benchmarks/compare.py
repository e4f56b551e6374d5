#!/usr/bin/env python3
"""kfp2argo against KFP's own Go compiler (backend ``argocompiler``), side by side, same IR.

One command measures both tools on the synthetic pipelines of ``bench.py`` (10 .. 10,000 tasks),
the whole shared corpus as a batch, and the cold compile of a one-step pipeline, then reports
ratios (kfp2argo / KFP, so below 1 means kfp2argo is faster or smaller) and a per-file size
report over the corpus::

    python benchmarks/compare.py --kfp-compiler PATH [--json results.json]

``PATH`` (or ``$KFP2ARGO_BENCH_KFP_COMPILER``) is a small program, built by you outside this
repository, that calls KFP's compiler and speaks the protocol below. This project ships no such
program and no recipe that builds it; benchmarks/README.md says in words what it has to do.

Driver protocol (the kfp2argo side speaks it too, see ``--_kfp2argo-driver``)::

    DRIVER [-n ROUNDS] [-o OUTDIR] IR_FILE...

* reads every IR file once, then compiles all of them ROUNDS times (default 1) in one process,
  timing each compile in-process (bytes in memory to manifest bytes in memory);
* with ``-o``, writes each compiled manifest (YAML) of the last round to OUTDIR, named after
  the input's base name (a later file with the same base name gets a ``N-`` prefix);
* prints one JSON object on stdout and exits 0, even if some files failed (exit 2: bad usage)::

    {"tool": "...", "rounds": N, "round_seconds": [...],
     "files": [{"path": "...", "ok": true, "error": "...", "seconds": [one per round],
                "cpu_seconds": [one per round], "yaml_bytes": 123, "json_bytes": 100,
                "output": "OUTDIR/x.yaml"}, ...],
     "peak_rss_kb": 12345}

  ``seconds`` is wall time; ``error`` is set when ``ok`` is false. ``cpu_seconds`` (process CPU
  time, user + system, all threads), ``json_bytes`` (the manifest as compact JSON, what the API
  server stores and submits), ``peak_rss_kb`` and any other keys are optional.

See benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_T_START = time.perf_counter()

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS = REPO.parent / "shared" / "corpus" / "kfp-ir"
REFERENCE = REPO.parent / "shared" / "corpus" / "kfp-argo-reference"
HELLO = REPO / "golden" / "hello_container" / "pipeline.yaml"
ENV_DRIVER = "KFP2ARGO_BENCH_KFP_COMPILER"
DEFAULT_SIZES = (10, 100, 1000, 10000)
TIME_BIN = "/usr/bin/time"  # GNU time: peak RSS of exactly the measured process (%M)


# --------------------------------------------------------------------------------------------
# The kfp2argo side of the driver protocol (runs in a fresh process)
# --------------------------------------------------------------------------------------------


def _vmhwm_kb() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _unique_name(used: set[str], path: str) -> str:
    base = Path(path).name
    name, k = base, 2
    while name in used:
        name, k = f"{k}-{base}", k + 1
    used.add(name)
    return name


def kfp2argo_driver(argv: list[str]) -> int:
    """``transpiler.transpile`` behind the driver protocol, in this warm process."""
    ap = argparse.ArgumentParser(prog="compare.py --_kfp2argo-driver")
    ap.add_argument("-n", type=int, default=1)
    ap.add_argument("-o")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args(argv)

    import yaml

    import transpiler

    import_s = time.perf_counter() - _T_START
    files = [{"path": f, "ok": False, "seconds": [], "cpu_seconds": []} for f in args.files]
    inputs: list[bytes | None] = []
    for fr in files:
        try:
            inputs.append(Path(fr["path"]).read_bytes())
        except OSError as err:
            fr["error"] = str(err)
            inputs.append(None)
    outputs: list[str | None] = [None] * len(files)
    round_s = []
    for _ in range(args.n):
        gc.collect()
        t_round = time.perf_counter()
        for i, fr in enumerate(files):
            data = inputs[i]
            if data is None:
                continue
            c0, t0 = time.process_time(), time.perf_counter()
            try:
                out = transpiler.transpile(data, file=fr["path"])
            except transpiler.TranspileError as err:
                fr["ok"], fr["error"] = False, str(err).strip().splitlines()[0][:300]
                continue
            except Exception as err:  # a crash is a kfp2argo bug; the batch goes on
                fr["ok"], fr["error"] = False, f"crash: {type(err).__name__}: {err}"[:300]
                continue
            fr["seconds"].append(time.perf_counter() - t0)
            fr["cpu_seconds"].append(time.process_time() - c0)
            fr["ok"], outputs[i] = True, out
            fr.pop("error", None)
        round_s.append(time.perf_counter() - t_round)
    peak = _vmhwm_kb()
    used: set[str] = set()
    for i, fr in enumerate(files):
        out = outputs[i]
        if out is None:
            continue
        data_out = out.encode()
        fr["yaml_bytes"] = len(data_out)
        manifest = yaml.load(out, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        fr["json_bytes"] = len(json.dumps(manifest, separators=(",", ":"), ensure_ascii=False,
                                          default=str).encode())
        if args.o:
            os.makedirs(args.o, exist_ok=True)
            fr["output"] = os.path.join(args.o, _unique_name(used, fr["path"]))
            Path(fr["output"]).write_bytes(data_out)
    res = {"tool": f"kfp2argo {transpiler.__version__}", "python": platform.python_version(),
           "rounds": args.n, "startup_seconds": import_s, "round_seconds": round_s,
           "files": files}
    if peak:
        res["peak_rss_kb"] = peak
    print(json.dumps(res))
    return 0


# --------------------------------------------------------------------------------------------
# Running tools
# --------------------------------------------------------------------------------------------


class Tools:
    """How to start each tool: the kfp2argo checkout to measure and the KFP driver."""

    def __init__(self, repo: Path, driver: Path, workdir: Path, timeout: float) -> None:
        self.repo, self.driver, self.workdir, self.timeout = repo, driver, workdir, timeout
        pp = os.environ.get("PYTHONPATH")
        # The checkout comes first on sys.path (before an editable install of another one);
        # children run in the scratch dir so no kfp2argo.yaml / pyproject.toml config applies.
        self.env = {**os.environ, "PYTHONPATH": str(repo) + (os.pathsep + pp if pp else "")}
        self.time_bin = TIME_BIN if os.access(TIME_BIN, os.X_OK) else None

    # -- protocol runs (in-process timings) --------------------------------------------------

    def protocol_cmd(self, tool: str) -> list[str]:
        if tool == "kfp2argo":
            return [sys.executable, str(Path(__file__).resolve()), "--_kfp2argo-driver"]
        return [str(self.driver)]

    def run_protocol(self, tool: str, files: list[Path], rounds: int, outdir: Path) -> dict[str, Any]:
        cmd = [*self.protocol_cmd(tool), "-n", str(rounds), "-o", str(outdir), *map(str, files)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout,
                              cwd=self.workdir, env=self.env)
        if proc.returncode != 0:
            raise RuntimeError(f"{tool} driver failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    # -- whole processes (wall time, peak RSS) -----------------------------------------------

    def process_cmd(self, tool: str, ir: Path, out: Path) -> list[str]:
        """The real command line: kfp2argo's CLI, or the driver compiling once."""
        (out if ir.is_dir() else out.parent).mkdir(parents=True, exist_ok=True)
        if tool == "kfp2argo":
            return [sys.executable, "-m", "transpiler", "compile", str(ir), "-o", str(out)]
        if ir.is_dir():
            files = sorted(p for p in ir.rglob("*") if p.is_file())
            return [str(self.driver), "-n", "1", "-o", str(out), *map(str, files)]
        return [str(self.driver), "-n", "1", "-o", str(out.parent), str(ir)]

    def run_process(self, cmd: list[str], ok_codes: tuple[int, ...] = (0,)) -> dict[str, Any]:
        """Wall time and peak RSS of one fresh process running ``cmd``."""
        rss_file = self.workdir / "rss.txt"
        rss_file.unlink(missing_ok=True)
        full = [self.time_bin, "-f", "%M %U %S", "-o", str(rss_file), *cmd] if self.time_bin else cmd
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                cwd=self.workdir, env=self.env)
        try:
            _, stderr = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        wall = time.perf_counter() - t0
        if proc.returncode not in ok_codes:
            raise RuntimeError(f"{cmd[:4]}... exited {proc.returncode}:\n"
                               f"{stderr.decode(errors='replace')[-2000:]}")
        peak_mb = cpu_s = None
        if self.time_bin and rss_file.exists():
            # The last line is "%M %U %S" (a line before it reports a non-zero exit status).
            last = (rss_file.read_text().strip().splitlines() or [""])[-1].split()
            try:
                peak_mb, cpu_s = int(last[0]) / 1024, float(last[1]) + float(last[2])
            except (IndexError, ValueError):
                pass
        return {"wall_s": wall, "peak_rss_mb": peak_mb, "cpu_s": cpu_s, "rc": proc.returncode}

    def interleaved(self, cmds: dict[str, list[str]], runs: int,
                    ok_codes: dict[str, tuple[int, ...]] | None = None) -> dict[str, Any]:
        """Run each command ``runs`` times, alternating between them (so both see the same
        background load), and summarise wall time and peak RSS."""
        walls: dict[str, list[float]] = {k: [] for k in cmds}
        peaks: dict[str, list[float]] = {k: [] for k in cmds}
        cpus: dict[str, list[float]] = {k: [] for k in cmds}
        for _ in range(runs):
            for key, cmd in cmds.items():
                r = self.run_process(cmd, (ok_codes or {}).get(key, (0,)))
                walls[key].append(r["wall_s"])
                if r["peak_rss_mb"] is not None:
                    peaks[key].append(r["peak_rss_mb"])
                if r["cpu_s"] is not None:
                    cpus[key].append(r["cpu_s"])
        return {k: {"wall_best_s": min(walls[k]), "wall_median_s": statistics.median(walls[k]),
                    "walls_s": walls[k], "runs": runs,
                    "cpu_best_s": min(cpus[k]) if cpus[k] else None, "cpus_s": cpus[k],
                    "peak_rss_mb": max(peaks[k]) if peaks[k] else None} for k in cmds}


# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _best(fr: dict[str, Any]) -> float | None:
    return min(fr["seconds"]) if fr.get("ok") and fr.get("seconds") else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _summary(res: dict[str, Any]) -> dict[str, Any]:
    """A driver result without the per-file lists (kept separately where needed)."""
    return {k: v for k, v in res.items() if k != "files"}


def bench_synthetic(tools: Tools, n: int, rounds: int, runs: int) -> dict[str, Any]:
    import bench

    ir = bench.synthetic_ir(n)
    stats = bench.ir_stats(ir)
    path = tools.workdir / f"synthetic-{n}.yaml"
    path.write_text(bench.synthetic_ir_text(n, ir))
    del ir
    row: dict[str, Any] = {"size": n, **stats, "input_bytes": path.stat().st_size,
                           "load_before": _load()}
    for tool in ("kfp2argo", "kfp"):
        print(f"    {tool}: in-process x{rounds}", file=sys.stderr, flush=True)
        res = tools.run_protocol(tool, [path], rounds, tools.workdir / f"{tool}-{n}")
        fr = res["files"][0]
        if not fr.get("ok"):
            raise RuntimeError(f"{tool} failed on {n} tasks: {fr.get('error')}")
        row[tool] = {**_summary(res), "compile_best_s": min(fr["seconds"]),
                     "compile_median_s": statistics.median(fr["seconds"]),
                     "compile_s": fr["seconds"],
                     "compile_cpu_best_s": min(fr["cpu_seconds"]) if fr.get("cpu_seconds") else None,
                     "yaml_bytes": fr.get("yaml_bytes"),
                     "json_bytes": fr.get("json_bytes"),
                     **{k: fr[k] for k in ("parse_seconds", "compile_seconds", "marshal_seconds")
                        if k in fr}}
    print(f"    whole process x{runs}, interleaved", file=sys.stderr, flush=True)
    proc = tools.interleaved({t: tools.process_cmd(t, path, tools.workdir / f"{t}-{n}-cli" / path.name)
                              for t in ("kfp2argo", "kfp")}, runs)
    for tool in ("kfp2argo", "kfp"):
        row[tool]["process"] = proc[tool]
    row["load_after"] = _load()
    row["ratios"] = ratios(row["kfp2argo"], row["kfp"])
    path.unlink()
    return row


def ratios(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float | None]:
    pa, pb = a.get("process") or {}, b.get("process") or {}
    return {
        "compile": _ratio(a.get("compile_best_s"), b.get("compile_best_s")),
        "compile_cpu": _ratio(a.get("compile_cpu_best_s"), b.get("compile_cpu_best_s")),
        "process_wall": _ratio(pa.get("wall_best_s"), pb.get("wall_best_s")),
        "process_cpu": _ratio(pa.get("cpu_best_s"), pb.get("cpu_best_s")),
        "peak_rss": _ratio(pa.get("peak_rss_mb"), pb.get("peak_rss_mb")),
        "yaml_bytes": _ratio(a.get("yaml_bytes"), b.get("yaml_bytes")),
        "json_bytes": _ratio(a.get("json_bytes"), b.get("json_bytes")),
    }


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.is_file())


def bench_corpus(tools: Tools, corpus: Path, rounds: int, runs: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The corpus as one batch per tool. Returns (summary, per-file results by tool)."""
    files = corpus_files(corpus)
    out: dict[str, Any] = {"files": len(files), "load_before": _load()}
    per_file: dict[str, Any] = {}
    for tool in ("kfp2argo", "kfp"):
        print(f"    {tool}: in-process x{rounds}", file=sys.stderr, flush=True)
        res = tools.run_protocol(tool, files, rounds, tools.workdir / f"{tool}-corpus")
        per_file[tool] = {fr["path"]: fr for fr in res["files"]}
        out[tool] = {**_summary(res), "compiled": sum(1 for f in res["files"] if f.get("ok")),
                     "failed": [{"file": str(Path(f["path"]).relative_to(corpus)),
                                 "error": f.get("error", "").replace(str(corpus) + os.sep, "")}
                                for f in res["files"] if not f.get("ok")],
                     "first_round_s": res["round_seconds"][0],
                     "best_round_s": min(res["round_seconds"])}
    common = [str(p) for p in files
              if per_file["kfp2argo"][str(p)].get("ok") and per_file["kfp"][str(p)].get("ok")]
    out["both_compiled"] = len(common)
    for tool in ("kfp2argo", "kfp"):
        pf = per_file[tool]
        out[tool]["compile_best_s"] = sum(_best(pf[p]) or 0.0 for p in common)
        if all(pf[p].get("cpu_seconds") for p in common):
            out[tool]["compile_cpu_best_s"] = sum(min(pf[p]["cpu_seconds"]) for p in common)
        out[tool]["yaml_bytes"] = sum(pf[p].get("yaml_bytes", 0) for p in common)
        if all("json_bytes" in pf[p] for p in common):
            out[tool]["json_bytes"] = sum(pf[p]["json_bytes"] for p in common)
    print(f"    whole process x{runs}, interleaved", file=sys.stderr, flush=True)
    proc = tools.interleaved({
        "kfp2argo": tools.process_cmd("kfp2argo", corpus, tools.workdir / "kfp2argo-corpus-cli"),
        "kfp": tools.process_cmd("kfp", corpus, tools.workdir / "kfp-corpus-cli"),
    }, runs, ok_codes={"kfp2argo": (0, 1)})  # kfp2argo's batch exits 1 when any file is rejected
    for tool in ("kfp2argo", "kfp"):
        out[tool]["process"] = proc[tool]
    out["load_after"] = _load()
    out["ratios"] = ratios(out["kfp2argo"], out["kfp"])
    return out, per_file


def bench_cold(tools: Tools, runs: int) -> dict[str, Any]:
    """Whole-process compile of the one-step hello-world pipeline, both tools, plus references."""
    load_before = _load()
    cmds = {
        "kfp2argo": tools.process_cmd("kfp2argo", HELLO, tools.workdir / "cold-k" / "hello.yaml"),
        "kfp": tools.process_cmd("kfp", HELLO, tools.workdir / "cold-g" / "hello.yaml"),
        "kfp2argo_version": [sys.executable, "-m", "transpiler", "--version"],
        "python_bare": [sys.executable, "-c", "pass"],
    }
    res = tools.interleaved(cmds, runs)
    res["load_before"], res["load_after"] = load_before, _load()
    res["ratios"] = {
        "process_wall": _ratio(res["kfp2argo"]["wall_best_s"], res["kfp"]["wall_best_s"]),
        "process_cpu": _ratio(res["kfp2argo"]["cpu_best_s"], res["kfp"]["cpu_best_s"]),
        "peak_rss": _ratio(res["kfp2argo"]["peak_rss_mb"], res["kfp"]["peak_rss_mb"]),
    }
    return res


def size_report(corpus: Path, reference: Path | None, per_file: dict[str, Any]) -> dict[str, Any]:
    """kfp2argo manifest bytes against KFP's: the reference files and the driver's output."""
    refs: dict[str, int] = {}
    if reference and reference.is_dir():
        refs = {p.stem: p.stat().st_size for p in reference.iterdir() if p.is_file()}
    rows = []
    for path, k in per_file["kfp2argo"].items():
        g = per_file["kfp"].get(path, {})
        if not k.get("ok"):
            continue
        name = str(Path(path).relative_to(corpus))
        ref = refs.get(Path(path).stem)
        drv = g.get("yaml_bytes") if g.get("ok") else None
        if ref is None and drv is None:
            continue
        rows.append({"file": name, "kfp2argo_bytes": k["yaml_bytes"], "reference_bytes": ref,
                     "driver_bytes": drv, "ratio_reference": _ratio(k["yaml_bytes"], ref),
                     "ratio_driver": _ratio(k["yaml_bytes"], drv)})

    def stats(key: str) -> dict[str, Any] | None:
        vals = sorted((r[key], r["file"]) for r in rows if r[key] is not None)
        if not vals:
            return None
        num = sum(r["kfp2argo_bytes"] for r in rows if r[key] is not None)
        den = sum(r[key.replace("ratio_", "") + "_bytes"] for r in rows if r[key] is not None)
        return {"files": len(vals), "median": statistics.median(v for v, _ in vals),
                "worst": vals[-1][0], "worst_file": vals[-1][1],
                "best": vals[0][0], "best_file": vals[0][1], "total_ratio": num / den,
                "kfp2argo_total_bytes": num, "kfp_total_bytes": den}

    rows.sort(key=lambda r: -(r["ratio_reference"] or r["ratio_driver"] or 0))
    return {"vs_reference": stats("ratio_reference"), "vs_driver": stats("ratio_driver"),
            "worst10": rows[:10], "files": rows}


# --------------------------------------------------------------------------------------------
# Environment and report
# --------------------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> str | None:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def environment(tools: Tools) -> dict[str, Any]:
    import yaml

    cpu = None
    mem_gb = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    version = subprocess.run([sys.executable, "-c", "import transpiler; print(transpiler.__version__)"],
                             capture_output=True, text=True, cwd=tools.workdir, env=tools.env).stdout.strip()
    commit = _git(tools.repo, "rev-parse", "--short", "HEAD")
    dirty = _git(tools.repo, "status", "--porcelain", "--untracked-files=no")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": cpu or platform.processor() or platform.machine(),
        "mem_gb": round(mem_gb, 1) if mem_gb else None,
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "pyyaml": yaml.__version__,
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
        "kfp2argo": version,
        "kfp2argo_commit": commit,
        "kfp2argo_dirty": bool(dirty) if dirty is not None else None,
        "peak_rss_via": "GNU time %M (max RSS of the measured process)" if tools.time_bin
        else "unavailable (no /usr/bin/time)",
    }


def _f(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def report(res: dict[str, Any]) -> str:
    env = res["environment"]
    L = []
    L.append(f"kfp2argo vs KFP argocompiler | {env['date']} | {env['cpu']} | nproc {env['nproc']} | "
             f"{env['mem_gb']} GB | {env['platform']}")
    L.append(f"kfp2argo {env['kfp2argo']} (git {env['kfp2argo_commit']}"
             f"{', uncommitted changes' if env['kfp2argo_dirty'] else ''}) Python {env['python']}, "
             f"PyYAML {env['pyyaml']} libyaml {env['libyaml']} | KFP: {res.get('kfp_tool', '?')} "
             f"({res.get('kfp_go', '?')})")
    L.append(f"load average (1/5/15 min): before {res['load_before']}, after {res['load_after']} | "
             f"in-process rounds {res['rounds']}, whole-process runs {res['runs']}, "
             f"cold runs {res['cold_runs']}")
    L.append("")
    W = 24

    def table(groups: list[tuple[str, str, str, str, float]]) -> tuple[list[str], Any]:
        """groups: (title, kfp2argo key path, KFP key path, ratio key, scale); a key path is
        'process.wall_best_s' or 'yaml_bytes'."""
        hdr = f"{'workload':<{W}}" + "".join(f"|{g[0]:^22}" for g in groups) + "| load 1m"
        sub = f"{'':<{W}}" + f"|{'kfp2argo':>8}{'KFP':>8}{'ratio':>6}" * len(groups) + "|"

        def get(d: dict[str, Any], path: str) -> float | None:
            for part in path.split("."):
                d = d.get(part) if isinstance(d, dict) else None
            return d  # type: ignore[return-value]

        def row(name: str, a: dict[str, Any], b: dict[str, Any], r: dict[str, Any], load: str) -> str:
            cells = []
            for _title, key, fmt, rkey, scale in groups:
                va, vb = get(a, key), get(b, key)
                cells.append(f"|{_f(va and va * scale, fmt):>8}{_f(vb and vb * scale, fmt):>8}"
                             f"{_f(r.get(rkey), '.2f'):>6}")
            return f"{name:<{W}}" + "".join(cells) + f"| {load}"

        return [hdr, sub, "-" * len(hdr)], row

    rows = []
    for row in res["synthetic"]:
        rows.append((f"synthetic {row['size']:,} tasks", row["kfp2argo"], row["kfp"], row["ratios"],
                     f"{row['load_before'][0]}->{row['load_after'][0]}"))
    cb = res.get("corpus")
    if cb:
        rows.append((f"corpus ({cb['both_compiled']} both)", cb["kfp2argo"], cb["kfp"], cb["ratios"],
                     f"{cb['load_before'][0]}->{cb['load_after'][0]}"))
    cold = res.get("cold")
    if cold:
        rows.append(("one-step, cold", {"process": cold["kfp2argo"]}, {"process": cold["kfp"]},
                     cold["ratios"], f"{cold['load_before'][0]}->{cold['load_after'][0]}"))
    for title, groups in (
        ("Time", [("in-process ms", "compile_best_s", ",.0f", "compile", 1000),
                  ("in-process CPU ms", "compile_cpu_best_s", ",.0f", "compile_cpu", 1000),
                  ("process wall s", "process.wall_best_s", ",.2f", "process_wall", 1),
                  ("process CPU s", "process.cpu_best_s", ",.2f", "process_cpu", 1)]),
        ("Memory and size", [("peak RSS MB", "process.peak_rss_mb", ",.0f", "peak_rss", 1),
                             ("output YAML KB", "yaml_bytes", ",.0f", "yaml_bytes", 1 / 1024),
                             ("output JSON KB", "json_bytes", ",.0f", "json_bytes", 1 / 1024)]),
    ):
        head, fmt_row = table(groups)
        L.append(title)
        L += head
        L += [fmt_row(*r) for r in rows]
        for f in res.get("synthetic_failed", []):
            L.append(f"{'synthetic ' + format(f['size'], ',') + ' tasks':<{W}}| FAILED: {f['error'][:150]}")
        L.append("")
    L.append("ratio = kfp2argo / KFP (< 1: kfp2argo faster or smaller). in-process = best of the "
             "rounds, bytes in memory to manifest text, in a warm process (KFP: timed inside the "
             "driver: parse as the API server does + argocompiler.Compile + marshal); its CPU = "
             "process CPU time over the same span (Go: all threads, GC included). process wall = "
             "best of the runs of a fresh process (kfp2argo: `python -m transpiler compile`; KFP: the "
             "driver compiling once), interleaved; process CPU = user+sys of that process (best run; "
             "less sensitive to background load than wall time); peak RSS = its max RSS (worst "
             "run); output = manifest bytes, YAML as written and as compact JSON (what the API server "
             "stores and submits).")
    if cold:
        L.append(f"one-step cold, median of {cold['kfp2argo']['runs']}: kfp2argo "
                 f"{cold['kfp2argo']['wall_median_s']:.3f} s, KFP {cold['kfp']['wall_median_s']:.3f} s; "
                 f"for reference `kfp2argo --version` {cold['kfp2argo_version']['wall_best_s']:.3f} s, "
                 f"`python -c pass` {cold['python_bare']['wall_best_s']:.3f} s (best).")
    if cb:
        k, g = cb["kfp2argo"], cb["kfp"]
        L.append(f"corpus: {cb['files']} files; kfp2argo compiled {k['compiled']}, KFP {g['compiled']}, "
                 f"both {cb['both_compiled']}. Batch round (all files, one process): kfp2argo first "
                 f"{k['first_round_s']:.2f} s / best {k['best_round_s']:.2f} s, KFP first "
                 f"{g['first_round_s']:.2f} s / best {g['best_round_s']:.2f} s. In-process and bytes "
                 f"above: files both compile; process wall: the whole corpus (kfp2argo's batch CLI "
                 f"`compile DIR -o DIR`).")
        for tool, label in (("kfp2argo", "kfp2argo"), ("kfp", "KFP")):
            for f in cb[tool]["failed"]:
                L.append(f"  {label} did not compile {f['file']}: {f['error'][:140]}")
    sr = res.get("size_report")
    if sr:
        L.append("")
        L.append("Corpus size report: kfp2argo manifest bytes / KFP manifest bytes, per file both compile")
        for key, label in (("vs_reference", "KFP reference files (kfp-argo-reference)"),
                           ("vs_driver", "KFP driver output, this run")):
            s = sr.get(key)
            if s:
                L.append(f"  vs {label}: {s['files']} files, median {s['median']:.2f}, worst "
                         f"{s['worst']:.2f} ({s['worst_file']}), best {s['best']:.2f} "
                         f"({s['best_file']}), total {s['kfp2argo_total_bytes'] / 1024:,.0f} KB / "
                         f"{s['kfp_total_bytes'] / 1024:,.0f} KB = {s['total_ratio']:.2f}")
        L.append(f"  worst 10 {'':<64} {'kfp2argo B':>10} {'ref B':>8} {'driver B':>8} "
                 f"{'/ref':>6} {'/drv':>6}")
        for r in sr["worst10"]:
            L.append(f"  {r['file']:<73} {r['kfp2argo_bytes']:>10,} {_f(r['reference_bytes'], ','):>8} "
                     f"{_f(r['driver_bytes'], ','):>8} {_f(r['ratio_reference'], '.2f'):>6} "
                     f"{_f(r['ratio_driver'], '.2f'):>6}")
    return "\n".join(L)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_kfp2argo-driver"]:
        return kfp2argo_driver(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kfp-compiler", metavar="PATH", default=os.environ.get(ENV_DRIVER),
                    help=f"the KFP compiler driver (default ${ENV_DRIVER})")
    ap.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                    help="synthetic task counts, comma-separated (default %(default)s); '' for none")
    ap.add_argument("--rounds", type=int, default=3, help="in-process compiles per input (best is reported)")
    ap.add_argument("--runs", type=int, default=3, help="whole-process runs per tool and input")
    ap.add_argument("--cold-runs", type=int, default=5, help="runs of the one-step cold compile")
    ap.add_argument("--corpus", default=str(CORPUS), help="IR corpus (default ../shared/corpus/kfp-ir)")
    ap.add_argument("--reference", default=str(REFERENCE),
                    help="KFP's compiled workflows (default ../shared/corpus/kfp-argo-reference)")
    ap.add_argument("--repo", default=str(REPO),
                    help="kfp2argo checkout to measure (default: the one holding this script)")
    ap.add_argument("--no-synthetic", action="store_true")
    ap.add_argument("--no-corpus", action="store_true")
    ap.add_argument("--no-cold-start", action="store_true")
    ap.add_argument("--timeout", type=float, default=1200, help="seconds per child process")
    ap.add_argument("--keep", metavar="DIR", help="keep every manifest written here")
    ap.add_argument("--json", metavar="PATH", help="also write machine-readable results here")
    args = ap.parse_args(argv)

    if not args.kfp_compiler:
        ap.error(f"--kfp-compiler PATH (or ${ENV_DRIVER}) is required: see benchmarks/README.md")
    driver = Path(args.kfp_compiler).resolve()
    if not os.access(driver, os.X_OK):
        ap.error(f"{driver} is not an executable file")
    sys.path.insert(0, str(HERE))  # bench.py: the synthetic IR generator

    tmp = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp(prefix="kfp2argo-compare-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        tools = Tools(Path(args.repo).resolve(), driver, tmp, args.timeout)
        # Probe both tools (and learn the KFP driver's name) on the one-step pipeline.
        probe = tools.run_protocol("kfp", [HELLO], 1, tmp / "probe")
        if not probe["files"][0].get("ok"):
            raise SystemExit(f"the KFP driver cannot compile {HELLO.name}: {probe['files'][0].get('error')}")
        kprobe = tools.run_protocol("kfp2argo", [HELLO], 1, tmp / "probe-k")
        if not kprobe["files"][0].get("ok"):
            raise SystemExit(f"kfp2argo cannot compile {HELLO.name}: {kprobe['files'][0].get('error')}")
        res: dict[str, Any] = {"environment": environment(tools), "kfp_tool": probe.get("tool"),
                               "kfp_go": probe.get("go_version"), "rounds": args.rounds,
                               "runs": args.runs, "cold_runs": args.cold_runs,
                               "load_before": _load(), "synthetic": [], "synthetic_failed": []}
        sizes = [] if args.no_synthetic else sorted(
            {int(x.replace("_", "")) for x in args.sizes.split(",") if x.strip()})
        for n in sizes:
            print(f"... synthetic {n:,} tasks", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                res["synthetic"].append(bench_synthetic(tools, n, args.rounds, args.runs))
            except (subprocess.TimeoutExpired, RuntimeError) as err:
                res["synthetic_failed"].append({"size": n, "error": str(err)[:2000]})
                print(f"    {n:,} failed: {err}; larger sizes skipped", file=sys.stderr)
                break
            print(f"    done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)

        corpus = Path(args.corpus)
        if not args.no_corpus and corpus.is_dir():
            print("... corpus batch", file=sys.stderr, flush=True)
            res["corpus"], per_file = bench_corpus(tools, corpus, args.rounds, args.runs)
            res["size_report"] = size_report(corpus, Path(args.reference), per_file)
        elif not args.no_corpus:
            print(f"corpus skipped: {corpus} not found", file=sys.stderr)

        if not args.no_cold_start:
            print("... one-step cold compile", file=sys.stderr, flush=True)
            res["cold"] = bench_cold(tools, args.cold_runs)
        res["load_after"] = _load()
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    print(report(res))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
