"""What a caller can set beyond the IR: the CLI's flags and the config file, as one value.

``config.to_options`` builds it from a config file and flags; every pass that depends on an
option (the support checks, partitioning, lowering) reads it from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transpiler.errors import Diagnostic, UsageError

DEFAULT_CACHE_CONFIG_MAP = "kfp2argo-cache"

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


def check(options: Options) -> None:
    """Refuse options that do not fit together (e.g. a CronWorkflow without a schedule).

    Raises:
        UsageError: one diagnostic per problem, located at the flag.
    """
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
