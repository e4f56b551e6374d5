"""The pipeline root (``--pipeline-root``, else the IR's ``defaultPipelineRoot``) as the place
output artifacts go.

Argo writes an output artifact where its location says; a location that gives only a key (a
*key-only artifact*) takes everything else, bucket and credentials included, from the workflow's
artifact repository (``ArtifactLocation.Relocate`` in Argo's source). So a root
``s3://bucket/ml/runs`` puts each output artifact at
``ml/runs/{{workflow.name}}/{{pod.name}}/<artifact>`` in the repository's bucket, which must be
``bucket`` (the README says so); without a root, Argo's repository key format applies. The root
also fills the ``{{$.pipeline_root}}`` placeholder (``Context.job_placeholder``).
"""

from __future__ import annotations

from typing import Any

from hera.workflows import models as m

from transpiler import argo_expr
from transpiler.analysis import split_root
from transpiler.lower.context import Context


def output_location(ctx: Context, artifact_name: str) -> dict[str, Any]:
    """Keyword arguments for an output ``m.Artifact``: a key-only location under the root, or
    nothing (the repository's keys) when there is no usable root."""
    split = split_root(ctx.pipeline_root) if ctx.pipeline_root else None
    if split is None:
        return {}
    field, prefix = split
    key = "/".join(part for part in (prefix, argo_expr.workflow_name(), argo_expr.pod_name(), artifact_name) if part)
    return {"s3": m.S3Artifact(key=key)} if field == "s3" else {"gcs": m.GCSArtifact(key=key)}
