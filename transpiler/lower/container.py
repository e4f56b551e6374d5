"""Executor containers to Argo container templates.

A *container component* (no ``{{$}}`` in its argv) gets its KFP placeholders resolved here, at
compile time, into Argo references and fixed in-pod paths. A *Python component* keeps its argv
for the launcher (``lower.launcher``), which resolves placeholders in the pod.
"""

from __future__ import annotations

from typing import Any

from hera.workflows import models as m

from transpiler import argo_expr, ir, names, placeholders, wire
from transpiler.analysis import LOCAL_ROOTS, Variant, accelerator_resource, parameter_default, pvc_operation
from transpiler.lower import cache, collected, io, launcher, pipeline_root, platform, pvc
from transpiler.lower.context import Context

def lower_container(ctx: Context, component: ir.Component, variant: Variant, name: str) -> m.Template:
    executor = ctx.pipeline.executors[component.executor or ""]
    if pvc_operation(executor):  # never memoized: creating or deleting a claim is the point
        template = pvc.pvc_template(component, executor, name)
        template.retry_strategy = _retry_strategy(variant.retry)
        return template
    python = placeholders.is_python_component(executor.argv)
    inputs = _inputs(component, python)
    if variant.collected:
        inputs = inputs or m.Inputs()
        inputs.parameters = (inputs.parameters or []) + [m.Parameter(name=names.collect_key_parameter(a)) for a in sorted(variant.collected)]
    if placeholders.uses_task_name(executor.argv):
        inputs = inputs or m.Inputs()
        inputs.parameters = (inputs.parameters or []) + [m.Parameter(name=names.TASK_NAME_PARAMETER)]
    if variant.imported and not python:
        inputs = inputs or m.Inputs()
        uri_inputs = [m.Parameter(name=names.uri_parameter(a)) for a in sorted(variant.imported_names())]
        inputs.parameters = (inputs.parameters or []) + uri_inputs
    template = m.Template(
        name=name,
        inputs=inputs,
        outputs=_outputs(ctx, component, variant.collected),
        metadata=_metadata(variant, _accelerator_annotation(executor)),
        container=_container(ctx, component, executor, variant, python),
        retry_strategy=_retry_strategy(variant.retry),
    )
    if python and variant.imported:
        _add_local_roots(template, {scheme for _, scheme in variant.imported})
    patch = _merge_patches(_resources_patch(ctx, component, executor), platform.apply(ctx, template, executor, variant.absent))
    template.pod_spec_patch = platform.patch_text(patch)
    # Last: it hashes the template. A cache hit would write no collected artifact under this run's keys.
    launcher_source = launcher.launcher_source() if python else None
    template.memoize = cache.memoize(ctx.options, template, ctx.pipeline.name, component.name, variant, launcher_source)
    return template


def _add_local_roots(template: m.Template, schemes: set[str]) -> None:
    """Python components that read an imported artifact: writable folders at KFP's local paths
    for remote URIs (``/gcs``, ``/s3``, ``/minio``), where the launcher links the download."""
    assert template.container is not None
    for scheme in sorted(schemes):
        root = LOCAL_ROOTS[scheme]
        volume = m.Volume(name=names.local_root_volume(root), empty_dir=m.EmptyDirVolumeSource())
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


def _inputs(component: ir.Component, python: bool) -> m.Inputs | None:
    parameters = [
        m.Parameter(name=names.parameter_name(p.name), default=parameter_default(p)) for p in component.inputs.parameters
    ]
    artifacts = [io.input_artifact(a) for a in component.inputs.artifacts]
    if python:
        parameters += [
            m.Parameter(name=names.metadata_parameter(a.name), default=wire.NONE if a.optional else io.EMPTY_METADATA)
            for a in component.inputs.artifacts
        ]
    else:
        parameters += [m.Parameter(name=names.artifact_list_parameter(a.name)) for a in component.inputs.artifacts if a.is_list]
    return m.Inputs(parameters=parameters or None, artifacts=artifacts or None) if parameters or artifacts else None


