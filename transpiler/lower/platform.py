"""The Kubernetes platform spec (kfp-kubernetes) on container templates, and CreatePVC/DeletePVC.

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

``CreatePVC`` and ``DeletePVC`` (kfp-kubernetes components whose image is ``argostub/...``)
become Argo ``resource`` templates.
"""

from __future__ import annotations

import json
from typing import Any

from hera.workflows import models as m

from transpiler import argo_expr, ir, names, wire, wire_expr
from transpiler.lower import io
from transpiler.lower.context import Context

PVC_IMAGES = {"argostub/createpvc": "create", "argostub/deletepvc": "delete"}
PATCH_CONTAINER = "main"

MSG_PVC_ARGV = "A CreatePVC/DeletePVC component ({image}) cannot have a command or args"
MSG_SELECTOR = "The node selector {value!r} must map label names to strings"
MSG_JSON_FIELD = "The constant {what} is not a Kubernetes {kind}: {problem}"


class Expr(str):
    """expr-lang source text of a value, inside a structure rendered by :func:`expr_literal`."""


def expr_literal(value: Any) -> str:
    """An expr-lang literal for JSON-like data whose leaves may be :class:`Expr`. Maps close with
    ``" }"`` so that the text never holds ``}}`` (Argo would end its tag there).

    >>> expr_literal({"a": [1, True, None], "b": Expr("x")})
    "{'a': [1, true, nil], 'b': x }"
    """
    if isinstance(value, Expr):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{wire_expr.string(k)}: {expr_literal(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(expr_literal(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nil"
    if isinstance(value, (int, float)):
        return repr(value)
    return wire_expr.string(value)


def patch_text(patch: dict[str, Any]) -> str | None:
    """A ``podSpecPatch``: compact JSON in which each :class:`Expr` is an expression tag that
    Argo renders as the JSON of its value."""
    if not patch:
        return None
    tags: list[str] = []

    def mark(value: Any) -> Any:
        if isinstance(value, Expr):
            tags.append(argo_expr.expression(f"toJson({value})"))
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


# Which run-time values may be absent ---------------------------------------------------------


def absent_inputs(pipeline: ir.Pipeline) -> dict[str, frozenset[str]]:
    """For each DAG component, the input parameters that may hold no value (``kfp2argo:none``):
    optional inputs without a default that a caller leaves out or binds to such a value."""
    result = {"root": frozenset(p.name for p in pipeline.root.inputs.parameters if io.parameter_default(p) == wire.NONE)}
    dags = [c for c in (pipeline.root, *pipeline.components.values()) if c.dag is not None]
    changed = True
    while changed:
        changed = False
        for parent in dags:
            assert parent.dag is not None
            for task in parent.dag.tasks:
                target = pipeline.components.get(task.component)
                if target is None or target.dag is None:
                    continue
                found = _absent_task_inputs(task, target, result.get(parent.name, frozenset()))
                merged = result.get(target.name, frozenset()) | found
                if merged != result.get(target.name, frozenset()):
                    result[target.name] = merged
                    changed = True
    return result


def _absent_task_inputs(task: ir.Task, target: ir.Component, parent_absent: frozenset[str]) -> frozenset[str]:
    bound = {b.name: b for b in task.parameters}
    item = task.iterator.item_input if task.iterator else None
    found = set()
    for parameter in target.inputs.parameters:
        binding = bound.get(parameter.name)
        if parameter.name == item:
            continue
        if binding is None:
            if io.parameter_default(parameter) == wire.NONE:
                found.add(parameter.name)
        elif may_be_absent(task, binding.source, parent_absent, binding.field):
            found.add(parameter.name)
    return frozenset(found)


def may_be_absent(task: ir.Task, source: Any, parent_absent: frozenset[str], field: str | None = None) -> bool:
    """Whether a value bound in a task may be absent at run time."""
    if isinstance(source, ir.Constant):
        return source.value is None
    if isinstance(source, ir.ComponentInput):
        return field is None and source.name in parent_absent
    if isinstance(source, ir.TaskOutput):
        return task.run_after_failure  # a failed producer leaves the consumer's default
    return False


def absent_platform_inputs(executor: ir.ContainerSpec | None, task: ir.Task, parent_absent: frozenset[str]) -> frozenset[str]:
    """The platform input parameters of ``task`` that may be absent."""
    config = executor.kubernetes if executor else None
    if config is None:
        return frozenset()
    return frozenset(
        v.input for v in config.run_time_values() if v.input and may_be_absent(task, v.source, parent_absent)
    )


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
            self.late_env.append(f"{_absent(item.name)} ? [] : {expr_literal(entries)}")
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
        volume_name = f"kfp2argo-{names.dns_label(item.kind)}-volume-{index}"
        optional = bool(item.optional)
        if self.is_late(item.name):
            key, name_key = ("secret", "secretName") if item.kind == "secret" else ("configMap", "name")
            volume = {"name": volume_name, key: {name_key: _name_expr(item.name), "optional": optional}}
            self.late_volumes.append(f"{_absent(item.name)} ? [] : {expr_literal([volume])}")
            self.late_mounts.append(f"{_absent(item.name)} ? [] : {expr_literal([{'name': volume_name, 'mountPath': item.mount_path}])}")
            return
        if item.kind == "secret":
            volume = m.Volume(name=volume_name, secret=m.SecretVolumeSource(secret_name=self.text(item.name), optional=optional))
        else:
            volume = m.Volume(name=volume_name, config_map=m.ConfigMapVolumeSource(name=self.text(item.name), optional=optional))
        self.add_volume(volume, item.mount_path)

    def pvc_mount(self, mount: ir.PvcMount, index: int) -> None:
        volume_name = f"kfp2argo-pvc-volume-{index}"
        if self.is_late(mount.name):
            # KFP fails a task whose PVC name is absent; a string where a volume belongs makes
            # Argo reject the patch, so the pod is never created.
            missing = wire_expr.string(wire.ERROR_PREFIX + "the PVC name is absent")
            claim = {"name": volume_name, "persistentVolumeClaim": {"claimName": _name_expr(mount.name)}}
            self.late_volumes.append(f"[{_absent(mount.name)} ? {missing} : {expr_literal(claim)}]")
            entry = _without_none({"name": volume_name, "mountPath": mount.mount_path, "subPath": mount.sub_path or None})
            self.late_mounts.append(expr_literal([entry]))
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
                f"{_absent(s)} ? [] : [{{'name': {_name_expr(s)} }}]" if self.is_late(s)
                else expr_literal([{"name": _name_expr(s) if s.input else self.text(s)}])
                for s in secrets
            ]
            self.patch["imagePullSecrets"] = Expr(_concat(lists))
        elif secrets:
            self.patch["imagePullSecrets"] = [{"name": self.text(s)} for s in secrets]

    def late_lists(self) -> None:
        container: dict[str, Any] = {}
        if self.late_env:
            container["env"] = Expr(_concat(self.late_env))
        if self.late_mounts:
            container["volumeMounts"] = Expr(_concat(self.late_mounts))
        if container:
            self.patch["containers"] = [{"name": PATCH_CONTAINER, **container}]
        if self.late_volumes:
            self.patch["volumes"] = Expr(_concat(self.late_volumes))

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
            if not all(isinstance(v, str) for v in selector.values()):
                self.ctx.diagnostics.append(self.ctx.source.diagnostic(MSG_SELECTOR.format(value=selector), json_value.pointer, 1))
                return
            template.node_selector = dict(selector) or None
        else:
            self.patch["nodeSelector"] = Expr(_late_selector(json_value))

    def constant(self, value: ir.PlatformValue, model: Any, what: str) -> dict[str, Any] | None:
        """A constant JSON value checked against its Kubernetes model (a located error if it
        does not fit), as the model writes it."""
        try:
            checked = model.model_validate(value.source.value)  # type: ignore[union-attr]
        except ValueError as err:  # pydantic's ValidationError
            first = err.errors()[0] if hasattr(err, "errors") else {"loc": (), "msg": str(err)}
            where = ".".join(map(str, first["loc"])) or "the value"
            message = MSG_JSON_FIELD.format(what=what, kind=model.__name__, problem=f"{where}: {first['msg']}")
            self.ctx.diagnostics.append(self.ctx.source.diagnostic(message, value.pointer, 1))
            return None
        return checked.model_dump(by_alias=True, exclude_none=True, mode="json")

    def tolerations(self, template: m.Template) -> None:
        static = [_toleration(t) for t in self.config.tolerations]
        late = []
        for value in self.config.toleration_json:
            if value.input is not None:
                late.append(_late_tolerations(value))
                continue
            items = value.source.value if isinstance(value.source.value, list) else [value.source.value]  # type: ignore[union-attr]
            for item in items:
                checked = self.constant(ir.PlatformValue(ir.Constant(item), None, value.pointer), m.Toleration, "toleration")
                static += [checked] if checked else []  # an empty one is ignored, as by KFP
        if late:  # the patch replaces the whole list (tolerations have no merge key)
            self.patch["tolerations"] = Expr(_concat([expr_literal(static), *late]))
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
            checked = self.constant(value, m.NodeAffinity, "node affinity") or {}
            required += (checked.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []
            preferred += checked.get("preferredDuringSchedulingIgnoredDuringExecution") or []
        if late:
            self.patch["affinity"] = {"nodeAffinity": Expr(_late_node_affinity(required, preferred, late))}
        else:
            affinity.node_affinity = _node_affinity_model(required, preferred)


def _without_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


def _var(value: ir.PlatformValue) -> str:
    assert value.input is not None
    return argo_expr.input_parameter_var(value.input)


def _absent(value: ir.PlatformValue) -> str:
    return f"{_var(value)} == {wire_expr.string(wire.NONE)}"


def _name_expr(value: ir.PlatformValue) -> Expr:
    """An object name known at run time: its wire text, as the simple tag gives it elsewhere (a
    valid Kubernetes name is Argo-inert, so its wire text is the name; any other text is an
    invalid name that Kubernetes rejects)."""
    return Expr(_var(value))


def _json(value: ir.PlatformValue) -> str:
    """The JSON value a wire text holds (after the base64 escape), nil when it is no JSON; as
    ``wire_expr.decode_json`` reads it, without the type test."""
    var = _var(value)
    prefix = wire_expr.string(wire.B64_PREFIX)
    return f"sprig.fromJson({var} startsWith {prefix} ? sprig.b64dec({var}[{len(wire.B64_PREFIX)}:]) : {var})"


def _late_selector(value: ir.PlatformValue) -> str:
    invalid = wire_expr.string(wire.ERROR_PREFIX + "the node selector is not a JSON object")
    return f"{_absent(value)} ? {{ }} : map([{_json(value)}], type(#) == 'map' ? # : {invalid})[0]"


def _late_tolerations(value: ir.PlatformValue) -> str:
    """The tolerations a run-time value gives: a JSON object is one toleration (an empty one is
    ignored, as by KFP), a list is several; absent gives none."""
    invalid = wire_expr.string(wire.ERROR_PREFIX + "the toleration is not a JSON object or list")
    pick = f"type(#) == 'map' ? (len(#) > 0 ? [#] : []) : (type(#) == 'array' ? # : [{invalid}])"
    return f"({_absent(value)} ? [] : map([{_json(value)}], {pick})[0])"


def _late_node_affinity(required: list[Any], preferred: list[Any], late: list[ir.PlatformValue]) -> str:
    """The node affinity of the constant terms plus the run-time JSON ones: each gives [its
    required terms, its preferred terms]; an absent one adds nothing, one that is not a JSON
    object adds a term Kubernetes rejects."""
    invalid = wire_expr.string(wire.ERROR_PREFIX + "the node affinity is not a JSON object")
    required_key, preferred_key = "requiredDuringSchedulingIgnoredDuringExecution", "preferredDuringSchedulingIgnoredDuringExecution"
    # A non-map "required" part, or a missing one, is handled without get() on a non-map
    # (which fails the evaluation).
    required_terms = f"map([get(#, '{required_key}')], # == nil ? [] : (type(#) == 'map' ? (get(#, 'nodeSelectorTerms') ?? []) : [{invalid}]))[0]"
    terms = f"[{required_terms}, get(#, '{preferred_key}') ?? []]"
    parts = [f"map([{_absent(v)} ? {{ }} : {_json(v)}], type(#) == 'map' ? {terms} : [[{invalid}], []])[0]" for v in late]
    gathered = (
        f"[{_concat([expr_literal(required), *(f'#[{i}][0]' for i in range(len(late)))])}, "
        f"{_concat([expr_literal(preferred), *(f'#[{i}][1]' for i in range(len(late)))])}]"
    )
    affinity = (  # a map literal in parentheses: a bare "{" would open a closure
        f"({{'{required_key}': len(#[0]) > 0 ? {{'nodeSelectorTerms': #[0] }} : nil, "
        f"'{preferred_key}': len(#[1]) > 0 ? #[1] : nil }})"
    )
    return f"map([[{', '.join(parts)}]], map([{gathered}], {affinity})[0])[0]"


def _concat(lists: list[str]) -> str:
    """The lists, one after the other (``concat`` gives nil, JSON null, for no items: a null
    list in a pod spec patch deletes the field)."""
    return f"(concat([], {', '.join(lists)}) ?? [])"


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


# CreatePVC / DeletePVC -----------------------------------------------------------------------


def pvc_operation(executor: ir.ContainerSpec) -> str | None:
    """``"create"`` or ``"delete"`` for kfp-kubernetes' CreatePVC / DeletePVC executors."""
    return PVC_IMAGES.get(executor.image)


def pvc_template(ctx: Context, component: ir.Component, executor: ir.ContainerSpec, name: str) -> m.Template:
    """An Argo resource template that creates or deletes the PersistentVolumeClaim.

    Create returns once the API server holds the claim (a claim of a WaitForFirstConsumer
    storage class is bound only when a pod uses it) and outputs its name. Delete fails when the
    claim does not exist, as KFP's DeletePVC does (``kubectl delete`` would ignore it)."""
    if executor.argv:
        ctx.unsupported(MSG_PVC_ARGV.format(image=executor.image), executor.pointer)
    inputs = [m.Parameter(name=names.parameter_name(p.name), default=io.parameter_default(p)) for p in component.inputs.parameters]
    operation = pvc_operation(executor)
    template = m.Template(name=name, inputs=m.Inputs(parameters=inputs) if inputs else None)
    if operation == "create":
        template.resource = m.ResourceTemplate(action="create", manifest=_create_manifest(component))
        outputs = [
            m.Parameter(name=names.parameter_name(p.name), value_from=m.ValueFrom(json_path="{.metadata.name}"))
            for p in component.outputs.parameters
        ]
        template.outputs = m.Outputs(parameters=outputs) if outputs else None
    else:
        name_value = _pvc_input(component, "pvc_name", "STRING")
        missing = wire_expr.string(wire.ERROR_PREFIX + "no PVC name")
        manifest = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": Expr(f"({name_value} ?? {missing})")}}
        template.resource = m.ResourceTemplate(action="delete", manifest=_manifest_text(manifest), flags=["--ignore-not-found=false"])
    return template


def _pvc_input(component: ir.Component, name: str, parameter_type: str) -> str:
    """A CreatePVC/DeletePVC input as the manifest uses it: nil when absent or not declared,
    the text of a STRING (a name or size: Argo-inert, so its wire text is the value), the
    value of a LIST or STRUCT (nil when it is no JSON, so Kubernetes sees the field unset and
    rejects a missing required one)."""
    if component.inputs.parameter(name) is None:
        return "nil"
    var = argo_expr.input_parameter_var(names.parameter_name(name))
    text = f"({var} startsWith {wire_expr.string(wire.B64_PREFIX)} ? sprig.b64dec({var}[{len(wire.B64_PREFIX)}:]) : {var})"
    value = text if parameter_type == "STRING" else f"sprig.fromJson{text}"
    return f"({var} == {wire_expr.string(wire.NONE)} ? nil : {value})"


def _create_manifest(component: ir.Component) -> str:
    """The claim: ``pvc_name``, or ``{{workflow.name}}`` + ``pvc_name_suffix``, or a name that
    Kubernetes generates (KFP's backend uses a UUID); the storage class left unset when absent
    (the cluster's default, as the SDK documents ``None``)."""
    pvc_name, suffix = _pvc_input(component, "pvc_name", "STRING"), _pvc_input(component, "pvc_name_suffix", "STRING")
    both = wire_expr.string(wire.ERROR_PREFIX + "at most one of pvc_name and pvc_name_suffix can be given")
    workflow = argo_expr.workflow_name_var()
    has_name, has_suffix = f"({pvc_name} ?? '') != ''", f"({suffix} ?? '') != ''"
    name = f"{has_name} ? ({has_suffix} ? {both} : {pvc_name}) : ({has_suffix} ? {workflow} + {suffix} : nil)"
    manifest = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": Expr(name),
            "generateName": Expr(f"{has_name} || {has_suffix} ? nil : {workflow} + '-'"),
            "annotations": Expr(_pvc_input(component, "annotations", "STRUCT")),
        },
        "spec": {
            "accessModes": Expr(_pvc_input(component, "access_modes", "LIST")),
            "resources": {"requests": {"storage": Expr(_pvc_input(component, "size", "STRING"))}},
            "storageClassName": Expr(_pvc_input(component, "storage_class_name", "STRING")),
            "volumeName": Expr(_pvc_input(component, "volume_name", "STRING")),
            "dataSource": Expr(_pvc_input(component, "data_source", "STRUCT")),
        },
    }
    return _manifest_text(manifest)


def _manifest_text(manifest: dict[str, Any]) -> str:
    """A resource manifest: YAML whose run-time parts are expression tags rendering JSON (which
    is YAML); a null field is one Kubernetes leaves unset."""
    lines = []

    def write(value: dict[str, Any], indent: str) -> None:
        for key, item in value.items():
            if isinstance(item, Expr):
                lines.append(f"{indent}{key}: {argo_expr.expression(f'toJson({item})')}")
            elif isinstance(item, dict):
                lines.append(f"{indent}{key}:")
                write(item, indent + "  ")
            else:
                lines.append(f"{indent}{key}: {item}")

    write(manifest, "")
    return "\n".join(lines) + "\n"


def mounts_claim(pipeline: ir.Pipeline, parent: ir.Component, task: ir.Task, claim: Any, seen: frozenset[str] = frozenset()) -> bool:
    """Whether ``task`` (in ``parent``) mounts the PVC named by ``claim``, a value source in
    ``parent``'s scope: its executor mounts it, or a task inside it does, through an input."""
    target = pipeline.components.get(task.component)
    if target is None:
        return False
    if target.dag is None:
        executor = pipeline.executors.get(target.executor or "")
        config = executor.kubernetes if executor else None
        return config is not None and any(mount.name.source == claim for mount in config.pvc_mounts)
    inputs = [b.name for b in task.parameters if b.source == claim and b.field is None]
    if not inputs or target.name in seen:
        return False
    return any(
        mounts_claim(pipeline, target, inner, ir.ComponentInput(name), seen | {target.name})
        for inner in target.dag.tasks
        for name in inputs
    )


def claim_deleted(pipeline: ir.Pipeline, task: ir.Task) -> Any:
    """The value source of the claim a DeletePVC task deletes (None for any other task)."""
    component = pipeline.components.get(task.component)
    executor = pipeline.executors.get(component.executor or "") if component else None
    if executor is None or pvc_operation(executor) != "delete":
        return None
    binding = next((b for b in task.parameters if b.name == "pvc_name"), None)
    return binding.source if binding else None
