"""The ``kfp2argo`` command line: a thin typer layer over :func:`transpiler.transpile`.

Exit codes: 0 success; 1 the input was rejected (every problem printed to stderr, one per line,
``file:line:column: /json/pointer: message``); 2 a usage error (bad flags, unreadable file,
unknown ``-p`` name). Nothing is written to ``-o`` unless compilation succeeded; the file is
replaced atomically.
"""

from __future__ import annotations

import os
import sys
import tempfile
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from transpiler import __version__

EXIT_INVALID = 1
EXIT_USAGE = 2

app = typer.Typer(
    add_completion=False,
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


def _usage(message: str) -> None:
    typer.echo(f"kfp2argo: error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def _read(input_path: str) -> tuple[bytes, str]:
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
    target = Path(output)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as err:
        _usage(f"cannot write {output}: {err.strerror or err}")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _report(error: Exception) -> None:
    from transpiler.errors import UsageError

    typer.echo(str(error), err=True)
    raise typer.Exit(EXIT_USAGE if isinstance(error, UsageError) else EXIT_INVALID)


@app.command("compile")
def compile_command(
    input_path: str = typer.Argument(..., metavar="INPUT", help="IR file (YAML or JSON), or - for stdin."),
    output: str = typer.Option("-", "--output", "-o", help="Where to write the manifest; - for stdout."),
    output_format: OutputFormat = typer.Option(OutputFormat.yaml, "--output-format", help="yaml or json."),
    name: Optional[str] = typer.Option(None, "--name", help="Fixed metadata.name instead of generateName."),
    generate_name: Optional[str] = typer.Option(None, "--generate-name", help="metadata.generateName (default: the pipeline name and '-')."),
    namespace: Optional[str] = typer.Option(None, "--namespace", "-n", help="metadata.namespace."),
    service_account: Optional[str] = typer.Option(None, "--service-account", help="spec.serviceAccountName."),
    parameter: List[str] = typer.Option([], "--parameter", "-p", help="Pipeline parameter default, NAME=VALUE, typed by the IR (repeatable)."),
    placeholder: List[str] = typer.Option([], "--set-placeholder", help="Value for a placeholder only Vertex AI fills, e.g. pipeline_google_cloud_project_id=my-project (repeatable)."),
    pipeline_root: Optional[str] = typer.Option(None, "--pipeline-root", help="Value of {{$.pipeline_root}} where a component uses it."),
) -> None:
    """Compile a KFP pipeline IR file into an Argo Workflow manifest.

    Examples:

      kfp2argo compile pipeline.yaml -o workflow.yaml

      kfp2argo compile pipeline.yaml -p learning_rate=0.01 -n ml | argo submit -

      python -m kfp.compiler ... && cat pipeline.yaml | kfp2argo compile - --output-format json
    """
    from transpiler import TranspileError, transpile
    from transpiler.lower import Options

    options = Options(
        name=name,
        generate_name=generate_name,
        namespace=namespace,
        service_account=service_account,
        parameters=_split_pairs(parameter, "-p"),
        placeholder_values=_split_pairs(placeholder, "--set-placeholder"),
        pipeline_root=pipeline_root,
    )
    data, file = _read(input_path)
    try:
        text = transpile(data, options, file=file, output_format=output_format.value)
    except TranspileError as error:
        _report(error)
        return
    _write(output, text)


@app.command("validate")
def validate_command(
    input_path: str = typer.Argument(..., metavar="INPUT", help="IR file (YAML or JSON), or - for stdin."),
) -> None:
    """Check an IR file (schema, references, supported features) without writing anything.

    Example:

      kfp2argo validate pipeline.yaml && echo ok
    """
    from transpiler import TranspileError, check

    data, file = _read(input_path)
    try:
        check(data, file)
    except TranspileError as error:
        _report(error)
    typer.echo(f"{file}: ok", err=True)


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
