#!/usr/bin/env python3
"""kfp2argo performance benchmark.

Generates synthetic KFP IR (PipelineSpec) of a given number of tasks, shaped like what
``kfp.compiler.Compiler().compile`` writes for a layered pipeline of Python components with
artifacts, fan-out, fan-in and nested ``dsl.ParallelFor`` / ``dsl.If`` groups, and measures:

* per size: in-process compile time of :func:`transpiler.transpile`, the libyaml floor (C loader
  on the input + C dumper on the output, same process), their ratio, the growth exponent between
  sizes, and the peak RSS of a fresh ``kfp2argo compile`` process on that input;
* CLI cold start: ``python -m transpiler --version`` and compiling the hello-world golden pipeline;
* a batch of every file under ``../shared/corpus/kfp-ir/`` compiled in one process.

Only the standard library, PyYAML and the project itself are needed (kfp is *not* needed: the
synthetic IR is built as plain dicts). Run from anywhere::

    python benchmarks/bench.py                       # sizes 10,100,1000,10000
    python benchmarks/bench.py --sizes 10,100 --repeat 5 --json results.json
    python benchmarks/bench.py --profile 2000        # cProfile one compile, top functions
    python benchmarks/bench.py --emit-ir 100 > ir.yaml   # just write the synthetic IR

See benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "kfp-ir"
HELLO = REPO / "golden" / "hello_container" / "pipeline.yaml"

DEFAULT_SIZES = (10, 100, 1000, 10000)

# Targets from the issue.
TARGET_RATIO = 3.0
TARGET_PEAK_MB_10K = 256.0
TARGET_VERSION_S = 0.3
TARGET_CORPUS_S = 5.0
# Growth exponent (log t2/t1 / log n2/n1) above which a step counts as super-linear.
LINEAR_EXPONENT_LIMIT = 1.25

# --------------------------------------------------------------------------------------------
# Synthetic IR
# --------------------------------------------------------------------------------------------

KFP_VERSION = "2.17.0"
_PIP_PREAMBLE = (
    "\nif ! [ -x \"$(command -v pip)\" ]; then\n    python3 -m ensurepip || python3 -m ensurepip"
    " --user || apt-get install python3-pip\nfi\n\nPIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip"
    f" install --quiet --no-warn-script-location 'kfp=={KFP_VERSION}' '--no-deps'"
    " 'typing-extensions>=3.7.4,<5; python_version<\"3.9\"' && \"$0\" \"$@\"\n"
)
_LAUNCH = (
    'program_path=$(mktemp -d)\n\nprintf "%s" "$0" > "$program_path/ephemeral_component.py"\n'
    "_KFP_RUNTIME=true python3 -m kfp.dsl.executor_main                         "
    "--component_module_path                         "
    '"$program_path/ephemeral_component.py"                         "$@"\n'
)
_HEADER = "\nimport kfp\nfrom kfp import dsl\nfrom kfp.dsl import *\nfrom typing import *\n\n"

DATASET = {"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"}

# The handful of distinct Python components: (function name, source, inputs, outputs).
# inputs/outputs: {"parameters": {name: type}, "artifacts": {name: artifactType}}
COMPONENTS: dict[str, dict[str, Any]] = {
    "prep": {
        "source": "def prep(seed: int, data: Output[Dataset]) -> List[int]:\n"
        "    with open(data.path, 'w') as f:\n        f.write(str(seed))\n"
        "    return list(range(seed % 3 + 2))\n",
        "inputs": {"parameters": {"seed": "NUMBER_INTEGER"}},
        "outputs": {"artifacts": {"data": DATASET}, "parameters": {"Output": "LIST"}},
    },
    "work": {
        "source": "def work(x: int, data: Input[Dataset], out: Output[Dataset]) -> int:\n"
        "    text = open(data.path).read()\n    with open(out.path, 'w') as f:\n"
        "        f.write(text * 2)\n    return x + len(text)\n",
        "inputs": {"artifacts": {"data": DATASET}, "parameters": {"x": "NUMBER_INTEGER"}},
        "outputs": {"artifacts": {"out": DATASET}, "parameters": {"Output": "NUMBER_INTEGER"}},
    },
    "inner": {
        "source": "def inner(x: int, y: int, data: Input[Dataset]) -> float:\n"
        "    return (x * y + len(open(data.path).read())) / 2.0\n",
        "inputs": {
            "artifacts": {"data": DATASET},
            "parameters": {"x": "NUMBER_INTEGER", "y": "NUMBER_INTEGER"},
        },
        "outputs": {"parameters": {"Output": "NUMBER_DOUBLE"}},
    },
    "join": {
        "source": "def join(a: int, b: int, c: list) -> int:\n"
        "    return a + b + len(c)\n",
        "inputs": {"parameters": {"a": "NUMBER_INTEGER", "b": "NUMBER_INTEGER", "c": "LIST"}},
        "outputs": {"parameters": {"Output": "NUMBER_INTEGER"}},
    },
}


def _defs(spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if spec.get("artifacts"):
        out["artifacts"] = {k: {"artifactType": dict(v)} for k, v in spec["artifacts"].items()}
    if spec.get("parameters"):
        out["parameters"] = {k: {"parameterType": v} for k, v in spec["parameters"].items()}
    return out


def _executor(func: str) -> dict[str, Any]:
    return {
        "container": {
            "args": ["--executor_input", "{{$}}", "--function_to_execute", func],
            "command": ["sh", "-c", _PIP_PREAMBLE, "sh", "-ec", _LAUNCH,
                        _HEADER + COMPONENTS[func]["source"] + "\n"],
            "image": "python:3.11",
        }
    }


def _param(key: str, producer: str) -> dict[str, Any]:
    return {"taskOutputParameter": {"outputParameterKey": key, "producerTask": producer}}


def _artifact(key: str, producer: str) -> dict[str, Any]:
    return {"taskOutputArtifact": {"outputArtifactKey": key, "producerTask": producer}}


class _Builder:
    """Builds IR the way the KFP compiler names things: one component and one executor per task
    (``comp-work``, ``comp-work-2``, ... all with identical bodies, so the transpiler's executor
    deduplication is exercised), a global counter for ``for-loop-N`` / ``condition-N`` groups."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}
        self.executors: dict[str, Any] = {}
        self.uses: dict[str, int] = {}
        self.groups = 0
        self.tasks = 0  # every entry of every dag.tasks
        self.leaf_tasks = 0  # tasks that run a container

    def leaf(self, func: str, inputs: dict[str, Any], deps: list[str] | None = None) -> tuple[str, dict]:
        n = self.uses[func] = self.uses.get(func, 0) + 1
        name = func if n == 1 else f"{func}-{n}"
        spec = COMPONENTS[func]
        self.components[f"comp-{name}"] = {
            "executorLabel": f"exec-{name}",
            "inputDefinitions": _defs(spec["inputs"]),
            "outputDefinitions": _defs(spec["outputs"]),
        }
        self.executors[f"exec-{name}"] = _executor(func)
        task: dict[str, Any] = {
            "cachingOptions": {"enableCache": True},
            "componentRef": {"name": f"comp-{name}"},
        }
        if deps:
            task["dependentTasks"] = sorted(set(deps))
        task["inputs"] = {k: v for k, v in inputs.items() if v}
        task["taskInfo"] = {"name": name}
        self.tasks += 1
        self.leaf_tasks += 1
        return name, task

    def group(self, kind: str) -> str:
        self.groups += 1
        self.tasks += 1
        return f"{kind}-{self.groups}"


