"""DAG components (the root pipeline and pipelines used as components) to Argo DAG templates.

Each IR task becomes a DAG task. Its edges are the task's ``dependentTasks`` plus every task
whose outputs it reads, joined in ``depends`` (a bare task name in ``depends`` means it
Succeeded, was Skipped or Daemoned). Its arguments carry the typed wire encoding of
``docs/runtime-contract.md``.
"""

from __future__ import annotations

from hera.workflows import models as m

from transpiler import argo_expr, ir, names, wire
from transpiler.lower import io
from transpiler.lower.context import TASK_NAME_PARAMETER, Context
from transpiler.lower.plan import Plan

MSG_CONSTANT_TYPE = "The constant for input {name!r} does not fit its type {type}: {problem}"
MSG_ROOT_ARTIFACT = "Pipeline-level input artifacts have no Argo equivalent in a self-contained workflow. Produce the artifact in a task (e.g. dsl.importer) instead"


def lower_dag(ctx: Context, component: ir.Component, plan: Plan) -> m.Template:
    assert component.dag is not None
    is_root = component.name == "root"
    task_names = plan.task_names(component)
    tasks = [_task(ctx, component, task, plan, task_names, is_root) for task in component.dag.tasks]
    return m.Template(
        name=plan.dag_template(component.name),
        inputs=None if is_root else _inputs(component),
        outputs=_outputs(component, task_names),
        dag=m.DAGTemplate(tasks=tasks),
    )


def _inputs(component: ir.Component) -> m.Inputs | None:
    parameters = [
        m.Parameter(name=names.parameter_name(p.name), default=io.parameter_default(p)) for p in component.inputs.parameters
    ]
    parameters += [
        m.Parameter(name=io.metadata_parameter(a.name), default=io.EMPTY_METADATA) for a in component.inputs.artifacts
    ]
    artifacts = [
        m.Artifact(name=names.parameter_name(a.name), optional=True if a.optional else None)
        for a in component.inputs.artifacts
    ]
    if not parameters and not artifacts:
        return None
    return m.Inputs(parameters=parameters or None, artifacts=artifacts or None)


def _outputs(component: ir.Component, task_names: dict[str, str]) -> m.Outputs | None:
    dag = component.dag
    assert dag is not None
    parameters = [
        m.Parameter(
            name=names.parameter_name(out.name),
            value_from=m.ValueFrom(
                parameter=argo_expr.task_output_parameter(task_names[out.task], names.parameter_name(out.task_output))
            ),
        )
        for out in dag.parameter_outputs
    ]
    parameters += [
        m.Parameter(
            name=io.metadata_parameter(out.name),
            value_from=m.ValueFrom(
                parameter=argo_expr.task_output_parameter(task_names[out.task], io.metadata_parameter(out.task_output))
            ),
        )
        for out in dag.artifact_outputs
    ]
    artifacts = [
        m.Artifact(
            name=names.parameter_name(out.name),
            from_=argo_expr.task_output_artifact(task_names[out.task], names.parameter_name(out.task_output)),
        )
        for out in dag.artifact_outputs
    ]
    if not parameters and not artifacts:
        return None
    return m.Outputs(parameters=parameters or None, artifacts=artifacts or None)


def _task(
    ctx: Context, parent: ir.Component, task: ir.Task, plan: Plan, task_names: dict[str, str], is_root: bool
) -> m.DAGTask:
    target = ctx.pipeline.components[task.component]
    template = plan.template_for(parent, task)
    upstream = set(task.dependent_tasks)
    upstream |= {b.source.task for b in task.parameters if isinstance(b.source, ir.TaskOutput)}
    upstream |= {b.source.task for b in task.artifacts if isinstance(b.source, ir.TaskOutput)}
    parameters = [_parameter_argument(ctx, target, b, task_names, is_root) for b in task.parameters]
    artifacts: list[m.Artifact] = []
    for binding in task.artifacts:
        artifact, metadata = _artifact_argument(ctx, binding, task_names, is_root)
        artifacts.append(artifact)
        if plan.carries_metadata(target):
            parameters.append(metadata)
    if plan.needs_task_name(template):
        parameters.append(m.Parameter(name=TASK_NAME_PARAMETER, value=wire.wire_value(task.display_name, "STRING")))
    arguments = None
    if parameters or artifacts:
        arguments = m.Arguments(parameters=parameters or None, artifacts=artifacts or None)
    return m.DAGTask(
        name=task_names[task.name],
        template=template,
        depends=" && ".join(sorted(task_names[t] for t in upstream)) or None,
        arguments=arguments,
    )


def _parameter_argument(
    ctx: Context, target: ir.Component, binding: ir.ParameterBinding, task_names: dict[str, str], is_root: bool
) -> m.Parameter:
    name = names.parameter_name(binding.name)
    source = binding.source
    if isinstance(source, ir.Constant):
        definition = target.inputs.parameter(binding.name)
        parameter_type = definition.type if definition else "STRING"
        try:
            value = wire.wire_value(source.value, parameter_type)
        except ValueError as err:
            ctx.unsupported(MSG_CONSTANT_TYPE.format(name=binding.name, type=parameter_type, problem=err), binding.pointer)
            value = ""
    elif isinstance(source, ir.ComponentInput):
        value = _component_input(names.parameter_name(source.name), is_root)
    else:
        value = argo_expr.task_output_parameter(task_names[source.task], names.parameter_name(source.name))
    return m.Parameter(name=name, value=value)


def _artifact_argument(
    ctx: Context, binding: ir.ArtifactBinding, task_names: dict[str, str], is_root: bool
) -> tuple[m.Artifact, m.Parameter]:
    name = names.parameter_name(binding.name)
    source = binding.source
    if isinstance(source, ir.ComponentInput):
        if is_root:
            ctx.unsupported(MSG_ROOT_ARTIFACT, binding.pointer)
        origin = argo_expr.input_artifact(names.parameter_name(source.name))
        metadata = _component_input(io.metadata_parameter(source.name), is_root)
    else:
        producer = task_names[source.task]
        origin = argo_expr.task_output_artifact(producer, names.parameter_name(source.name))
        metadata = argo_expr.task_output_parameter(producer, io.metadata_parameter(source.name))
    return m.Artifact(name=name, from_=origin), m.Parameter(name=io.metadata_parameter(binding.name), value=metadata)


def _component_input(name: str, is_root: bool) -> str:
    return argo_expr.workflow_parameter(name) if is_root else argo_expr.input_parameter(name)
