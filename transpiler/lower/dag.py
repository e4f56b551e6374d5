"""DAG components (the root pipeline, sub-pipelines, condition and loop bodies) to DAG templates.

Each IR task becomes a DAG task:

* its edges (``depends``) are its ``dependentTasks`` plus every task whose outputs it reads; a
  bare task name in ``depends`` means Succeeded, Skipped or Daemoned, so a task after a skipped
  condition still runs, as on KFP;
* its arguments carry the typed wire encoding of ``docs/runtime-contract.md``;
* ``triggerPolicy.condition`` (CEL) becomes ``when`` (``transpiler.cel``);
* ``ALL_UPSTREAM_TASKS_COMPLETED`` (exit handlers, ``ignore_upstream_failure``) waits for any
  outcome of its upstream tasks, and those tasks join the DAG's ``target``, so that the DAG (and
  the run) still fails when they failed: an Argo DAG's phase comes only from its targets;
* a ``dsl.ParallelFor`` task calls a loop template: one DAG task with ``withItems`` or
  ``withParam`` over the iteration template, ``parallelism`` from the iterator policy, and the
  loop's (collected) outputs aggregated back into typed lists (``lower.loop``);
* a task whose executor has a Kubernetes platform spec binds the template's platform inputs
  (``lower.platform``), and a DeletePVC task waits for the tasks that mount its claim;
* a ``dsl.importer`` task is no Argo task: its consumers get the artifact's location as their
  argument (``lower.importer``) and wait for what the importer waited for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hera.workflows import models as m

from transpiler import argo_expr, cel, ir, names, placeholders, wire, wire_expr
from transpiler.lower import collected, importer, io, platform
from transpiler.lower.context import TASK_NAME_PARAMETER, Context
from transpiler.lower.plan import Plan

MSG_CONSTANT_TYPE = "The constant for input {name!r} does not fit its type {type}: {problem}"
MSG_ROOT_ARTIFACT = "Pipeline-level input artifacts have no Argo equivalent in a self-contained workflow. Produce the artifact in a task (e.g. dsl.importer) instead"
MSG_CONDITION = "Condition {condition!r}, at character {offset}: {message}"
MSG_LOOP_REUSE = "Component {component!r} is the body of a dsl.ParallelFor loop and cannot be used by another task"
MSG_LOOP_CONTAINER = "A dsl.ParallelFor loop must iterate over a DAG component; {component!r} is a container component"
MSG_IMPORTER_TASK = "A dsl.importer task with {what} is not supported: the importer runs no pod of its own"
MSG_EMPTY_DAG = "This DAG holds only dsl.importer tasks, which become no Argo tasks; Argo needs at least one task"

# Argo node phases to KFP task states, for dsl.PipelineTaskFinalStatus.
_FINAL_STATES = (("Succeeded", "SUCCEEDED"), ("Skipped", "SKIPPED"), ("Omitted", "NOT_TRIGGERED"))


@dataclass(frozen=True)
class Value:
    """A parameter value as Argo sees it: ``tag`` is what goes into an argument (wire text, a
    simple tag or an expression tag); ``expr`` is an expression whose value is that wire text."""

    tag: str
    expr: str


@dataclass
class Scope:
    """One DAG template being lowered: where its tasks' values come from."""

    ctx: Context
    plan: Plan
    component: ir.Component
    task_names: dict[str, str]
    importers: set[str] = field(init=False)  # dsl.importer tasks: no Argo tasks
    upstream: dict[str, set[str]] = field(init=False)  # task -> the tasks its DAG task depends on
    reported: set[str] = field(init=False, default_factory=set)  # importer problems already reported

    def __post_init__(self) -> None:
        assert self.component.dag is not None
        pipeline = self.ctx.pipeline
        self.importers = {t.name for t in self.component.dag.tasks if pipeline.importer(t.component)}
        self.upstream = _upstream_graph(pipeline, self.component, self.importers)

    @property
    def is_root(self) -> bool:
        return self.component.name == "root"

    def component_input(self, name: str) -> Value:
        argo_name = names.parameter_name(name)
        if self.is_root:
            return Value(argo_expr.workflow_parameter(argo_name), argo_expr.workflow_parameter_var(argo_name))
        return Value(argo_expr.input_parameter(argo_name), argo_expr.input_parameter_var(argo_name))

    def task_output(self, task: str, name: str) -> Value:
        argo_task = self.task_names[task]
        return Value(
            argo_expr.task_output_parameter(argo_task, name), argo_expr.task_output_parameter_var(argo_task, name)
        )


