"""Shared test set-up: the --update-golden flag and where the shared corpus lives."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
GOLDEN = ROOT / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite golden/<case>/workflow.yaml and tests/corpus_expected.txt from the current code (review the diff!).",
    )
    parser.addoption(
        "--cluster",
        action="store_true",
        default=False,
        help="Run tests/test_cluster.py on a real single-node Kubernetes with Argo, building tools/cluster first "
        "(without it they are skipped).",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def require_corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent (it exists in CI and development checkouts)")
    return CORPUS


def golden_options(case: str) -> object | None:
    """The options a golden case is compiled with: golden/<case>/kfp2argo.yaml, a config file
    as a user commits it, or the defaults (``None``) where the case has none."""
    from transpiler import config

    settings = GOLDEN / case / config.CONFIG_FILE
    return config.to_options(config.read(settings).values) if settings.exists() else None
