"""Every manifest the corpus conformance run produces passes Argo's own validator and the full
CRDs' checks (the lint harness in tools/argo-harness)."""

from __future__ import annotations

from argo_lint import lint, require_harness
from test_corpus import corpus_files, outcome
from conftest import require_corpus


def test_corpus_manifests_pass_argo_lint(tmp_path):
    require_harness()
    corpus = require_corpus() / "kfp-ir"
    written = []
    for path in corpus_files():
        result, manifest = outcome(path, corpus)
        if manifest is not None:
            target = tmp_path / (str(path.relative_to(corpus)).replace("/", "__").rsplit(".", 1)[0] + ".yaml")
            target.write_text(manifest, encoding="utf-8")
            written.append(target)
    assert len(written) >= 80
    assert lint(written) == []
