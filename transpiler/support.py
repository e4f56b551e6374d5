"""The ``support`` pass: every construct kfp2argo cannot lower is refused here, before lowering.

``validate`` establishes that the input is a well-formed, connected PipelineSpec; ``parse`` maps
it to the typed model and refuses what the model has no place for; this pass refuses what the
model can hold but Argo cannot express faithfully (or what needs an option the caller did not
give), each with its location and a reason a user can act on. ``lower`` then assumes its input
is supported and reports nothing, so ``kfp2argo validate`` (which runs this pass with the same
options) gives exactly ``compile``'s verdict.

The checks walk the pipeline in the order lowering visits it: the root, then the other DAG
components by name (loop, tasks, outputs), then each container task's executor as its template
will be built. A problem found twice (two tasks of one component) is reported once.
"""

from __future__ import annotations

import json
import math
from typing import Any, Iterator

from transpiler import cel, ir, k8s, names, placeholders, wire
from transpiler.analysis import Analysis, accelerator_resource, is_collected, pvc_operation, scheme_family, split_root
from transpiler.errors import Diagnostic, UnsupportedFeature, UsageError, escape_pointer_token
from transpiler.load import Source
from transpiler.options import Options
from transpiler.validate import MSG_CYCLE, find_cycle

MSG_CONSTANT_TYPE = "The constant for input {name!r} does not fit its type {type}: {problem}"
MSG_ROOT_ARTIFACT = (
    "Pipeline input artifact {name!r} needs a location in a {kind}: give it with --input-artifact "
    "{name}=URI (gs://, s3://, minio:// or http(s)://), or compile a workflow-template and set "
    "spec.arguments.artifacts in the Workflow that runs it"
)
MSG_ROOT_ARTIFACT_LIST = "A pipeline input that is a list of artifacts is not supported: Argo's workflow arguments hold single artifacts"
MSG_CONDITION = "Condition {condition!r}, at character {offset}: {message}"
MSG_LOOP_REUSE = "Component {component!r} is the body of a dsl.ParallelFor loop and cannot be used by another task"
MSG_LOOP_CONTAINER = "A dsl.ParallelFor loop must iterate over a DAG component; {component!r} is a container component"
MSG_ITEMS = "The literal loop items are not usable: {problem}"
MSG_NO_ITEMS = "A dsl.ParallelFor loop needs items: a literal list or one of the task's input parameters"
MSG_IMPORTER_TASK = "A dsl.importer task with {what} is not supported: the importer runs no pod of its own"
MSG_IMPORTER_OUTPUT = "An importer's artifact as an output of a pipeline or sub-pipeline is not supported yet. Pass it to a task instead"
MSG_HTTP_PATH = (
    "This container component reads the path of artifact {name!r}, which may be imported from an "
    "http(s) URI: KFP's launcher downloads only gs://, s3:// and minio:// artifacts and leaves this "
    "placeholder unresolved. Read {{{{$.inputs.artifacts['{name}'].uri}}}} and fetch it in the component"
)
MSG_METADATA_PLACEHOLDER = "The importer metadata placeholder {text} is not supported: only {{{{$.inputs.parameters['...']}}}} is"
MSG_EMPTY_DAG = "This DAG holds only dsl.importer tasks, which become no Argo tasks; Argo needs at least one task"
MSG_NESTED_PRODUCER = (
    "A dsl.Collected artifact must be made by a container task of the loop body, directly or in "
    "condition DAGs or sub-pipelines used only there, or be a list itself; here it comes through "
    "{task!r}, which holds an importer, a dsl.OneOf or a sub-pipeline that other tasks use too"
)
MSG_LIST_ONE_OF = "A list of artifacts with several sources (dsl.OneOf) is not supported"
MSG_LIST_SHAPE = "This input is {expected} but receives {actual}"
MSG_PLACEHOLDER = (
    "The placeholder {text} is not supported in a container component. It names no input or output "
    "of the component, or has no Argo equivalent outside a Python component"
)
MSG_INPUT_METADATA = (
    "The placeholder {text} is not supported in a container component: KFP's launcher leaves an "
    "input artifact's metadata unresolved there. Read the metadata in a Python component "
    "(artifact.metadata), or pass the values the command needs as parameters"
)
MSG_LITERAL_TAG = (
    "This argv text contains {{{{ which Argo's templating would read (Argo has no escape syntax). "
    "Remove the braces or pass the text as a pipeline parameter"
)
MSG_BACKOFF_FACTOR = "backoffFactor {factor} is not a whole number; Argo's retryStrategy.backoff.factor is an integer"
MSG_ACCELERATOR = (
    "Accelerator type {kind!r} has no Kubernetes resource name. Use a resource name such as "
    "nvidia.com/gpu or amd.com/gpu, or an NVIDIA_* type"
)
MSG_VERTEX_ONLY = "{text} can only be filled by Vertex AI. Give it a value with --set-placeholder {name}=VALUE"
MSG_UNKNOWN_PLACEHOLDER = "{text} is not a KFP placeholder kfp2argo knows"
MSG_PIPELINE_ROOT = "{text} needs a pipeline root: give one with --pipeline-root URI"
MSG_ROOT_SCHEME = (
    "The pipeline root {root!r} has no Argo artifact location: kfp2argo maps s3://, minio:// and "
    "gs:// roots to keys under the root's path in the artifact repository. Use one of those, or "
    "no pipeline root to keep the repository's own keys"
)
MSG_IMAGE = (
    "The container image {image!r} is not an image reference Kubernetes can pull: it is empty, holds "
    "white space, or holds text Argo's templating would read"
)
MSG_IMAGE_PLACEHOLDER = (
    "The container image {image!r} must be one pipeline value (set_container_image(<parameter or "
    "task output>)) or a constant: KFP's backend replaces the whole image with the value of the first "
    "{{{{$.inputs.parameters[...]}}}} in it, so other text around it would be dropped"
)
MSG_NO_WORKSPACE = (
    "{what} needs the pipeline workspace, and the pipeline has none. Give it one: "
    "@dsl.pipeline(pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size=...)))"
)
MSG_WORKSPACE_SIZE = "The workspace size {size!r} is {problem}"
MSG_WORKSPACE_ACCESS = (
    "The workspace needs access modes: give pvcSpecPatch={'accessModes': ['ReadWriteOnce']} (or "
    "ReadWriteMany where the run's pods may land on different nodes), or defaultWorkspace.accessModes "
    "in kfp2argo.yaml, which stands for the default workspace spec of KFP's API server"
)
MSG_WORKSPACE_CLASS = "The workspace's storageClassName must be left out (the cluster's default) or not empty"
MSG_WORKSPACE_CONFLICT = "This volume {what} conflicts with the pipeline workspace ({workspace}), as on KFP"
MSG_WORKSPACE_IMPORT = (
    "An importer downloads into the workspace only from gs://, s3:// or minio:// URIs (KFP's launcher "
    "has no workspace path for others)"
)
MSG_PVC_ARGV = "A CreatePVC/DeletePVC component ({image}) cannot have a command or args"
SCHEMA_VERSION = "2.1.0"
MSG_SCHEMA_VERSION = (
    "Schema version {version!r}: KFP's backend runs 2.1.0 only (what the KFP SDK 2.x writes), and "
    "so does kfp2argo. Compile the pipeline with kfp 2.x"
)
MSG_LEGACY_FIELD = (
    "{field} is not mapped: no KFP 2.x SDK writes it and kfp2argo does not carry it. Compile the "
    "pipeline with kfp 2.x, or drop the field"
)
MSG_JOB_NAME = (
    "The PipelineJob's name is the resource name of a run on Vertex AI or KFP, which Argo names "
    "itself: leave it out and give the manifest's name with --name if it needs one"
)
MSG_TASK_CONFIG = (
    "dsl.TaskConfig is not supported yet: KFP's driver gives the component its pod's configuration "
    "(resources, env, volumes, scheduling) as JSON and applies a passthrough field to the pod only "
    "with apply_to_task; kfp2argo does neither. Read what the component needs as parameters instead"
)
MSG_CRON_PARAMETER = (
    "A CronWorkflow starts its runs itself, so parameter {name!r} needs a value: give one with "
    "-p {name}=VALUE"
)
MAX_ANNOTATION_BYTES = 200 * 1024  # Kubernetes keeps 256 KiB of annotations; the rest is for kfp2argo's and the user's own
MSG_ANNOTATIONS = (
    "The pipeline's description and display name are {size} bytes; they become annotations, of "
    "which Kubernetes keeps 256 KiB in all (kfp2argo takes at most {limit}). Shorten the description"
)
MSG_QUANTITY = "The {key} resource {value!r} is {problem}"
MSG_PLATFORM_FIELD = "In the platform spec, {what} {value!r} is {problem}"
MSG_SELECTOR = "The node selector {value!r} must map label names to strings"
MSG_JSON_FIELD = "The constant {what} is not a Kubernetes {kind}: {problem}"


