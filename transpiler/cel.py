"""KFP task conditions (CEL) as Argo ``when`` expressions (expr-lang).

KFP's IR guards a task with ``triggerPolicy.condition``, a CEL expression over the task's
inputs, ``inputs.parameter_values['<input name>']``. The KFP backend evaluates it with cel-go,
where each input is a ``google.protobuf.Value``: a STRING input is a CEL string, NUMBER_INTEGER
and NUMBER_DOUBLE inputs are both doubles, a BOOLEAN input is a bool. A missing input or a failed
conversion is an evaluation error, and the task fails.

:func:`translate` turns such a condition into one expr-lang expression, which Argo 4 evaluates
in a ``when: "{{=...}}"`` tag (``ARGO-NOTES.md`` sections 1 and 2). Each input reaches the
expression as its *wire text* (``docs/runtime-contract.md``), which the expression decodes by
the input's declared type exactly as ``wire.decode_typed`` does. The expression renders
``true`` or ``false``, or fails evaluation (the task node errors) where KFP's evaluation fails.

The subset is what the KFP SDK writes, and a little more: ``== != < <= > >=``, ``&& || !``,
parentheses, ``int()``, ``double()`` and ``string()``, string (all quote forms, escapes, raw),
int, double and bool literals, unary minus on number literals, and
``inputs.parameter_values['name']``. A real tokenizer and recursive-descent parser build a
small syntax tree; a static type checker rejects, with the character offset, everything else
(other functions, identifiers, operators, member accesses), inputs that are not given,
comparisons between different types and ordering of bools.

How CEL's semantics are kept (each point is checked against cel-go by ``tests/test_cel.py``):

* Errors. CEL's ``&&`` is false when either side is false, even if the other side fails, and
  ``||`` is true when either side is true; expr-lang stops at the first failure. So every part
  that can fail (decoding an input, a conversion) gets an explicit validity test, no part is
  evaluated unless its test passed, and the condition is computed three-valued: when the
  validity tests of all its comparisons are the same (the usual case: one input), as
  ``tests ? condition : fail``; otherwise as ``T ? true : (F ? false : fail)``, where ``T`` and
  ``F`` say the condition is certainly true / certainly false. ``fail`` is a text that
  govaluate cannot parse, so the task fails with it (it names the input or conversion at
  fault); it is not an evaluation error of the expression, see :func:`_fail`.
* Types. Numbers compare as doubles; an ``int()`` result is an integer; ``int()`` of a double
  truncates toward zero and fails outside (-2^63, 2^63) and on NaN; ``int()`` of a string reads
  a base-10 int64 (``strconv.ParseInt``); ``double()`` of a string is Go's
  ``strconv.ParseFloat``; ``string()`` of a double is Go's ``%g``, as in cel-go. An input that
  is a bare number (CEL's ``dyn``) may be compared with an int, as cel-go allows; an ``int()``
  result compared with a double literal is a type error there, and here.
* Ordering a NaN fails, as in cel-go. Strings compare by bytes.

Canonical operands (``Operand.canonical``): a text that is known to be canonical always
passes the validity tests, so its input is decoded by the shortest faithful form, STRING
``(w startsWith 'kfp2argo:' ? sprig.b64dec(w[13:]) : w)`` (the only canonical text with that
prefix is the base64 escape), NUMBER_* ``float(w)`` (a plain decimal), BOOLEAN
``w == 'true'``, and has no validity test of its own. The translation is the
same otherwise: tests that cannot fail are simply absent, so ``tests ? condition : fail``
becomes ``condition`` when nothing can fail, and the tests that remain (``int()`` ranges and
string conversions) are written only where the condition uses them. An input used once is
written in place rather than bound by ``map``.

Known differences, deliberately kept (no producer writes such texts): a number text beyond a
double's range that does not look large (a mantissa below 1 or a negative exponent, as in
``0.1e400``) fails the whole condition, even where CEL's ``&&``/``||`` would absorb the error
(``1e400`` itself is handled exactly); a NUMBER_INTEGER text in exponent form with more than 15
significant digits is judged integral by its double value (``wire.decode_typed`` by its decimal);
a canonical NUMBER_INTEGER beyond a double's range (over 308 digits) fails evaluation where it is
read, even where CEL's ``&&``/``||`` would absorb the error (KFP itself cannot carry it: its
values are doubles).

Every expression this module writes holds no ``{{`` or ``}}`` (string literals escape braces),
uses bracket access only, binds values with ``map([...], ...)`` closures rather than ``let``
(Argo's loop expansion substitutes strictly and takes a ``let`` variable for a missing one), and
avoids the escapes ``\\u003c``, ``\\u003e`` and ``\\u0026``, which Argo's JSON fix-up would
rewrite. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from transpiler import wire

__all__ = [
    "ConditionError",
    "Operand",
    "decode_wire_expr",
    "expr_string_literal",
    "input_names",
    "parse",
    "translate",
]


@dataclass(frozen=True)
class Operand:
    """One input of a condition, as the Argo expression can read it.

    ``type`` is the input's IR parameter type (STRING, NUMBER_INTEGER, NUMBER_DOUBLE, BOOLEAN,
    LIST or STRUCT); ``wire`` is an expr-lang expression whose value is the input's wire text,
    e.g. ``"tasks['flip-coin'].outputs.parameters['Output']"``, ``"inputs.parameters['x']"`` or
    a quoted literal. ``wire`` must not hold ``{{`` or ``}}``.

    ``canonical`` promises that the wire text is always ``wire.wire_value(v, type)`` of a value
    ``v`` that is not None: the canonical text of the type, escaped by the rule, never absent
    (``kfp2argo:none``). A compile-time constant is, and so is an output parameter of a Python
    component, of the same type, of a task that succeeded: the launcher writes canonical text by
    the declared type or fails the pod (``lower/dag.py`` also follows a DAG input to the tasks
    that call the DAG, since Argo passes it on unchanged). The translation then decodes the
    text without validating it (see the module notes); an operand that breaks the promise
    gives a wrong result rather than an error.
    """

    type: str
    wire: str
    canonical: bool = False


class ConditionError(ValueError):
    """A condition that cannot be translated: ``message`` (one sentence) and ``offset`` (the
    0-based character offset in the condition text where the problem is)."""

    def __init__(self, message: str, offset: int):
        super().__init__(f"{message} (at character {offset + 1})")
        self.message = message
        self.offset = offset


# --- expr-lang literals ---------------------------------------------------------------------


def expr_string_literal(text: str) -> str:
    """An expr-lang single-quoted string literal whose value is ``text``.

    Safe inside an Argo ``{{=...}}`` tag: braces are written ``\\u007b``/``\\u007d`` (so the
    literal never holds ``{{`` or ``}}``) and a backslash ``\\x5c`` (so no escape that Argo's JSON
    fix-up rewrites can form). Control characters, invisible characters (white space other than
    the space, format characters) and characters outside the Basic Multilingual Plane are
    escaped too, by a fixed list, so the output is the same on every Python version.

    Raises:
        ValueError: ``text`` holds a lone surrogate (it is not Unicode text).

    >>> print(expr_string_literal("it's {{x}}"))
    'it\\'s \\u007b\\u007bx\\u007d\\u007d'
    >>> print(expr_string_literal("a" + chr(92) + "b" + chr(10) + chr(0xA0) + "é"))
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


