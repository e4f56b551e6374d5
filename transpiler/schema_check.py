"""A fast JSON Schema check of the IR, giving the same errors as ``jsonschema``.

``validate`` checks every input against ``schemas/pipeline_spec.schema.json``. With
``jsonschema.Draft202012Validator`` that check was more than half of the compile time of a
1000-task pipeline (issue 17): the pure-Python validator re-reads the schema, resolves every
``$ref`` and builds generators at every node of the document, on every call.

This module compiles the schema once (lazily, per entry definition) into nested Python closures:
each ``$ref`` is resolved once, each regex compiled once, and ``properties`` with
``additionalProperties`` check an object in one walk over its keys. It implements exactly the
keywords the generated schema uses (``type``, ``$ref``, ``properties``, ``additionalProperties``,
``items``, ``dependentSchemas``, ``not``, ``if``/``then``/``else``, ``enum``, ``pattern``,
``minimum``, ``maximum``) with jsonschema's semantics and messages. A definition that uses
anything else is handed to jsonschema whole (:func:`uses_fast_path` says which is used).

Each :class:`Error` carries what ``validate`` reads from a ``jsonschema.ValidationError``:
``validator``, ``message``, ``schema``, ``validator_value``, ``instance``, ``absolute_path``.
Errors of one instance location come in jsonschema's order; errors of different locations may
come in another order (``validate`` sorts them).
"""

from __future__ import annotations

import json
import numbers
import re
from collections import deque
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Callable, Iterator, Optional

from transpiler import data

# Keywords jsonschema ignores (annotations); any other keyword not compiled below means fallback.
_ANNOTATIONS = {"title", "description", "$comment", "deprecated", "default", "examples", "readOnly", "writeOnly"}
_ROOT_ONLY = {"$schema", "$defs"}
_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_WALKED = {"object": ("properties", "additionalProperties"), "array": ("items",)}
_REF_PREFIX = "#/$defs/"


class Error:
    """One schema violation, with the attributes of ``jsonschema.ValidationError`` that
    ``validate`` uses."""

    __slots__ = ("validator", "message", "schema", "validator_value", "instance", "path")

    def __init__(self, validator: str | None, message: str, schema: Any, validator_value: Any, instance: Any) -> None:
        self.validator = validator
        self.message = message
        self.schema = schema
        self.validator_value = validator_value
        self.instance = instance
        self.path: deque[str | int] = deque()

    @property
    def absolute_path(self) -> deque[str | int]:
        return self.path

    relative_path = absolute_path

    def __repr__(self) -> str:
        return f"<Error {self.validator} at {list(self.path)}: {self.message}>"


# A check takes an instance and returns a new list of errors, or None (or []) when it is valid.
# A schema that accepts everything compiles to None instead of a check.
Check = Callable[[Any], Optional[list]]


class Unsupported(Exception):
    """The schema uses something this module does not implement."""


def iter_errors(definition: str, document: Any) -> Iterator[Any]:
    """The errors of ``document`` against ``#/$defs/<definition>`` of the IR schema: this
    module's :class:`Error` objects, or jsonschema's when the definition needs the fallback."""
    check = _compiled(definition)
    if check is None:
        return _reference(definition).iter_errors(document)
    return iter(check(document) or ())


def uses_fast_path(definition: str) -> bool:
    """Whether :func:`iter_errors` checks ``definition`` itself (not through jsonschema)."""
    return _compiled(definition) is not None


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return json.loads(data.read_text("schemas", "pipeline_spec.schema.json"))


def _entry(definition: str) -> dict[str, Any]:
    """The schema as validate.py hands it to jsonschema for one entry definition."""
    return {**_schema(), "$ref": _REF_PREFIX + definition}


@lru_cache(maxsize=None)
def _compiled(definition: str) -> Check | None:
    try:
        return compile_schema(_entry(definition))
    except Unsupported:
        return None


@lru_cache(maxsize=None)
def _reference(definition: str) -> Any:
    import jsonschema  # only when the fast path cannot be used

    return jsonschema.Draft202012Validator(_entry(definition))


def compile_schema(root: dict[str, Any]) -> Check:
    """Compile a whole schema (its ``$ref`` into its own ``$defs``) into one check.

    Raises:
        Unsupported: the schema uses a keyword, type or reference this module does not implement.
    """
    if not isinstance(root, dict) or not isinstance(root.get("$defs", {}), dict):
        raise Unsupported("the root is not an object")
    if root.get("$schema", _DIALECT) != _DIALECT:
        raise Unsupported(f"$schema {root['$schema']!r}")
    check = _Compiler(root.get("$defs", {})).node(root, root=True)
    return check or _valid


def _valid(instance: Any) -> None:
    return None


