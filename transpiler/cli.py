"""The ``kfp2argo`` command line: a thin typer layer over :func:`transpiler.transpile`.

Exit codes: 0 success; 1 the input was rejected (every problem printed to stderr, one per line,
``file:line:column: /json/pointer: message``), or ``argo lint`` found a problem; 2 a usage or
environment error (bad flags, unreadable file, unknown ``-p`` name, no ``argo`` CLI to lint with,
``argo lint`` timed out). Nothing is written to ``-o`` unless compilation (and, with ``--lint``,
the lint) succeeded; the file is replaced atomically.

``lint`` and ``compile --lint`` run the real Argo CLI, ``argo lint --offline --output simple``
(strict mode is its default); they never fall back to anything else, so without ``argo`` they
check nothing and exit 2. The project's own harness (tools/argo-harness) is for tests and CI.
"""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
import tempfile
from enum import Enum
from pathlib import Path
from typing import Any, List, NoReturn, Optional

import typer

from transpiler.version import __version__

EXIT_INVALID = 1
EXIT_USAGE = 2

ARGO_ENV = "KFP2ARGO_ARGO"
ARGO_LINT_TIMEOUT_S = 300.0
# `argo lint` silently skips files with other extensions (case-sensitive), except under /dev/.
ARGO_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
ARGO_INSTALL_HINT = (
    "install it from https://github.com/argoproj/argo-workflows/releases (or `brew install argo`), "
    f"or point --argo / {ARGO_ENV} at it"
)

app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Transpile Kubeflow Pipelines IR (the YAML `kfp.compiler.Compiler().compile` writes) "
    "into a native Argo Workflow that runs on a plain Argo install.",
)