def _int_literal(value: int) -> str:
    if value == -(2**63):
        return "(-9223372036854775807 - 1)"  # expr-lang reads 9223372036854775808 as out of range
    return f"({value})" if value < 0 else str(value)


def _double_literal(value: float) -> str:
    text = repr(value)  # shortest round-trip digits; always holds '.' or 'e' for a finite float
    return f"({text})" if text.startswith("-") else text


# --- wire decoding --------------------------------------------------------------------------

# White space that wire.parse_text strips around numbers and booleans: Python's str.strip()
# set (str.isspace). tests/test_cel.py checks this list against Python.
PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

# Go regular expressions (RE2), written without backslashes.
# With a length that is a multiple of 4, this is exactly the padded standard base64 alphabet.
_B64_RE = "^" + wire.B64_PREFIX + "[A-Za-z0-9+/]*(?:==?)?$"
_DECIMAL_RE = "^[+-]?(?:[0-9]+(?:[.][0-9]*)?|[.][0-9]+)(?:[eE][+-]?[0-9]+)?$"
# A decimal whose value is below 1 in magnitude or that has a negative exponent: when Go's
# ParseFloat gives 0 for it, that is an underflow (or a zero), not an overflow.
_DECIMAL_SMALL_RE = "^[+-]?0*(?:[.]|[eE]|$)|[eE]-"
_DECIMAL_NO_FRACTION_RE = "^[+-]?(?:[0-9]+[.]?0*|[.]0+)$"
# Go's strconv.ParseFloat syntax: decimal or hexadecimal floats with '_' between digits,
# inf/infinity with an optional sign, nan.
_GO_DIGITS = "[0-9]+(?:_[0-9]+)*"
_GO_HEX_DIGITS = "[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*"
_GO_FLOAT_RE = (
    "^(?:[+-]?(?:"
    f"(?:{_GO_DIGITS}(?:[.](?:{_GO_DIGITS})?)?|[.]{_GO_DIGITS})(?:[eE][+-]?{_GO_DIGITS})?"
    f"|0[xX](?:_?{_GO_HEX_DIGITS}(?:[.](?:{_GO_HEX_DIGITS})?)?|[.]{_GO_HEX_DIGITS})[pP][+-]?{_GO_DIGITS}"
    "|(?i:inf(?:inity)?))|(?i:nan))$"
)
_GO_FLOAT_SMALL_RE = "^[+-]?(?:0[xX]_?)?[0_]*(?:[.]|[eEpP]|$)|[eEpP]-"
_INT_RE = "^[+-]?[0-9]+$"
_INT64_MAX_DIGITS = str(2**63 - 1)
_INT64_MIN_DIGITS = str(2**63)
# int() of a double fails unless -2^63 < value < 2^63 (cel-go's doubleToInt64Checked).
_INT64_BOUND = "9.223372036854775808e18"

_NUMBER_TYPES = ("NUMBER_INTEGER", "NUMBER_DOUBLE")


def _lit(text: str) -> str:
    return expr_string_literal(text)


def _text_ok(v: str) -> str:
    """Whether the wire text ``v`` (an expr-lang string) is valid: not absent, and either
    unescaped or a well-formed base64 escape of UTF-8 text."""
    payload = f"{v}[{len(wire.B64_PREFIX)}:]"
    escaped = (f"{v} matches {_lit(_B64_RE)} && len({payload}) % 4 == 0"
               f" && all([{_text(v, raw=True)}], fromJSON(toJSON(#)) == #)")
    return f"{v} != nil && (!({v} startsWith {_lit(wire.ESCAPE_PREFIX)}) || {escaped})"


def _text(v: str, raw: bool = False) -> str:
    """The canonical text of the wire text ``v`` (valid per :func:`_text_ok`)."""
    decoded = f"sprig.b64dec({v}[{len(wire.B64_PREFIX)}:])"
    return decoded if raw else f"({v} startsWith {_lit(wire.ESCAPE_PREFIX)} ? {decoded} : {v})"


def _number_from_text(t: str, integral: bool) -> str:
    """The double a stripped number text ``t`` stands for, or nil when it is not a number."""
    finite = f"(sprig.float64({t}) != 0 || {t} matches {_lit(_DECIMAL_SMALL_RE)})"
    test = f"{t} matches {_lit(_DECIMAL_RE)} && {finite}"
    if integral:
        test += (f" && ({t} matches {_lit(_DECIMAL_NO_FRACTION_RE)}"
                 f" || {t} matches '[eE]' && float({t}) == floor(float({t})))")
    return f"({test} ? float({t}) : nil)"


