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

from transpiler.cel.syntax import ConditionError, input_names, parse
from transpiler.cel.translate import Operand, translate
from transpiler.cel.types import check_types

__all__ = ["ConditionError", "Operand", "check", "input_names", "parse", "translate"]


def check(condition: str, types: Mapping[str, str]) -> None:
    """Refuse a condition :func:`translate` could not translate, before any operand exists.

    ``types`` maps the task's input names to their IR parameter types.

    Raises:
        ConditionError: what :func:`translate` would raise for operands of these types.

    >>> check("inputs.parameter_values['n'] > 1", {"n": "NUMBER_INTEGER"})
    >>> check("size(inputs.parameter_values['s']) > 1", {"s": "STRING"})
    Traceback (most recent call last):
    ...
    transpiler.cel.syntax.ConditionError: 'size' is not a function KFP conditions use (supported: int(), double(), string()) (at character 1)
    """
    check_types(parse(condition), types)
