"""The ``parse`` pass, second half: the kfp-kubernetes platform spec to ``ir.KubernetesConfig``.

The platform spec is the optional second YAML document (``platforms: kubernetes: ...``) that
kfp-kubernetes writes: per executor, what its pod needs (Secrets, ConfigMaps, volumes,
scheduling, metadata, security context). This is the only module that knows its key names.
Every field of the proto is either in ``_KUBERNETES_FIELDS`` (mapped) or reported with its
location and the reason there is no mapping, so a field a newer kfp-kubernetes adds fails loudly.
"""

from __future__ import annotations

from typing import Any

from transpiler import ir, names
from transpiler.errors import Diagnostic, escape_pointer_token, pointer
from transpiler.load import Source

MSG_NOT_YET = "{feature} is not supported yet. kfp2argo {advice}"
ADVICE = "rejects the pipeline rather than guess; see the README's feature table"
MSG_PLATFORM_EXECUTOR = "The platform spec configures executor {name!r}, which {problem}"
MSG_PLATFORM_INPUT = (
    "Task {task!r} runs executor {executor!r}, whose platform spec reads {what}, which {problem}. "
    "Platform values are resolved in the DAG that holds the task"
)
MSG_PLATFORM_VALUE = "{what} needs a value: a constant, a componentInputParameter or a taskOutputParameter"
MSG_PLATFORM_CONSTANT = "{what} must be {kind}, not {value!r}"
MSG_WORKSPACE_FIELD = (
    "The workspace's pvcSpecPatch may set accessModes and storageClassName only (as KFP's compiler "
    "allows), not {key!r}"
)

# Every kfp-kubernetes field kfp2argo maps, as a tree of JSON names (None: a leaf). Any other
# field, including one a newer kfp-kubernetes adds, is reported rather than dropped.
_PARAMETER_SPEC = {
    "componentInputParameter": None,
    "taskOutputParameter": {"producerTask": None, "outputParameterKey": None},
    "runtimeValue": {"constant": None},
}
_SELECTOR = {"key": None, "operator": None, "values": None}
_KUBERNETES_FIELDS: dict[str, Any] = {
    "secretAsEnv": {"secretName": None, "secretNameParameter": _PARAMETER_SPEC, "optional": None,
                    "keyToEnv": {"secretKey": None, "envVar": None}},
    "secretAsVolume": {"secretName": None, "secretNameParameter": _PARAMETER_SPEC, "optional": None, "mountPath": None},
    "configMapAsEnv": {"configMapName": None, "configMapNameParameter": _PARAMETER_SPEC, "optional": None,
                       "keyToEnv": {"configMapKey": None, "envVar": None}},
    "configMapAsVolume": {"configMapName": None, "configMapNameParameter": _PARAMETER_SPEC, "optional": None,
                          "mountPath": None},
    "fieldPathAsEnv": {"name": None, "fieldPath": None},
    "pvcMount": {"pvcNameParameter": _PARAMETER_SPEC, "mountPath": None, "subPath": None, "constant": None,
                 "componentInputParameter": None, "taskOutputParameter": {"producerTask": None, "outputParameterKey": None}},
    "genericEphemeralVolume": {"volumeName": None, "mountPath": None, "accessModes": None, "size": None,
                               "defaultStorageClass": None, "storageClassName": None,
                               "metadata": {"labels": None, "annotations": None}},
    "emptyDirMounts": {"volumeName": None, "mountPath": None, "medium": None, "sizeLimit": None},
    "nodeSelector": {"labels": None, "nodeSelectorJson": _PARAMETER_SPEC},
    "tolerations": {"key": None, "operator": None, "value": None, "effect": None, "tolerationSeconds": None,
                    "tolerationJson": _PARAMETER_SPEC},
    "nodeAffinity": {"matchExpressions": _SELECTOR, "matchFields": _SELECTOR, "weight": None,
                     "nodeAffinityJson": _PARAMETER_SPEC},
    "podAffinity": {"matchPodExpressions": _SELECTOR, "matchPodLabels": None, "topologyKey": None, "namespaces": None,
                    "matchNamespaceExpressions": _SELECTOR, "matchNamespaceLabels": None, "weight": None, "anti": None},
    "imagePullSecret": {"secretName": None, "secretNameParameter": _PARAMETER_SPEC},
    "imagePullPolicy": None,
    "podMetadata": {"labels": None, "annotations": None},
    "activeDeadlineSeconds": None,
    "securityContext": {"runAsUser": None, "runAsGroup": None, "runAsNonRoot": None},
}
# Why some fields of the proto have no mapping.
_UNMAPPED_REASONS = {
    "enabledSharedMemory": "no kfp-kubernetes release writes it and KFP's backend ignores it, so where it is mounted is undefined",
    "taskFinalStatus": "a task's final status is no name or selector",
    "parameterExpressionSelector": "KFP's backend does not apply selectors to platform values",
    "constantValue": "it is the deprecated form of 'constant'",
}


