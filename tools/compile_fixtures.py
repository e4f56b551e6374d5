"""Compile the fixture pipelines in tests/fixtures/ into golden/<case>/pipeline.yaml with kfp.

Usage: python tools/compile_fixtures.py [CASE ...]

Each fixture module defines ``pipeline`` (a ``@dsl.pipeline``). The compiled IR is committed so
that golden tests do not depend on the SDK at test time; ``tests/test_fixtures.py`` checks that
compiling again with the pinned kfp version gives the same bytes. After compiling, regenerate the
expected manifests with ``pytest tests/test_golden.py --update-golden`` and review the diff.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN = ROOT / "golden"


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.py") if not p.name.startswith("_"))


def compile_fixture(name: str) -> str:
    """The IR text kfp writes for fixture ``name``."""
    from kfp import compiler

    spec = importlib.util.spec_from_file_location(f"fixture_{name}", FIXTURES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "pipeline.yaml"
        compiler.Compiler().compile(module.pipeline, str(target))
        return target.read_text(encoding="utf-8")


def main(argv: list[str]) -> int:
    for name in argv or fixture_names():
        out = GOLDEN / name / "pipeline.yaml"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(compile_fixture(name), encoding="utf-8")
        print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
