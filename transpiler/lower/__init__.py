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
from transpiler.errors import OutputSchemaError, UnsupportedFeature
from transpiler.load import Source
from transpiler.lower import io, kinds, pipeline_root
from transpiler.lower.container import lower_container
from transpiler.lower.context import Context, Options
from transpiler.lower.dag import lower_dag
from transpiler.lower.loop import lower_loop
from transpiler.lower.plan import Plan

__all__ = ["Options", "lower"]

MAX_TEMPLATES = 200
MSG_TOO_MANY_TEMPLATES = (
    "The workflow needs {count} templates ({dags} DAG templates, including any partitions of DAGs "
    "with more than 200 tasks, and {others} container and resource templates); Argo 4's full CRDs "
    "accept at most 200, so the API server would refuse it. Split the pipeline into smaller ones"
)


def lower(source: Source, pipeline: ir.Pipeline, options: Options, overrides: dict[str, str]) -> Any:
    """Build the Argo manifest (``options.kind``: a Workflow by default) for a parsed pipeline.

    Args:
        source: the loaded input (for locating diagnostics).
        pipeline: the parsed pipeline.
        options: caller options (names, namespace, service account, placeholder values).
        overrides: pipeline parameter values already in wire text, by IR parameter name.

    Raises:
        UnsupportedFeature: one diagnostic per construct that has no faithful Argo mapping.
        OutputSchemaError: more templates than Argo admits in one workflow.
        UsageError: options that do not fit the pipeline or the manifest kind.
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
    _check_template_count(source, pipeline, templates)
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


def _check_template_count(source: Source, pipeline: ir.Pipeline, templates: list[m.Template]) -> None:
    """Argo 4's full CRDs (which the API server applies, unlike lint) refuse more than 200 templates."""
    if len(templates) <= MAX_TEMPLATES:
        return
    dags = sum(1 for t in templates if t.dag is not None)
    message = MSG_TOO_MANY_TEMPLATES.format(count=len(templates), dags=dags, others=len(templates) - dags)
    raise OutputSchemaError([source.spec_diagnostic(message, "/components" if pipeline.components else "/root")])


def _arguments(pipeline: ir.Pipeline, overrides: dict[str, str]) -> m.Arguments | None:
    parameters = []
    for parameter in pipeline.root.inputs.parameters:
        value = overrides.get(parameter.name, io.parameter_default(parameter))
        parameters.append(m.Parameter(name=names.parameter_name(parameter.name), value=value))
    return m.Arguments(parameters=parameters) if parameters else None
