"""Wire encoding of KFP parameter values through Argo (the compile-time side).

Argo parameters are strings, and Argo rewrites every ``{{...}}`` tag it finds in them, so a
KFP parameter value travels through Argo as its *wire text*: the value's canonical text for
its IR type, sent as is when Argo cannot alter it and escaped as ``kfp2argo:b64:<base64>``
otherwise. This module owns that encoding for the transpiler:

* :func:`canonical_text` and :func:`format_number_double`: the canonical text of a value;
* :func:`is_argo_inert`: whether Argo's templating leaves a text unchanged;
* :func:`encode`, :func:`decode`, :func:`wire_value`, :func:`decode_typed`: the wire form.

The in-pod launcher (``transpiler/runtime/launcher.py``) carries its own copy of these rules, because it
must run with nothing but the standard library inside any image; ``tests/test_launcher.py``
checks that both copies agree. The rules themselves are specified in
``docs/runtime-contract.md`` ("Wire encoding"). Standard library only, no I/O.
"""

import base64
import binascii
import json
import math
import re
from decimal import Decimal

NONE = "kfp2argo:none"
"""Wire text of an absent value (an optional input that nobody supplied)."""

ESCAPE_PREFIX = "kfp2argo:"
"""Every wire text that starts with this prefix is an escape, never a literal value."""

B64_PREFIX = "kfp2argo:b64:"
"""Prefix of a base64-escaped wire text."""

ERROR_PREFIX = "kfp2argo:error:"
"""Prefix of a wire text an Argo expression writes where it has no value (the reason follows)."""

PARAMETER_TYPES = ("STRING", "NUMBER_INTEGER", "NUMBER_DOUBLE", "BOOLEAN", "LIST", "STRUCT")
"""The IR's parameter types (``ParameterType.ParameterTypeEnum``)."""

ARGO_VARIABLE_ROOTS = (
    "workflow", "inputs", "outputs", "pod", "node", "tasks", "steps", "item", "retries",
    "lastRetry", "cronworkflow", "status", "exitCode", "duration", "resourcesDuration",
)
"""First words of the variables Argo fills (Argo's ``util/variables/keys`` catalogue)."""

TRUE_WORDS = ("1", "t", "T", "TRUE", "true", "True")
FALSE_WORDS = ("0", "f", "F", "FALSE", "false", "False")
_INTEGER_RE = re.compile(r"[+-]?[0-9]+\Z")
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_MAX_INTEGER_EXPONENT = 1000  # refuse "1e999999999" as an integer rather than build it


def format_number_double(v: float) -> str:
    """Formats a number as Go's ``strconv.FormatFloat(v, 'f', -1, 64)`` does.

    That is the shortest decimal that reads back as the same 64-bit float, written without
    an exponent and without a trailing ``.0``: how KFP's launcher prints a number.

    Args:
        v: A float or an int (converted to the nearest float first); not a bool.

    Returns:
        The decimal text.

    Raises:
        ValueError: ``v`` is a bool, not a number, NaN or infinite (KFP carries parameter
            values as JSON, which has no NaN or infinity), or an int too large for a float.

    >>> format_number_double(1.0)
    '1'
    >>> format_number_double(-0.0)
    '-0'
    >>> format_number_double(0.1)
    '0.1'
    >>> format_number_double(1e20)
    '100000000000000000000'
    >>> format_number_double(1e-7)
    '0.0000001'
    >>> format_number_double(float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: NaN and infinite numbers cannot be parameter values: nan
    """
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError("not a number: %r" % (v,))
    try:
        f = float(v)
    except OverflowError:
        raise ValueError("integer too large for a double: %d" % v) from None
    if math.isnan(f) or math.isinf(f):
        raise ValueError("NaN and infinite numbers cannot be parameter values: %r" % f)
    # repr() gives the shortest round-trip digits (as Go does); Decimal lays them out
    # without an exponent, and normalize() drops trailing zeros ("100.0" -> "1E+2" -> "100").
    return format(Decimal(repr(f)).normalize(), "f")


def _json_number(f: float) -> str:
    """A float as Go's encoding/json writes it (so 1.0 is ``1``, 1e21 is ``1e+21``)."""
    text = format_number_double(f)
    if f != 0 and not 1e-6 <= abs(f) < 1e21:
        text = repr(f)  # shortest digits in exponent form, as Go's 'e' format
        text = re.sub(r"e-0(\d)\Z", r"e-\1", text)  # Go writes e-7, not e-07
    return text


