"""KFP command-line placeholders: find and classify them in an executor's argv.

The KFP SDK writes placeholders into ``command``/``args`` as text (``{{$.inputs.parameters['x']}}``)
or as a whole argv element holding JSON (``{"Concat": [...]}``, ``{"IfPresent": {...}}``). This
module only reads them; ``lower.container`` decides what each becomes in Argo.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Union

EXECUTOR_INPUT = "{{$}}"
PLACEHOLDER = re.compile(r"\{\{\$(?:\.([^{}]*?))?\}\}")
_IO = re.compile(
    r"""^(?P<side>inputs|outputs)\.(?P<kind>parameters|artifacts)\[(?P<q>['"])(?P<name>.+?)(?P=q)\]"""
    r"""(?:\.(?P<attr>[a-z_]+))?$"""
)
JOB_PLACEHOLDERS = (
    "pipeline_job_name",
    "pipeline_job_uuid",
    "pipeline_job_resource_name",
    "pipeline_job_create_time_utc",
    "pipeline_job_schedule_time_utc",
    "pipeline_task_name",
    "pipeline_task_uuid",
    "pipeline_root",
)


@dataclass(frozen=True)
class IORef:
    """``{{$.<side>.<kind>['<name>'].<attr>}}``; ``attr`` is ``""`` for a bare parameter."""

    side: str
    kind: str
    name: str
    attr: str
    text: str


@dataclass(frozen=True)
class NamedRef:
    """``{{$.<name>}}`` for job and task values, e.g. ``pipeline_job_name``; or ``{{$}}`` (name ``$``)."""

    name: str
    text: str


Ref = Union[IORef, NamedRef]


@dataclass(frozen=True)
class Concat:
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class IfPresent:
    input_name: str
    then: tuple[Any, ...]
    otherwise: tuple[Any, ...]


def classify(text: str) -> Ref:
    """Classify one placeholder's text.

    >>> classify("{{$.inputs.parameters['msg']}}")
    IORef(side='inputs', kind='parameters', name='msg', attr='', text="{{$.inputs.parameters['msg']}}")
    >>> classify("{{$.pipeline_job_name}}").name
    'pipeline_job_name'
    """
    match = PLACEHOLDER.fullmatch(text)
    inner = match.group(1) if match else None
    if inner is None:
        return NamedRef("$", text)
    io = _IO.match(inner)
    if io:
        return IORef(io["side"], io["kind"], io["name"], io["attr"] or "", text)
    return NamedRef(inner, text)


def split(text: str) -> list[str | Ref]:
    """Split text into literal pieces and placeholder references.

    >>> split("--lr={{$.inputs.parameters['lr']}}!")[0]
    '--lr='
    """
    pieces: list[str | Ref] = []
    position = 0
    for match in PLACEHOLDER.finditer(text):
        if match.start() > position:
            pieces.append(text[position : match.start()])
        pieces.append(classify(match.group(0)))
        position = match.end()
    if position < len(text):
        pieces.append(text[position:])
    return pieces


def structured(element: str) -> Concat | IfPresent | None:
    """The Concat/IfPresent structure an argv element holds, or None for plain text.

    >>> structured('{"Concat": ["a", "b"]}')
    Concat(parts=('a', 'b'))
    >>> structured("plain") is None
    True
    """
    if not element.startswith("{") or '"Concat"' not in element and '"IfPresent"' not in element:
        return None
    try:
        value = json.loads(element)
    except ValueError:
        return None
    return _structure(value) if isinstance(value, dict) else None


def _structure(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"Concat"}:
        return Concat(tuple(_structure(v) for v in value["Concat"]))
    if isinstance(value, dict) and set(value) == {"IfPresent"}:
        body = value["IfPresent"]
        return IfPresent(
            str(body.get("InputName", "")),
            tuple(_structure(v) for v in _as_list(body.get("Then", []))),
            tuple(_structure(v) for v in _as_list(body.get("Else", []))),
        )
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def is_python_component(argv: tuple[str, ...]) -> bool:
    """Whether an executor needs the executor input (any element holds ``{{$}}``).

    >>> is_python_component(("--executor_input", "{{$}}"))
    True
    """
    return any(EXECUTOR_INPUT in element for element in argv)


def references(argv: tuple[str, ...]) -> list[Ref]:
    """Every placeholder reference in an argv, in order, including inside Concat/IfPresent."""
    found: list[Ref] = []
    for element in argv:
        for match in PLACEHOLDER.finditer(element):
            found.append(classify(match.group(0)))
    return found
