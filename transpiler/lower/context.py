"""State shared by the lowering modules: the pipeline, its facts and plan, and the options.

Lowering assumes a pipeline that ``support`` accepted with the same options: nothing here
reports a problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transpiler import argo_expr, ir, names, placeholders
from transpiler.analysis import Analysis
from transpiler.load import Source
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
assert set(_ARGO_VARIABLES) == set(placeholders.ARGO_BACKED)


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
        return _ARGO_VARIABLES[ref.name]()
