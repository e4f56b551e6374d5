"""What Kubernetes accepts in the fields kfp2argo fills from the IR: quantities, names, labels.

Each function answers None when a value fits its field, else a short reason. ``support`` uses
them to refuse, at compile time and with the IR's location, a value the API server would refuse
at submission or, worse, one Argo would read as a template tag (a valid name or quantity never
holds ``{{``). The grammars are Kubernetes' own (``apimachinery`` ``resource.ParseQuantity`` and
``validation``), written out here.
"""

from __future__ import annotations

import re
from typing import Any, Callable

# resource.ParseQuantity: a signed decimal (no exponent when a suffix follows), then a binary
# suffix (Ki..Ei), a decimal SI suffix (n u m k M G T P E) or a decimal exponent (e/E + integer).
_QUANTITY = re.compile(
    r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?:Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?"
)
_DNS_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?")
_ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")


def quantity(value: str) -> str | None:
    """Whether ``value`` is a Kubernetes quantity (``500m``, ``1.5Gi``, ``2``, ``1e3``).

    >>> quantity("500m"), quantity("1.5Gi"), quantity("1e3")
    (None, None, None)
    >>> quantity("1 Gi")
    'not a Kubernetes quantity (such as 500m, 2, 1.5Gi)'
    """
    if _QUANTITY.fullmatch(value):
        return None
    return "not a Kubernetes quantity (such as 500m, 2, 1.5Gi)"


def non_negative_quantity(value: str) -> str | None:
    """A quantity that is not negative (a size)."""
    return quantity(value) or ("negative" if value.startswith("-") and value.strip("-0.") else None)


def dns_subdomain(value: str) -> str | None:
    """A DNS-1123 subdomain (the name of a Secret, ConfigMap, PVC, ...): lowercase letters,
    digits, '-' and '.', at most 253 characters.

    >>> dns_subdomain("my-secret"), dns_subdomain("My_Secret") is not None
    (None, True)
    """
    if len(value) <= 253 and _DNS_SUBDOMAIN.fullmatch(value):
        return None
    return "not a Kubernetes object name (lowercase letters, digits, '-' and '.', at most 253)"


def dns_label(value: str) -> str | None:
    """A DNS-1123 label (a volume name): lowercase letters, digits and '-', at most 63."""
    if len(value) <= 63 and _DNS_LABEL.fullmatch(value):
        return None
    return "not a DNS-1123 label (lowercase letters, digits and '-', at most 63)"


def label_key(value: str) -> str | None:
    """A label or annotation key: an optional DNS subdomain prefix and '/', then a name of at
    most 63 characters (letters, digits, '-', '_', '.').

    >>> label_key("app.kubernetes.io/name"), label_key("{{x}}") is not None
    (None, True)
    """
    prefix, _, name = value.rpartition("/")
    if (not prefix or not dns_subdomain(prefix)) and len(name) <= 63 and _LABEL_NAME.fullmatch(name):
        return None
    return "not a Kubernetes label or annotation key"


def label_value(value: str) -> str | None:
    """A label value: empty, or at most 63 characters (letters, digits, '-', '_', '.')."""
    if value == "" or (len(value) <= 63 and _LABEL_NAME.fullmatch(value)):
        return None
    return "not a Kubernetes label value (at most 63 letters, digits, '-', '_', '.')"


def env_name(value: str) -> str | None:
    """An environment variable name as Kubernetes accepts it."""
    if _ENV_NAME.fullmatch(value):
        return None
    return "not an environment variable name Kubernetes accepts"


def config_key(value: str) -> str | None:
    """A key of a Secret or ConfigMap (letters, digits, '-', '_', '.')."""
    if len(value) <= 253 and _CONFIG_KEY.fullmatch(value) and value not in (".", ".."):
        return None
    return "not a Secret or ConfigMap key (letters, digits, '-', '_' and '.')"


def mount_path(value: str) -> str | None:
    """A mount path: not empty, no control characters or Argo tags (Kubernetes takes a relative
    path too, below the container's root, as KFP's own examples write it)."""
    if value and "{{" not in value and not any(ord(c) < 32 or ord(c) == 127 for c in value):
        return None
    return "not a path a volume can be mounted at"


_TOLERATION_OPERATORS = ("", "Exists", "Equal")
_TAINT_EFFECTS = ("", "NoSchedule", "PreferNoSchedule", "NoExecute")
_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
_ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
_MEDIA = ("", "Memory")


def _choice(value: str, choices: tuple[str, ...]) -> str | None:
    return None if value in choices else "not one of " + ", ".join(repr(c) for c in choices if c)


def _no_tag(value: str) -> str | None:
    """Free text (an annotation value, a field path): anything but an Argo tag."""
    return "text with '{{', which Argo would read as a template tag" if "{{" in value else None