class _Compiler:
    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.compiled: dict[str, Check | None] = {}
        self.compiling: set[str] = set()

    def node(self, schema: Any, root: bool = False) -> Check | None:
        if schema is True:
            return None
        if schema is False:  # jsonschema leaves the key holding it out of the error's path
            raise Unsupported("a false schema")
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        fused = _fused_type(schema)
        checks = []
        for key, value in schema.items():
            if key in _ANNOTATIONS or key.startswith("x-") or key in ("then", "else") or (root and key in _ROOT_ONLY):
                continue
            if key == "type" and fused:  # the walk checks the type too, in the place of `type`
                checks.append(self.members(schema, typed=True) if fused == "object" else self.items(schema["items"], schema))
                continue
            if fused and key in _WALKED[fused]:
                continue
            if key in ("properties", "additionalProperties"):
                if key == "properties" or "properties" not in schema:
                    checks.append(self.members(schema, typed=False))  # one check for both keywords
                continue
            keyword = _KEYWORDS.get(key)
            if keyword is None:
                raise Unsupported(f"keyword {key!r}")
            checks.append(keyword(self, value, schema))
        return _all([check for check in checks if check is not None])

    def ref(self, ref: Any, schema: dict[str, Any]) -> Check | None:
        name = ref[len(_REF_PREFIX):] if isinstance(ref, str) and ref.startswith(_REF_PREFIX) else None
        # "~" and "%" would need JSON pointer / URI unescaping; the generated names have neither.
        if name is None or "/" in name or "~" in name or "%" in name or name not in self.defs:
            raise Unsupported(f"$ref {ref!r}")
        if name in self.compiled:
            return self.compiled[name]
        if name in self.compiling:  # a cycle: look the check up when it runs
            return lambda instance: (self.compiled[name] or _valid)(instance)
        self.compiling.add(name)
        self.compiled[name] = self.node(self.defs[name])
        self.compiling.discard(name)
        return self.compiled[name]

    def type(self, types: Any, schema: dict[str, Any]) -> Check:
        names = [types] if isinstance(types, str) else types
        if not isinstance(names, list) or not names or any(name not in _TYPES for name in names):
            raise Unsupported(f"type {types!r}")
        tests = [_TYPES[name] for name in names]
        expected = ", ".join(map(repr, names))
        single = _CLASSES.get(names[0]) if len(names) == 1 else None
        if single is not None:  # the common case, without a call per test

            def check_class(instance: Any) -> list | None:
                if isinstance(instance, single):
                    return None
                return [Error("type", f"{instance!r} is not of type {expected}", schema, types, instance)]

            return check_class

        def check(instance: Any) -> list | None:
            for test in tests:
                if test(instance):
                    return None
            return [Error("type", f"{instance!r} is not of type {expected}", schema, types, instance)]

        return check

    def members(self, schema: dict[str, Any], typed: bool) -> Check:
        """``properties`` and ``additionalProperties`` (and ``type: object`` when ``typed``)."""
        properties = schema.get("properties", {})
        extra_schema = schema.get("additionalProperties", True)
        if not isinstance(properties, dict) or not isinstance(extra_schema, (bool, dict)):
            raise Unsupported("properties / additionalProperties")
        checks = {name: self.node(sub) for name, sub in properties.items()}
        closed = extra_schema is False
        extra = None if closed else self.node(extra_schema)
        missing = object()

        def check(instance: Any) -> list | None:
            if not isinstance(instance, dict):
                return [Error("type", f"{instance!r} is not of type 'object'", schema, "object", instance)] if typed else None
            errors = None
            unexpected = None
            for key, value in instance.items():
                sub = checks.get(key, missing)
                if sub is missing:
                    if closed:
                        unexpected = [key] if unexpected is None else unexpected + [key]
                        continue
                    sub = extra
                if sub is not None:
                    found = sub(value)
                    if found:
                        for error in found:
                            error.path.appendleft(key)
                        errors = found if errors is None else errors + found
            if unexpected:
                extras = sorted(unexpected, key=str)
                verb = "was" if len(extras) == 1 else "were"
                message = f"Additional properties are not allowed ({', '.join(map(repr, extras))} {verb} unexpected)"
                errors = [Error("additionalProperties", message, schema, False, instance)] + (errors or [])
            return errors

        return check

    def dependent_schemas(self, dependents: Any, schema: dict[str, Any]) -> Check | None:
        if not isinstance(dependents, dict):
            raise Unsupported("dependentSchemas")
        pairs = [(name, sub) for name, sub in ((name, self.node(sub)) for name, sub in dependents.items()) if sub is not None]
        if not pairs:
            return None

        def check(instance: Any) -> list | None:
            if not isinstance(instance, dict):
                return None
            errors = None
            for name, sub in pairs:
                if name in instance:
                    found = sub(instance)
                    if found:
                        errors = found if errors is None else errors + found
            return errors

        return check

    def items(self, items: Any, schema: dict[str, Any]) -> Check | None:
        if items is False:  # jsonschema words this one differently; the IR schema never says it
            raise Unsupported("items: false")
        sub = self.node(items)
        typed = _fused_type(schema) == "array"
        if sub is None and not typed:
            return None

        def check(instance: Any) -> list | None:
            if not isinstance(instance, list):
                return [Error("type", f"{instance!r} is not of type 'array'", schema, "array", instance)] if typed else None
            if sub is None:
                return None
            errors = None
            for index, item in enumerate(instance):
                found = sub(item)
                if found:
                    for error in found:
                        error.path.appendleft(index)
                    errors = found if errors is None else errors + found
            return errors

        return check

    def not_(self, not_schema: Any, schema: dict[str, Any]) -> Check:
        sub = self.node(not_schema)
        shown = repr(not_schema)

        def check(instance: Any) -> list | None:
            if sub is None or not sub(instance):
                return [Error("not", f"{instance!r} should not be valid under {shown}", schema, not_schema, instance)]
            return None

        return check

    def if_(self, if_schema: Any, schema: dict[str, Any]) -> Check | None:
        condition = self.node(if_schema)
        then = self.node(schema["then"]) if "then" in schema else None
        otherwise = self.node(schema["else"]) if "else" in schema else None
        if then is None and otherwise is None:
            return None

        def check(instance: Any) -> list | None:
            branch = then if condition is None or not condition(instance) else otherwise
            return branch(instance) if branch is not None else None

        return check

    def enum(self, values: Any, schema: dict[str, Any]) -> Check:
        if not isinstance(values, list):
            raise Unsupported("enum")
        shown = repr(values)
        # Set membership agrees with jsonschema's equality for strings and numbers, but not for
        # bools (True == 1): those, and everything unhashable, take the slow path.
        fast = set(value for value in values if type(value) in (str, int, float))

        def check(instance: Any) -> list | None:
            if type(instance) in (str, int) and instance in fast:
                return None
            if any(_equal(value, instance) for value in values):
                return None
            return [Error("enum", f"{instance!r} is not one of {shown}", schema, values, instance)]

        return check

    def pattern(self, pattern: Any, schema: dict[str, Any]) -> Check:
        if not isinstance(pattern, str):
            raise Unsupported("pattern")
        search = re.compile(pattern).search

        def check(instance: Any) -> list | None:
            if isinstance(instance, str) and not search(instance):
                return [Error("pattern", f"{instance!r} does not match {pattern!r}", schema, pattern, instance)]
            return None

        return check

    def minimum(self, bound: Any, schema: dict[str, Any]) -> Check:
        return _bound("minimum", bound, schema, "less than the minimum")

    def maximum(self, bound: Any, schema: dict[str, Any]) -> Check:
        return _bound("maximum", bound, schema, "greater than the maximum")


