"""What a caller can set beyond the IR: the CLI's flags and the config file, as one value.

``config.to_options`` builds it from a config file and flags; every pass that depends on an
option (the support checks, partitioning, lowering) reads it from here.
"""

from __future__ import annotations

import re
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
MSG_CRON_SECONDS = (
    "The schedule {schedule!r} has 6 fields: KFP's cron starts with seconds, Argo's has 5 "
    "(minute hour day-of-month month day-of-week). Drop the seconds field: {fixed!r}"
)
MSG_CRON = (
    "The schedule {schedule!r} is not a cron expression Argo reads: 5 fields (minute hour "
    "day-of-month month day-of-week), or @hourly, @daily, @weekly, @monthly, @yearly, @every <duration>"
)
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
    importer_scheme: str | None = None  # the scheme of importer URIs known only at run time
    argo_version: str = "4.0"  # the Argo the manifest is for (transpiler.argo_versions)
    input_artifacts: tuple[tuple[str, str], ...] = ()  # pipeline input artifact -> its URI
    # The workspace claim's defaults (KFP's API server has them in its config): accessModes, storageClassName.
    default_workspace: tuple[tuple[str, Any], ...] = ()
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


_CRON_FIELD = re.compile(r"[0-9A-Za-z*?/,#-]+")
_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_EVERY = re.compile(r"@every ([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+")


def cron_problem(schedule: str) -> str | None:
    """Why Argo's cron parser (robfig/cron's standard one: 5 fields or a descriptor) would
    refuse ``schedule``, or None."""
    text = schedule.strip()
    if text in _DESCRIPTORS or _EVERY.fullmatch(text):
        return None
    fields = text.split()
    if len(fields) == 6 and all(_CRON_FIELD.fullmatch(f) for f in fields):
        return MSG_CRON_SECONDS.format(schedule=schedule, fixed=" ".join(fields[1:]))
    if len(fields) == 5 and all(_CRON_FIELD.fullmatch(f) for f in fields):
        return None
    return MSG_CRON.format(schedule=schedule)


def check(options: Options) -> None:
    """Refuse options that do not fit together (e.g. a CronWorkflow without a schedule).

    Raises:
        UsageError: one diagnostic per problem, located at the flag.
    """
    problems = []
    if options.kind == "cron-workflow":
        if not options.schedules:
            problems.append(Diagnostic(MSG_NO_SCHEDULE, "", "--schedule"))
        problems += [Diagnostic(p, "", "--schedule") for p in map(cron_problem, options.schedules) if p]
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
