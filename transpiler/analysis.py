"""The ``analysis`` pass: facts about a parsed pipeline that later passes read, computed once.

``support`` (the refusals), ``partition`` and ``lower`` all need to know things the typed model
does not state directly. Each is derived here, from the model alone, and nowhere else:

* **Graph**: the tasks that call a component, the ``dsl.ParallelFor`` task of each loop body, the
  upstream tasks of every Argo task of a DAG (``dsl.importer`` tasks, which become no Argo task,
  replaced by what they wait for; a ``DeletePVC`` task waiting for the tasks that mount its claim).
* **Values that may be absent** at run time (optional inputs nobody supplied), per DAG component,
  and values whose wire text is always canonical (``cel.Operand.canonical``).
* **Imported artifacts**: the URI scheme of each importer, and which inputs an importer's
  artifact may reach.
* **Lists of artifacts**: which DAG outputs carry a list at run time, and the route by which a
  loop body's container task writes the element of a collected list.
* **Variants**: what each container task needs from its template (``Variant``); ``plan`` gives
  each distinct variant a template name.

Two facts are whole-pipeline fixpoints (absent inputs, importer schemes) and share one loop,
:func:`_fixpoint`. A partitioned pipeline (``partition``) is a new model and gets its own
``Analysis``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable, TypeVar

from transpiler import ir, placeholders, wire

K = TypeVar("K")

# The schemes of the importer URIs kfp2argo can read, and the ones KFP's SDK maps to a local
# path (``Artifact.path``) under which folder.
IMPORTER_SCHEMES = ("gs", "s3", "minio", "http", "https")
LOCAL_ROOTS = {"gs": "/gcs", "s3": "/s3", "minio": "/minio"}
# Pipeline root URI scheme -> the Argo artifact field that holds a key-only location of that kind.
ROOT_SCHEMES = {"s3": "s3", "minio": "s3", "gs": "gcs"}
PVC_IMAGES = {"argostub/createpvc": "create", "argostub/deletepvc": "delete"}

MSG_SCHEME = (
    "The importer URI {uri!r} has no Argo artifact source: kfp2argo reads gs://, s3://, minio://, "
    "http:// and https:// URIs. (oci:// model cars: KFP's driver runs the image as a sidecar that "
    "shares the pod's process namespace; kfp2argo does not map that yet)"
)
MSG_NO_KEY = "The importer URI {uri!r} names no object: expected {scheme}://<bucket>/<key>"
MSG_RUN_TIME_SCHEME = (
    "The importer URI comes from {source}, so its scheme is unknown at compile time, and Argo fixes "
    "the kind of an artifact's location (gcs, s3, http) in the manifest. Say which scheme the run "
    "will give with --importer-scheme gs|s3|minio|http|https (or importerScheme in the config), or "
    "give the parameter a value with -p"
)
MSG_MIXED_SCHEMES = "The importer URI can be {uris}: one importer needs one scheme"


@dataclass(frozen=True)
class Variant:
    """What makes two tasks of one container component need different Argo templates (in Argo
    these live on the template, not the task): the retry policy, caching, the optional inputs the
    task supplies that IfPresent placeholders test (resolved at compile time), the platform inputs
    that may be absent, the input artifacts that may come from a ``dsl.importer`` whose URI KFP
    maps to a local path (artifact, scheme), and the outputs a ``dsl.Collected`` gathers."""

    component: str
    retry: ir.RetryPolicy | None = None
    enable_cache: bool = False
    cache_key: str = ""
    present: frozenset[str] = field(default_factory=frozenset)
    absent: frozenset[str] = field(default_factory=frozenset)
    imported: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    collected: frozenset[str] = field(default_factory=frozenset)

    def key(self) -> str:
        retry = self.retry and (
            self.retry.max_retry_count,
            self.retry.backoff_duration,
            self.retry.backoff_factor,
            self.retry.backoff_max_duration,
        )
        parts: list = [self.component, retry, self.enable_cache, sorted(self.present)]
        if self.cache_key:
            parts.append({"cacheKey": self.cache_key})
        if self.absent or self.imported or self.collected:
            extra: dict = {"absent": sorted(self.absent), "imported": sorted(map(list, self.imported))}
            if self.collected:
                extra["collected"] = sorted(self.collected)
            parts.append(extra)
        return json.dumps(parts)

    def imported_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.imported)


def _fixpoint(step: Callable[[dict[K, frozenset[str]]], Iterable[tuple[K, frozenset[str]]]],
              start: dict[K, frozenset[str]]) -> dict[K, frozenset[str]]:
    """Grow ``start`` with what ``step`` derives from it until nothing changes (facts only grow,
    so this ends)."""
    facts = dict(start)
    changed = True
    while changed:
        changed = False
        for key, found in step(facts):
            merged = facts.get(key, frozenset()) | found
            if merged != facts.get(key, frozenset()):
                facts[key] = merged
                changed = True
    return facts


class Analysis:
    """The facts about one pipeline model (computed on first use, then kept)."""

    def __init__(self, pipeline: ir.Pipeline, importer_scheme: str | None = None) -> None:
        self.pipeline = pipeline
        self.runtime_scheme = importer_scheme  # --importer-scheme: of URIs known only at run time
        self._upstream: dict[str, dict[str, set[str]]] = {}

    # --- components and tasks -------------------------------------------------------------------

    @cached_property
    def dags(self) -> list[ir.Component]:
        """The root and every DAG component."""
        return [c for c in (self.pipeline.root, *self.pipeline.components.values()) if c.dag is not None]

    @cached_property
    def _callers(self) -> dict[str, list[tuple[ir.Component, ir.Task]]]:
        result: dict[str, list[tuple[ir.Component, ir.Task]]] = {}
        for parent in self.dags:
            assert parent.dag is not None
            for task in parent.dag.tasks:
                result.setdefault(task.component, []).append((parent, task))
        return result

    def callers(self, component: ir.Component) -> list[tuple[ir.Component, ir.Task]]:
        """(DAG, task) for every task that runs ``component``."""
        return self._callers.get(component.name, [])

    def uses(self, component_name: str) -> int:
        """How many tasks of the pipeline run a component."""
        return len(self._callers.get(component_name, []))

    def executor(self, component: ir.Component) -> ir.ContainerSpec | None:
        """The container executor a component runs (None for DAGs and importers)."""
        return self.pipeline.executors.get(component.executor or "")

    def task_executor(self, task: ir.Task) -> ir.ContainerSpec | None:
        component = self.pipeline.components.get(task.component)
        return self.executor(component) if component else None

    def platform_values(self, task: ir.Task) -> tuple[ir.PlatformValue, ...]:
        """The run-time values of the platform spec of the executor a task runs."""
        executor = self.task_executor(task)
        return executor.kubernetes.run_time_values() if executor and executor.kubernetes else ()

    def importer_tasks(self, component: ir.Component) -> set[str]:
        """The ``dsl.importer`` tasks of a DAG (they become no Argo task)."""
        assert component.dag is not None
        return {t.name for t in component.dag.tasks if self.pipeline.importer(t.component)}

    @cached_property
    def _visit(self) -> tuple[list[ir.Component], dict[str, ir.Task], dict[tuple[str, str], dict[str, tuple[str, str | None]]]]:
        """The DAG components reachable from the root (depth first, tasks in order), the loop
        task of each loop body (the first task that iterates over it), and the collected routes."""
        order: list[ir.Component] = []
        loops: dict[str, ir.Task] = {}
        routes: dict[tuple[str, str], dict[str, tuple[str, str | None]]] = {}

        def visit(component: ir.Component, stack: frozenset[str]) -> None:
            if component.name in stack or component in order:
                return
            order.append(component)
            assert component.dag is not None
            if component.name in loops:
                self._find_collected(component, routes)
            for task in component.dag.tasks:
                target = self.pipeline.components[task.component]
                if target.dag is not None:
                    if task.iterator is not None:
                        loops.setdefault(target.name, task)
                    visit(target, stack | {component.name})

        visit(self.pipeline.root, frozenset())
        return order, loops, routes

    def reachable_dags(self) -> list[ir.Component]:
        """The DAG components the root reaches: the root first, then the others by name."""
        order = self._visit[0]
        return [order[0]] + sorted(order[1:], key=lambda c: c.name)

    def loop_task(self, component: ir.Component) -> ir.Task | None:
        """The ``dsl.ParallelFor`` task that iterates over a DAG component, if any."""
        return self._visit[1].get(component.name)

    @cached_property
    def _retries(self) -> dict[tuple[str, str], ir.RetryPolicy | None]:
        """(DAG component, task) -> the retry policy the task runs with, as KFP's compiler decides
        it (``backend/src/v2/compiler/visitor.go``, ``dfs``): its own, else the policy of the task
        through which its DAG was first reached in a depth-first walk from the root (tasks in
        name order, each component walked once). A sub-pipeline task's ``set_retry`` thus retries
        each container task inside it that has no policy of its own; the DAG is not retried as
        a whole."""
        result: dict[tuple[str, str], ir.RetryPolicy | None] = {}
        walked: set[str] = set()

        def walk(component: ir.Component, inherited: ir.RetryPolicy | None) -> None:
            if component.name in walked or component.dag is None:
                return
            walked.add(component.name)
            for task in component.dag.tasks:
                retry = task.retry or inherited
                result[(component.name, task.name)] = retry
                walk(self.pipeline.components[task.component], retry)

        walk(self.pipeline.root, None)
        return result

    def retry(self, parent: ir.Component, task: ir.Task) -> ir.RetryPolicy | None:
        """The retry policy of ``task`` (in ``parent``), inherited from an enclosing sub-pipeline
        task when it has none (``_retries``)."""
        return self._retries.get((parent.name, task.name), task.retry)

    @cached_property
    def loop_bodies(self) -> frozenset[str]:
        """Every component some task iterates over."""
        return frozenset(t.component for dag in self.dags for t in dag.dag.tasks if t.iterator is not None)  # type: ignore[union-attr]

    # --- the upstream graph of a DAG ------------------------------------------------------------

    def upstream(self, component: ir.Component) -> dict[str, set[str]]:
        """Each Argo task's upstream tasks: those it names or reads from (bindings, platform
        values), with importers replaced by what they wait for; a DeletePVC task also waits for
        the tasks that mount its claim, unless one of them runs after it."""
        if component.name not in self._upstream:
            self._upstream[component.name] = self._upstream_graph(component)
        return self._upstream[component.name]

    def _upstream_graph(self, component: ir.Component) -> dict[str, set[str]]:
        assert component.dag is not None
        tasks = component.dag.tasks
        importers = self.importer_tasks(component)
        direct = {t.name: self._direct_upstream(t) for t in tasks}

        def resolved(name: str, seen: frozenset[str]) -> set[str]:
            if name not in importers:
                return {name}
            if name in seen:
                return set()
            return set().union(*(resolved(u, seen | {name}) for u in direct[name]))

        graph = {
            t.name: set().union(*(resolved(u, frozenset()) for u in direct[t.name]))
            for t in tasks if t.name not in importers
        }
        for task in tasks:
            claim = self.claim_deleted(task)
            if claim is None or task.name in importers:
                continue
            for other in tasks:
                if other.name not in importers and other.name != task.name \
                        and task.name not in _ancestors(graph, other.name) and self.mounts_claim(component, other, claim):
                    graph[task.name].add(other.name)
        return graph

    def _direct_upstream(self, task: ir.Task) -> set[str]:
        """The sibling tasks a task names or reads from, its platform spec included."""
        found = set(task.dependent_tasks)
        for binding in task.parameters:
            if isinstance(binding.source, (ir.TaskOutput, ir.TaskFinalStatus)):
                found.add(binding.source.task)
        found |= {b.source.task for b in task.artifacts if isinstance(b.source, ir.TaskOutput)}
        found |= {v.source.task for v in self.platform_values(task) if isinstance(v.source, ir.TaskOutput)}
        return found

    def claim_deleted(self, task: ir.Task) -> Any:
        """The value source of the claim a DeletePVC task deletes (None for any other task)."""
        executor = self.task_executor(task)
        if executor is None or pvc_operation(executor) != "delete":
            return None
        binding = next((b for b in task.parameters if b.name == "pvc_name"), None)
        return binding.source if binding else None

    def mounts_claim(self, parent: ir.Component, task: ir.Task, claim: Any, seen: frozenset[str] = frozenset()) -> bool:
        """Whether ``task`` (in ``parent``) mounts the PVC named by ``claim``, a value source in
        ``parent``'s scope: its executor mounts it, or a task inside it does, through an input."""
        target = self.pipeline.components.get(task.component)
        if target is None:
            return False
        if target.dag is None:
            executor = self.executor(target)
            config = executor.kubernetes if executor else None
            return config is not None and any(mount.name.source == claim for mount in config.pvc_mounts)
        inputs = [b.name for b in task.parameters if b.source == claim and b.field is None]
        if not inputs or target.name in seen:
            return False
        return any(
            self.mounts_claim(target, inner, ir.ComponentInput(name), seen | {target.name})
            for inner in target.dag.tasks
            for name in inputs
        )

    # --- values that may be absent, values that are canonical -------------------------------------

    @cached_property
    def _absent(self) -> dict[str, frozenset[str]]:
        root = self.pipeline.root
        start = {"root": frozenset(p.name for p in root.inputs.parameters if parameter_default(p) == wire.NONE)}

        def step(facts: dict[str, frozenset[str]]) -> Iterable[tuple[str, frozenset[str]]]:
            for parent in self.dags:
                for task in parent.dag.tasks:  # type: ignore[union-attr]
                    target = self.pipeline.components.get(task.component)
                    if target is not None and target.dag is not None:
                        yield target.name, self._absent_task_inputs(task, target, facts.get(parent.name, frozenset()))

        return _fixpoint(step, start)

    def absent_inputs(self, component: ir.Component) -> frozenset[str]:
        """The input parameters of a DAG component that may hold no value (``kfp2argo:none``):
        optional inputs without a default that a caller leaves out or binds to such a value."""
        return self._absent.get(component.name, frozenset())

    @staticmethod
    def _absent_task_inputs(task: ir.Task, target: ir.Component, parent_absent: frozenset[str]) -> frozenset[str]:
        bound = {b.name: b for b in task.parameters}
        item = task.iterator.item_input if task.iterator else None
        found = set()
        for parameter in target.inputs.parameters:
            binding = bound.get(parameter.name)
            if parameter.name == item:
                continue
            if binding is None:
                if parameter_default(parameter) == wire.NONE:
                    found.add(parameter.name)
            elif may_be_absent(task, binding.source, parent_absent, binding.field):
                found.add(parameter.name)
        return frozenset(found)

    def absent_platform_inputs(self, parent: ir.Component, task: ir.Task) -> frozenset[str]:
        """The platform input parameters of ``task`` (in ``parent``) that may be absent."""
        parent_absent = self.absent_inputs(parent)
        return frozenset(
            v.input for v in self.platform_values(task) if v.input and may_be_absent(task, v.source, parent_absent)
        )

    def canonical(self, component: ir.Component, task: ir.Task, binding: ir.ParameterBinding,
                  parameter_type: str, seen: frozenset[str] = frozenset()) -> bool:
        """Whether the wire text a task input receives is always canonical for ``parameter_type``
        and present (``cel.Operand.canonical``): a constant other than None; an output, declared
        with that type, of a sibling task running a Python component (whose launcher writes
        canonical text by the declared type or fails the pod), read only after that task
        succeeded; or an input of the enclosing DAG component, of that type, that every task
        calling the component binds to such a value (Argo passes it through unchanged)."""
        source = binding.source
        if isinstance(source, ir.Constant):
            return source.value is not None and fits(source.value, parameter_type)
        if isinstance(source, ir.TaskOutput):
            return self._canonical_output(component, task, source, parameter_type)
        if not isinstance(source, ir.ComponentInput) or binding.field is not None or component.name in seen:
            return False
        definition = component.inputs.parameter(source.name)
        if definition is None or definition.type != parameter_type or component is self.pipeline.root:
            return False  # a pipeline parameter may be anything the submitter gives
        if parameter_type in ("NUMBER_INTEGER", "NUMBER_DOUBLE"):
            # Argo substitutes a finished task's DAG template again with the task's unresolved
            # arguments (tag text, not a number), and 4.0.0-4.0.3 make a float() failing then an
            # Error; validated decoding never fails.
            return False
        calls = self.callers(component)
        if not calls:
            return False
        for parent, caller in calls:
            outer = next((b for b in caller.parameters if b.name == source.name), None)
            if outer is None or (caller.iterator is not None and caller.iterator.item_input == source.name):
                return False  # a default, or a loop item
            if not self.canonical(parent, caller, outer, parameter_type, seen | {component.name}):
                return False
        return True

    def _canonical_output(self, component: ir.Component, task: ir.Task, source: ir.TaskOutput, parameter_type: str) -> bool:
        if task.run_after_failure or component.dag is None:
            return False
        producer = self.pipeline.components.get(component.dag.task(source.task).component)
        if producer is None or producer.dag is not None:
            return False
        executor = self.executor(producer)
        output = producer.outputs.parameter(source.name)
        return (executor is not None and placeholders.is_python_component(executor.argv)
                and output is not None and output.type == parameter_type)

    # --- imported artifacts ---------------------------------------------------------------------

    def importer_uri_source(self, task: ir.Task) -> ir.ParameterSource | None:
        """An importer task's URI: a constant, or the binding of its runtime parameter."""
        importer = self.pipeline.importer(task.component)
        assert importer is not None
        if isinstance(importer.uri, ir.Constant):
            return importer.uri
        binding = next((b for b in task.parameters if b.name == importer.uri), None)
        return binding.source if binding else None

    def possible_uris(self, parent: ir.Component, source: Any) -> list[str] | None:
        """The URIs a value can be at compile time: a constant, or the defaults and constants an
        input of the enclosing DAGs is bound to; None when one of them is known only at run time."""
        if isinstance(source, ir.Constant):
            return [source.value] if isinstance(source.value, str) else None
        if not isinstance(source, ir.ComponentInput):
            return None
        definition = parent.inputs.parameter(source.name)
        default = definition.default if definition else ir.MISSING
        if parent is self.pipeline.root:
            return [default] if isinstance(default, str) else None
        uris: list[str] = []
        for caller_parent, caller in self.callers(parent):
            binding = next((b for b in caller.parameters if b.name == source.name), None)
            if binding is None:
                found = [default] if isinstance(default, str) else None
            elif binding.field is not None:
                found = None
            else:
                found = self.possible_uris(caller_parent, binding.source)
            if found is None:
                return None
            uris += found
        return uris or None

    def importer_scheme(self, parent: ir.Component, task: ir.Task) -> tuple[str | None, str | None]:
        """(scheme, None) for an importer task, or (None, the reason it cannot be known or read)."""
        source = self.importer_uri_source(task)
        uris = self.possible_uris(parent, source)
        if uris is None:
            if self.runtime_scheme:
                return self.runtime_scheme, None
            where = "a task output" if isinstance(source, ir.TaskOutput) else "a value without a default"
            return None, MSG_RUN_TIME_SCHEME.format(source=where)
        for uri in uris:
            if scheme_of(uri) is None:
                return None, MSG_SCHEME.format(uri=uri)
            if scheme_family(scheme_of(uri) or "") != "http" and split_uri(uri) is None:
                return None, MSG_NO_KEY.format(uri=uri, scheme=scheme_of(uri))
        families = {scheme_family(scheme_of(u) or "") for u in uris}
        if len(families) > 1:
            return None, MSG_MIXED_SCHEMES.format(uris=" or ".join(repr(u) for u in sorted(set(uris))))
        return scheme_of(uris[0]), None

    @cached_property
    def _imported(self) -> dict[tuple[str, str], frozenset[str]]:
        def step(facts: dict[tuple[str, str], frozenset[str]]) -> Iterable[tuple[tuple[str, str], frozenset[str]]]:
            for parent in self.dags:
                for task in parent.dag.tasks:  # type: ignore[union-attr]
                    for binding in task.artifacts:
                        yield (task.component, binding.name), self._binding_schemes(parent, binding, facts)

        root = self.pipeline.root
        given = {(root.name, a.name): frozenset([scheme_of(a.uri) or ""]) for a in root.inputs.artifacts if a.uri}
        return _fixpoint(step, given)

    def binding_schemes(self, parent: ir.Component, binding: ir.ArtifactBinding) -> frozenset[str]:
        """The schemes of the importers whose artifact may reach a task's input artifact,
        directly or through the inputs of the DAGs around it (a pipeline input artifact's URI
        counts as an importer's)."""
        return self._binding_schemes(parent, binding, self._imported)

    def _binding_schemes(self, parent: ir.Component, binding: ir.ArtifactBinding,
                         imported: dict[tuple[str, str], frozenset[str]]) -> frozenset[str]:
        source = binding.source
        if isinstance(source, ir.ComponentInput):
            return imported.get((parent.name, source.name), frozenset())
        assert parent.dag is not None
        producer = next((t for t in parent.dag.tasks if t.name == source.task), None)
        if producer is None or self.pipeline.importer(producer.component) is None:
            return frozenset()
        found, _ = self.importer_scheme(parent, producer)
        return frozenset([found]) if found else frozenset()

    # --- lists of artifacts -----------------------------------------------------------------------

    def carries_list(self, component: ir.Component, output: str) -> bool:
        """Whether a DAG component's output artifact is a list of artifacts at run time: every
        output of a loop, and what a DAG passes up from one. (The IR's ``isArtifactList`` cannot
        tell: it also marks a condition's pass-through of one artifact inside a loop.)"""
        if component.dag is None:
            return False
        if component.name in self.loop_bodies:
            return is_collected(component, output)
        out = next((o for o in component.dag.artifact_outputs if o.name == output), None)
        return out is not None and any(self.source_carries_list(component, s) for s in out.sources)

    def source_carries_list(self, parent: ir.Component, source: ir.OutputSource) -> bool:
        assert parent.dag is not None
        return self.carries_list(self.pipeline.components[parent.dag.task(source.task).component], source.name)

    def list_outputs(self, component: ir.Component) -> list[str]:
        """The outputs of a DAG component that are lists: each takes its prefix as an input
        parameter (``lower.collected``)."""
        if component.dag is None or component is self.pipeline.root:
            return []
        return sorted(o.name for o in component.dag.artifact_outputs if self.carries_list(component, o.name))

    def collects(self, loop_body: ir.Component) -> bool:
        """Whether a loop body's iterations write collected artifacts (and need the loop's node name)."""
        assert loop_body.dag is not None
        return any(is_collected(loop_body, out.name) for out in loop_body.dag.artifact_outputs)

    def collected_outputs(self, parent: ir.Component, task: ir.Task) -> dict[str, tuple[str, str | None]]:
        """For a task whose output artifacts a loop collects: output -> (the loop's collected
        output, the output of ``parent`` it feeds, None when ``parent`` is the loop body)."""
        return self._visit[2].get((parent.name, task.name), {})

    def collect_inputs(self, component: ir.Component) -> list[str]:
        """The outputs of a DAG nested in a loop body that write collected artifacts: each takes
        its key as an input parameter (``lower.collected``)."""
        routes = self._visit[2]
        return sorted({via for (name, _), outs in routes.items() if name == component.name for _, via in outs.values() if via})

    def _find_collected(self, loop_body: ir.Component, routes: dict) -> None:
        """The tasks of a loop body whose artifacts a ``dsl.Collected`` gathers: a container task,
        or a (condition) DAG used once whose output comes from one; ``support`` refuses the
        others. (A source that is a list itself, a nested loop's, is no route.)"""
        assert loop_body.dag is not None
        for out in loop_body.dag.artifact_outputs:
            if is_collected(loop_body, out.name) and len(out.sources) == 1 and not self.source_carries_list(loop_body, out.sources[0]):
                self._route(loop_body, out.sources[0], out.name, None, routes)

    def _route(self, parent: ir.Component, source: ir.OutputSource, loop_output: str, via: str | None, routes: dict) -> bool:
        assert parent.dag is not None
        task = parent.dag.task(source.task)
        target = self.pipeline.components[task.component]
        if target.dag is None:
            found = self.pipeline.importer(target.name) is None
        elif task.iterator is not None or self.uses(target.name) != 1:
            found = False
        else:
            inner = next((o for o in target.dag.artifact_outputs if o.name == source.name), None)
            found = inner is not None and len(inner.sources) == 1 and self._route(target, inner.sources[0], loop_output, source.name, routes)
        if found:
            routes.setdefault((parent.name, task.name), {})[source.name] = (loop_output, via)
        return found

    def carries_metadata(self, component: ir.Component) -> bool:
        """Whether the component's template takes artifact metadata as parameters."""
        if component.dag is not None:
            return True
        executor = self.executor(component)
        return executor is not None and placeholders.is_python_component(executor.argv)

    # --- variants of container tasks ------------------------------------------------------------

    def variant(self, parent: ir.Component, task: ir.Task) -> Variant:
        """What the container task ``task`` (in ``parent``) needs from its template."""
        component = self.pipeline.components[task.component]
        executor = self.executor(component)
        tested = placeholders.if_present_inputs(executor.argv) if executor else frozenset()
        bound = {b.name for b in task.parameters} | {b.name for b in task.artifacts}
        return Variant(
            component.name,
            self.retry(parent, task),
            task.enable_cache,
            task.cache_key,
            frozenset(tested & bound),
            self.absent_platform_inputs(parent, task),
            self._imported_inputs(parent, executor, task),
            frozenset(self.collected_outputs(parent, task)),
        )

    def _imported_inputs(self, parent: ir.Component, executor: ir.ContainerSpec | None, task: ir.Task) -> frozenset[tuple[str, str]]:
        """(artifact, scheme) for the task's input artifacts that may be imported and that the
        template must treat apart: a Python component links the download of a URI that KFP maps
        to a local path there; a container component that reads the URI gets it."""
        if executor is None:
            return frozenset()
        python = placeholders.is_python_component(executor.argv)
        found = set()
        for binding in task.artifacts:
            if python or placeholders.reads_artifact(executor.argv, binding.name, "uri"):
                for scheme in self.binding_schemes(parent, binding):
                    if scheme in LOCAL_ROOTS or not python:
                        found.add((binding.name, scheme))
        return frozenset(found)

    def container_tasks(self) -> list[tuple[ir.Component, ir.Task]]:
        """(DAG, task) for every task of a reachable DAG that runs a container executor, in the
        order of ``reachable_dags`` (as the DAGs were visited) and of their tasks."""
        result = []
        for parent in self._visit[0]:
            for task in parent.dag.tasks:  # type: ignore[union-attr]
                target = self.pipeline.components[task.component]
                if target.dag is None and self.pipeline.importer(target.name) is None:
                    result.append((parent, task))
        return result


