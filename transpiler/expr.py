"""expr-lang, the second language kfp2argo writes: every expression fragment is built here.

Argo evaluates expr-lang (with its ``sprig``, ``toJson`` and ``jsonpath`` functions;
``ARGO-NOTES.md`` section 1) inside expression tags ``{{=...}}`` and in its raw expression
fields (``valueFrom.expression``, ``fromExpression``). Some values exist only at run time (a
loop's items, what a loop collects, a task's final status, a value that may be absent, an
importer URI known only at submission), and kfp2argo computes them with expressions whose result
must be the same wire text (``docs/runtime-contract.md``) that ``transpiler.wire`` and the
launcher use. Keeping every fragment in one module, as ``argo_expr`` keeps every ``{{...}}`` tag,
makes that second language reviewable in one place.

Rules every function keeps (``tests/test_control_flow.py``, ``tests/test_cel.py`` and others
evaluate the results with Argo's own code):

* takes and returns expr-lang source text; names of Argo variables come from ``argo_expr``;
* never writes ``{{`` or ``}}`` (string literals escape braces, maps close with ``" }"``), so the
  result can sit inside a tag, and never the escapes ``\\u003c``/``\\u003e``/``\\u0026``, which
  Argo's JSON fix-up would rewrite;
* binds a value with ``map([value], body)[0]`` rather than ``let`` (Argo's checks reject ``let``
  variables in task fields, and its loop expansion takes them for missing variables);
* never fails evaluation where a value is merely absent or malformed: Argo 4.0.0-4.0.3 and
  3.7.11-3.7.13 re-substitute a finished task's template and turn a failing expression into an
  Error, so such a value yields a text that fails later, where it is used (an ``ERROR_PREFIX``
  text every decoder rejects).

Sections: literals and composition; wire texts; task outcomes; loops and lists of artifacts;
pod spec patches and PVC manifests; importer URIs and metadata; memoization keys.
"""

from __future__ import annotations

import json
from typing import Any

from transpiler import wire

# --- literals and composition -------------------------------------------------------------------


def string(text: str) -> str:
    """An expr-lang single-quoted string literal whose value is ``text``.

    Safe inside an Argo ``{{=...}}`` tag: braces are written ``\\u007b``/``\\u007d`` (so the
    literal never holds ``{{`` or ``}}``) and a backslash ``\\x5c`` (so no escape that Argo's JSON
    fix-up rewrites can form). Control characters, invisible characters (white space other than
    the space, format characters) and characters outside the Basic Multilingual Plane are
    escaped too, by a fixed list, so the output is the same on every Python version.

    Raises:
        ValueError: ``text`` holds a lone surrogate (it is not Unicode text).

    >>> print(string("it's {{x}}"))
    'it\\'s \\u007b\\u007bx\\u007d\\u007d'
    >>> print(string("a" + chr(92) + "b" + chr(10) + chr(0xA0) + "é"))
    'a\\x5cb\\x0a\\xa0é'
    """
    out = []
    for ch in text:
        o = ord(ch)
        if ch == "'":
            out.append("\\'")
        elif ch == "\\":
            out.append("\\x5c")
        elif ch in "{}":
            out.append(f"\\u{o:04x}")
        elif 0xD800 <= o <= 0xDFFF:
            raise ValueError("text holds a lone surrogate, which is not Unicode text")
        elif o > 0xFFFF:
            out.append(f"\\U{o:08x}")
        elif _invisible(o):
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def _invisible(o: int) -> bool:
    """Control, white-space (but the space) and format characters of the BMP, by a fixed list."""
    return (o < 0x20 or 0x7F <= o <= 0xA0 or o in (0xAD, 0x1680, 0x180E, 0x3000, 0xFEFF)
            or 0x2000 <= o <= 0x200F or 0x2028 <= o <= 0x202F or 0x205F <= o <= 0x206F
            or 0xFFF9 <= o <= 0xFFFB)


def integer(value: int) -> str:
    """An integer literal (negative ones in parentheses, so they can be operands).

    >>> integer(3), integer(-3), integer(-2**63)
    ('3', '(-3)', '(-9223372036854775807 - 1)')
    """
    if value == -(2**63):
        return "(-9223372036854775807 - 1)"  # expr-lang reads 9223372036854775808 as out of range
    return f"({value})" if value < 0 else str(value)


