"""The pipeline workspace (``dsl.PipelineConfig(workspace=...)``): one volume per run, shared by
its tasks, at KFP's path ``/kfp-workspace``.

KFP's compiler asks Argo for the claim (``volumeClaimTemplates``, named ``kfp-workspace``, so
Argo creates ``<workflow name>-kfp-workspace`` and deletes it with the run, per ``volumeClaimGC``)
with the workspace's size and the access modes and storage class of its ``pvcSpecPatch`` over
the API server's default workspace spec; here that default is the config file's
``defaultWorkspace`` (``options.default_workspace``). KFP's driver mounts the claim in the pods
that use the workspace, which it decides at run time (an input value that mentions it); here
every container of the run mounts it (``spec.templateDefaults``), so with ``ReadWriteOnce`` all
pods of the run land on the node that holds the volume (README).
"""

from __future__ import annotations

from typing import Any

from hera.workflows import models as m

from transpiler import ir, names
from transpiler.lower import io
from transpiler.options import Options


def claim(pipeline: ir.Pipeline, options: Options) -> dict[str, Any]:
    """``spec.volumeClaimTemplates`` for a pipeline with a workspace."""
    workspace = pipeline.config.workspace if pipeline.config else None
    if workspace is None:
        return {}
    template = {"metadata": {"name": names.WORKSPACE_VOLUME}, "spec": workspace.claim_spec(dict(options.default_workspace))}
    return {"volumeClaimTemplates": [m.PersistentVolumeClaim.model_validate(template)]}


def mount(pipeline: ir.Pipeline) -> m.VolumeMount | None:
    """The mount every container gets when the pipeline has a workspace."""
    return io.workspace_mount() if pipeline.config and pipeline.config.workspace else None
