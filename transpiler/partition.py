"""The ``partition`` pass: a DAG of more than 200 tasks becomes a DAG of *partitions*.

Argo 4's full CRDs, which the API server applies, refuse a DAG template of more than 200 tasks,
a template of more than 500 input parameters and a workflow of more than 200 templates
(``argo lint`` checks none of these). This pass rewrites the typed model between ``parse`` and
``lower``: the tasks of each DAG component with more than 200 tasks move into synthetic DAG
components (``<dag>-part-<n>``, run by tasks ``part-<n>``) of at most 200 tasks each, and the
lowering, which already handles sub-pipelines, does the rest. ``docs/partitioning.md`` explains
the choices and what changes at run time; in short:

* Tasks are ordered topologically, depth first (a chain stays together), and cut into runs of
  consecutive tasks, so edges between partitions only go forward.
* A value that crosses partitions travels through their interfaces: the producing partition gets
  a DAG output and the consuming one an input, both named ``pipelinechannel--<task>-<output>``;
  an input of the original DAG is forwarded under its own name. Values the Kubernetes platform
  spec reads are routed the same way (in a copy of the executor, when a source changes).
* A task whose *state* another task observes stays in the original DAG, beside the partitions
  (a partition's phase would hide it): tasks that run after failures (exit tasks,
  ``ignore_upstream_failure``) with their upstream tasks, ``dsl.PipelineTaskFinalStatus``
  consumers with their sources, ``dsl.OneOf`` branches, and tasks with a condition whose outputs
  tasks read, with those readers.
* ``dsl.importer`` tasks, which are no Argo task, are copied into every partition that uses them.
* What still cannot fit is a located error, never a manifest the cluster refuses.

A pipeline whose DAGs all have at most 200 tasks is returned unchanged.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from dataclasses import dataclass, field
from typing import Any, Union

from transpiler import ir
from transpiler.analysis import Analysis
from transpiler.errors import Diagnostic, OutputSchemaError
from transpiler.load import Source

MAX_DAG_TASKS = 200
MAX_INPUT_PARAMETERS = 500

MSG_TOO_MANY_ENTRIES = (
    "This DAG has {tasks} tasks. Argo allows at most 200 tasks in a DAG, and even cut into partitions of "
    "200 it needs {entries}: {parts} partitions plus {kept} tasks that must stay in it (tasks that run "
    "after failures with their upstream tasks, final-status sources, dsl.OneOf branches, conditional "
    "tasks whose outputs are read, and their readers). Split the pipeline into smaller ones"
)
MSG_TOO_MANY_INPUTS = (
    "The partition of this DAG that holds task {task!r} needs {count} input "
    "parameters (each value and artifact it reads from outside counts one); Argo allows 500 in a "
    "template. The task reads too many values from the rest of its DAG to be partitioned"
)

Binding = Union[ir.ParameterBinding, ir.ArtifactBinding]


def partition(source: Source, pipeline: ir.Pipeline, facts: Analysis) -> tuple[ir.Pipeline, Analysis]:
    """Split every DAG of more than 200 tasks (the 200-template limit is checked by ``plan``).

    Returns:
        The pipeline and its facts: unchanged when nothing was split, else the new model and its
        own analysis.

    Raises:
        OutputSchemaError: a DAG that no partitioning makes admissible.
    """
    out = _Output(dict(pipeline.components), dict(pipeline.executors))
    problems: list[Diagnostic] = []
    root = _split(source, facts, pipeline.root, pipeline.name or "pipeline", out, problems)
    for name in sorted(pipeline.components):
        out.components[name] = _split(source, facts, pipeline.components[name], name, out, problems)
    if problems:
        raise OutputSchemaError(problems)
    if not out.parts:
        return pipeline, facts
    pipeline = dataclasses.replace(
        pipeline, root=root, components=dict(sorted(out.components.items())), executors=dict(sorted(out.executors.items()))
    )
    return pipeline, Analysis(pipeline, facts.runtime_scheme)


@dataclass
class _Output:
    """The components and executors of the rewritten pipeline, as they are added."""

    components: dict[str, ir.Component]
    executors: dict[str, ir.ContainerSpec]
    parts: int = 0
    taken: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.taken = set(self.components)

    def component_name(self, wanted: str) -> str:
        """A new component name, reserved until ``add_component``."""
        return _unique(wanted, self.taken)

    def add_component(self, name: str, component: ir.Component) -> str:
        self.components[name] = dataclasses.replace(component, name=name)
        return name

    def add_executor(self, wanted: str, executor: ir.ContainerSpec) -> str:
        name = _unique(wanted, set(self.executors))
        self.executors[name] = executor
        return name


def _split(source: Source, facts: Analysis, component: ir.Component, base: str, out: _Output,
           problems: list[Diagnostic]) -> ir.Component:
    """``component`` with its DAG cut into partitions (added to ``out``) when it has more than
    200 Argo tasks; ``base`` starts the partitions' names."""
    if component.dag is None or len(component.dag.tasks) <= MAX_DAG_TASKS:
        return component
    splitter = _Splitter(facts, component, out)
    if len(splitter.argo_tasks) <= MAX_DAG_TASKS:
        return component
    entries = splitter.entries()
    parts = sum(1 for entry in entries if isinstance(entry, list))
    if len(entries) > MAX_DAG_TASKS:
        message = MSG_TOO_MANY_ENTRIES.format(
            tasks=len(splitter.argo_tasks), entries=len(entries), parts=parts, kept=len(entries) - parts
        )
        problems.append(source.spec_diagnostic(message, component.pointer + "/dag"))
        return component
    rewritten = splitter.split(entries, base)
    for part in splitter.parts:
        made = out.components[part.component]
        count = len(made.inputs.parameters) + len(made.inputs.artifacts)
        if count > MAX_INPUT_PARAMETERS:
            task = splitter.tasks[part.members[0]]
            message = MSG_TOO_MANY_INPUTS.format(task=task.name, count=count)
            problems.append(source.spec_diagnostic(message, task.pointer))
    out.parts += parts
    return rewritten


