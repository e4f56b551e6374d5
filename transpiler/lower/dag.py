"""DAG components (the root pipeline, sub-pipelines, condition and loop bodies) to DAG templates.

Each IR task becomes a DAG task:

* its edges (``depends``) are its upstream tasks (``analysis.Analysis.upstream``); a bare task
  name in ``depends`` means Succeeded, Skipped or Daemoned, so a task after a skipped condition
  still runs, as on KFP;
* its arguments carry the typed wire encoding of ``docs/runtime-contract.md`` (``lower.values``,
  ``lower.artifacts``);
* ``triggerPolicy.condition`` (CEL) becomes ``when`` (``transpiler.cel``);
* ``ALL_UPSTREAM_TASKS_COMPLETED`` (exit handlers, ``ignore_upstream_failure``) waits for any
  outcome of its upstream tasks, and those tasks join the DAG's ``target``, so that the DAG (and
  the run) still fails when they failed: an Argo DAG's phase comes only from its targets;
* a ``dsl.ParallelFor`` task calls a loop template (``lower.loop``);
* a task whose executor has a Kubernetes platform spec binds the template's platform inputs
  (``lower.platform``);
* a ``dsl.importer`` task is no Argo task: its consumers get the artifact's location as their
  argument (``lower.importer``) and wait for what the importer waited for.
"""

from __future__ import annotations

from hera.workflows import models as m

from transpiler import argo_expr, expr, ir, names, wire
from transpiler.analysis import parameter_default, scheme_family, scheme_of
from transpiler.lower import artifacts, collected, io
from transpiler.lower.context import Context
from transpiler.lower.importer import imported_uri
from transpiler.lower.values import Scope, condition, parameter_value, platform_value


def lower_dag(ctx: Context, component: ir.Component) -> m.Template:
    assert component.dag is not None
    scope = Scope(ctx, component)
    facts, plan = ctx.facts, ctx.plan
    tasks = [_task(scope, task) for task in component.dag.tasks if task.name not in scope.importers]
    loop = facts.loop_task(component)
    inputs = _root_inputs(component) if scope.is_root else dag_inputs(component)
    collect_inputs = [names.LOOP_NODE_PARAMETER] if loop and facts.collects(component) else []
    collect_inputs += [names.collect_key_parameter(output) for output in facts.collect_inputs(component)]
    collect_inputs += [names.collect_key_parameter(output) for output in facts.list_outputs(component)]
    if collect_inputs:
        inputs = inputs or m.Inputs()
        inputs.parameters = (inputs.parameters or []) + [m.Parameter(name=name) for name in collect_inputs]
    return m.Template(
        name=plan.iteration_template(component.name) if loop else plan.dag_template(component.name),
        inputs=inputs,
        outputs=_outputs(scope),
        dag=m.DAGTemplate(tasks=tasks, **_targets(scope)),
    )


def _root_inputs(root: ir.Component) -> m.Inputs | None:
    """The pipeline's input artifacts, which Argo passes from the workflow's arguments (its
    parameters are read as ``workflow.parameters``). One that is neither optional nor given a
    URI must come from the Workflow that runs the template: Argo fails the run without it. An
    http(s) URI is not downloaded (``importer.pipeline_input``)."""
    artifacts = [
        m.Artifact(name=names.parameter_name(a.name), optional=True if a.optional or _is_url(a.uri) else None)
        for a in root.inputs.artifacts
    ]
    return m.Inputs(artifacts=artifacts) if artifacts else None


def _is_url(uri: str | None) -> bool:
    return scheme_family(scheme_of(uri or "") or "") == "http"


def dag_inputs(component: ir.Component, skip: str | None = None) -> m.Inputs | None:
    """The inputs of a DAG template for ``component`` (without the input ``skip``, a loop item).
    A list input is its manifest alone."""
    parameters = [
        m.Parameter(name=names.parameter_name(p.name), default=parameter_default(p))
        for p in component.inputs.parameters
        if p.name != skip
    ]
    parameters += [
        m.Parameter(name=names.metadata_parameter(a.name), default=wire.NONE if a.is_list or a.optional else io.EMPTY_METADATA)
        for a in component.inputs.artifacts
        if a.name != skip
    ]
    artifacts = [
        m.Artifact(name=names.parameter_name(a.name), optional=True)  # may be unwritten (lower.artifacts)
        for a in component.inputs.artifacts
        if a.name != skip and not a.is_list
    ]
    if not parameters and not artifacts:
        return None
    return m.Inputs(parameters=parameters or None, artifacts=artifacts or None)


# outputs -------------------------------------------------------------------------------------


def _outputs(scope: Scope) -> m.Outputs | None:
    dag = scope.component.dag
    assert dag is not None
    facts = scope.ctx.facts
    parameters = [_output_parameter(scope, out, names.parameter_name) for out in dag.parameter_outputs]
    artifacts = []
    for out in dag.artifact_outputs:
        if facts.loop_task(scope.component) is not None:  # an iteration: its items of a list
            parameters.append(_iteration_items(scope, out))
            continue
        parameters.append(_output_parameter(scope, out, names.metadata_parameter))
        if not facts.carries_list(scope.component, out.name):
            artifacts.append(_output_artifact(scope, out))
    if not parameters and not artifacts:
        return None
    return m.Outputs(parameters=parameters or None, artifacts=artifacts or None)