class OutputFormat(str, Enum):
    yaml = "yaml"
    json = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kfp2argo {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """kfp2argo: KFP pipeline IR in, Argo Workflow out."""


def _split_pairs(values: List[str], flag: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name:
            _usage(f"{flag} expects NAME=VALUE, got {value!r}")
        pairs.append((name, text))
    return tuple(pairs)


def _usage(message: str) -> NoReturn:
    typer.echo(f"kfp2argo: error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def _read(input_path: str, function: Optional[str] = None) -> tuple[bytes, str]:
    """The IR: the file's bytes, or what kfp compiles from a ``.py`` file's pipeline."""
    if input_path.endswith(".py"):
        from transpiler import python_source

        return python_source.ir_text(Path(input_path), function), input_path
    if function is not None:
        _usage("--function applies to a .py input")
    if input_path == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    try:
        return Path(input_path).read_bytes(), input_path
    except OSError as err:
        _usage(f"cannot read {input_path}: {err.strerror or err}")
        raise  # unreachable


def _write(output: str, text: str) -> None:
    if output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from transpiler.batch import write_atomic

    try:
        write_atomic(Path(output), text)
    except OSError as err:
        _usage(f"cannot write {output}: {err.strerror or err}")


def _report(error: Exception) -> None:
    from transpiler.errors import UsageError

    typer.echo(str(error), err=True)
    raise typer.Exit(EXIT_USAGE if isinstance(error, UsageError) else EXIT_INVALID)


def _find_argo(argo: Optional[str]) -> str:
    """Absolute path of the Argo CLI: --argo / $KFP2ARGO_ARGO (a path or a name on PATH), else `argo`."""
    found = shutil.which(argo or "argo")
    if found is None:
        if argo:
            _usage(f"--argo / {ARGO_ENV}: {argo} is not an executable file or a command on PATH; nothing was checked")
        _usage(f"the argo CLI is not installed (no `argo` on PATH), so nothing was checked; {ARGO_INSTALL_HINT}")
    return os.path.abspath(found)


def _argo_lint(argo: str, files: List[str], timeout: float, *, stdout: Optional[int] = None, cwd: Optional[str] = None) -> int:
    """Run `argo lint --offline --output simple -- FILES`, its output passing straight through.

    Returns our exit code: 0 when argo found nothing, EXIT_INVALID otherwise.
    """
    argv = [argo, "lint", "--offline", "--output", "simple", "--", *files]
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        status = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=stdout, cwd=cwd, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        _usage(f"argo lint did not finish within {timeout:g} s and was stopped; nothing was checked")
    except OSError as err:
        _usage(f"cannot run {argo}: {err.strerror or err}; nothing was checked")
    if status == 0:
        return 0
    if status != 1:
        typer.echo(f"kfp2argo: error: argo lint exited with status {status}", err=True)
    return EXIT_INVALID


def _lint_compiled(argo: str, text: str, output: str, output_format: OutputFormat) -> None:
    """Lint a compiled manifest before it is written; exit 1 (writing nothing) when argo rejects it.

    argo runs in a temporary directory on a file named like the output, so its messages name
    e.g. `workflow.yaml` rather than a temporary path; its report goes to stderr because stdout
    may carry the manifest.
    """
    name = Path(output).name if output != "-" else ""
    if not name.endswith(ARGO_MANIFEST_SUFFIXES):
        name = f"workflow.{output_format.value}"
    with tempfile.TemporaryDirectory(prefix="kfp2argo-lint-") as directory:
        Path(directory, name).write_text(text, encoding="utf-8")
        status = _argo_lint(argo, [name], ARGO_LINT_TIMEOUT_S, stdout=2, cwd=directory)
    if status != 0:
        where = "stdout" if output == "-" else output
        typer.echo(f"kfp2argo: error: argo lint rejected the compiled manifest; nothing was written to {where}", err=True)
        raise typer.Exit(status)


class Kind(str, Enum):
    workflow = "workflow"
    workflow_template = "workflow-template"
    cluster_workflow_template = "cluster-workflow-template"
    cron_workflow = "cron-workflow"


# Flag name of each config key, for messages about flag values.
_FLAG_OF_KEY = {
    "kind": "--kind",
    "namespace": "--namespace",
    "serviceAccountName": "--service-account",
    "labels": "--label",
    "annotations": "--annotation",
    "artifactRepositoryRef": "--artifact-repository-ref",
    "imagePullSecrets": "--image-pull-secret",
    "podGC": "--pod-gc",
    "ttlStrategy": "--ttl",
    "parallelism": "--parallelism",
    "activeDeadlineSeconds": "--active-deadline-seconds",
    "pipelineRoot": "--pipeline-root",
    "importerScheme": "--importer-scheme",
    "argoVersion": "--argo-version",
    "placeholders": "--set-placeholder",
    "cache": "--cache",
    "cacheConfigMap": "--cache-config-map",
    "cacheMaxAge": "--cache-max-age",
    "schedules": "--schedule",
    "timezone": "--timezone",
    "concurrencyPolicy": "--concurrency-policy",
}


def _artifact_repository_ref(text: Optional[str]) -> Optional[dict]:
    if text is None:
        return None
    config_map, _, key = text.partition("/")
    if not config_map:
        _usage(f"--artifact-repository-ref expects CONFIGMAP or CONFIGMAP/KEY, got {text!r}")
    return {"configMap": config_map, **({"key": key} if key else {})}


def _load_config(path: Optional[Path]) -> Any:
    from transpiler import config
    from transpiler.errors import TranspileError

    found = path if path is not None else config.find(Path.cwd())
    if found is None:
        return config.Config()
    if not found.is_file():
        _usage(f"--config {found}: no such file")
    try:
        return config.read(found)
    except TranspileError as error:  # located problems in the config file
        _report(error)
        raise


def _options(config_path: Optional[Path], flags: dict[str, Any], **fixed: Any) -> Any:
    """Lowering options: the config file's values, overridden by the flags that were given."""
    from transpiler import config as config_module
    from transpiler.errors import Diagnostic, UsageError

    loaded = _load_config(config_path)
    given = {key: value for key, value in flags.items() if value is not None and value != [] and value != {}}
    problems = [
        Diagnostic(message, "", _FLAG_OF_KEY.get(at.split("/")[1], at) if at else "")
        for message, at in config_module.check(given)
    ]
    if problems:
        _report(UsageError(problems))
    return config_module.to_options(config_module.merge(loaded, given), **fixed)


@app.command("compile")
def compile_command(
    input_path: str = typer.Argument(..., metavar="INPUT", help="IR file (YAML or JSON), a pipeline's .py file (compiled with the installed kfp), a directory of IR files (batch mode, needs -o DIR), or - for stdin."),
    function: Optional[str] = typer.Option(None, "--function", metavar="NAME", help="The @dsl.pipeline function of a .py INPUT that defines several."),
    output: str = typer.Option("-", "--output", "-o", metavar="PATH", help="Where to write the manifest; - for stdout. In batch mode, the output directory."),
    output_format: OutputFormat = typer.Option(OutputFormat.yaml, "--output-format", metavar="yaml|json", help="yaml or json."),
    kind: Optional[Kind] = typer.Option(None, "--kind", metavar="KIND", help="Manifest kind (default workflow). Templates and CronWorkflows get a fixed name from the pipeline name or --name."),
    name: Optional[str] = typer.Option(None, "--name", metavar="NAME", help="Fixed metadata.name (a Workflow otherwise gets generateName)."),
    generate_name: Optional[str] = typer.Option(None, "--generate-name", metavar="PREFIX", help="metadata.generateName of a Workflow (default: the pipeline name and '-')."),
    namespace: Optional[str] = typer.Option(None, "--namespace", "-n", metavar="NAMESPACE", help="metadata.namespace."),
    service_account: Optional[str] = typer.Option(None, "--service-account", metavar="NAME", help="spec.serviceAccountName."),
    label: List[str] = typer.Option([], "--label", metavar="KEY=VALUE", help="metadata label KEY=VALUE (repeatable)."),
    annotation: List[str] = typer.Option([], "--annotation", metavar="KEY=VALUE", help="metadata annotation KEY=VALUE (repeatable)."),
    artifact_repository_ref: Optional[str] = typer.Option(None, "--artifact-repository-ref", metavar="CONFIGMAP[/KEY]", help="spec.artifactRepositoryRef: which artifact repository the run uses."),
    image_pull_secret: List[str] = typer.Option([], "--image-pull-secret", metavar="NAME", help="spec.imagePullSecrets (repeatable)."),
    pod_gc: Optional[str] = typer.Option(None, "--pod-gc", metavar="STRATEGY", help="spec.podGC.strategy: OnPodCompletion, OnPodSuccess, OnWorkflowCompletion or OnWorkflowSuccess."),
    ttl: Optional[int] = typer.Option(None, "--ttl", metavar="SECONDS", help="spec.ttlStrategy.secondsAfterCompletion: delete the finished workflow after this long."),
    parallelism: Optional[int] = typer.Option(None, "--parallelism", metavar="N", help="spec.parallelism: at most this many pods at once."),
    active_deadline_seconds: Optional[int] = typer.Option(None, "--active-deadline-seconds", metavar="SECONDS", help="spec.activeDeadlineSeconds of the whole run."),
    parameter: List[str] = typer.Option([], "--parameter", "-p", metavar="NAME=VALUE", help="Pipeline parameter default, NAME=VALUE, typed by the IR (repeatable)."),
    placeholder: List[str] = typer.Option([], "--set-placeholder", metavar="NAME=VALUE", help="Value for a placeholder only Vertex AI fills, e.g. pipeline_google_cloud_project_id=my-project (repeatable)."),
    pipeline_root: Optional[str] = typer.Option(None, "--pipeline-root", metavar="URI", help="Value of {{$.pipeline_root}} where a component uses it."),
    argo_version: Optional[str] = typer.Option(None, "--argo-version", metavar="3.6|3.7|4.0", help="The Argo the manifest is for (default 4.0; 3.x differs in memoize.cache.configMap)."),
    importer_scheme: Optional[str] = typer.Option(None, "--importer-scheme", metavar="SCHEME", help="Scheme (gs, s3, minio, http, https) of dsl.importer URIs known only at run time."),
    input_artifact: List[str] = typer.Option([], "--input-artifact", metavar="NAME=URI", help="Location of a pipeline input artifact, e.g. data=gs://bucket/key (repeatable)."),
    cache: Optional[bool] = typer.Option(None, "--cache/--no-cache", help="Memoize the tasks the IR caches (Argo memoization; off by default, see README)."),
    cache_config_map: Optional[str] = typer.Option(None, "--cache-config-map", metavar="NAME", help="ConfigMap that holds the memoization cache (default kfp2argo-cache)."),
    cache_max_age: Optional[str] = typer.Option(None, "--cache-max-age", metavar="DURATION", help="Ignore cache entries older than this, e.g. 24h (default: no limit)."),
    schedule: List[str] = typer.Option([], "--schedule", metavar="CRON", help="CronWorkflow schedule, e.g. '0 2 * * *' (repeatable)."),
    timezone: Optional[str] = typer.Option(None, "--timezone", metavar="TZ", help="CronWorkflow timezone, e.g. Europe/Berlin."),
    concurrency_policy: Optional[str] = typer.Option(None, "--concurrency-policy", metavar="Allow|Forbid|Replace", help="CronWorkflow concurrencyPolicy: Allow, Forbid or Replace."),
    config_path: Optional[Path] = typer.Option(None, "--config", metavar="FILE", help="Config file (default: the nearest kfp2argo.yaml or pyproject.toml [tool.kfp2argo] at or above the current directory)."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 listing every output (-o) that is missing or out of date."),
    lint: bool = typer.Option(False, "--lint", help="Also run `argo lint --offline` on the manifest; write nothing and exit 1 if it fails (needs the argo CLI)."),
    argo: Optional[str] = typer.Option(None, "--argo", envvar=ARGO_ENV, metavar="PATH", help="The argo CLI used by --lint (default: argo on PATH)."),
) -> None:
    """Compile a KFP pipeline IR file (or a directory of them) into Argo manifests.

    Options also come from a config file (kfp2argo.yaml or [tool.kfp2argo] in pyproject.toml);
    flags override it.

    Examples:

      kfp2argo compile pipeline.yaml -o workflow.yaml

      kfp2argo compile pipeline.yaml --kind cron-workflow --schedule '0 2 * * *'

      kfp2argo compile pipelines/ -o manifests/            (batch: mirrors the tree)

      kfp2argo compile pipelines/ -o manifests/ --check    (CI: fail on drift)

      kfp2argo compile pipeline.yaml -p learning_rate=0.01 -n ml | argo submit -
    """
    from transpiler import batch
    from transpiler.errors import TranspileError

    flags = _flags(
        kind, namespace, service_account, label, annotation, artifact_repository_ref, image_pull_secret, pod_gc, ttl,
        parallelism, active_deadline_seconds, placeholder, pipeline_root, importer_scheme, argo_version, cache, cache_config_map, cache_max_age,
        schedule, timezone, concurrency_policy,
    )
    if input_path != "-" and os.path.isdir(input_path):
        if output == "-":
            _usage("compiling a directory needs -o OUTPUT_DIRECTORY")
        for given, flag in ((name, "--name"), (generate_name, "--generate-name"), (parameter, "-p"), (function, "--function"),
                            (input_artifact, "--input-artifact"), (lint, "--lint")):
            if given:
                _usage(f"{flag} applies to one pipeline; it cannot be used when compiling a directory")
        options = _options(config_path, flags)
        raise typer.Exit(batch.run_directory(Path(input_path), Path(output), options, output_format.value, check=check))
    options = _options(
        config_path, flags, name=name, generate_name=generate_name, parameters=_split_pairs(parameter, "-p"),
        input_artifacts=_split_pairs(input_artifact, "--input-artifact"),
    )
    if check and output == "-":
        _usage("--check compares with the file given by -o")
    argo_path = _find_argo(argo) if lint else None
    try:
        data, file = _read(input_path, function)
        text = batch.compile_text(data, file, options, output_format.value)
    except TranspileError as error:
        _report(error)
        return
    if check:
        raise typer.Exit(batch.check_one(Path(output), text, file))
    if argo_path is not None:
        _lint_compiled(argo_path, text, output, output_format)
    _write(output, text)


def _flags(kind: Optional[Kind], namespace: Optional[str], service_account: Optional[str], label: List[str],
           annotation: List[str], artifact_repository_ref: Optional[str], image_pull_secret: List[str],
           pod_gc: Optional[str], ttl: Optional[int], parallelism: Optional[int], active_deadline_seconds: Optional[int],
           placeholder: List[str], pipeline_root: Optional[str], importer_scheme: Optional[str],
           argo_version: Optional[str], cache: Optional[bool],
           cache_config_map: Optional[str],
           cache_max_age: Optional[str], schedule: List[str], timezone: Optional[str],
           concurrency_policy: Optional[str]) -> dict[str, Any]:
    """The option flags as config keys (``None`` or empty: not given)."""
    return dict(
        kind=kind.value if kind else None,
        namespace=namespace,
        serviceAccountName=service_account,
        labels=dict(_split_pairs(label, "--label")),
        annotations=dict(_split_pairs(annotation, "--annotation")),
        artifactRepositoryRef=_artifact_repository_ref(artifact_repository_ref),
        imagePullSecrets=image_pull_secret,
        podGC={"strategy": pod_gc} if pod_gc else None,
        ttlStrategy={"secondsAfterCompletion": ttl} if ttl is not None else None,
        parallelism=parallelism,
        activeDeadlineSeconds=active_deadline_seconds,
        pipelineRoot=pipeline_root,
        importerScheme=importer_scheme,
        argoVersion=argo_version,
        placeholders=dict(_split_pairs(placeholder, "--set-placeholder")),
        cache=cache,
        cacheConfigMap=cache_config_map,
        cacheMaxAge=cache_max_age,
        schedules=schedule,
        timezone=timezone,
        concurrencyPolicy=concurrency_policy,
    )


# Flags of `compile` that only concern writing the output; `validate` takes every other one.
_OUTPUT_FLAGS = ("output", "output_format", "check", "lint", "argo")


def validate_command(input_path: str, **flags: Any) -> None:
    """Check an IR file with every check `compile` makes, with the same options; write nothing.

    Exit 0 when `compile` would succeed, else the same problems and exit code `compile` gives.
    Options also come from the config file, as for `compile`.

    Examples:

      kfp2argo validate pipeline.yaml && echo ok

      kfp2argo validate pipeline.yaml --kind cron-workflow --schedule '0 2 * * *'
    """
    from transpiler.compiler import check
    from transpiler.errors import TranspileError

    parameter, input_artifact, config_path, name, generate_name, function = (
        flags.pop(key) for key in ("parameter", "input_artifact", "config_path", "name", "generate_name", "function"))
    options = _options(config_path, _flags(**flags), name=name, generate_name=generate_name,
                       parameters=_split_pairs(parameter, "-p"), input_artifacts=_split_pairs(input_artifact, "--input-artifact"))
    try:
        data, file = _read(input_path, function)
        check(data, options, file)
    except TranspileError as error:
        _report(error)
    typer.echo(f"{file}: ok", err=True)


# The same flags as `compile` (typer reads a command's signature and annotations).
validate_command.__signature__ = inspect.signature(compile_command).replace(  # type: ignore[attr-defined]
    parameters=[p for p in inspect.signature(compile_command).parameters.values() if p.name not in _OUTPUT_FLAGS]
)
validate_command.__annotations__ = {k: v for k, v in compile_command.__annotations__.items() if k not in _OUTPUT_FLAGS}
app.command("validate")(validate_command)


@app.command("lint")
def lint_command(
    paths: List[str] = typer.Argument(..., metavar="FILE", help="Manifests (.yaml, .yml, .json) or directories of them; - for stdin."),
    argo: Optional[str] = typer.Option(None, "--argo", envvar=ARGO_ENV, metavar="PATH", help="The argo CLI to run (default: argo on PATH)."),
    timeout: float = typer.Option(ARGO_LINT_TIMEOUT_S, "--timeout", metavar="SECONDS", min=1, help="Stop argo lint after this long (exit 2)."),
) -> None:
    """Check Argo manifests with the real Argo CLI: `argo lint --offline --output simple FILE...`.

    Exit 0 when argo finds nothing, 1 when it reports a problem, 2 when argo is not installed
    (nothing is checked) or on a usage error. argo's report passes through unchanged.

    Examples:

      kfp2argo lint workflow.yaml

      kfp2argo compile pipeline.yaml | kfp2argo lint -
    """
    argo_path = _find_argo(argo)
    if paths.count("-") > 1:
        _usage("- (stdin) given more than once")
    for path in paths:
        if path == "-" or path.startswith("/dev/"):
            continue
        if not os.path.exists(path):
            _usage(f"cannot read {path}: No such file or directory")
        if os.path.isfile(path) and not path.endswith(ARGO_MANIFEST_SUFFIXES):
            _usage(f"argo lint only reads files named *.yaml, *.yml or *.json, not {path}")
    with tempfile.TemporaryDirectory(prefix="kfp2argo-lint-") as directory:
        if "-" in paths:
            # `argo lint --offline -` reads stdin twice (references, then lint) and sees it empty
            # the second time, so stdin goes through a file.
            stdin_file = os.path.join(directory, "stdin.yaml")
            Path(stdin_file).write_bytes(sys.stdin.buffer.read())
            paths = [stdin_file if path == "-" else path for path in paths]
        status = _argo_lint(argo_path, paths, timeout)
    raise typer.Exit(status)


@app.command("encode-value")
def encode_value_command(
    text: str = typer.Argument(..., help="A parameter value to pass at submit time."),
) -> None:
    """Print TEXT in the wire form Argo cannot alter (for `argo submit -p NAME=...`).

    Values that contain Argo tags such as {{workflow.name}} must be given this way; other
    values print unchanged.
    """
    from transpiler import wire

    typer.echo(wire.encode(text))


def main() -> None:
    """Console entry point (``kfp2argo``)."""
    app(prog_name="kfp2argo")