def _compact_json(value, where: str = "value") -> str:
    """Compact JSON with key order kept, no ASCII escaping, numbers as KFP writes them."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _json_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_compact_json(x, where) for x in value) + "]"
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError("%s has a key that is not a string: %r" % (where, key))
            parts.append(json.dumps(key, ensure_ascii=False) + ":" + _compact_json(item, where))
        return "{" + ",".join(parts) + "}"
    raise ValueError("%s holds a %s, which JSON cannot carry" % (where, type(value).__name__))


def canonical_text(value, parameter_type: str) -> str:
    """The canonical text of a value of an IR parameter type.

    ``STRING``: the string itself. ``NUMBER_INTEGER``: decimal digits. ``NUMBER_DOUBLE``:
    :func:`format_number_double`. ``BOOLEAN``: ``true``/``false``. ``LIST`` and ``STRUCT``:
    compact JSON, key order kept, non-ASCII kept, numbers written as KFP's protobuf Values
    are (floats as Go's encoding/json writes them, so an integral float ``1.0`` is ``1``).

    Args:
        value: The Python value (``str``, ``int``, ``float``, ``bool``, ``list``, ``dict``).
        parameter_type: One of :data:`PARAMETER_TYPES`.

    Returns:
        The canonical text.

    Raises:
        ValueError: The type is unknown or the value does not fit it (a bool is not a
            number; an integral float such as ``3.0`` is accepted as an integer, because
            protobuf Values hold every number as a double).

    >>> canonical_text(42, "NUMBER_INTEGER"), canonical_text(3.0, "NUMBER_INTEGER")
    ('42', '3')
    >>> canonical_text(2.5, "NUMBER_DOUBLE"), canonical_text(True, "BOOLEAN")
    ('2.5', 'true')
    >>> canonical_text({"a": [1.0, 0.5, "é"]}, "STRUCT")
    '{"a":[1,0.5,"é"]}'
    >>> canonical_text(True, "NUMBER_INTEGER")
    Traceback (most recent call last):
    ...
    ValueError: NUMBER_INTEGER value must be an integer, got bool True
    """
    t = parameter_type
    got = "%s %r" % (type(value).__name__, value)
    if t == "STRING":
        if not isinstance(value, str):
            raise ValueError("STRING value must be a str, got " + got)
        return value
    if t == "NUMBER_INTEGER":
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return str(int(value))
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("NUMBER_INTEGER value must be an integer, got " + got)
        return str(value)
    if t == "NUMBER_DOUBLE":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("NUMBER_DOUBLE value must be a number, got " + got)
        return format_number_double(value)
    if t == "BOOLEAN":
        if not isinstance(value, bool):
            raise ValueError("BOOLEAN value must be a bool, got " + got)
        return "true" if value else "false"
    if t == "LIST":
        if not isinstance(value, (list, tuple)):
            raise ValueError("LIST value must be a list, got " + got)
        return _compact_json(value, "LIST value")
    if t == "STRUCT":
        if not isinstance(value, dict):
            raise ValueError("STRUCT value must be a dict, got " + got)
        return _compact_json(value, "STRUCT value")
    raise ValueError("unknown parameter type %r (expected one of %s)"
                     % (t, ", ".join(PARAMETER_TYPES)))


def _breaks_argo_json(ch: str) -> bool:
    """Whether Argo's substitution would re-quote ``ch`` into invalid JSON.

    Argo splices a value into JSON text with Go's ``strconv.Quote``, which writes ``\\a``,
    ``\\v``, ``\\x..`` and ``\\U........`` escapes that JSON does not accept (argo-workflows
    issue #15512). That happens for C0 controls other than \\b \\t \\n \\f \\r, for DEL, and for
    non-printable characters outside the Basic Multilingual Plane; which of those Go deems
    printable depends on its Unicode tables, so every non-BMP character counts as unsafe.
    """
    o = ord(ch)
    return (o < 0x20 and ch not in "\b\t\n\f\r") or o == 0x7F or o > 0xFFFF \
        or 0xD800 <= o <= 0xDFFF


def is_argo_inert(text: str) -> bool:
    """Whether Argo can carry ``text`` as a parameter value without changing it or failing.

    A value is inert when its tags are inert (:func:`tags_inert`) and it holds no character
    that Argo re-quotes into invalid JSON when it splices the value into a template through a
    tag (``{{inputs.parameters.x}}``, ``{{tasks.t.outputs.parameters.p}}``): C0 controls other
    than \\b \\t \\n \\f \\r, DEL, and (conservatively) every character outside the Basic
    Multilingual Plane. See ``docs/runtime-contract.md``.

    >>> is_argo_inert("{{x}}"), is_argo_inert("{{$.inputs.parameters['p']}}")
    (True, True)
    >>> is_argo_inert("{{ workflow.name }}"), is_argo_inert("{{=1}}"), is_argo_inert("a{{b")
    (False, False, False)
    >>> is_argo_inert("bell\\a"), is_argo_inert("\\U0001F600")
    (False, False)
    """
    return not any(_breaks_argo_json(ch) for ch in text) and tags_inert(text)


def tags_inert(text: str) -> bool:
    """Whether Argo's templating leaves ``text`` unchanged where it sits in a manifest.

    This is the tag part of :func:`is_argo_inert`, enough for text written into a template
    as is (a command or argv element), which Argo never re-quotes. Argo pairs each ``{{``
    with the first ``}}`` after it; the text is inert when every ``{{`` is closed, no tag (the
    text between them) contains ``{{`` (Argo resolves a nested tag), and no tag, stripped of
    white space, starts with ``=`` (an expression) or one of :data:`ARGO_VARIABLE_ROOTS`.

    >>> tags_inert("{{x}} é \\a \\U0001F600"), tags_inert("{{item}}"), tags_inert("}}{{")
    (True, False, False)
    """
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            return True
        end = text.find("}}", start + 2)
        if end < 0:
            return False
        tag = text[start + 2:end]
        stripped = tag.strip()
        if "{{" in tag or stripped.startswith("=") or stripped.startswith(ARGO_VARIABLE_ROOTS):
            return False
        pos = end + 2


def encode(text: str) -> str:
    """The wire text of a canonical text.

    The text is kept as is when it is Argo-inert, does not start with ``kfp2argo:`` and does
    not end with a newline (Argo drops one trailing newline from an output parameter file);
    otherwise it becomes ``kfp2argo:b64:`` + base64 (standard alphabet, padded) of its UTF-8.

    Raises:
        ValueError: ``text`` is not valid Unicode (holds a lone surrogate).

    >>> encode("hello")
    'hello'
    >>> encode("{{workflow.name}}")
    'kfp2argo:b64:e3t3b3JrZmxvdy5uYW1lfX0='
    >>> encode("line\\n")
    'kfp2argo:b64:bGluZQo='
    """
    if is_argo_inert(text) and not text.startswith(ESCAPE_PREFIX) and not text.endswith("\n"):
        return text
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text is not valid Unicode (it holds a lone surrogate)") from None
    return B64_PREFIX + base64.b64encode(data).decode("ascii")


def decode(wire: str):
    """The canonical text of a wire text, or None for :data:`NONE` (absent).

    Raises:
        ValueError: An escape is malformed or unknown.

    >>> decode("hello"), decode("kfp2argo:b64:bGluZQo="), decode("kfp2argo:none")
    ('hello', 'line\\n', None)
    """
    if wire == NONE:
        return None
    if wire.startswith(B64_PREFIX):
        try:
            return base64.b64decode(wire[len(B64_PREFIX):], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as e:
            raise ValueError("malformed kfp2argo:b64: value (%s)" % e) from None
    if wire.startswith(ERROR_PREFIX):
        raise ValueError("no value: " + wire[len(ERROR_PREFIX):])
    if wire.startswith(ESCAPE_PREFIX):
        raise ValueError("unknown escape %r (known: kfp2argo:b64:..., kfp2argo:none)"
                         % wire[:40])
    return wire


def wire_type(ir_type: str) -> str:
    """The wire type of an IR parameter type: ``TASK_FINAL_STATUS`` (dsl.PipelineTaskFinalStatus)
    travels as the STRUCT it is; the six value types are their own wire types.

    >>> wire_type("TASK_FINAL_STATUS"), wire_type("LIST")
    ('STRUCT', 'LIST')
    """
    return "STRUCT" if ir_type == "TASK_FINAL_STATUS" else ir_type


def wire_value(value, parameter_type: str) -> str:
    """``encode(canonical_text(value, parameter_type))``; None gives :data:`NONE`.

    >>> wire_value(0.5, "NUMBER_DOUBLE"), wire_value(None, "STRING")
    ('0.5', 'kfp2argo:none')
    >>> wire_value("kfp2argo:none", "STRING")
    'kfp2argo:b64:a2ZwMmFyZ286bm9uZQ=='
    """
    if value is None:
        return NONE
    return encode(canonical_text(value, parameter_type))


def encode_launcher_arg(text: str) -> str:
    """How one original argv element of a Python component is passed to the launcher.

    As is, unless it contains ``{{`` (Argo would parse it: KFP placeholders, or f-strings and
    Jinja in the component's source) or starts with ``base64:``; then ``base64:`` + base64
    of its UTF-8 bytes. This escape is for compile-time text only, never for values.

    >>> encode_launcher_arg("--executor_input"), encode_launcher_arg("{{$}}")
    ('--executor_input', 'base64:e3skfX0=')
    """
    if "{{" in text or text.startswith("base64:"):
        return "base64:" + base64.b64encode(text.encode("utf-8")).decode("ascii")
    return text


def parse_text(text: str, parameter_type: str):
    """The typed value of a canonical (or hand-written) text, as the launcher reads it.

    ``STRING``: as is. ``NUMBER_INTEGER``: decimal digits, or a decimal number that is
    integral (``3.0``, ``1e3``). ``NUMBER_DOUBLE``: a decimal number (no NaN, infinity or
    hex). ``BOOLEAN``: what Go's ``strconv.ParseBool`` accepts. ``LIST``/``STRUCT``: JSON
    giving a list/an object. Numbers and booleans may be surrounded by white space, as KFP's
    launcher trims it.

    Raises:
        ValueError: The text is not a value of the type.

    >>> parse_text(" 42\\n", "NUMBER_INTEGER"), parse_text("3.0", "NUMBER_INTEGER")
    (42, 3)
    >>> parse_text("1", "NUMBER_DOUBLE"), parse_text("T", "BOOLEAN"), parse_text("[1]", "LIST")
    (1.0, True, [1])
    >>> parse_text("3.5", "NUMBER_INTEGER")
    Traceback (most recent call last):
    ...
    ValueError: not a NUMBER_INTEGER: '3.5'
    """
    t = parameter_type
    if t == "STRING":
        return text
    bad = ValueError("not a %s: %r" % (t, text if len(text) <= 80 else text[:77] + "..."))
    s = text.strip()
    if t == "NUMBER_INTEGER":
        if _INTEGER_RE.match(s):
            return int(s)
        if _DECIMAL_RE.match(s):
            d = Decimal(s)
            if d == d.to_integral_value() and d.adjusted() <= _MAX_INTEGER_EXPONENT:
                return int(d)
        raise bad
    if t == "NUMBER_DOUBLE":
        if _DECIMAL_RE.match(s) and math.isfinite(float(s)):
            return float(s)
        raise bad
    if t == "BOOLEAN":
        if s in TRUE_WORDS or s in FALSE_WORDS:
            return s in TRUE_WORDS
        raise bad
    if t in ("LIST", "STRUCT"):
        try:
            value = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise bad from None
        if not isinstance(value, list if t == "LIST" else dict):
            raise bad
        return value
    raise ValueError("unknown parameter type %r (expected one of %s)"
                     % (t, ", ".join(PARAMETER_TYPES)))


def _reject_constant(name: str):
    raise ValueError("JSON constant %s is not allowed" % name)


def decode_typed(wire: str, parameter_type: str):
    """The typed value of a wire text (None for :data:`NONE`), as the launcher decodes it.

    Raises:
        ValueError: The wire text is malformed or its text is not a value of the type.

    >>> decode_typed("42", "NUMBER_INTEGER"), decode_typed("kfp2argo:none", "LIST")
    (42, None)
    >>> decode_typed('{"a":1}', "STRUCT")
    {'a': 1}
    """
    text = decode(wire)
    return None if text is None else parse_text(text, parameter_type)