def _output_parameter(scope: Scope, out: ir.DagOutput, argo_name) -> m.Parameter:
    """A DAG output parameter (``argo_name`` maps IR output names to the Argo parameter: the
    value itself, or an artifact's metadata companion)."""
    if len(out.sources) == 1:
        source = out.sources[0]
        value_from = m.ValueFrom(
            parameter=scope.task_output(source.task, argo_name(source.name)).tag,
            default=wire.NONE if _may_skip(scope, source.task) else None,
        )
    else:
        picks = [(_status(scope, s.task), scope.task_output(s.task, argo_name(s.name)).expr) for s in out.sources]
        value_from = m.ValueFrom(expression=expr.first_that_ran(picks))
    return m.Parameter(name=argo_name(out.name), value_from=value_from)


def _iteration_items(scope: Scope, out: ir.DagOutput) -> m.Parameter:
    """An iteration's items of a collected output (``lower.collected``)."""
    name = names.metadata_parameter(out.name)
    if len(out.sources) != 1:
        return m.Parameter(name=name, value=wire.NONE)
    source = out.sources[0]
    produced = argo_expr.optional_task_output_parameter_var(scope.task_names[source.task], names.metadata_parameter(source.name))
    value = expr.defaulted(produced, wire.NONE)
    if scope.ctx.facts.source_carries_list(scope.component, source):
        expression = collected.iteration_items_from_list(value)
    else:
        expression = collected.iteration_items_from_element(value)
    return m.Parameter(name=name, value_from=m.ValueFrom(expression=expression))


def _output_artifact(scope: Scope, out: ir.DagOutput) -> m.Artifact:
    name = names.parameter_name(out.name)
    if len(out.sources) == 1:
        source = out.sources[0]
        task = scope.task_names[source.task]
        return m.Artifact(
            name=name,
            from_=argo_expr.task_output_artifact(task, names.parameter_name(source.name)),
            optional=True,  # skipped, or left unwritten (lower.artifacts)
        )
    picks = [
        (_status(scope, s.task), argo_expr.task_output_artifact_var(scope.task_names[s.task], names.parameter_name(s.name)))
        for s in out.sources
    ]
    return m.Artifact(name=name, from_expression=expr.first_that_ran(picks))


def _status(scope: Scope, task: str) -> str:
    return argo_expr.task_status_var(scope.task_names[task])


def _may_skip(scope: Scope, task_name: str) -> bool:
    assert scope.component.dag is not None
    return scope.component.dag.task(task_name).condition is not None


def _targets(scope: Scope) -> dict:
    """``target`` and ``failFast`` for a DAG with tasks that run after failures: the tasks they
    wait for stay targets (so their failure still fails the DAG), and the DAG waits for all."""
    dag = scope.component.dag
    assert dag is not None
    waiting = [t for t in dag.tasks if t.run_after_failure]
    if not waiting:
        return {}
    upstream = scope.upstream
    leaves = {t.name for t in dag.tasks} - scope.importers - set().union(*upstream.values())
    targets = leaves.union(*(upstream[t.name] for t in waiting))
    return {"target": " ".join(sorted(scope.task_names[t] for t in targets)), "fail_fast": False}


# tasks ---------------------------------------------------------------------------------------


def _task(scope: Scope, task: ir.Task) -> m.DAGTask:
    ctx = scope.ctx
    facts, plan = ctx.facts, ctx.plan
    target = ctx.pipeline.components[task.component]
    template = plan.template_for(scope.component, task)
    values = {b.name: parameter_value(scope, task, target, b) for b in task.parameters}
    parameters = [m.Parameter(name=names.parameter_name(name), value=v.tag) for name, v in values.items()]
    parameters += [
        m.Parameter(name=v.input, value=platform_value(scope, task, v).tag) for v in facts.platform_values(task) if v.input
    ]
    arguments_artifacts: list[m.Artifact] = []
    for binding in task.artifacts:
        artifact, metadata = artifacts.argument(scope, task, binding)
        arguments_artifacts += [artifact] if artifact else []
        if facts.carries_metadata(target) or metadata.name == names.artifact_list_parameter(binding.name):
            parameters.append(metadata)
    variant = plan.variant(scope.component, task)
    if variant and variant.imported and not facts.carries_metadata(target):
        bindings = {b.name: b for b in task.artifacts}
        parameters += [
            m.Parameter(name=names.uri_parameter(name), value=imported_uri(scope, bindings[name]))
            for name in sorted(variant.imported_names())
        ]
    for artifact_name, (loop_output, via) in sorted(facts.collected_outputs(scope.component, task).items()):
        key = collected.element_key(loop_output, False) if via is None else argo_expr.input_parameter(names.collect_key_parameter(via))
        parameters.append(m.Parameter(name=names.collect_key_parameter(artifact_name), value=key))
    parameters += [
        m.Parameter(name=names.collect_key_parameter(o), value=artifacts.list_prefix(scope, task, o))
        for o in facts.list_outputs(target)
    ]
    if plan.needs_task_name(template):
        parameters.append(m.Parameter(name=names.TASK_NAME_PARAMETER, value=wire.wire_value(task.display_name, "STRING")))
    arguments = None
    if parameters or arguments_artifacts:
        arguments = m.Arguments(parameters=parameters or None, artifacts=arguments_artifacts or None)
    return m.DAGTask(
        name=scope.task_names[task.name],
        template=template,
        depends=_depends(scope, task),
        when=condition(scope, task, target, values) if task.condition else None,
        arguments=arguments,
    )


def _depends(scope: Scope, task: ir.Task) -> str | None:
    upstream = sorted(scope.task_names[t] for t in scope.upstream[task.name])
    if task.run_after_failure:
        return " && ".join(argo_expr.depends_completed(t) for t in upstream) or None
    return " && ".join(upstream) or None