def lower_dag(ctx: Context, component: ir.Component, plan: Plan) -> m.Template:
    assert component.dag is not None
    scope = Scope(ctx, plan, component, plan.task_names(component))
    tasks = [_task(scope, task) for task in component.dag.tasks if task.name not in scope.importers]
    if not tasks:
        ctx.unsupported(MSG_EMPTY_DAG, component.pointer + "/dag")
    loop = plan.loop_task(component)
    inputs = None if scope.is_root else dag_inputs(component, plan)
    collect_inputs = [collected.LOOP_NODE_PARAMETER] if loop and plan.collects(component) else []
    collect_inputs += [collected.key_parameter(output) for output in plan.collect_inputs(component)]
    collect_inputs += [collected.key_parameter(output) for output in plan.list_outputs(component)]
    if collect_inputs:
        inputs = inputs or m.Inputs()
        inputs.parameters = (inputs.parameters or []) + [m.Parameter(name=name) for name in collect_inputs]
    return m.Template(
        name=plan.iteration_template(component.name) if loop else plan.dag_template(component.name),
        inputs=inputs,
        outputs=_outputs(scope),
        dag=m.DAGTemplate(tasks=tasks, **_targets(scope)),
    )


def dag_inputs(component: ir.Component, plan: Plan, skip: str | None = None) -> m.Inputs | None:
    """The inputs of a DAG template for ``component`` (without the input ``skip``, a loop item),
    and the prefixes of its list outputs (``lower.collected``). A list input is its manifest alone."""
    parameters = [
        m.Parameter(name=names.parameter_name(p.name), default=io.parameter_default(p))
        for p in component.inputs.parameters
        if p.name != skip
    ]
    parameters += [
        m.Parameter(name=io.metadata_parameter(a.name), default=wire.NONE if a.is_list else io.EMPTY_METADATA)
        for a in component.inputs.artifacts
        if a.name != skip
    ]
    artifacts = [
        m.Artifact(name=names.parameter_name(a.name), optional=True if a.optional else None)
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
    parameters = [_output_parameter(scope, out, names.parameter_name) for out in dag.parameter_outputs]
    artifacts = []
    for out in dag.artifact_outputs:
        if scope.plan.loop_task(scope.component) is not None:  # an iteration: its items of a list
            parameters.append(_iteration_items(scope, out))
            continue
        parameters.append(_output_parameter(scope, out, io.metadata_parameter))
        if not scope.plan.carries_list(scope.component, out.name):
            artifacts.append(_output_artifact(scope, out))
        elif len(out.sources) != 1:
            scope.ctx.unsupported(collected.MSG_ONE_OF, out.pointer)
    if not parameters and not artifacts:
        return None
    return m.Outputs(parameters=parameters or None, artifacts=artifacts or None)


def _output_parameter(scope: Scope, out: ir.DagOutput, argo_name) -> m.Parameter:
    """A DAG output parameter (``argo_name`` maps IR output names to the Argo parameter: the
    value itself, or an artifact's metadata companion)."""
    if any(s.task in scope.importers for s in out.sources):
        scope.ctx.unsupported(importer.MSG_IMPORTER_OUTPUT, out.pointer)
    if len(out.sources) == 1:
        source = out.sources[0]
        value_from = m.ValueFrom(
            parameter=scope.task_output(source.task, argo_name(source.name)).tag,
            default=wire.NONE if _may_skip(scope, source.task) else None,
        )
    else:
        picks = [(s.task, scope.task_output(s.task, argo_name(s.name)).expr) for s in out.sources]
        value_from = m.ValueFrom(expression=_first_that_ran(scope, picks))
    return m.Parameter(name=argo_name(out.name), value_from=value_from)


def _iteration_items(scope: Scope, out: ir.DagOutput) -> m.Parameter:
    """An iteration's items of a collected output (``lower.collected``; ``lower.loop`` reports
    the sources it cannot collect)."""
    name = io.metadata_parameter(out.name)
    if len(out.sources) != 1:
        return m.Parameter(name=name, value=wire.NONE)
    source = out.sources[0]
    value = f"({argo_expr.optional_task_output_parameter_var(scope.task_names[source.task], io.metadata_parameter(source.name))} ?? {wire_expr.string(wire.NONE)})"
    if scope.plan.source_carries_list(scope.component, source):
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
            optional=True if _may_skip(scope, source.task) else None,
        )
    picks = [
        (s.task, argo_expr.task_output_artifact_var(scope.task_names[s.task], names.parameter_name(s.name)))
        for s in out.sources
    ]
    return m.Artifact(name=name, from_expression=_first_that_ran(scope, picks))


