"""The Kubernetes platform spec (kfp-kubernetes) on container templates.

What a value is known as decides where it goes:

* a **constant** is written as the Kubernetes object the Argo template holds: ``volumes`` and
  the container's ``volumeMounts``, ``env`` (``secretKeyRef``, ``configMapKeyRef``,
  ``fieldRef``), ``nodeSelector``, ``tolerations``, ``affinity``, ``metadata``,
  ``activeDeadlineSeconds``, the container's ``securityContext`` and ``imagePullPolicy``;
  image pull secrets, which have no template field, go into ``podSpecPatch``;
* a **run-time value** (a pipeline parameter, an input of the enclosing DAG, a task output)
  reaches the template as an input parameter ``kfp2argo-<kind>-<n>`` that the DAG task binds
  (``lower.dag``). An object name that is always present is written as ``{{inputs.parameters.x}}``
  in the same field: a valid Kubernetes name is Argo-inert, so its wire text is the name.
* a run-time value that may be **absent** (an optional input nobody supplied), and every
  run-time JSON value (node selector, toleration, node affinity), goes into ``podSpecPatch``
  as an expression that decodes the wire text and, as KFP's driver does, leaves the entry out
  when the value is absent. A value that is present but unusable gives a patch Kubernetes
  rejects, so the task fails instead of running without it.

``CreatePVC`` and ``DeletePVC`` are ``lower.pvc``.
"""

from __future__ import annotations

import json
from typing import Any

from hera.workflows import models as m

from transpiler import argo_expr, expr, ir, names
from transpiler.lower.context import Context

PATCH_CONTAINER = "main"