def decode_wire_expr(wire_expr: str, ir_type: str) -> str:
    """An expr-lang expression giving the typed value of a wire text, or nil.

    ``wire_expr`` is an expr-lang expression whose value is a wire text (a string; nil counts
    as absent). The result is what ``wire.decode_typed`` gives, as CEL sees KFP's values:
    STRING a string; NUMBER_INTEGER and NUMBER_DOUBLE a float (numbers and booleans may be
    surrounded by white space); BOOLEAN a bool (Go ``strconv.ParseBool`` words); LIST a list and
    STRUCT a map (from JSON; numbers are floats). It is nil when the value is absent
    (``kfp2argo:none``) or not valid for its type, never an evaluation error, except for LIST
    and STRUCT texts that are not JSON at all (``fromJSON`` fails) and numbers beyond a double's
    range given in a form that looks small (see the module notes).

    >>> decode_wire_expr("inputs.parameters['x']", "STRING")[:33]
    "map([inputs.parameters['x']], # !"
    """
    if ir_type not in wire.PARAMETER_TYPES:
        raise ValueError(f"unknown parameter type {ir_type!r}")
    _check_wire_expr(wire_expr)
    text = _text("#")
    if ir_type == "STRING":
        typed = text
    else:
        if ir_type in _NUMBER_TYPES:
            body = _number_from_text("#", integral=ir_type == "NUMBER_INTEGER")
            inner = f"trim({text}, {_lit(PYTHON_WHITESPACE)})"
        elif ir_type == "BOOLEAN":
            true_words = ", ".join(_lit(w) for w in wire.TRUE_WORDS)
            false_words = ", ".join(_lit(w) for w in wire.FALSE_WORDS)
            body = f"(# in [{true_words}] ? true : (# in [{false_words}] ? false : nil))"
            inner = f"trim({text}, {_lit(PYTHON_WHITESPACE)})"
        else:
            kind = "array" if ir_type == "LIST" else "map"
            body = f"(type(#) == '{kind}' ? # : nil)"
            inner = f"fromJSON({text})"
        typed = f"map([{inner}], {body})[0]"
    return f"map([{wire_expr}], {_text_ok('#')} ? {typed} : nil)[0]"


def _canonical_decode(v: str, ir_type: str) -> str:
    """The typed value of ``v``, an expr-lang string that is canonical wire text of
    ``ir_type`` (never absent): the decoding of :func:`decode_wire_expr` without its tests."""
    if ir_type == "STRING":
        return _text(v)
    if ir_type in _NUMBER_TYPES:
        return f"float({v})"  # a plain decimal, finite (an integer may exceed a double: see notes)
    if ir_type == "BOOLEAN":
        return f"{v} == 'true'"
    raise ValueError(f"no canonical decoding for {ir_type!r} in a condition")


def _check_wire_expr(wire_expr: str) -> None:
    if not isinstance(wire_expr, str) or not wire_expr.strip():
        raise ValueError(f"an operand's wire expression must be a non-empty string, got {wire_expr!r}")
    if "{{" in wire_expr or "}}" in wire_expr:
        raise ValueError(f"an operand's wire expression cannot hold '{{{{' or '}}}}': {wire_expr!r}")


# --- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # INT UINT FLOAT STRING BYTES IDENT OP EOF
    text: str  # the source text
    offset: int
    value: object = None  # the literal's value (int, float, str)


_OPERATORS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "[", "]", "{", "}",
              ".", ",", "?", ":", "+", "-", "*", "/", "%")
_WHITESPACE = "\t\n\r\f "
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                   "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?"}
_HEX = "0123456789abcdefABCDEF"
_RESERVED = frozenset(("as", "break", "const", "continue", "else", "for", "function", "if",
                       "import", "let", "loop", "package", "namespace", "return", "var",
                       "void", "while"))
_CASTS = ("int", "double", "string")


def _ident_start(ch: str) -> bool:
    return ch == "_" or ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _ident_char(ch: str) -> bool:
    return _ident_start(ch) or "0" <= ch <= "9"