def _first_that_ran(scope: Scope, picks: list[tuple[str, str]]) -> str:
    """dsl.OneOf: the value of the first task (of ``picks``: IR task, expression) that
    succeeded. When none did, the evaluation fails (``int()`` of a text), as on KFP; a nil
    result would become the text ``<nil>`` before Argo 4.0.7."""
    expr = f"int({wire_expr.string('kfp2argo: dsl.OneOf: none of its branches ran')})"
    for task, value in reversed(picks):
        status = argo_expr.task_status_var(scope.task_names[task])
        expr = f"{status} == 'Succeeded' ? {value} : ({expr})"
    return expr


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


def _upstream(task: ir.Task) -> set[str]:
    """The sibling tasks a task names or reads from in the PipelineSpec."""
    upstream = set(task.dependent_tasks)
    for binding in task.parameters:
        if isinstance(binding.source, (ir.TaskOutput, ir.TaskFinalStatus)):
            upstream.add(binding.source.task)
    upstream |= {b.source.task for b in task.artifacts if isinstance(b.source, ir.TaskOutput)}
    return upstream


def _upstream_graph(pipeline: ir.Pipeline, component: ir.Component, importers: set[str]) -> dict[str, set[str]]:
    """Each task's upstream tasks: those it names or reads from, with importers (no Argo tasks)
    replaced by what they wait for; a DeletePVC task also waits for the tasks that mount its
    claim, unless one of them runs after it."""
    assert component.dag is not None
    direct = {t.name: _direct_upstream(pipeline, t) for t in component.dag.tasks}

    def without_importers(names: set[str], seen: frozenset[str] = frozenset()) -> set[str]:
        found: set[str] = set()
        for name in names:
            if name not in importers:
                found.add(name)
            elif name not in seen:
                found |= without_importers(direct[name], seen | {name})
        return found

    graph = {name: without_importers(upstream) for name, upstream in direct.items()}
    for task in component.dag.tasks:
        claim = platform.claim_deleted(pipeline, task)
        for other in component.dag.tasks if claim is not None else ():
            if other.name != task.name and other.name not in importers and task.name not in _ancestors(graph, other.name) \
                    and platform.mounts_claim(pipeline, component, other, claim):
                graph[task.name].add(other.name)
    return graph


def _ancestors(graph: dict[str, set[str]], name: str) -> set[str]:
    found: set[str] = set()
    todo = list(graph.get(name, ()))
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += graph.get(current, ())
    return found


def _direct_upstream(pipeline: ir.Pipeline, task: ir.Task) -> set[str]:
    """``_upstream`` and the tasks whose outputs the task's platform spec reads."""
    return _upstream(task) | {v.source.task for v in _platform_values(pipeline, task) if isinstance(v.source, ir.TaskOutput)}


def _platform_values(pipeline: ir.Pipeline, task: ir.Task) -> tuple[ir.PlatformValue, ...]:
    """The run-time platform values of the executor a task runs."""
    component = pipeline.components.get(task.component)
    executor = pipeline.executors.get(component.executor or "") if component else None
    return executor.kubernetes.run_time_values() if executor and executor.kubernetes else ()


