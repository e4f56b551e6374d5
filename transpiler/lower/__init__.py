"""The ``lower`` pass: the typed pipeline model to an Argo manifest (hera's typed models).

Components are visited once each: DAG components become DAG templates (``lower.dag``, with
``lower.loop`` for loop bodies), container executors become container templates
(``lower.container``, with ``lower.launcher`` for Python components and ``lower.pvc`` for
CreatePVC/DeletePVC). ``plan`` has decided which templates exist and what they are called, and
``analysis`` holds the facts every module reads. Lowering reports nothing: ``support`` refused,
with the same options, every pipeline it could not lower.
"""

from __future__ import annotations

from typing import Any

from hera.workflows import models as m

from transpiler import ir, names
from transpiler.analysis import Analysis, parameter_default
from transpiler.load import Source
from transpiler.lower import importer, io, kinds, launcher, workspace
from transpiler.lower.container import lower_container
from transpiler.lower.context import Context
from transpiler.lower.dag import lower_dag
from transpiler.lower.loop import lower_loop
from transpiler.options import Options
from transpiler.plan import Plan

__all__ = ["Options", "lower"]


def lower(source: Source, pipeline: ir.Pipeline, facts: Analysis, plan: Plan, options: Options) -> Any:
    """Build the Argo manifest (``options.kind``: a Workflow by default) for a supported pipeline.

    Args:
        source: the loaded input.
        pipeline: the parsed (and partitioned) pipeline.
        facts: its analysis.
        plan: its templates and names.
        options: caller options (names, namespace, service account, placeholder values, ...).
    """
    ctx = Context(source, pipeline, facts, plan, options)
    templates = []
    for component in plan.dag_components():
        loop = facts.loop_task(component)
        if loop is not None:
            templates.append(lower_loop(ctx, component, loop))
        templates.append(lower_dag(ctx, component))
    for name, variant in plan.container_variants():
        templates.append(lower_container(ctx, pipeline.components[variant.component], variant, name))
    spec = m.WorkflowSpec.model_validate(
        {
            **_pipeline_config(pipeline.config),
            **dict(options.workflow_fields),
            "entrypoint": plan.dag_template("root"),
            "arguments": _arguments(pipeline),
            "serviceAccountName": options.service_account,
            "templates": templates,
            **_shared(templates, workspace.mount(pipeline)),
            **workspace.claim(pipeline, options),
        }
    )
    return kinds.manifest(pipeline, options, spec)


def _pipeline_config(config: ir.PipelineConfig | None) -> dict[str, Any]:
    """``dsl.PipelineConfig``'s TTLs and deadline, as KFP's compiler maps them; a flag or the
    config file (``options.workflow_fields``, merged after this) wins over the IR."""
    if config is None:
        return {}
    fields: dict[str, Any] = {}
    ttl = {key: value for key, value in (("secondsAfterCompletion", config.ttl_after_completion),
                                         ("secondsAfterSuccess", config.ttl_after_success),
                                         ("secondsAfterFailure", config.ttl_after_failure)) if value}
    if ttl:
        fields["ttlStrategy"] = ttl
    if config.active_deadline_seconds:
        fields["activeDeadlineSeconds"] = config.active_deadline_seconds
    return fields


def _shared(templates: list[m.Template], workspace_mount: m.VolumeMount | None) -> dict[str, Any]:
    """What every container template needs, once for the workflow: the outputs ``emptyDir``
    (a workflow volume is a new volume in each pod that mounts it) and its mount, the workspace's
    mount, and the launcher when a Python component runs it (``lower.launcher``).
    ``templateDefaults`` is merged into container templates only (Argo drops the defaults of
    other template types)."""
    containers = [t.container for t in templates if t.container is not None]
    if not containers:
        return {}
    env = [launcher.launcher_defaults()] if any(c.command and c.command[-1] == launcher.BOOT for c in containers) else None
    mounts = [io.outputs_mount()] + ([workspace_mount] if workspace_mount else [])
    defaults = m.Template(container=m.Container(env=env, volume_mounts=mounts))
    return {"volumes": [io.outputs_volume()], "templateDefaults": defaults}


def _arguments(pipeline: ir.Pipeline) -> m.Arguments | None:
    """The pipeline's parameters and input artifacts (each with its metadata companion) as the
    workflow's arguments, which a submission may override."""
    parameters = []
    for parameter in pipeline.root.inputs.parameters:
        parameters.append(m.Parameter(name=names.parameter_name(parameter.name), value=parameter_default(parameter),
                                      description=parameter.description or None))
    artifacts = []
    for definition in pipeline.root.inputs.artifacts:
        artifact, companion = importer.pipeline_input(definition)
        artifacts += [artifact] if artifact else []
        parameters.append(companion)
    if not parameters:
        return None
    return m.Arguments(parameters=parameters, artifacts=artifacts or None)
