"""Input artifacts as the tasks of one DAG template pass them.

Every artifact argument is optional: KFP lets a component leave an output artifact unwritten
(its launcher uploads nothing and records the artifact all the same, ``uploadOutputArtifacts``),
and a consumer then gets the artifact's metadata and a path where nothing was downloaded
(``objectstore.DownloadBlob`` of an empty prefix succeeds). Argo refuses to start a task whose
required argument has no artifact, so the argument may be missing, and the launcher tells an
input a task did not bind (its metadata is ``kfp2argo:none``) from one whose file is missing.

A single artifact travels as an Argo artifact (``from`` a sibling task's output or the DAG's own
input) beside its metadata companion parameter (``names.metadata_parameter``). A list of
artifacts travels as its manifest parameter, and a container task that reads it downloads the
list's prefix (``lower.collected``). An importer's artifact gets its location from the URI
(``lower.importer``).
"""

from __future__ import annotations

from hera.workflows import models as m

from transpiler import argo_expr, ir, names, wire
from transpiler.lower import collected, io
from transpiler.lower.importer import imported_argument
from transpiler.lower.values import Scope, Value


def argument(scope: Scope, task: ir.Task, binding: ir.ArtifactBinding) -> tuple[m.Artifact | None, m.Parameter]:
    """The argument artifact (None for a list passed to a DAG) and the metadata (or list
    manifest) parameter of one input artifact of ``task``."""
    source = binding.source
    if isinstance(source, ir.TaskOutput) and source.task in scope.importers:
        return imported_argument(scope, binding)
    if _is_list(scope, source) or _receives_list(scope, task, binding):
        return _list_argument(scope, task, binding)
    if isinstance(source, ir.ComponentInput):
        origin = argo_expr.input_artifact(names.parameter_name(source.name))
        metadata = scope.component_input(names.metadata_parameter(source.name)).tag
    else:
        producer = scope.task_names[source.task]
        origin = argo_expr.task_output_artifact(producer, names.parameter_name(source.name))
        metadata = argo_expr.task_output_parameter(producer, names.metadata_parameter(source.name))
        if task.run_after_failure:  # a failed producer has no outputs: the consumer's default metadata
            metadata = scope.after_failure(source.task, names.metadata_parameter(source.name), wire.NONE).tag
    artifact = m.Artifact(name=names.parameter_name(binding.name), from_=origin, optional=True)
    return artifact, m.Parameter(name=names.metadata_parameter(binding.name), value=metadata)


def _is_list(scope: Scope, source: ir.TaskOutput | ir.ComponentInput) -> bool:
    """Whether an artifact a task reads is a list of artifacts at run time."""
    if isinstance(source, ir.ComponentInput):
        definition = scope.component.inputs.artifact(source.name)
        return definition is not None and definition.is_list
    if source.task in scope.importers:
        return False
    return scope.ctx.facts.source_carries_list(scope.component, ir.OutputSource(source.task, source.name))


def _receives_list(scope: Scope, task: ir.Task, binding: ir.ArtifactBinding) -> bool:
    definition = scope.ctx.pipeline.components[task.component].inputs.artifact(binding.name)
    return definition is not None and definition.is_list


def _list_argument(scope: Scope, task: ir.Task, binding: ir.ArtifactBinding) -> tuple[m.Artifact | None, m.Parameter]:
    """A list of artifacts (``lower.collected``): its manifest, and for a container component the
    download of its prefix, optional (no task may have made an element; Argo replaces the
    template's input by the argument, flag included)."""
    source = binding.source
    assert isinstance(source, (ir.TaskOutput, ir.ComponentInput))
    target = scope.ctx.pipeline.components[task.component]
    manifest_name = names.metadata_parameter(binding.name)
    manifest: Value
    if isinstance(source, ir.ComponentInput):
        manifest = scope.component_input(names.metadata_parameter(source.name))
    elif task.run_after_failure:
        manifest = scope.after_failure(source.task, names.metadata_parameter(source.name), wire.NONE)
    else:
        manifest = scope.task_output(source.task, names.metadata_parameter(source.name))
    if target.dag is not None:
        return None, m.Parameter(name=manifest_name, value=manifest.tag)
    key = collected.download_key(manifest.expr)
    artifact = m.Artifact(name=names.parameter_name(binding.name), optional=True, s3=m.S3Artifact(key=key))
    if scope.ctx.facts.carries_metadata(target):
        return artifact, m.Parameter(name=manifest_name, value=manifest.tag)
    definition = target.inputs.artifact(binding.name)
    assert definition is not None
    listed = collected.artifact_list(manifest.expr, io.input_artifact_path(binding.name), definition.schema_title, definition.schema_version)
    return artifact, m.Parameter(name=names.artifact_list_parameter(binding.name), value=listed)


def list_prefix(scope: Scope, task: ir.Task, output: str) -> str:
    """Where the DAG task ``task`` puts the elements of its list output ``output``: under the
    iteration's element or the DAG's own prefix when the DAG passes the list up as its output,
    else under a new prefix."""
    assert scope.component.dag is not None
    for out in scope.component.dag.artifact_outputs:
        if out.sources == (ir.OutputSource(task.name, output),):
            if scope.ctx.facts.loop_task(scope.component) is not None:
                return collected.element_key(out.name, True)
            if not scope.is_root:
                return argo_expr.input_parameter(names.collect_key_parameter(out.name))
    return collected.fresh_prefix(scope.task_names[task.name], output)
