"""The typed, immutable model of the PipelineSpec subset kfp2argo understands.

``parse`` builds it from validated dicts; ``lower`` reads it. Every node keeps the JSON pointer
of the dict it came from (relative to the PipelineSpec), so later passes can still report
located errors. Nothing here knows Argo.
"""

from __future__ import annotations

import json
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
    description: str = ""  # the SDK's docstring text; shown for the pipeline's own parameters


@dataclass(frozen=True)
class ArtifactDef:
    """An input or output artifact of a component."""

    name: str
    schema_title: str
    schema_version: str
    is_list: bool = False
    optional: bool = False
    pointer: str = ""
    uri: str | None = None  # a pipeline input artifact's URI, given by the caller (``--input-artifact``)


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
    """How a ``dsl.ParallelFor`` task iterates: over a literal list (``raw``, JSON text), over
    the list value of one of the task's input parameters (``input_parameter``) or over the
    artifacts of one of its input artifact lists (``input_artifact``; the item is an artifact)."""

    item_input: str
    raw: str | None = None
    input_parameter: str | None = None
    input_artifact: str | None = None
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
    cache_key: str = ""  # cachingOptions.cacheKey: replaces the computed key when not empty
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


# The Kubernetes platform spec (kfp-kubernetes) -------------------------------------------------
#
# Pointers of these nodes point into the platform-spec document (document index 1).

PlatformSource = Union[Constant, ComponentInput, TaskOutput]


@dataclass(frozen=True)
class PlatformValue:
    """A value the platform spec gives as an input parameter spec: a constant, or an input of the
    DAG that holds the task, or an output of a sibling task (resolved per task). ``input`` names
    the Argo input parameter that carries a run-time value into the template (None for a
    constant)."""

    source: PlatformSource
    input: str | None = None
    pointer: str = ""


@dataclass(frozen=True)
class KeyToEnv:
    key: str
    env: str


@dataclass(frozen=True)
class ObjectEnv:
    """A Secret (``kind`` "secret") or ConfigMap ("configMap") read into environment variables."""

    kind: str
    name: PlatformValue
    keys: tuple[KeyToEnv, ...]
    optional: bool | None = None
    pointer: str = ""


@dataclass(frozen=True)
class ObjectVolume:
    """A Secret or ConfigMap mounted as a volume."""

    kind: str
    name: PlatformValue
    mount_path: str
    optional: bool | None = None
    pointer: str = ""


@dataclass(frozen=True)
class PvcMount:
    name: PlatformValue
    mount_path: str
    sub_path: str = ""
    pointer: str = ""


@dataclass(frozen=True)
class EphemeralVolume:
    """A generic ephemeral volume (a PVC made for the pod and deleted with it)."""

    volume_name: str
    mount_path: str
    access_modes: tuple[str, ...]
    size: str
    storage_class: str | None = None  # None: the cluster's default storage class
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    pointer: str = ""


@dataclass(frozen=True)
class EmptyDirMount:
    volume_name: str
    mount_path: str
    medium: str | None = None
    size_limit: str | None = None
    pointer: str = ""


@dataclass(frozen=True)
class Toleration:
    key: str = ""
    operator: str = ""
    value: str = ""
    effect: str = ""
    seconds: int | None = None


@dataclass(frozen=True)
class Requirement:
    """A label or field selector requirement (``key``, ``operator``, ``values``)."""

    key: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeAffinityTerm:
    """Required (no ``weight``) or preferred node affinity."""

    match_expressions: tuple[Requirement, ...] = ()
    match_fields: tuple[Requirement, ...] = ()
    weight: int | None = None


@dataclass(frozen=True)
class PodAffinityTerm:
    match_expressions: tuple[Requirement, ...] = ()
    match_labels: tuple[tuple[str, str], ...] = ()
    topology_key: str = ""
    namespaces: tuple[str, ...] = ()
    namespace_expressions: tuple[Requirement, ...] = ()
    namespace_labels: tuple[tuple[str, str], ...] = ()
    weight: int | None = None
    anti: bool = False


@dataclass(frozen=True)
class SecurityContext:
    run_as_user: int | None = None
    run_as_group: int | None = None
    run_as_non_root: bool | None = None


