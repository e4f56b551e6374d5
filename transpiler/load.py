"""The ``load`` pass: bytes to plain dicts, keeping source positions for diagnostics.

Accepts what ``kfp.compiler.Compiler().compile`` writes (a PipelineSpec, optionally followed by
a platform-spec document), in YAML or JSON, and the PipelineJob-style wrapper with a
``pipelineSpec:`` key whose ``runtimeConfig.parameterValues`` override parameter defaults.

YAML is composed into nodes first (libyaml's C parser when available) and converted to plain
Python values here, so that every value's line and column stay known: a diagnostic names the
file, line and JSON pointer. Anchors and aliases are refused: KFP never writes them, and they
are how a small file expands into a huge one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import yaml

from transpiler.errors import Diagnostic, LoadError, escape_pointer_token

try:  # libyaml's C parser; PyYAML falls back to pure Python without it
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_INPUT_BYTES = 32 * 1024 * 1024

_SCALAR_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_BINARY_TAG = "tag:yaml.org,2002:binary"

MSG_EMPTY = "The input is empty. Expected a PipelineSpec written by the KFP SDK (YAML or JSON)"
MSG_NOT_TEXT = "The input is not UTF-8 text (it looks like a binary file). Expected a PipelineSpec in YAML or JSON"
MSG_TOO_LARGE = "The input is {size} bytes, more than the {limit} bytes kfp2argo reads. Split the pipeline or check the file"
MSG_BAD_YAML = "The input is not valid YAML or JSON: {problem}"
MSG_ALIAS = "YAML anchors and aliases are not supported (the KFP SDK never writes them). Write the value out in full"
MSG_DUPLICATE_KEY = "Duplicate key {key!r}. Each key may appear once"
MSG_NON_STRING_KEY = "Mapping keys must be strings, got {kind}. Quote the key"
MSG_NOT_MAPPING = "The document is a {kind}, not a mapping. Expected a PipelineSpec (with pipelineInfo, root, components, deploymentSpec)"
MSG_NOT_PIPELINE = "This document is not a PipelineSpec: it has none of pipelineInfo, root, components, deploymentSpec. Compile the pipeline with kfp.compiler.Compiler().compile"
MSG_PLATFORM_FIRST = "The first document is a platform spec; the PipelineSpec must come first"
MSG_SECOND_DOC = "The second document must be a platform spec (a mapping with a 'platforms' key)"
MSG_TOO_MANY_DOCS = "The input has {count} YAML documents; expected a PipelineSpec optionally followed by one platform spec"
MSG_NESTING = "The input is nested too deeply to be a KFP pipeline"
MSG_SCALAR = "The value {value!r} cannot be read as {tag}: {problem}"


@dataclass(frozen=True)
class Source:
    """A loaded input: the PipelineSpec, the optional platform spec, and where they came from.

    ``spec_pointer`` is the JSON pointer of the PipelineSpec inside its document: ``""`` for a
    bare spec, ``"/pipelineSpec"`` inside a PipelineJob wrapper. Pointers in diagnostics are
    always relative to the document, so they point at the right place in the user's file.
    """

    file: str
    pipeline_spec: dict[str, Any]
    platform_spec: dict[str, Any] | None = None
    runtime_parameters: dict[str, Any] = field(default_factory=dict)  # a PipelineJob's parameter values
    spec_pointer: str = ""
    runtime_pointers: dict[str, str] = field(default_factory=dict)  # where each runtime parameter value is
    job: dict[str, Any] | None = None  # a PipelineJob wrapper, without its pipelineSpec
    nodes: Any = ()  # the documents' YAML nodes (a _LazyNodes: composed when first needed)

    def locate(self, pointer: str, document: int = 0) -> tuple[int | None, int | None]:
        """Line and column (1-based) of the value at ``pointer`` in ``document``, if known."""
        if document >= len(self.nodes):
            return None, None
        return locate(self.nodes[document], pointer)

    def positions_only(self) -> "Source":
        """This source without the documents' values, for passes after ``parse`` that only
        locate diagnostics: on a large pipeline the values are the biggest thing in memory."""
        return replace(self, pipeline_spec={}, platform_spec=None)

    def diagnostic(self, message: str, pointer: str, document: int = 0) -> Diagnostic:
        """A diagnostic for ``pointer`` (relative to the document) with its line and column."""
        line, column = self.locate(pointer, document)
        return Diagnostic(message, pointer, self.file, line, column, document)

    def spec_diagnostic(self, message: str, pointer: str) -> Diagnostic:
        """A diagnostic for ``pointer`` relative to the PipelineSpec (wrapper-aware)."""
        return self.diagnostic(message, self.spec_pointer + pointer, 0)


def load(data: bytes | str, file: str = "<input>") -> Source:
    """Read a KFP IR document from bytes or text.

    Args:
        data: the file's content.
        file: the name used in diagnostics (``-`` or ``<stdin>`` for standard input).

    Returns:
        The loaded :class:`Source`.

    Raises:
        LoadError: the input is empty, binary, too large, not YAML/JSON, or not a pipeline.

    >>> source = load("pipelineInfo: {name: p}\\nroot: {dag: {tasks: {}}}\\n", "p.yaml")
    >>> source.pipeline_spec["pipelineInfo"]["name"]
    'p'
    >>> load("", "e.yaml")
    Traceback (most recent call last):
    ...
    transpiler.errors.LoadError: e.yaml: /: The input is empty. Expected a PipelineSpec written by the KFP SDK (YAML or JSON)
    """
    text = _decode(data, file)
    return _classify(_build(text, file), _LazyNodes(text, file), file)


def load_yaml(text: str, file: str) -> tuple[Any, Callable[[str], tuple[int | None, int | None]]]:
    """One YAML or JSON document that is not the IR (e.g. the config file): its plain value
    (``None`` when empty) and a function giving the line and column of a JSON pointer in it.
    Same refusals as :func:`load` (syntax errors, aliases, duplicate or non-string keys), each
    located.

    Raises:
        LoadError: the text is not one valid YAML document.
    """
    if not text.strip():
        return None, lambda pointer: (None, None)
    documents = _build(text, file)
    nodes = _LazyNodes(text, file)
    if len(documents) > 1:
        mark = nodes[1].start_mark
        raise _fail(file, MSG_TOO_MANY_DOCS.format(count=len(documents)).split(";")[0] + "; expected one", mark.line + 1, mark.column + 1)
    return documents[0], lambda pointer: locate(nodes[0], pointer)


def locate(node: Any, pointer: str) -> tuple[int | None, int | None]:
    """Line and column (1-based) of the value at ``pointer`` under a YAML node (the nearest enclosing value when the pointer goes further than the document)."""
    if node is None:
        return None, None
    best = node
    for token in _pointer_tokens(pointer):
        node = _child_node(node, token)
        if node is None:
            break
        best = node
    return best.start_mark.line + 1, best.start_mark.column + 1


class _LazyNodes:
    """The node trees of a text's documents, composed on first use: only diagnostics need
    positions, and on a large pipeline the tree costs several times the memory of its values."""

    def __init__(self, text: str, file: str) -> None:
        self._text = text
        self._file = file
        self._nodes: list[Any] | None = None

    def _get(self) -> list[Any]:
        if self._nodes is None:
            self._nodes = _compose(self._text, self._file)
        return self._nodes

    def __len__(self) -> int:
        return len(self._get())

    def __getitem__(self, index: int) -> Any:
        return self._get()[index]


def _fail(file: str, message: str, line: int | None = None, column: int | None = None, pointer: str = "") -> LoadError:
    return LoadError([Diagnostic(message, pointer, file, line, column)])


def _decode(data: bytes | str, file: str) -> str:
    if isinstance(data, str):
        size = len(data.encode("utf-8", "surrogatepass"))
        text = data
    else:
        size = len(data)
        if size > MAX_INPUT_BYTES:
            raise _fail(file, MSG_TOO_LARGE.format(size=size, limit=MAX_INPUT_BYTES))
        if b"\x00" in data[:8192]:
            raise _fail(file, MSG_NOT_TEXT)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _fail(file, MSG_NOT_TEXT) from None
    if size > MAX_INPUT_BYTES:
        raise _fail(file, MSG_TOO_LARGE.format(size=size, limit=MAX_INPUT_BYTES))
    if "\x00" in text[:8192]:
        raise _fail(file, MSG_NOT_TEXT)
    if not text.strip():
        raise _fail(file, MSG_EMPTY)
    return text


def _compose(text: str, file: str) -> list[Any]:
    try:
        nodes = [node for node in yaml.compose_all(text, Loader=_Loader) if node is not None and not _empty_document(node)]
    except yaml.YAMLError as err:
        raise _syntax_error(err, file) from None
    except RecursionError:
        raise _fail(file, MSG_NESTING) from None
    if not nodes:
        raise _fail(file, MSG_EMPTY)
    return nodes


MAX_DEPTH = 256  # far beyond any IR; keeps a hostile input from exhausting the stack


def _build(text: str, file: str) -> list[Any]:
    """The documents of ``text`` as plain values, built straight from libyaml's event stream.

    No node tree is kept (it costs several times the values' memory on large pipelines); a
    diagnostic that needs a position composes the nodes again (``Source.nodes``). Aliases,
    duplicate keys, non-string keys and absurd nesting are refused here, with their position.
    """
    documents: list[Any] = []
    strings: dict[str, str] = {}  # one object per distinct string: KFP repeats executor bodies per task
    # JSON (what the SDK writes to a .json file) is read as JSON: 1e-05 is a number there, a string in YAML 1.1.
    json_text = text.lstrip()[:1] in ("{", "[")
    # Open collections; for a mapping, the key waiting for its value (_NO_KEY: none).
    stack: list[list[Any]] = []
    try:
        for event in yaml.parse(text, Loader=_Loader):
            kind = type(event)
            if kind is yaml.ScalarEvent:
                try:
                    value: Any = _event_scalar(event, json_text)
                except (ValueError, KeyError, IndexError, TypeError, OverflowError, yaml.YAMLError) as err:
                    tag = (event.tag or "a value").rsplit(":", 1)[-1]
                    reason = "unknown value" if isinstance(err, KeyError) else str(err).splitlines()[0][:200]
                    problem = MSG_SCALAR.format(value=event.value[:80], tag=tag, problem=reason)
                    raise _fail(file, problem, *_position(event), _stack_pointer(stack + [[None, None, None]])) from None
                if type(value) is str:
                    value = strings.setdefault(value, value)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if len(stack) >= MAX_DEPTH:
                    raise _fail(file, MSG_NESTING, *_position(event), _stack_pointer(stack))
                stack.append([{} if kind is yaml.MappingStartEvent else [], _NO_KEY, event])
                continue
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                value = stack.pop()[0]
            elif kind is yaml.AliasEvent:
                raise _fail(file, MSG_ALIAS, *_position(event), _stack_pointer(stack))
            else:
                continue
            if not stack:
                if not (kind is yaml.ScalarEvent and event.value == "" and event.implicit[0]):  # empty document
                    documents.append(value)
                continue
            top = stack[-1]
            container = top[0]
            if type(container) is list:
                container.append(value)
            elif top[1] is _NO_KEY:
                if not isinstance(value, str):
                    what = "a collection" if kind is not yaml.ScalarEvent else type(value).__name__
                    raise _fail(file, MSG_NON_STRING_KEY.format(kind=what), *_position(event if kind is yaml.ScalarEvent else None, top), _stack_pointer(stack))
                if value in container:
                    raise _fail(file, MSG_DUPLICATE_KEY.format(key=value), *_position(event), _stack_pointer(stack))
                top[1] = value
            else:
                container[top[1]] = value
                top[1] = _NO_KEY
    except yaml.YAMLError as err:
        raise _syntax_error(err, file) from None
    if not documents:
        raise _fail(file, MSG_EMPTY)
    return documents


def _syntax_error(err: yaml.YAMLError, file: str) -> LoadError:
    """The located diagnostic of a YAML syntax error."""
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        problem = " ".join(str(p) for p in (err.context, err.problem) if p)
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        if "nesting depth" in problem:  # libyaml's own limit (PyYAML >= 6.0.2), met before MAX_DEPTH
            return _fail(file, MSG_NESTING, line, column)
        return _fail(file, MSG_BAD_YAML.format(problem=problem or "syntax error"), line, column)
    return _fail(file, MSG_BAD_YAML.format(problem=str(err).splitlines()[0]))


def _empty_document(node: Any) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.value == "" and not node.style


_NO_KEY = object()
_JSON_LITERAL = re.compile(r"true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


def _event_scalar(event: Any, json_text: bool = False) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        if not event.implicit[0]:  # quoted: a string, as the resolver would say
            return event.value
        if json_text and _JSON_LITERAL.fullmatch(event.value):
            return json.loads(event.value)
        tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == _STR_TAG:
        return event.value
    return _scalar(yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style))


def _position(event: Any, top: list[Any] | None = None) -> tuple[int | None, int | None]:
    mark = event.start_mark if event is not None else (top[2].start_mark if top else None)
    return (mark.line + 1, mark.column + 1) if mark else (None, None)


def _stack_pointer(stack: list[list[Any]]) -> str:
    """The JSON pointer of the collection being built (for diagnostics only)."""
    tokens = []
    for container, key, _ in stack[:-1]:
        tokens.append(len(container) if type(container) is list else key)
    return "".join("/" + escape_pointer_token(t) for t in tokens)


def _scalar(node: Any) -> Any:
    if node.tag in (_TIMESTAMP_TAG, _BINARY_TAG):
        return node.value
    if node.tag.startswith("tag:yaml.org,2002:"):
        return _SCALAR_CONSTRUCTOR.construct_object(node, deep=True)
    return node.value


def _classify(values: list[Any], nodes: Any, file: str) -> Source:
    first = values[0]
    if not isinstance(first, dict):
        raise _fail(file, MSG_NOT_MAPPING.format(kind=_kind(first)), 1, 1)
    if len(values) > 2:
        mark = nodes[2].start_mark
        raise _fail(file, MSG_TOO_MANY_DOCS.format(count=len(values)), mark.line + 1, mark.column + 1)
    platform = None
    if len(values) == 2:
        platform = values[1]
        if not isinstance(platform, dict) or "platforms" not in platform:
            mark = nodes[1].start_mark
            raise LoadError([Diagnostic(MSG_SECOND_DOC, "", file, mark.line + 1, mark.column + 1, 1)])
    if "pipelineSpec" in first:
        return _from_wrapper(first, platform, nodes, file)
    if "platforms" in first and not _looks_like_spec(first):
        raise _fail(file, MSG_PLATFORM_FIRST, 1, 1)
    if not _looks_like_spec(first):
        raise _fail(file, MSG_NOT_PIPELINE, 1, 1)
    return Source(file, first, platform, nodes=nodes)


def _from_wrapper(job: dict[str, Any], platform: Any, nodes: Any, file: str) -> Source:
    spec = job["pipelineSpec"]
    if not isinstance(spec, dict) or not _looks_like_spec(spec):
        line, column = _locate_key(nodes[0], "pipelineSpec")
        raise _fail(file, MSG_NOT_PIPELINE, line, column, "/pipelineSpec")
    values, pointers = _runtime_parameters(job.get("runtimeConfig"))
    return Source(
        file,
        spec,
        platform,
        runtime_parameters=values,
        spec_pointer="/pipelineSpec",
        runtime_pointers=pointers,
        job={k: v for k, v in job.items() if k != "pipelineSpec"},
        nodes=nodes,
    )


def _runtime_parameters(runtime: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """A PipelineJob's parameter values and their pointers: ``parameterValues`` (JSON values),
    over the deprecated ``parameters`` (``{intValue|doubleValue|stringValue}``, which KFP's
    early v2 compiler wrote). A value of the wrong shape is left as it is, for validate to refuse."""
    if not isinstance(runtime, dict):
        return {}, {}
    values: dict[str, Any] = {}
    pointers: dict[str, str] = {}
    for key, convert in (("parameters", _typed_value), ("parameterValues", lambda v: v)):
        given = runtime.get(key)
        for name, value in (given.items() if isinstance(given, dict) else ()):
            values[name] = convert(value)
            pointers[name] = f"/runtimeConfig/{key}/{escape_pointer_token(name)}"
    return values, pointers


def _typed_value(value: Any) -> Any:
    """An ``ml_pipelines.Value`` as a plain value (int64 is a string in protobuf's JSON)."""
    if isinstance(value, dict) and len(value) == 1:
        kind, inner = next(iter(value.items()))
        if kind == "intValue" and isinstance(inner, (int, str)) and str(inner).lstrip("-").isdigit():
            return int(inner)
        if kind in ("doubleValue", "stringValue"):
            return inner
    return value


def _looks_like_spec(doc: dict[str, Any]) -> bool:
    return any(key in doc for key in ("pipelineInfo", "root", "components", "deploymentSpec"))


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "scalar")


def _locate_key(node: Any, key: str) -> tuple[int | None, int | None]:
    child = _child_node(node, key)
    return (child.start_mark.line + 1, child.start_mark.column + 1) if child is not None else (None, None)


def _pointer_tokens(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _child_node(node: Any, token: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == token:
                return value_node
        return None
    if isinstance(node, yaml.SequenceNode) and token.isdigit() and int(token) < len(node.value):
        return node.value[int(token)]
    return None
