"""The ``arguments`` pass: the values a caller gives the pipeline's parameters, in wire text.

Two sources, the later winning: a PipelineJob wrapper's ``runtimeConfig.parameterValues``
(typed JSON values, located in the input) and ``-p NAME=VALUE`` (text, typed by the IR as
``wire.parse_text`` reads it). Each becomes the parameter's default in the manifest's
``spec.arguments``.
"""

from __future__ import annotations

from typing import Any

from transpiler import ir, wire
from transpiler.errors import Diagnostic, UsageError
from transpiler.load import Source
from transpiler.options import Options

MSG_UNKNOWN_PARAMETER = "Unknown pipeline parameter {name!r}. The pipeline's parameters are: {known}"
MSG_BAD_VALUE = "Value {value!r} for parameter {name!r} does not fit its type {type}: {problem}"


def bind(source: Source, pipeline: ir.Pipeline, options: Options) -> dict[str, str]:
    """Pipeline parameter values from a PipelineJob wrapper and ``-p``, in wire text.

    Raises:
        UsageError: a name the pipeline does not have, or a value that does not fit its type.
    """
    declared = {p.name: p for p in pipeline.root.inputs.parameters}
    known = ", ".join(sorted(declared)) or "(none)"
    values: dict[str, str] = {}
    problems: list[Diagnostic] = []

    def add(name: str, value: Any, parse: bool, where: Diagnostic) -> None:
        if name not in declared:
            problems.append(_at(where, MSG_UNKNOWN_PARAMETER.format(name=name, known=known)))
            return
        parameter_type = declared[name].type
        try:
            typed = wire.parse_text(value, parameter_type) if parse else value
            values[name] = wire.wire_value(typed, parameter_type)
        except ValueError as err:
            problems.append(_at(where, MSG_BAD_VALUE.format(value=value, name=name, type=parameter_type, problem=err)))

    for name, value in sorted(source.runtime_parameters.items()):
        add(name, value, False, source.diagnostic("", f"{source.runtime_pointer}/{name}"))
    for name, text in options.parameters:
        add(name, text, True, Diagnostic("", "", "-p"))
    if problems:
        raise UsageError(problems)
    return values


def _at(where: Diagnostic, message: str) -> Diagnostic:
    return Diagnostic(message, where.pointer, where.file, where.line, where.column, where.document)