@dataclass(frozen=True)
class KubernetesConfig:
    """What kfp-kubernetes asks of one executor's pod. JSON-valued fields (``node_selector_json``,
    ``toleration_json``, ``node_affinity_json``) hold the value of a STRUCT (or LIST, for
    tolerations) parameter or constant."""

    object_env: tuple[ObjectEnv, ...] = ()
    object_volumes: tuple[ObjectVolume, ...] = ()
    field_path_env: tuple[tuple[str, str], ...] = ()
    pvc_mounts: tuple[PvcMount, ...] = ()
    ephemeral_volumes: tuple[EphemeralVolume, ...] = ()
    empty_dirs: tuple[EmptyDirMount, ...] = ()
    node_selector: tuple[tuple[str, str], ...] = ()
    node_selector_json: PlatformValue | None = None
    tolerations: tuple[Toleration, ...] = ()
    toleration_json: tuple[PlatformValue, ...] = ()
    node_affinity: tuple[NodeAffinityTerm, ...] = ()
    node_affinity_json: tuple[PlatformValue, ...] = ()
    pod_affinity: tuple[PodAffinityTerm, ...] = ()
    image_pull_secrets: tuple[PlatformValue, ...] = ()
    image_pull_policy: str | None = None
    pod_labels: tuple[tuple[str, str], ...] = ()
    pod_annotations: tuple[tuple[str, str], ...] = ()
    active_deadline_seconds: int | None = None
    security_context: SecurityContext | None = None
    pointer: str = ""

    def run_time_values(self) -> tuple[PlatformValue, ...]:
        """The values that reach the template as input parameters, in input order."""
        values = [e.name for e in self.object_env] + [v.name for v in self.object_volumes]
        values += [m.name for m in self.pvc_mounts] + list(self.image_pull_secrets)
        values += [self.node_selector_json] if self.node_selector_json else []
        values += list(self.toleration_json) + list(self.node_affinity_json)
        return tuple(sorted((v for v in values if v.input), key=lambda v: v.input or ""))


@dataclass(frozen=True)
class ContainerSpec:
    """An executor's container: image and argv exactly as the IR holds them, and what the
    Kubernetes platform spec adds to its pod."""

    image: str
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    resources: Resources = field(default_factory=Resources)
    pointer: str = ""
    kubernetes: KubernetesConfig | None = None

    @property
    def argv(self) -> tuple[str, ...]:
        return self.command + self.args


@dataclass(frozen=True)
class Workspace:
    """``dsl.PipelineConfig(workspace=...)``: one volume per run shared by its tasks. ``pvc_spec``
    is the ``pvcSpecPatch`` (accessModes, storageClassName) as the IR gives it."""

    size: str
    pvc_spec: dict[str, Any] = field(default_factory=dict)
    pointer: str = ""

    def claim_spec(self, default: dict[str, Any]) -> dict[str, Any]:
        """The claim's spec as KFP's compiler builds it: the default workspace spec (the API
        server's config; here the config file's ``defaultWorkspace``), the patch's non-empty
        accessModes and its storageClassName over it, and the size as the storage request."""
        spec = json.loads(json.dumps(default))
        if self.pvc_spec.get("accessModes"):
            spec["accessModes"] = list(self.pvc_spec["accessModes"])
        if "storageClassName" in self.pvc_spec:
            spec["storageClassName"] = self.pvc_spec["storageClassName"]
        requests = spec.setdefault("resources", {}).setdefault("requests", {})
        requests["storage"] = self.size
        return spec


@dataclass(frozen=True)
class PipelineConfig:
    """``dsl.PipelineConfig``: the workspace, and the run's TTLs and deadline in seconds (None:
    not set; the IR's 0 or less means not set, as KFP's compiler reads it)."""

    workspace: Workspace | None = None
    ttl_after_completion: int | None = None
    ttl_after_success: int | None = None
    ttl_after_failure: int | None = None
    active_deadline_seconds: int | None = None
    pointer: str = ""


@dataclass(frozen=True)
class Importer:
    """A ``dsl.importer`` executor: an artifact that already exists at ``uri`` (a Constant, or
    the name of the importer task's input parameter that holds it at run time), with its
    metadata (a JSON object whose strings may hold ``{{$.inputs.parameters['x']}}``)."""

    uri: Constant | str
    schema_title: str
    schema_version: str
    metadata: dict[str, Any] = field(default_factory=dict)
    download_to_workspace: bool = False  # into the pipeline workspace, where consumers read it
    pointer: str = ""


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
    importers: dict[str, Importer] = field(default_factory=dict)
    default_pipeline_root: str = ""  # @dsl.pipeline(pipeline_root=...), or a PipelineJob's gcsOutputDirectory
    config: PipelineConfig | None = None  # dsl.PipelineConfig (the platform spec's pipelineConfig)
    labels: tuple[tuple[str, str], ...] = ()  # a PipelineJob's labels

    def importer(self, component_name: str) -> Importer | None:
        """The importer a component runs, if it is a ``dsl.importer`` component."""
        component = self.components.get(component_name)
        return self.importers.get(component.executor or "") if component else None
