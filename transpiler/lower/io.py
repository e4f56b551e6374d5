"""Where parameters and artifacts live inside a pod, and the Argo I/O declarations for them.

The layout is the one ``docs/runtime-contract.md`` documents; the launcher reads the same paths
from the spec it is given, so nothing here is duplicated in ``transpiler/runtime/launcher.py``.
"""

from __future__ import annotations

from typing import Any

from hera.workflows import models as m

from transpiler import ir, names, placeholders

ROOT = "/kfp2argo"
WORKSPACE_PATH = placeholders.WORKSPACE_MOUNT_PATH  # the pipeline workspace (dsl.WORKSPACE_PATH_PLACEHOLDER)
OUTPUTS_ROOT = f"{ROOT}/outputs"
EXECUTOR_OUTPUT_FILE = f"{OUTPUTS_ROOT}/executor_output.json"
EMPTY_METADATA = "{}"


def input_artifact_path(name: str) -> str:
    return f"{ROOT}/inputs/artifacts/{names.parameter_name(name)}"


# Output files sit directly in the outputs emptyDir (no subfolders): a container component writes
# to them with its own command, and nothing in its image creates a missing parent folder. The
# "." cannot occur in an Argo name, so the three kinds never collide.
def output_artifact_path(name: str) -> str:
    return f"{OUTPUTS_ROOT}/artifact.{names.parameter_name(name)}"


def output_parameter_path(name: str) -> str:
    return f"{OUTPUTS_ROOT}/parameter.{names.parameter_name(name)}"


def metadata_path(name: str) -> str:
    return f"{OUTPUTS_ROOT}/metadata.{names.parameter_name(name)}"


def output_artifact(artifact: ir.ArtifactDef, location: dict[str, Any] | None = None) -> m.Artifact:
    """An output artifact; ``location``: a key-only location (``lower.pipeline_root``), if any.

    Optional, as KFP's launcher allows a component not to write an output artifact (a Metrics
    artifact that only logs metadata, for one); a consumer of a missing one fails instead."""
    return m.Artifact(
        name=names.parameter_name(artifact.name),
        path=output_artifact_path(artifact.name),
        archive=m.ArchiveStrategy(none=m.NoneStrategy()),
        optional=True,
        **(location or {}),
    )


def input_artifact(artifact: ir.ArtifactDef) -> m.Artifact:
    """An input artifact, optional: its producer may have left it unwritten, a loop may have
    made no element of a list (``lower.artifacts``)."""
    return m.Artifact(
        name=names.parameter_name(artifact.name),
        path=input_artifact_path(artifact.name),
        optional=True,
    )


def outputs_volume() -> m.Volume:
    return m.Volume(name=names.OUTPUTS_VOLUME, empty_dir=m.EmptyDirVolumeSource())


def workspace_mount() -> m.VolumeMount:
    return m.VolumeMount(name=names.WORKSPACE_VOLUME, mount_path=WORKSPACE_PATH)


def outputs_mount() -> m.VolumeMount:
    return m.VolumeMount(name=names.OUTPUTS_VOLUME, mount_path=OUTPUTS_ROOT)
