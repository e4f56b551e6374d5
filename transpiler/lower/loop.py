"""``dsl.ParallelFor`` loops: the loop template around a loop body's iteration template.

A loop component becomes two DAG templates. The *iteration* template is the body (``lower.dag``)
with the loop item as one more input. The *loop* template, which the parent task calls, holds one
DAG task that runs the iteration template once per item:

* over a literal list: ``withItems``, each item written as its wire text at compile time;
* over a list that exists only at run time (a pipeline parameter, a task output, an enclosing
  loop's item): ``withParam`` with an expression that decodes the list and re-encodes each item
  as wire text, so that an item Argo would rewrite travels escaped;
* over a list of artifacts (``artifactIterator``): ``withParam`` over its manifest's elements,
  each iteration downloading one (``lower.collected``);
* ``parallelism`` is the iterator policy's limit: on this template it bounds exactly the
  iterations, since the loop task is its only task;
* its outputs are the collected (``dsl.Collected``) outputs: Argo aggregates a looped task's
  output parameter into a JSON array of the successful iterations' values, in item order; an
  expression turns that into the typed list KFP hands to the consumer (``[]`` for no items).
  A collected artifact output is a list manifest joined from the iterations' items.
"""

from __future__ import annotations

import json

from hera.workflows import models as m

from transpiler import argo_expr, expr, ir, names, wire
from transpiler.lower import collected
from transpiler.lower.context import Context
from transpiler.lower.dag import dag_inputs

ITERATION_TASK = names.ITERATION_TASK


def lower_loop(ctx: Context, component: ir.Component, task: ir.Task) -> m.Template:
    iterator = task.iterator
    assert iterator is not None and component.dag is not None
    facts = ctx.facts
    item = iterator.item_input
    with_items, with_param = _items(component, iterator)
    loop_task = m.DAGTask(
        name=ITERATION_TASK,
        template=ctx.plan.iteration_template(component.name),
        arguments=_arguments(ctx, component, item),
        with_items=with_items,
        with_param=with_param,
    )
    inputs = dag_inputs(component, skip=item) or m.Inputs()
    inputs.parameters = (inputs.parameters or []) + [m.Parameter(name=names.collect_key_parameter(o)) for o in facts.list_outputs(component)]
    return m.Template(
        name=ctx.plan.dag_template(component.name),
        inputs=inputs if inputs.parameters or inputs.artifacts else None,
        outputs=_collected_outputs(ctx, component),
        parallelism=iterator.parallelism,
        dag=m.DAGTemplate(tasks=[loop_task]),
    )


def _items(component: ir.Component, iterator: ir.Iterator) -> tuple[list[m.Item] | None, str | None]:
    if iterator.raw is not None:
        item_type = component.inputs.parameter_type(iterator.item_input)
        return [m.Item(wire.wire_value(v, item_type)) for v in json.loads(iterator.raw)], None
    if iterator.input_parameter and component.inputs.parameter(iterator.input_parameter):
        items = argo_expr.input_parameter_var(names.parameter_name(iterator.input_parameter))
        return None, argo_expr.expression(expr.loop_items(items, iterator.input_parameter))
    assert iterator.input_artifact, "support refuses a loop without items"
    return None, collected.loop_items(argo_expr.input_parameter_var(names.metadata_parameter(iterator.input_artifact)))


def _arguments(ctx: Context, component: ir.Component, item: str) -> m.Arguments | None:
    facts = ctx.facts
    parameters = [
        m.Parameter(
            name=names.parameter_name(p.name),
            value=argo_expr.loop_item() if p.name == item else argo_expr.input_parameter(names.parameter_name(p.name)),
        )
        for p in component.inputs.parameters
    ]
    parameters += [
        m.Parameter(
            name=names.metadata_parameter(a.name),
            value=collected.item_metadata() if a.name == item else argo_expr.input_parameter(names.metadata_parameter(a.name)),
        )
        for a in component.inputs.artifacts
    ]
    artifacts = [
        m.Artifact(name=names.parameter_name(a.name), s3=m.S3Artifact(key=collected.item_key()))
        if a.name == item
        else m.Artifact(
            name=names.parameter_name(a.name),
            from_=argo_expr.input_artifact(names.parameter_name(a.name)),
            optional=True,
        )
        for a in component.inputs.artifacts
        if not a.is_list
    ]
    parameters += [
        m.Parameter(name=names.collect_key_parameter(o), value=argo_expr.input_parameter(names.collect_key_parameter(o)))
        for o in facts.list_outputs(component)
    ]
    if facts.collects(component):  # the iterations find their index in their node name (lower.collected)
        parameters.append(m.Parameter(name=names.LOOP_NODE_PARAMETER, value=argo_expr.node_name()))
    if not parameters and not artifacts:
        return None
    return m.Arguments(parameters=parameters or None, artifacts=artifacts or None)


def _collected_outputs(ctx: Context, component: ir.Component) -> m.Outputs | None:
    """The loop's outputs: each one the list of the values its iterations produced. An
    iteration whose producer a condition skipped yields ``kfp2argo:none`` and is left out, as
    KFP collects only the values of tasks that ran."""
    dag = component.dag
    assert dag is not None
    parameters = []
    for out in dag.parameter_outputs:
        name = names.parameter_name(out.name)
        aggregated = argo_expr.optional_task_output_parameter_var(ITERATION_TASK, name)
        values = expr.collected_values(aggregated, _value_type(ctx, component, out))
        parameters.append(m.Parameter(name=name, value_from=m.ValueFrom(expression=values)))
    for name in ctx.facts.list_outputs(component):
        manifest = names.metadata_parameter(name)
        aggregated = expr.aggregated(argo_expr.optional_task_output_parameter_var(ITERATION_TASK, manifest))
        prefix = argo_expr.input_parameter_var(names.collect_key_parameter(name))
        parameters.append(m.Parameter(name=manifest, value_from=m.ValueFrom(expression=expr.loop_manifest(aggregated, prefix))))
    return m.Outputs(parameters=parameters) if parameters else None


def _value_type(ctx: Context, component: ir.Component, out: ir.DagOutput) -> str:
    """The type of the value a DAG output carries, traced to the task that makes it. (The IR
    declares every output of a DAG inside a loop as LIST, even a condition's pass-through of
    one value.)"""
    assert component.dag is not None
    source = out.sources[0]
    producer = ctx.pipeline.components[component.dag.task(source.task).component]
    if producer.dag is not None and ctx.facts.loop_task(producer) is None:
        inner = next((o for o in producer.dag.parameter_outputs if o.name == source.name), None)
        if inner is not None:
            return _value_type(ctx, producer, inner)
    return producer.outputs.parameter_type(source.name)
