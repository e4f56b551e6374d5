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

from transpiler import argo_expr, ir, names, wire, wire_expr
from transpiler.lower import collected, io
from transpiler.lower.context import Context
from transpiler.lower.dag import dag_inputs
from transpiler.lower.plan import Plan

ITERATION_TASK = collected.ITERATION_TASK

MSG_ITEMS = "The literal loop items are not usable: {problem}"
MSG_NO_ITEMS = "A dsl.ParallelFor loop needs items: a literal list or one of the task's input parameters"


def lower_loop(ctx: Context, component: ir.Component, task: ir.Task, plan: Plan) -> m.Template:
    iterator = task.iterator
    assert iterator is not None and component.dag is not None
    item = iterator.item_input
    with_items, with_param = _items(ctx, component, iterator)
    _check_collected(ctx, component, plan)
    loop_task = m.DAGTask(
        name=ITERATION_TASK,
        template=plan.iteration_template(component.name),
        arguments=_arguments(component, item, plan),
        with_items=with_items,
        with_param=with_param,
    )
    inputs = dag_inputs(component, plan, skip=item) or m.Inputs()
    inputs.parameters = (inputs.parameters or []) + [m.Parameter(name=collected.key_parameter(o)) for o in plan.list_outputs(component)]
    return m.Template(
        name=plan.dag_template(component.name),
        inputs=inputs if inputs.parameters or inputs.artifacts else None,
        outputs=_collected_outputs(ctx, component, plan),
        parallelism=iterator.parallelism,
        dag=m.DAGTemplate(tasks=[loop_task]),
    )


def _items(ctx: Context, component: ir.Component, iterator: ir.Iterator) -> tuple[list[m.Item] | None, str | None]:
    if iterator.raw is not None:
        return _literal_items(ctx, component, iterator), None
    if iterator.input_parameter and component.inputs.parameter(iterator.input_parameter):
        items = wire_expr.decode_json(argo_expr.input_parameter_var(names.parameter_name(iterator.input_parameter)), "array")
        # Not a list: a text that is not JSON, which Argo refuses ("could not be parsed as a JSON list").
        refused = wire_expr.error(f"the items of the loop over {iterator.input_parameter!r} are not a list")
        return None, argo_expr.expression(f"map([{items}], # == nil ? {refused} : toJson({wire_expr.encode_each('#')}))[0]")
    if iterator.input_artifact and component.inputs.artifact(iterator.input_artifact):
        manifest = argo_expr.input_parameter_var(io.metadata_parameter(iterator.input_artifact))
        return None, collected.loop_items(manifest)
    ctx.unsupported(MSG_NO_ITEMS, iterator.pointer)
    return None, None


def _literal_items(ctx: Context, component: ir.Component, iterator: ir.Iterator) -> list[m.Item] | None:
    item_type = component.inputs.parameter_type(iterator.item_input)
    try:
        values = json.loads(iterator.raw or "")
        if not isinstance(values, list):
            raise ValueError("they are not a JSON list")
        return [m.Item(wire.wire_value(v, item_type)) for v in values]
    except ValueError as err:
        ctx.unsupported(MSG_ITEMS.format(problem=err), iterator.pointer + "/items/raw")
        return None


def _check_collected(ctx: Context, component: ir.Component, plan: Plan) -> None:
    """A located error for each collected artifact the iterations cannot write (``lower.collected``)."""
    assert component.dag is not None
    for out in component.dag.artifact_outputs:
        if not collected.is_collected(component, out.name):
            continue
        if len(out.sources) != 1:
            ctx.unsupported(collected.MSG_ONE_OF, out.pointer)
            continue
        task = component.dag.task(out.sources[0].task)
        if plan.source_carries_list(component, out.sources[0]):
            continue
        if out.sources[0].name not in plan.collected_outputs(component, task):
            ctx.unsupported(collected.MSG_NESTED_PRODUCER.format(task=task.name), out.pointer)


def _arguments(component: ir.Component, item: str, plan: Plan) -> m.Arguments | None:
    parameters = [
        m.Parameter(
            name=names.parameter_name(p.name),
            value=argo_expr.loop_item() if p.name == item else argo_expr.input_parameter(names.parameter_name(p.name)),
        )
        for p in component.inputs.parameters
    ]
    parameters += [
        m.Parameter(
            name=io.metadata_parameter(a.name),
            value=collected.item_metadata() if a.name == item else argo_expr.input_parameter(io.metadata_parameter(a.name)),
        )
        for a in component.inputs.artifacts
    ]
    artifacts = [
        m.Artifact(name=names.parameter_name(a.name), s3=m.S3Artifact(key=collected.item_key()))
        if a.name == item
        else m.Artifact(
            name=names.parameter_name(a.name),
            from_=argo_expr.input_artifact(names.parameter_name(a.name)),
            optional=True if a.optional else None,
        )
        for a in component.inputs.artifacts
        if not a.is_list
    ]
    parameters += [
        m.Parameter(name=collected.key_parameter(o), value=argo_expr.input_parameter(collected.key_parameter(o)))
        for o in plan.list_outputs(component)
    ]
    if plan.collects(component):  # the iterations find their index in their node name (lower.collected)
        parameters.append(m.Parameter(name=collected.LOOP_NODE_PARAMETER, value=argo_expr.node_name()))
    if not parameters and not artifacts:
        return None
    return m.Arguments(parameters=parameters or None, artifacts=artifacts or None)


def _collected_outputs(ctx: Context, component: ir.Component, plan: Plan) -> m.Outputs | None:
    """The loop's outputs: each one the list of the values its iterations produced. An
    iteration whose producer a condition skipped yields ``kfp2argo:none`` and is left out, as
    KFP collects only the values of tasks that ran."""
    dag = component.dag
    assert dag is not None
    parameters = []
    for out in dag.parameter_outputs:
        name = names.parameter_name(out.name)
        aggregated = f"({argo_expr.optional_task_output_parameter_var(ITERATION_TASK, name)} ?? '[]')"
        produced = f"filter(fromJSON({aggregated}), # != {wire_expr.string(wire.NONE)})"
        element = wire_expr.element("#", _value_type(ctx, plan, component, out))
        values = wire_expr.encode(f"map({produced}, {element})")
        parameters.append(m.Parameter(name=name, value_from=m.ValueFrom(expression=values)))
    for name in plan.list_outputs(component):
        manifest = io.metadata_parameter(name)
        aggregated = f"fromJSON({argo_expr.optional_task_output_parameter_var(ITERATION_TASK, manifest)} ?? '[]')"
        prefix = argo_expr.input_parameter_var(collected.key_parameter(name))
        parameters.append(m.Parameter(name=manifest, value_from=m.ValueFrom(expression=collected.loop_manifest(aggregated, prefix))))
    return m.Outputs(parameters=parameters) if parameters else None


def _value_type(ctx: Context, plan: Plan, component: ir.Component, out: ir.DagOutput) -> str:
    """The type of the value a DAG output carries, traced to the task that makes it. (The IR
    declares every output of a DAG inside a loop as LIST, even a condition's pass-through of
    one value.)"""
    assert component.dag is not None
    source = out.sources[0]
    producer = ctx.pipeline.components[component.dag.task(source.task).component]
    if producer.dag is not None and plan.loop_task(producer) is None:
        inner = next((o for o in producer.dag.parameter_outputs if o.name == source.name), None)
        if inner is not None:
            return _value_type(ctx, plan, producer, inner)
    return producer.outputs.parameter_type(source.name)
