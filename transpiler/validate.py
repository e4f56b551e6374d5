"""The ``validate`` pass: JSON Schema of the IR, then semantic checks, all errors at once.

The schema (``schemas/pipeline_spec.schema.json``) is generated from the IR's protobuf
descriptors by ``tools/gen_ir_schema.py`` and checked by ``schema_check`` (jsonschema's verdict
and messages, compiled for this schema's keywords: about 50 times faster). The semantic checks are what a schema cannot say:
every reference resolves (components, executors, tasks, inputs, outputs), task graphs and
component nesting have no cycles, required inputs are supplied and connected types agree.
"""

from __future__ import annotations

from typing import Any, Iterator

from transpiler import schema_check, wire
from transpiler.errors import Diagnostic, InputSchemaError, pointer
from transpiler.load import Source

MSG_UNKNOWN = "{what} {name!r} is not defined{where}. {known}"
MSG_CYCLE = "Tasks {cycle} depend on each other in a cycle. A DAG must not have cycles"
MSG_RECURSIVE = "Component {name!r} contains itself (through {path}). Components must not be recursive"
MSG_REQUIRED = "Task {task!r} does not supply the required input {name!r} of {component!r}. Supply it or give the input a default"
MSG_TYPE = "Input {name!r} of {component!r} is {expected}, but it is connected to {source} of type {actual}. Connect values of the same type"
MSG_KIND = "{name!r} of {component!r} is {expected}, but the task supplies it as {actual}"
_COMPATIBLE = {("NUMBER_INTEGER", "NUMBER_DOUBLE"), ("TASK_FINAL_STATUS", "STRUCT")}
MSG_ONEOF = "Fields {fields} cannot be set together (protobuf oneof {group!r}). Keep one"
MSG_NO_ROOT = "The pipeline has no root DAG (root.dag). Compile it with the KFP SDK"
MSG_NO_BODY = "Component {name!r} has neither an executorLabel nor a dag: it runs nothing"
MSG_NO_SOURCE = "DAG output {name!r} names no source: set valueFromParameter or valueFromOneof"
MSG_UNSOURCED = "Output {kind} {name!r} of this DAG has no source in dag.outputs. Name the task output it passes up"
MSG_DEFAULT = "The default value of {name!r} does not fit its type {type}: {problem}"


def validate(source: Source) -> None:
    """Check a loaded source; raise :class:`InputSchemaError` listing every problem found."""
    problems = list(_schema_problems(source))
    if not problems:
        problems = list(_Semantics(source).check())
    if problems:
        raise InputSchemaError(problems)


def _schema_problems(source: Source) -> Iterator[Diagnostic]:
    documents = [("PipelineSpec", source.pipeline_spec, source.spec_pointer, 0)]
    if source.platform_spec is not None:
        documents.append(("PlatformSpec", source.platform_spec, "", 1))
    if source.job is not None:  # the PipelineJob wrapper around the spec (its pipelineSpec left out)
        documents.append(("PipelineJob", source.job, "", 0))
    for definition, document, base, index in documents:
        errors = sorted(schema_check.iter_errors(definition, document), key=lambda e: (list(map(str, e.absolute_path)), e.message))
        for error in errors:
            at = base + pointer(*error.absolute_path)
            yield source.diagnostic(_message(error), at, index)


def _message(error: schema_check.Error) -> str:
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "Unknown field") + ". Check the spelling or the KFP SDK version"
    conflict = error.schema.get("x-oneof-conflict") if isinstance(error.schema, dict) else None
    if error.validator == "not" and conflict:
        return MSG_ONEOF.format(fields=" and ".join(map(repr, conflict["fields"])), group=conflict["group"])
    if error.validator == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    return error.message[0].upper() + error.message[1:]