def _task(scope: Scope, task: ir.Task) -> m.DAGTask:
    ctx, plan = scope.ctx, scope.plan
    target = ctx.pipeline.components[task.component]
    _check_loop(scope, task, target)
    template = plan.template_for(scope.component, task)
    values = {b.name: _parameter_value(scope, task, target, b) for b in task.parameters}
    parameters = [m.Parameter(name=names.parameter_name(name), value=v.tag) for name, v in values.items()]
    parameters += [
        m.Parameter(name=v.input, value=_platform_value(scope, task, v).tag) for v in _platform_values(ctx.pipeline, task) if v.input
    ]
    artifacts: list[m.Artifact] = []
    for binding in task.artifacts:
        artifact, metadata = _artifact_argument(scope, task, binding)
        artifacts += [artifact] if artifact else []
        if plan.carries_metadata(target) or metadata.name == io.artifact_list_parameter(binding.name):
            parameters.append(metadata)
    variant = plan.variant(scope.component, task)
    if variant and variant.imported and not plan.carries_metadata(target):
        bindings = {b.name: b for b in task.artifacts}
        parameters += [
            m.Parameter(name=importer.uri_parameter(name), value=_imported_uri(scope, bindings[name]))
            for name in sorted(variant.imported_names())
        ]
    for artifact, (loop_output, via) in sorted(plan.collected_outputs(scope.component, task).items()):
        key = collected.element_key(loop_output, False) if via is None else argo_expr.input_parameter(collected.key_parameter(via))
        parameters.append(m.Parameter(name=collected.key_parameter(artifact), value=key))
    parameters += [m.Parameter(name=collected.key_parameter(o), value=_list_prefix(scope, task, o)) for o in plan.list_outputs(target)]
    if plan.needs_task_name(template):
        parameters.append(m.Parameter(name=TASK_NAME_PARAMETER, value=wire.wire_value(task.display_name, "STRING")))
    arguments = None
    if parameters or artifacts:
        arguments = m.Arguments(parameters=parameters or None, artifacts=artifacts or None)
    return m.DAGTask(
        name=scope.task_names[task.name],
        template=template,
        depends=_depends(scope, task),
        when=_when(scope, task, target, values) if task.condition else None,
        arguments=arguments,
    )


def _check_loop(scope: Scope, task: ir.Task, target: ir.Component) -> None:
    loop = scope.plan.loop_task(target)
    if task.iterator is not None and target.dag is None:
        scope.ctx.unsupported(MSG_LOOP_CONTAINER.format(component=target.name), task.iterator.pointer)
    elif loop is not None and loop != task:
        scope.ctx.unsupported(MSG_LOOP_REUSE.format(component=target.name), task.pointer)


def _depends(scope: Scope, task: ir.Task) -> str | None:
    upstream = sorted(scope.task_names[t] for t in scope.upstream[task.name])
    if task.run_after_failure:
        return " && ".join(argo_expr.depends_completed(t) for t in upstream) or None
    return " && ".join(upstream) or None


def _when(scope: Scope, task: ir.Task, target: ir.Component, values: dict[str, Value]) -> str | None:
    operands = {}
    bindings = {b.name: b for b in task.parameters}
    for name, value in values.items():
        parameter_type = target.inputs.parameter_type(name)
        canonical = _canonical(scope.ctx.pipeline, scope.component, task, bindings[name], parameter_type)
        operands[name] = cel.Operand(parameter_type, value.expr, canonical)
    assert task.condition is not None
    try:
        return argo_expr.expression(cel.translate(task.condition, operands))
    except cel.ConditionError as err:
        message = MSG_CONDITION.format(condition=task.condition, offset=err.offset + 1, message=err.message)
        scope.ctx.unsupported(message, task.condition_pointer)
        return None


def _canonical(pipeline: ir.Pipeline, component: ir.Component, task: ir.Task, binding: ir.ParameterBinding,
               parameter_type: str, seen: frozenset[str] = frozenset()) -> bool:
    """Whether the wire text a task input receives is always canonical for ``parameter_type``
    and present (``cel.Operand.canonical``): a constant other than None; an output, declared
    with that type, of a sibling task running a Python component (whose launcher writes
    canonical text by the declared type or fails the pod), read only after that task
    succeeded; or an input of the enclosing DAG component, of that type, that every task
    calling the component binds to such a value (Argo passes it through unchanged)."""
    source = binding.source
    if isinstance(source, ir.Constant):
        try:
            wire.wire_value(source.value, parameter_type)
        except ValueError:
            return False  # reported by _parameter_value
        return source.value is not None
    if isinstance(source, ir.TaskOutput):
        if task.run_after_failure or component.dag is None:
            return False
        producer = pipeline.components.get(component.dag.task(source.task).component)
        if producer is None or producer.dag is not None:
            return False
        executor = pipeline.executors.get(producer.executor or "")
        output = producer.outputs.parameter(source.name)
        return (executor is not None and placeholders.is_python_component(executor.argv)
                and output is not None and output.type == parameter_type)
    if not isinstance(source, ir.ComponentInput) or binding.field is not None or component.name in seen:
        return False
    definition = component.inputs.parameter(source.name)
    if definition is None or definition.type != parameter_type:
        return False
    if component is pipeline.root:
        return False  # a pipeline parameter
    if parameter_type in ("NUMBER_INTEGER", "NUMBER_DOUBLE"):
        # Argo substitutes a finished task's DAG template again with the task's unresolved
        # arguments (tag text, not a number), and 4.0.0-4.0.3 make a float() failing then an
        # Error; validated decoding never fails.
        return False
    calls = [(parent, t) for parent in (pipeline.root, *pipeline.components.values()) if parent.dag is not None
             for t in parent.dag.tasks if t.component == component.name]
    if not calls:
        return False
    for parent, caller in calls:
        outer = next((b for b in caller.parameters if b.name == source.name), None)
        if outer is None or (caller.iterator is not None and caller.iterator.item_input == source.name):
            return False  # a default, or a loop item
        if not _canonical(pipeline, parent, caller, outer, parameter_type, seen | {component.name}):
            return False
    return True


