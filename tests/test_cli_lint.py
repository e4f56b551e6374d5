"""`kfp2argo lint` and `kfp2argo compile --lint`: the real `argo` CLI is run, or nothing is checked.

The commands run in a subprocess (their argo child writes to the real stdout/stderr) with a
fake `argo` first on PATH: a shell script that records its arguments and the file it was given,
prints a line on each stream and exits with $FAKE_ARGO_EXIT. "No argo" is a PATH of one empty
directory, so a real argo installed on the machine cannot interfere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from argo_lint import BINARY
from conftest import GOLDEN

HELLO = GOLDEN / "hello_container" / "pipeline.yaml"
HELLO_WF = GOLDEN / "hello_container" / "workflow.yaml"
ARGO_ARGS = ["lint", "--offline", "--output", "simple", "--"]

FAKE_ARGO = """#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_ARGO_RECORD/args"
for last in "$@"; do :; done
[ -f "$last" ] && cat "$last" > "$FAKE_ARGO_RECORD/linted"
echo "argo stdout"
echo "argo stderr" >&2
exit "${FAKE_ARGO_EXIT:-0}"
"""


def write_script(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / name
    script.write_text(text)
    script.chmod(0o755)
    return script


class Run:
    """One fake argo (in tmp_path/bin) and a way to run kfp2argo against it."""

    def __init__(self, tmp_path: Path):
        self.record = tmp_path / "record"
        self.record.mkdir()
        self.bin = tmp_path / "bin"
        write_script(self.bin, "argo", FAKE_ARGO)
        self.empty = tmp_path / "empty-path"
        self.empty.mkdir()

    def __call__(self, *args: str, exit: int = 0, path: Path | None = None, stdin: bytes | None = None, **env: str):
        """Run kfp2argo with PATH = `path` (default: the fake argo's directory) + the system PATH;
        `path=self.empty` is a PATH without any argo."""
        environ = {k: v for k, v in os.environ.items() if k != "KFP2ARGO_ARGO"}
        search = str(self.empty) if path == self.empty else os.pathsep.join([str(path or self.bin), os.environ.get("PATH", "")])
        environ.update(PATH=search, FAKE_ARGO_RECORD=str(self.record), FAKE_ARGO_EXIT=str(exit), **env)
        return subprocess.run(
            [sys.executable, "-m", "transpiler", *args],
            input=stdin or b"",
            capture_output=True,
            env=environ,
            timeout=120,
        )

    @property
    def args(self) -> list[str] | None:
        file = self.record / "args"
        return file.read_text().splitlines() if file.exists() else None

    @property
    def linted(self) -> str:
        return (self.record / "linted").read_text()


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return Run(tmp_path)


def test_lint_runs_argo_offline_and_passes_output_through(run):
    proc = run("lint", str(HELLO_WF), str(GOLDEN))
    assert proc.returncode == 0, proc.stderr
    assert run.args == [*ARGO_ARGS, str(HELLO_WF), str(GOLDEN)]
    assert proc.stdout == b"argo stdout\n" and proc.stderr == b"argo stderr\n"


@pytest.mark.parametrize("argo_exit, ours", [(0, 0), (1, 1), (3, 1)])
def test_lint_exit_code_mapping(run, argo_exit, ours):
    proc = run("lint", str(HELLO_WF), exit=argo_exit)
    assert proc.returncode == ours
    assert (b"argo lint exited with status 3" in proc.stderr) == (argo_exit == 3)


def test_lint_stdin_goes_through_a_temporary_manifest(run):
    proc = run("lint", "-", stdin=HELLO_WF.read_bytes())
    assert proc.returncode == 0, proc.stderr
    *flags, linted = run.args
    assert flags == ARGO_ARGS and linted.endswith("stdin.yaml")
    assert run.linted == HELLO_WF.read_text()
    assert not Path(linted).exists()


def test_lint_without_argo_says_so_and_exits_2(run):
    proc = run("lint", str(HELLO_WF), path=run.empty)
    assert proc.returncode == 2 and proc.stdout == b""
    [line] = proc.stderr.decode().splitlines()
    assert line.startswith("kfp2argo: error: the argo CLI is not installed")
    for part in ("nothing was checked", "https://github.com/argoproj/argo-workflows/releases", "brew install argo"):
        assert part in line


def test_argo_option_and_environment_variable(run, tmp_path):
    other = write_script(tmp_path / "elsewhere", "my-argo", FAKE_ARGO)
    assert run("lint", "--argo", str(other), str(HELLO_WF), path=run.empty).returncode == 0
    assert run("lint", str(HELLO_WF), path=run.empty, KFP2ARGO_ARGO=str(other)).returncode == 0
    assert run.args == [*ARGO_ARGS, str(HELLO_WF)]
    proc = run("lint", "--argo", str(tmp_path / "nope"), str(HELLO_WF))
    assert proc.returncode == 2 and b"is not an executable file" in proc.stderr


@pytest.mark.parametrize(
    "files, message",
    [
        (["missing.yaml"], b"cannot read missing.yaml"),
        ([str(GOLDEN.parent / "README.md")], b"only reads files named *.yaml, *.yml or *.json"),
        (["-", "-"], b"given more than once"),
        ([], b"Missing argument"),
    ],
)
def test_lint_usage_errors_do_not_run_argo(run, files, message):
    proc = run("lint", *files)
    assert proc.returncode == 2 and message in proc.stderr
    assert b"Traceback" not in proc.stderr
    assert run.args is None


def test_lint_timeout_is_exit_2(run, tmp_path):
    slow = write_script(tmp_path / "slow", "argo", "#!/bin/sh\nexec sleep 60\n")
    proc = run("lint", "--timeout", "1", str(HELLO_WF), path=slow.parent)
    assert proc.returncode == 2 and b"did not finish within 1 s" in proc.stderr


def test_compile_lint_to_stdout(run):
    proc = run("compile", str(HELLO), "--lint")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == HELLO_WF.read_bytes()  # argo's report goes to stderr
    assert proc.stderr == b"argo stdout\nargo stderr\n"
    assert run.args == [*ARGO_ARGS, "workflow.yaml"]
    assert run.linted == HELLO_WF.read_text()


def test_compile_lint_writes_output_file(run, tmp_path):
    out = tmp_path / "out" / "wf.json"
    out.parent.mkdir()
    proc = run("compile", str(HELLO), "--lint", "--output-format", "json", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert run.args == [*ARGO_ARGS, "wf.json"]
    assert run.linted == out.read_text()
    assert list(out.parent.iterdir()) == [out]


def test_compile_lint_failure_writes_nothing(run, tmp_path):
    out = tmp_path / "out" / "wf.yaml"
    out.parent.mkdir()
    proc = run("compile", str(HELLO), "--lint", "-o", str(out), exit=1)
    assert proc.returncode == 1
    assert b"argo lint rejected the compiled manifest; nothing was written to" in proc.stderr
    assert list(out.parent.iterdir()) == []
    proc = run("compile", str(HELLO), "--lint", exit=1)
    assert proc.returncode == 1 and proc.stdout == b""


def test_compile_lint_without_argo_compiles_nothing(run, tmp_path):
    out = tmp_path / "wf.yaml"
    proc = run("compile", str(HELLO), "--lint", "-o", str(out), path=run.empty)
    assert proc.returncode == 2 and b"the argo CLI is not installed" in proc.stderr
    assert not out.exists()
    assert run("compile", str(HELLO), path=run.empty).returncode == 0  # without --lint argo is not needed


def test_real_lint_with_the_project_harness_as_argo(run, tmp_path):
    """tools/argo-harness stands in for argo (it takes only files): a golden manifest passes."""
    if not BINARY.is_file():
        pytest.skip("tools/argo-harness/bin/argo-lint is not built (tests/test_argo_lint.py builds it)")
    wrapper = write_script(tmp_path / "harness", "argo", f'#!/bin/sh\nshift {len(ARGO_ARGS) - 1}\nexec "{BINARY}" "$@"\n')
    proc = run("lint", str(HELLO_WF), path=wrapper.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert run("compile", str(HELLO), "--lint", path=wrapper.parent).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(HELLO_WF.read_text().replace("entrypoint:", "entrypoint: nowhere\n  x-entrypoint:", 1))
    proc = run("lint", str(bad), path=wrapper.parent)
    assert proc.returncode == 1 and str(bad).encode() in proc.stdout
