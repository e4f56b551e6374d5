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
from transpiler.errors import Diagnostic, UsageError
from transpiler.lower.context import Options

API_VERSION = "argoproj.io/v1alpha1"
MAX_CRON_WORKFLOW_NAME = 52

KIND_NAMES = {
    "workflow": "Workflow",
    "workflow-template": "WorkflowTemplate",
    "cluster-workflow-template": "ClusterWorkflowTemplate",
    "cron-workflow": "CronWorkflow",
}

MSG_NO_SCHEDULE = "A CronWorkflow needs at least one schedule: give --schedule '0 * * * *' (repeatable) or `schedules` in the config"
MSG_CRON_ONLY = "{what} only applies to --kind cron-workflow"
MSG_CLUSTER_NAMESPACE = "A ClusterWorkflowTemplate is cluster-scoped and has no namespace; drop --namespace / `namespace` for this kind"
MSG_GENERATE_NAME = "--generate-name only applies to --kind workflow; a {kind} has a fixed name (--name)"


def manifest(pipeline: ir.Pipeline, options: Options, spec: m.WorkflowSpec) -> Any:
    """The hera model of the manifest of ``options.kind`` that runs ``spec``.

    Raises:
        UsageError: options that do not fit the kind (e.g. a CronWorkflow without a schedule).
    """
    _check(options)
    kind = KIND_NAMES[options.kind]
    annotations = {**_pipeline_annotations(pipeline), **dict(options.annotations)}
    labels = dict(options.labels) or None
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


def _check(options: Options) -> None:
    problems = []
    if options.kind == "cron-workflow":
        if not options.schedules:
            problems.append(Diagnostic(MSG_NO_SCHEDULE, "", "--schedule"))
    else:
        for given, what in ((options.schedules, "--schedule"), (options.timezone, "--timezone"), (options.concurrency_policy, "--concurrency-policy")):
            if given:
                problems.append(Diagnostic(MSG_CRON_ONLY.format(what=what), "", what))
    if options.kind == "cluster-workflow-template" and options.namespace:
        problems.append(Diagnostic(MSG_CLUSTER_NAMESPACE, "", "--namespace"))
    if options.kind != "workflow" and options.generate_name:
        problems.append(Diagnostic(MSG_GENERATE_NAME.format(kind=KIND_NAMES[options.kind]), "", "--generate-name"))
    if problems:
        raise UsageError(problems)


def _pipeline_annotations(pipeline: ir.Pipeline) -> dict[str, str]:
    """kfp2argo's mark on what it generated (batch mode finds orphaned manifests by it); the
    readable annotations (title, description) come from the skeleton (``transpiler.skeleton``)."""
    return {names.OWNER_ANNOTATION: pipeline.name}
