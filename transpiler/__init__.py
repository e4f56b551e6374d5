"""kfp2argo: Kubeflow Pipelines IR (PipelineSpec) to native, self-contained Argo Workflows.

The public API is :func:`transpile` (text in, manifest text out, no I/O) plus the passes it
chains, each usable alone::

    source = load(text, file)           # bytes -> dicts with source positions
    validate(source)                    # JSON Schema + semantic checks, all errors at once
    pipeline = parse(source)            # dicts -> typed model (transpiler.ir)
    workflow = lower(source, pipeline, options, overrides)   # model -> hera Argo models
    text = emit(workflow)               # deterministic YAML / JSON

Every error is a :class:`transpiler.errors.TranspileError` carrying located diagnostics.
"""

from __future__ import annotations

from typing import Any, Literal

from transpiler.errors import (
    Diagnostic,
    InputSchemaError,
    LoadError,
    OutputSchemaError,
    TranspileError,
    UnsupportedFeature,
    UsageError,
)
from transpiler.load import Source, load
from transpiler.validate import validate

__version__ = "0.1.0"

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
    "load",
    "transpile",
    "validate",
]

MSG_UNKNOWN_PARAMETER = "Unknown pipeline parameter {name!r}. The pipeline's parameters are: {known}"
MSG_BAD_VALUE = "Value {value!r} for parameter {name!r} does not fit its type {type}: {problem}"


def __getattr__(name: str) -> Any:
    if name == "Options":  # keeps `import transpiler` light for `kfp2argo --version`
        from transpiler.lower import Options

        return Options
    raise AttributeError(name)


def check(data: bytes | str, file: str = "<input>") -> Source:
    """Load and validate an input without lowering it (what ``kfp2argo validate`` runs).

    Raises:
        TranspileError: with every problem found.
    """
    source = load(data, file)
    validate(source)
    from transpiler.parse import parse

    parse(source)
    return source


def transpile(
    data: bytes | str,
    options: Any = None,
    file: str = "<input>",
    output_format: Literal["yaml", "json"] = "yaml",
) -> str:
    """Transpile KFP IR text into an Argo Workflow manifest.

    Args:
        data: the IR as written by ``kfp.compiler.Compiler().compile`` (YAML or JSON).
        options: a :class:`transpiler.lower.Options` (kind, names, namespace, parameters, ...);
            :func:`transpiler.config.to_options` builds one from config-file values.
        file: the input's name, used in diagnostics.
        output_format: ``"yaml"`` (default) or ``"json"``.

    Returns:
        The manifest text (a Workflow, or the kind ``options.kind`` names), byte-for-byte the same
        for the same input and options.

    Raises:
        TranspileError: with one located diagnostic per problem.

    >>> ir_text = '''
    ... pipelineInfo: {name: hello}
    ... components: {comp-echo: {executorLabel: exec-echo}}
    ... deploymentSpec: {executors: {exec-echo: {container: {image: alpine, command: [echo, hi]}}}}
    ... root: {dag: {tasks: {echo: {componentRef: {name: comp-echo}, taskInfo: {name: echo}}}}}
    ... '''
    >>> print(transpile(ir_text).splitlines()[0:3])
    ['apiVersion: argoproj.io/v1alpha1', 'kind: Workflow', 'metadata:']
    """
    from transpiler import emit

    document = compile_document(data, options, file)
    return emit.to_json(document) if output_format == "json" else emit.to_yaml(document)


def compile_document(data: bytes | str, options: Any = None, file: str = "<input>") -> dict[str, Any]:
    """Like :func:`transpile`, but the manifest as ordered plain data (what ``emit`` writes).

    Raises:
        TranspileError: with one located diagnostic per problem.
    """
    from transpiler import emit
    from transpiler.lower import Options, lower
    from transpiler.parse import parse
    from transpiler.partition import partition

    options = options or Options()
    source = load(data, file)
    validate(source)
    pipeline = partition(source, parse(source))
    source = source.positions_only()  # frees the input's values before the output is built
    overrides = parameter_overrides(source, pipeline, options)
    manifest = lower(source, pipeline, options, overrides)
    del source
    from transpiler import skeleton

    return skeleton.apply(emit.to_plain(manifest), pipeline, options.skeleton, file)


def parameter_overrides(source: Source, pipeline: Any, options: Any) -> dict[str, str]:
    """Pipeline parameter values from a PipelineJob wrapper and ``-p``, in wire text.

    Raises:
        UsageError: a ``-p`` name the pipeline does not have, or a value that does not fit.
    """
    from transpiler import wire

    declared = {p.name: p for p in pipeline.root.inputs.parameters}
    known = ", ".join(sorted(declared)) or "(none)"
    overrides: dict[str, str] = {}
    problems: list[Diagnostic] = []
    for name, value in sorted(source.runtime_parameters.items()):
        at = f"{source.runtime_pointer}/{name}"
        if name not in declared:
            problems.append(source.diagnostic(MSG_UNKNOWN_PARAMETER.format(name=name, known=known), at))
            continue
        try:
            overrides[name] = wire.wire_value(value, declared[name].type)
        except ValueError as err:
            problems.append(source.diagnostic(MSG_BAD_VALUE.format(value=value, name=name, type=declared[name].type, problem=err), at))
    for name, text in options.parameters:
        if name not in declared:
            problems.append(Diagnostic(MSG_UNKNOWN_PARAMETER.format(name=name, known=known), "", "-p"))
            continue
        try:
            overrides[name] = wire.wire_value(wire.parse_text(text, declared[name].type), declared[name].type)
        except ValueError as err:
            problems.append(Diagnostic(MSG_BAD_VALUE.format(value=text, name=name, type=declared[name].type, problem=err), "", "-p"))
    if problems:
        raise UsageError(problems)
    return overrides