def _tokenize(src: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch in _WHITESPACE:
            i += 1
        elif src.startswith("//", i):
            end = src.find("\n", i)
            i = n if end < 0 else end
        elif _ident_start(ch):
            j = i
            while j < n and _ident_char(src[j]):
                j += 1
            word = src[i:j]
            if j < n and src[j] in "'\"" and word.lower() in ("r", "b", "br", "rb"):
                if word.lower() == "rb":  # CEL spells raw bytes br'...'
                    raise ConditionError(f"unexpected string prefix {word!r}", i)
                tok, i = _scan_string(src, i, j, raw="r" in word.lower(), is_bytes="b" in word.lower())
                tokens.append(tok)
                continue
            tokens.append(_Token("IDENT", word, i))
            i = j
        elif ch in "'\"":
            tok, i = _scan_string(src, i, i, raw=False, is_bytes=False)
            tokens.append(tok)
        elif "0" <= ch <= "9" or (ch == "." and i + 1 < n and "0" <= src[i + 1] <= "9"):
            tok, i = _scan_number(src, i)
            tokens.append(tok)
        else:
            for op in _OPERATORS:
                if src.startswith(op, i):
                    tokens.append(_Token("OP", op, i))
                    i += len(op)
                    break
            else:
                if ch in "=&|":
                    raise ConditionError(f"unexpected {ch!r} (did you mean {ch * 2!r}?)", i)
                raise ConditionError(f"unexpected character {ch!r}", i)
    tokens.append(_Token("EOF", "", n))
    return tokens


def _digits(src: str, i: int, allowed: str = "0123456789") -> int:
    while i < len(src) and src[i] in allowed:
        i += 1
    return i


def _scan_number(src: str, start: int) -> tuple[_Token, int]:
    n = len(src)
    if src.startswith(("0x", "0X"), start) and start + 2 < n and src[start + 2] in _HEX:
        if src[start + 1] == "X":
            raise ConditionError("hexadecimal literals start with '0x'", start)
        end = _digits(src, start + 2, _HEX)
        if end < n and src[end] in "uU":
            raise ConditionError("unsigned integers are not supported in conditions", start)
        return _Token("INT", src[start:end], start, int(src[start + 2:end], 16)), end
    i = _digits(src, start)
    is_float = False
    if i < n and src[i] == "." and i + 1 < n and "0" <= src[i + 1] <= "9":
        i = _digits(src, i + 1)
        is_float = True
    if i < n and src[i] in "eE":
        j = i + 1
        if j < n and src[j] in "+-":
            j += 1
        if j < n and "0" <= src[j] <= "9":
            i = _digits(src, j)
            is_float = True
    text = src[start:i]
    if is_float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise ConditionError(f"double literal {text} is out of range", start)
        return _Token("FLOAT", text, start, value), i
    if i < n and src[i] in "uU":
        raise ConditionError("unsigned integers are not supported in conditions", start)
    return _Token("INT", text, start, int(text)), i


def _scan_string(src: str, start: int, quote_at: int, raw: bool, is_bytes: bool) -> tuple[_Token, int]:
    """Scan a CEL string literal whose prefix (r, b, br) spans src[start:quote_at]."""
    n = len(src)
    q = src[quote_at]
    triple = src.startswith(q * 3, quote_at)
    delim = q * 3 if triple else q
    i = quote_at + len(delim)
    chars: list[str] = []
    while True:
        if i >= n:
            raise ConditionError("string literal is not terminated", start)
        if src.startswith(delim, i):
            i += len(delim)
            break
        ch = src[i]
        if not triple and ch in "\r\n":
            raise ConditionError("string literal is not terminated (use ''' or \"\"\" for text with line breaks)", start)
        if ch == "\\" and not raw:
            value, i = _scan_escape(src, i)
            chars.append(value)
            continue
        if ch == "\r":  # CEL normalizes line breaks in literals to \n
            chars.append("\n")
            i += 2 if src.startswith("\r\n", i) else 1
            continue
        chars.append(ch)
        i += 1
    if is_bytes:
        raise ConditionError("bytes literals are not supported in conditions", start)
    return _Token("STRING", src[start:i], start, "".join(chars)), i


def _scan_escape(src: str, i: int) -> tuple[str, int]:
    """The character of the escape sequence at src[i] (a backslash), and the index after it."""
    if i + 1 >= len(src):
        raise ConditionError("string literal ends with a lone backslash", i)
    c = src[i + 1]
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c], i + 2
    if c in "xXuU":
        width = {"x": 2, "X": 2, "u": 4, "U": 8}[c]
        digits = src[i + 2:i + 2 + width]
        if len(digits) != width or any(d not in _HEX for d in digits):
            raise ConditionError(f"'\\{c}' needs {width} hexadecimal digits", i)
        code = int(digits, 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise ConditionError(f"'\\{c}{digits}' is not a Unicode code point", i)
        return chr(code), i + 2 + width
    if c in "0123":
        digits = src[i + 1:i + 4]
        if len(digits) != 3 or any(d not in "01234567" for d in digits):
            raise ConditionError("an octal escape needs three digits, e.g. '\\101'", i)
        return chr(int(digits, 8)), i + 4
    raise ConditionError(f"unknown escape sequence '\\{c}'", i)


# --- syntax tree ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    offset: int
    type: str  # int, double, string, bool
    value: object


@dataclass(frozen=True)
class Input:
    """``inputs.parameter_values['name']``."""

    offset: int
    name: str


@dataclass(frozen=True)
class Call:
    offset: int
    end: int  # offset after the closing parenthesis
    function: str  # int, double, string
    argument: Node


@dataclass(frozen=True)
class Not:
    offset: int
    operand: Node


@dataclass(frozen=True)
class Binary:
    """A comparison (``== != < <= > >=``) or a logical operator (``&& ||``)."""

    offset: int  # of the operator
    op: str
    left: Node
    right: Node

    @property
    def logical(self) -> bool:
        return self.op in ("&&", "||")


Node = Literal | Input | Call | Not | Binary

_RELATIONS = ("==", "!=", "<", "<=", ">", ">=")
_ARITHMETIC = ("+", "-", "*", "/", "%")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class _Parser:
    def __init__(self, src: str):
        self.src = src
        self.tokens = _tokenize(src)
        self.pos = 0

    def peek(self, k: int = 0) -> _Token:
        return self.tokens[min(self.pos + k, len(self.tokens) - 1)]

    def at(self, *ops: str) -> bool:
        tok = self.peek()
        return tok.kind == "OP" and tok.text in ops

    def next(self) -> _Token:
        tok = self.peek()
        self.pos += 1
        return tok

    def expect(self, op: str, what: str) -> _Token:
        if not self.at(op):
            raise self.unexpected(f"expected {op!r} {what}")
        return self.next()

    def unexpected(self, expected: str = "") -> ConditionError:
        tok = self.peek()
        found = "the end of the condition" if tok.kind == "EOF" else repr(tok.text)
        return ConditionError(f"unexpected {found}" + (f"; {expected}" if expected else ""), tok.offset)

    def parse(self) -> Node:
        node = self.expr()
        if self.peek().kind != "EOF":
            raise self.unexpected()
        return node

    def expr(self) -> Node:
        node = self.disjunction()
        if self.at("?"):
            raise ConditionError("the conditional operator '? :' is not supported in conditions", self.peek().offset)
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.at("||"):
            op = self.next()
            node = Binary(op.offset, "||", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.relation()
        while self.at("&&"):
            op = self.next()
            node = Binary(op.offset, "&&", node, self.relation())
        return node

    def relation(self) -> Node:
        node = self.calc()
        while True:
            tok = self.peek()
            if tok.kind == "IDENT" and tok.text == "in":
                raise ConditionError("the 'in' operator is not supported in conditions", tok.offset)
            if not self.at(*_RELATIONS):
                return node
            self.next()
            node = Binary(tok.offset, tok.text, node, self.calc())

    def calc(self) -> Node:
        node = self.unary()
        if self.at(*_ARITHMETIC):
            tok = self.peek()
            raise ConditionError(f"arithmetic ({tok.text!r}) is not supported in conditions", tok.offset)
        return node

    def unary(self) -> Node:
        # As cel-go's parser does, an even run of '!' or '-' cancels out (without a type check).
        if self.at("!"):
            first, count = self.peek(), 0
            while self.at("!"):
                self.next()
                count += 1
            operand = self.member()
            return operand if count % 2 == 0 else Not(first.offset, operand)
        if self.at("-"):
            first, count = self.peek(), 0
            while self.at("-"):
                self.next()
                count += 1
            negate = count % 2 == 1
            if self.peek().kind in ("INT", "FLOAT"):
                return self.number(self.next(), negate, first.offset)
            operand = self.member()
            if not negate:
                return operand
            if isinstance(operand, Literal) and operand.type in ("int", "double"):
                return self.signed(-operand.value, operand.type, first.offset)  # type: ignore[operator]
            raise ConditionError("negation ('-') is only supported on number literals", first.offset)
        return self.member()

    def number(self, tok: _Token, negate: bool, offset: int) -> Node:
        value = -tok.value if negate else tok.value  # type: ignore[operator]
        node = self.signed(value, "int" if tok.kind == "INT" else "double", offset if negate else tok.offset)
        if self.at(".", "["):
            raise self.unexpected("a number has no fields or elements")
        return node

    @staticmethod
    def signed(value, type_: str, offset: int) -> Literal:
        if type_ == "int":
            if not _INT64_MIN <= value <= _INT64_MAX:
                raise ConditionError("integer literal is out of the int64 range", offset)
            return Literal(offset, "int", int(value))
        return Literal(offset, "double", float(value))

    def member(self) -> Node:
        node = self.primary()
        if self.at(".", "["):
            tok = self.peek()
            if tok.text == "." and self.peek(1).kind == "IDENT" and self.peek(2).kind == "OP" and self.peek(2).text == "(":
                raise ConditionError(f"method calls ('.{self.peek(1).text}()') are not supported in conditions", tok.offset)
            what = "inputs.parameter_values['<name>']" if isinstance(node, Input) else "this value"
            raise ConditionError(f"{what} has no fields or elements to select", tok.offset)
        return node

    def primary(self) -> Node:
        tok = self.peek()
        if tok.kind == "OP":
            if tok.text == "(":
                self.next()
                node = self.expr()
                self.expect(")", "to close '('")
                return node
            if tok.text == "-" and self.peek(1).kind in ("INT", "FLOAT"):  # a signed literal after '!'
                self.next()
                return self.number(self.next(), True, tok.offset)
            if tok.text == "[":
                raise ConditionError("list literals are not supported in conditions", tok.offset)
            if tok.text == "{":
                raise ConditionError("map literals are not supported in conditions", tok.offset)
            if tok.text == ".":
                raise ConditionError("names starting with '.' are not supported in conditions", tok.offset)
            raise self.unexpected()
        if tok.kind == "INT":
            self.next()
            return self.signed(tok.value, "int", tok.offset)
        if tok.kind == "FLOAT":
            self.next()
            return Literal(tok.offset, "double", tok.value)
        if tok.kind == "STRING":
            self.next()
            return Literal(tok.offset, "string", tok.value)
        if tok.kind == "IDENT":
            return self.identifier()
        raise self.unexpected()

    def identifier(self) -> Node:
        tok = self.next()
        name = tok.text
        if name in ("true", "false"):
            return Literal(tok.offset, "bool", name == "true")
        if name == "null":
            raise ConditionError("null is not supported in conditions", tok.offset)
        if name in _RESERVED:
            raise ConditionError(f"{name!r} is a reserved word in CEL", tok.offset)
        if self.at("("):
            return self.call(tok)
        if name == "inputs":
            return self.input(tok)
        hint = " (CEL's booleans are true and false)" if name in ("True", "False", "TRUE", "FALSE") else ""
        raise ConditionError(f"unknown identifier {name!r}{hint}", tok.offset)

    def call(self, tok: _Token) -> Node:
        if tok.text not in _CASTS:
            raise ConditionError(f"{tok.text!r} is not a function KFP conditions use "
                                 "(supported: int(), double(), string())", tok.offset)
        self.next()  # (
        args = []
        if not self.at(")"):
            args.append(self.expr())
            while self.at(","):
                self.next()
                args.append(self.expr())
        close = self.expect(")", f"to close {tok.text}(")
        if len(args) != 1:
            raise ConditionError(f"{tok.text}() takes exactly one argument, got {len(args)}", tok.offset)
        return Call(tok.offset, close.offset + 1, tok.text, args[0])

    def input(self, tok: _Token) -> Node:
        usage = "only inputs.parameter_values['<name>'] can be read"
        if not self.at("."):
            raise ConditionError(usage, tok.offset)
        self.next()
        field = self.peek()
        if field.kind != "IDENT" or field.text != "parameter_values":
            raise ConditionError(usage, field.offset)
        self.next()
        if not self.at("["):
            raise ConditionError(usage, self.peek().offset)
        self.next()
        key = self.peek()
        if key.kind != "STRING":
            raise ConditionError("the key of inputs.parameter_values[...] must be a string literal", key.offset)
        self.next()
        self.expect("]", "to close inputs.parameter_values[")
        return Input(tok.offset, str(key.value))


def parse(condition: str) -> Node:
    """The syntax tree of a condition in the supported subset.

    Raises:
        ConditionError: A syntax error, or syntax outside the subset.
    """
    if not isinstance(condition, str):
        raise TypeError("a condition is a string")
    return _Parser(condition).parse()


def input_names(condition: str) -> tuple[str, ...]:
    """The input names a condition reads, in order of first use.

    >>> input_names("int(inputs.parameter_values['a']) > 1 && inputs.parameter_values['b'] == 'x'")
    ('a', 'b')
    """
    names: list[str] = []
    for node in _walk(parse(condition)):
        if isinstance(node, Input) and node.name not in names:
            names.append(node.name)
    return tuple(names)


def _walk(node: Node):
    yield node
    if isinstance(node, Call):
        yield from _walk(node.argument)
    elif isinstance(node, Not):
        yield from _walk(node.operand)
    elif isinstance(node, Binary):
        yield from _walk(node.left)
        yield from _walk(node.right)


# --- static types ---------------------------------------------------------------------------

_CEL_TYPE_OF_INPUT = {"STRING": "string", "NUMBER_INTEGER": "double", "NUMBER_DOUBLE": "double",
                      "BOOLEAN": "bool"}


class _Checker:
    """Static types of the nodes: int, double, string or bool."""

    def __init__(self, operands: Mapping[str, Operand]):
        self.operands = operands
        self.types: dict[int, str] = {}

    def type(self, node: Node) -> str:
        key = id(node)
        if key not in self.types:
            self.types[key] = self._type(node)
        return self.types[key]

    def _type(self, node: Node) -> str:
        if isinstance(node, Literal):
            return node.type
        if isinstance(node, Input):
            operand = self.operands.get(node.name)
            if operand is None:
                raise ConditionError(f"the task has no input {node.name!r}", node.offset)
            if operand.type in ("LIST", "STRUCT"):
                raise ConditionError(f"input {node.name!r} is a {operand.type}, which conditions cannot compare", node.offset)
            if operand.type not in _CEL_TYPE_OF_INPUT:
                raise ConditionError(f"input {node.name!r} has the unknown type {operand.type!r}", node.offset)
            return _CEL_TYPE_OF_INPUT[operand.type]
        if isinstance(node, Call):
            argument = self.type(node.argument)
            if node.function != "string" and argument == "bool":
                raise ConditionError(f"{node.function}() does not accept a bool", node.offset)
            return node.function
        if isinstance(node, Not):
            operand = self.type(node.operand)
            if operand != "bool":
                raise ConditionError(f"'!' needs a bool, got {operand}", node.offset)
            return "bool"
        if node.logical:
            for side in (node.left, node.right):
                t = self.type(side)
                if t != "bool":
                    raise ConditionError(f"{node.op!r} needs bools, got {t}", node.offset)
            return "bool"
        left, right = self.type(node.left), self.type(node.right)
        if left != right and not self._numbers_compare(node, left, right):
            raise ConditionError(f"cannot compare {left} with {right}", node.offset)
        if left == "bool" and node.op not in ("==", "!="):
            raise ConditionError(f"bools cannot be ordered with {node.op!r}", node.offset)
        return "bool"

    @staticmethod
    def _numbers_compare(node: Binary, left: str, right: str) -> bool:
        # cel-go types an input as dyn, so an input (a double at run time) compares with an
        # int; two static types (an int() result and a double literal) do not.
        if {left, right} != {"int", "double"}:
            return False
        double_side = node.left if left == "double" else node.right
        return isinstance(double_side, Input)


# --- translation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Check:
    """A validity test that must pass before a value may be used (an expression that never
    fails evaluation), and an expression that fails evaluation with the reason when not."""

    ok: str
    fail: str


@dataclass(frozen=True)
class _Term:
    value: str  # expr-lang expression; evaluates without error once all checks passed
    checks: tuple[_Check, ...]  # in dependency order: a check may rely on the ones before it
    may_be_nan: bool = False


def _merge(*groups: tuple[_Check, ...]) -> tuple[_Check, ...]:
    out: list[_Check] = []
    for group in groups:
        for check in group:
            if check not in out:
                out.append(check)
    return tuple(out)


def _fail(message: str) -> str:
    """The text a condition gives where KFP's evaluation fails. It is not an evaluation error:
    after a task ran, Argo substitutes its template again with the task's unresolved arguments,
    and Argo 4.0.0-4.0.3 and 3.7.11-3.7.13 turn a failing expression then into an Error of the
    task (upstream #15850). Argo renders the text as the ``when``, and govaluate then fails on
    it, always: it starts with two bare words (``Cannot transition token types from VARIABLE to
    VARIABLE``), and the error quotes the whole text, ``message`` included."""
    return _lit("kfp2argo condition failed: " + message)


def _first_failure(checks: tuple[_Check, ...]) -> str:
    """Fails evaluation with the reason of the first check that does not pass (the last one's
    when all pass, which callers rule out)."""
    result = checks[-1].fail
    for check in reversed(checks[:-1]):
        result = f"{_negation(check.ok)} ? {check.fail} : ({result})"
    return result


def _all_of(parts: list[str]) -> str:
    return " && ".join(_group(p) for p in parts)


def _group(expr: str) -> str:
    """``expr`` as an operand of another operator: in parentheses unless it is one already."""
    simple = all(ch.isalnum() or ch in "#[]_." for ch in expr)
    wrapped = expr.startswith("(") and expr.endswith(")") and _balanced(expr[1:-1])
    return expr if simple or wrapped or _postfix_chain(expr) else f"({expr})"


def _postfix_chain(expr: str) -> bool:
    """Whether ``expr`` is a name followed by calls and indexes only (``f(x)[0]``), outside
    string literals: an operand that needs no parentheses."""
    i, n = 0, len(expr)
    while i < n and (expr[i].isalnum() or expr[i] in "_."):
        i += 1
    if i == 0 or i == n:
        return False
    while i < n:
        if expr[i] == "." and i + 1 < n and _ident_start(expr[i + 1]):  # a field: .outputs
            i += 1
            while i < n and _ident_char(expr[i]):
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


def _closing(text: str, start: int) -> int:
    """The index of the bracket that closes the one at ``start``, outside string literals, or -1."""
    depth, i, n = 0, start, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            i += 1
            while i < n and text[i] != "'":
                i += 2 if text[i] == "\\" else 1
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _uses(body: str, ref: str) -> int:
    """How many times ``ref`` occurs in ``body`` outside string literals (an upper bound of the
    uses of an input: a closure's own ``#[0]`` counts too)."""
    count, i, n = 0, 0, len(body)
    while i < n:
        if body[i] == "'":
            i += 1
            while i < n and body[i] != "'":
                i += 2 if body[i] == "\\" else 1
            i += 1
        elif body.startswith(ref, i) and (ref != "#" or body[i + 1:i + 2] != "["):
            count += 1
            i += len(ref)
        else:
            i += 1
    return count


def _negation(ok: str) -> str:
    """The negation of a check, readably (``# == nil`` rather than ``!(# != nil)``)."""
    if ok.endswith(" != nil") and all(ch in "#[]0123456789" for ch in ok[:-7]):
        return ok[:-7] + " == nil"
    return "!" + _group(ok)


class _Translator:
    def __init__(self, src: str, checker: _Checker, refs: Mapping[str, str], operands: Mapping[str, Operand]):
        self.src = src
        self.checker = checker
        self.refs = refs
        self.operands = operands

    def term(self, node: Node) -> _Term:
        """A value and the checks it needs."""
        if isinstance(node, Literal):
            if node.type == "string":
                return _Term(_lit(str(node.value)), ())
            if node.type == "int":
                return _Term(_int_literal(int(node.value)), ())  # type: ignore[call-overload]
            if node.type == "double":
                return _Term(_double_literal(float(node.value)), ())  # type: ignore[arg-type]
            return _Term("true" if node.value else "false", ())
        if isinstance(node, Input):
            ref = self.refs[node.name]
            if self.operands[node.name].canonical:
                return _Term(ref, ())  # decoded without tests: it cannot be absent or invalid
            message = f'input "{node.name}" is absent or not a {self.operands[node.name].type} value'
            return _Term(ref, (_Check(f"{ref} != nil", _fail(message)),))
        if isinstance(node, Call):
            return self.cast(node)
        if isinstance(node, Binary) and not node.logical:
            return self.compare(node)
        # A !, && or || inside a comparison: its value once it is known not to fail. CEL's
        # absorption of errors happens inside it, so its own checks are not all required.
        certainly_true, certainly_false = self.certainly(node, True), self.certainly(node, False)
        checks = self.required(node)
        check = _Check(f"{certainly_true} || {certainly_false}", _first_failure(checks)) if checks else None
        return _Term(f"({certainly_true})", (check,) if check else ())

    def cast(self, node: Call) -> _Term:
        arg = self.term(node.argument)
        source = self.checker.type(node.argument)
        v = arg.value
        what = self.src[node.offset:node.end]
        if node.function == source:
            return arg
        if node.function == "string":
            return _Term(f"string({v})", arg.checks)
        if node.function == "double":
            if isinstance(node.argument, Literal) and source == "int":
                return _Term(_double_literal(float(node.argument.value)), ())  # type: ignore[arg-type]
            if source == "int":
                return _Term(f"float({v})", arg.checks)
            ok = (f"{v} matches {_lit(_GO_FLOAT_RE)}"
                  f" && (sprig.float64({v}) != 0 || {v} matches {_lit(_GO_FLOAT_SMALL_RE)})")
            check = _Check(ok, _fail(f"{what}: the text is not a number"))
            return _Term(f"float({v})", _merge(arg.checks, (check,)), may_be_nan=True)
        if source == "double":  # int() of a double
            ok = f"{v} > -{_INT64_BOUND} && {v} < {_INT64_BOUND}"
            check = _Check(ok, _fail(f"{what}: the number is out of the int64 range"))
            return _Term(f"int({v})", _merge(arg.checks, (check,)))
        # int() of a string: strconv.ParseInt(text, 10, 64).
        bound = f"({v} startsWith '-' ? '{_INT64_MIN_DIGITS}' : '{_INT64_MAX_DIGITS}')"
        digits = f"sprig.regexReplaceAll({_lit('^[+-]?0*')}, {v}, '')"
        in_range = f"all([[{digits}, {bound}]], len(#[0]) < 19 || len(#[0]) == 19 && #[0] <= #[1])"
        check = _Check(f"{v} matches {_lit(_INT_RE)} && {in_range}",
                       _fail(f"{what}: the text is not a base-10 int64"))
        return _Term(f"int({v})", _merge(arg.checks, (check,)))

    def compare(self, node: Binary) -> _Term:
        left, right = self.term(node.left), self.term(node.right)
        checks = _merge(left.checks, right.checks)
        if node.op not in ("==", "!="):
            for side in (left, right):
                if side.may_be_nan:
                    nan = _Check(f"{side.value} == {side.value}", _fail(f"NaN cannot be ordered with {node.op!r}"))
                    checks = _merge(checks, (nan,))
        return _Term(f"({left.value} {node.op} {right.value})", checks)

    # The boolean structure (!, &&, || and the comparisons and bools they combine).

    def leaves(self, node: Node) -> list[_Term]:
        if isinstance(node, Not):
            return self.leaves(node.operand)
        if isinstance(node, Binary) and node.logical:
            return self.leaves(node.left) + self.leaves(node.right)
        return [self.term(node)]

    def required(self, node: Node) -> tuple[_Check, ...]:
        return _merge(*(leaf.checks for leaf in self.leaves(node)))

    def plain(self, node: Node) -> str:
        """The condition, for values whose checks all passed."""
        if isinstance(node, Not):
            return f"!{self.plain(node.operand)}"
        if isinstance(node, Binary) and node.logical:
            return f"({self.plain(node.left)} {node.op} {self.plain(node.right)})"
        return _group(self.term(node).value)

    def certainly(self, node: Node, outcome: bool) -> str:
        """An expression true exactly when CEL evaluates the node to ``outcome`` (false when it
        gives the other bool or an error). It never fails evaluation."""
        if isinstance(node, Not):
            return self.certainly(node.operand, not outcome)
        if isinstance(node, Binary) and node.logical:
            # a && b is true when both are, false when either is (even if the other fails);
            # a || b is true when either is, false when both are.
            joiner = " && " if (node.op == "&&") == outcome else " || "
            return "(" + self.certainly(node.left, outcome) + joiner + self.certainly(node.right, outcome) + ")"
        term = self.term(node)
        value = term.value if outcome else "!" + _group(term.value)
        return f"({_all_of([c.ok for c in term.checks] + [value])})" if term.checks else value

    def translate(self, root: Node) -> str:
        leaves = self.leaves(root)
        checks = self.required(root)
        if not checks:
            return self.plain(root)
        if all(leaf.checks == leaves[0].checks for leaf in leaves):
            # Every part fails exactly when any part does: no failure can be absorbed.
            result = self.plain(root)
            for check in reversed(checks):
                result = f"{_negation(check.ok)} ? {check.fail} : {result}"
            return result
        return (f"{self.certainly(root, True)} ? true : "
                f"({self.certainly(root, False)} ? false : ({_first_failure(checks)}))")


def _balanced(text: str) -> bool:
    """Whether the parentheses of ``text`` pair up, outside string literals."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            i += 1
            while i < n and text[i] != "'":
                i += 2 if text[i] == "\\" else 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False
        i += 1
    return depth == 0


def _decoded(operand: Operand) -> str:
    """An expression giving the operand's typed value: for a canonical operand, its value
    (the wire expression is bound once by ``map`` when the decoding reads it more than once);
    else its value or nil (:func:`decode_wire_expr`)."""
    if not operand.canonical:
        return decode_wire_expr(operand.wire, operand.type)
    once = _canonical_decode("#", operand.type)
    if once.count("#") == 1:
        return _canonical_decode(operand.wire, operand.type)
    return f"map([{operand.wire}], {once})[0]"


def translate(condition: str, operands: Mapping[str, Operand]) -> str:
    """A KFP condition (CEL) as one expr-lang boolean expression, for ``when: "{{=...}}"``.

    Args:
        condition: The task's ``triggerPolicy.condition``.
        operands: The task's inputs by name (the names in ``inputs.parameter_values[...]``),
            each with its IR type, an expr-lang expression giving its wire text and whether
            that text is canonical. Only the inputs the condition reads are used.

    Returns:
        An expression (without the tag's braces) that gives ``true`` or ``false`` where KFP's
        evaluation does, and fails evaluation where KFP's fails (an absent or invalid input, a
        failed conversion, unless CEL's ``&&``/``||`` absorb the failure), with a message that
        names the input or conversion at fault.

    Raises:
        ConditionError: The condition is not valid CEL, uses something outside the subset, reads
            an input not in ``operands`` or a LIST/STRUCT input, or is not well typed.
        ValueError: An operand's wire expression is empty or holds ``{{`` or ``}}``.

    >>> translate("1 < 2 && !('10' > '9')", {})
    "(1 < 2) && !('10' > '9')"
    """
    root = parse(condition)
    checker = _Checker(operands)
    result_type = checker.type(root)
    if result_type != "bool":
        raise ConditionError(f"a condition must give a bool, this one gives a {result_type}", 0)
    names = list(dict.fromkeys(n.name for n in _walk(root) if isinstance(n, Input)))
    for name in names:
        _check_wire_expr(operands[name].wire)
    decoded = {name: _decoded(operands[name]) for name in names}
    # Each input is bound once by map() (as # or #[i]) and read there, unless it is canonical
    # and used once: then its decoding is written in place.
    refs = {name: "#" if len(names) == 1 else f"#[{i}]" for i, name in enumerate(names)}
    body = _Translator(condition, checker, refs, operands).translate(root)
    inline = [n for n in names if operands[n].canonical and _uses(body, refs[n]) == 1
              and _uses(operands[n].wire, "#") + _uses(operands[n].wire, "#[") == 0]
    bound = [n for n in names if n not in inline]
    if inline:
        refs = {n: _group(decoded[n]) for n in inline}
        refs.update({n: "#" if len(bound) == 1 else f"#[{i}]" for i, n in enumerate(bound)})
        body = _Translator(condition, checker, refs, operands).translate(root)
    if body.startswith("(") and body.endswith(")") and _balanced(body[1:-1]):
        body = body[1:-1]
    if not bound:
        expression = body
    elif len(bound) == 1 and decoded[bound[0]].startswith("map([") and decoded[bound[0]].endswith(")[0]") \
            and _postfix_chain(decoded[bound[0]]):
        expression = f"map({decoded[bound[0]][:-3]}, {body})[0]"  # map(map([w], ...), body)[0]
    else:
        values = decoded[bound[0]] if len(bound) == 1 else "[" + ", ".join(decoded[n] for n in bound) + "]"
        expression = f"map([{values}], {body})[0]"
    if "{{" in expression or "}}" in expression:  # cannot happen: literals escape braces
        raise AssertionError(f"expression holds a tag delimiter: {expression}")
    return expression
