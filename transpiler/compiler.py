"""The row of passes: what ``compile`` and ``validate`` run, one pass per line (``_compile``).

::

    source = load.load(data, file)                    # bytes -> dicts with source positions
    validate.validate(source)                         # JSON Schema + references, all errors at once
    pipeline = parse.parse(source)                    # dicts -> typed model (transpiler.ir)
    pipeline = arguments.bind(source, pipeline, options)      # -p / runtimeConfig values as defaults
    facts = analysis.Analysis(pipeline, options.importer_scheme)   # facts the later passes read
    support.check(source, pipeline, facts, options)   # refusals, each located
    pipeline, facts = partition.partition(source, pipeline, facts)   # DAGs over Argo's limits split
    layout = plan.plan(source, pipeline, facts)       # templates and names
    manifest = lower.lower(source, pipeline, facts, layout, options)   # hera's models
    document = skeleton.apply(argo_versions.shape(emit.to_plain(manifest), ...), ...)   # ordered plain data, in the target Argo's form
    text = emit.to_yaml(document)                     # deterministic text

``check`` runs the same row and drops the result, so ``validate`` gives ``compile``'s verdict
exactly: the refusals all sit before ``lower``, which reports nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from transpiler.load import Source, load
from transpiler.validate import validate


def check(data: bytes | str, options: Any = None, file: str = "<input>") -> Source:
    """Every check :func:`transpile` makes with these options, without writing anything (what
    ``kfp2argo validate`` runs): the same problems, the same located messages.

    Raises:
        TranspileError: with every problem found.
    """
    source = load(data, file)
    _compile(source, options, file)
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
        options: a :class:`transpiler.Options` (kind, names, namespace, parameters, ...);
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
    return _compile(load(data, file), options, file)


def _compile(source: Source, options: Any, file: str) -> dict[str, Any]:
    """The passes after ``load``, in order; see the module docstring."""
    from transpiler import analysis, argo_versions, arguments, emit, lower, parse, partition, plan, skeleton, support
    from transpiler import options as options_module

    options = options or options_module.Options()
    validate(source)
    pipeline = parse.parse(source)
    pipeline = arguments.bind(source, pipeline, options)
    facts = analysis.Analysis(pipeline, options.importer_scheme)
    support.check(source, pipeline, facts, options)
    options_module.check(options)
    pipeline, facts = partition.partition(source, pipeline, facts)
    layout = plan.plan(source, pipeline, facts)
    source = source.positions_only()  # frees the input's values before the output is built
    manifest = lower.lower(source, pipeline, facts, layout, options)
    document = argo_versions.shape(emit.to_plain(manifest), options.argo_version)
    return skeleton.apply(document, pipeline, options.skeleton, file)
