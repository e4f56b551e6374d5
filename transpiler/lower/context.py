"""State shared by the lowering modules: the pipeline, the options, and collected diagnostics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from transpiler import argo_expr, ir, placeholders
from transpiler.errors import Diagnostic
from transpiler.load import Source

TASK_NAME_PARAMETER = "kfp2argo-task-name"
DEFAULT_CACHE_CONFIG_MAP = "kfp2argo-cache"

MSG_VERTEX_ONLY = (
    "{text} can only be filled by Vertex AI. Give it a value with --set-placeholder {name}=VALUE"
)
MSG_UNKNOWN_PLACEHOLDER = "{text} is not a KFP placeholder kfp2argo knows"
MSG_PIPELINE_ROOT = "{text} needs a pipeline root: give one with --pipeline-root URI"

# Job and task placeholders with an Argo variable of the same meaning.
_ARGO_VARIABLES = {
    "pipeline_job_name": argo_expr.workflow_name,
    "pipeline_job_resource_name": argo_expr.workflow_name,
    "pipeline_job_uuid": argo_expr.workflow_uid,
    "pipeline_job_create_time_utc": argo_expr.workflow_creation_timestamp,
    "pipeline_task_uuid": argo_expr.pod_name,
    "pipeline_task_name": lambda: argo_expr.pod_input_parameter(TASK_NAME_PARAMETER),
}
_VERTEX_ONLY = (
    "pipeline_google_cloud_project_id",
    "pipeline_google_cloud_location",
    "pipeline_persistent_resource_id",
    "pipeline_service_account",
)


@dataclass(frozen=True)
class Options:
    """What the caller can set beyond the IR (the CLI's flags and the config file)."""

    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    service_account: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()
    placeholder_values: tuple[tuple[str, str], ...] = ()
    pipeline_root: str | None = None
    kind: str = "workflow"
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    # WorkflowSpec fields by Argo's JSON name (podGC, ttlStrategy, parallelism, ...), already checked.
    workflow_fields: tuple[tuple[str, Any], ...] = ()
    cache: bool = False
    cache_config_map: str = DEFAULT_CACHE_CONFIG_MAP
    cache_max_age: str | None = None
    schedules: tuple[str, ...] = ()
    timezone: str | None = None
    concurrency_policy: str | None = None
    skeleton: str | None = None  # path of the manifest skeleton; None: templates/skeleton.yaml.j2


@dataclass
class Context:
    source: Source
    pipeline: ir.Pipeline
    options: Options = field(default_factory=Options)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def pipeline_root(self) -> str:
        """``--pipeline-root`` / ``pipelineRoot``, else the IR's ``defaultPipelineRoot``."""
        return self.options.pipeline_root or self.pipeline.default_pipeline_root

    def unsupported(self, message: str, at: str) -> None:
        self.diagnostics.append(self.source.spec_diagnostic(message, at))

    def job_placeholder(self, ref: placeholders.NamedRef, at: str) -> str:
        """Argo text for a job or task placeholder such as ``{{$.pipeline_job_name}}``, for a
        container's command, args or env. A value the user gave has its ``$`` doubled, as input
        parameters do (``argo_expr.pod_input_parameter``), so Kubernetes' expansion leaves it as is."""
        given = dict(self.options.placeholder_values)
        if ref.name in given:
            return given[ref.name].replace("$", "$$")
        if ref.name in _ARGO_VARIABLES:
            return _ARGO_VARIABLES[ref.name]()
        if ref.name == "pipeline_root":
            if self.pipeline_root:
                return self.pipeline_root.replace("$", "$$")
            self.unsupported(MSG_PIPELINE_ROOT.format(text=ref.text), at)
        elif ref.name in _VERTEX_ONLY:
            self.unsupported(MSG_VERTEX_ONLY.format(text=ref.text, name=ref.name), at)
        else:
            self.unsupported(MSG_UNKNOWN_PLACEHOLDER.format(text=ref.text), at)
        return ref.text