def _parameter_value(scope: Scope, task: ir.Task, target: ir.Component, binding: ir.ParameterBinding) -> Value:
    source = binding.source
    if isinstance(source, ir.Constant):
        parameter_type = target.inputs.parameter_type(binding.name)
        try:
            text = wire.wire_value(source.value, parameter_type)
        except ValueError as err:
            message = MSG_CONSTANT_TYPE.format(name=binding.name, type=parameter_type, problem=err)
            scope.ctx.unsupported(message, binding.pointer)
            text = ""
        return Value(text, wire_expr.string(text))
    if isinstance(source, ir.TaskOutput):
        if task.run_after_failure:
            definition = target.inputs.parameter(binding.name)
            default = (io.parameter_default(definition) if definition else None) or wire.NONE
            return _after_failure(scope, source.task, names.parameter_name(source.name), default)
        return scope.task_output(source.task, names.parameter_name(source.name))
    if isinstance(source, ir.TaskFinalStatus):
        expr = _final_status(scope, source.task)
        return Value(argo_expr.expression(expr), expr)
    value = scope.component_input(source.name)
    if binding.field is None:
        return value
    field = wire_expr.string(binding.field)
    missing = wire_expr.error(f"the loop item has no field {binding.field!r}")
    item = wire_expr.decode_json(value.expr, "map")
    expr = f"map([{item}], # == nil || !({field} in #) ? {missing} : {wire_expr.encode(f'#[{field}]')})[0]"
    return Value(argo_expr.expression(expr), expr)


def _after_failure(scope: Scope, task: str, output: str, default: str) -> Value:
    """An output of ``task`` read by a task that also runs when ``task`` failed, and then has
    no outputs: the consumer's default instead (as KFP gives it). ``get`` keeps Argo from
    waiting for the missing output (it requeues a task whose ``tasks.*`` reference is missing)."""
    argo_task = scope.task_names[task]
    outputs = f"get(get(get(tasks[{wire_expr.string(argo_task)}], 'outputs'), 'parameters'), {wire_expr.string(output)})"
    fallback = wire_expr.string(default)
    expr = f"{argo_expr.task_status_var(argo_task)} == 'Succeeded' ? ({outputs} ?? {fallback}) : {fallback}"
    return Value(argo_expr.expression(expr), expr)


def _final_status(scope: Scope, task: str) -> str:
    """dsl.PipelineTaskFinalStatus of ``task`` as STRUCT wire text, shaped as the KFP executor
    reads it (``state``, ``pipelineJobResourceName``, ``pipelineTaskName``, ``error``)."""
    status = argo_expr.task_status_var(scope.task_names[task])
    state = wire_expr.string("FAILED")
    for phase, kfp_state in reversed(_FINAL_STATES):
        state = f"{status} == {wire_expr.string(phase)} ? {wire_expr.string(kfp_state)} : ({state})"
    failed = f"{{'code': 1, 'message': {wire_expr.string(f'Task {task} failed.')} }}"
    error = f"{status} in ['Failed', 'Error'] ? {failed} : {{ }}"
    fields = [
        f"'state': {state}",
        f"'pipelineJobResourceName': {argo_expr.workflow_name_var()}",
        f"'pipelineTaskName': {wire_expr.string(task)}",
        f"'error': ({error})",
    ]
    return wire_expr.encode("{" + ", ".join(fields) + " }")


