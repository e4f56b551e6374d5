"""The typed, immutable model of the PipelineSpec subset kfp2argo understands.

``parse`` builds it from validated dicts; ``lower`` reads it. Every node keeps the JSON pointer
of the dict it came from (relative to the PipelineSpec), so later passes can still report
located errors. Nothing here knows Argo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

PARAMETER_TYPES = ("STRING", "NUMBER_INTEGER", "NUMBER_DOUBLE", "BOOLEAN", "LIST", "STRUCT")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Marks a parameter without a default value (distinct from a default of ``None``)."""


@dataclass(frozen=True)
class ParameterDef:
    """An input or output parameter of a component."""

    name: str
    type: str
    default: Any = MISSING
    optional: bool = False
    pointer: str = ""


@dataclass(frozen=True)
class ArtifactDef:
    """An input or output artifact of a component."""

    name: str
    schema_title: str
    schema_version: str
    is_list: bool = False
    optional: bool = False
    pointer: str = ""


@dataclass(frozen=True)
class Interface:
    """The parameters and artifacts on one side (inputs or outputs) of a component."""

    parameters: tuple[ParameterDef, ...] = ()
    artifacts: tuple[ArtifactDef, ...] = ()

    def parameter(self, name: str) -> ParameterDef | None:
        return next((p for p in self.parameters if p.name == name), None)

    def parameter_type(self, name: str) -> str:
        """The declared type of a parameter; STRING for one the interface does not declare (the
        inputs the KFP compiler adds to a task for placeholders in resource fields)."""
        parameter = self.parameter(name)
        return parameter.type if parameter else "STRING"

    def artifact(self, name: str) -> ArtifactDef | None:
        return next((a for a in self.artifacts if a.name == name), None)


# How a task input gets its value ---------------------------------------------------------------


@dataclass(frozen=True)
class Constant:
    """A literal value written into the IR."""

    value: Any


@dataclass(frozen=True)
class ComponentInput:
    """An input of the enclosing DAG component (or a pipeline parameter, at the root)."""

    name: str


@dataclass(frozen=True)
class TaskOutput:
    """An output parameter or artifact of a sibling task."""

    task: str
    name: str


ArtifactSource = Union[ComponentInput, TaskOutput]


@dataclass(frozen=True)
class TaskFinalStatus:
    """The final state of another task (``dsl.PipelineTaskFinalStatus``, for exit tasks)."""

    task: str


ParameterSource = Union[Constant, ComponentInput, TaskOutput, TaskFinalStatus]


@dataclass(frozen=True)
class ParameterBinding:
    """A task input parameter and where its value comes from. ``field`` selects one field of a
    JSON-object value (a loop item of a ``dsl.ParallelFor`` over dicts)."""

    name: str
    source: ParameterSource
    pointer: str = ""
    field: str | None = None


@dataclass(frozen=True)
class ArtifactBinding:
    name: str
    source: ArtifactSource
    pointer: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    """A task's retry policy, durations kept as the IR writes them (e.g. ``"30s"``)."""

    max_retry_count: int
    backoff_duration: str | None = None
    backoff_factor: float | None = None
    backoff_max_duration: str | None = None
    pointer: str = ""


@dataclass(frozen=True)
class Iterator:
    """How a ``dsl.ParallelFor`` task iterates: over a literal list (``raw``, JSON text) or over
    the list value of one of the task's input parameters (``input_parameter``)."""

    item_input: str
    raw: str | None = None
    input_parameter: str | None = None
    parallelism: int | None = None
    pointer: str = ""


@dataclass(frozen=True)
class Task:
    """One task of a DAG: a component invocation with its input bindings. ``condition`` is the
    CEL of ``triggerPolicy.condition``; ``run_after_failure`` means the task runs once its
    upstream tasks have finished, whatever their state (``ALL_UPSTREAM_TASKS_COMPLETED``:
    exit handlers and ``ignore_upstream_failure``)."""

    name: str
    component: str
    display_name: str
    dependent_tasks: tuple[str, ...] = ()
    parameters: tuple[ParameterBinding, ...] = ()
    artifacts: tuple[ArtifactBinding, ...] = ()
    retry: RetryPolicy | None = None
    enable_cache: bool = False
    pointer: str = ""
    condition: str | None = None
    condition_pointer: str = ""
    run_after_failure: bool = False
    iterator: Iterator | None = None


@dataclass(frozen=True)
class OutputSource:
    """One task output a DAG output can come from."""

    task: str
    name: str


@dataclass(frozen=True)
class DagOutput:
    """An output of a DAG component, taken from one of its tasks; with several ``sources``
    (``dsl.OneOf``), from whichever of them ran."""

    name: str
    sources: tuple[OutputSource, ...]
    pointer: str = ""


@dataclass(frozen=True)
class Dag:
    tasks: tuple[Task, ...]
    parameter_outputs: tuple[DagOutput, ...] = ()
    artifact_outputs: tuple[DagOutput, ...] = ()

    def task(self, name: str) -> Task:
        return next(t for t in self.tasks if t.name == name)


@dataclass(frozen=True)
class Resources:
    """Container resources; values are Kubernetes quantities or KFP placeholders."""

    cpu_limit: str | None = None
    memory_limit: str | None = None
    cpu_request: str | None = None
    memory_request: str | None = None
    accelerator_type: str | None = None
    accelerator_count: str | None = None
    pointer: str = ""

    def is_empty(self) -> bool:
        return not any(
            (self.cpu_limit, self.memory_limit, self.cpu_request, self.memory_request, self.accelerator_count)
        )


@dataclass(frozen=True)
class ContainerSpec:
    """An executor's container: image and argv exactly as the IR holds them."""

    image: str
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    resources: Resources = field(default_factory=Resources)
    pointer: str = ""

    @property
    def argv(self) -> tuple[str, ...]:
        return self.command + self.args


@dataclass(frozen=True)
class Component:
    """A component: a container executor or a DAG of tasks."""

    name: str
    inputs: Interface
    outputs: Interface
    executor: str | None = None
    dag: Dag | None = None
    pointer: str = ""


@dataclass(frozen=True)
class Pipeline:
    """A whole pipeline: the root DAG component plus everything it reaches."""

    name: str
    display_name: str
    description: str
    root: Component
    components: dict[str, Component]
    executors: dict[str, ContainerSpec]
    sdk_version: str = ""
    schema_version: str = ""
