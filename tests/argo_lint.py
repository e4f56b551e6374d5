"""Test helper: run Argo's own validator (the Go lint harness in tools/argo-harness) on manifests.

The harness does what ``argo lint --offline`` does in strict mode, using Argo's Go packages,
plus the checks of Argo's full CRDs that only the cluster applies (item limits, CEL rules).
It prints one line per problem, ``FILE: KIND/NAME: MESSAGE``; CRD problems have a message
starting with ``CRD:``.

Usage in a test::

    from argo_lint import lint, require_harness

    def test_something(tmp_path):
        require_harness()  # skips without Go locally; fails when CI=true
        assert lint([path]) == []

Lint many files with one ``lint()`` call: it is one process, and the WorkflowTemplates among
the files resolve ``templateRef``/``workflowTemplateRef`` in the others.

The same build makes ``argo-eval`` (tools/argo-harness/cmd/argo-eval), which evaluates ``when``
strings and expression tags with Argo's own template code, and KFP conditions with cel-go, as
the KFP backend does. ``evaluate()`` sends it many requests in one process::

    from argo_lint import evaluate, require_harness

    require_harness()
    [answer] = evaluate([{"when": "{{=inputs.parameters['x'] == 'a'}}",
                          "scope": {"inputs.parameters.x": "a"}}])
    assert answer == {"result": True}
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import json
from pathlib import Path

import pytest

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

REPO_ROOT = Path(__file__).resolve().parents[1]
TOOL_DIR = REPO_ROOT / "tools" / "argo-harness"
BUILD_SCRIPT = TOOL_DIR / "build.sh"
BINARY = TOOL_DIR / "bin" / "argo-lint"
EVAL_BINARY = TOOL_DIR / "bin" / "argo-eval"
# A cold build compiles Argo and Kubernetes from source: minutes on a small machine.
BUILD_TIMEOUT_S = 3600
LINT_TIMEOUT_S = 600

_UNSET = object()
_harness: object = _UNSET
_missing_reason = ""


class HarnessError(RuntimeError):
    """The harness could not be built or did not run properly (not a lint finding)."""


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def harness_path() -> Path | None:
    """Path of the built harness, building it with build.sh once per session.

    Returns None when Go is not installed (or too old for the pinned Argo module); the reason
    is given by ``require_harness``. A build failure with a working Go raises HarnessError.
    """
    global _harness, _missing_reason
    if _harness is not _UNSET:
        return _harness  # type: ignore[return-value]
    go = shutil.which("go")
    if go is None:
        _missing_reason = "Go toolchain not found in PATH (needed to build tools/argo-harness)"
        _harness = None
        return None
    required = _required_go_version()
    have = _go_version(go)
    if required and have and have < required:
        _missing_reason = (
            f"Go {'.'.join(map(str, have))} is older than the "
            f"{'.'.join(map(str, required))} tools/argo-harness/go.mod needs"
        )
        _harness = None
        return None
    proc = _build()
    if proc.returncode != 0 or not BINARY.is_file() or not EVAL_BINARY.is_file():
        raise HarnessError(
            f"tools/argo-harness/build.sh failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}"
        )
    _harness = BINARY
    return BINARY


def _build() -> subprocess.CompletedProcess[str]:
    # Serialise builds (e.g. pytest-xdist workers) on a lock file next to the binary.
    BINARY.parent.mkdir(parents=True, exist_ok=True)
    with open(BINARY.parent / ".build.lock", "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        return subprocess.run(
            ["sh", str(BUILD_SCRIPT)],
            cwd=TOOL_DIR,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
        )


def require_harness() -> Path:
    """The harness path; skips the test without Go, but fails it when CI=true."""
    path = harness_path()
    if path is None:
        message = f"argo lint harness unavailable: {_missing_reason}"
        if _in_ci():
            pytest.fail(message + " (CI=true: a missing toolchain must not skip these tests)")
        pytest.skip(message)
    return path


def lint(paths: list[Path]) -> list[str]:
    """Lint the files (or directories) in one harness run; returns the problem lines.

    An empty list means every Argo object passed. Raises HarnessError when the harness is
    unavailable or fails to run (exit status other than 0 or 1).
    """
    binary = harness_path()
    if binary is None:
        raise HarnessError(f"argo lint harness unavailable: {_missing_reason}")
    if not paths:
        raise ValueError("lint() needs at least one path")
    proc = subprocess.run(
        [str(binary), *[str(p) for p in paths]],
        capture_output=True,
        text=True,
        timeout=LINT_TIMEOUT_S,
    )
    if proc.returncode not in (0, 1):
        raise HarnessError(f"argo-lint exited {proc.returncode}:\n{proc.stderr}")
    lines = proc.stdout.splitlines()
    if proc.returncode == 1 and not lines:
        raise HarnessError(f"argo-lint exited 1 without reporting a problem:\n{proc.stderr}")
    if proc.returncode == 0 and lines:
        raise HarnessError("argo-lint exited 0 but reported:\n" + "\n".join(lines))
    return lines


def evaluate(requests: list[dict]) -> list[dict]:
    """Answer ``argo-eval`` requests in one process; one answer per request, in order.

    A request is ``{"when": ..., "scope": {...}}`` (Argo's substitution and ``when``
    evaluation of a DAG task: answers ``{"result": bool}``), ``{"text": ..., "scope": {...}}``
    (the substituted text: ``{"text": str}``) or ``{"cel": ..., "parameter_values": {...}}``
    (cel-go, as KFP evaluates a condition: ``{"result": bool}``); ``"strict": "all"`` makes the
    substitution strict on every variable, as Argo's loop expansion is. A failure is answered
    ``{"error": str}``. See tools/argo-harness/cmd/argo-eval/main.go.
    """
    if harness_path() is None:
        raise HarnessError(f"argo-eval harness unavailable: {_missing_reason}")
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in requests)
    proc = subprocess.run(
        [str(EVAL_BINARY)],
        input=data,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=LINT_TIMEOUT_S,
    )
    if proc.returncode != 0:
        raise HarnessError(f"argo-eval exited {proc.returncode}:\n{proc.stderr}")
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    if len(answers) != len(requests):
        raise HarnessError(f"argo-eval answered {len(answers)} of {len(requests)} requests")
    return answers


def problems_by_file(lines: list[str]) -> dict[str, list[str]]:
    """Group problem lines by their FILE part (as passed to ``lint``)."""
    grouped: dict[str, list[str]] = {}
    for line in lines:
        file, sep, rest = line.partition(": ")
        grouped.setdefault(file if sep else "", []).append(rest if sep else line)
    return grouped


def versions() -> dict[str, tuple[int, ...]]:
    """Versions of the Go modules built into the harness, e.g. the Argo module's."""
    binary = harness_path()
    if binary is None:
        raise HarnessError(f"argo lint harness unavailable: {_missing_reason}")
    out = subprocess.run(
        [str(binary), "-version"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    found = {}
    for line in out.splitlines():
        module, _, version = line.partition(" ")
        parsed = _parse_version(version)
        if parsed:
            found[module] = parsed
    return found


ARGO_MODULE = "github.com/argoproj/argo-workflows/v4"


def _parse_version(text: str) -> tuple[int, ...] | None:
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(g or 0) for g in match.groups()) if match else None


def _go_version(go: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run(
            [go, "env", "GOVERSION"], capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return _parse_version(out)


def _required_go_version() -> tuple[int, ...] | None:
    match = re.search(r"^go\s+(\S+)", (TOOL_DIR / "go.mod").read_text(), re.MULTILINE)
    return _parse_version(match.group(1)) if match else None
