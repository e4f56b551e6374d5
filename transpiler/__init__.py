"""kfp2argo: Kubeflow Pipelines IR (PipelineSpec) to native, self-contained Argo Workflows.

The public API is :func:`transpile` (text in, manifest text out, no I/O), :func:`check` (what
``kfp2argo validate`` runs: every check ``transpile`` makes, nothing written),
:func:`compile_document` (the manifest as plain data), :func:`compile_pipeline` (a
``@dsl.pipeline`` object in, manifest text out; needs ``kfp``) and :class:`Options`. They chain the
passes, one module each (``transpiler.compiler`` shows the row); each pass is usable alone.

Every error is a :class:`transpiler.errors.TranspileError` carrying located diagnostics.
"""

from __future__ import annotations

from typing import Any

from transpiler.errors import (
    Diagnostic,
    InputSchemaError,
    LoadError,
    OutputSchemaError,
    TranspileError,
    UnsupportedFeature,
    UsageError,
)
from transpiler.compiler import check, compile_document, transpile
from transpiler.load import Source, load
from transpiler.validate import validate
from transpiler.version import __version__

__all__ = [
    "Diagnostic",
    "InputSchemaError",
    "LoadError",
    "Options",
    "OutputSchemaError",
    "Source",
    "TranspileError",
    "UnsupportedFeature",
    "UsageError",
    "__version__",
    "check",
    "compile_document",
    "compile_pipeline",
    "load",
    "transpile",
    "validate",
]


def compile_pipeline(pipeline: Any, options: Any = None, output_format: str = "yaml") -> str:
    """Transpile a pipeline object (a ``@dsl.pipeline`` function) compiled in memory by the
    installed ``kfp``. For hera's client: ``hera.workflows.Workflow.from_dict(compile_document(...))``.

    Raises:
        TranspileError: kfp refuses the pipeline, or kfp2argo refuses its IR (located errors).
    """
    from transpiler.python_source import compile_pipeline_ir

    name = getattr(pipeline, "name", None) or "pipeline"
    return transpile(compile_pipeline_ir(pipeline, name), options, file=f"{name}.yaml", output_format=output_format)  # type: ignore[arg-type]


def __getattr__(name: str) -> Any:
    if name == "Options":  # keeps `import transpiler` light for `kfp2argo --version`
        from transpiler.options import Options

        return Options
    raise AttributeError(name)