def config_problems(config: Any) -> list[tuple[str, str, str, str]]:
    """(what, value, problem, pointer) for each constant of a kfp-kubernetes executor config
    (``ir.KubernetesConfig``) that its Kubernetes field would refuse. The pointer is the config's
    own entry where the model keeps one, else the executor's."""
    at = config.pointer
    checks: list[tuple[str, str, Callable[[str], str | None], str]] = []

    def add(what: str, value: str, check: Callable[[str], str | None], pointer: str = at) -> None:
        checks.append((what, value, check, pointer))

    def name(what: str, value: Any, check: Callable[[str], str | None] = dns_subdomain) -> None:
        if value.input is None and isinstance(value.source.value, str):
            add(what, value.source.value, check, value.pointer)

    for item in config.object_env:
        name(f"the {item.kind} name", item.name)
        for key in item.keys:
            add(f"the {item.kind} key", key.key, config_key, item.pointer)
            add("the environment variable", key.env, env_name, item.pointer)
    for volume in config.object_volumes:
        name(f"the {volume.kind} name", volume.name)
        add("the mount path", volume.mount_path, mount_path, volume.pointer)
    for env, field_path in config.field_path_env:
        add("the environment variable", env, env_name)
        add("the field path", field_path, _no_tag)
    for mount in config.pvc_mounts:
        name("the PVC name", mount.name)
        add("the mount path", mount.mount_path, mount_path, mount.pointer)
        add("the sub-path", mount.sub_path, _no_tag, mount.pointer)
    for volume in config.ephemeral_volumes:
        add("the volume name", volume.volume_name, dns_label, volume.pointer)
        add("the mount path", volume.mount_path, mount_path, volume.pointer)
        add("the size", volume.size, non_negative_quantity, volume.pointer)
        if volume.storage_class:
            add("the storage class", volume.storage_class, dns_subdomain, volume.pointer)
        for mode in volume.access_modes or ("",):
            add("the access mode", mode, lambda v: _choice(v, _ACCESS_MODES), volume.pointer)
        _metadata(add, volume.labels, volume.annotations, volume.pointer)
    for volume in config.empty_dirs:
        add("the volume name", volume.volume_name, dns_label, volume.pointer)
        add("the mount path", volume.mount_path, mount_path, volume.pointer)
        add("the medium", volume.medium or "", lambda v: _choice(v, _MEDIA), volume.pointer)
        if volume.size_limit:
            add("the size limit", volume.size_limit, non_negative_quantity, volume.pointer)
    for key, value in config.node_selector:
        add("the node selector key", key, label_key)
        add("the node selector value", value, label_value)
    for toleration in config.tolerations:
        if toleration.key:
            add("the toleration key", toleration.key, label_key)
        add("the toleration value", toleration.value, label_value)
        add("the toleration operator", toleration.operator, lambda v: _choice(v, _TOLERATION_OPERATORS))
        add("the toleration effect", toleration.effect, lambda v: _choice(v, _TAINT_EFFECTS))
    for term in config.node_affinity:
        _requirements(add, (*term.match_expressions, *term.match_fields))
    for term in config.pod_affinity:
        _requirements(add, (*term.match_expressions, *term.namespace_expressions))
        _metadata(add, (*term.match_labels, *term.namespace_labels), (), at)
        if term.topology_key:
            add("the topology key", term.topology_key, label_key)
        for namespace in term.namespaces:
            add("the namespace", namespace, dns_label)
    for secret in config.image_pull_secrets:
        name("the image pull secret", secret)
    _metadata(add, config.pod_labels, config.pod_annotations, at)
    problems = [(what, value, problem, pointer) for what, value, check, pointer in checks if (problem := check(value))]
    return problems + _duplicates(config)


def _metadata(add: Callable[..., None], labels: tuple[tuple[str, str], ...], annotations: tuple[tuple[str, str], ...],
              at: str) -> None:
    for key, value in labels:
        add("the label key", key, label_key, at)
        add("the label value", value, label_value, at)
    for key, value in annotations:
        add("the annotation key", key, label_key, at)
        add("the annotation value", value, _no_tag, at)


def _requirements(add: Callable[..., None], requirements: tuple[Any, ...]) -> None:
    for requirement in requirements:
        add("the selector key", requirement.key, label_key)
        add("the selector operator", requirement.operator, lambda v: _choice(v, _SELECTOR_OPERATORS))
        for value in requirement.values:
            add("the selector value", value, _no_tag)


def _duplicates(config: Any) -> list[tuple[str, str, str, str]]:
    """Environment variables and mount paths the config gives twice (Kubernetes refuses both)."""
    problems = []
    envs = [k.env for e in config.object_env for k in e.keys] + [env for env, _ in config.field_path_env]
    for env in sorted({e for e in envs if envs.count(e) > 1}):
        problems.append(("the environment variable", env, "set twice", config.pointer))
    mounts = [v.mount_path for v in (*config.object_volumes, *config.pvc_mounts, *config.ephemeral_volumes, *config.empty_dirs)]
    for path in sorted({p.rstrip("/") for p in mounts if [m.rstrip("/") for m in mounts].count(p.rstrip("/")) > 1}):
        problems.append(("the mount path", path, "mounted twice", config.pointer))
    return problems