class PlatformParser:
    """The kubernetes platform spec (document 1) to one ``ir.KubernetesConfig`` per executor."""

    def __init__(self, source: Source, unsupported: list[Diagnostic], invalid: list[Diagnostic]) -> None:
        self.source = source
        self.unsupported = unsupported
        self.problems = invalid

    def not_yet(self, feature: str, at: str) -> None:
        message = MSG_NOT_YET.format(feature=feature, advice=ADVICE)
        self.unsupported.append(self.source.diagnostic(message, at, 1))

    def invalid(self, message: str, at: str) -> None:
        self.problems.append(self.source.diagnostic(message, at, 1))

    def configs(self, executors: set[str], importers: set[str]) -> dict[str, ir.KubernetesConfig]:
        platforms = (self.source.platform_spec or {}).get("platforms") or {}
        result = {}
        for name, body in sorted(platforms.items()):
            at = pointer("platforms", name)
            if name != "kubernetes":
                if body:
                    self.not_yet(f"The {name!r} platform spec", at)
                continue
            for key in sorted(body):
                if key not in ("deploymentSpec", "pipelineConfig") and body[key]:
                    self.not_yet(f"The platform spec field {key!r}", f"{at}/{escape_pointer_token(key)}")
            executor_specs = (body.get("deploymentSpec") or {}).get("executors") or {}
            for label, spec in sorted(executor_specs.items()):
                spec_at = f"{at}/deploymentSpec/executors/{escape_pointer_token(label)}"
                if label in importers or label not in executors:
                    if label in importers or label not in self.source.pipeline_spec.get("deploymentSpec", {}).get("executors", {}):
                        problem = "is a dsl.importer" if label in importers else "the PipelineSpec does not define"
                        self.invalid(MSG_PLATFORM_EXECUTOR.format(name=label, problem=problem), spec_at)
                    continue  # an executor reported as not supported already
                self.unmapped(spec, _KUBERNETES_FIELDS, spec_at)
                result[label] = self.config(spec, spec_at)
        return result

    def pipeline_config(self) -> ir.PipelineConfig | None:
        """``platforms.kubernetes.pipelineConfig``: the workspace, TTLs and deadline."""
        body = ((self.source.platform_spec or {}).get("platforms") or {}).get("kubernetes", {}).get("pipelineConfig")
        if not body:
            return None
        at = "/platforms/kubernetes/pipelineConfig"
        workspace = None
        if body.get("workspace") is not None:
            spec = body["workspace"]
            patch = _plain_json((spec.get("kubernetes") or {}).get("pvcSpecPatch") or {})
            for key in sorted(set(patch) - {"accessModes", "storageClassName"}):
                self.invalid(MSG_WORKSPACE_FIELD.format(key=key), f"{at}/workspace/kubernetes/pvcSpecPatch/{escape_pointer_token(key)}")
            workspace = ir.Workspace(spec.get("size", ""), patch, f"{at}/workspace")

        def seconds(key: str) -> int | None:
            value = body.get(key)
            return int(value) if value is not None and int(value) > 0 else None

        return ir.PipelineConfig(
            workspace=workspace,
            ttl_after_completion=seconds("resourceTtlOnCompletion"),
            ttl_after_success=seconds("resourceTtlOnSuccess"),
            ttl_after_failure=seconds("resourceTtlOnFailure"),
            active_deadline_seconds=seconds("activeDeadlineSeconds"),
            pointer=at,
        )

    def unmapped(self, body: Any, fields: dict[str, Any], at: str) -> None:
        """Report every field of ``body`` that is not in the ``fields`` tree."""
        if isinstance(body, list):
            for index, item in enumerate(body):
                self.unmapped(item, fields, f"{at}/{index}")
            return
        if not isinstance(body, dict):
            return
        for key, value in body.items():
            key_at = f"{at}/{escape_pointer_token(key)}"
            if key not in fields:
                reason = _UNMAPPED_REASONS.get(key, "kfp2argo has no mapping for it")
                self.not_yet(f"The kfp-kubernetes field {key!r} ({reason})", key_at)
            elif fields[key] is not None:
                self.unmapped(value, fields[key], key_at)

    def config(self, body: dict[str, Any], at: str) -> ir.KubernetesConfig:
        self.counters: dict[str, int] = {}
        selector = body.get("nodeSelector", {})
        metadata = body.get("podMetadata", {})
        return ir.KubernetesConfig(
            object_env=self.object_env(body, "secret", at) + self.object_env(body, "configMap", at),
            object_volumes=self.object_volumes(body, "secret", at) + self.object_volumes(body, "configMap", at),
            field_path_env=tuple((e.get("name", ""), e.get("fieldPath", "")) for e in body.get("fieldPathAsEnv", [])),
            pvc_mounts=tuple(self.pvc_mount(m, f"{at}/pvcMount/{i}") for i, m in enumerate(body.get("pvcMount", []))),
            ephemeral_volumes=tuple(
                _ephemeral_volume(v, f"{at}/genericEphemeralVolume/{i}") for i, v in enumerate(body.get("genericEphemeralVolume", []))
            ),
            empty_dirs=tuple(
                ir.EmptyDirMount(d.get("volumeName", ""), d.get("mountPath", ""), d.get("medium") or None,
                                 d.get("sizeLimit") or None, f"{at}/emptyDirMounts/{i}")
                for i, d in enumerate(body.get("emptyDirMounts", []))
            ),
            node_selector=tuple(sorted(selector.get("labels", {}).items())),
            node_selector_json=self.json_value(selector, "nodeSelectorJson", "node-selector", f"{at}/nodeSelector"),
            tolerations=tuple(_toleration(t) for t in body.get("tolerations", []) if "tolerationJson" not in t),
            toleration_json=self.json_values(body.get("tolerations", []), "tolerationJson", "toleration", f"{at}/tolerations"),
            node_affinity=tuple(_node_affinity(t) for t in body.get("nodeAffinity", []) if "nodeAffinityJson" not in t),
            node_affinity_json=self.json_values(body.get("nodeAffinity", []), "nodeAffinityJson", "node-affinity", f"{at}/nodeAffinity"),
            pod_affinity=tuple(_pod_affinity(t) for t in body.get("podAffinity", [])),
            image_pull_secrets=tuple(
                v for i, s in enumerate(body.get("imagePullSecret", []))
                if (v := self.name(s, "secretName", "secretNameParameter", "image-pull-secret", f"{at}/imagePullSecret/{i}"))
            ),
            image_pull_policy=body.get("imagePullPolicy") or None,
            pod_labels=tuple(sorted(metadata.get("labels", {}).items())),
            pod_annotations=tuple(sorted(metadata.get("annotations", {}).items())),
            active_deadline_seconds=int(body["activeDeadlineSeconds"]) if int(body.get("activeDeadlineSeconds", 0)) > 0 else None,
            security_context=_security_context(body.get("securityContext")),
            pointer=at,
        )

    def object_env(self, body: dict[str, Any], kind: str, at: str) -> tuple[ir.ObjectEnv, ...]:
        result = []
        key_field = "secretKey" if kind == "secret" else "configMapKey"
        for index, item in enumerate(body.get(f"{kind}AsEnv", [])):
            item_at = f"{at}/{kind}AsEnv/{index}"
            name = self.name(item, f"{kind}Name", f"{kind}NameParameter", _KIND_NAMES[kind], item_at)
            keys = tuple(ir.KeyToEnv(k.get(key_field, ""), k.get("envVar", "")) for k in item.get("keyToEnv", []))
            if name is not None:
                result.append(ir.ObjectEnv(kind, name, keys, item.get("optional"), item_at))
        return tuple(result)

    def object_volumes(self, body: dict[str, Any], kind: str, at: str) -> tuple[ir.ObjectVolume, ...]:
        result = []
        for index, item in enumerate(body.get(f"{kind}AsVolume", [])):
            item_at = f"{at}/{kind}AsVolume/{index}"
            name = self.name(item, f"{kind}Name", f"{kind}NameParameter", _KIND_NAMES[kind], item_at)
            if name is not None:
                result.append(ir.ObjectVolume(kind, name, item.get("mountPath", ""), item.get("optional"), item_at))
        return tuple(result)

    def pvc_mount(self, body: dict[str, Any], at: str) -> ir.PvcMount:
        if "pvcNameParameter" in body:
            name = self.value(body["pvcNameParameter"], "pvc", f"{at}/pvcNameParameter", "the PVC name", str)
        else:  # the deprecated oneof that kfp-kubernetes still writes beside pvcNameParameter
            legacy = {k: body[k] for k in ("constant", "componentInputParameter", "taskOutputParameter") if k in body}
            spec = {"runtimeValue": {"constant": legacy["constant"]}} if "constant" in legacy else legacy
            name = self.value(spec, "pvc", at, "the PVC name", str)
        return ir.PvcMount(name or ir.PlatformValue(ir.Constant(""), None, at), body.get("mountPath", ""), body.get("subPath", ""), at)

    def name(self, body: dict[str, Any], name_key: str, parameter_key: str, kind: str, at: str) -> ir.PlatformValue | None:
        """The object name of a Secret, ConfigMap or image pull secret: the parameter spec, else
        the deprecated constant field."""
        if parameter_key in body:
            return self.value(body[parameter_key], kind, f"{at}/{parameter_key}", f"{parameter_key!r}", str)
        if body.get(name_key):
            return ir.PlatformValue(ir.Constant(body[name_key]), None, f"{at}/{name_key}")
        self.invalid(MSG_PLATFORM_VALUE.format(what=f"{parameter_key!r}"), at)
        return None

    def json_value(self, body: dict[str, Any], key: str, kind: str, at: str) -> ir.PlatformValue | None:
        if key not in body:
            return None
        allowed = (dict, list) if kind == "toleration" else dict
        return self.value(body[key], kind, f"{at}/{key}", repr(key), allowed)

    def json_values(self, items: list[dict[str, Any]], key: str, kind: str, at: str) -> tuple[ir.PlatformValue, ...]:
        found = (self.json_value(item, key, kind, f"{at}/{index}") for index, item in enumerate(items))
        return tuple(v for v in found if v is not None)

    def value(self, spec: dict[str, Any], kind: str, at: str, what: str, allowed: Any) -> ir.PlatformValue | None:
        source: ir.PlatformSource
        if "componentInputParameter" in spec:
            source = ir.ComponentInput(spec["componentInputParameter"])
        elif "taskOutputParameter" in spec:
            output = spec["taskOutputParameter"]
            source = ir.TaskOutput(output.get("producerTask", ""), output.get("outputParameterKey", ""))
        elif "constant" in spec.get("runtimeValue", {}):
            constant = _plain_json(spec["runtimeValue"]["constant"])
            if not isinstance(constant, allowed) or constant == "":
                kind_text = "a non-empty string" if allowed is str else "a JSON object" if allowed is dict else "a JSON object or list"
                self.invalid(MSG_PLATFORM_CONSTANT.format(what=what, kind=kind_text, value=constant), at + "/runtimeValue/constant")
                return None
            return ir.PlatformValue(ir.Constant(constant), None, at)
        else:
            reported = set(spec) - {"runtimeValue"} or set(spec.get("runtimeValue") or {})  # by unmapped()
            if not reported:
                self.invalid(MSG_PLATFORM_VALUE.format(what=what), at)
            return None
        self.counters[kind] = self.counters.get(kind, -1) + 1
        return ir.PlatformValue(source, names.platform_parameter(kind, self.counters[kind]), at)