def check(source: Source, pipeline: ir.Pipeline, facts: Analysis, options: Options) -> None:
    """Refuse what cannot be lowered with these options.

    Raises:
        UsageError: an option does not fit (a ``--pipeline-root`` without an Argo location).
        UnsupportedFeature: one located diagnostic per construct, in the order lowering meets them.
    """
    checker = _Checker(source, pipeline, facts, options)
    checker.pipeline_root()
    checker.workspace()
    checker.input_artifacts()
    checker.cron_parameters()
    checker.task_configs()
    checker.job()
    checker.unmapped_fields()
    checker.annotations()
    for component in facts.reachable_dags():
        loop = facts.loop_task(component)
        if loop is not None:
            checker.loop(component, loop)
        checker.dag(component)
    for parent, task in sorted(facts.container_tasks(), key=lambda pair: pair[1].component):
        checker.container(parent, task)
    if checker.problems:
        raise UnsupportedFeature(list(checker.problems.values()))


class _Checker:
    def __init__(self, source: Source, pipeline: ir.Pipeline, facts: Analysis, options: Options) -> None:
        self.source = source
        self.pipeline = pipeline
        self.facts = facts
        self.options = options
        self.problems: dict[tuple[int, str, str], Diagnostic] = {}

    def refuse(self, message: str, at: str, document: int = 0) -> None:
        """Record a problem at ``at``, a pointer into the PipelineSpec (document 0) or into the
        platform spec (document 1)."""
        diagnostic = self.source.spec_diagnostic(message, at) if document == 0 else self.source.diagnostic(message, at, document)
        self.problems.setdefault((document, diagnostic.pointer, message), diagnostic)

    # --- the pipeline root ------------------------------------------------------------------------

    def pipeline_root(self) -> None:
        root = self.options.pipeline_root or self.pipeline.default_pipeline_root
        if root and split_root(root) is None:
            message = MSG_ROOT_SCHEME.format(root=root)
            if self.options.pipeline_root:
                raise UsageError([Diagnostic(message, "", "--pipeline-root")])
            if ((self.source.job or {}).get("runtimeConfig") or {}).get("gcsOutputDirectory"):
                self.source_refuse(message, "/runtimeConfig/gcsOutputDirectory")  # a PipelineJob's root
            else:
                self.refuse(message, "/defaultPipelineRoot")

    # --- the pipeline's input artifacts ----------------------------------------------------------

    def unmapped_fields(self) -> None:
        """IR fields the schema takes that no KFP 2.x SDK writes and kfp2argo does not map: each
        is refused where it is, never dropped."""
        spec = self.source.pipeline_spec
        version = spec.get("schemaVersion")
        if version is not None and version != SCHEMA_VERSION:
            self.refuse(MSG_SCHEMA_VERSION.format(version=version), "/schemaVersion")
        for at, value, field in _legacy_fields(spec):
            self.refuse(MSG_LEGACY_FIELD.format(field=field), at)

    def job(self) -> None:
        """A PipelineJob wrapper's name names a Vertex AI resource: nothing Argo has."""
        if (self.source.job or {}).get("name"):
            self.source_refuse(MSG_JOB_NAME, "/name")

    def source_refuse(self, message: str, at: str) -> None:
        """Record a problem at a pointer into the input document itself (not the spec)."""
        diagnostic = self.source.diagnostic(message, at, 0)
        self.problems.setdefault((0, diagnostic.pointer, message), diagnostic)

    def task_configs(self) -> None:
        """``dsl.TaskConfig``: KFP's driver hands the component its pod's final configuration as
        JSON and applies a passthrough field to the pod only with ``apply_to_task``; kfp2argo
        builds neither, so both are refused rather than half done."""
        spec = self.source.pipeline_spec
        places = [(f"/components/{escape_pointer_token(name)}", c) for name, c in sorted(spec.get("components", {}).items())]
        for at, component in [("/root", spec.get("root", {})), *places]:
            if component.get("taskConfigPassthroughs"):
                self.refuse(MSG_TASK_CONFIG, at + "/taskConfigPassthroughs")
            for parameter, definition in sorted(component.get("inputDefinitions", {}).get("parameters", {}).items()):
                if definition.get("parameterType") == "TASK_CONFIG":
                    self.refuse(MSG_TASK_CONFIG, f"{at}/inputDefinitions/parameters/{escape_pointer_token(parameter)}")

    def cron_parameters(self) -> None:
        """A CronWorkflow starts its runs itself: every parameter needs a value."""
        if self.options.kind != "cron-workflow":
            return
        for parameter in self.pipeline.root.inputs.parameters:
            if parameter.default is ir.MISSING and not parameter.optional:
                self.refuse(MSG_CRON_PARAMETER.format(name=parameter.name), parameter.pointer)

    def annotations(self) -> None:
        """The pipeline's description and display name become annotations, which Kubernetes
        keeps to 256 KiB in all."""
        info = self.pipeline
        size = sum(len((text or "").encode("utf-8")) for text in (info.description, info.display_name))
        if size > MAX_ANNOTATION_BYTES:
            self.refuse(MSG_ANNOTATIONS.format(size=size, limit=MAX_ANNOTATION_BYTES), "/pipelineInfo")

    def input_artifacts(self) -> None:
        """A pipeline input artifact is a workflow argument: a Workflow needs its location, a
        template may leave it to the Workflow that runs it."""
        for artifact in self.pipeline.root.inputs.artifacts:
            if artifact.is_list:
                self.refuse(MSG_ROOT_ARTIFACT_LIST, artifact.pointer)
            elif artifact.uri is None and not artifact.optional and self.options.kind in ("workflow", "cron-workflow"):
                self.refuse(MSG_ROOT_ARTIFACT.format(name=artifact.name, kind=self.options.kind), artifact.pointer)

    # --- the workspace ----------------------------------------------------------------------------

    def workspace(self) -> None:
        workspace = self.pipeline.config.workspace if self.pipeline.config else None
        if workspace is None:
            for what, at, document in self.workspace_uses():
                self.refuse(MSG_NO_WORKSPACE.format(what=what), at, document)
            return
        problem = k8s.non_negative_quantity(workspace.size)
        if problem:
            self.refuse(MSG_WORKSPACE_SIZE.format(size=workspace.size, problem=problem), workspace.pointer + "/size", 1)
        spec = workspace.claim_spec(dict(self.options.default_workspace))
        if not spec.get("accessModes"):
            self.refuse(MSG_WORKSPACE_ACCESS, workspace.pointer, 1)
        if spec.get("storageClassName", None) == "":
            self.refuse(MSG_WORKSPACE_CLASS, workspace.pointer, 1)
        for executor in self.pipeline.executors.values():
            for what, path, at in _volumes(executor.kubernetes):
                if what == names.WORKSPACE_VOLUME or path.startswith(placeholders.WORKSPACE_MOUNT_PATH):
                    self.refuse(MSG_WORKSPACE_CONFLICT.format(what=what, workspace=placeholders.WORKSPACE_MOUNT_PATH), at, 1)

    def workspace_uses(self) -> list[tuple[str, str, int]]:
        """(what, pointer, document) of everything that needs the workspace."""
        uses = []
        for component in self.facts.dags:
            for task in component.dag.tasks:  # type: ignore[union-attr]
                for binding in task.parameters:
                    value = binding.source.value if isinstance(binding.source, ir.Constant) else None
                    if isinstance(value, str) and placeholders.WORKSPACE_PLACEHOLDER in value:
                        uses.append((placeholders.WORKSPACE_PLACEHOLDER, binding.pointer, 0))
        for executor in self.pipeline.executors.values():
            texts = list(executor.argv) + [v for _, v in executor.env]
            if any(placeholders.WORKSPACE_PLACEHOLDER in t for t in texts):
                uses.append((placeholders.WORKSPACE_PLACEHOLDER, executor.pointer, 0))
        for importer in self.pipeline.importers.values():
            if importer.download_to_workspace:
                uses.append(("dsl.importer(download_to_workspace=True)", importer.pointer + "/downloadToWorkspace", 0))
        return uses

    # --- loops --------------------------------------------------------------------------------

    def loop(self, component: ir.Component, task: ir.Task) -> None:
        iterator = task.iterator
        assert iterator is not None and component.dag is not None
        if iterator.raw is not None:
            self.literal_items(component, iterator)
        elif not (iterator.input_parameter and component.inputs.parameter(iterator.input_parameter)) \
                and not (iterator.input_artifact and component.inputs.artifact(iterator.input_artifact)):
            self.refuse(MSG_NO_ITEMS, iterator.pointer)
        for out in component.dag.artifact_outputs:
            if not is_collected(component, out.name):
                continue
            if len(out.sources) != 1:
                self.refuse(MSG_LIST_ONE_OF, out.pointer)
                continue
            producer = component.dag.task(out.sources[0].task)
            if self.facts.source_carries_list(component, out.sources[0]):
                continue
            if out.sources[0].name not in self.facts.collected_outputs(component, producer):
                self.refuse(MSG_NESTED_PRODUCER.format(task=producer.name), out.pointer)

    def literal_items(self, component: ir.Component, iterator: ir.Iterator) -> None:
        item_type = component.inputs.parameter_type(iterator.item_input)
        try:
            values = json.loads(iterator.raw or "")
            if not isinstance(values, list):
                raise ValueError("they are not a JSON list")
            for value in values:
                wire.wire_value(value, item_type)
        except (ValueError, RecursionError) as err:
            self.refuse(MSG_ITEMS.format(problem=err), iterator.pointer + "/items/raw")

    # --- DAGs ---------------------------------------------------------------------------------

    def dag(self, component: ir.Component) -> None:
        assert component.dag is not None
        importers = self.facts.importer_tasks(component)
        for task in component.dag.tasks:
            if task.name not in importers:
                self.task(component, task, importers)
        if not [t for t in component.dag.tasks if t.name not in importers]:
            self.refuse(MSG_EMPTY_DAG, component.pointer + "/dag")
        cycle = find_cycle(self.facts.upstream(component))  # with the platform spec's reads
        if cycle:
            self.refuse(MSG_CYCLE.format(cycle=" -> ".join(cycle)), component.dag.task(cycle[0]).pointer)
        self.dag_outputs(component, importers)

    def task(self, parent: ir.Component, task: ir.Task, importers: set[str]) -> None:
        target = self.pipeline.components[task.component]
        loop = self.facts.loop_task(target)
        if task.iterator is not None and target.dag is None:
            self.refuse(MSG_LOOP_CONTAINER.format(component=target.name), task.iterator.pointer)
        elif loop is not None and loop != task:
            self.refuse(MSG_LOOP_REUSE.format(component=target.name), task.pointer)
        self.constants(task, target)
        for binding in task.artifacts:
            self.artifact(parent, task, target, binding, importers)
        if task.condition:
            types = {b.name: target.inputs.parameter_type(b.name) for b in task.parameters}
            try:
                cel.check(task.condition, types)
            except cel.ConditionError as err:
                message = MSG_CONDITION.format(condition=task.condition, offset=err.offset + 1, message=err.message)
                self.refuse(message, task.condition_pointer)

    def constants(self, task: ir.Task, target: ir.Component) -> None:
        for binding in task.parameters:
            if isinstance(binding.source, ir.Constant):
                parameter_type = target.inputs.parameter_type(binding.name)
                try:
                    wire.wire_value(binding.source.value, parameter_type)
                except ValueError as err:
                    self.refuse(MSG_CONSTANT_TYPE.format(name=binding.name, type=parameter_type, problem=err), binding.pointer)

    def artifact(self, parent: ir.Component, task: ir.Task, target: ir.Component, binding: ir.ArtifactBinding,
                 importers: set[str]) -> None:
        source = binding.source
        self.http_path(parent, target, binding)
        if isinstance(source, ir.TaskOutput) and source.task in importers:
            self.importer(parent, parent.dag.task(source.task))  # type: ignore[union-attr]
            return
        definition = target.inputs.artifact(binding.name)
        expected = definition is not None and definition.is_list
        if isinstance(source, ir.ComponentInput):
            declared = parent.inputs.artifact(source.name)
            actual = declared is not None and declared.is_list
        else:
            actual = self.facts.source_carries_list(parent, ir.OutputSource(source.task, source.name))
        if expected or actual:
            if expected != actual:
                shape = {True: "a list of artifacts", False: "one artifact"}
                self.refuse(MSG_LIST_SHAPE.format(expected=shape[expected], actual=shape[actual]), binding.pointer)

    def http_path(self, parent: ir.Component, target: ir.Component, binding: ir.ArtifactBinding) -> None:
        executor = self.facts.executor(target)
        if executor is None or placeholders.is_python_component(executor.argv):
            return
        if placeholders.reads_artifact(executor.argv, binding.name, "path") and \
                any(scheme_family(s) == "http" for s in self.facts.binding_schemes(parent, binding)):
            self.refuse(MSG_HTTP_PATH.format(name=binding.name), binding.pointer)

    def importer(self, parent: ir.Component, producer: ir.Task) -> None:
        """An importer task whose artifact a sibling reads: its URI must have a known scheme
        with an Argo artifact source, and its metadata only placeholders kfp2argo resolves."""
        spec = self.pipeline.importer(producer.component)
        assert spec is not None
        found, problem = self.facts.importer_scheme(parent, producer)
        at = spec.pointer + "/artifactUri"
        for what, present in (("a condition", producer.condition), ("a loop", producer.iterator)):
            if present:
                problem, at = MSG_IMPORTER_TASK.format(what=what), producer.pointer
        if problem or found is None:
            self.refuse(problem or "", at)
            return
        if spec.download_to_workspace and found not in ("gs", "s3", "minio"):
            self.refuse(MSG_WORKSPACE_IMPORT, spec.pointer + "/downloadToWorkspace")
        self.constants(producer, self.pipeline.components[producer.component])
        uri = spec.uri.value if isinstance(spec.uri, ir.Constant) else None
        texts = [uri] if uri is not None and found in ("gs", "s3", "minio") else []
        inputs = {b.name for b in producer.parameters}
        for text in _strings(spec.metadata) + texts:
            for piece in placeholders.split(text):
                if isinstance(piece, str):
                    continue
                if not (isinstance(piece, placeholders.IORef) and (piece.side, piece.kind, piece.attr) == ("inputs", "parameters", "")
                        and piece.name in inputs):
                    self.refuse(MSG_METADATA_PLACEHOLDER.format(text=piece.text), spec.pointer + "/metadata")
                    return

    def dag_outputs(self, component: ir.Component, importers: set[str]) -> None:
        dag = component.dag
        assert dag is not None
        iteration = self.facts.loop_task(component) is not None
        for out in dag.parameter_outputs:
            if any(s.task in importers for s in out.sources):
                self.refuse(MSG_IMPORTER_OUTPUT, out.pointer)
        for out in dag.artifact_outputs:
            if iteration:
                continue
            if any(s.task in importers for s in out.sources):
                self.refuse(MSG_IMPORTER_OUTPUT, out.pointer)
            if self.facts.carries_list(component, out.name) and len(out.sources) != 1:
                self.refuse(MSG_LIST_ONE_OF, out.pointer)

    # --- container templates ------------------------------------------------------------------

    def container(self, parent: ir.Component, task: ir.Task) -> None:
        component = self.pipeline.components[task.component]
        executor = self.facts.executor(component)
        assert executor is not None
        variant = self.facts.variant(parent, task)
        if pvc_operation(executor):
            if executor.argv:
                self.refuse(MSG_PVC_ARGV.format(image=executor.image), executor.pointer)
            self.retry(self.facts.retry(parent, task))
            return
        self.image(component, executor)
        self.accelerator(executor.resources)
        for _, value in executor.env:
            self.literal(value, executor.pointer + "/env")
        if placeholders.is_python_component(executor.argv):
            for ref in placeholders.references(executor.argv):
                if isinstance(ref, placeholders.NamedRef) and ref.name != "$":
                    self.job_placeholder(ref, executor.pointer)
        else:
            is_present = placeholders.present_test(component, variant.present)
            imported = variant.imported_names()
            for key, elements in (("command", executor.command), ("args", executor.args)):
                for index, element in enumerate(elements):
                    at = f"{executor.pointer}/{key}/{index}"
                    for expanded in placeholders.expand((element,), is_present):
                        self.pieces(expanded, component, imported, at)
        self.retry(self.facts.retry(parent, task))
        self.resources(component, executor)
        if executor.kubernetes is not None:
            self.platform(executor.kubernetes)

    def image(self, component: ir.Component, executor: ir.ContainerSpec) -> None:
        at = executor.pointer + "/image"
        if placeholders.image_input(executor.image, component) is not None:
            return
        if placeholders.PLACEHOLDER.search(executor.image):
            self.refuse(MSG_IMAGE_PLACEHOLDER.format(image=executor.image), at)
        elif not executor.image or any(ch.isspace() for ch in executor.image) or not wire.is_argo_inert(executor.image) \
                or "{{" in executor.image:
            self.refuse(MSG_IMAGE.format(image=executor.image), at)

    def pieces(self, pieces: list[placeholders.Piece], component: ir.Component, imported: frozenset[str], at: str) -> None:
        for piece in pieces:
            if isinstance(piece, str):
                self.literal(piece, at)
            elif isinstance(piece, placeholders.NamedRef) and piece.name != "$":
                self.job_placeholder(piece, at)
            elif placeholders.container_reference(piece, component, imported) is None:
                metadata = isinstance(piece, placeholders.IORef) and piece.side == "inputs" and "'].metadata" in piece.text
                self.refuse((MSG_INPUT_METADATA if metadata else MSG_PLACEHOLDER).format(text=piece.text), at)

    def literal(self, text: str, at: str) -> None:
        if not wire.tags_inert(text):
            self.refuse(MSG_LITERAL_TAG, at)

    def job_placeholder(self, ref: placeholders.NamedRef, at: str) -> None:
        if ref.name in dict(self.options.placeholder_values) or ref.name in placeholders.ARGO_BACKED:
            return
        if ref.text == placeholders.WORKSPACE_PLACEHOLDER:
            return  # refused with its location by workspace() where there is no workspace
        if ref.name == placeholders.PIPELINE_ROOT:
            if not (self.options.pipeline_root or self.pipeline.default_pipeline_root):
                self.refuse(MSG_PIPELINE_ROOT.format(text=ref.text), at)
        elif ref.name in placeholders.VERTEX_ONLY:
            self.refuse(MSG_VERTEX_ONLY.format(text=ref.text, name=ref.name), at)
        else:
            self.refuse(MSG_UNKNOWN_PLACEHOLDER.format(text=ref.text), at)

    def accelerator(self, resources: ir.Resources) -> None:
        kind = resources.accelerator_type
        if kind and resources.accelerator_count and accelerator_resource(kind) is None \
                and not placeholders.PLACEHOLDER.search(kind):
            self.refuse(MSG_ACCELERATOR.format(kind=kind), resources.pointer + "/accelerator")

    def retry(self, retry: ir.RetryPolicy | None) -> None:
        if retry is None or retry.max_retry_count <= 0:
            return
        factor = retry.backoff_factor
        if factor is not None and (not math.isfinite(float(factor)) or float(factor) != int(float(factor))):
            self.refuse(MSG_BACKOFF_FACTOR.format(factor=factor), retry.pointer + "/backoffFactor")

    def resources(self, component: ir.Component, executor: ir.ContainerSpec) -> None:
        """Resource fields that hold placeholders become a pod spec patch, resolved like argv;
        constant ones must be Kubernetes quantities."""
        resources = executor.resources
        kind, count = resources.accelerator_type, resources.accelerator_count
        accelerator = ((accelerator_resource(kind) or kind) if kind and count else None, count)
        entries = [("cpu", resources.cpu_limit), ("memory", resources.memory_limit), ("cpu", resources.cpu_request),
                   ("memory", resources.memory_request), accelerator]
        for key, value in entries:
            if key and value and (placeholders.PLACEHOLDER.search(value) or placeholders.PLACEHOLDER.search(key)):
                self.pieces(placeholders.split(key), component, frozenset(), resources.pointer)
                self.pieces(placeholders.split(value), component, frozenset(), resources.pointer)
            elif key and value and k8s.quantity(value):
                self.refuse(MSG_QUANTITY.format(key=key, value=value[:100], problem=k8s.quantity(value)), resources.pointer)

    def platform(self, config: ir.KubernetesConfig) -> None:
        """Constants of the platform spec must be what their Kubernetes fields take, and JSON
        values the Kubernetes objects they stand for."""
        from hera.workflows import models as m  # only pipelines with a platform spec pay for it

        for what, value, problem, at in k8s.config_problems(config):
            self.refuse(MSG_PLATFORM_FIELD.format(what=what, value=value[:100], problem=problem), at, 1)
        json_value = config.node_selector_json
        if json_value is not None and json_value.input is None:
            selector = json_value.source.value  # type: ignore[union-attr]
            if not all(isinstance(v, str) for v in selector.values()):
                self.refuse(MSG_SELECTOR.format(value=selector), json_value.pointer, 1)
        for value in config.toleration_json:
            if value.input is None:
                items = value.source.value if isinstance(value.source.value, list) else [value.source.value]  # type: ignore[union-attr]
                for item in items:
                    self.kubernetes_object(item, value.pointer, m.Toleration, "toleration")
        for value in config.node_affinity_json:
            if value.input is None:
                self.kubernetes_object(value.source.value, value.pointer, m.NodeAffinity, "node affinity")  # type: ignore[union-attr]

    def kubernetes_object(self, value: Any, at: str, model: Any, what: str) -> None:
        try:
            model.model_validate(value)
        except ValueError as err:  # pydantic's ValidationError
            first = err.errors()[0] if hasattr(err, "errors") else {"loc": (), "msg": str(err)}
            where = ".".join(map(str, first["loc"])) or "the value"
            self.refuse(MSG_JSON_FIELD.format(what=what, kind=model.__name__, problem=f"{where}: {first['msg']}"), at, 1)


