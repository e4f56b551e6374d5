"""The ``emit`` pass: an Argo manifest (hera model) to deterministic YAML or JSON text.

Rules: keys in a natural reading order (``apiVersion, kind, metadata, spec``; ``name`` first;
then a short list of keys people look for first; then scalars, lists and maps, each group in
the model's order); multi-line strings as ``|`` block scalars; no line wrapping, so ``{{...}}``
references stay whole; a trailing newline. The same model always gives the same bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

import yaml

try:
    from yaml import CSafeDumper as _BaseDumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]

DOCUMENT_KEYS = ("apiVersion", "kind", "metadata", "spec")
FIRST_KEYS = (
    "name",
    "generateName",
    "namespace",
    "entrypoint",
    "serviceAccountName",
    "template",
    "depends",
    "arguments",
    "inputs",
    "outputs",
    "image",
    "command",
    "args",
    "value",
    "default",
    "valueFrom",
    "from",
    "path",
)
_RANK = {key: rank for rank, key in enumerate(FIRST_KEYS)}


class _Dumper(_BaseDumper):  # type: ignore[misc, valid-type]
    pass


# Plain scalars that some YAML reader takes for something other than a string. PyYAML (YAML 1.1)
# quotes its own; these are the ones it would write bare but YAML 1.2's core schema or Go's
# readers (go-yaml v2 under sigs.k8s.io/yaml, which kubectl, the API server and Argo use, and
# go-yaml v3) read as a bool, null, number or timestamp: `1e-5` is a float to YAML 1.2 and Go,
# and a string field given a number is refused ("cannot unmarshal number into ... string").
_OTHER_READERS_WORDS = frozenset({
    "y", "Y", "n", "N", "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
    "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL", "~", "", "<<",
})
_OTHER_READERS_NUMBER = re.compile(
    r"""[-+]?(?:
        [0-9_]+(?:\.[0-9_]*)?(?:[eE][-+]?[0-9_]+)?   # decimal; Go's parsers (and ruamel) allow '_' in digits
      | \.[0-9_]+(?:[eE][-+]?[0-9_]+)?
      | 0[xX][0-9a-fA-F_]+ | 0[oO][0-7_]+ | 0[bB][01_]+   # Go's base prefixes, YAML 1.2 hex and octal
      | [0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?      # YAML 1.1 base 60
      | \.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
    )""",
    re.VERBOSE,
)
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+).*)?")


def reads_as_string_everywhere(value: str) -> bool:
    """Whether a plain (unquoted) scalar is a string to every YAML reader a manifest meets.

    >>> [reads_as_string_everywhere(v) for v in ("--lr", "1e-5", "0x1F", "on", "2026-12-05", "3-day", "v1.2")]
    [True, False, False, False, False, True, True]
    """
    return not (value in _OTHER_READERS_WORDS or _OTHER_READERS_NUMBER.fullmatch(value) or _TIMESTAMP.fullmatch(value))


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        style: str | None = "|"
    elif not reads_as_string_everywhere(value):
        style = "'"
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def to_plain(model: Any) -> dict[str, Any]:
    """A hera model as plain, ordered dicts and lists (the emitted key order)."""
    return order_document(model.model_dump(by_alias=True, exclude_none=True, mode="json"))


def order_document(document: dict[str, Any]) -> dict[str, Any]:
    """A manifest's keys in reading order: ``apiVersion, kind, metadata, spec``, then ``order``."""
    document = order(document)
    first = {key: document[key] for key in DOCUMENT_KEYS if key in document}
    return {**first, **{k: v for k, v in document.items() if k not in first}}


def order(value: Any) -> Any:
    """Recursively order mapping keys for reading.

    >>> list(order({"template": "t", "name": "n", "arguments": {}}))
    ['name', 'template', 'arguments']
    >>> list(order({"z": {"a": 1}, "b": [1], "a": "x", "name": "n"}))
    ['name', 'a', 'b', 'z']
    """
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (_RANK.get(k, len(_RANK)), _group(value[k]) if k not in _RANK else 0))
        return {key: order(value[key]) for key in keys}
    if isinstance(value, list):
        return [order(item) for item in value]
    return value


def _group(value: Any) -> int:
    if isinstance(value, dict):
        return 2
    if isinstance(value, list):
        return 1
    return 0


def to_yaml(document: dict[str, Any]) -> str:
    """Deterministic YAML text of an already ordered document.

    The document is streamed to libyaml's emitter as events, so no node tree of the whole
    manifest is built (on a 10,000-task pipeline that tree is larger than the text itself).

    >>> print(to_yaml({"name": "y", "script": "line 1\\nline 2\\n"}), end="")
    name: 'y'
    script: |
      line 1
      line 2
    """
    return yaml.emit(
        _events(document),
        Dumper=_Dumper,
        allow_unicode=True,
        width=2**31 - 1,
        indent=2,
    )


_REPRESENTER = yaml.representer.SafeRepresenter(default_flow_style=False)
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


def _events(document: dict[str, Any]) -> Iterator[yaml.Event]:
    yield yaml.StreamStartEvent()
    yield yaml.DocumentStartEvent(explicit=False)
    yield from _value_events(document)
    yield yaml.DocumentEndEvent(explicit=False)
    yield yaml.StreamEndEvent()


def _value_events(value: Any) -> Iterator[yaml.Event]:
    """The events PyYAML's SafeRepresenter and serializer would make for ``value`` (block style,
    strings styled by ``_represent_str``), without building nodes for collections."""
    if isinstance(value, dict):
        yield yaml.MappingStartEvent(None, None, True, flow_style=False)
        for key, item in value.items():
            yield _scalar_event(key)
            yield from _value_events(item)
        yield yaml.MappingEndEvent()
    elif isinstance(value, list):
        yield yaml.SequenceStartEvent(None, None, True, flow_style=False)
        for item in value:
            yield from _value_events(item)
        yield yaml.SequenceEndEvent()
    else:
        yield _scalar_event(value)


def _scalar_event(value: Any) -> yaml.ScalarEvent:
    if isinstance(value, str):
        node = _represent_str(_REPRESENTER, value)
    else:
        node = _REPRESENTER.represent_data(value)
    implicit = (
        node.tag == _RESOLVER.resolve(yaml.ScalarNode, node.value, (True, False)),
        node.tag == _RESOLVER.resolve(yaml.ScalarNode, node.value, (False, True)),
    )
    return yaml.ScalarEvent(None, None, implicit, node.value, style=node.style)


def to_json(document: dict[str, Any]) -> str:
    """Deterministic, indented JSON text with a trailing newline."""
    return json_text(document, indent=2) + "\n"


# What YAML may hold unescaped (YAML 1.2 "c-printable"); the YAML readers of Go and Python refuse
# anything else even inside a JSON string, so it is written as a \u escape.
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def json_text(value: Any, **options: Any) -> str:
    """JSON text that every YAML reader also reads: non-ASCII kept, characters YAML refuses
    (DEL, C1 controls, U+FFFE, lone surrogates) escaped."""
    return _NOT_PRINTABLE.sub(lambda m: "\\u%04x" % ord(m.group()), json.dumps(value, ensure_ascii=False, **options))