def _ancestors(graph: dict[str, set[str]], name: str) -> set[str]:
    found: set[str] = set()
    todo = list(graph.get(name, ()))
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += graph.get(current, ())
    return found


# --- facts about single values (no pipeline needed) -----------------------------------------------


def parameter_default(parameter: ir.ParameterDef) -> str | None:
    """The wire text a template input or pipeline parameter defaults to, or None when required.

    An optional parameter without a default is *absent* (``kfp2argo:none``).
    """
    if parameter.default is not ir.MISSING and parameter.default is not None:
        return wire.wire_value(parameter.default, parameter.type)
    return wire.NONE if parameter.optional else None


def fits(value: Any, parameter_type: str) -> bool:
    """Whether a constant has a wire text for ``parameter_type`` (``support`` refuses the rest)."""
    try:
        wire.wire_value(value, parameter_type)
    except ValueError:
        return False
    return True


def may_be_absent(task: ir.Task, source: Any, parent_absent: frozenset[str], field: str | None = None) -> bool:
    """Whether a value bound in a task may be absent at run time."""
    if isinstance(source, ir.Constant):
        return source.value is None
    if isinstance(source, ir.ComponentInput):
        return field is None and source.name in parent_absent
    if isinstance(source, ir.TaskOutput):
        return task.run_after_failure  # a failed producer leaves the consumer's default
    return False


