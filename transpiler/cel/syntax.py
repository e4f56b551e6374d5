"""CEL conditions, first step: tokens and the syntax tree of the subset KFP writes.

A real tokenizer (CEL's lexical rules: all quote forms, escapes, raw strings, numbers) and a
recursive-descent parser; anything outside the subset is a :class:`ConditionError` with the
character offset where it starts.
"""

from __future__ import annotations

from dataclasses import dataclass


class ConditionError(ValueError):
    """A condition that cannot be translated: ``message`` (one sentence) and ``offset`` (the
    0-based character offset in the condition text where the problem is)."""

    def __init__(self, message: str, offset: int):
        super().__init__(f"{message} (at character {offset + 1})")
        self.message = message
        self.offset = offset


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
    for node in walk(parse(condition)):
        if isinstance(node, Input) and node.name not in names:
            names.append(node.name)
    return tuple(names)


def walk(node: Node):
    """Every node of the tree, depth first."""
    yield node
    if isinstance(node, Call):
        yield from walk(node.argument)
    elif isinstance(node, Not):
        yield from walk(node.operand)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