@dataclass
class _Part:
    """One partition being built: its group task in the original DAG and its interface."""

    task: str
    component: str
    members: list[str]
    # The tasks it holds, for resolving names: its members and the importers they use.
    holds: set[str] = field(default_factory=set)
    parameters: dict[str, tuple[ir.ParameterDef, ir.ParameterBinding]] = field(default_factory=dict)
    artifacts: dict[str, tuple[ir.ArtifactDef, ir.ArtifactBinding]] = field(default_factory=dict)
    parameter_outputs: dict[str, tuple[ir.ParameterDef, ir.DagOutput]] = field(default_factory=dict)
    artifact_outputs: dict[str, tuple[ir.ArtifactDef, ir.DagOutput]] = field(default_factory=dict)


class _Splitter:
    """Cuts the DAG of one component into partitions and routes its edges through them."""

    def __init__(self, facts: Analysis, component: ir.Component, out: _Output) -> None:
        assert component.dag is not None
        self.facts = facts
        self.pipeline = facts.pipeline
        self.component = component
        self.dag = component.dag
        self.out = out
        self.tasks = {t.name: t for t in self.dag.tasks}
        self.importers = facts.importer_tasks(component)
        self.argo_tasks = [t for t in self.dag.tasks if t.name not in self.importers]
        self.reads = {t.name: self._reads(t) for t in self.dag.tasks}
        self.upstream = facts.upstream(component)
        self.pinned = _pinned(self.dag, self.reads, self.upstream, self.importers)
        self.parts: list[_Part] = []
        self.part_of: dict[str, _Part] = {}
        self.channels: dict[tuple[str, str, str], str] = {}
        self.channel_names = {p.name for p in component.inputs.parameters} | {a.name for a in component.inputs.artifacts}
        self.copies: dict[tuple[str, str], str] = {}

    # cutting ----------------------------------------------------------------------------------

    def entries(self) -> list[str | list[str]]:
        """The Argo tasks the DAG will hold, in topological order: a pinned task's name, or the
        task names of one partition."""
        entries: list[str | list[str]] = []
        run: list[str] = []
        for name in _order(self.argo_tasks, self.upstream, self.pinned):
            if name in self.pinned:
                entries += self._chunks(run)
                entries.append(name)
                run = []
            else:
                run.append(name)
        return entries + self._chunks(run)

    def _chunks(self, run: list[str]) -> list[list[str]]:
        """``run`` cut into consecutive chunks of even size, at most 200 tasks and at most 500
        input parameters each."""
        if not run:
            return []
        size = math.ceil(len(run) / math.ceil(len(run) / MAX_DAG_TASKS))
        chunks: list[list[str]] = []
        members: set[str] = set()
        inputs: set[tuple[str, ...]] = set()
        for name in run:
            needed = self._needs(name, members)
            if members and (len(members) == size or len(inputs | needed) > MAX_INPUT_PARAMETERS):
                members, inputs = set(), set()
                needed = self._needs(name, members)
            if not members:
                chunks.append([])
            chunks[-1].append(name)
            members.add(name)
            inputs |= needed
        return chunks

    def _needs(self, name: str, members: set[str]) -> set[tuple[str, ...]]:
        """What a task (with the importers it uses) reads from outside a partition of ``members``:
        one template input parameter each (an input artifact comes with its metadata parameter)."""
        needed: set[tuple[str, ...]] = set()
        for task in [name, *self._importers_used(name)]:
            for kind, source, _ in self.reads[task]:
                if isinstance(source, ir.ComponentInput):
                    needed.add((kind, source.name))
                elif isinstance(source, ir.TaskOutput) and source.task not in members and source.task not in self.importers:
                    needed.add((kind, source.task, source.name))
        return needed

    # building ---------------------------------------------------------------------------------

    def split(self, entries: list[str | list[str]], base: str) -> ir.Component:
        """Add the partition components to the output; the original component, its DAG now made
        of the group tasks, the pinned tasks and the importers."""
        used = set(self.tasks)
        for entry in entries:
            if isinstance(entry, list):
                number = len(self.parts) + 1
                part = _Part(_unique(f"part-{number}", used), self.out.component_name(f"{base}-part-{number}"), entry)
                part.holds = set(entry).union(*(self._importers_used(name) for name in entry))
                self.parts.append(part)
                self.part_of.update((name, part) for name in entry)
        holders: dict[str, list[_Part]] = {}
        for part in self.parts:
            for name in part.holds:
                holders.setdefault(name, []).append(part)
        held: dict[str, list[ir.Task]] = {part.task: [] for part in self.parts}
        for task in self.dag.tasks:
            for part in holders.get(task.name, ()):
                held[part.task].append(self._moved(part, task))
        tasks = [self._group_task(self.part_of[e[0]]) if isinstance(e, list) else self._kept(self.tasks[e]) for e in entries]
        tasks += [self._kept(self.tasks[name]) for name in sorted(self.importers, key=self._index)]
        dag = ir.Dag(
            tasks=tuple(tasks),
            parameter_outputs=tuple(self._dag_output(o, "parameter") for o in self.dag.parameter_outputs),
            artifact_outputs=tuple(self._dag_output(o, "artifact") for o in self.dag.artifact_outputs),
        )
        # Made last: the kept tasks and the DAG's outputs add outputs to partitions.
        for part in self.parts:
            self.out.add_component(part.component, self._component(part, held[part.task]))
        return dataclasses.replace(self.component, dag=dag)

    def _index(self, name: str) -> int:
        return next(i for i, t in enumerate(self.dag.tasks) if t.name == name)

    def _importers_used(self, name: str) -> set[str]:
        task = self.tasks[name]
        named = set(task.dependent_tasks) | {s.task for _, s, _ in self.reads[name] if isinstance(s, ir.TaskOutput)}
        return named & self.importers

    def _reads(self, task: ir.Task) -> list[tuple[str, Any, str]]:
        """(kind, source, pointer) of every value the task reads: its bindings and the run-time
        values of its executor's platform spec (located at the task: their own pointers are in
        the platform-spec document)."""
        reads = [("parameter", b.source, b.pointer) for b in task.parameters]
        reads += [("artifact", b.source, b.pointer) for b in task.artifacts]
        reads += [("parameter", v.source, task.pointer) for v in self.facts.platform_values(task)]
        return reads

    def _moved(self, part: _Part, task: ir.Task) -> ir.Task:
        """A task moved into ``part``: what it reads from outside arrives as inputs of the part."""
        return dataclasses.replace(
            task,
            component=self._component_reading(task, part.component, lambda s: self._import(part, "parameter", s, task.pointer)),
            parameters=tuple(self._rebind(b, self._import(part, "parameter", b.source, b.pointer)) for b in task.parameters),
            artifacts=tuple(self._rebind(b, self._import(part, "artifact", b.source, b.pointer)) for b in task.artifacts),
            dependent_tasks=tuple(t for t in task.dependent_tasks if t in part.holds),
        )

    def _kept(self, task: ir.Task) -> ir.Task:
        """A task that stays in the original DAG: outputs of moved tasks come from partitions."""
        def entry(name: str) -> str:
            return self.part_of[name].task if name in self.part_of else name

        return dataclasses.replace(
            task,
            component=self._component_reading(task, self.component.name, lambda s: self._outside(s, "parameter")),
            parameters=tuple(self._rebind(b, self._outside(b.source, "parameter")) for b in task.parameters),
            artifacts=tuple(self._rebind(b, self._outside(b.source, "artifact")) for b in task.artifacts),
            dependent_tasks=tuple(sorted({entry(t) for t in task.dependent_tasks})),
        )

    @staticmethod
    def _rebind(binding: Binding, source: Any) -> Binding:
        return binding if source == binding.source else dataclasses.replace(binding, source=source)

    def _import(self, part: _Part, kind: str, source: Any, pointer: str) -> Any:
        """Where a value a task of ``part`` reads comes from inside the part: the same source, or
        an input of the part (bound on its group task) for a value from outside."""
        if isinstance(source, ir.TaskFinalStatus):
            raise AssertionError("a final-status consumer stays in the original DAG")  # see _pinned
        if isinstance(source, ir.ComponentInput):
            name, outside = source.name, source
        elif isinstance(source, ir.TaskOutput) and source.task not in part.holds:
            name, outside = self._channel(source, kind), self._outside(source, kind)
        else:
            return source
        interface: dict = part.parameters if kind == "parameter" else part.artifacts
        if name not in interface:
            make = ir.ParameterBinding if kind == "parameter" else ir.ArtifactBinding
            interface[name] = (self._input_definition(kind, source, name), make(name, outside, pointer))
        return ir.ComponentInput(name)

    def _outside(self, source: Any, kind: str) -> Any:
        """Where a value is found in the original DAG: the same source, or for an output of a
        moved task the output of its partition that exports it."""
        if not isinstance(source, ir.TaskOutput) or source.task not in self.part_of:
            return source
        part = self.part_of[source.task]
        name = self._channel(source, kind)
        producer = self.tasks[source.task]
        component = self.pipeline.components[producer.component]
        output = ir.DagOutput(name, (ir.OutputSource(source.task, source.name),), producer.pointer)
        if kind == "parameter":
            definition = ir.ParameterDef(name, component.outputs.parameter_type(source.name), pointer=producer.pointer)
            part.parameter_outputs.setdefault(name, (definition, output))
        else:
            part.artifact_outputs.setdefault(name, (_artifact_definition(component, source.name, name), output))
        return ir.TaskOutput(part.task, name)

    def _input_definition(self, kind: str, source: Any, name: str) -> ir.ParameterDef | ir.ArtifactDef:
        """The declaration of a partition input: the original DAG's own input (always bound by
        the group task, so without its default), or the type of the task output it carries."""
        if isinstance(source, ir.TaskOutput):
            producer = self.pipeline.components[self.tasks[source.task].component]
            if kind == "parameter":
                return ir.ParameterDef(name, producer.outputs.parameter_type(source.name), pointer=producer.pointer)
            return _artifact_definition(producer, source.name, name)
        if kind == "parameter":
            declared = self.component.inputs.parameter(name)
            return ir.ParameterDef(name, declared.type if declared else "STRING",
                                   pointer=declared.pointer if declared else self.component.pointer)
        declared_artifact = self.component.inputs.artifact(name)
        return declared_artifact or ir.ArtifactDef(name, "system.Artifact", "0.0.1", pointer=self.component.pointer)

    def _channel(self, source: ir.TaskOutput, kind: str) -> str:
        """The name a task output travels under between partitions, unique in this DAG."""
        key = (source.task, source.name, kind)
        if key not in self.channels:
            self.channels[key] = _unique(f"pipelinechannel--{source.task}-{source.name}", self.channel_names)
        return self.channels[key]

    def _component_reading(self, task: ir.Task, scope: str, route) -> str:
        """The task's component, or a copy whose executor's platform spec reads the values from
        where they are found in ``scope`` (``route``: old source -> new source)."""
        component = self.pipeline.components.get(task.component)
        executor = self.pipeline.executors.get(component.executor or "") if component else None
        if component is None or executor is None or executor.kubernetes is None:
            return task.component
        moved = {v.source: route(v.source) for v in executor.kubernetes.run_time_values()}
        moved = {old: new for old, new in moved.items() if new != old}
        if not moved:
            return task.component
        key = (task.component, scope)
        if key not in self.copies:
            config = _with_sources(executor.kubernetes, moved)
            label = self.out.add_executor(f"{component.executor}-{scope}", dataclasses.replace(executor, kubernetes=config))
            name = self.out.component_name(f"{component.name}-{scope}")
            self.copies[key] = self.out.add_component(name, dataclasses.replace(component, executor=label))
        return self.copies[key]

    def _component(self, part: _Part, tasks: list[ir.Task]) -> ir.Component:
        def values(interface: dict) -> list:
            return [interface[name] for name in sorted(interface)]

        return ir.Component(
            name=part.component,
            inputs=ir.Interface(tuple(d for d, _ in values(part.parameters)), tuple(d for d, _ in values(part.artifacts))),
            outputs=ir.Interface(
                tuple(d for d, _ in values(part.parameter_outputs)), tuple(d for d, _ in values(part.artifact_outputs))
            ),
            dag=ir.Dag(
                tasks=tuple(tasks),
                parameter_outputs=tuple(o for _, o in values(part.parameter_outputs)),
                artifact_outputs=tuple(o for _, o in values(part.artifact_outputs)),
            ),
            pointer=self.component.pointer,
        )

    def _group_task(self, part: _Part) -> ir.Task:
        """The task of the original DAG that runs ``part``, after everything its tasks wait for."""
        waits = {self.part_of[u].task if u in self.part_of else u for name in part.members for u in self.upstream[name]}
        return ir.Task(
            name=part.task,
            component=part.component,
            display_name=part.task,
            dependent_tasks=tuple(sorted(waits - {part.task})),
            parameters=tuple(part.parameters[n][1] for n in sorted(part.parameters)),
            artifacts=tuple(part.artifacts[n][1] for n in sorted(part.artifacts)),
            pointer=self.component.pointer + "/dag",
        )

    def _dag_output(self, output: ir.DagOutput, kind: str) -> ir.DagOutput:
        """An output of the original DAG; a source that moved is read from its partition."""
        sources = []
        for s in output.sources:
            found = self._outside(ir.TaskOutput(s.task, s.name), kind)
            sources.append(ir.OutputSource(found.task, found.name))
        return dataclasses.replace(output, sources=tuple(sources))