def patch_text(patch: dict[str, Any]) -> str | None:
    """A ``podSpecPatch``: compact JSON in which each :class:`expr.Raw` is an expression tag that
    Argo renders as the JSON of its value."""
    if not patch:
        return None
    tags: list[str] = []

    def mark(value: Any) -> Any:
        if isinstance(value, expr.Raw):
            tags.append(argo_expr.expression(expr.to_json(value)))
            return f"\0{len(tags) - 1}\0"
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    text = json.dumps(mark(patch), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    for index, tag in enumerate(tags):
        text = text.replace(json.dumps(f"\0{index}\0"), tag)
    return text


# Container templates -------------------------------------------------------------------------


def apply(ctx: Context, template: m.Template, executor: ir.ContainerSpec, absent: frozenset[str]) -> dict[str, Any]:
    """Add the executor's platform config to ``template``. Returns the ``podSpecPatch`` entries
    for what the template cannot hold (merged with the resource patch by the caller)."""
    config = executor.kubernetes
    if config is None:
        return {}
    builder = _Builder(ctx, config, absent)
    builder.add(template)
    return builder.patch


class _Builder:
    def __init__(self, ctx: Context, config: ir.KubernetesConfig, absent: frozenset[str]) -> None:
        self.ctx = ctx
        self.config = config
        self.absent = absent
        self.patch: dict[str, Any] = {}
        self.volumes: list[m.Volume] = []
        self.mounts: list[m.VolumeMount] = []
        self.env: list[m.EnvVar] = []
        self.late_volumes: list[str] = []  # expressions giving lists of volumes
        self.late_mounts: list[str] = []
        self.late_env: list[str] = []

    # a value as the template sees it ------------------------------------------------------

    def is_late(self, value: ir.PlatformValue) -> bool:
        return value.input is not None and value.input in self.absent

    def text(self, value: ir.PlatformValue) -> str:
        """A name as template text: the constant, or the input parameter's tag."""
        if value.input is None:
            assert isinstance(value.source, ir.Constant)
            return str(value.source.value)
        return argo_expr.input_parameter(value.input)

    # the whole config -----------------------------------------------------------------------

    def add(self, template: m.Template) -> None:
        config = self.config
        parameters = [m.Parameter(name=v.input) for v in config.run_time_values() if v.input]
        if parameters:
            template.inputs = template.inputs or m.Inputs()
            template.inputs.parameters = (template.inputs.parameters or []) + parameters
        for item in config.object_env:
            self.object_env(item)
        self.env += [
            m.EnvVar(name=env, value_from=m.EnvVarSource(field_ref=m.ObjectFieldSelector(field_path=path)))
            for env, path in config.field_path_env
        ]
        for index, volume in enumerate(config.object_volumes):
            self.object_volume(volume, index)
        for index, mount in enumerate(config.pvc_mounts):
            self.pvc_mount(mount, index)
        for volume in config.ephemeral_volumes:
            self.add_volume(_ephemeral(volume), volume.mount_path)
        for empty in config.empty_dirs:
            source = m.EmptyDirVolumeSource(medium=empty.medium, size_limit=m.Quantity(empty.size_limit) if empty.size_limit else None)
            self.add_volume(m.Volume(name=empty.volume_name, empty_dir=source), empty.mount_path)
        self.container_fields(template.container)
        self.scheduling(template)
        self.pod_fields(template)
        self.late_lists()

    def add_volume(self, volume: m.Volume, mount_path: str, sub_path: str = "") -> None:
        self.volumes.append(volume)
        self.mounts.append(m.VolumeMount(name=volume.name, mount_path=mount_path, sub_path=sub_path or None))

    # env, volumes ---------------------------------------------------------------------------

    def object_env(self, item: ir.ObjectEnv) -> None:
        ref_key = "secretKeyRef" if item.kind == "secret" else "configMapKeyRef"
        if self.is_late(item.name):
            name = _name_expr(item.name)
            entries = [
                {"name": k.env, "valueFrom": {ref_key: _without_none({"name": name, "key": k.key, "optional": item.optional})}}
                for k in item.keys
            ]
            self.late_env.append(expr.late_list(_absent(item.name), entries))
            return
        for k in item.keys:
            selector: dict[str, Any] = {"name": self.text(item.name), "key": k.key, "optional": item.optional}
            source = (
                m.EnvVarSource(secret_key_ref=m.SecretKeySelector(**selector))
                if item.kind == "secret"
                else m.EnvVarSource(config_map_key_ref=m.ConfigMapKeySelector(**selector))
            )
            self.env.append(m.EnvVar(name=k.env, value_from=source))

    def object_volume(self, item: ir.ObjectVolume, index: int) -> None:
        volume_name = names.object_volume(item.kind, index)
        optional = bool(item.optional)
        if self.is_late(item.name):
            key, name_key = ("secret", "secretName") if item.kind == "secret" else ("configMap", "name")
            volume = {"name": volume_name, key: {name_key: _name_expr(item.name), "optional": optional}}
            self.late_volumes.append(expr.late_list(_absent(item.name), [volume]))
            self.late_mounts.append(expr.late_list(_absent(item.name), [{"name": volume_name, "mountPath": item.mount_path}]))
            return
        if item.kind == "secret":
            volume = m.Volume(name=volume_name, secret=m.SecretVolumeSource(secret_name=self.text(item.name), optional=optional))
        else:
            volume = m.Volume(name=volume_name, config_map=m.ConfigMapVolumeSource(name=self.text(item.name), optional=optional))
        self.add_volume(volume, item.mount_path)

    def pvc_mount(self, mount: ir.PvcMount, index: int) -> None:
        volume_name = names.pvc_volume(index)
        if self.is_late(mount.name):
            # KFP fails a task whose PVC name is absent; a string where a volume belongs makes
            # Argo reject the patch, so the pod is never created.
            claim = {"name": volume_name, "persistentVolumeClaim": {"claimName": _name_expr(mount.name)}}
            self.late_volumes.append(expr.late_claim(_absent(mount.name), claim, "the PVC name is absent"))
            entry = _without_none({"name": volume_name, "mountPath": mount.mount_path, "subPath": mount.sub_path or None})
            self.late_mounts.append(expr.literal([entry]))
            return
        claim_source = m.PersistentVolumeClaimVolumeSource(claim_name=self.text(mount.name))
        self.add_volume(m.Volume(name=volume_name, persistent_volume_claim=claim_source), mount.mount_path, mount.sub_path)

    # the container and the pod ---------------------------------------------------------------

    def container_fields(self, container: m.Container | None) -> None:
        assert container is not None
        container.env = (container.env or []) + self.env or None
        container.volume_mounts = (container.volume_mounts or []) + self.mounts or None
        if self.config.image_pull_policy:
            container.image_pull_policy = self.config.image_pull_policy
        context = self.config.security_context
        if context:
            container.security_context = m.SecurityContext(
                run_as_user=context.run_as_user, run_as_group=context.run_as_group, run_as_non_root=context.run_as_non_root
            )

    def pod_fields(self, template: m.Template) -> None:
        config = self.config
        template.volumes = (template.volumes or []) + self.volumes or None
        if config.pod_labels or config.pod_annotations:
            metadata = template.metadata or m.Metadata()
            if config.pod_labels:
                metadata.labels = {**dict(config.pod_labels), **(metadata.labels or {})}
            if config.pod_annotations:
                metadata.annotations = {**dict(config.pod_annotations), **(metadata.annotations or {})}
            template.metadata = metadata
        if config.active_deadline_seconds:
            template.active_deadline_seconds = m.IntOrString(config.active_deadline_seconds)
        secrets = config.image_pull_secrets
        if any(self.is_late(s) for s in secrets):  # one expression for the whole list
            lists = [
                expr.late_pull_secret(_absent(s), _name_expr(s)) if self.is_late(s)
                else expr.literal([{"name": _name_expr(s) if s.input else self.text(s)}])
                for s in secrets
            ]
            self.patch["imagePullSecrets"] = expr.Raw(expr.concat(lists))
        elif secrets:
            self.patch["imagePullSecrets"] = [{"name": self.text(s)} for s in secrets]

    def late_lists(self) -> None:
        container: dict[str, Any] = {}
        if self.late_env:
            container["env"] = expr.Raw(expr.concat(self.late_env))
        if self.late_mounts:
            container["volumeMounts"] = expr.Raw(expr.concat(self.late_mounts))
        if container:
            self.patch["containers"] = [{"name": PATCH_CONTAINER, **container}]
        if self.late_volumes:
            self.patch["volumes"] = expr.Raw(expr.concat(self.late_volumes))

    # scheduling ----------------------------------------------------------------------------

    def scheduling(self, template: m.Template) -> None:
        self.node_selector(template)
        self.tolerations(template)
        affinity = m.Affinity()
        self.node_affinity(affinity)
        _pod_affinity(affinity, self.config.pod_affinity)
        if affinity.node_affinity or affinity.pod_affinity or affinity.pod_anti_affinity:
            template.affinity = affinity

    def node_selector(self, template: m.Template) -> None:
        json_value = self.config.node_selector_json
        if json_value is None:
            template.node_selector = dict(self.config.node_selector) or None
        elif json_value.input is None:  # KFP: the JSON takes precedence over the labels
            selector = json_value.source.value  # type: ignore[union-attr]
            template.node_selector = dict(selector) or None
        else:
            self.patch["nodeSelector"] = expr.Raw(expr.late_selector(_absent(json_value), _json(json_value)))

    @staticmethod
    def constant(value: ir.PlatformValue, model: Any) -> dict[str, Any]:
        """A constant JSON value as its Kubernetes model writes it (``support`` checked it fits)."""
        checked = model.model_validate(value.source.value)  # type: ignore[union-attr]
        return checked.model_dump(by_alias=True, exclude_none=True, mode="json")

    def tolerations(self, template: m.Template) -> None:
        static = [_toleration(t) for t in self.config.tolerations]
        late = []
        for value in self.config.toleration_json:
            if value.input is not None:
                late.append(expr.late_tolerations(_absent(value), _json(value)))
                continue
            items = value.source.value if isinstance(value.source.value, list) else [value.source.value]  # type: ignore[union-attr]
            for item in items:
                checked = self.constant(ir.PlatformValue(ir.Constant(item), None, value.pointer), m.Toleration)
                static += [checked] if checked else []  # an empty one is ignored, as by KFP
        if late:  # the patch replaces the whole list (tolerations have no merge key)
            self.patch["tolerations"] = expr.Raw(expr.concat([expr.literal(static), *late]))
        elif static:
            template.tolerations = [m.Toleration.model_validate(t) for t in static]

    def node_affinity(self, affinity: m.Affinity) -> None:
        """KFP gathers every term into one node affinity: terms without a weight are required
        (any one must match), weighted ones preferred; a JSON node affinity adds its own."""
        required = [_selector_term(t) for t in self.config.node_affinity if t.weight is None]
        preferred = [{"weight": t.weight, "preference": _selector_term(t)} for t in self.config.node_affinity if t.weight is not None]
        late = []
        for value in self.config.node_affinity_json:
            if value.input is not None:
                late.append(value)
                continue
            checked = self.constant(value, m.NodeAffinity)
            required += (checked.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []
            preferred += checked.get("preferredDuringSchedulingIgnoredDuringExecution") or []
        if late:
            late_values = [(_absent(v), _json(v)) for v in late]
            self.patch["affinity"] = {"nodeAffinity": expr.Raw(expr.late_node_affinity(required, preferred, late_values))}
        else:
            affinity.node_affinity = _node_affinity_model(required, preferred)


def _without_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


def _var(value: ir.PlatformValue) -> str:
    assert value.input is not None
    return argo_expr.input_parameter_var(value.input)


def _absent(value: ir.PlatformValue) -> str:
    return expr.is_absent(_var(value))


def _name_expr(value: ir.PlatformValue) -> expr.Raw:
    """An object name known at run time: its wire text, as the simple tag gives it elsewhere (a
    valid Kubernetes name is Argo-inert, so its wire text is the name; any other text is an
    invalid name that Kubernetes rejects)."""
    return expr.Raw(_var(value))


def _json(value: ir.PlatformValue) -> str:
    return expr.json_of(_var(value))


def _toleration(toleration: ir.Toleration) -> dict[str, Any]:
    return _without_none({
        "key": toleration.key or None,
        "operator": toleration.operator or None,
        "value": toleration.value or None,
        "effect": toleration.effect or None,
        "tolerationSeconds": toleration.seconds,
    })


def _requirements(requirements: tuple[ir.Requirement, ...]) -> list[dict[str, Any]]:
    return [_without_none({"key": r.key, "operator": r.operator, "values": list(r.values) or None}) for r in requirements]


def _selector_term(term: ir.NodeAffinityTerm) -> dict[str, Any]:
    return _without_none({
        "matchExpressions": _requirements(term.match_expressions) or None,
        "matchFields": _requirements(term.match_fields) or None,
    })


def _node_affinity_model(required: list[Any], preferred: list[Any]) -> m.NodeAffinity | None:
    if not required and not preferred:
        return None
    body: dict[str, Any] = {}
    if required:
        body["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": required}
    if preferred:
        body["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    return m.NodeAffinity.model_validate(body)


def _pod_affinity(affinity: m.Affinity, terms: tuple[ir.PodAffinityTerm, ...]) -> None:
    groups: dict[bool, dict[str, list[Any]]] = {False: {"required": [], "preferred": []}, True: {"required": [], "preferred": []}}
    for term in terms:
        body = _without_none({
            "labelSelector": _label_selector(term.match_expressions, term.match_labels),
            "namespaceSelector": _label_selector(term.namespace_expressions, term.namespace_labels),
            "namespaces": list(term.namespaces) or None,
            "topologyKey": term.topology_key,
        })
        if term.weight is None:
            groups[term.anti]["required"].append(body)
        else:
            groups[term.anti]["preferred"].append({"weight": term.weight, "podAffinityTerm": body})
    for anti, group in groups.items():
        if not group["required"] and not group["preferred"]:
            continue
        body = _without_none({
            "requiredDuringSchedulingIgnoredDuringExecution": group["required"] or None,
            "preferredDuringSchedulingIgnoredDuringExecution": group["preferred"] or None,
        })
        if anti:
            affinity.pod_anti_affinity = m.PodAntiAffinity.model_validate(body)
        else:
            affinity.pod_affinity = m.PodAffinity.model_validate(body)


def _label_selector(expressions: tuple[ir.Requirement, ...], labels: tuple[tuple[str, str], ...]) -> dict[str, Any] | None:
    if not expressions and not labels:
        return None
    return _without_none({"matchExpressions": _requirements(expressions) or None, "matchLabels": dict(labels) or None})


def _ephemeral(volume: ir.EphemeralVolume) -> m.Volume:
    metadata = None
    if volume.labels or volume.annotations:
        metadata = m.ObjectMeta(labels=dict(volume.labels) or None, annotations=dict(volume.annotations) or None)
    spec = m.PersistentVolumeClaimSpec(
        access_modes=list(volume.access_modes) or None,
        resources=m.VolumeResourceRequirements(requests={"storage": m.Quantity(volume.size)}),
        storage_class_name=volume.storage_class,
    )
    template = m.PersistentVolumeClaimTemplate(metadata=metadata, spec=spec)
    return m.Volume(name=volume.volume_name, ephemeral=m.EphemeralVolumeSource(volume_claim_template=template))


