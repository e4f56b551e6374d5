"""CEL conditions, second step: the static types of the syntax tree.

Each node is an int, double, string or bool. Inputs take their type from the task's input
parameters as cel-go sees KFP's values (numbers are doubles); everything else the translation
cannot map (unknown inputs, LIST/STRUCT inputs, mixed comparisons, ordered bools) is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from transpiler.cel.syntax import Binary, Call, ConditionError, Input, Literal, Node, Not


_CEL_TYPE_OF_INPUT = {"STRING": "string", "NUMBER_INTEGER": "double", "NUMBER_DOUBLE": "double",
                      "BOOLEAN": "bool"}


class _Checker:
    """Static types of the nodes: int, double, string or bool."""

    def __init__(self, types: Mapping[str, str]):
        self.input_types = types
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
            input_type = self.input_types.get(node.name)
            if input_type is None:
                raise ConditionError(f"the task has no input {node.name!r}", node.offset)
            if input_type in ("LIST", "STRUCT"):
                raise ConditionError(f"input {node.name!r} is a {input_type}, which conditions cannot compare", node.offset)
            if input_type not in _CEL_TYPE_OF_INPUT:
                raise ConditionError(f"input {node.name!r} has the unknown type {input_type!r}", node.offset)
            return _CEL_TYPE_OF_INPUT[input_type]
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


def check_types(root: Node, types: Mapping[str, str]) -> _Checker:
    """Type-check a condition's tree (``types``: input name -> IR type); it must give a bool.

    Raises:
        ConditionError: a type error, or an input the task does not have.
    """
    checker = _Checker(types)
    result_type = checker.type(root)
    if result_type != "bool":
        raise ConditionError(f"a condition must give a bool, this one gives a {result_type}", 0)
    return checker