def _artifact_argument(scope: Scope, task: ir.Task, binding: ir.ArtifactBinding) -> tuple[m.Artifact, m.Parameter]:
    name = names.parameter_name(binding.name)
    source = binding.source
    optional = None
    if isinstance(source, ir.TaskOutput) and source.task in scope.importers:
        return _imported_argument(scope, binding)
    if _is_list(scope, source) or _receives_list(scope, task, binding):
        return _list_argument(scope, task, binding)
    if isinstance(source, ir.ComponentInput):
        if scope.is_root:
            scope.ctx.unsupported(MSG_ROOT_ARTIFACT, binding.pointer)
        origin = argo_expr.input_artifact(names.parameter_name(source.name))
        metadata = scope.component_input(io.metadata_parameter(source.name)).tag
    else:
        producer = scope.task_names[source.task]
        origin = argo_expr.task_output_artifact(producer, names.parameter_name(source.name))
        metadata = argo_expr.task_output_parameter(producer, io.metadata_parameter(source.name))
        if task.run_after_failure:  # a failed producer has no artifacts: leave the input out
            optional = True
            metadata = _after_failure(scope, source.task, io.metadata_parameter(source.name), io.EMPTY_METADATA).tag
    artifact = m.Artifact(name=name, from_=origin, optional=optional)
    return artifact, m.Parameter(name=io.metadata_parameter(binding.name), value=metadata)


def _is_list(scope: Scope, source: ir.TaskOutput | ir.ComponentInput) -> bool:
    """Whether an artifact a task reads is a list of artifacts at run time."""
    if isinstance(source, ir.ComponentInput):
        definition = scope.component.inputs.artifact(source.name)
        return definition is not None and definition.is_list
    if source.task in scope.importers:
        return False
    return scope.plan.source_carries_list(scope.component, ir.OutputSource(source.task, source.name))


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
    expected, actual = _receives_list(scope, task, binding), _is_list(scope, source)
    if expected != actual:
        shape = {True: "a list of artifacts", False: "one artifact"}
        scope.ctx.unsupported(collected.MSG_SHAPE.format(expected=shape[expected], actual=shape[actual]), binding.pointer)
    manifest_name = io.metadata_parameter(binding.name)
    if isinstance(source, ir.ComponentInput):
        manifest = scope.component_input(io.metadata_parameter(source.name))
    elif task.run_after_failure:
        manifest = _after_failure(scope, source.task, io.metadata_parameter(source.name), wire.NONE)
    else:
        manifest = scope.task_output(source.task, io.metadata_parameter(source.name))
    if target.dag is not None:
        return None, m.Parameter(name=manifest_name, value=manifest.tag)
    key = collected.download_key(manifest.expr)
    artifact = m.Artifact(name=names.parameter_name(binding.name), optional=True, s3=m.S3Artifact(key=key))
    if scope.plan.carries_metadata(target):
        return artifact, m.Parameter(name=manifest_name, value=manifest.tag)
    definition = target.inputs.artifact(binding.name)
    assert definition is not None
    listed = collected.artifact_list(manifest.expr, io.input_artifact_path(binding.name), definition.schema_title, definition.schema_version)
    return artifact, m.Parameter(name=io.artifact_list_parameter(binding.name), value=listed)


def _list_prefix(scope: Scope, task: ir.Task, output: str) -> str:
    """Where the DAG task ``task`` puts the elements of its list output ``output``: under the
    iteration's element or the DAG's own prefix when the DAG passes the list up as its output,
    else under a new prefix."""
    assert scope.component.dag is not None
    for out in scope.component.dag.artifact_outputs:
        if out.sources == (ir.OutputSource(task.name, output),):
            if scope.plan.loop_task(scope.component) is not None:
                return collected.element_key(out.name, True)
            if not scope.is_root:
                return argo_expr.input_parameter(collected.key_parameter(out.name))
    return collected.fresh_prefix(scope.task_names[task.name], output)


# platform values and imported artifacts --------------------------------------------------------


def _platform_value(scope: Scope, task: ir.Task, value: ir.PlatformValue) -> Value:
    """A run-time platform value as the task binds it (checked against the DAG by ``parse``)."""
    source = value.source
    if isinstance(source, ir.TaskOutput):
        if task.run_after_failure:
            return _after_failure(scope, source.task, names.parameter_name(source.name), wire.NONE)
        return scope.task_output(source.task, names.parameter_name(source.name))
    assert isinstance(source, ir.ComponentInput)
    return scope.component_input(source.name)