class _Semantics:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.spec = source.pipeline_spec
        self.components: dict[str, Any] = self.spec.get("components", {})
        self.executors: dict[str, Any] = self.spec.get("deploymentSpec", {}).get("executors", {})
        self.problems: list[Diagnostic] = []
        self.loop_items = self._loop_items()

    def _loop_items(self) -> dict[str, set[str]]:
        """Inputs of loop-body components that a ParallelFor fills with the current item."""
        items: dict[str, set[str]] = {}
        dags = [c for c in self.components.values() if "dag" in c] + [self.spec.get("root", {})]
        for component in dags:
            for task in component.get("dag", {}).get("tasks", {}).values():
                for key in ("parameterIterator", "artifactIterator"):
                    item = task.get(key, {}).get("itemInput")
                    if item:
                        items.setdefault(task.get("componentRef", {}).get("name", ""), set()).add(item)
        return items

    def error(self, message: str, *tokens: str | int) -> None:
        self.problems.append(self.source.spec_diagnostic(message, pointer(*tokens)))

    def check(self) -> list[Diagnostic]:
        if "dag" not in self.spec.get("root", {}):
            self.error(MSG_NO_ROOT, "root")
            return self.problems
        for name, component in sorted(self.components.items()):
            if "executorLabel" not in component and "dag" not in component:
                self.error(MSG_NO_BODY.format(name=name), "components", name)
            self.defaults(component, ("components", name))
            label = component.get("executorLabel")
            if label is not None and label not in self.executors:
                self.error(MSG_UNKNOWN.format(what="Executor", name=label, where=" in deploymentSpec.executors", known=_known(self.executors)), "components", name, "executorLabel")
            if "dag" in component:
                self.current = name
                self.dag(component, ("components", name))
        self.current = "root"
        self.defaults(self.spec["root"], ("root",))
        self.dag(self.spec["root"], ("root",))
        self.recursion()
        return self.problems

    def dag(self, component: dict[str, Any], at: tuple[str, ...]) -> None:
        tasks = component.get("dag", {}).get("tasks", {})
        inputs = component.get("inputDefinitions", {})
        edges: dict[str, set[str]] = {}
        for name, task in sorted(tasks.items()):
            task_at = (*at, "dag", "tasks", name)
            edges[name] = self.task(name, task, tasks, inputs, task_at)
        self.dag_outputs(component, tasks, at)
        self.cycles(edges, at)

    def task(self, name: str, task: dict[str, Any], siblings: dict[str, Any], parent_inputs: dict[str, Any], at: tuple[str, ...]) -> set[str]:
        upstream: set[str] = set()
        for index, dependency in enumerate(task.get("dependentTasks", [])):
            if dependency in siblings:
                upstream.add(dependency)
            else:
                self.error(MSG_UNKNOWN.format(what="Task", name=dependency, where=" in this DAG", known=_known(siblings)), *at, "dependentTasks", index)
        reference = task.get("componentRef", {}).get("name", "")
        component = self.components.get(reference)
        if component is None:
            self.error(MSG_UNKNOWN.format(what="Component", name=reference, where="", known=_known(self.components)), *at, "componentRef", "name")
            return upstream
        definitions = component.get("inputDefinitions", {})
        for kind in ("parameters", "artifacts"):
            for input_name, binding in sorted(task.get("inputs", {}).get(kind, {}).items()):
                producer = self.binding(kind, input_name, binding, reference, definitions, siblings, parent_inputs, (*at, "inputs", kind, input_name))
                if producer:
                    upstream.add(producer)
        iterated = {task.get(k, {}).get("itemInput") for k in ("parameterIterator", "artifactIterator")}
        self.required(name, reference, task, definitions, at, iterated)
        return upstream

    def binding(self, kind: str, name: str, binding: dict[str, Any], component: str, definitions: dict[str, Any], siblings: dict[str, Any], parent_inputs: dict[str, Any], at: tuple[str, ...]) -> str | None:
        definition = definitions.get(kind, {}).get(name)
        if definition is None and kind == "parameters" and name not in definitions.get("artifacts", {}):
            definition = {}  # an extra input the KFP compiler adds for placeholders in resource fields
        if definition is None:
            other = "artifacts" if kind == "parameters" else "parameters"
            if name in definitions.get(other, {}):
                self.error(MSG_KIND.format(name=name, component=component, expected=other[:-1], actual=kind[:-1]), *at)
            else:
                self.error(MSG_UNKNOWN.format(what=f"Input {kind[:-1]}", name=name, where=f" in {component}", known=_known(definitions.get(kind, {}))), *at)
            return None
        parent_key, producer_key, output_key = (
            ("componentInputParameter", "taskOutputParameter", "outputParameterKey")
            if kind == "parameters"
            else ("componentInputArtifact", "taskOutputArtifact", "outputArtifactKey")
        )
        if parent_key in binding:
            source = binding[parent_key]
            found = parent_inputs.get(kind, {}).get(source)
            if found is None:
                self.error(MSG_UNKNOWN.format(what=f"Enclosing input {kind[:-1]}", name=source, where="", known=_known(parent_inputs.get(kind, {}))), *at, parent_key)
            elif kind == "parameters" and definition and not self.is_item(source, binding):
                self.same_type(name, component, definition, found, f"input {source!r}", (*at, parent_key))
            return None
        if "taskFinalStatus" in binding:
            producer = binding["taskFinalStatus"].get("producerTask", "")
            if producer not in siblings:
                self.error(MSG_UNKNOWN.format(what="Producer task", name=producer, where=" in this DAG", known=_known(siblings)), *at, "taskFinalStatus", "producerTask")
                return None
            return producer
        if producer_key in binding:
            producer = binding[producer_key].get("producerTask", "")
            key = binding[producer_key].get(output_key, "")
            if producer not in siblings:
                self.error(MSG_UNKNOWN.format(what="Producer task", name=producer, where=" in this DAG", known=_known(siblings)), *at, producer_key, "producerTask")
                return None
            outputs = self.components.get(siblings[producer].get("componentRef", {}).get("name", ""), {}).get("outputDefinitions", {}).get(kind, {})
            if key not in outputs:
                self.error(MSG_UNKNOWN.format(what=f"Output {kind[:-1]}", name=key, where=f" of task {producer!r}", known=_known(outputs)), *at, producer_key, output_key)
            elif kind == "parameters" and definition:
                self.same_type(name, component, definition, outputs[key], f"output {key!r} of {producer!r}", (*at, producer_key))
            return producer
        return None

    def is_item(self, source: str, binding: dict[str, Any]) -> bool:
        """Whether a binding reads a loop item or one field of a JSON-object value, whose type the
        enclosing interface does not state."""
        return source in self.loop_items.get(self.current, ()) or "parameterExpressionSelector" in binding

    def same_type(self, name: str, component: str, expected: dict[str, Any], actual: dict[str, Any], source: str, at: tuple[str, ...]) -> None:
        want = expected.get("parameterType", "STRING")
        have = actual.get("parameterType", "STRING")
        if want != have and (have, want) not in _COMPATIBLE:
            self.error(MSG_TYPE.format(name=name, component=component, expected=want, source=source, actual=have), *at)

    def required(self, task: str, component: str, body: dict[str, Any], definitions: dict[str, Any], at: tuple[str, ...], iterated: set[Any]) -> None:
        supplied = body.get("inputs", {})
        for kind in ("parameters", "artifacts"):
            for name, definition in sorted(definitions.get(kind, {}).items()):
                if name in supplied.get(kind, {}) or name in iterated or definition.get("isOptional") or "defaultValue" in definition:
                    continue
                self.error(MSG_REQUIRED.format(task=task, name=name, component=component), *at)

    def defaults(self, component: dict[str, Any], at: tuple[str, ...]) -> None:
        """Each input parameter's default fits its type (as the wire encoding takes it)."""
        for name, definition in sorted(component.get("inputDefinitions", {}).get("parameters", {}).items()):
            if "defaultValue" not in definition or "type" in definition:  # the pre-2.1 `type`: support refuses it
                continue
            parameter_type = definition.get("parameterType", "STRING")
            try:
                wire.wire_value(definition["defaultValue"], "STRUCT" if parameter_type == "TASK_FINAL_STATUS" else parameter_type)
            except ValueError as err:
                problem = MSG_DEFAULT.format(name=name, type=parameter_type, problem=err)
                self.error(problem, *at, "inputDefinitions", "parameters", name, "defaultValue")

    def dag_outputs(self, component: dict[str, Any], tasks: dict[str, Any], at: tuple[str, ...]) -> None:
        outputs = component.get("dag", {}).get("outputs", {})
        for kind in ("parameters", "artifacts"):
            for name in sorted(set(component.get("outputDefinitions", {}).get(kind, {})) - set(outputs.get(kind, {}))):
                self.error(MSG_UNSOURCED.format(kind=kind[:-1], name=name), *at, "outputDefinitions", kind, name)
        for name, out in sorted(outputs.get("parameters", {}).items()):
            selector = out.get("valueFromParameter")
            out_at = (*at, "dag", "outputs", "parameters", name)
            if not selector and not out.get("valueFromOneof"):
                self.error(MSG_NO_SOURCE.format(name=name), *out_at)
            if selector:
                self.output_selector(selector, "producerSubtask", "outputParameterKey", "parameters", tasks, (*out_at, "valueFromParameter"))
            for index, selector in enumerate(out.get("valueFromOneof", {}).get("parameterSelectors", [])):
                self.output_selector(selector, "producerSubtask", "outputParameterKey", "parameters", tasks, (*out_at, "valueFromOneof", "parameterSelectors", index))
        for name, out in sorted(outputs.get("artifacts", {}).items()):
            for index, selector in enumerate(out.get("artifactSelectors", [])):
                self.output_selector(selector, "producerSubtask", "outputArtifactKey", "artifacts", tasks, (*at, "dag", "outputs", "artifacts", name, "artifactSelectors", index))

    def output_selector(self, selector: dict[str, Any], task_key: str, output_key: str, kind: str, tasks: dict[str, Any], at: tuple[Any, ...]) -> None:
        producer = selector.get(task_key, "")
        if producer not in tasks:
            self.error(MSG_UNKNOWN.format(what="Producer task", name=producer, where=" in this DAG", known=_known(tasks)), *at, task_key)
            return
        outputs = self.components.get(tasks[producer].get("componentRef", {}).get("name", ""), {}).get("outputDefinitions", {}).get(kind, {})
        if selector.get(output_key, "") not in outputs:
            self.error(MSG_UNKNOWN.format(what=f"Output {kind[:-1]}", name=selector.get(output_key, ""), where=f" of task {producer!r}", known=_known(outputs)), *at, output_key)

    def cycles(self, edges: dict[str, set[str]], at: tuple[str, ...]) -> None:
        cycle = find_cycle(edges)
        if cycle:
            self.error(MSG_CYCLE.format(cycle=" -> ".join(cycle)), *at, "dag", "tasks", cycle[0])

    def recursion(self) -> None:
        uses = {
            name: {t.get("componentRef", {}).get("name", "") for t in c.get("dag", {}).get("tasks", {}).values()}
            for name, c in self.components.items()
        }
        cycle = find_cycle({k: {u for u in v if u in uses} for k, v in uses.items()})
        if cycle:
            self.error(MSG_RECURSIVE.format(name=cycle[0], path=" -> ".join(cycle)), "components", cycle[0])


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle in a graph given as node -> upstream nodes, as a closed path, or None."""
    state: dict[str, int] = {}
    for start in sorted(edges):
        if state.get(start):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return None


def _known(names: dict[str, Any]) -> str:
    if not names:
        return "None are defined"
    listed = sorted(names)
    shown = ", ".join(repr(n) for n in listed[:8])
    return f"Defined: {shown}" + (f" and {len(listed) - 8} more" if len(listed) > 8 else "")
