"""Conformance over ../shared/corpus/kfp-ir: every file compiles to a manifest that passes Argo's
JSON Schema and loads into hera, or is rejected cleanly with located "not supported" errors.

The outcome of every file is recorded in tests/corpus_expected.txt, so a regression (or a newly
supported file) shows up as a diff. Update it with ``pytest tests/test_corpus.py --update-golden``.
"""

from __future__ import annotations

import difflib
import time
from pathlib import Path

import pytest
import yaml
from hera.workflows import models as m

from argo_schema import argo_schema_errors
from conftest import ROOT, require_corpus
from transpiler import InputSchemaError, LoadError, TranspileError, UnsupportedFeature, transpile

EXPECTED = ROOT / "tests" / "corpus_expected.txt"


def corpus_files() -> list[Path]:
    corpus = require_corpus() / "kfp-ir"
    return sorted(p for p in corpus.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))


def outcome(path: Path, corpus: Path) -> tuple[str, str | None]:
    """('compiled', manifest) or ('unsupported: <first reason>', None) or ('invalid: ...', None)."""
    try:
        return "compiled", transpile(path.read_bytes(), file=str(path.relative_to(corpus)))
    except UnsupportedFeature as error:
        assert error.diagnostics and all(d.pointer for d in error.diagnostics), str(error)
        return "unsupported: " + error.diagnostics[0].message.split(". ")[0], None
    except (InputSchemaError, LoadError) as error:
        return "invalid: " + error.diagnostics[0].message.split(". ")[0], None


def test_corpus_outcomes_match_the_committed_list(update_golden: bool) -> None:
    corpus = require_corpus() / "kfp-ir"
    lines = []
    slowest = (0.0, "")
    for path in corpus_files():
        started = time.perf_counter()
        result, manifest = outcome(path, corpus)
        slowest = max(slowest, (time.perf_counter() - started, path.name))
        if manifest is not None:
            document = yaml.safe_load(manifest)
            assert argo_schema_errors(document) == [], path
            m.Workflow.model_validate(document)
        lines.append(f"{path.relative_to(corpus)}: {result}")
    actual = "\n".join(lines) + "\n"
    if update_golden:
        EXPECTED.write_text(actual, encoding="utf-8")
    expected = EXPECTED.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "expected", "actual"))
    assert not diff, f"corpus outcomes changed (pytest --update-golden to accept):\n{diff}"


def test_no_corpus_file_crashes() -> None:
    corpus = require_corpus() / "kfp-ir"
    for path in corpus_files():
        try:
            transpile(path.read_bytes(), file=path.name)
        except TranspileError:
            pass


@pytest.mark.parametrize("name", ["empty_file.yaml", "invalid_yaml.yaml", "no_name.yaml", "wrong_format.png", "empty_zip.zip", "invalid-zip.zip"])
def test_corpus_invalid_inputs_are_rejected_cleanly(name: str) -> None:
    path = require_corpus() / "invalid" / name
    with pytest.raises(TranspileError) as caught:
        transpile(path.read_bytes(), file=name)
    text = str(caught.value)
    assert text.startswith(name + ":") and "Traceback" not in text
