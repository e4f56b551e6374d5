"""Executor containers to Argo container templates.

A *container component* (no ``{{$}}`` in its argv) gets its KFP placeholders resolved here, at
compile time, into Argo references and fixed in-pod paths. A *Python component* keeps its argv
for the launcher (``lower.launcher``), which resolves placeholders in the pod.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hera.workflows import models as m

from transpiler import argo_expr, ir, names, placeholders, wire
from transpiler.lower import cache, collected, importer, io, launcher, pipeline_root, platform
from transpiler.lower.context import TASK_NAME_PARAMETER, Context

MSG_PLACEHOLDER = "The placeholder {text} is not supported in a container component. {hint}"
MSG_LITERAL_TAG = (
    "This argv text contains {{{{ which Argo's templating would read (Argo has no escape syntax). "
    "Remove the braces or pass the text as a pipeline parameter"
)
MSG_BACKOFF_FACTOR = "backoffFactor {factor} is not a whole number; Argo's retryStrategy.backoff.factor is an integer"
MSG_ACCELERATOR = (
    "Accelerator type {kind!r} has no Kubernetes resource name. Use a resource name such as "
    "nvidia.com/gpu or amd.com/gpu, or an NVIDIA_* type"
)


@dataclass(frozen=True)
class Variant:
    """What makes two tasks of one component need different Argo templates. ``absent`` names the
    platform inputs that may be absent (``lower.platform``); ``imported`` holds (input artifact,
    URI scheme) for artifacts that may come from a ``dsl.importer`` whose URI the SDK maps to a
    local path (``lower.importer``)."""

    component: str
    retry: ir.RetryPolicy | None = None
    enable_cache: bool = False
    present: frozenset[str] = field(default_factory=frozenset)
    absent: frozenset[str] = field(default_factory=frozenset)
    imported: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    collected: frozenset[str] = field(default_factory=frozenset)  # outputs a dsl.Collected gathers

    def key(self) -> str:
        retry = self.retry and (
            self.retry.max_retry_count,
            self.retry.backoff_duration,
            self.retry.backoff_factor,
            self.retry.backoff_max_duration,
        )
        parts: list = [self.component, retry, self.enable_cache, sorted(self.present)]
        if self.absent or self.imported or self.collected:
            extra: dict = {"absent": sorted(self.absent), "imported": sorted(map(list, self.imported))}
            if self.collected:
                extra["collected"] = sorted(self.collected)
            parts.append(extra)
        return json.dumps(parts)

    def imported_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.imported)


def if_present_inputs(executor: ir.ContainerSpec) -> frozenset[str]:
    """Names of the inputs that IfPresent placeholders test in this executor's argv."""
    found: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, placeholders.IfPresent):
            found.add(value.input_name)
            for part in value.then + value.otherwise:
                visit(part)
        elif isinstance(value, placeholders.Concat):
            for part in value.parts:
                visit(part)

    for element in executor.argv:
        visit(placeholders.structured(element))
    return frozenset(found)


def lower_container(ctx: Context, component: ir.Component, variant: Variant, name: str) -> m.Template:
    executor = ctx.pipeline.executors[component.executor or ""]
    if platform.pvc_operation(executor):  # never memoized: creating or deleting a claim is the point
        template = platform.pvc_template(ctx, component, executor, name)
        template.retry_strategy = _retry_strategy(ctx, variant.retry)
        return template
    python = placeholders.is_python_component(executor.argv)
    _check_accelerator(ctx, executor.resources)
    inputs = _inputs(component, python)
    if variant.collected:
        inputs = inputs or m.Inputs()
        inputs.parameters = (inputs.parameters or []) + [m.Parameter(name=collected.key_parameter(a)) for a in sorted(variant.collected)]
    if uses_task_name(executor):
        inputs = inputs or m.Inputs()
        inputs.parameters = (inputs.parameters or []) + [m.Parameter(name=TASK_NAME_PARAMETER)]
    if variant.imported and not python:
        inputs = inputs or m.Inputs()
        uri_inputs = [m.Parameter(name=importer.uri_parameter(a)) for a in sorted(variant.imported_names())]
        inputs.parameters = (inputs.parameters or []) + uri_inputs
    template = m.Template(
        name=name,
        inputs=inputs,
        outputs=_outputs(ctx, component, variant.collected),
        metadata=_metadata(variant, _accelerator_annotation(executor)),
        container=_container(ctx, component, executor, variant, python),
        volumes=[io.outputs_volume()] if _needs_outputs_volume(component, python) else None,
        retry_strategy=_retry_strategy(ctx, variant.retry),
    )
    if python and variant.imported:
        _add_local_roots(template, {scheme for _, scheme in variant.imported})
    patch = _merge_patches(_resources_patch(ctx, component, executor), platform.apply(ctx, template, executor, variant.absent))
    template.pod_spec_patch = platform.patch_text(patch)
    # Last: it hashes the template. A cache hit would write no collected artifact under this run's keys.
    template.memoize = cache.memoize(ctx.options, template, variant.enable_cache and not variant.collected)
    return template


