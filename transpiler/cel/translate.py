"""CEL conditions, last step: the checked syntax tree as one expr-lang expression.

``transpiler.cel`` (the package docstring) explains how CEL's semantics are kept: errors that
``&&``/``||`` absorb, number types, canonical operands. Every fragment that is not CEL itself
(string literals, wire decoding, grouping) comes from ``transpiler.expr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from transpiler import expr
from transpiler.cel.syntax import Binary, Call, Input, Literal, Node, Not, parse, walk
from transpiler.cel.types import _Checker, check_types

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
    return expr.string("kfp2argo condition failed: " + message)


def _first_failure(checks: tuple[_Check, ...]) -> str:
    """Fails evaluation with the reason of the first check that does not pass (the last one's
    when all pass, which callers rule out)."""
    result = checks[-1].fail
    for check in reversed(checks[:-1]):
        result = f"{expr.negation(check.ok)} ? {check.fail} : ({result})"
    return result


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
                return _Term(expr.string(str(node.value)), ())
            if node.type == "int":
                return _Term(expr.integer(int(node.value)), ())  # type: ignore[call-overload]
            if node.type == "double":
                return _Term(expr.double(float(node.value)), ())  # type: ignore[arg-type]
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
                return _Term(expr.double(float(node.argument.value)), ())  # type: ignore[arg-type]
            if source == "int":
                return _Term(f"float({v})", arg.checks)
            ok = (f"{v} matches {expr.string(_GO_FLOAT_RE)}"
                  f" && (sprig.float64({v}) != 0 || {v} matches {expr.string(_GO_FLOAT_SMALL_RE)})")
            check = _Check(ok, _fail(f"{what}: the text is not a number"))
            return _Term(f"float({v})", _merge(arg.checks, (check,)), may_be_nan=True)
        if source == "double":  # int() of a double
            ok = f"{v} > -{_INT64_BOUND} && {v} < {_INT64_BOUND}"
            check = _Check(ok, _fail(f"{what}: the number is out of the int64 range"))
            return _Term(f"int({v})", _merge(arg.checks, (check,)))
        # int() of a string: strconv.ParseInt(text, 10, 64).
        bound = f"({v} startsWith '-' ? '{_INT64_MIN_DIGITS}' : '{_INT64_MAX_DIGITS}')"
        digits = f"sprig.regexReplaceAll({expr.string('^[+-]?0*')}, {v}, '')"
        in_range = f"all([[{digits}, {bound}]], len(#[0]) < 19 || len(#[0]) == 19 && #[0] <= #[1])"
        check = _Check(f"{v} matches {expr.string(_INT_RE)} && {in_range}",
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
        return expr.group(self.term(node).value)

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
        value = term.value if outcome else "!" + expr.group(term.value)
        return f"({expr.all_of([c.ok for c in term.checks] + [value])})" if term.checks else value

    def translate(self, root: Node) -> str:
        leaves = self.leaves(root)
        checks = self.required(root)
        if not checks:
            return self.plain(root)
        if all(leaf.checks == leaves[0].checks for leaf in leaves):
            # Every part fails exactly when any part does: no failure can be absorbed.
            result = self.plain(root)
            for check in reversed(checks):
                result = f"{expr.negation(check.ok)} ? {check.fail} : {result}"
            return result
        return (f"{self.certainly(root, True)} ? true : "
                f"({self.certainly(root, False)} ? false : ({_first_failure(checks)}))")


def _decoded(operand: Operand) -> str:
    """An expression giving the operand's typed value: for a canonical operand, its value
    (the wire expression is bound once by ``map`` when the decoding reads it more than once);
    else its value or nil (``expr.decode``)."""
    if not operand.canonical:
        return expr.decode(operand.wire, operand.type)
    once = expr.canonical_decode("#", operand.type)
    if once.count("#") == 1:
        return expr.canonical_decode(operand.wire, operand.type)
    return expr.bind(operand.wire, once)


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
    checker = check_types(root, {name: operand.type for name, operand in operands.items()})
    names = list(dict.fromkeys(n.name for n in walk(root) if isinstance(n, Input)))
    for name in names:
        expr.check_no_tag(operands[name].wire)
    decoded = {name: _decoded(operands[name]) for name in names}
    # Each input is bound once by map() (as # or #[i]) and read there, unless it is canonical
    # and used once: then its decoding is written in place.
    refs = {name: "#" if len(names) == 1 else f"#[{i}]" for i, name in enumerate(names)}
    body = _Translator(condition, checker, refs, operands).translate(root)
    inline = [n for n in names if operands[n].canonical and expr.uses(body, refs[n]) == 1
              and expr.uses(operands[n].wire, "#") + expr.uses(operands[n].wire, "#[") == 0]
    bound = [n for n in names if n not in inline]
    if inline:
        refs = {n: expr.group(decoded[n]) for n in inline}
        refs.update({n: "#" if len(bound) == 1 else f"#[{i}]" for i, n in enumerate(bound)})
        body = _Translator(condition, checker, refs, operands).translate(root)
    if body.startswith("(") and body.endswith(")") and expr.balanced(body[1:-1]):
        body = body[1:-1]
    if not bound:
        expression = body
    elif len(bound) == 1 and decoded[bound[0]].startswith("map([") and decoded[bound[0]].endswith(")[0]") \
            and expr.is_postfix_chain(decoded[bound[0]]):
        expression = f"map({decoded[bound[0]][:-3]}, {body})[0]"  # map(map([w], ...), body)[0]
    else:
        values = decoded[bound[0]] if len(bound) == 1 else "[" + ", ".join(decoded[n] for n in bound) + "]"
        expression = expr.bind(values, body)
    return expression
