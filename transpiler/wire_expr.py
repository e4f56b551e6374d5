"""The wire encoding (``docs/runtime-contract.md``) written as Argo expressions.

Some values are only known inside Argo: a loop's items, the list a loop collects, one field of a
loop item, an exit task's final status. They are computed by expression tags (``{{=...}}``,
evaluated by expr-lang with Argo's functions; ``ARGO-NOTES.md`` section 1) and must come out in
the same wire text the transpiler (``transpiler.wire``) and the launcher use. This module writes
those expressions; ``tests/test_wire_expr.py`` evaluates them with Argo's own code.

Every function takes and returns expr-lang source text. None of them writes ``{{`` or ``}}``, so
the result can sit inside an expression tag.
"""

from __future__ import annotations

from transpiler import cel, wire

# Texts the escape rule must base64-encode, as a Go regular expression: a conservative superset
# of "not Argo-inert" (any ``{{``, a control character, a character outside the BMP) plus the
# escape prefix and a trailing newline (see wire.encode).
_NEEDS_ESCAPE = r"\{\{|^kfp2argo:|\n$|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|[\x{10000}-\x{10FFFF}]"


def string(text: str) -> str:
    """An expr-lang string literal for ``text`` (``cel.expr_string_literal``).

    >>> print(string("it's {x}"))
    'it\\'s \\u007bx\\u007d'
    """
    return cel.expr_string_literal(text)


def decode(wire_text: str, parameter_type: str) -> str:
    """The typed value of a wire text, as ``wire.decode_typed`` reads it, or nil when it is
    absent or not valid for its type (``cel.decode_wire_expr``). Numbers are floats: expr-lang,
    like the protobuf Values KFP uses, has one number type for JSON."""
    return cel.decode_wire_expr(wire_text, parameter_type)


def decode_json(wire_text: str, kind: str) -> str:
    """The list (``kind`` "array") or map ("map") a LIST/STRUCT wire text stands for, or nil
    when it is not one. Never an evaluation error: Argo re-substitutes a DAG template with its
    task's unresolved arguments after the task ran, and versions 4.0.0-4.0.3 and 3.7.11-3.7.13
    turn an expression that fails then into an Error of a task that succeeded."""
    text = f"({wire_text} startsWith {string(wire.B64_PREFIX)} ? sprig.b64dec({wire_text}[{len(wire.B64_PREFIX)}:]) : {wire_text})"
    return f"map([sprig.fromJson({text})], type(#) == {string(kind)} ? # : nil)[0]"


def error(message: str) -> str:
    """A wire text that stands for no value: every decoder (the launcher, ``wire.decode``)
    rejects it and fails the task with ``message``."""
    return string(wire.ERROR_PREFIX + message)


def encode(value: str) -> str:
    """The wire text of one value held by an expression (string, number, bool, list or map)."""
    return f"{encode_each('[' + value + ']')}[0]"


def encode_each(values: str) -> str:
    """The wire text of every value of a list, as a list: strings as they are, anything else as
    JSON, then escaped when Argo could alter it. (Two ``map`` passes compute each text once:
    Argo's expression checks reject ``let`` variables in task fields.)"""
    text = "type(#) == 'string' ? # : toJson(#)"
    escaped = f"# matches {string(_NEEDS_ESCAPE)} ? {string(wire.B64_PREFIX)} + sprig.b64enc(#) : #"
    return f"map(map({values}, {text}), {escaped})"


def element(value: str, parameter_type: str) -> str:
    """One element of a list Argo aggregated from a loop's outputs: Argo parses the elements as
    JSON only when all of them are objects or arrays, else keeps them as (wire) strings."""
    return f"(type({value}) == 'string' ? {decode(value, parameter_type)} : {value})"