def _bound(keyword: str, bound: Any, schema: dict[str, Any], words: str) -> Check:
    if not _is_number(bound):
        raise Unsupported(keyword)
    below = keyword == "minimum"

    def check(instance: Any) -> list | None:
        if _is_number(instance) and (instance < bound if below else instance > bound):
            return [Error(keyword, f"{instance!r} is {words} of {bound!r}", schema, bound, instance)]
        return None

    return check


def _fused_type(schema: dict[str, Any]) -> str | None:
    """The type (object or array) that the object walk or the items check also checks, instead
    of a separate ``type`` check: when the instance is not of that type, the walk has nothing else
    to report, just as jsonschema's keywords then ignore it."""
    kind = schema.get("type")
    if kind == "object" and ("properties" in schema or "additionalProperties" in schema):
        return kind
    if kind == "array" and "items" in schema:
        return kind
    return None


def _all(checks: list[Check]) -> Check | None:
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]

    def check(instance: Any) -> list | None:
        errors = None
        for each in checks:
            found = each(instance)
            if found:
                errors = found if errors is None else errors + found
        return errors

    return check


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) or (not isinstance(value, bool) and isinstance(value, numbers.Number))


def _is_integer(value: Any) -> bool:
    if type(value) is int:
        return True
    if isinstance(value, float):
        return value.is_integer()  # Draft 2020-12: 3.0 is an integer
    return isinstance(value, int) and not isinstance(value, bool)


# JSON types that are one Python class each ("integer" and "number" are not: a bool is an int).
_CLASSES = {"object": dict, "array": list, "string": str, "boolean": bool}

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}


def _equal(one: Any, two: Any) -> bool:
    """jsonschema's equality: bools are not numbers, also inside lists and objects."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(key in two and _equal(one[key], two[key]) for key in one)
    if isinstance(one, bool) or isinstance(two, bool):
        return False  # `one is two` above covered two equal bools
    return bool(one == two)


_KEYWORDS: dict[str, Callable[[_Compiler, Any, dict[str, Any]], Check | None]] = {
    "$ref": _Compiler.ref,
    "type": _Compiler.type,
    "dependentSchemas": _Compiler.dependent_schemas,
    "items": _Compiler.items,
    "not": _Compiler.not_,
    "if": _Compiler.if_,
    "enum": _Compiler.enum,
    "pattern": _Compiler.pattern,
    "minimum": _Compiler.minimum,
    "maximum": _Compiler.maximum,
}