@dataclass(frozen=True)
class _ImportedUri:
    """An importer task's URI in a consumer's scope: its scheme, and the URI (a constant) or
    the value that holds it at run time."""

    scheme: str
    uri: str | None
    value: Value | None


def _importer_uri(scope: Scope, producer: ir.Task) -> _ImportedUri | None:
    """The URI of an importer task, or None after reporting (once) why it cannot be read."""
    pipeline = scope.ctx.pipeline
    spec = pipeline.importer(producer.component)
    assert spec is not None
    found, problem = importer.scheme(pipeline, scope.component, producer)
    at = spec.pointer + "/artifactUri"
    for what, present in (("a condition", producer.condition), ("a loop", producer.iterator)):
        if present:
            problem, at = MSG_IMPORTER_TASK.format(what=what), producer.pointer
    if problem or found is None:
        if producer.name not in scope.reported:
            scope.reported.add(producer.name)
            scope.ctx.unsupported(problem or "", at)
        return None
    source = importer.uri_source(spec, producer)
    if isinstance(source, ir.Constant):
        return _ImportedUri(found, source.value, None)
    return _ImportedUri(found, None, _importer_inputs(scope, producer)[str(spec.uri)])


def _importer_inputs(scope: Scope, producer: ir.Task) -> dict[str, Value]:
    component = scope.ctx.pipeline.components[producer.component]
    return {b.name: _parameter_value(scope, producer, component, b) for b in producer.parameters}


def _imported_argument(scope: Scope, binding: ir.ArtifactBinding) -> tuple[m.Artifact, m.Parameter]:
    """The argument artifact for an importer's artifact: its location, downloaded as it is, and
    its metadata companion (the importer's metadata and the original URI)."""
    assert isinstance(binding.source, ir.TaskOutput) and scope.component.dag is not None
    producer = scope.component.dag.task(binding.source.task)
    spec = scope.ctx.pipeline.importer(producer.component)
    assert spec is not None
    name = names.parameter_name(binding.name)
    metadata_name = io.metadata_parameter(binding.name)
    uri = _importer_uri(scope, producer)
    if uri is None:
        return m.Artifact(name=name), m.Parameter(name=metadata_name, value=io.EMPTY_METADATA)
    values = _importer_inputs(scope, producer)
    inputs = {
        b.name: (True, importer.interpolated(values[b.name].tag)) if isinstance(b.source, ir.Constant) else (False, values[b.name].expr)
        for b in producer.parameters
    }

    def problem(message: str, at: str) -> None:
        if at not in scope.reported:
            scope.reported.add(at)
            scope.ctx.unsupported(message, at)

    uri_expr = uri.value.expr if uri.value else None
    metadata = importer.companion(spec, uri.scheme, uri.uri, uri_expr, inputs, problem)
    location = importer.location(uri.scheme, uri.uri, uri_expr)
    artifact = m.Artifact(name=name, archive=m.ArchiveStrategy(none=m.NoneStrategy()), **location)
    return artifact, m.Parameter(name=metadata_name, value=metadata)


def _imported_uri(scope: Scope, binding: ir.ArtifactBinding) -> str:
    """What a container component sees as ``{{$.inputs.artifacts['x'].uri}}`` for an artifact
    that may be imported: the importer's URI (as any string input, its wire text); through a
    DAG input, the URI the metadata companion carries, else (an artifact a task made) the local
    path, as for any artifact."""
    source = binding.source
    if isinstance(source, ir.TaskOutput):
        assert scope.component.dag is not None
        uri = _importer_uri(scope, scope.component.dag.task(source.task))
        if uri is None:
            return ""
        return uri.value.tag if uri.value else wire.wire_value(uri.uri, "STRING")
    companion = wire_expr.decode_json(scope.component_input(io.metadata_parameter(source.name)).expr, "map")
    key = wire_expr.string(importer.URI_KEY)
    local = wire_expr.string(io.input_artifact_path(binding.name))
    uri_expr = f"map([{companion}], # != nil && type(get(#, {key})) == 'string' ? get(#, {key}) : {local})[0]"
    return argo_expr.expression(wire_expr.encode(uri_expr))
