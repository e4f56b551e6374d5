"""The ``parse`` pass: validated PipelineSpec dicts to the typed model in ``ir``.

This is the only module that knows the IR's key names. A feature that the lowering cannot map
yet is reported here, once per place it occurs, as an :class:`UnsupportedFeature` diagnostic
naming the feature: nothing is skipped silently.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from transpiler import ir
from transpiler.errors import Diagnostic, InputSchemaError, UnsupportedFeature, escape_pointer_token, pointer
from transpiler.load import Source

MSG_NOT_YET = "{feature} is not supported yet. kfp2argo {advice}"
_ADVICE = "rejects the pipeline rather than guess; see the README's feature table"

# IR keys that mean a feature the lowering does not map yet, by where they appear.
_STRATEGIES = ("ALL_UPSTREAM_TASKS_SUCCEEDED", "ALL_UPSTREAM_TASKS_COMPLETED")
# The one selector shape the KFP SDK writes for a loop item's field: parseJson(string_value)["key"].
_FIELD_SELECTOR = re.compile(r'parseJson\(string_value\)\["([^"\\]*)"\]\Z')
_EXECUTOR_FEATURES = {
    "resolver": "A resolver executor",
    "customJob": "A Vertex AI custom job executor",
}
_IMPORTER_FEATURES = {
    "downloadToWorkspace": "An importer that downloads into the pipeline workspace (dsl.importer(download_to_workspace=True))",
    "properties": "The deprecated importer field 'properties'",
    "customProperties": "The deprecated importer field 'customProperties'",
}
MSG_IMPORTER_URI = "The importer's artifactUri must be a string constant or the name of a runtime parameter"
MSG_PLATFORM_EXECUTOR = "The platform spec configures executor {name!r}, which {problem}"
MSG_PLATFORM_INPUT = (
    "Task {task!r} runs executor {executor!r}, whose platform spec reads {what}, which {problem}. "
    "Platform values are resolved in the DAG that holds the task"
)
MSG_PLATFORM_VALUE = "{what} needs a value: a constant, a componentInputParameter or a taskOutputParameter"
MSG_PLATFORM_CONSTANT = "{what} must be {kind}, not {value!r}"

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


def parse(source: Source) -> ir.Pipeline:
    """Build the typed pipeline model from a validated source.

    Raises:
        UnsupportedFeature: with one diagnostic per unsupported construct.
    """
    parser = _Parser(source)
    pipeline = parser.pipeline()
    if parser.invalid:
        raise InputSchemaError(parser.invalid)
    if parser.unsupported:
        raise UnsupportedFeature(parser.unsupported)
    return pipeline


class _Parser:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.spec = source.pipeline_spec
        self.unsupported: list[Diagnostic] = []
        self.invalid: list[Diagnostic] = []
        self.importers: dict[str, ir.Importer] = {}

    def not_yet(self, feature: str, at: str) -> None:
        message = MSG_NOT_YET.format(feature=feature, advice=_ADVICE)
        self.unsupported.append(self.source.spec_diagnostic(message, at))

    def pipeline(self) -> ir.Pipeline:
        info = self.spec.get("pipelineInfo", {})
        executors = {
            name: self.executor(name, body, pointer("deploymentSpec", "executors", name))
            for name, body in sorted(self.spec.get("deploymentSpec", {}).get("executors", {}).items())
        }
        components = {
            name: self.component(name, body, pointer("components", name))
            for name, body in sorted(self.spec.get("components", {}).items())
        }
        platform = _PlatformParser(self).configs({k for k, v in executors.items() if v is not None}, set(self.importers))
        for label, config in platform.items():
            executors[label] = dataclasses.replace(executors[label], kubernetes=config)
        root = self.component("root", self.spec["root"], "/root")
        pipeline = ir.Pipeline(
            name=info.get("name", ""),
            display_name=info.get("displayName", ""),
            description=info.get("description", ""),
            root=root,
            components=_with_extra_inputs(components, [root, *components.values()]),
            executors={k: v for k, v in executors.items() if v is not None},
            sdk_version=self.spec.get("sdkVersion", ""),
            schema_version=self.spec.get("schemaVersion", ""),
            default_pipeline_root=self.spec.get("defaultPipelineRoot", ""),
            importers=self.importers,
        )
        self.invalid += _platform_reference_problems(self.source, pipeline)
        return pipeline

    # components ------------------------------------------------------------------------------

    def component(self, name: str, body: dict[str, Any], at: str) -> ir.Component:
        dag = body.get("dag")
        return ir.Component(
            name=name,
            inputs=self.interface(body.get("inputDefinitions", {}), at + "/inputDefinitions"),
            outputs=self.interface(body.get("outputDefinitions", {}), at + "/outputDefinitions"),
            executor=body.get("executorLabel"),
            dag=self.dag(dag, at + "/dag") if dag is not None else None,
            pointer=at,
        )

    def interface(self, body: dict[str, Any], at: str) -> ir.Interface:
        parameters = tuple(
            ir.ParameterDef(
                name=name,
                type=p.get("parameterType", "STRING"),
                default=p.get("defaultValue", ir.MISSING),
                optional=bool(p.get("isOptional", False)),
                pointer=f"{at}/parameters/{escape_pointer_token(name)}",
            )
            for name, p in sorted(body.get("parameters", {}).items())
        )
        artifacts = tuple(
            self.artifact_def(name, a, f"{at}/artifacts/{escape_pointer_token(name)}")
            for name, a in sorted(body.get("artifacts", {}).items())
        )
        return ir.Interface(parameters, artifacts)

    def artifact_def(self, name: str, body: dict[str, Any], at: str) -> ir.ArtifactDef:
        artifact_type = body.get("artifactType", {})
        return ir.ArtifactDef(
            name=name,
            schema_title=artifact_type.get("schemaTitle", "system.Artifact"),
            schema_version=artifact_type.get("schemaVersion", "0.0.1"),
            is_list=bool(body.get("isArtifactList", False)),
            optional=bool(body.get("isOptional", False)),
            pointer=at,
        )

    def dag(self, body: dict[str, Any], at: str) -> ir.Dag:
        tasks = tuple(
            self.task(name, t, f"{at}/tasks/{escape_pointer_token(name)}") for name, t in sorted(body.get("tasks", {}).items())
        )
        outputs = body.get("outputs", {})
        parameter_outputs = []
        for name, out in sorted(outputs.get("parameters", {}).items()):
            out_at = f"{at}/outputs/parameters/{escape_pointer_token(name)}"
            selectors = out.get("valueFromOneof", {}).get("parameterSelectors") or [out.get("valueFromParameter", {})]
            sources = tuple(ir.OutputSource(s.get("producerSubtask", ""), s.get("outputParameterKey", "")) for s in selectors)
            parameter_outputs.append(ir.DagOutput(name, sources, out_at))
        artifact_outputs = []
        for name, out in sorted(outputs.get("artifacts", {}).items()):
            out_at = f"{at}/outputs/artifacts/{escape_pointer_token(name)}"
            selectors = out.get("artifactSelectors", [])
            sources = tuple(ir.OutputSource(s.get("producerSubtask", ""), s.get("outputArtifactKey", "")) for s in selectors)
            artifact_outputs.append(ir.DagOutput(name, sources, out_at))
        return ir.Dag(tasks, tuple(parameter_outputs), tuple(artifact_outputs))

    def task(self, name: str, body: dict[str, Any], at: str) -> ir.Task:
        inputs = body.get("inputs", {})
        trigger = body.get("triggerPolicy", {})
        parameters = []
        for input_name, binding in sorted(inputs.get("parameters", {}).items()):
            parsed = self.parameter_binding(input_name, binding, f"{at}/inputs/parameters/{escape_pointer_token(input_name)}")
            if parsed is not None:
                parameters.append(parsed)
        artifacts = [
            self.artifact_binding(input_name, binding, f"{at}/inputs/artifacts/{escape_pointer_token(input_name)}")
            for input_name, binding in sorted(inputs.get("artifacts", {}).items())
        ]
        return ir.Task(
            name=name,
            component=body.get("componentRef", {}).get("name", ""),
            display_name=body.get("taskInfo", {}).get("name", name),
            dependent_tasks=tuple(sorted(set(body.get("dependentTasks", [])))),
            parameters=tuple(parameters),
            artifacts=tuple(a for a in artifacts if a is not None),
            retry=self.retry(body.get("retryPolicy"), at + "/retryPolicy"),
            enable_cache=bool(body.get("cachingOptions", {}).get("enableCache", False)),
            pointer=at,
            condition=trigger.get("condition") or None,
            condition_pointer=at + "/triggerPolicy/condition",
            run_after_failure=self.strategy(trigger, at) == "ALL_UPSTREAM_TASKS_COMPLETED",
            iterator=self.iterator(body, at),
        )

    def strategy(self, trigger: dict[str, Any], at: str) -> str:
        strategy = trigger.get("strategy") or _STRATEGIES[0]
        if strategy not in _STRATEGIES:
            self.not_yet(f"The trigger strategy {strategy!r}", at + "/triggerPolicy/strategy")
        return strategy

    def iterator(self, body: dict[str, Any], at: str) -> ir.Iterator | None:
        key = "parameterIterator" if "parameterIterator" in body else "artifactIterator"
        iterator = body.get(key)
        if iterator is None:
            return None
        items = iterator.get("items", {})
        limit = body.get("iteratorPolicy", {}).get("parallelismLimit")
        return ir.Iterator(
            item_input=iterator.get("itemInput", ""),
            raw=items.get("raw"),
            input_parameter=items.get("inputParameter"),
            input_artifact=items.get("inputArtifact"),
            parallelism=int(limit) if limit else None,
            pointer=f"{at}/{key}",
        )

    def parameter_binding(self, name: str, body: dict[str, Any], at: str) -> ir.ParameterBinding | None:
        if "parameterExpressionSelector" in body and "componentInputParameter" not in body:
            self.not_yet("A parameter selector on anything but an enclosing input (a loop item)", at + "/parameterExpressionSelector")
            return None
        if "taskFinalStatus" in body:
            return ir.ParameterBinding(name, ir.TaskFinalStatus(body["taskFinalStatus"].get("producerTask", "")), at)
        if "componentInputParameter" in body:
            field = None
            if "parameterExpressionSelector" in body:
                match = _FIELD_SELECTOR.match(body["parameterExpressionSelector"])
                if match is None:
                    self.not_yet('A parameter selector other than parseJson(string_value)["<key>"]', at + "/parameterExpressionSelector")
                    return None
                field = match.group(1)
            return ir.ParameterBinding(name, ir.ComponentInput(body["componentInputParameter"]), at, field)
        if "taskOutputParameter" in body:
            source = body["taskOutputParameter"]
            return ir.ParameterBinding(name, ir.TaskOutput(source["producerTask"], source["outputParameterKey"]), at)
        if "runtimeValue" in body:
            return ir.ParameterBinding(name, ir.Constant(_constant(body["runtimeValue"])), at)
        self.not_yet("This kind of task input parameter", at)
        return None

    def artifact_binding(self, name: str, body: dict[str, Any], at: str) -> ir.ArtifactBinding | None:
        if "componentInputArtifact" in body:
            return ir.ArtifactBinding(name, ir.ComponentInput(body["componentInputArtifact"]), at)
        if "taskOutputArtifact" in body:
            source = body["taskOutputArtifact"]
            return ir.ArtifactBinding(name, ir.TaskOutput(source["producerTask"], source["outputArtifactKey"]), at)
        self.not_yet("This kind of task input artifact", at)
        return None

    def retry(self, body: dict[str, Any] | None, at: str) -> ir.RetryPolicy | None:
        if not body:
            return None
        return ir.RetryPolicy(
            max_retry_count=int(body.get("maxRetryCount", 0)),
            backoff_duration=body.get("backoffDuration"),
            backoff_factor=body.get("backoffFactor"),
            backoff_max_duration=body.get("backoffMaxDuration"),
            pointer=at,
        )

    # executors -------------------------------------------------------------------------------

    def executor(self, name: str, body: dict[str, Any], at: str) -> ir.ContainerSpec | None:
        for key, feature in _EXECUTOR_FEATURES.items():
            if key in body:
                self.not_yet(feature, f"{at}/{key}")
                return None
        if "importer" in body:
            self.importers[name] = self.importer(body["importer"], at + "/importer")
            return None
        container = body.get("container", {})
        at = at + "/container"
        for key in sorted(container):
            if key not in ("image", "command", "args", "env", "resources"):
                self.not_yet(f"The container field {key!r}", f"{at}/{key}")
        return ir.ContainerSpec(
            image=container.get("image", ""),
            command=tuple(container.get("command", [])),
            args=tuple(container.get("args", [])),
            env=tuple((e.get("name", ""), e.get("value", "")) for e in container.get("env", [])),
            resources=self.resources(container.get("resources", {}), at + "/resources"),
            pointer=at,
        )

    def resources(self, body: dict[str, Any], at: str) -> ir.Resources:
        accelerator = body.get("accelerator", {})
        return ir.Resources(
            cpu_limit=body.get("resourceCpuLimit") or _quantity(body.get("cpuLimit")),
            memory_limit=body.get("resourceMemoryLimit") or _memory(body.get("memoryLimit")),
            cpu_request=body.get("resourceCpuRequest") or _quantity(body.get("cpuRequest")),
            memory_request=body.get("resourceMemoryRequest") or _memory(body.get("memoryRequest")),
            accelerator_type=accelerator.get("resourceType") or accelerator.get("type"),
            accelerator_count=str(accelerator.get("resourceCount") or accelerator.get("count") or "") or None,
            pointer=at,
        )


    def importer(self, body: dict[str, Any], at: str) -> ir.Importer:
        for key, feature in _IMPORTER_FEATURES.items():
            if body.get(key):
                self.not_yet(feature, f"{at}/{key}")
        type_schema = body.get("typeSchema", {})
        for key in ("instanceSchema", "schemaUri"):
            if type_schema.get(key):
                self.not_yet(f"An importer type given as {key!r} (not schemaTitle)", f"{at}/typeSchema/{key}")
        uri_spec = body.get("artifactUri", {})
        uri: ir.Constant | str | None = uri_spec.get("runtimeParameter") or None
        if uri is None:
            constant = uri_spec["constant"] if "constant" in uri_spec else uri_spec.get("constantValue", {}).get("stringValue")
            uri = ir.Constant(constant) if isinstance(constant, str) and constant else None
        if uri is None:
            self.invalid.append(self.source.spec_diagnostic(MSG_IMPORTER_URI, at + "/artifactUri"))
            uri = ir.Constant("")
        return ir.Importer(
            uri=uri,
            schema_title=type_schema.get("schemaTitle", "system.Artifact"),
            schema_version=type_schema.get("schemaVersion", "0.0.1"),
            metadata=body.get("metadata") or {},
            pointer=at,
        )


class _PlatformParser:
    """The kubernetes platform spec (document 1) to one ``ir.KubernetesConfig`` per executor."""

    def __init__(self, parser: _Parser) -> None:
        self.parser = parser
        self.source = parser.source

    def not_yet(self, feature: str, at: str) -> None:
        message = MSG_NOT_YET.format(feature=feature, advice=_ADVICE)
        self.parser.unsupported.append(self.source.diagnostic(message, at, 1))

    def invalid(self, message: str, at: str) -> None:
        self.parser.invalid.append(self.source.diagnostic(message, at, 1))

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
                if key != "deploymentSpec" and body[key]:
                    self.not_yet(_PLATFORM_KEYS.get(key, f"The platform spec field {key!r}"), f"{at}/{escape_pointer_token(key)}")
            executor_specs = (body.get("deploymentSpec") or {}).get("executors") or {}
            for label, spec in sorted(executor_specs.items()):
                spec_at = f"{at}/deploymentSpec/executors/{escape_pointer_token(label)}"
                if label in importers or label not in executors:
                    if label in importers or label not in self.parser.spec.get("deploymentSpec", {}).get("executors", {}):
                        problem = "is a dsl.importer" if label in importers else "the PipelineSpec does not define"
                        self.invalid(MSG_PLATFORM_EXECUTOR.format(name=label, problem=problem), spec_at)
                    continue  # an executor reported as not supported already
                self.unmapped(spec, _KUBERNETES_FIELDS, spec_at)
                result[label] = self.config(spec, spec_at)
        return result

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
        return ir.PlatformValue(source, f"kfp2argo-{kind}-{self.counters[kind]}", at)


_PLATFORM_KEYS = {
    "pipelineConfig": "The pipeline-level Kubernetes config (dsl.PipelineConfig: workspace, TTLs, deadline)",
}
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


def _platform_reference_problems(source: Source, pipeline: ir.Pipeline) -> list[Diagnostic]:
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


def _with_extra_inputs(components: dict[str, ir.Component], dags: list[ir.Component]) -> dict[str, ir.Component]:
    """Declare the task inputs a component does not define (the KFP compiler adds them when a
    resource field such as ``resourceCpuLimit`` holds a placeholder) as optional STRING inputs."""
    extra: dict[str, set[str]] = {}
    for parent in dags:
        for task in parent.dag.tasks if parent.dag else ():
            component = components.get(task.component)
            if component is None or component.dag is not None:
                continue
            names = {b.name for b in task.parameters} - {p.name for p in component.inputs.parameters}
            extra.setdefault(component.name, set()).update(names)
    result = dict(components)
    for name, added in extra.items():
        if added:
            component = components[name]
            parameters = component.inputs.parameters + tuple(
                ir.ParameterDef(n, "STRING", optional=True, pointer=component.pointer) for n in sorted(added)
            )
            inputs = ir.Interface(tuple(sorted(parameters, key=lambda p: p.name)), component.inputs.artifacts)
            result[name] = dataclasses.replace(component, inputs=inputs)
    return result


def _constant(runtime_value: dict[str, Any]) -> Any:
    if "constant" in runtime_value:
        return runtime_value["constant"]
    legacy = runtime_value.get("constantValue", {})
    for key in ("stringValue", "intValue", "doubleValue"):
        if key in legacy:
            return int(legacy[key]) if key == "intValue" else legacy[key]
    return None


def _quantity(value: Any) -> str | None:
    """CPU numbers from the legacy numeric fields (``cpuLimit: 1.5``) as a Kubernetes quantity."""
    if value is None:
        return None
    millis = round(float(value) * 1000)
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def _memory(value: Any) -> str | None:
    """Memory from the legacy numeric fields, which hold gigabytes (``memoryLimit: 0.5``)."""
    if value is None:
        return None
    size = round(float(value) * 1_000_000_000)
    for unit, factor in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)
