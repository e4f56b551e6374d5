"""The committed IR in golden/<case>/pipeline.yaml is what the pinned kfp compiles from
tests/fixtures/<case>.py (recompile with ``python tools/compile_fixtures.py``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import GOLDEN, ROOT

sys.path.insert(0, str(ROOT / "tools"))
kfp = pytest.importorskip("kfp")
import compile_fixtures  # noqa: E402


@pytest.mark.parametrize("name", compile_fixtures.fixture_names())
def test_fixture_ir_is_up_to_date(name: str) -> None:
    # A fresh interpreter: the SDK's output depends on process state other tests may change.
    script = f"import compile_fixtures, sys; sys.stdout.write(compile_fixtures.compile_fixture({name!r}))"
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT / "tools", capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (GOLDEN / name / "pipeline.yaml").read_text()