def _with_sources(value: Any, moved: dict[Any, Any]) -> Any:
    """``value`` (a platform spec, or a part of it) with the sources of its values replaced."""
    if isinstance(value, ir.PlatformValue):
        return dataclasses.replace(value, source=moved.get(value.source, value.source))
    if isinstance(value, tuple):
        return tuple(_with_sources(v, moved) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _with_sources(getattr(value, f.name), moved) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


def _artifact_definition(producer: ir.Component, output: str, name: str) -> ir.ArtifactDef:
    declared = producer.outputs.artifact(output)
    if declared is None:
        return ir.ArtifactDef(name, "system.Artifact", "0.0.1", pointer=producer.pointer)
    return dataclasses.replace(declared, name=name, optional=False)


def _pinned(dag: ir.Dag, reads: dict[str, list[tuple[str, Any, str]]], upstream: dict[str, set[str]],
            importers: set[str]) -> set[str]:
    """Argo tasks that stay in the original DAG because another task, or the DAG's outputs,
    observe their state (phase, skipped or not), which a partition's phase would hide."""
    readers: dict[str, set[str]] = {}
    for name, values in reads.items():
        for _, source, _ in values:
            if isinstance(source, ir.TaskOutput):
                readers.setdefault(source.task, set()).add(name)
    pinned: set[str] = set()
    for task in dag.tasks:
        if task.run_after_failure:  # its depends reads its upstream tasks' phases
            pinned |= {task.name} | upstream.get(task.name, set())
        statuses = {b.source.task for b in task.parameters if isinstance(b.source, ir.TaskFinalStatus)}
        if statuses:
            pinned |= {task.name} | statuses
        if task.condition is not None and task.name in readers:
            # A skipped task's output is absent, and its reader gets its own input's default.
            # (A DAG output gives kfp2argo:none instead, in the partition as well.)
            pinned |= {task.name} | readers[task.name]
    for out in (*dag.parameter_outputs, *dag.artifact_outputs):
        if len(out.sources) > 1:  # dsl.OneOf picks the branch that succeeded
            pinned |= {s.task for s in out.sources}
    return (pinned & reads.keys()) - importers


def _order(tasks: list[ir.Task], upstream: dict[str, set[str]], pinned: set[str]) -> list[str]:
    """A topological order of the tasks, depth first (a task's successors follow it as soon as
    they are ready, so chains and fan-outs stay together), pinned tasks as late as possible, ties
    broken by the tasks' order in the DAG."""
    index = {t.name: i for i, t in enumerate(tasks)}
    downstream: dict[str, list[str]] = {t.name: [] for t in tasks}
    waiting = {t.name: len(upstream[t.name]) for t in tasks}
    for task in tasks:
        for up in upstream[task.name]:
            downstream[up].append(task.name)
    ready = [t.name for t in reversed(tasks) if not waiting[t.name] and t.name not in pinned]
    held = [(index[t.name], t.name) for t in tasks if not waiting[t.name] and t.name in pinned]
    heapq.heapify(held)
    order: list[str] = []
    while ready or held:
        name = ready.pop() if ready else heapq.heappop(held)[1]
        order.append(name)
        for successor in sorted(downstream[name], key=index.__getitem__, reverse=True):
            waiting[successor] -= 1
            if waiting[successor] == 0:
                if successor in pinned:
                    heapq.heappush(held, (index[successor], successor))
                else:
                    ready.append(successor)
    assert len(order) == len(tasks), "validate rejects cyclic DAGs"
    return order


def _unique(wanted: str, taken: set[str]) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``, ... when taken; the name is then taken.

    >>> taken = {"part-1"}
    >>> _unique("part-1", taken), _unique("part-1", taken), _unique("part-2", taken)
    ('part-1-2', 'part-1-3', 'part-2')
    """
    name, number = wanted, 1
    while name in taken:
        number += 1
        name = f"{wanted}-{number}"
    taken.add(name)
    return name


