"""Parameter values as the tasks of one DAG template see them.

A value is known to Argo in two forms (:class:`Value`): the text that goes into a task argument
(wire text, a simple tag or an expression tag) and an expr-lang expression whose value is that
wire text (for conditions and other expressions). :class:`Scope` knows where the tasks of one DAG
template get their values: a constant (its wire text, ``docs/runtime-contract.md``), an input of
the DAG (a workflow parameter at the root), a sibling task's output, the consumer's default when
the producer may have failed (``ignore_upstream_failure``, exit tasks), a task's final status
(``dsl.PipelineTaskFinalStatus``), one field of a loop item, and the run-time values of the
Kubernetes platform spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from transpiler import argo_expr, cel, expr, ir, names, placeholders, wire
from transpiler.analysis import parameter_default
from transpiler.lower import io
from transpiler.lower.context import Context


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
    component: ir.Component
    task_names: dict[str, str] = field(init=False)
    importers: set[str] = field(init=False)  # dsl.importer tasks: no Argo tasks
    upstream: dict[str, set[str]] = field(init=False)  # task -> the tasks its DAG task depends on

    def __post_init__(self) -> None:
        self.task_names = self.ctx.plan.task_names(self.component)
        self.importers = self.ctx.facts.importer_tasks(self.component)
        self.upstream = self.ctx.facts.upstream(self.component)

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

    def after_failure(self, task: str, output: str, default: str) -> Value:
        """An output of ``task`` read by a task that also runs when ``task`` failed, and then has
        no outputs: the consumer's default instead (as KFP gives it)."""
        argo_task = self.task_names[task]
        text = expr.output_after_failure(argo_task, argo_expr.task_status_var(argo_task), output, default)
        return Value(argo_expr.expression(text), text)


def parameter_value(scope: Scope, task: ir.Task, target: ir.Component, binding: ir.ParameterBinding) -> Value:
    """The value a task passes for one of its input parameters."""
    source = binding.source
    if isinstance(source, ir.Constant):
        ref = placeholders.constant_placeholder(source.value)
        if ref is not None:
            return Value(*scope.ctx.constant_placeholder(ref, task, scope.task_names[task.name]))
        text = wire.wire_value(with_workspace(source.value), target.inputs.parameter_type(binding.name))
        return Value(text, expr.string(text))
    if isinstance(source, ir.TaskOutput):
        if task.run_after_failure:
            definition = target.inputs.parameter(binding.name)
            default = (parameter_default(definition) if definition else None) or wire.NONE
            return scope.after_failure(source.task, names.parameter_name(source.name), default)
        return scope.task_output(source.task, names.parameter_name(source.name))
    if isinstance(source, ir.TaskFinalStatus):
        status = argo_expr.task_status_var(scope.task_names[source.task])
        text = expr.final_status(status, source.task, argo_expr.workflow_name_var())
        return Value(argo_expr.expression(text), text)
    value = scope.component_input(source.name)
    if binding.field is None:
        return value
    text = expr.item_field(value.expr, binding.field)
    return Value(argo_expr.expression(text), text)


def with_workspace(value: Any) -> Any:
    """A constant with ``{{$.workspace_path}}`` replaced by the workspace's path, as KFP's driver
    does in a string constant (``support`` refused it where the pipeline has no workspace)."""
    if isinstance(value, str) and placeholders.WORKSPACE_PLACEHOLDER in value:
        return value.replace(placeholders.WORKSPACE_PLACEHOLDER, io.WORKSPACE_PATH)
    return value


def platform_value(scope: Scope, task: ir.Task, value: ir.PlatformValue) -> Value:
    """A run-time platform value as the task binds it (checked against the DAG by ``parse``)."""
    source = value.source
    if isinstance(source, ir.TaskOutput):
        if task.run_after_failure:
            return scope.after_failure(source.task, names.parameter_name(source.name), wire.NONE)
        return scope.task_output(source.task, names.parameter_name(source.name))
    assert isinstance(source, ir.ComponentInput)
    return scope.component_input(source.name)


def condition(scope: Scope, task: ir.Task, target: ir.Component, values: dict[str, Value]) -> str:
    """The task's ``when``: its CEL condition over the values it binds (``transpiler.cel``)."""
    assert task.condition is not None
    operands = {}
    bindings = {b.name: b for b in task.parameters}
    for name, value in values.items():
        parameter_type = target.inputs.parameter_type(name)
        canonical = scope.ctx.facts.canonical(scope.component, task, bindings[name], parameter_type)
        operands[name] = cel.Operand(parameter_type, value.expr, canonical)
    return argo_expr.expression(cel.translate(task.condition, operands))