def _strings(value: Any) -> list[str]:
    """Every string in JSON-like data (keys before their values), in order."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (*_strings(key), *_strings(item))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _volumes(config: ir.KubernetesConfig | None) -> list[tuple[str, str, str]]:
    """(volume name, mount path, pointer) of every volume a platform spec mounts."""
    if config is None:
        return []
    found = [(v.volume_name, v.mount_path, v.pointer) for v in (*config.ephemeral_volumes, *config.empty_dirs)]
    found += [("", m.mount_path, m.pointer) for m in config.pvc_mounts]
    found += [("", v.mount_path, v.pointer) for v in config.object_volumes]
    return found


def _legacy_fields(spec: dict[str, Any]) -> Iterator[tuple[str, Any, str]]:
    """(pointer, value, what) of each legacy or unmapped field in a PipelineSpec."""
    components = [("/root", spec.get("root") or {})]
    components += [(f"/components/{escape_pointer_token(n)}", c) for n, c in sorted((spec.get("components") or {}).items())]
    for at, component in components:
        if "singlePlatformSpecs" in component:
            yield f"{at}/singlePlatformSpecs", component["singlePlatformSpecs"], "singlePlatformSpecs"
        for side in ("inputDefinitions", "outputDefinitions"):
            for kind in ("parameters", "artifacts"):
                for name, definition in sorted(((component.get(side) or {}).get(kind) or {}).items()):
                    where = f"{at}/{side}/{kind}/{escape_pointer_token(name)}"
                    for key in _LEGACY_DEFINITION_KEYS[kind]:
                        if key in definition:
                            yield f"{where}/{key}", definition[key], f"The {kind[:-1]} field {key!r}"
                    artifact_type = definition.get("artifactType") or {}
                    for key in ("instanceSchema", "schemaUri"):
                        if key in artifact_type:
                            yield f"{where}/artifactType/{key}", artifact_type[key], f"The artifact type's {key!r}"
        for task_name, task in sorted(((component.get("dag") or {}).get("tasks") or {}).items()):
            for name, binding in sorted(((task.get("inputs") or {}).get("parameters") or {}).items()):
                if "runtimeParameter" in (binding.get("runtimeValue") or {}):
                    yield (f"{at}/dag/tasks/{escape_pointer_token(task_name)}/inputs/parameters/{escape_pointer_token(name)}"
                           "/runtimeValue/runtimeParameter"), None, "runtimeValue.runtimeParameter"


# type: the pre-2.1 parameter type (parameterType replaced it); literals: allowed values KFP's
# backend checks at run time, which no 2.x SDK writes; metadata and properties of an output
# artifact definition, which KFP ignores.
_LEGACY_DEFINITION_KEYS = {
    "parameters": ("type", "literals"),
    "artifacts": ("metadata", "properties", "customProperties"),
}