def _plain_stage(b: _Builder, root: dict[str, Any], seed_in: dict[str, Any], seed_dep: list[str],
                 fan_out: int) -> str:
    """A layer without loops or conditions: prep -> fan_out x work -> join. Task count: fan_out + 2."""
    prep, task = b.leaf("prep", {"parameters": {"seed": seed_in}}, seed_dep)
    root[prep] = task
    works = []
    for i in range(fan_out):
        name, task = b.leaf("work", {
            "artifacts": {"data": _artifact("data", prep)},
            "parameters": {"x": {"runtimeValue": {"constant": float(i)}}},
        }, [prep])
        root[name] = task
        works.append(name)
    join, task = b.leaf("join", {"parameters": {
        "a": _param("Output", works[0]),
        "b": _param("Output", works[-1]),
        "c": {"runtimeValue": {"constant": []}},
    }}, [works[0], works[-1]])
    root[join] = task
    return join


def _stage(b: _Builder, root: dict[str, Any], seed_in: dict[str, Any], seed_dep: list[str],
           fan_out: int, inner_n: int) -> str:
    """One layer of the root DAG; returns the name of its fan-in task.

    prep -> fan_out x work (each reads prep's artifact)           [fan-out]
    prep.Output (a list) -> for-loop -> condition(item > 1) ->
        work (reads work#1's artifact) + for-loop over [1, 2, 3] -> inner_n x inner
    join(a=work#1, b=work#last, c=Collected(inner#1 of the nested loop))   [fan-in]
    Task count: 1 + fan_out + 1 (loop) + 1 (condition) + 1 + 1 (inner loop) + inner_n + 1.
    """
    prep, task = b.leaf("prep", {"parameters": {"seed": seed_in}}, seed_dep)
    root[prep] = task

    works = []
    for i in range(fan_out):
        name, task = b.leaf("work", {
            "artifacts": {"data": _artifact("data", prep)},
            "parameters": {"x": {"runtimeValue": {"constant": float(i)}}},
        }, [prep])
        root[name] = task
        works.append(name)

    # Channels, named as the KFP compiler names them.
    art_ch = f"pipelinechannel--{works[0]}-out"
    list_ch = f"pipelinechannel--{prep}-Output"
    item_ch = f"{list_ch}-loop-item"

    outer = b.group("for-loop")
    cond = b.group("condition")
    inner_loop = b.group("for-loop")
    b.groups += 1  # KFP spends a number on the literal loop's item parameter
    inner_item = f"pipelinechannel--loop-item-param-{b.groups}"

    in_cond, t = b.leaf("work", {
        "artifacts": {"data": {"componentInputArtifact": art_ch}},
        "parameters": {"x": {"componentInputParameter": item_ch}},
    })
    cond_tasks = {in_cond: t}
    inner_tasks = {}
    inner_names = []
    for _ in range(inner_n):
        name, t = b.leaf("inner", {
            "artifacts": {"data": {"componentInputArtifact": art_ch}},
            "parameters": {"x": {"componentInputParameter": inner_item},
                           "y": {"componentInputParameter": item_ch}},
        })
        inner_tasks[name] = t
        inner_names.append(name)
    collected = f"pipelinechannel--{inner_names[0]}-Output"
    art_def = {"artifacts": {art_ch: {"artifactType": dict(DATASET)}}}
    out_def = {"parameters": {collected: {"parameterType": "LIST"}}}

    b.components[f"comp-{inner_loop}"] = {
        "dag": {
            "outputs": {"parameters": {collected: {"valueFromParameter": {
                "outputParameterKey": "Output", "producerSubtask": inner_names[0]}}}},
            "tasks": inner_tasks,
        },
        "inputDefinitions": {**art_def, "parameters": {
            inner_item: {"parameterType": "NUMBER_INTEGER"},
            item_ch: {"parameterType": "NUMBER_INTEGER"}}},
        "outputDefinitions": out_def,
    }
    cond_tasks[inner_loop] = {
        "componentRef": {"name": f"comp-{inner_loop}"},
        "inputs": {
            "artifacts": {art_ch: {"componentInputArtifact": art_ch}},
            "parameters": {item_ch: {"componentInputParameter": item_ch}},
        },
        "parameterIterator": {"itemInput": inner_item, "items": {"raw": "[1, 2, 3]"}},
        "taskInfo": {"name": inner_loop},
    }
    b.components[f"comp-{cond}"] = {
        "dag": {
            "outputs": {"parameters": {collected: {"valueFromParameter": {
                "outputParameterKey": collected, "producerSubtask": inner_loop}}}},
            "tasks": cond_tasks,
        },
        "inputDefinitions": {**art_def, "parameters": {item_ch: {"parameterType": "NUMBER_INTEGER"}}},
        "outputDefinitions": out_def,
    }
    b.components[f"comp-{outer}"] = {
        "dag": {
            "outputs": {"parameters": {collected: {"valueFromParameter": {
                "outputParameterKey": collected, "producerSubtask": cond}}}},
            "tasks": {cond: {
                "componentRef": {"name": f"comp-{cond}"},
                "inputs": {
                    "artifacts": {art_ch: {"componentInputArtifact": art_ch}},
                    "parameters": {item_ch: {"componentInputParameter": item_ch}},
                },
                "taskInfo": {"name": cond},
                "triggerPolicy": {"condition": f"int(inputs.parameter_values['{item_ch}']) > 1"},
            }},
        },
        "inputDefinitions": {**art_def, "parameters": {
            list_ch: {"parameterType": "LIST"}, item_ch: {"parameterType": "NUMBER_INTEGER"}}},
        "outputDefinitions": out_def,
    }
    root[outer] = {
        "componentRef": {"name": f"comp-{outer}"},
        "dependentTasks": sorted([prep, works[0]]),
        "inputs": {
            "artifacts": {art_ch: _artifact("out", works[0])},
            "parameters": {list_ch: _param("Output", prep)},
        },
        "parameterIterator": {"itemInput": item_ch, "items": {"inputParameter": list_ch}},
        "taskInfo": {"name": outer},
    }

    join, task = b.leaf("join", {"parameters": {
        "a": _param("Output", works[0]),
        "b": _param("Output", works[-1]),
        "c": _param(collected, outer),
    }}, [works[0], works[-1], outer])
    root[join] = task
    return join


