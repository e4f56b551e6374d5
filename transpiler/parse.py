"""The ``parse`` pass: validated PipelineSpec dicts to the typed model in ``ir``.

This is the only module that knows the PipelineSpec's key names (``parse_platform`` knows the
platform spec's). A feature that the lowering cannot map
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
from transpiler.parse_platform import ADVICE, MSG_NOT_YET, PlatformParser, reference_problems


# IR keys that mean a feature the lowering does not map yet, by where they appear.
_STRATEGIES = ("ALL_UPSTREAM_TASKS_SUCCEEDED", "ALL_UPSTREAM_TASKS_COMPLETED")
# The one selector shape the KFP SDK writes for a loop item's field: parseJson(string_value)["key"].
_FIELD_SELECTOR = re.compile(r'parseJson\(string_value\)\["([^"\\]*)"\]\Z')
_EXECUTOR_FEATURES = {
    "resolver": "A resolver executor",
    "customJob": "A Vertex AI custom job executor",
}
_IMPORTER_FEATURES = {
    "properties": "The deprecated importer field 'properties'",
    "customProperties": "The deprecated importer field 'customProperties'",
}
MSG_IMPORTER_URI = "The importer's artifactUri must be a string constant or the name of a runtime parameter"
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
        message = MSG_NOT_YET.format(feature=feature, advice=ADVICE)
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
        platform_parser = PlatformParser(self.source, self.unsupported, self.invalid)
        platform = platform_parser.configs({k for k, v in executors.items() if v is not None}, set(self.importers))
        for label, config in platform.items():
            executors[label] = dataclasses.replace(executors[label], kubernetes=config)
        root = self.component("root", self.spec["root"], "/root")
        job = self.source.job or {}
        runtime = job.get("runtimeConfig") or {}
        pipeline = ir.Pipeline(
            name=info.get("name", ""),
            display_name=job.get("displayName") or info.get("displayName", ""),  # the run's, then the pipeline's
            description=info.get("description", ""),
            root=root,
            components=_with_extra_inputs(components, [root, *components.values()]),
            executors={k: v for k, v in executors.items() if v is not None},
            sdk_version=self.spec.get("sdkVersion", ""),
            schema_version=self.spec.get("schemaVersion", ""),
            default_pipeline_root=runtime.get("gcsOutputDirectory") or self.spec.get("defaultPipelineRoot", ""),
            labels=tuple(sorted((job.get("labels") or {}).items())),
            importers=self.importers,
            config=platform_parser.pipeline_config(),
        )
        self.invalid += reference_problems(self.source, pipeline)
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
                description=p.get("description", ""),
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
            cache_key=body.get("cachingOptions", {}).get("cacheKey", ""),
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
            download_to_workspace=bool(body.get("downloadToWorkspace", False)),
            pointer=at,
        )


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
