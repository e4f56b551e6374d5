"""The ``lower`` pass: the typed pipeline model to an Argo Workflow (hera's typed models).

Components are visited once each: DAG components become DAG templates (``lower.dag``), container
executors become container templates (``lower.container``, with ``lower.launcher`` for Python
components). ``lower.plan`` decides up front which templates exist and what they are called.
Problems found while lowering are collected and raised together as :class:`UnsupportedFeature`.
"""

from __future__ import annotations

from typing import Any

from hera.workflows import models as m

from transpiler import ir, names
from transpiler.errors import UnsupportedFeature
from transpiler.load import Source
from transpiler.lower import io, kinds, pipeline_root
from transpiler.lower.container import lower_container
from transpiler.lower.context import Context, Options
from transpiler.lower.dag import lower_dag
from transpiler.lower.loop import lower_loop
from transpiler.lower.plan import Plan

__all__ = ["Options", "lower"]


def lower(source: Source, pipeline: ir.Pipeline, options: Options, overrides: dict[str, str]) -> Any:
    """Build the Argo manifest (``options.kind``: a Workflow by default) for a parsed pipeline.

    Args:
        source: the loaded input (for locating diagnostics).
        pipeline: the parsed pipeline.
        options: caller options (names, namespace, service account, placeholder values).
        overrides: pipeline parameter values already in wire text, by IR parameter name.

    Raises:
        UnsupportedFeature: one diagnostic per construct that has no faithful Argo mapping.
    """
    ctx = Context(source, pipeline, options)
    pipeline_root.check(ctx)
    plan = Plan(pipeline)
    templates = []
    for component in plan.dag_components():
        loop = plan.loop_task(component)
        if loop is not None:
            templates.append(lower_loop(ctx, component, loop, plan))
        templates.append(lower_dag(ctx, component, plan))
    for name, variant in plan.container_variants():
        templates.append(lower_container(ctx, pipeline.components[variant.component], variant, name))
    if ctx.diagnostics:
        raise UnsupportedFeature(ctx.diagnostics)
    spec = m.WorkflowSpec.model_validate(
        {
            **dict(options.workflow_fields),
            "entrypoint": plan.dag_template("root"),
            "arguments": _arguments(pipeline, overrides),
            "serviceAccountName": options.service_account,
            "templates": templates,
        }
    )
    return kinds.manifest(pipeline, options, spec)


def _arguments(pipeline: ir.Pipeline, overrides: dict[str, str]) -> m.Arguments | None:
    parameters = []
    for parameter in pipeline.root.inputs.parameters:
        value = overrides.get(parameter.name, io.parameter_default(parameter))
        parameters.append(m.Parameter(name=names.parameter_name(parameter.name), value=value))
    return m.Arguments(parameters=parameters) if parameters else None
