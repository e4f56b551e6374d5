"""The ``emit`` pass: an Argo manifest (hera model) to deterministic YAML or JSON text.

Rules: keys in a natural reading order (``apiVersion, kind, metadata, spec``; ``name`` first;
then a short list of keys people look for first; then scalars, lists and maps, each group in
the model's order); multi-line strings as ``|`` block scalars; no line wrapping, so ``{{...}}``
references stay whole; a trailing newline. The same model always gives the same bytes.
"""

from __future__ import annotations

import json
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


# YAML 1.1 booleans that PyYAML writes bare but Go's YAML reader (Kubernetes, Argo) reads as bool.
_GO_YAML_BOOLEANS = frozenset({"y", "Y", "n", "N"})


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        style: str | None = "|"
    elif value in _GO_YAML_BOOLEANS:
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
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
