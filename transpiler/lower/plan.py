"""Which Argo templates a pipeline needs, and their names, decided before any is built.

A DAG component becomes one DAG template. A container component becomes one container template
per *variant*: tasks that use it with a different retry policy, caching option or set of
supplied optional inputs (IfPresent is resolved at compile time) need their own template,
because in Argo those live on the template, not the task; so do tasks whose platform values may
be absent and tasks that may read an imported artifact. A component with one variant keeps its
plain name; several variants get a hash suffix each. ``dsl.importer`` tasks get no template.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from transpiler import ir, names, placeholders
from transpiler.lower import collected, importer, platform
from transpiler.lower.container import Variant, if_present_inputs, uses_task_name, uses_uri


class Plan:
    def __init__(self, pipeline: ir.Pipeline) -> None:
        self.pipeline = pipeline
        self.namer = names.Namer()
        self._dag_components: list[ir.Component] = []
        self._variants: dict[str, dict[str, Variant]] = {}
        self._task_variant: dict[tuple[str, str], Variant] = {}
        self._variant_names: dict[str, str] = {}
        self._task_names: dict[str, dict[str, str]] = {}
        self._unique: list[tuple[str, Variant]] = []
        self._loops: dict[str, ir.Task] = {}
        # (DAG component, task) -> task output -> (loop output, the DAG's own output it feeds or None in the loop body)
        self._collected: dict[tuple[str, str], dict[str, tuple[str, str | None]]] = {}
        self._absent = platform.absent_inputs(pipeline)
        self._imported = importer.imported_schemes(pipeline)
        dags = [pipeline.root.dag] + [c.dag for c in pipeline.components.values()]
        self._loop_bodies = {t.component for dag in dags if dag for t in dag.tasks if t.iterator is not None}
        self._visit(pipeline.root, set())
        self._name_templates()
        self._task_name_templates = self._find_task_name_templates()

    # planning -------------------------------------------------------------------------------

    def _visit(self, component: ir.Component, stack: set[str]) -> None:
        if component.name in stack or component in self._dag_components:
            return
        self._dag_components.append(component)
        assert component.dag is not None
        if component.name in self._loops:
            self._find_collected(component)
        for task in component.dag.tasks:
            target = self.pipeline.components[task.component]
            if target.dag is not None:
                if task.iterator is not None:
                    self._loops.setdefault(target.name, task)
                self._visit(target, stack | {component.name})
                continue
            if self.pipeline.importer(target.name) is not None:
                continue
            variant = self._variant(component, target, task)
            self._variants.setdefault(target.name, {})[variant.key()] = variant
            self._task_variant[(component.name, task.name)] = variant

    def _find_collected(self, loop_body: ir.Component) -> None:
        """The tasks of a loop body whose artifacts a ``dsl.Collected`` gathers: a container task,
        or a (condition) DAG used once whose output comes from one; ``lower.loop`` reports the
        others. (A source that is a list itself, a nested loop's, is no route: ``carries_list``.)"""
        assert loop_body.dag is not None
        for out in loop_body.dag.artifact_outputs:
            if collected.is_collected(loop_body, out.name) and len(out.sources) == 1 and not self.source_carries_list(loop_body, out.sources[0]):
                self._route(loop_body, out.sources[0], out.name, None)

    def _route(self, parent: ir.Component, source: ir.OutputSource, loop_output: str, via: str | None) -> bool:
        assert parent.dag is not None
        task = parent.dag.task(source.task)
        target = self.pipeline.components[task.component]
        if target.dag is None:
            found = self.pipeline.importer(target.name) is None
        elif task.iterator is not None or self._uses(target.name) != 1:
            found = False
        else:
            inner = next((o for o in target.dag.artifact_outputs if o.name == source.name), None)
            found = inner is not None and len(inner.sources) == 1 and self._route(target, inner.sources[0], loop_output, source.name)
        if found:
            self._collected.setdefault((parent.name, task.name), {})[source.name] = (loop_output, via)
        return found

    def _uses(self, component_name: str) -> int:
        """How many tasks of the pipeline run a component."""
        dags = [self.pipeline.root.dag] + [c.dag for c in self.pipeline.components.values()]
        return sum(t.component == component_name for dag in dags if dag for t in dag.tasks)

    def _variant(self, parent: ir.Component, component: ir.Component, task: ir.Task) -> Variant:
        executor = self.pipeline.executors.get(component.executor or "")
        tested = if_present_inputs(executor) if executor else frozenset()
        bound = {b.name for b in task.parameters} | {b.name for b in task.artifacts}
        absent = platform.absent_platform_inputs(executor, task, self._absent.get(parent.name, frozenset()))
        return Variant(
            component.name,
            task.retry,
            task.enable_cache,
            frozenset(tested & bound),
            absent,
            self._imported_inputs(parent, executor, task),
            frozenset(self._collected.get((parent.name, task.name), {})),
        )

    def _imported_inputs(self, parent: ir.Component, executor: ir.ContainerSpec | None, task: ir.Task) -> frozenset[tuple[str, str]]:
        """(artifact, scheme) for the task's input artifacts that may be imported from a URI that
        KFP maps to a local path, and that the template must treat apart: a Python component
        links the download there, a container component may read the URI."""
        if executor is None:
            return frozenset()
        python = placeholders.is_python_component(executor.argv)
        found = set()
        for binding in task.artifacts:
            if python or uses_uri(executor, binding.name):
                for scheme in importer.binding_schemes(self.pipeline, parent, binding, self._imported):
                    if scheme in importer.LOCAL_ROOTS:
                        found.add((binding.name, scheme))
        return frozenset(found)

    def _name_templates(self) -> None:
        root_name = names.dns_label(self.pipeline.name or "pipeline")
        self.namer.assign("dag:root", root_name)
        for component in sorted(self._dag_components[1:], key=lambda c: c.name):
            self.namer.assign("dag:" + component.name, names.dns_label(component.name))
            if component.name in self._loops:
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
        executor = self.pipeline.executors.get(component.executor or "")
        strip = {"pointer", "name"}
        parts = [
            _plain(component.inputs, strip),
            _plain(component.outputs, strip),
            _plain(executor, {"pointer"}) if executor else None,
            json.loads(variant.key())[1:],
        ]
        return json.dumps(parts, sort_keys=True, default=repr)

    # queries --------------------------------------------------------------------------------

    def dag_components(self) -> list[ir.Component]:
        """Root first, then the other DAG components sorted by name."""
        return [self._dag_components[0]] + sorted(self._dag_components[1:], key=lambda c: c.name)

    def container_variants(self) -> list[tuple[str, Variant]]:
        """(template name, variant) for every container template, sorted by name."""
        return sorted(self._unique, key=lambda item: item[0])

    def dag_template(self, component_name: str) -> str:
        return self.namer.get("dag:" + component_name)

    def loop_task(self, component: ir.Component) -> ir.Task | None:
        """The ``dsl.ParallelFor`` task that iterates over a DAG component, if any. Its DAG
        template (``dag_template``) runs the loop; ``iteration_template`` runs one item."""
        return self._loops.get(component.name)

    def iteration_template(self, component_name: str) -> str:
        return self.namer.get("iteration:" + component_name)

    def collected_outputs(self, parent: ir.Component, task: ir.Task) -> dict[str, tuple[str, str | None]]:
        """For a task whose output artifacts a loop collects: output -> (the loop's collected
        output, the output of ``parent`` it feeds, None when ``parent`` is the loop body)."""
        return self._collected.get((parent.name, task.name), {})

    def collects(self, loop_body: ir.Component) -> bool:
        """Whether a loop body's iterations write collected artifacts (and need the loop's node name)."""
        assert loop_body.dag is not None
        return any(collected.is_collected(loop_body, out.name) for out in loop_body.dag.artifact_outputs)

    def carries_list(self, component: ir.Component, output: str) -> bool:
        """Whether a DAG component's output artifact is a list of artifacts at run time: every
        output of a loop, and what a DAG passes up from one. (The IR's ``isArtifactList`` cannot
        tell: it also marks a condition's pass-through of one artifact inside a loop.)"""
        if component.dag is None:
            return False
        if component.name in self._loop_bodies:
            return collected.is_collected(component, output)
        out = next((o for o in component.dag.artifact_outputs if o.name == output), None)
        return out is not None and any(self.source_carries_list(component, s) for s in out.sources)

    def source_carries_list(self, parent: ir.Component, source: ir.OutputSource) -> bool:
        assert parent.dag is not None
        return self.carries_list(self.pipeline.components[parent.dag.task(source.task).component], source.name)

    def list_outputs(self, component: ir.Component) -> list[str]:
        """The outputs of a DAG component that are lists: each takes its prefix as an input
        parameter (``lower.collected.key_parameter``)."""
        if component.dag is None or component is self.pipeline.root:
            return []
        return sorted(o.name for o in component.dag.artifact_outputs if self.carries_list(component, o.name))

    def collect_inputs(self, component: ir.Component) -> list[str]:
        """The outputs of a DAG nested in a loop body that write collected artifacts: each takes
        its key as an input parameter (``lower.collected.key_parameter``)."""
        return sorted({via for (name, _), outs in self._collected.items() if name == component.name for _, via in outs.values() if via})

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

    def carries_metadata(self, component: ir.Component) -> bool:
        """Whether the component's template takes artifact metadata as parameters."""
        if component.dag is not None:
            return True
        executor = self.pipeline.executors.get(component.executor or "")
        return executor is not None and placeholders.is_python_component(executor.argv)

    def needs_task_name(self, template_name: str) -> bool:
        return template_name in self._task_name_templates

    def _find_task_name_templates(self) -> set[str]:
        result = set()
        for name, variant in self.container_variants():
            executor = self.pipeline.executors.get(self.pipeline.components[variant.component].executor or "")
            if executor and uses_task_name(executor):
                result.add(name)
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
