"""Run a KFP pipeline end to end, on Argo and with kfp.local, and put both runs in one shape.

* ``run_argo``: the pipeline's IR is transpiled and the manifest runs on Argo's own workflow
  controller with a simulated kubelet and executor (``tools/argo-harness/cmd/kfp2argo-sim``, built
  with the lint harness by ``tools/argo-harness/build.sh``). Pods run their commands on this
  machine: ``python3`` is this interpreter's environment (its directory comes first on PATH and
  pip is kept off the network, so a component's ``pip install kfp==...`` finds the installed
  kfp), ``sh``, ``printf`` and the like are the host's.
* ``run_local``: the same pipeline with ``kfp.local`` and its ``SubprocessRunner``, in a fresh
  Python process (kfp.local keeps global state).

Both give a :class:`Run` (tests/runs.py: the shape, the kfp.local runner and the IR task index,
shared with tests/test_cluster.py, which runs the same cases on a real cluster): the final state
and, for every task that ran (an IR task name, once per loop iteration), its state, its output
parameters as typed JSON text (so ``3`` and ``3.0`` differ) and its output artifacts' contents
and metadata. Argo's wire texts are decoded by the IR's declared types (``transpiler.wire``)::

    from sim import compile_ir, require_sim, run_argo, run_local

    def test_something(tmp_path):
        require_sim()  # skips without Go locally; fails when CI=true
        ir_text = compile_ir(FIXTURES / "run_x.py")
        assert run_argo(ir_text, {"n": 3}, tmp_path).run == run_local(FIXTURES / "run_x.py", {"n": 3}, tmp_path)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from argo_lint import TOOL_DIR, HarnessError, require_harness
from runs import (  # noqa: F401  (re-exported: the tests import these from sim)
    FAILED,
    META_PREFIX,
    RUN_TIMEOUT_S,
    SUCCEEDED,
    ArgoRun,
    Run,
    TaskIndex,
    compile_ir,
    load_fixture,
    run_local,
    typed_json,
)

SIM_BINARY = TOOL_DIR / "bin" / "kfp2argo-sim"


def require_sim() -> Path:
    """The simulator's path, built with the lint harness; skips without Go (fails when CI=true)."""
    require_harness()
    if not SIM_BINARY.is_file():
        raise HarnessError(f"tools/argo-harness/build.sh did not build {SIM_BINARY}")
    return SIM_BINARY


# ----------------------------------------------------------------------------------------------
# Argo


def run_argo(ir_text: str, arguments: dict[str, Any], tmp_path: Path, name: str = "pipeline",
             options: Any = None, edit: Callable[[dict[str, Any]], None] | None = None) -> ArgoRun:
    """Transpile the IR (with ``options``) and run the manifest on Argo's controller with
    ``arguments`` (typed pipeline parameters, submitted as ``argo submit -p`` would, in their wire
    form); ``edit`` may change the manifest first, as a user's submission would."""
    import yaml

    from transpiler import transpile, wire

    binary = require_sim()
    index = TaskIndex(ir_text)
    manifest = transpile(ir_text, options, file=f"{name}.yaml")
    if edit is not None:
        document = yaml.safe_load(manifest)
        edit(document)
        manifest = yaml.safe_dump(document, sort_keys=False)
    work = tmp_path / "argo"
    work.mkdir(parents=True, exist_ok=True)
    (work / "workflow.yaml").write_text(manifest, encoding="utf-8")
    command = [str(binary), "-work", str(work), "-timeout", f"{RUN_TIMEOUT_S - 30}s"]
    for key, value in arguments.items():
        parameter = index.root_parameters[key]
        command += ["-p", f"{parameter.name}={wire.wire_value(value, parameter.type)}"]
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run(
        command + [str(work / "workflow.yaml")], capture_output=True, text=True, encoding="utf-8", env=env, timeout=RUN_TIMEOUT_S
    )
    if proc.returncode not in (0, 1) or not proc.stdout:
        raise HarnessError(f"kfp2argo-sim exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    report = json.loads(proc.stdout)
    if report.get("timedOut"):
        raise AssertionError(f"the workflow did not finish in time:\n{json.dumps(report, indent=1)[-4000:]}")
    run, attempts = index.normalize(report)
    return ArgoRun(run=run, report=report, attempts=attempts)
