"""Golden files: golden/<case>/pipeline.yaml (IR compiled by kfp from tests/fixtures/<case>.py)
must transpile to exactly golden/<case>/workflow.yaml, with the options of golden/<case>/kfp2argo.yaml
where the case has one (a config file as a user commits it).

Regenerate with ``pytest tests/test_golden.py --update-golden`` and review the diff.
"""

from __future__ import annotations

import difflib

import pytest
import yaml
from hera.workflows import models as m

from argo_schema import argo_schema_errors
from conftest import GOLDEN, golden_options
from transpiler import transpile

CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "pipeline.yaml").is_file())


def test_every_fixture_has_a_golden_case():
    fixtures = {p.stem for p in (GOLDEN.parent / "tests" / "fixtures").glob("*.py")}
    assert fixtures <= set(CASES), f"fixtures without golden/<case>/pipeline.yaml: {sorted(fixtures - set(CASES))}"


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, update_golden: bool) -> None:
    source = GOLDEN / case / "pipeline.yaml"
    expected_path = GOLDEN / case / "workflow.yaml"
    actual = transpile(source.read_bytes(), golden_options(case), file=f"golden/{case}/pipeline.yaml")
    if update_golden:
        expected_path.write_text(actual, encoding="utf-8")
    expected = expected_path.read_text(encoding="utf-8") if expected_path.exists() else ""
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "expected", "actual")
        )
        pytest.fail(f"golden/{case}/workflow.yaml differs (run pytest --update-golden and review):\n{diff}")


@pytest.mark.parametrize("case", CASES)
def test_golden_is_valid_argo(case: str) -> None:
    document = yaml.safe_load((GOLDEN / case / "workflow.yaml").read_text())
    assert argo_schema_errors(document) == []
    workflow = m.Workflow.model_validate(document)
    assert workflow.spec.entrypoint in {t.name for t in workflow.spec.templates}
