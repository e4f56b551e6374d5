"""KFP command-line placeholders: find and classify them in an executor's argv.

The KFP SDK writes placeholders into ``command``/``args`` as text (``{{$.inputs.parameters['x']}}``)
or as a whole argv element holding JSON (``{"Concat": [...]}``, ``{"IfPresent": {...}}``). This
module only reads them; ``lower.container`` decides what each becomes in Argo.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Union

from transpiler import ir

EXECUTOR_INPUT = "{{$}}"
PLACEHOLDER = re.compile(r"\{\{\$(?:\.([^{}]*?))?\}\}")
_IO = re.compile(
    r"""^(?P<side>inputs|outputs)\.(?P<kind>parameters|artifacts)\[(?P<q>['"])(?P<name>.+?)(?P=q)\]"""
    r"""(?:\.(?P<attr>[a-z_]+))?$"""
)
# Job and task placeholders (``{{$.<name>}}``) by how kfp2argo fills them: from an Argo variable
# of the same meaning, from the pipeline root, or only from ``--set-placeholder`` (Vertex AI
# fills these; KFP's own backend does not have them).
ARGO_BACKED = (
    "pipeline_job_name",
    "pipeline_job_resource_name",
    "pipeline_job_uuid",
    "pipeline_job_create_time_utc",
    "pipeline_job_schedule_time_utc",
    "pipeline_task_uuid",
    "pipeline_task_name",
)
# The job and task placeholders KFP's driver also resolves when one is the whole text of a task
# input's constant (backend/src/v2/driver/resolve.go, ``resolveInputParameter``); other
# placeholder text in a constant reaches the component as it is.
IN_CONSTANTS = ARGO_BACKED
PIPELINE_ROOT = "pipeline_root"
WORKSPACE_PLACEHOLDER = "{{$.workspace_path}}"
WORKSPACE_MOUNT_PATH = "/kfp-workspace"  # what it stands for: KFP's mount path of the workspace
VERTEX_ONLY = (
    "pipeline_google_cloud_project_id",
    "pipeline_google_cloud_location",
    "pipeline_persistent_resource_id",
    "pipeline_service_account",
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


def constant_placeholder(value: Any) -> NamedRef | None:
    """The job or task placeholder a task input's constant is, when its whole text is one that
    KFP's driver resolves (``IN_CONSTANTS``).

    >>> constant_placeholder("{{$.pipeline_job_name}}").name, constant_placeholder("x {{$.pipeline_job_name}}")
    ('pipeline_job_name', None)
    """
    if not isinstance(value, str) or not PLACEHOLDER.fullmatch(value):
        return None
    ref = classify(value)
    return ref if isinstance(ref, NamedRef) and ref.name in IN_CONSTANTS else None


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


def if_present_inputs(argv: tuple[str, ...]) -> frozenset[str]:
    """Names of the inputs that IfPresent placeholders test in an argv.

    >>> sorted(if_present_inputs(('{"IfPresent": {"InputName": "x", "Then": ["--x"]}}',)))
    ['x']
    """
    found: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, IfPresent):
            found.add(value.input_name)
            for part in value.then + value.otherwise:
                visit(part)
        elif isinstance(value, Concat):
            for part in value.parts:
                visit(part)

    for element in argv:
        visit(structured(element))
    return frozenset(found)


def reads_artifact(argv: tuple[str, ...], artifact: str, attr: str) -> bool:
    """Whether an argv reads ``{{$.inputs.artifacts['<artifact>'].<attr>}}``."""
    return any(
        isinstance(ref, IORef) and (ref.side, ref.kind, ref.name, ref.attr) == ("inputs", "artifacts", artifact, attr)
        for ref in references(argv)
    )


def uses_task_name(argv: tuple[str, ...]) -> bool:
    """Whether an argv uses ``{{$.pipeline_task_name}}`` (a per-task template input)."""
    return any(isinstance(ref, NamedRef) and ref.name == "pipeline_task_name" for ref in references(argv))


Piece = Union[str, Ref]


def expand(elements: tuple[str, ...], is_present: Callable[[str], bool]) -> list[list[Piece]]:
    """The argv elements a container component's argv becomes once its structure is resolved at
    compile time: each IfPresent takes the branch ``is_present`` picks for its input, each Concat
    joins its parts into one element; every element is given as its literal pieces and
    placeholder references.

    >>> expand(('{"Concat": ["-", "{{$.inputs.parameters[\\'x\\']}}"]}',), lambda name: True)[0][1].name
    'x'
    """

    def structure(value: Any) -> list[list[Piece]]:
        if isinstance(value, IfPresent):
            branch = value.then if is_present(value.input_name) else value.otherwise
            return [element for part in branch for element in structure(part)]
        if isinstance(value, Concat):
            return [[piece for part in value.parts for element in structure(part) for piece in element]]
        return [split(value)]

    result: list[list[Piece]] = []
    for element in elements:
        shape = structured(element)
        result += [split(element)] if shape is None else structure(shape)
    return result


def present_test(component: ir.Component, present: frozenset[str]) -> Callable[[str], bool]:
    """How an IfPresent is decided at compile time for a task of ``component`` that supplies the
    optional inputs ``present``: an input with a default (other than None) is always present."""

    def is_present(name: str) -> bool:
        parameter = component.inputs.parameter(name)
        if parameter is not None and parameter.default not in (ir.MISSING, None):
            return True
        return name in present

    return is_present


def container_reference(ref: Ref, component: ir.Component, imported: frozenset[str] = frozenset()) -> str | None:
    """What a placeholder in a container component's argv stands for, as one of: ``job`` (a job
    or task placeholder), ``input-parameter``, ``input-list`` (a list of artifacts as JSON),
    ``input-uri`` (the original URI of an imported artifact), ``input-path``,
    ``output-parameter-file``, ``output-artifact-path``, ``output-metadata`` (an output
    artifact's metadata before the component runs: ``{}``, as kfp.local gives it); None when
    kfp2argo cannot map it (it names nothing the component has, or has no meaning outside a
    Python component)."""
    if isinstance(ref, NamedRef):
        return "job" if ref.name != "$" else None
    side, kind, attr = ref.side, ref.kind, ref.attr
    if (side, kind, attr) == ("inputs", "parameters", ""):
        return "input-parameter" if component.inputs.parameter(ref.name) is not None else None
    if (side, kind, attr) == ("inputs", "artifacts", ""):
        artifact = component.inputs.artifact(ref.name)
        return "input-list" if artifact is not None and artifact.is_list else None
    if (side, kind) == ("inputs", "artifacts") and attr in ("path", "uri"):
        if attr == "uri" and ref.name in imported:
            return "input-uri"
        return "input-path" if component.inputs.artifact(ref.name) is not None else None
    if (side, kind, attr) == ("outputs", "parameters", "output_file"):
        return "output-parameter-file" if component.outputs.parameter(ref.name) is not None else None
    if (side, kind) == ("outputs", "artifacts") and attr in ("path", "uri"):
        return "output-artifact-path" if component.outputs.artifact(ref.name) is not None else None
    if (side, kind, attr) == ("outputs", "artifacts", "metadata"):
        return "output-metadata" if component.outputs.artifact(ref.name) is not None else None
    return None


def image_input(image: str, component: ir.Component) -> str | None:
    """The input parameter whose value is a container's image (``set_container_image`` with a
    pipeline parameter or a task output writes ``{{$.inputs.parameters['<input>']}}`` as the
    whole image), or None for a constant image.

    >>> image_input("python:3.11", None) is None
    True
    """
    if not PLACEHOLDER.fullmatch(image):
        return None
    ref = classify(image)
    if isinstance(ref, IORef) and (ref.side, ref.kind, ref.attr) == ("inputs", "parameters", "") \
            and component.inputs.parameter(ref.name) is not None:
        return ref.name
    return None