_KIND_NAMES = {"secret": "secret", "configMap": "config-map"}


def _plain_json(value: Any) -> Any:
    """A protobuf Value as plain JSON: integral numbers as ints (protobuf holds every number as
    a double, and Kubernetes fields such as weights are integers)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_plain_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain_json(v) for k, v in value.items()}
    return value


def _requirements(items: list[dict[str, Any]]) -> tuple[ir.Requirement, ...]:
    return tuple(ir.Requirement(r.get("key", ""), r.get("operator", ""), tuple(r.get("values", []))) for r in items)


def _toleration(body: dict[str, Any]) -> ir.Toleration:
    seconds = body.get("tolerationSeconds")
    return ir.Toleration(
        body.get("key", ""), body.get("operator", ""), body.get("value", ""), body.get("effect", ""),
        int(seconds) if seconds is not None else None,
    )


def _node_affinity(body: dict[str, Any]) -> ir.NodeAffinityTerm:
    weight = body.get("weight")
    return ir.NodeAffinityTerm(
        _requirements(body.get("matchExpressions", [])), _requirements(body.get("matchFields", [])),
        int(weight) if weight is not None else None,
    )


def _pod_affinity(body: dict[str, Any]) -> ir.PodAffinityTerm:
    weight = body.get("weight")
    return ir.PodAffinityTerm(
        match_expressions=_requirements(body.get("matchPodExpressions", [])),
        match_labels=tuple(sorted(body.get("matchPodLabels", {}).items())),
        topology_key=body.get("topologyKey", ""),
        namespaces=tuple(body.get("namespaces", [])),
        namespace_expressions=_requirements(body.get("matchNamespaceExpressions", [])),
        namespace_labels=tuple(sorted(body.get("matchNamespaceLabels", {}).items())),
        weight=int(weight) if weight is not None else None,
        anti=bool(body.get("anti", False)),
    )


def _ephemeral_volume(body: dict[str, Any], at: str) -> ir.EphemeralVolume:
    metadata = body.get("metadata", {})
    return ir.EphemeralVolume(
        volume_name=body.get("volumeName", ""),
        mount_path=body.get("mountPath", ""),
        access_modes=tuple(body.get("accessModes", [])),
        size=body.get("size", ""),
        storage_class=None if body.get("defaultStorageClass") else body.get("storageClassName", ""),
        labels=tuple(sorted(metadata.get("labels", {}).items())),
        annotations=tuple(sorted(metadata.get("annotations", {}).items())),
        pointer=at,
    )


def _security_context(body: dict[str, Any] | None) -> ir.SecurityContext | None:
    if not body:
        return None
    user, group = body.get("runAsUser"), body.get("runAsGroup")
    return ir.SecurityContext(
        run_as_user=int(user) if user is not None else None,
        run_as_group=int(group) if group is not None else None,
        run_as_non_root=body.get("runAsNonRoot"),
    )


def reference_problems(source: Source, pipeline: ir.Pipeline) -> list[Diagnostic]:
    """Each run-time platform value must name an input of the DAG that holds the task, or an
    output parameter of one of its sibling tasks (as KFP's driver resolves them)."""
    problems = []
    for parent in (pipeline.root, *pipeline.components.values()):
        for task in parent.dag.tasks if parent.dag else ():
            component = pipeline.components.get(task.component)
            executor = pipeline.executors.get(component.executor or "") if component else None
            config = executor.kubernetes if executor else None
            for value in config.run_time_values() if config else ():
                problem = _reference_problem(pipeline, parent, value.source)
                if problem:
                    what, why = problem
                    message = MSG_PLATFORM_INPUT.format(task=task.name, executor=component.executor, what=what, problem=why)
                    problems.append(source.diagnostic(message, value.pointer, 1))
    return problems


def _reference_problem(pipeline: ir.Pipeline, parent: ir.Component, value: ir.PlatformSource) -> tuple[str, str] | None:
    if isinstance(value, ir.ComponentInput):
        if parent.inputs.parameter(value.name) is None:
            return f"the input {value.name!r}", f"{parent.name!r} does not have"
        return None
    if isinstance(value, ir.TaskOutput):
        assert parent.dag is not None
        producer = next((t for t in parent.dag.tasks if t.name == value.task), None)
        if producer is None:
            return f"an output of task {value.task!r}", f"is not a task of {parent.name!r}"
        component = pipeline.components.get(producer.component)
        if component is None or component.outputs.parameter(value.name) is None:
            return f"the output {value.name!r} of task {value.task!r}", "that task does not have"
    return None