STAGE_FIXED = 6  # prep, outer loop, condition, work in condition, inner loop, join
FAN_OUT = 8
INNER = 3
STAGE_TASKS = STAGE_FIXED + FAN_OUT + INNER  # 17
# Stages with loops and conditions: each adds 5 templates (3 DAGs, 2 loop iterations), and Argo
# admits at most 200 templates per workflow, so later stages are plain fan-out/fan-in layers of the
# same size (the transpiler partitions the root DAG into sub-DAGs of at most 200 tasks).
GROUPED_STAGES = 20


def synthetic_ir(n_tasks: int) -> dict[str, Any]:
    """IR with exactly ``n_tasks`` entries across all DAGs (root and sub-DAGs), n_tasks >= 8."""
    if n_tasks < STAGE_FIXED + 2:
        raise ValueError(f"need at least {STAGE_FIXED + 2} tasks")
    b = _Builder()
    root_tasks: dict[str, Any] = {}
    stages = max(1, n_tasks // STAGE_TASKS)
    seed: dict[str, Any] = {"componentInputParameter": "seed"}
    deps: list[str] = []
    for s in range(stages):
        extra = n_tasks - stages * STAGE_TASKS if s == stages - 1 else 0
        if stages == 1 and n_tasks < STAGE_TASKS:
            inner_n = max(1, (n_tasks - STAGE_FIXED) // 3)
            fan_out = n_tasks - STAGE_FIXED - inner_n
        else:
            inner_n = INNER
            fan_out = FAN_OUT + extra
        if s < GROUPED_STAGES:
            join = _stage(b, root_tasks, seed, deps, fan_out, inner_n)
        else:
            join = _plain_stage(b, root_tasks, seed, deps, STAGE_TASKS - 2 + extra)
        seed, deps = _param("Output", join), [join]
    assert b.tasks == n_tasks, (b.tasks, n_tasks)
    return {
        "components": dict(sorted(b.components.items())),
        "deploymentSpec": {"executors": dict(sorted(b.executors.items()))},
        "pipelineInfo": {"name": f"synthetic-{n_tasks}"},
        "root": {
            "dag": {"tasks": dict(sorted(root_tasks.items()))},
            "inputDefinitions": {"parameters": {"seed": {
                "defaultValue": 4.0, "isOptional": True, "parameterType": "NUMBER_INTEGER"}}},
        },
        "schemaVersion": "2.1.0",
        "sdkVersion": f"kfp-{KFP_VERSION}",
    }


def synthetic_ir_text(n_tasks: int, ir: dict[str, Any] | None = None) -> str:
    """The IR as YAML text, without anchors/aliases (the KFP SDK never writes them)."""
    import yaml

    class Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return yaml.dump(ir or synthetic_ir(n_tasks), Dumper=Dumper, sort_keys=False, width=100)


def ir_stats(ir: dict[str, Any]) -> dict[str, int]:
    executors = len(ir["deploymentSpec"]["executors"])
    dags = [ir["root"]["dag"]] + [c["dag"] for c in ir["components"].values() if "dag" in c]
    return {
        "tasks": sum(len(d["tasks"]) for d in dags),
        "container_tasks": executors,
        "dags": len(dags),
        "root_dag_tasks": len(ir["root"]["dag"]["tasks"]),
        "max_dag_tasks": max(len(d["tasks"]) for d in dags),
    }


# --------------------------------------------------------------------------------------------
# Child-process workers (each measurement runs in a fresh interpreter)
# --------------------------------------------------------------------------------------------


def _maxrss_mb(ru_maxrss: int) -> float:
    # Linux reports KiB, macOS bytes.
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024


def self_peak_mb() -> tuple[float, str]:
    """This process's peak resident set size, MB, and where it came from.

    On Linux this is ``VmHWM`` from /proc/self/status: the high-water mark of *this* process's
    address space, reset by exec. ``getrusage().ru_maxrss`` is not used there because Linux
    carries the parent's RSS at fork time over into the child's ru_maxrss (exec keeps the
    maximum), so a child started by a big parent reports the parent's size. Elsewhere,
    ru_maxrss is the fallback.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024, "VmHWM"
    except OSError:
        pass
    import resource

    return _maxrss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss), "ru_maxrss"


# Runs the real CLI (`python -m transpiler ARGS`) and, at interpreter exit, writes this process's
# peak RSS to the file named by $KFP2ARGO_BENCH_PEAK.
_PEAK_WRAPPER = """
import atexit, json, os, runpy, sys
def _report():
    peak = None
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    peak = (int(line.split()[1]) / 1024, 'VmHWM')
    except OSError:
        pass
    if peak is None:
        import resource
        r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = (r / 1048576 if sys.platform == 'darwin' else r / 1024, 'ru_maxrss')
    with open(os.environ['KFP2ARGO_BENCH_PEAK'], 'w') as f:
        json.dump(peak, f)
atexit.register(_report)
sys.argv[0] = 'kfp2argo'
runpy.run_module('transpiler', run_name='__main__', alter_sys=True)
"""


def run_cli_peak(cli_args: list[str], workdir: Path, timeout: float) -> tuple[int, float, float, str]:
    """Run ``python -m transpiler CLI_ARGS`` in a fresh process.

    Returns (exit code, wall seconds, peak RSS MB of that process, how the peak was measured).
    """
    peak_file = workdir / "peak.json"
    peak_file.unlink(missing_ok=True)
    env = {**os.environ, "KFP2ARGO_BENCH_PEAK": str(peak_file)}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _PEAK_WRAPPER, *cli_args], env=env, cwd=REPO,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode(errors="replace")[-3000:])
    peak, how = json.loads(peak_file.read_text())
    return proc.returncode, wall, peak, how


def child_time(path: str, repeat: int) -> dict[str, Any]:
    """Compile time and libyaml floor for one input, in this (fresh) process."""
    import gc

    import yaml

    import transpiler
    from transpiler.lower import Options  # noqa: F401  (import cost out of the timing)

    text = Path(path).read_bytes()
    # One-time lazy initialisation (schema compilation, templates, ...) is timed separately on a
    # tiny input, so the per-size numbers are the steady state of a process that compiles.
    t0 = time.perf_counter()
    transpiler.transpile(HELLO.read_bytes(), file=str(HELLO))
    warmup_s = time.perf_counter() - t0

    compile_s, floor_load_s, floor_dump_s = [], [], []
    out = ""
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = transpiler.transpile(text, file=path)
        compile_s.append(time.perf_counter() - t0)
    manifest = yaml.load(out, Loader=yaml.CSafeLoader)
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        yaml.load(text, Loader=yaml.CSafeLoader)
        t1 = time.perf_counter()
        yaml.dump(manifest, Dumper=yaml.CSafeDumper)
        t2 = time.perf_counter()
        floor_load_s.append(t1 - t0)
        floor_dump_s.append(t2 - t1)
    templates = manifest["spec"]["templates"]
    dag_sizes = [len(t["dag"]["tasks"]) for t in templates if "dag" in t]
    return {
        "warmup_hello_s": warmup_s,
        "compile_s": compile_s,
        "floor_load_s": floor_load_s,
        "floor_dump_s": floor_dump_s,
        "input_bytes": len(text),
        "output_bytes": len(out.encode()),
        "argo_templates": len(templates),
        "argo_max_dag_tasks": max(dag_sizes) if dag_sizes else 0,
    }


def child_corpus(corpus: str) -> dict[str, Any]:
    """Compile every corpus file in this one process."""
    t_start = time.perf_counter()
    import transpiler
    from transpiler.lower import Options  # noqa: F401

    import_s = time.perf_counter() - t_start
    files = sorted(p for p in Path(corpus).rglob("*") if p.is_file())
    compiled = rejected = crashed = 0
    crashes = []
    slowest = []
    t0 = time.perf_counter()
    for p in files:
        t = time.perf_counter()
        try:
            transpiler.transpile(p.read_bytes(), file=p.name)
            compiled += 1
        except transpiler.TranspileError:
            rejected += 1
        except Exception as err:  # a crash is a bug, but the batch goes on
            crashed += 1
            crashes.append(f"{p.name}: {type(err).__name__}: {err}"[:200])
        slowest.append((time.perf_counter() - t, p.name))
    batch_s = time.perf_counter() - t0
    slowest.sort(reverse=True)
    peak, how = self_peak_mb()
    return {
        "files": len(files),
        "compiled": compiled,
        "rejected": rejected,
        "crashed": crashed,
        "crashes": crashes,
        "import_s": import_s,
        "batch_s": batch_s,
        "slowest": [{"file": n, "s": s} for s, n in slowest[:3]],
        "peak_rss_mb": peak,
        "peak_rss_source": how,
    }


def child_profile(path: str, top: int) -> None:
    import cProfile
    import pstats

    import transpiler
    from transpiler.lower import Options  # noqa: F401

    text = Path(path).read_bytes()
    transpiler.transpile(HELLO.read_bytes())
    prof = cProfile.Profile()
    prof.enable()
    transpiler.transpile(text, file=path)
    prof.disable()
    stats = pstats.Stats(prof, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


# --------------------------------------------------------------------------------------------
# Parent: orchestration
# --------------------------------------------------------------------------------------------


def _run_child(args: list[str], timeout: float) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _spawn_wall(cmd: list[str], timeout: float) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
                   timeout=timeout, check=True)
    return time.perf_counter() - t0


def bench_size(n: int, repeat: int, workdir: Path, timeout: float) -> dict[str, Any]:
    t_gen = time.perf_counter()
    ir = synthetic_ir(n)
    stats = ir_stats(ir)
    text = synthetic_ir_text(n, ir)
    gen_s = time.perf_counter() - t_gen
    path = workdir / f"synthetic-{n}.yaml"
    path.write_text(text)

    timing = _run_child(["--_child-time", str(path), "--repeat", str(repeat)], timeout)
    # Peak memory: the real CLI on this input, a fresh process, its own rusage via wait4.
    out = workdir / f"synthetic-{n}.argo.yaml"
    rc, wall, peak, how = run_cli_peak(["compile", str(path), "-o", str(out)], workdir, timeout)
    if rc != 0:
        raise RuntimeError(f"kfp2argo compile failed on size {n} (exit {rc})")
    compile_best = min(timing["compile_s"])
    floor_best = min(timing["floor_load_s"]) + min(timing["floor_dump_s"])
    return {
        "size": n,
        **stats,
        "generate_s": gen_s,
        **timing,
        "compile_best_s": compile_best,
        "compile_median_s": statistics.median(timing["compile_s"]),
        "floor_best_s": floor_best,
        "ratio": compile_best / floor_best,
        "cli_compile_wall_s": wall,
        "cli_peak_rss_mb": peak,
        "cli_peak_rss_source": how,
    }


def bench_cold_start(repeat: int, workdir: Path) -> dict[str, Any]:
    n = max(repeat, 5)
    cmds = {
        "version": [sys.executable, "-m", "transpiler", "--version"],
        "compile_hello": [sys.executable, "-m", "transpiler", "compile", str(HELLO),
                          "-o", str(workdir / "hello.argo.yaml")],
        "python_bare": [sys.executable, "-c", "pass"],
    }
    script = Path(sys.executable).parent / "kfp2argo"
    if script.exists():
        cmds["version_console_script"] = [str(script), "--version"]
    result: dict[str, Any] = {}
    for key, cmd in cmds.items():
        walls = [_spawn_wall(cmd, 60) for _ in range(n)]
        result[key] = {"best_s": min(walls), "median_s": statistics.median(walls), "runs": n}
    # Peak RSS of a process that only imports the CLI: the baseline under every size's peak.
    result["version"]["peak_rss_mb"] = run_cli_peak(["--version"], workdir, 60)[2]
    return result


def growth(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    steps = []
    for a, b in zip(sizes, sizes[1:]):
        exp = math.log(b["compile_best_s"] / a["compile_best_s"]) / math.log(b["size"] / a["size"])
        floor_exp = math.log(b["floor_best_s"] / a["floor_best_s"]) / math.log(b["size"] / a["size"])
        steps.append({"from": a["size"], "to": b["size"], "compile_exponent": exp,
                      "floor_exponent": floor_exp})
    return steps


def _ms(s: float) -> str:
    return f"{s * 1000:,.1f}"


def _mark(ok: bool | None) -> str:
    return "n/a" if ok is None else ("MET" if ok else "MISSED")


def report(res: dict[str, Any]) -> str:
    lines = []
    env = res["environment"]
    lines.append(f"kfp2argo {env['kfp2argo']} | Python {env['python']} | {env['platform']} | "
                 f"nproc {env['nproc']} | PyYAML {env['pyyaml']} (libyaml C: {env['libyaml']}) | "
                 f"repeat {res['repeat']}")
    lines.append("")
    hdr = (f"{'tasks':>7} {'exec':>6} {'in KB':>8} {'out KB':>8} {'compile ms':>11} "
           f"{'us/task':>8} {'floor ms':>9} {'ratio':>6} {'grow':>5} {'fl.grow':>7} {'CLI peak MB':>12} {'CLI wall s':>10}")
    lines.append(hdr)
    lines.append("-" * len(hdr))
    exps = {g["to"]: g["compile_exponent"] for g in res["growth"]}
    fexps = {g["to"]: g["floor_exponent"] for g in res["growth"]}
    for s in res["sizes"]:
        e, fe = exps.get(s["size"]), fexps.get(s["size"])
        lines.append(
            f"{s['size']:>7,} {s['container_tasks']:>6,} {s['input_bytes'] / 1024:>8,.0f} "
            f"{s['output_bytes'] / 1024:>8,.0f} {_ms(s['compile_best_s']):>11} "
            f"{s['compile_best_s'] / s['size'] * 1e6:>8,.0f} {_ms(s['floor_best_s']):>9} "
            f"{s['ratio']:>6.2f} {'' if e is None else f'{e:.2f}':>5} {'' if fe is None else f'{fe:.2f}':>7} "
            f"{s['cli_peak_rss_mb']:>12,.1f} "
            f"{s['cli_compile_wall_s']:>10.2f}")
    for s in res.get("failed_sizes", []):
        lines.append(f"{s['size']:>7,}  FAILED/SKIPPED: {s['error']}")
    lines.append("")
    lines.append("compile = best-of-repeat transpiler.transpile(bytes) in a warm process; floor = "
                 "libyaml CSafeLoader(input) + CSafeDumper(output); grow = log-log slope vs the "
                 "previous size (1.0 linear, 2.0 quadratic), fl.grow the same for the floor; CLI peak = ru_maxrss of a fresh "
                 "`python -m transpiler compile` process (VmHWM on Linux).")
    cs = res.get("cold_start")
    if cs:
        lines.append("")
        lines.append("Cold start (fresh process, best / median of N):")
        for key, v in cs.items():
            peak = f", peak {v['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in v else ""
            lines.append(f"  {key:<24} {v['best_s'] * 1000:8.0f} ms  {v['median_s'] * 1000:8.0f} ms"
                         f"  (N={v['runs']}{peak})")
    cb = res.get("corpus")
    lines.append("")
    if cb is None:
        lines.append(f"Corpus batch: skipped ({res.get('corpus_skipped', 'not run')})")
    else:
        lines.append(f"Corpus batch ({cb['files']} files, one process): compiled {cb['compiled']}, "
                     f"rejected {cb['rejected']}, crashed {cb['crashed']}; batch {cb['batch_s']:.2f} s "
                     f"+ import {cb['import_s']:.2f} s; process wall {cb['process_wall_s']:.2f} s; "
                     f"peak {cb['peak_rss_mb']:.0f} MB")
        for c in cb["crashes"]:
            lines.append(f"  crash: {c}")
    lines.append("")
    lines.append("Targets:")
    for t in res["targets"]:
        lines.append(f"  [{_mark(t['met']):>6}] {t['target']}: {t['measured']}")
    return "\n".join(lines)


def targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    sizes = res["sizes"]
    if sizes:
        worst = max(sizes, key=lambda s: s["ratio"])
        out.append({"target": f"compile within {TARGET_RATIO:g}x of the libyaml floor at every size",
                    "met": all(s["ratio"] <= TARGET_RATIO for s in sizes),
                    "measured": ", ".join(f"{s['size']}: {s['ratio']:.2f}x" for s in sizes)
                    + f" (worst {worst['ratio']:.2f}x at {worst['size']})"})
        g = [x for x in res["growth"] if x["from"] >= 100] or res["growth"]
        if g:
            out.append({"target": f"linear growth (log-log slope <= {LINEAR_EXPONENT_LIMIT} between sizes >= 100)",
                        "met": all(x["compile_exponent"] <= LINEAR_EXPONENT_LIMIT for x in g),
                        "measured": ", ".join(f"{x['from']}->{x['to']}: {x['compile_exponent']:.2f}"
                                              for x in res["growth"])})
        big = [s for s in sizes if s["size"] >= 10000]
        out.append({"target": f"10,000 tasks under {TARGET_PEAK_MB_10K:g} MB peak",
                    "met": (big[0]["cli_peak_rss_mb"] < TARGET_PEAK_MB_10K) if big else None,
                    "measured": f"{big[0]['cli_peak_rss_mb']:.0f} MB" if big else "size 10000 not run"})
    cs = res.get("cold_start")
    if cs:
        out.append({"target": f"cold start of --version under {TARGET_VERSION_S:g} s",
                    "met": cs["version"]["best_s"] < TARGET_VERSION_S,
                    "measured": f"best {cs['version']['best_s']:.3f} s, median {cs['version']['median_s']:.3f} s"})
    cb = res.get("corpus")
    out.append({"target": f"whole corpus batch under {TARGET_CORPUS_S:g} s",
                "met": None if cb is None else cb["process_wall_s"] < TARGET_CORPUS_S,
                "measured": "skipped" if cb is None else
                f"{cb['process_wall_s']:.2f} s process wall ({cb['batch_s']:.2f} s compiling)"})
    return out


def environment() -> dict[str, Any]:
    import yaml

    import transpiler

    return {
        "kfp2argo": transpiler.__version__,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": f"{platform.system()} {platform.machine()}",
        "nproc": os.cpu_count(),
        "pyyaml": yaml.__version__,
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                    help="comma-separated task counts (default %(default)s)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per size; best is reported")
    ap.add_argument("--json", metavar="PATH", help="also write machine-readable results here")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per child process")
    ap.add_argument("--no-cold-start", action="store_true")
    ap.add_argument("--no-corpus", action="store_true")
    ap.add_argument("--corpus", default=str(CORPUS), help="corpus directory (default ../shared/corpus/kfp-ir)")
    ap.add_argument("--profile", type=int, metavar="N", help="cProfile one compile of N tasks and exit")
    ap.add_argument("--top", type=int, default=25, help="rows of --profile output")
    ap.add_argument("--emit-ir", type=int, metavar="N", help="print the synthetic IR of N tasks and exit")
    ap.add_argument("--_child-time", help=argparse.SUPPRESS)
    ap.add_argument("--_child-corpus", help=argparse.SUPPRESS)
    ap.add_argument("--_child-profile", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args._child_time:
        print(json.dumps(child_time(args._child_time, args.repeat)))
        return 0
    if args._child_corpus:
        print(json.dumps(child_corpus(args._child_corpus)))
        return 0
    if args._child_profile:
        child_profile(args._child_profile, args.top)
        return 0
    if args.emit_ir:
        sys.stdout.write(synthetic_ir_text(args.emit_ir))
        return 0

    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="kfp2argo-bench-") as tmp:
        workdir = Path(tmp)
        if args.profile:
            path = workdir / f"synthetic-{args.profile}.yaml"
            path.write_text(synthetic_ir_text(args.profile))
            subprocess.run([sys.executable, str(Path(__file__).resolve()), "--_child-profile",
                            str(path), "--top", str(args.top)], check=True, cwd=REPO)
            return 0

        res: dict[str, Any] = {"environment": environment(), "repeat": args.repeat,
                               "sizes": [], "failed_sizes": []}
        for n in sorted({int(x.replace("_", "")) for x in args.sizes.split(",") if x.strip()}):
            print(f"... size {n:,}", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                res["sizes"].append(bench_size(n, args.repeat, workdir, args.timeout))
            except (subprocess.TimeoutExpired, TimeoutError):
                res["failed_sizes"].append({"size": n, "error": f"timed out after {args.timeout:g} s"})
                print(f"    size {n:,} timed out; not running larger sizes", file=sys.stderr)
                break
            except Exception as err:
                res["failed_sizes"].append({"size": n, "error": str(err)[:2000]})
                print(f"    size {n:,} failed: {err}", file=sys.stderr)
                break
            print(f"    done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        res["growth"] = growth(res["sizes"])

        if not args.no_cold_start:
            print("... cold start", file=sys.stderr, flush=True)
            res["cold_start"] = bench_cold_start(args.repeat, workdir)

        corpus = Path(args.corpus)
        if args.no_corpus:
            res["corpus_skipped"] = "--no-corpus"
        elif not corpus.is_dir():
            res["corpus_skipped"] = f"{corpus} not found"
            print(f"corpus batch skipped: {corpus} not found", file=sys.stderr)
        else:
            print("... corpus batch", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            cb = _run_child(["--_child-corpus", str(corpus)], args.timeout)
            cb["process_wall_s"] = time.perf_counter() - t0
            res["corpus"] = cb
        res["targets"] = targets(res)

    print(report(res))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
