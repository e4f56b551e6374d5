"""The Argo lint harness (tools/argo-harness): proven on Argo's examples and on broken manifests.

- Argo's own examples (../shared/argo/examples/) must pass, except the files listed with a
  reason in tests/lint_cases/examples_expected_failures.txt.
- Each tests/lint_cases/*.yaml declares its outcome in its comment header: one or more
  ``# expect: <fragment>`` lines (each fragment must occur in that file's problem lines), or
  ``# expect-clean`` (no problem at all).
- The golden manifests (golden/<case>/workflow.yaml) must pass.

Every group is linted in one harness run.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

import argo_lint
from argo_lint import ARGO_MODULE, lint, problems_by_file, require_harness, versions
from conftest import GOLDEN, SHARED

CASES = Path(__file__).resolve().parent / "lint_cases"
EXAMPLES = SHARED / "argo" / "examples"
EXPECTED_FAILURES = CASES / "examples_expected_failures.txt"
CASE_FILES = sorted(CASES.glob("*.yaml"))

_EXPECT = re.compile(r"^#\s*expect:\s*(.+?)\s*$")
_CLEAN = re.compile(r"^#\s*expect-clean\s*$")
# "KIND/NAME: MESSAGE", or "document #N: invalid YAML: ..." for a document that is not YAML.
OBJECT_PROBLEM = re.compile(
    r"^((Workflow|WorkflowTemplate|ClusterWorkflowTemplate|CronWorkflow)/\S.*?|document #\d+): \S"
)
_FAILURE = re.compile(r"^(?P<file>[^\s:]+):\s*(?:\[argo<(?P<below>\d+\.\d+)\]\s*)?(?P<reason>.+)$")


# --- the broken (and valid) cases -------------------------------------------------------


def _expectations(path: Path) -> tuple[bool, list[str]]:
    clean, fragments = False, []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        if _CLEAN.match(line):
            clean = True
        elif m := _EXPECT.match(line):
            fragments.append(m.group(1))
    return clean, fragments


@lru_cache(maxsize=None)
def _case_problems() -> dict[str, list[str]]:
    return problems_by_file(lint(CASE_FILES))


def test_cases_declare_their_outcome() -> None:
    assert CASE_FILES, f"no cases in {CASES}"
    for path in CASE_FILES:
        clean, fragments = _expectations(path)
        assert clean != bool(fragments), (
            f"{path.name}: the header needs either '# expect-clean' or '# expect: ...' lines"
        )


@pytest.mark.parametrize("case", CASE_FILES, ids=lambda p: p.stem)
def test_lint_case(case: Path) -> None:
    require_harness()
    clean, fragments = _expectations(case)
    problems = _case_problems().get(str(case), [])
    if clean:
        assert problems == [], f"{case.name} should pass:\n" + "\n".join(problems)
        return
    assert problems, f"{case.name} should fail but passed"
    shown = "\n".join(problems)
    for fragment in fragments:
        assert any(fragment in p for p in problems), (
            f"{case.name}: expected {fragment!r} among:\n{shown}"
        )


def test_problem_line_format() -> None:
    require_harness()
    for file, problems in _case_problems().items():
        assert Path(file).parent == CASES, file
        for problem in problems:
            assert re.match(OBJECT_PROBLEM, problem), problem


# --- Argo's examples --------------------------------------------------------------------


def _expected_example_failures(argo_version: tuple[int, ...]) -> dict[str, list[str]]:
    """File name -> backticked fragments, for the exceptions that apply to this version."""
    expected: dict[str, list[str]] = {}
    for line in EXPECTED_FAILURES.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = _FAILURE.match(line)
        assert m, f"{EXPECTED_FAILURES.name}: malformed line: {line!r}"
        below = m.group("below")
        if below and argo_version >= tuple(int(x) for x in below.split(".")):
            continue
        assert m.group("file") not in expected, f"{m.group('file')} listed twice"
        expected[m.group("file")] = re.findall(r"`([^`]+)`", m.group("reason"))
    return expected


def test_argo_examples() -> None:
    if not EXAMPLES.is_dir():
        pytest.skip(f"{EXAMPLES} is absent")
    require_harness()
    files = sorted(EXAMPLES.glob("*.yaml"))
    assert len(files) >= 200, f"only {len(files)} examples in {EXAMPLES}"
    expected = _expected_example_failures(versions()[ARGO_MODULE])
    unknown = set(expected) - {f.name for f in files}
    assert not unknown, f"{EXPECTED_FAILURES.name} lists files that are not examples: {sorted(unknown)}"

    # One run: templateRef/workflowTemplateRef resolve against the WorkflowTemplates and
    # ClusterWorkflowTemplates among the examples, as with `argo lint --offline examples/`.
    failing = {Path(f).name: p for f, p in problems_by_file(lint(files)).items()}

    unexpected = {f: p for f, p in failing.items() if f not in expected}
    assert not unexpected, "examples failing without a recorded reason:\n" + "\n".join(
        f"{f}: {line}" for f, lines in sorted(unexpected.items()) for line in lines
    )
    passing = sorted(set(expected) - set(failing))
    assert not passing, f"listed as failing but passed (remove from {EXPECTED_FAILURES.name}): {passing}"
    for name, fragments in expected.items():
        for fragment in fragments:
            assert any(fragment in line for line in failing[name]), (
                f"{name}: expected {fragment!r} among:\n" + "\n".join(failing[name])
            )


# --- golden manifests -------------------------------------------------------------------


def test_golden_manifests() -> None:
    manifests = sorted(GOLDEN.glob("**/workflow.yaml"))
    if not manifests:
        assert not any(GOLDEN.rglob("workflow.yaml")), "golden manifests exist but were not found"
        return  # nothing to lint yet
    require_harness()
    problems = lint(manifests)
    assert problems == [], "golden manifests rejected by Argo's validator:\n" + "\n".join(problems)


# --- the helper itself ------------------------------------------------------------------


def _without_go(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(argo_lint, "_harness", argo_lint._UNSET)
    monkeypatch.setattr(argo_lint.shutil, "which", lambda name: None)


def test_missing_go_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_go(monkeypatch)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Go toolchain not found"):
        require_harness()


def test_missing_go_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_go(monkeypatch)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_harness()