def _add_local_roots(template: m.Template, schemes: set[str]) -> None:
    """Python components that read an imported artifact: writable folders at KFP's local paths
    for remote URIs (``/gcs``, ``/s3``, ``/minio``), where the launcher links the download."""
    assert template.container is not None
    for scheme in sorted(schemes):
        root = importer.LOCAL_ROOTS[scheme]
        volume = m.Volume(name="kfp2argo" + root.replace("/", "-"), empty_dir=m.EmptyDirVolumeSource())
        template.volumes = (template.volumes or []) + [volume]
        mount = m.VolumeMount(name=volume.name, mount_path=root)
        template.container.volume_mounts = (template.container.volume_mounts or []) + [mount]


def _merge_patches(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two pod spec patches as one; both may patch the ``main`` container."""
    merged = {**first, **second}
    containers = first.get("containers", []) + second.get("containers", [])
    if containers:
        merged["containers"] = [{k: v for c in containers for k, v in c.items()}]
    return merged


def uses_uri(executor: ir.ContainerSpec, artifact: str) -> bool:
    """Whether the argv reads ``{{$.inputs.artifacts['<artifact>'].uri}}``."""
    return any(
        isinstance(ref, placeholders.IORef) and (ref.side, ref.kind, ref.name, ref.attr) == ("inputs", "artifacts", artifact, "uri")
        for ref in placeholders.references(executor.argv)
    )


def uses_task_name(executor: ir.ContainerSpec) -> bool:
    """Whether the executor's argv uses ``{{$.pipeline_task_name}}`` (a per-task template input)."""
    return any(
        isinstance(ref, placeholders.NamedRef) and ref.name == "pipeline_task_name"
        for ref in placeholders.references(executor.argv)
    )


def _inputs(component: ir.Component, python: bool) -> m.Inputs | None:
    parameters = [
        m.Parameter(name=names.parameter_name(p.name), default=io.parameter_default(p)) for p in component.inputs.parameters
    ]
    artifacts = [io.input_artifact(a) for a in component.inputs.artifacts]
    if python:
        parameters += [
            m.Parameter(name=io.metadata_parameter(a.name), default=io.EMPTY_METADATA) for a in component.inputs.artifacts
        ]
    else:
        parameters += [m.Parameter(name=io.artifact_list_parameter(a.name)) for a in component.inputs.artifacts if a.is_list]
    return m.Inputs(parameters=parameters or None, artifacts=artifacts or None) if parameters or artifacts else None


def _outputs(ctx: Context, component: ir.Component, gathered: frozenset[str]) -> m.Outputs | None:
    parameters = [
        m.Parameter(name=names.parameter_name(p.name), value_from=m.ValueFrom(path=io.output_parameter_path(p.name)))
        for p in component.outputs.parameters
    ]
    parameters += [
        m.Parameter(
            name=io.metadata_parameter(a.name),
            value_from=m.ValueFrom(path=io.metadata_path(a.name), default=io.EMPTY_METADATA),
        )
        for a in component.outputs.artifacts
    ]
    artifacts = [io.output_artifact(a, _output_location(ctx, a.name, gathered)) for a in component.outputs.artifacts]
    return m.Outputs(parameters=parameters or None, artifacts=artifacts or None) if parameters or artifacts else None


def _output_location(ctx: Context, artifact: str, gathered: frozenset[str]) -> dict:
    if artifact in gathered:
        return collected.output_location(artifact)
    return pipeline_root.output_location(ctx, names.parameter_name(artifact))


def _needs_outputs_volume(component: ir.Component, python: bool) -> bool:
    return python or bool(component.outputs.parameters or component.outputs.artifacts)


def _metadata(variant: Variant, annotations: dict[str, str]) -> m.Metadata | None:
    if variant.enable_cache:
        annotations = {**annotations, "kfp2argo.io/kfp-enable-cache": "true"}
    return m.Metadata(annotations=annotations) if annotations else None


def _container(
    ctx: Context, component: ir.Component, executor: ir.ContainerSpec, variant: Variant, python: bool
) -> m.Container:
    env = [m.EnvVar(name=k, value=_literal(ctx, v, executor.pointer + "/env")) for k, v in executor.env]
    if python:
        command, args, launcher_env = launcher.invocation(ctx, component, executor)
        env += launcher_env
    else:
        resolver = _Resolver(ctx, component, executor, variant.present, variant.imported_names())
        command = resolver.argv(executor.command, executor.pointer + "/command")
        args = resolver.argv(executor.args, executor.pointer + "/args")
    return m.Container(
        image=executor.image,
        command=command or None,
        args=args or None,
        env=env or None,
        resources=_resources(executor.resources),
        volume_mounts=[io.outputs_mount()] if _needs_outputs_volume(component, python) else None,
    )


def _literal(ctx: Context, text: str, at: str) -> str:
    if not wire.tags_inert(text):
        ctx.unsupported(MSG_LITERAL_TAG, at)
    return text


class _Resolver:
    """Resolves a container component's KFP placeholders into Argo text, at compile time."""

    def __init__(self, ctx: Context, component: ir.Component, executor: ir.ContainerSpec, present: frozenset[str],
                 imported: frozenset[str] = frozenset()):
        self.ctx = ctx
        self.component = component
        self.executor = executor
        self.present = present
        self.imported = imported

    def argv(self, elements: tuple[str, ...], at: str) -> list[str]:
        result: list[str] = []
        for index, element in enumerate(elements):
            structure = placeholders.structured(element)
            where = f"{at}/{index}"
            if structure is None:
                result.append(self.text(element, where))
            else:
                result.extend(self.structure(structure, where))
        return result

    def structure(self, value: Any, at: str) -> list[str]:
        if isinstance(value, placeholders.IfPresent):
            branch = value.then if self.is_present(value.input_name) else value.otherwise
            return [item for part in branch for item in self.structure(part, at)]
        if isinstance(value, placeholders.Concat):
            return ["".join("".join(self.structure(part, at)) for part in value.parts)]
        return [self.text(value, at)]

    def is_present(self, name: str) -> bool:
        parameter = self.component.inputs.parameter(name)
        if parameter is not None and parameter.default not in (ir.MISSING, None):
            return True
        return name in self.present

    def text(self, text: str, at: str) -> str:
        out = []
        for piece in placeholders.split(text):
            if isinstance(piece, str):
                out.append(_literal(self.ctx, piece, at))
            else:
                out.append(self.reference(piece, at))
        return "".join(out)

    def reference(self, ref: placeholders.Ref, at: str) -> str:
        if isinstance(ref, placeholders.NamedRef):
            return self.ctx.job_placeholder(ref, at)
        if ref.side == "inputs" and ref.kind == "parameters" and ref.attr == "":
            parameter = self.component.inputs.parameter(ref.name)
            if parameter is not None:
                return argo_expr.pod_input_parameter(names.parameter_name(ref.name))
        elif ref.side == "inputs" and ref.kind == "artifacts" and ref.attr == "":
            artifact = self.component.inputs.artifact(ref.name)
            if artifact is not None and artifact.is_list:
                return argo_expr.pod_input_parameter(io.artifact_list_parameter(ref.name))
        elif ref.side == "inputs" and ref.kind == "artifacts" and ref.attr in ("path", "uri"):
            if ref.attr == "uri" and ref.name in self.imported:
                return argo_expr.pod_input_parameter(importer.uri_parameter(ref.name))
            if self.component.inputs.artifact(ref.name) is not None:
                return io.input_artifact_path(ref.name)
        elif ref.side == "outputs" and ref.kind == "parameters" and ref.attr == "output_file":
            if self.component.outputs.parameter(ref.name) is not None:
                return io.output_parameter_path(ref.name)
        elif ref.side == "outputs" and ref.kind == "artifacts" and ref.attr in ("path", "uri"):
            if self.component.outputs.artifact(ref.name) is not None:
                return io.output_artifact_path(ref.name)
        hint = "It names no input or output of the component, or has no Argo equivalent outside a Python component"
        self.ctx.unsupported(MSG_PLACEHOLDER.format(text=ref.text, hint=hint), at)
        return ref.text


def _resources(resources: ir.Resources) -> m.ResourceRequirements | None:
    limits: dict[str, m.Quantity] = {}
    requests: dict[str, m.Quantity] = {}
    for key, value, target in (
        ("cpu", resources.cpu_limit, limits),
        ("memory", resources.memory_limit, limits),
        ("cpu", resources.cpu_request, requests),
        ("memory", resources.memory_request, requests),
    ):
        if value and not placeholders.PLACEHOLDER.search(value):
            target[key] = m.Quantity(value)
    accelerator = _accelerator(resources)
    if accelerator and not any(placeholders.PLACEHOLDER.search(v) for v in accelerator):
        limits[accelerator[0]] = m.Quantity(accelerator[1])
    if not limits and not requests:
        return None
    return m.ResourceRequirements(limits=limits or None, requests=requests or None)


def _accelerator(resources: ir.Resources) -> tuple[str, str] | None:
    """(resource name, count). A Vertex-style type such as ``NVIDIA_TESLA_T4`` is an NVIDIA GPU
    (``nvidia.com/gpu``); the type itself is recorded as an annotation, not a node selector,
    because node labels for GPU models differ between clusters."""
    kind, count = resources.accelerator_type, resources.accelerator_count
    if not kind or not count:
        return None
    if kind.startswith("NVIDIA_"):
        return "nvidia.com/gpu", count
    return kind, count


def _accelerator_annotation(executor: ir.ContainerSpec) -> dict[str, str]:
    kind = executor.resources.accelerator_type
    if kind and kind.startswith("NVIDIA_"):
        return {"kfp2argo.io/accelerator-type": kind}
    return {}


def _check_accelerator(ctx: Context, resources: ir.Resources) -> None:
    kind = resources.accelerator_type
    if kind and resources.accelerator_count and "/" not in kind and not kind.startswith("NVIDIA_"):
        if not placeholders.PLACEHOLDER.search(kind):
            ctx.unsupported(MSG_ACCELERATOR.format(kind=kind), resources.pointer + "/accelerator")


def _resources_patch(ctx: Context, component: ir.Component, executor: ir.ContainerSpec) -> dict[str, Any]:
    """Resources given by pipeline parameters or task outputs become a podSpecPatch.

    Argo substitutes parameters into a ``podSpecPatch`` string, but not into a resource quantity
    field, which must parse as a quantity before any substitution. Static values stay in
    ``resources``; the patch is merged into them.
    """
    resources = executor.resources
    accelerator = _accelerator(resources) or (None, None)
    entries = [
        ("limits", "cpu", resources.cpu_limit),
        ("limits", "memory", resources.memory_limit),
        ("requests", "cpu", resources.cpu_request),
        ("requests", "memory", resources.memory_request),
        ("limits", accelerator[0], accelerator[1]),
    ]
    resolver = _Resolver(ctx, component, executor, frozenset())
    patch: dict[str, dict[str, str]] = {}
    for section, key, value in entries:
        if key and value and (placeholders.PLACEHOLDER.search(value) or placeholders.PLACEHOLDER.search(key)):
            resolved_key = resolver.text(key, resources.pointer)
            patch.setdefault(section, {})[resolved_key] = resolver.text(value, resources.pointer)
    if not patch:
        return {}
    return {"containers": [{"name": platform.PATCH_CONTAINER, "resources": patch}]}


def _retry_strategy(ctx: Context, retry: ir.RetryPolicy | None) -> m.RetryStrategy | None:
    if retry is None or retry.max_retry_count <= 0:
        return None
    backoff = None
    if retry.backoff_duration or retry.backoff_max_duration or retry.backoff_factor:
        factor = retry.backoff_factor
        if factor is not None and float(factor) != int(float(factor)):
            ctx.unsupported(MSG_BACKOFF_FACTOR.format(factor=factor), retry.pointer + "/backoffFactor")
        backoff = m.Backoff(
            duration=retry.backoff_duration or "0s",
            factor=m.IntOrString(str(int(float(factor)))) if factor else None,
            max_duration=retry.backoff_max_duration or None,
        )
    return m.RetryStrategy(
        limit=m.IntOrString(str(retry.max_retry_count)),
        retry_policy="OnFailure",
        backoff=backoff,
    )
