"""The ``arguments`` pass: the values a caller gives the pipeline's parameters become their
defaults, and the URIs given for its input artifacts (``--input-artifact NAME=URI``) their
locations.

Two sources, the later winning: a PipelineJob wrapper's ``runtimeConfig.parameterValues``
(typed JSON values, located in the input) and ``-p NAME=VALUE`` (text, typed by the IR as
``wire.parse_text`` reads it). Each replaces the parameter's default in the model, so every later
pass sees it: the manifest's ``spec.arguments``, and the analysis of what an importer URI taken
from that parameter can be.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from transpiler import ir, wire
from transpiler.analysis import scheme_family, scheme_of, split_uri
from transpiler.errors import Diagnostic, UsageError
from transpiler.load import Source
from transpiler.options import Options

MSG_UNKNOWN_PARAMETER = "Unknown pipeline parameter {name!r}. The pipeline's parameters are: {known}"
MSG_BAD_VALUE = "Value {value!r} for parameter {name!r} does not fit its type {type}: {problem}"
MSG_UNKNOWN_ARTIFACT = "Unknown pipeline input artifact {name!r}. The pipeline's input artifacts are: {known}"
MSG_ARTIFACT_URI = (
    "The URI {uri!r} for input artifact {name!r} must name an object: gs://, s3:// or minio:// with a "
    "bucket and a key, or an http(s):// URL"
)


def bind(source: Source, pipeline: ir.Pipeline, options: Options) -> ir.Pipeline:
    """The pipeline with the values of a PipelineJob wrapper and of ``-p`` as its parameters'
    defaults.

    Raises:
        UsageError: a name the pipeline does not have, or a value that does not fit its type.
    """
    declared = {p.name: p for p in pipeline.root.inputs.parameters}
    known = ", ".join(sorted(declared)) or "(none)"
    values: dict[str, Any] = {}
    problems: list[Diagnostic] = []

    def add(name: str, value: Any, parse: bool, where: Diagnostic) -> None:
        if name not in declared:
            problems.append(_at(where, MSG_UNKNOWN_PARAMETER.format(name=name, known=known)))
            return
        parameter_type = declared[name].type
        try:
            typed = wire.parse_text(value, parameter_type) if parse else value
            wire.wire_value(typed, parameter_type)
            values[name] = typed
        except ValueError as err:
            problems.append(_at(where, MSG_BAD_VALUE.format(value=value, name=name, type=parameter_type, problem=err)))

    for name, value in sorted(source.runtime_parameters.items()):
        add(name, value, False, source.diagnostic("", source.runtime_pointers[name]))
    for name, text in options.parameters:
        add(name, text, True, Diagnostic("", "", "-p"))
    uris = _artifact_uris(pipeline, options, problems)
    if problems:
        raise UsageError(problems)
    if not values and not uris:
        return pipeline
    parameters = tuple(replace(p, default=values[p.name]) if p.name in values else p for p in pipeline.root.inputs.parameters)
    artifacts = tuple(replace(a, uri=uris[a.name]) if a.name in uris else a for a in pipeline.root.inputs.artifacts)
    root = replace(pipeline.root, inputs=replace(pipeline.root.inputs, parameters=parameters, artifacts=artifacts))
    return replace(pipeline, root=root)


def _artifact_uris(pipeline: ir.Pipeline, options: Options, problems: list[Diagnostic]) -> dict[str, str]:
    """The ``--input-artifact`` URIs by artifact name (problems appended)."""
    declared = {a.name for a in pipeline.root.inputs.artifacts}
    uris = {}
    for name, uri in options.input_artifacts:
        scheme = scheme_of(uri)
        if name not in declared:
            known = ", ".join(sorted(declared)) or "(none)"
            problems.append(Diagnostic(MSG_UNKNOWN_ARTIFACT.format(name=name, known=known), "", "--input-artifact"))
        elif scheme is None or (scheme_family(scheme) != "http" and split_uri(uri) is None):
            problems.append(Diagnostic(MSG_ARTIFACT_URI.format(uri=uri, name=name), "", "--input-artifact"))
        else:
            uris[name] = uri
    return uris


def _at(where: Diagnostic, message: str) -> Diagnostic:
    return Diagnostic(message, where.pointer, where.file, where.line, where.column, where.document)
