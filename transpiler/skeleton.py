"""The manifest skeleton: a Jinja2 template (``templates/skeleton.yaml.j2``, or the file the
config's ``skeleton:`` names) whose rendered YAML adds labels, annotations and WorkflowSpec fields
to every generated manifest.

The skeleton can add, never change: the generated body is built first, and a key the skeleton
sets that kfp2argo (or a flag or the config) already set is an error, as is any key other than
``metadata.labels``, ``metadata.annotations`` and ``spec.<WorkflowSpec field>``. Spec fields are
checked against hera's model of Argo's WorkflowSpec, so a misspelt field is an error, not a drop.
Rendering sees only deterministic values (no clock, no environment), so output stays
reproducible.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from transpiler import data, emit, ir
from transpiler.version import __version__
from transpiler.errors import Diagnostic, UsageError, pointer

DEFAULT_FILE = "skeleton.yaml.j2"

MSG_SYNTAX = "The skeleton is not a valid Jinja2 template: {problem}"
MSG_RENDER = "The skeleton failed to render: {problem}"
MSG_YAML = "The rendered skeleton is not valid YAML: {problem}"
MSG_SHAPE = "The rendered skeleton must be a mapping with at most the keys metadata and spec"
MSG_METADATA = "The skeleton may only add metadata.labels and metadata.annotations (maps of strings), not metadata.{key}"
MSG_TAKEN = "The skeleton sets {where}, which kfp2argo, a flag or the config already sets; the skeleton can only add"
MSG_READ = "Cannot read the skeleton: {problem}"


def apply(document: dict[str, Any], pipeline: ir.Pipeline, skeleton_path: str | None, source: str) -> dict[str, Any]:
    """``document`` (ordered plain data from ``emit.to_plain``) with the skeleton's additions.

    Raises:
        UsageError: located problems of the skeleton (file and line when known).
    """
    file = skeleton_path or f"templates/{DEFAULT_FILE}"
    rendered = render(skeleton_path, _context(document, pipeline, source), file)
    if not rendered:
        return document
    problems: list[Diagnostic] = []
    result = dict(document)
    metadata_targets = [("metadata",)]
    spec_path: tuple[str, ...] = ("spec",)
    if document["kind"] == "CronWorkflow":
        metadata_targets.append(("spec", "workflowMetadata"))
        spec_path = ("spec", "workflowSpec")
    for key, value in rendered.items():
        if key == "metadata":
            for target in metadata_targets:
                _add_metadata(result, target, value, file, problems)
        elif key == "spec":
            _add_spec(result, spec_path, value, file, problems)
        else:
            problems.append(Diagnostic(MSG_SHAPE, pointer(key), file))
    if problems:
        raise UsageError(problems)
    from transpiler import emit

    return emit.order_document(result)


def render(skeleton_path: str | None, context: dict[str, Any], file: str) -> dict[str, Any]:
    """The skeleton rendered and read as YAML (an empty mapping when it renders to nothing)."""
    import jinja2
    import yaml

    template = _template(skeleton_path, file)
    try:
        text = template.render(context)
    except jinja2.TemplateError as err:
        raise UsageError([Diagnostic(MSG_RENDER.format(problem=err), "", file)]) from None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" (line {mark.line + 1} of the rendered text)" if mark else ""
        raise UsageError([Diagnostic(MSG_YAML.format(problem=str(getattr(err, "problem", err)) + line), "", file)]) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError([Diagnostic(MSG_SHAPE, "", file)])
    return value


@lru_cache(maxsize=8)
def _template(skeleton_path: str | None, file: str) -> Any:
    import jinja2

    try:
        text = Path(skeleton_path).read_text(encoding="utf-8") if skeleton_path else data.read_text("templates", DEFAULT_FILE)
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError([Diagnostic(MSG_READ.format(problem=getattr(err, "strerror", None) or err), "", file)]) from None
    environment = jinja2.Environment(
        block_start_string="<%",
        block_end_string="%>",
        variable_start_string="<<",
        variable_end_string=">>",
        comment_start_string="<#",
        comment_end_string="#>",
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    environment.filters["quote"] = lambda value: emit.json_text(str(value))
    try:
        return environment.from_string(text)
    except jinja2.TemplateSyntaxError as err:
        raise UsageError([Diagnostic(MSG_SYNTAX.format(problem=err.message), "", file, err.lineno)]) from None


def _context(document: dict[str, Any], pipeline: ir.Pipeline, source: str) -> dict[str, Any]:
    metadata = document.get("metadata", {})
    return {
        "pipeline": {
            "name": pipeline.name,
            "display_name": pipeline.display_name,
            "description": pipeline.description,
            "sdk_version": pipeline.sdk_version,
        },
        "kind": document["kind"],
        "name": metadata.get("name") or metadata.get("generateName"),
        "namespace": metadata.get("namespace"),
        "source": source,
        "version": __version__,
    }


def _add_metadata(document: dict[str, Any], path: tuple[str, ...], value: Any, file: str, problems: list[Diagnostic]) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        problems.append(Diagnostic(MSG_SHAPE, "/metadata", file))
        return
    target = _walk(document, path)
    for key, entries in value.items():
        at = pointer("metadata", key)
        if key not in ("labels", "annotations"):
            problems.append(Diagnostic(MSG_METADATA.format(key=key), at, file))
            continue
        if entries is None:
            continue
        if not isinstance(entries, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in entries.items()):
            problems.append(Diagnostic(MSG_METADATA.format(key=key), at, file))
            continue
        existing = dict(target.get(key) or {})
        for name, text in entries.items():
            if name in existing:
                problems.append(Diagnostic(MSG_TAKEN.format(where=f"{'.'.join(path)}.{key}[{name!r}]"), at + pointer(name), file))
            existing[name] = text
        if existing:
            target[key] = existing


def _add_spec(document: dict[str, Any], path: tuple[str, ...], value: Any, file: str, problems: list[Diagnostic]) -> None:
    from transpiler.argo_values import argo_object_problems

    if value is None:
        return
    if not isinstance(value, dict):
        problems.append(Diagnostic(MSG_SHAPE, "/spec", file))
        return
    target = _walk(document, path)
    for key, field_value in value.items():
        at = pointer("spec", key)
        if key in target:
            problems.append(Diagnostic(MSG_TAKEN.format(where=".".join((*path, key))), at, file))
            continue
        found = argo_object_problems("WorkflowSpec", {key: field_value}, "/spec")
        problems.extend(Diagnostic(message, where, file) for message, where in found)
        if not found:
            target[key] = field_value


def _walk(document: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """The mapping at ``path``, copied on the way so the caller's document is not changed."""
    node = document
    for key in path:
        node[key] = dict(node.get(key) or {})
        node = node[key]
    return node
