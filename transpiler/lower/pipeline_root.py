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
from transpiler.errors import Diagnostic, UsageError
from transpiler.lower.context import Context

# URI scheme -> the Argo artifact field that holds a key-only location of that kind.
SCHEMES = {"s3": "s3", "minio": "s3", "gs": "gcs"}

MSG_SCHEME = (
    "The pipeline root {root!r} has no Argo artifact location: kfp2argo maps s3://, minio:// and "
    "gs:// roots to keys under the root's path in the artifact repository. Use one of those, or "
    "no pipeline root to keep the repository's own keys"
)


def check(ctx: Context) -> None:
    """A located error when the pipeline root's scheme has no mapping."""
    root = ctx.pipeline_root
    if root and _split(root) is None:
        message = MSG_SCHEME.format(root=root)
        if ctx.options.pipeline_root:
            raise UsageError([Diagnostic(message, "", "--pipeline-root")])
        ctx.unsupported(message, "/defaultPipelineRoot")


def output_location(ctx: Context, artifact_name: str) -> dict[str, Any]:
    """Keyword arguments for an output ``m.Artifact``: a key-only location under the root, or
    nothing (the repository's keys) when there is no usable root."""
    split = _split(ctx.pipeline_root) if ctx.pipeline_root else None
    if split is None:
        return {}
    field, prefix = split
    key = "/".join(part for part in (prefix, argo_expr.workflow_name(), argo_expr.pod_name(), artifact_name) if part)
    return {"s3": m.S3Artifact(key=key)} if field == "s3" else {"gcs": m.GCSArtifact(key=key)}


def _split(root: str) -> tuple[str, str] | None:
    """(artifact field, key prefix) of a root such as ``s3://bucket/a/b`` -> ("s3", "a/b")."""
    scheme, sep, rest = root.partition("://")
    if not sep or scheme not in SCHEMES or not rest.split("/", 1)[0]:
        return None
    prefix = rest.split("/", 1)[1] if "/" in rest else ""
    return SCHEMES[scheme], prefix.strip("/")
