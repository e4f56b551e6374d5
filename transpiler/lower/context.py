"""State shared by the lowering modules: the pipeline, its facts and plan, and the options.

Lowering assumes a pipeline that ``support`` accepted with the same options: nothing here
reports a problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transpiler import argo_expr, expr, ir, names, placeholders, wire
from transpiler.analysis import Analysis
from transpiler.load import Source
from transpiler.lower import io
from transpiler.options import Options
from transpiler.plan import Plan

# Job and task placeholders with an Argo variable of the same meaning.
_ARGO_VARIABLES = {
    "pipeline_job_name": argo_expr.workflow_name,
    "pipeline_job_resource_name": argo_expr.workflow_name,
    "pipeline_job_uuid": argo_expr.workflow_uid,
    "pipeline_job_create_time_utc": argo_expr.workflow_creation_timestamp,
    "pipeline_task_uuid": argo_expr.pod_name,
    "pipeline_task_name": lambda: argo_expr.pod_input_parameter(names.TASK_NAME_PARAMETER),
}
# The same placeholders as task arguments (a DAG task has no pod yet): Argo's global variables.
_CONSTANT_VARIABLES = {
    "pipeline_job_name": "workflow.name",
    "pipeline_job_resource_name": "workflow.name",
    "pipeline_job_uuid": "workflow.uid",
    "pipeline_job_create_time_utc": "workflow.creationTimestamp.RFC3339",
    "pipeline_job_schedule_time_utc": "workflow.creationTimestamp.RFC3339",
}


@dataclass
class Context:
    source: Source
    pipeline: ir.Pipeline
    facts: Analysis
    plan: Plan
    options: Options = field(default_factory=Options)

    @property
    def pipeline_root(self) -> str:
        """``--pipeline-root`` / ``pipelineRoot``, else the IR's ``defaultPipelineRoot``."""
        return self.options.pipeline_root or self.pipeline.default_pipeline_root

    def job_placeholder(self, ref: placeholders.NamedRef) -> str:
        """Argo text for a job or task placeholder such as ``{{$.pipeline_job_name}}``, for a
        container's command, args or env. A value the user gave has its ``$`` doubled, as input
        parameters do (``argo_expr.pod_input_parameter``), so Kubernetes' expansion leaves it as is."""
        given = dict(self.options.placeholder_values)
        if ref.name in given:
            return given[ref.name].replace("$", "$$")
        if ref.name == "pipeline_root":
            return self.pipeline_root.replace("$", "$$")
        if ref.name == "workspace_path":
            return io.WORKSPACE_PATH
        if ref.name == "pipeline_job_schedule_time_utc":
            return self.schedule_time()
        return _ARGO_VARIABLES[ref.name]()

    def schedule_time(self) -> str:
        """``{{$.pipeline_job_schedule_time_utc}}``: when a CronWorkflow started the run, the time
        it was scheduled for; else the run's creation time, as KFP's driver falls back to for
        runs nobody scheduled."""
        if self.options.kind == "cron-workflow":
            return argo_expr.workflow_scheduled_time()
        return argo_expr.workflow_creation_timestamp()

    def constant_placeholder(self, ref: placeholders.NamedRef, task: ir.Task, argo_task: str) -> tuple[str, str]:
        """(argument text, expression of it) a task passes for a constant that is a job or task
        placeholder KFP's driver resolves (``placeholders.IN_CONSTANTS``): the Argo variable of
        the same meaning (a name, uid or time, all Argo-inert, so their wire text is the value),
        the task's display name, or for the task's id a digest of the node the task runs as."""
        if ref.name == "pipeline_task_name":
            text = wire.wire_value(task.display_name, "STRING")
            return text, expr.string(text)
        if ref.name == "pipeline_task_uuid":
            digest = expr.node_digest(argo_expr.node_name_var(), argo_task)
            return argo_expr.expression(digest), digest
        variable = _CONSTANT_VARIABLES[ref.name]
        if ref.name == "pipeline_job_schedule_time_utc" and self.options.kind == "cron-workflow":
            variable = "workflow.scheduledTime"
        return argo_expr.variable(variable), variable
