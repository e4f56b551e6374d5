"""``CreatePVC`` and ``DeletePVC`` (kfp-kubernetes components whose image is ``argostub/...``) as
Argo ``resource`` templates.

Create returns once the API server holds the claim (a claim of a WaitForFirstConsumer storage
class is bound only when a pod uses it) and outputs its name. Delete fails when the claim does
not exist, as KFP's DeletePVC does (``kubectl delete`` would ignore it), and returns once the
claim is marked for deletion, as KFP's driver does: ``kubectl delete`` would wait until it is
gone, which the ``kubernetes.io/pvc-protection`` finalizer holds off while any pod object that
mounted it exists, and Argo keeps the run's completed pods. The manifest's run-time
parts are expression tags rendering JSON (which is YAML); a null field is one Kubernetes leaves
unset. What the workflow's service account needs (``create``, ``get``, ``delete`` on
``persistentvolumeclaims``) is in the README.
"""

from __future__ import annotations

from typing import Any

from hera.workflows import models as m

from transpiler import argo_expr, expr, ir, names
from transpiler.analysis import parameter_default, pvc_operation

DELETE_FLAGS = ["--ignore-not-found=false", "--wait=false"]


def pvc_template(component: ir.Component, executor: ir.ContainerSpec, name: str) -> m.Template:
    """The resource template that creates or deletes the claim."""
    inputs = [m.Parameter(name=names.parameter_name(p.name), default=parameter_default(p)) for p in component.inputs.parameters]
    template = m.Template(name=name, inputs=m.Inputs(parameters=inputs) if inputs else None)
    if pvc_operation(executor) == "create":
        template.resource = m.ResourceTemplate(action="create", manifest=_create_manifest(component))
        outputs = [
            m.Parameter(name=names.parameter_name(p.name), value_from=m.ValueFrom(json_path="{.metadata.name}"))
            for p in component.outputs.parameters
        ]
        template.outputs = m.Outputs(parameters=outputs) if outputs else None
    else:
        name_value = expr.required_name(_input(component, "pvc_name", "STRING"), "no PVC name")
        manifest = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": expr.Raw(name_value)}}
        template.resource = m.ResourceTemplate(action="delete", manifest=_manifest_text(manifest), flags=DELETE_FLAGS)
    return template


def _input(component: ir.Component, name: str, parameter_type: str) -> str:
    """A CreatePVC/DeletePVC input as the manifest uses it (``expr.optional_input``); nil when
    the component does not declare it."""
    if component.inputs.parameter(name) is None:
        return "nil"
    return expr.optional_input(argo_expr.input_parameter_var(names.parameter_name(name)), parameter_type)


def _create_manifest(component: ir.Component) -> str:
    """The claim: ``pvc_name``, or ``{{workflow.name}}`` + ``pvc_name_suffix``, or a name that
    Kubernetes generates (KFP's backend uses a UUID); the storage class left unset when absent
    (the cluster's default, as the SDK documents ``None``)."""
    name, generate_name = expr.pvc_name(
        _input(component, "pvc_name", "STRING"), _input(component, "pvc_name_suffix", "STRING"), argo_expr.workflow_name_var()
    )
    manifest = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": expr.Raw(name),
            "generateName": expr.Raw(generate_name),
            "annotations": expr.Raw(_input(component, "annotations", "STRUCT")),
        },
        "spec": {
            "accessModes": expr.Raw(_input(component, "access_modes", "LIST")),
            "resources": {"requests": {"storage": expr.Raw(_input(component, "size", "STRING"))}},
            "storageClassName": expr.Raw(_input(component, "storage_class_name", "STRING")),
            "volumeName": expr.Raw(_input(component, "volume_name", "STRING")),
            "dataSource": expr.Raw(_input(component, "data_source", "STRUCT")),
        },
    }
    return _manifest_text(manifest)


def _manifest_text(manifest: dict[str, Any]) -> str:
    """A resource manifest: YAML whose run-time parts are expression tags rendering JSON."""
    lines = []

    def write(value: dict[str, Any], indent: str) -> None:
        for key, item in value.items():
            if isinstance(item, expr.Raw):
                lines.append(f"{indent}{key}: {argo_expr.expression(expr.to_json(item))}")
            elif isinstance(item, dict):
                lines.append(f"{indent}{key}:")
                write(item, indent + "  ")
            else:
                lines.append(f"{indent}{key}: {item}")

    write(manifest, "")
    return "\n".join(lines) + "\n"