def double(value: float) -> str:
    """A float literal: the shortest round-trip digits, which always hold ``.`` or ``e``.

    >>> double(0.5), double(-1e-07)
    ('0.5', '(-1e-07)')
    """
    text = repr(value)
    return f"({text})" if text.startswith("-") else text


class Raw(str):
    """expr-lang source text of a value, inside a structure rendered by :func:`literal`."""


def literal(value: Any) -> str:
    """An expr-lang literal for JSON-like data whose leaves may be :class:`Raw` expressions. Maps
    close with ``" }"`` so that the text never holds ``}}`` (Argo would end its tag there).

    >>> literal({"a": [1, True, None], "b": Raw("x")})
    "{'a': [1, true, nil], 'b': x }"
    """
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{string(k)}: {literal(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nil"
    if isinstance(value, (int, float)):
        return repr(value)
    return string(value)


def defaulted(value: str, text: str) -> str:
    """``value``, or the string ``text`` when it is nil.

    >>> defaulted("x?.y", "[]")
    "(x?.y ?? '[]')"
    """
    return f"({value} ?? {string(text)})"


def bind(value: str, body: str) -> str:
    """``body`` with ``#`` standing for ``value``, evaluated once (expr-lang has no ``let`` that
    Argo accepts everywhere).

    >>> bind("f(x)", "# + #")
    'map([f(x)], # + #)[0]'
    """
    return f"map([{value}], {body})[0]"


def group(expr: str) -> str:
    """``expr`` as an operand of another operator: in parentheses unless it is one already.

    >>> group("a == b"), group("(a == b)"), group("f(x)[0]"), group("#[1]")
    ('(a == b)', '(a == b)', 'f(x)[0]', '#[1]')
    """
    simple = all(ch.isalnum() or ch in "#[]_." for ch in expr)
    wrapped = expr.startswith("(") and expr.endswith(")") and balanced(expr[1:-1])
    return expr if simple or wrapped or is_postfix_chain(expr) else f"({expr})"


def negation(ok: str) -> str:
    """The negation of a test, readably (``# == nil`` rather than ``!(# != nil)``).

    >>> negation("#[0] != nil"), negation("a && b")
    ('#[0] == nil', '!(a && b)')
    """
    if ok.endswith(" != nil") and all(ch in "#[]0123456789" for ch in ok[:-7]):
        return ok[:-7] + " == nil"
    return "!" + group(ok)


def all_of(parts: list[str]) -> str:
    """The conjunction of ``parts``, each grouped."""
    return " && ".join(group(p) for p in parts)


def is_postfix_chain(expr: str) -> bool:
    """Whether ``expr`` is a name followed by calls, indexes and fields only (``f(x)[0]``),
    outside string literals: an operand that needs no parentheses."""
    i, n = 0, len(expr)
    while i < n and (expr[i].isalnum() or expr[i] in "_."):
        i += 1
    if i == 0 or i == n:
        return False
    while i < n:
        if expr[i] == "." and i + 1 < n and _ident_start(expr[i + 1]):  # a field: .outputs
            i += 1
            while i < n and (_ident_start(expr[i]) or "0" <= expr[i] <= "9"):
                i += 1
            continue
        close = {"(": ")", "[": "]"}.get(expr[i])
        if close is None:
            return False
        end = _closing(expr, i)
        if end < 0 or expr[end] != close:
            return False
        i = end + 1
    return True


def _ident_start(ch: str) -> bool:
    return ch == "_" or ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _skip_string(text: str, i: int) -> int:
    """The index after the single-quoted literal whose opening quote is at ``i``."""
    i += 1
    while i < len(text) and text[i] != "'":
        i += 2 if text[i] == "\\" else 1
    return i + 1


def _closing(text: str, start: int) -> int:
    """The index of the bracket that closes the one at ``start``, outside string literals, or -1."""
    depth, i, n = 0, start, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            i = _skip_string(text, i)
            continue
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def balanced(text: str) -> bool:
    """Whether the parentheses of ``text`` pair up, outside string literals."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            i = _skip_string(text, i)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False
        i += 1
    return depth == 0


def uses(body: str, ref: str) -> int:
    """How many times ``ref`` occurs in ``body`` outside string literals (an upper bound of the
    uses of a bound value: a closure's own ``#[0]`` counts too)."""
    count, i, n = 0, 0, len(body)
    while i < n:
        if body[i] == "'":
            i = _skip_string(body, i)
        elif body.startswith(ref, i) and (ref != "#" or body[i + 1:i + 2] != "["):
            count += 1
            i += len(ref)
        else:
            i += 1
    return count


def check_no_tag(expr: str) -> None:
    """Refuse an expression that holds a tag delimiter (it could not sit inside a tag).

    Raises:
        ValueError: ``expr`` is empty or holds ``{{`` or ``}}``.
    """
    if not isinstance(expr, str) or not expr.strip():
        raise ValueError(f"an expression must be a non-empty string, got {expr!r}")
    if "{{" in expr or "}}" in expr:
        raise ValueError(f"an expression cannot hold '{{{{' or '}}}}': {expr!r}")


# --- wire texts ---------------------------------------------------------------------------------

# White space that wire.parse_text strips around numbers and booleans: Python's str.strip()
# set (str.isspace). tests/test_cel.py checks this list against Python.
PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

# Texts the escape rule must base64-encode, as a Go regular expression: a conservative superset
# of "not Argo-inert" (any ``{{``, a control character, a character outside the BMP) plus the
# escape prefix and a trailing newline (see wire.encode).
_NEEDS_ESCAPE = r"\{\{|^kfp2argo:|\n$|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|[\x{10000}-\x{10FFFF}]"

# Go regular expressions (RE2), written without backslashes.
# With a length that is a multiple of 4, this is exactly the padded standard base64 alphabet.
_B64_RE = "^" + wire.B64_PREFIX + "[A-Za-z0-9+/]*(?:==?)?$"
_DECIMAL_RE = "^[+-]?(?:[0-9]+(?:[.][0-9]*)?|[.][0-9]+)(?:[eE][+-]?[0-9]+)?$"
# A decimal whose value is below 1 in magnitude or that has a negative exponent: when Go's
# ParseFloat gives 0 for it, that is an underflow (or a zero), not an overflow.
_DECIMAL_SMALL_RE = "^[+-]?0*(?:[.]|[eE]|$)|[eE]-"
_DECIMAL_NO_FRACTION_RE = "^[+-]?(?:[0-9]+[.]?0*|[.]0+)$"
_NUMBER_TYPES = ("NUMBER_INTEGER", "NUMBER_DOUBLE")


def unescaped(wire_text: str, prefix: str = wire.B64_PREFIX) -> str:
    """The text a wire text holds with its base64 escape undone (an absent value stays the text
    ``kfp2argo:none``). ``prefix`` may be the shorter ``ESCAPE_PREFIX`` where the text is known
    valid (the only valid escape of a present value is the base64 one).

    >>> unescaped("w")
    "(w startsWith 'kfp2argo:b64:' ? sprig.b64dec(w[13:]) : w)"
    """
    return f"({wire_text} startsWith {string(prefix)} ? sprig.b64dec({wire_text}[{len(wire.B64_PREFIX)}:]) : {wire_text})"


def is_absent(wire_text: str) -> str:
    """Whether a wire text is the absent value."""
    return f"{wire_text} == {string(wire.NONE)}"


def text_of(wire_text: str) -> str:
    """The canonical text a wire text holds, base64 escape undone; nil when it is absent. A
    URI or a value spliced into metadata or a manifest is read this way."""
    return f"({is_absent(wire_text)} ? nil : {unescaped(wire_text)})"


def json_of(wire_text: str) -> str:
    """The JSON value a wire text holds (escape undone), nil when it is no JSON; without the
    type test of :func:`decode_json`."""
    return "sprig.fromJson" + unescaped(wire_text)


def decode_json(wire_text: str, kind: str) -> str:
    """The list (``kind`` "array") or map ("map") a LIST/STRUCT wire text stands for, or nil
    when it is not one. Never an evaluation error (see the module notes)."""
    return bind(f"sprig.fromJson({unescaped(wire_text)})", f"type(#) == {string(kind)} ? # : nil")


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


def _text_ok(v: str) -> str:
    """Whether the wire text ``v`` is valid: not absent, and either unescaped or a well-formed
    base64 escape of UTF-8 text."""
    payload = f"{v}[{len(wire.B64_PREFIX)}:]"
    escaped = (f"{v} matches {string(_B64_RE)} && len({payload}) % 4 == 0"
               f" && all([sprig.b64dec({payload})], fromJSON(toJSON(#)) == #)")
    return f"{v} != nil && (!({v} startsWith {string(wire.ESCAPE_PREFIX)}) || {escaped})"


def _number_from_text(t: str, integral: bool) -> str:
    """The double a stripped number text ``t`` stands for, or nil when it is not a number."""
    finite = f"(sprig.float64({t}) != 0 || {t} matches {string(_DECIMAL_SMALL_RE)})"
    test = f"{t} matches {string(_DECIMAL_RE)} && {finite}"
    if integral:
        test += (f" && ({t} matches {string(_DECIMAL_NO_FRACTION_RE)}"
                 f" || {t} matches '[eE]' && float({t}) == floor(float({t})))")
    return f"({test} ? float({t}) : nil)"


def decode(wire_text: str, ir_type: str) -> str:
    """The typed value of a wire text, as ``wire.decode_typed`` reads it, or nil.

    ``wire_text`` is an expr-lang expression whose value is a wire text (a string; nil counts
    as absent). The result is what CEL sees of KFP's values: STRING a string; NUMBER_INTEGER and
    NUMBER_DOUBLE a float (numbers and booleans may be surrounded by white space); BOOLEAN a
    bool (Go ``strconv.ParseBool`` words); LIST a list and STRUCT a map (from JSON; numbers are
    floats). It is nil when the value is absent (``kfp2argo:none``) or not valid for its type,
    never an evaluation error, except for LIST and STRUCT texts that are not JSON at all
    (``fromJSON`` fails) and numbers beyond a double's range given in a form that looks small
    (``transpiler.cel`` lists these).

    >>> decode("inputs.parameters['x']", "STRING")[:33]
    "map([inputs.parameters['x']], # !"
    """
    if ir_type not in wire.PARAMETER_TYPES:
        raise ValueError(f"unknown parameter type {ir_type!r}")
    check_no_tag(wire_text)
    text = unescaped("#", wire.ESCAPE_PREFIX)
    if ir_type == "STRING":
        typed = text
    else:
        if ir_type in _NUMBER_TYPES:
            body = _number_from_text("#", integral=ir_type == "NUMBER_INTEGER")
            inner = f"trim({text}, {string(PYTHON_WHITESPACE)})"
        elif ir_type == "BOOLEAN":
            true_words = ", ".join(string(w) for w in wire.TRUE_WORDS)
            false_words = ", ".join(string(w) for w in wire.FALSE_WORDS)
            body = f"(# in [{true_words}] ? true : (# in [{false_words}] ? false : nil))"
            inner = f"trim({text}, {string(PYTHON_WHITESPACE)})"
        else:
            kind = "array" if ir_type == "LIST" else "map"
            body = f"(type(#) == '{kind}' ? # : nil)"
            inner = f"fromJSON({text})"
        typed = bind(inner, body)
    return bind(wire_text, f"{_text_ok('#')} ? {typed} : nil")


def canonical_decode(v: str, ir_type: str) -> str:
    """The typed value of ``v``, an expression whose value is canonical wire text of ``ir_type``
    (never absent): the decoding of :func:`decode` without its tests."""
    if ir_type == "STRING":
        return unescaped(v, wire.ESCAPE_PREFIX)
    if ir_type in _NUMBER_TYPES:
        return f"float({v})"  # a plain decimal, finite (an integer may exceed a double)
    if ir_type == "BOOLEAN":
        return f"{v} == 'true'"
    raise ValueError(f"no canonical decoding for {ir_type!r} in a condition")


def escape_dollars(value: str) -> str:
    """A text with every ``$`` doubled: Kubernetes expands ``$(NAME)`` and turns ``$$`` into ``$``
    in a container's command, args and env values after Argo has substituted them."""
    return f"sprig.replace('$', '$$', {value})"


# --- task outcomes ------------------------------------------------------------------------------

# Argo node phases to KFP task states, for dsl.PipelineTaskFinalStatus.
_FINAL_STATES = (("Succeeded", "SUCCEEDED"), ("Skipped", "SKIPPED"), ("Omitted", "NOT_TRIGGERED"))


def first_that_ran(picks: list[tuple[str, str]]) -> str:
    """dsl.OneOf: the value of the first pick (a task's status variable, an expression of its
    value) whose task succeeded. When none did, the evaluation fails (``int()`` of a text), as
    on KFP; a nil result would become the text ``<nil>`` before Argo 4.0.7."""
    result = f"int({string('kfp2argo: dsl.OneOf: none of its branches ran')})"
    for status, value in reversed(picks):
        result = f"{status} == 'Succeeded' ? {value} : ({result})"
    return result


def output_after_failure(task: str, status: str, output: str, default: str) -> str:
    """An output parameter of the Argo task ``task`` read by a task that also runs when it
    failed, and then has no outputs: ``default`` (wire text) instead. ``get`` keeps Argo from
    waiting for the missing output (it requeues a task whose ``tasks.*`` reference is missing)."""
    outputs = f"get(get(get(tasks[{string(task)}], 'outputs'), 'parameters'), {string(output)})"
    fallback = string(default)
    return f"{status} == 'Succeeded' ? ({outputs} ?? {fallback}) : {fallback}"


def final_status(status: str, task: str, job_name: str) -> str:
    """dsl.PipelineTaskFinalStatus of the IR task ``task`` (``status``: its Argo node phase) as
    STRUCT wire text, shaped as the KFP executor reads it (``state``,
    ``pipelineJobResourceName``, ``pipelineTaskName``, ``error``)."""
    state = string("FAILED")
    for phase, kfp_state in reversed(_FINAL_STATES):
        state = f"{status} == {string(phase)} ? {string(kfp_state)} : ({state})"
    failed = f"{{'code': 1, 'message': {string(f'Task {task} failed.')} }}"
    failure = f"{status} in ['Failed', 'Error'] ? {failed} : {{ }}"
    fields = [
        f"'state': {state}",
        f"'pipelineJobResourceName': {job_name}",
        f"'pipelineTaskName': {string(task)}",
        f"'error': ({failure})",
    ]
    return encode("{" + ", ".join(fields) + " }")


def item_field(item_wire: str, field: str) -> str:
    """One field of a loop item that is a JSON object (``parseJson(string_value)["key"]``), as
    wire text; a text that fails the task when the item has no such field."""
    key = string(field)
    missing = error(f"the loop item has no field {field!r}")
    item = decode_json(item_wire, "map")
    return f"map([{item}], # == nil || !({key} in #) ? {missing} : {encode(f'#[{key}]')})[0]"


# --- loops and lists of artifacts -----------------------------------------------------------------


def loop_items(list_wire: str, what: str) -> str:
    """``withParam`` over a LIST wire text: the JSON list of its items' wire texts; a text that
    is no JSON list (which Argo refuses) when the value is not a list."""
    items = decode_json(list_wire, "array")
    refused = error(f"the items of the loop over {what!r} are not a list")
    return bind(items, f"# == nil ? {refused} : toJson({encode_each('#')})")


def collected_values(aggregated: str, parameter_type: str) -> str:
    """A ``dsl.Collected`` parameter: the typed list of what the iterations produced (Argo's
    aggregation of their outputs, a JSON array text, nil for no iterations), leaving out the
    iterations whose producer a condition skipped (``kfp2argo:none``)."""
    produced = f"filter(fromJSON({defaulted(aggregated, '[]')}), # != {string(wire.NONE)})"
    return encode(f"map({produced}, {element('#', parameter_type)})")


def aggregated(output: str) -> str:
    """What Argo aggregated from a looped task's output parameter (``output``, an optional
    variable): the list of the iterations' values, ``[]`` for no iterations."""
    return f"fromJSON({output} ?? '[]')"


# Lists of artifacts travel as a *list manifest* (``lower.collected``): wire-encoded JSON
# ``{"prefix": <key prefix>, "items": [{"path": <key below the prefix>, "metadata": {...}}]}``.


def _manifest(wire_text: str) -> str:
    """The manifest a wire text holds, or nil (absent: a skipped DAG's default)."""
    return decode_json(wire_text, "map")


def _manifest_items(wire_text: str) -> str:
    """The manifest's items, ``[]`` when absent."""
    return bind(_manifest(wire_text), "# != nil && type(get(#, 'items')) == 'array' ? #.items : []")


def iteration_items_from_element(metadata_wire: str, element_path: str) -> str:
    """An iteration's items of a loop output made by a container task: one element (at
    ``element_path`` below the iteration's key), none when the task did not run (its metadata
    companion is absent)."""
    item = f"({{'path': '{element_path}', 'metadata': # }})"
    return encode(bind(decode_json(metadata_wire, "map"), f"# == nil ? [] : [{item}]"))


def iteration_items_from_list(manifest_wire: str, list_path: str) -> str:
    """An iteration's items of a loop output that is a list made in the iteration (nested)."""
    item = f"({{'path': '{list_path}/' + #.path, 'metadata': #.metadata }})"
    return encode(f"map({_manifest_items(manifest_wire)}, {item})")


def loop_manifest(aggregated: str, prefix: str) -> str:
    """The loop template's list: the iterations' items (``aggregated``: what Argo aggregated
    from them, an array of arrays or of their wire texts), each path under its iteration."""
    each = f"(type(#) == 'string' ? ({decode_json('#', 'array')} ?? []) : #)"
    item = "({'path': string(i) + '/' + #.path, 'metadata': #.metadata })"
    items = f"flatten(map(map({aggregated}, {each}), let i = #index; map(#, {item})))"
    return encode(f"{{'prefix': {prefix}, 'items': {items} }}")


def manifest_prefix(manifest_wire: str, absent: str) -> str:
    """The manifest's prefix, ``absent`` (an expression) when there is none."""
    return bind(_manifest(manifest_wire), f"# != nil && type(get(#, 'prefix')) == 'string' ? #.prefix : {absent}")


def artifact_list(manifest_wire: str, folder: str, schema_title: str, schema_version: str) -> str:
    """What a container component reads as ``{{$.inputs.artifacts['x']}}``: the JSON list of
    the artifacts, each with its path in the downloaded ``folder`` as URI (as for one artifact)."""
    kind = f"{{'schemaTitle': {string(schema_title)}, 'schemaVersion': {string(schema_version)} }}"
    item = f"({{'name': string(#index), 'uri': {string(folder + '/')} + #.path, 'metadata': #.metadata, 'type': {kind} }})"
    return encode(f"map({_manifest_items(manifest_wire)}, {item})")


def list_loop_items(manifest_wire: str) -> str:
    """``withParam`` of a loop over a list: per element, the wire text of its key and metadata
    (a text: Argo passes a string item on as it is, but not a map's values)."""
    item = f"({{'key': {manifest_prefix(manifest_wire, string(''))} + '/' + #.path, 'metadata': #.metadata }})"
    return f"toJson({encode_each(f'map({_manifest_items(manifest_wire)}, {item})')})"


def _list_item(item: str) -> str:
    return f"({decode_json(item, 'map')} ?? {{ }})"


def list_item_key(item: str) -> str:
    """In a loop over a list, the key of the iteration's element (``list_loop_items``)."""
    return f"{_list_item(item)}?.key ?? ''"


def list_item_metadata(item: str) -> str:
    """In a loop over a list, the metadata companion of the iteration's element."""
    return encode(f"{_list_item(item)}?.metadata ?? {{ }}")


def iteration_index(loop_node: str, node_name: str, iteration_task: str) -> str:
    """An iteration's index, from its node name ``<loop node>.<iteration task>(<index>:<item>)``."""
    after_prefix = f"sprig.trimPrefix({loop_node} + '.{iteration_task}(', {node_name})"
    return f"sprig.regexFind('^[0-9]+', {after_prefix})"


def node_digest(node_name: str, task: str) -> str:
    """The SHA-256 of the node name a DAG task ``task`` will get (unique per run and node)."""
    return f"sprig.sha256sum({node_name} + '.{task}')"


def imported_uri_or_local(companion_wire: str, uri_key: str, local: str) -> str:
    """The original URI an artifact's metadata companion carries under ``uri_key`` (an imported
    artifact), else the local path ``local``, as wire text."""
    companion = decode_json(companion_wire, "map")
    key = string(uri_key)
    return encode(bind(companion, f"# != nil && type(get(#, {key})) == 'string' ? get(#, {key}) : {string(local)}"))


# --- pod spec patches and PVC manifests -----------------------------------------------------------


def to_json(value: str) -> str:
    """``value`` as JSON text, which is what Argo renders for a non-string expression result."""
    return f"toJson({value})"


def late_list(absent: str, entries: Any) -> str:
    """``entries`` (a literal), or no entries when ``absent`` holds."""
    return f"{absent} ? [] : {literal(entries)}"


def late_claim(absent: str, volume: dict[str, Any], message: str) -> str:
    """A PVC volume whose claim name may be absent: a text (which Argo refuses as a volume) when
    it is, so the pod is never created without it (KFP fails such a task)."""
    return f"[{absent} ? {error(message)} : {literal(volume)}]"


def late_pull_secret(absent: str, name: str) -> str:
    return f"{absent} ? [] : [{{'name': {name} }}]"


def late_selector(absent: str, json_value: str) -> str:
    """A node selector a run-time value gives: none when absent, a text Kubernetes rejects when
    it is not a JSON object."""
    pick = f"type(#) == 'map' ? # : {error('the node selector is not a JSON object')}"
    return f"{absent} ? {{ }} : {bind(json_value, pick)}"


def late_tolerations(absent: str, json_value: str) -> str:
    """The tolerations a run-time value gives: a JSON object is one toleration (an empty one is
    ignored, as by KFP), a list is several; absent gives none."""
    invalid = error("the toleration is not a JSON object or list")
    pick = f"type(#) == 'map' ? (len(#) > 0 ? [#] : []) : (type(#) == 'array' ? # : [{invalid}])"
    return f"({absent} ? [] : {bind(json_value, pick)})"


_REQUIRED_KEY = "requiredDuringSchedulingIgnoredDuringExecution"
_PREFERRED_KEY = "preferredDuringSchedulingIgnoredDuringExecution"


def late_node_affinity(required: list[Any], preferred: list[Any], late: list[tuple[str, str]]) -> str:
    """The node affinity of the constant terms plus the run-time JSON ones (``late``: pairs of
    an absence test and the JSON value): each gives [its required terms, its preferred terms];
    an absent one adds nothing, one that is not a JSON object adds a term Kubernetes rejects."""
    invalid = error("the node affinity is not a JSON object")
    # A non-map "required" part, or a missing one, is handled without get() on a non-map
    # (which fails the evaluation).
    required_terms = bind(f"get(#, '{_REQUIRED_KEY}')", f"# == nil ? [] : (type(#) == 'map' ? (get(#, 'nodeSelectorTerms') ?? []) : [{invalid}])")
    terms = f"[{required_terms}, get(#, '{_PREFERRED_KEY}') ?? []]"
    parts = [bind(f"{absent} ? {{ }} : {value}", f"type(#) == 'map' ? {terms} : [[{invalid}], []]") for absent, value in late]
    gathered = (
        f"[{_concat([literal(required), *(f'#[{i}][0]' for i in range(len(late)))])}, "
        f"{_concat([literal(preferred), *(f'#[{i}][1]' for i in range(len(late)))])}]"
    )
    affinity = (  # a map literal in parentheses: a bare "{" would open a closure
        f"({{'{_REQUIRED_KEY}': len(#[0]) > 0 ? {{'nodeSelectorTerms': #[0] }} : nil, "
        f"'{_PREFERRED_KEY}': len(#[1]) > 0 ? #[1] : nil }})"
    )
    return bind(f"[{', '.join(parts)}]", bind(gathered, affinity))


def concat(lists: list[str]) -> str:
    """The lists, one after the other (``concat`` gives nil, JSON null, for no items: a null
    list in a pod spec patch deletes the field)."""
    return _concat(lists)


def _concat(lists: list[str]) -> str:
    return f"(concat([], {', '.join(lists)}) ?? [])"


def optional_input(var: str, parameter_type: str) -> str:
    """A CreatePVC/DeletePVC input as a manifest uses it: nil when absent, the text of a STRING
    (a name or size: Argo-inert, so its wire text is the value), the value of a LIST or STRUCT
    (nil when it is no JSON, so Kubernetes sees the field unset and rejects a missing required
    one)."""
    text = unescaped(var)
    value = text if parameter_type == "STRING" else f"sprig.fromJson{text}"
    return f"({is_absent(var)} ? nil : {value})"


def pvc_name(name: str, suffix: str, workflow_name: str) -> tuple[str, str]:
    """``metadata.name`` and ``metadata.generateName`` of a claim CreatePVC makes: ``pvc_name``,
    or the workflow's name + ``pvc_name_suffix``, or a name Kubernetes generates."""
    both = error("at most one of pvc_name and pvc_name_suffix can be given")
    has_name, has_suffix = f"({name} ?? '') != ''", f"({suffix} ?? '') != ''"
    full = f"{has_name} ? ({has_suffix} ? {both} : {name}) : ({has_suffix} ? {workflow_name} + {suffix} : nil)"
    return full, f"{has_name} || {has_suffix} ? nil : {workflow_name} + '-'"


def required_name(name: str, message: str) -> str:
    """A name that must be there: ``name``, or a text that names no object when it is nil."""
    return f"({name} ?? {error(message)})"


# --- importer URIs and metadata -------------------------------------------------------------------


def uri_part(uri_wire: str, scheme: str, part: str) -> str:
    """The ``part`` ("bucket" or "key") of a run-time importer URI, when it has the scheme the
    manifest was made for and names an object; otherwise a text that makes Argo's download fail
    with the reason in it."""
    failure = error(f"the importer URI is not a {scheme}:// URI of an object")
    prefix = f"{scheme}://"
    pick = "#[0]" if part == "bucket" else "join(#[1:], '/')"
    parts = bind(f"split(#[{len(prefix)}:], '/')", f"len(#) > 1 && #[0] != '' && join(#[1:], '/') != '' ? {pick} : {failure}")
    return bind(text_of(uri_wire), f"# != nil && hasPrefix(lower(#), {string(prefix)}) ? {parts} : {failure}")


def json_text(value: Any, text: Any) -> str:
    """An expression whose value is the compact JSON text of ``value``: JSON-like data whose
    leaves may be :class:`Raw` expressions of values; ``text(s)`` gives the expression of a
    string leaf (for strings with run-time parts)."""
    if isinstance(value, Raw):
        return f"toJson({value})"
    if isinstance(value, dict):
        entries = [f"toJson({text(k)}) + ':' + {json_text(v, text)}" for k, v in value.items()]
        return "'{' + " + " + ',' + ".join(entries or ["''"]) + " + '}'"
    if isinstance(value, list):
        return "'[' + " + " + ',' + ".join([json_text(v, text) for v in value] or ["''"]) + " + ']'"
    if isinstance(value, str):
        return f"toJson({text(value)})"
    return string(json.dumps(value))


def joined(parts: list[str]) -> str:
    """String expressions joined by ``+`` (``''`` for none)."""
    return " + ".join(parts) or "''"


def text_or_null(wire_text: str) -> str:
    """A value spliced into text: its canonical text, ``null`` when it is absent."""
    return f"({text_of(wire_text)} ?? 'null')"


# --- memoization keys -----------------------------------------------------------------------------


def digest_of_values(values: list[str]) -> str:
    """The SHA-256 of the JSON list of ``values`` (parameter values, strings)."""
    return f"sprig.sha256sum(toJson([{', '.join(values)}]))"
