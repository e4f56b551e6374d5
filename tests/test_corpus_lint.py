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


# The corpus files refused for want of an option: with it they compile, and pass Argo's validator.
WITH_OPTIONS = {
    "input_artifact.yaml": {"input_artifacts": (("data", "gs://bucket/data.csv"),)},
    "component_with_metadata_fields.yaml": {"input_artifacts": (("dataset_a", "s3://bucket/a.txt"), ("dataset_b", "https://example.com/b"))},
    "pipeline_with_metadata_fields.yaml": {"input_artifacts": (("in_dataset", "minio://mlpipeline/in.txt"),)},
    "pipeline_with_various_io_types.yaml": {"kind": "workflow-template"},
    "critical/pipeline_with_importer_workspace.yaml": {"importer_scheme": "gs"},
}


def test_corpus_files_that_need_an_option_compile_with_it(tmp_path):
    from transpiler import Options, transpile

    require_harness()
    corpus = require_corpus() / "kfp-ir"
    written = []
    for name, options in WITH_OPTIONS.items():
        target = tmp_path / name.replace("/", "__")
        target.write_text(transpile((corpus / name).read_bytes(), Options(**options), file=name), encoding="utf-8")
        written.append(target)
    assert lint(written) == []
