"""The manifest around a workflow spec: Workflow, WorkflowTemplate, ClusterWorkflowTemplate or
CronWorkflow (``--kind``), with its metadata.

A Workflow gets ``generateName`` (every submission is a new run). The other kinds are objects a
repository keeps applying, so they get a stable ``metadata.name``: ``--name``, else the pipeline
name as a DNS label (at most 52 characters for a CronWorkflow, Argo's limit, since the workflows
it starts append a suffix). A CronWorkflow takes its schedules from ``--schedule`` (Argo 3.6+'s
``schedules`` list) and passes the labels and annotations on to the workflows it starts.
"""

from __future__ import annotations

from typing import Any

from hera.workflows import models as m

from transpiler import ir, names
from transpiler.options import KIND_NAMES, Options

API_VERSION = "argoproj.io/v1alpha1"
MAX_CRON_WORKFLOW_NAME = 52


def manifest(pipeline: ir.Pipeline, options: Options, spec: m.WorkflowSpec) -> Any:
    """The hera model of the manifest of ``options.kind`` that runs ``spec``.

    The options were checked (``options.problems``).
    """
    kind = KIND_NAMES[options.kind]
    annotations = {**_pipeline_annotations(pipeline), **dict(options.annotations)}
    labels = {**dict(pipeline.labels), **dict(options.labels)} or None
    if kind == "Workflow":
        name = options.name
        generate_name = None if name else (options.generate_name or names.generate_name(pipeline.name or "pipeline"))
        metadata = m.ObjectMeta(name=name, generate_name=generate_name, namespace=options.namespace, labels=labels, annotations=annotations)
        return m.Workflow(api_version=API_VERSION, kind=kind, metadata=metadata, spec=spec)
    limit = MAX_CRON_WORKFLOW_NAME if kind == "CronWorkflow" else names.MAX_DNS_LABEL
    name = options.name or names.dns_label(pipeline.name or "pipeline", limit)
    namespace = None if kind == "ClusterWorkflowTemplate" else options.namespace
    metadata = m.ObjectMeta(name=name, namespace=namespace, labels=labels, annotations=annotations)
    if kind == "WorkflowTemplate":
        return m.WorkflowTemplate(api_version=API_VERSION, kind=kind, metadata=metadata, spec=spec)
    if kind == "ClusterWorkflowTemplate":
        return m.ClusterWorkflowTemplate(api_version=API_VERSION, kind=kind, metadata=metadata, spec=spec)
    cron = m.CronWorkflowSpec(
        schedules=list(options.schedules),
        timezone=options.timezone,
        concurrency_policy=options.concurrency_policy,
        workflow_metadata=m.ObjectMeta(labels=labels, annotations=annotations),
        workflow_spec=spec,
    )
    return m.CronWorkflow(api_version=API_VERSION, kind=kind, metadata=metadata, spec=cron)


def _pipeline_annotations(pipeline: ir.Pipeline) -> dict[str, str]:
    """kfp2argo's mark on what it generated (batch mode finds orphaned manifests by it); the
    readable annotations (title, description) come from the skeleton (``transpiler.skeleton``)."""
    return {names.OWNER_ANNOTATION: pipeline.name}