def is_collected(loop_component: ir.Component, output: str) -> bool:
    """Whether a loop component's output artifact is a collected list."""
    definition = loop_component.outputs.artifact(output)
    return definition is not None and definition.is_list


def pvc_operation(executor: ir.ContainerSpec) -> str | None:
    """``"create"`` or ``"delete"`` for kfp-kubernetes' CreatePVC / DeletePVC executors."""
    return PVC_IMAGES.get(executor.image)


def accelerator_resource(kind: str) -> str | None:
    """The Kubernetes resource name of an accelerator type: itself when it is one (``/`` in it,
    e.g. ``nvidia.com/gpu``), ``nvidia.com/gpu`` for a Vertex-style ``NVIDIA_*`` type; None
    when it has none.

    >>> accelerator_resource("NVIDIA_TESLA_T4"), accelerator_resource("amd.com/gpu"), accelerator_resource("TPU_V3")
    ('nvidia.com/gpu', 'amd.com/gpu', None)
    """
    if kind.startswith("NVIDIA_"):
        return "nvidia.com/gpu"
    return kind if "/" in kind else None


def scheme_of(uri: str) -> str | None:
    """The scheme of a URI kfp2argo can import, or None.

    >>> scheme_of("gs://b/k"), scheme_of("oci://r/m"), scheme_of("HTTPS://x")
    ('gs', None, 'https')
    """
    head, sep, _ = uri.partition("://")
    return head.lower() if sep and head.lower() in IMPORTER_SCHEMES else None


def scheme_family(scheme: str) -> str:
    """http and https share a location kind."""
    return "http" if scheme in ("http", "https") else scheme


def split_uri(uri: str) -> tuple[str, str] | None:
    """(bucket, key) of a bucket URI, or None when either is empty.

    >>> split_uri("gs://b/dir/file.txt"), split_uri("gs://b"), split_uri("s3://b/")
    (('b', 'dir/file.txt'), None, None)
    """
    bucket, _, key = uri.partition("://")[2].partition("/")
    return (bucket, key) if bucket and key else None


def split_root(root: str) -> tuple[str, str] | None:
    """(artifact field, key prefix) of a root such as ``s3://bucket/a/b`` -> ("s3", "a/b"); None
    when the root has no Argo artifact location (``support`` refuses it).

    >>> split_root("s3://bucket/a/b/"), split_root("gs://b"), split_root("file:///x")
    (('s3', 'a/b'), ('gcs', ''), None)
    """
    scheme, sep, rest = root.partition("://")
    if not sep or scheme not in ROOT_SCHEMES or not rest.split("/", 1)[0]:
        return None
    prefix = rest.split("/", 1)[1] if "/" in rest else ""
    return ROOT_SCHEMES[scheme], prefix.strip("/")
