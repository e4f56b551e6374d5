"""The same input gives the same bytes, whatever the hash seed or process."""

from __future__ import annotations

import subprocess
import sys

from conftest import GOLDEN


def test_output_is_identical_across_hash_seeds():
    source = str(GOLDEN / "parameter_types" / "pipeline.yaml")
    outputs = set()
    for seed in ("0", "1", "12345"):
        proc = subprocess.run(
            [sys.executable, "-m", "transpiler", "compile", source],
            capture_output=True,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            check=True,
        )
        outputs.add(proc.stdout)
    assert len(outputs) == 1
