"""The ``plan`` pass: which Argo templates a pipeline needs, and every template and task name.

A DAG component becomes one DAG template (a loop body two: the loop and its iteration). A
container component becomes one container template per *variant* (``analysis.Variant``): tasks
that need different template-level settings get their own template; a component with one
variant keeps its plain name, several get a hash suffix each, and variants that would build the
same template share one. ``dsl.importer`` tasks get no template.

The plan is also where the workflow's size is known before anything is built: more templates
than Argo 4's full CRDs admit is a located error here (``partition`` has already split DAGs of
more than 200 tasks).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from transpiler import ir, names
from transpiler.analysis import Analysis, Variant
from transpiler.errors import OutputSchemaError
from transpiler.load import Source

MAX_TEMPLATES = 200
MSG_TOO_MANY_TEMPLATES = (
    "The workflow needs {count} templates ({dags} DAG templates, including any partitions of DAGs "
    "with more than 200 tasks, and {others} container and resource templates); Argo 4's full CRDs "
    "accept at most 200, so the API server would refuse it. Split the pipeline into smaller ones"
)


class Plan:
    def __init__(self, pipeline: ir.Pipeline, facts: Analysis) -> None:
        self.pipeline = pipeline
        self.facts = facts
        self.namer = names.Namer()
        self._variants: dict[str, dict[str, Variant]] = {}
        self._task_variant: dict[tuple[str, str], Variant] = {}
        self._variant_names: dict[str, str] = {}
        self._task_names: dict[str, dict[str, str]] = {}
        self._unique: list[tuple[str, Variant]] = []
        for parent, task in facts.container_tasks():
            variant = facts.variant(parent, task)
            self._variants.setdefault(variant.component, {})[variant.key()] = variant
            self._task_variant[(parent.name, task.name)] = variant
        self._name_templates()
        self._task_name_templates = self._find_task_name_templates()

    def _name_templates(self) -> None:
        root_name = names.dns_label(self.pipeline.name or "pipeline")
        self.namer.assign("dag:root", root_name)
        for component in self.facts.reachable_dags()[1:]:
            self.namer.assign("dag:" + component.name, names.dns_label(component.name))
            if self.facts.loop_task(component) is not None:
                self.namer.assign("iteration:" + component.name, names.dns_label(component.name + "-iteration"))
        by_signature: dict[str, str] = {}
        for component_name in sorted(self._variants):
            variants = self._variants[component_name]
            base = names.dns_label(component_name)
            for key in sorted(variants):
                signature = self._signature(variants[key])
                if signature in by_signature:  # identical executor and interface: share the template
                    self._variant_names[key] = by_signature[signature]
                    continue
                wanted = base if len(variants) == 1 else f"{base[:54]}-{names.short_hash(key)}"
                self._variant_names[key] = self.namer.assign("container:" + key, wanted)
                by_signature[signature] = self._variant_names[key]
                self._unique.append((self._variant_names[key], variants[key]))

    def _signature(self, variant: Variant) -> str:
        """What a container template is made of, without names and source positions."""
        component = self.pipeline.components[variant.component]
        executor = self.facts.executor(component)
        strip = {"pointer", "name"}
        parts = [
            _plain(component.inputs, strip),
            _plain(component.outputs, strip),
            _plain(executor, {"pointer"}) if executor else None,
            json.loads(variant.key())[1:],
        ]
        return json.dumps(parts, sort_keys=True, default=repr)

    def _find_task_name_templates(self) -> set[str]:
        from transpiler import placeholders

        result = set()
        for name, variant in self.container_variants():
            executor = self.facts.executor(self.pipeline.components[variant.component])
            if executor and placeholders.uses_task_name(executor.argv):
                result.add(name)
        return result

    # --- queries --------------------------------------------------------------------------------

    def dag_components(self) -> list[ir.Component]:
        """Root first, then the other DAG components sorted by name."""
        return self.facts.reachable_dags()

    def container_variants(self) -> list[tuple[str, Variant]]:
        """(template name, variant) for every container template, sorted by name."""
        return sorted(self._unique, key=lambda item: item[0])

    def template_count(self) -> tuple[int, int]:
        """(DAG templates, container and resource templates) the workflow will hold."""
        dags = self.dag_components()
        return len(dags) + sum(1 for c in dags if self.facts.loop_task(c) is not None), len(self._unique)

    def dag_template(self, component_name: str) -> str:
        return self.namer.get("dag:" + component_name)

    def iteration_template(self, component_name: str) -> str:
        """The template that runs one item of a loop (``dag_template`` runs the loop)."""
        return self.namer.get("iteration:" + component_name)

    def variant(self, parent: ir.Component, task: ir.Task) -> Variant | None:
        """The variant of a task that runs a container component."""
        return self._task_variant.get((parent.name, task.name))

    def template_for(self, parent: ir.Component, task: ir.Task) -> str:
        target = self.pipeline.components[task.component]
        if target.dag is not None:
            return self.dag_template(target.name)
        return self._variant_names[self._task_variant[(parent.name, task.name)].key()]

    def task_names(self, component: ir.Component) -> dict[str, str]:
        """IR task name to Argo task name, unique within the DAG."""
        if component.name not in self._task_names:
            namer = names.Namer()
            assert component.dag is not None
            self._task_names[component.name] = {
                task.name: namer.assign(task.name, names.dns_label(task.display_name or task.name)) for task in component.dag.tasks
            }
        return self._task_names[component.name]

    def needs_task_name(self, template_name: str) -> bool:
        return template_name in self._task_name_templates


def plan(source: Source, pipeline: ir.Pipeline, facts: Analysis) -> Plan:
    """The plan of a (partitioned) pipeline.

    Raises:
        OutputSchemaError: more templates than Argo 4's full CRDs admit in one workflow.
    """
    result = Plan(pipeline, facts)
    dags, others = result.template_count()
    if dags + others > MAX_TEMPLATES:
        message = MSG_TOO_MANY_TEMPLATES.format(count=dags + others, dags=dags, others=others)
        raise OutputSchemaError([source.spec_diagnostic(message, "/components" if pipeline.components else "/root")])
    return result


def _plain(value: Any, drop: set[str]) -> Any:
    """A dataclass tree as plain data without the fields in ``drop`` (on parameter/artifact defs
    the name is kept: it is part of the interface)."""
    if dataclasses.is_dataclass(value):
        keep = {"name"} if isinstance(value, (ir.ParameterDef, ir.ArtifactDef)) else set()
        return {
            f.name: _plain(getattr(value, f.name), drop)
            for f in dataclasses.fields(value)
            if f.name not in drop or f.name in keep
        }
    if isinstance(value, (list, tuple)):
        return [_plain(v, drop) for v in value]
    return value