def _outputs(ctx: Context, component: ir.Component, gathered: frozenset[str]) -> m.Outputs | None:
    parameters = [
        m.Parameter(name=names.parameter_name(p.name), value_from=m.ValueFrom(path=io.output_parameter_path(p.name)))
        for p in component.outputs.parameters
    ]
    parameters += [
        m.Parameter(
            name=names.metadata_parameter(a.name),
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


def _metadata(variant: Variant, annotations: dict[str, str]) -> m.Metadata | None:
    if variant.enable_cache:
        annotations = {**annotations, names.ENABLE_CACHE_ANNOTATION: "true"}
    return m.Metadata(annotations=annotations) if annotations else None


def _container(
    ctx: Context, component: ir.Component, executor: ir.ContainerSpec, variant: Variant, python: bool
) -> m.Container:
    env = [m.EnvVar(name=k, value=v) for k, v in executor.env]
    if python:
        command, args, launcher_env = launcher.invocation(ctx, component, executor)
        env += launcher_env
    else:
        resolver = _Resolver(ctx, component, variant.present, variant.imported_names())
        command = resolver.argv(executor.command)
        args = resolver.argv(executor.args)
    image_input = placeholders.image_input(executor.image, component)
    return m.Container(
        image=argo_expr.input_parameter(names.parameter_name(image_input)) if image_input else executor.image,
        command=command or None,
        args=args or None,
        env=env or None,
        resources=_resources(executor.resources),
    )


class _Resolver:
    """Resolves a container component's KFP placeholders into Argo text, at compile time
    (``placeholders.container_reference`` says what each stands for; ``support`` refused the
    ones it cannot map)."""

    def __init__(self, ctx: Context, component: ir.Component, present: frozenset[str], imported: frozenset[str] = frozenset()):
        self.ctx = ctx
        self.component = component
        self.present = present
        self.imported = imported

    def argv(self, elements: tuple[str, ...]) -> list[str]:
        expanded = placeholders.expand(elements, placeholders.present_test(self.component, self.present))
        return ["".join(self.piece(piece) for piece in element) for element in expanded]

    def text(self, text: str) -> str:
        return "".join(self.piece(piece) for piece in placeholders.split(text))

    def piece(self, piece: placeholders.Piece) -> str:
        if isinstance(piece, str):
            return piece
        kind = placeholders.container_reference(piece, self.component, self.imported)
        if isinstance(piece, placeholders.NamedRef):
            return self.ctx.job_placeholder(piece)
        name = piece.name
        return {
            "input-parameter": lambda: argo_expr.pod_input_parameter(names.parameter_name(name)),
            "input-list": lambda: argo_expr.pod_input_parameter(names.artifact_list_parameter(name)),
            "input-uri": lambda: argo_expr.pod_input_parameter(names.uri_parameter(name)),
            "input-path": lambda: io.input_artifact_path(name),
            "output-parameter-file": lambda: io.output_parameter_path(name),
            "output-artifact-path": lambda: io.output_artifact_path(name),
            "output-metadata": lambda: io.EMPTY_METADATA,
        }[kind or ""]()


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
    """(resource name, count) (``analysis.accelerator_resource``); the Vertex-style type itself
    is recorded as an annotation, not a node selector, because node labels for GPU models differ
    between clusters."""
    kind, count = resources.accelerator_type, resources.accelerator_count
    if not kind or not count:
        return None
    return accelerator_resource(kind) or kind, count


def _accelerator_annotation(executor: ir.ContainerSpec) -> dict[str, str]:
    kind = executor.resources.accelerator_type
    if kind and kind.startswith("NVIDIA_"):
        return {names.ACCELERATOR_ANNOTATION: kind}
    return {}


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
    resolver = _Resolver(ctx, component, frozenset())
    patch: dict[str, dict[str, str]] = {}
    for section, key, value in entries:
        if key and value and (placeholders.PLACEHOLDER.search(value) or placeholders.PLACEHOLDER.search(key)):
            patch.setdefault(section, {})[resolver.text(key)] = resolver.text(value)
    if not patch:
        return {}
    return {"containers": [{"name": platform.PATCH_CONTAINER, "resources": patch}]}


def _retry_strategy(retry: ir.RetryPolicy | None) -> m.RetryStrategy | None:
    if retry is None or retry.max_retry_count <= 0:
        return None
    backoff = None
    if retry.backoff_duration or retry.backoff_max_duration or retry.backoff_factor:
        factor = retry.backoff_factor
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
