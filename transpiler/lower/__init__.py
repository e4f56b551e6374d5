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
from transpiler.lower import io, kinds, launcher
from transpiler.lower.container import lower_container
from transpiler.lower.context import Context
from transpiler.lower.dag import lower_dag
from transpiler.lower.loop import lower_loop
from transpiler.options import Options
from transpiler.plan import Plan

__all__ = ["Options", "lower"]


def lower(source: Source, pipeline: ir.Pipeline, facts: Analysis, plan: Plan, options: Options,
          arguments: dict[str, str]) -> Any:
    """Build the Argo manifest (``options.kind``: a Workflow by default) for a supported pipeline.

    Args:
        source: the loaded input.
        pipeline: the parsed (and partitioned) pipeline.
        facts: its analysis.
        plan: its templates and names.
        options: caller options (names, namespace, service account, placeholder values, ...).
        arguments: pipeline parameter values in wire text, by IR parameter name (``arguments``).
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
            **dict(options.workflow_fields),
            "entrypoint": plan.dag_template("root"),
            "arguments": _arguments(pipeline, arguments),
            "serviceAccountName": options.service_account,
            "templates": templates,
            **_shared(templates),
        }
    )
    return kinds.manifest(pipeline, options, spec)


def _shared(templates: list[m.Template]) -> dict[str, Any]:
    """What every container template needs, once for the workflow: the outputs ``emptyDir``
    (a workflow volume is a new volume in each pod that mounts it) and its mount, and the
    launcher when a Python component runs it (``lower.launcher``). ``templateDefaults`` is merged
    into container templates only (Argo drops the defaults of other template types)."""
    containers = [t.container for t in templates if t.container is not None]
    if not containers:
        return {}
    env = [launcher.launcher_defaults()] if any(c.command and c.command[-1] == launcher.BOOT for c in containers) else None
    defaults = m.Template(container=m.Container(env=env, volume_mounts=[io.outputs_mount()]))
    return {"volumes": [io.outputs_volume()], "templateDefaults": defaults}


def _arguments(pipeline: ir.Pipeline, values: dict[str, str]) -> m.Arguments | None:
    parameters = []
    for parameter in pipeline.root.inputs.parameters:
        value = values.get(parameter.name, parameter_default(parameter))
        parameters.append(m.Parameter(name=names.parameter_name(parameter.name), value=value))
    return m.Arguments(parameters=parameters) if parameters else None
