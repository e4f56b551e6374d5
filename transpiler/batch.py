"""Compiling for GitOps: one pipeline or a whole tree, written atomically or checked for drift.

``kfp2argo compile DIR -o OUTDIR`` compiles every KFP IR file under DIR (``*.yaml``, ``*.yml``,
``*.json``; files that are not a PipelineSpec are skipped, hidden directories and OUTDIR itself
are not searched) into the same relative path under OUTDIR. One bad input does not stop the
others; each failure is listed with its located diagnostics and the exit code is 1 if any failed.
With ``--check`` nothing is written: every output that is missing, out of date, or left over from
an input that no longer exists (a manifest in OUTDIR carrying kfp2argo's pipeline annotation) is
listed, and the exit code is 1 when there is any such drift.

Writes go to a temporary file in the target directory and are renamed over the target, so an
interrupted run never leaves a half-written manifest; a file whose content would not change is
not touched.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from transpiler.errors import LoadError, TranspileError
from transpiler.names import OWNER_ANNOTATION

IR_SUFFIXES = (".yaml", ".yml", ".json")
# etcd's default request limit (--max-request-bytes, 1.5 MiB): the API server refuses larger objects.
MAX_OBJECT_BYTES = 1536 * 1024

EXIT_OK = 0
EXIT_PROBLEMS = 1


def compile_text(data: bytes | str, file: str, options: Any, output_format: str) -> str:
    """Manifest text for one IR input; warns on stderr when it is too large for Kubernetes.

    Raises:
        TranspileError: located diagnostics for the input (or the skeleton).
    """
    from transpiler import emit
    from transpiler.compiler import compile_document

    document = compile_document(data, options, file)
    warn_if_too_large(document, file)
    return emit.to_json(document) if output_format == "json" else emit.to_yaml(document)


def stored_size(document: dict[str, Any]) -> int:
    """Bytes of the object as the API server stores it (compact JSON)."""
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def warn_if_too_large(document: dict[str, Any], file: str, stream: TextIO | None = None) -> bool:
    size = stored_size(document)
    if size <= MAX_OBJECT_BYTES:
        return False
    print(
        f"{file}: warning: the manifest is {size / 1024 / 1024:.2f} MiB ({size} bytes as stored JSON); "
        f"the Kubernetes API server refuses objects over {MAX_OBJECT_BYTES / 1024 / 1024:.1f} MiB by default "
        "(etcd's request limit). Split the pipeline, or register shared components as WorkflowTemplates",
        file=stream or sys.stderr,
    )
    return True


def write_atomic(target: Path, text: str) -> None:
    """Replace ``target`` with ``text`` through a temporary file in the same directory."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(temporary, _file_mode(target))  # mkstemp's 0600 would make the manifest private
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _file_mode(target: Path) -> int:
    """The mode a new file gets (0666 less the umask), or the target's own when it exists."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def check_one(output: Path, text: str, source: str, stream: TextIO | None = None) -> int:
    """``--check`` for one input: exit 1 when ``output`` is missing or differs from ``text``."""
    state = _state(output, text)
    if state == "unchanged":
        return EXIT_OK
    print(f"{output}: {state} (compile {source} again)", file=stream or sys.stderr)
    return EXIT_PROBLEMS


def _state(output: Path, text: str) -> str:
    try:
        current = output.read_bytes()
    except FileNotFoundError:
        return "missing"
    return "unchanged" if current == text.encode("utf-8") else "stale"


@dataclass
class Outcome:
    source: Path
    output: Path | None
    state: str  # written, unchanged, missing, stale, failed, skipped, orphaned
    detail: str = ""
    identity: tuple[str, str, str] | None = None  # (kind, namespace, metadata.name) of a named object


def find_inputs(input_dir: Path, exclude: Path | None = None) -> list[Path]:
    """Candidate IR files under ``input_dir``, sorted; hidden directories and ``exclude`` are
    not searched."""
    excluded = exclude.resolve() if exclude else None
    found = []
    for directory, subdirectories, files in os.walk(input_dir):
        here = Path(directory)
        subdirectories[:] = sorted(
            d for d in subdirectories if not d.startswith(".") and (here / d).resolve() != excluded
        )
        found.extend(here / f for f in files if f.endswith(IR_SUFFIXES) and not f.startswith("."))
    return sorted(found)


def output_path(source: Path, input_dir: Path, output_dir: Path, output_format: str) -> Path:
    return (output_dir / source.relative_to(input_dir)).with_suffix(".json" if output_format == "json" else ".yaml")


def run_directory(
    input_dir: Path,
    output_dir: Path,
    options: Any,
    output_format: str,
    *,
    check: bool = False,
    stream: TextIO | None = None,
) -> int:
    """Compile (or with ``check``, compare) every IR file under ``input_dir``; print a report."""
    stream = stream or sys.stderr
    sources = find_inputs(input_dir, output_dir)
    progress = Progress(len(sources), stream)
    outcomes: list[Outcome] = []
    claimed: dict[Path, Path] = {}
    named: dict[tuple[str, str, str], Path] = {}
    for source in sources:
        progress.show(source)
        target = output_path(source, input_dir, output_dir, output_format)
        if target in claimed:
            outcomes.append(Outcome(source, target, "failed", f"writes the same output as {claimed[target]}; rename one of them"))
            continue
        outcome = _compile_one(source, target, options, output_format, check, stream, named)
        if outcome.state != "skipped":
            claimed[target] = source
        if outcome.identity is not None:
            named.setdefault(outcome.identity, source)
        outcomes.append(outcome)
    progress.done()
    outcomes.extend(_orphans(output_dir, set(claimed), check))
    return _report(outcomes, check, stream)


def _compile_one(source: Path, target: Path, options: Any, output_format: str, check: bool, stream: TextIO,
                 named: dict[tuple[str, str, str], Path]) -> Outcome:
    """One input: compiled and written (or compared); a failure, including an unexpected
    exception, is this input's outcome and never stops the others."""
    from transpiler import emit
    from transpiler.compiler import compile_document

    try:
        data = source.read_bytes()
    except OSError as err:
        return Outcome(source, target, "failed", f"{source}: cannot read: {err.strerror or err}")
    try:
        document = compile_document(data, options, str(source))
    except LoadError as error:
        if _not_a_pipeline(error):
            return Outcome(source, None, "skipped", "not a KFP PipelineSpec")
        return Outcome(source, target, "failed", error.format())
    except TranspileError as error:
        return Outcome(source, target, "failed", error.format())
    except Exception as error:  # noqa: BLE001 (a bug: reported for this input, the others go on)
        return Outcome(source, target, "failed", f"{source}: internal error {type(error).__name__}: {error} (please report it)")
    identity = _identity(document)
    if identity in named:
        return Outcome(source, target, "failed", f"{identity[0]} {identity[2]!r} has the same name as the one from "
                                                  f"{named[identity]}; give one --name or rename the pipeline")
    warn_if_too_large(document, str(source), stream)
    text = emit.to_json(document) if output_format == "json" else emit.to_yaml(document)
    state = _state(target, text)
    if check or state == "unchanged":
        return Outcome(source, target, state, identity=identity)
    write_atomic(target, text)
    return Outcome(source, target, "written", identity=identity)


def _identity(document: dict[str, Any]) -> tuple[str, str, str] | None:
    """(kind, namespace, name) of a manifest with a fixed name; a Workflow (generateName) has none."""
    metadata = document.get("metadata", {})
    if "name" not in metadata:
        return None
    return document.get("kind", ""), metadata.get("namespace", ""), metadata["name"]


def _not_a_pipeline(error: LoadError) -> bool:
    from transpiler.load import MSG_NOT_MAPPING, MSG_NOT_PIPELINE, MSG_PLATFORM_FIRST

    not_pipeline = (MSG_NOT_PIPELINE, MSG_PLATFORM_FIRST, MSG_NOT_MAPPING.split("{")[0])
    return len(error.diagnostics) == 1 and error.diagnostics[0].message.startswith(not_pipeline)


def _orphans(output_dir: Path, expected: set[Path], check: bool) -> list[Outcome]:
    """Manifests kfp2argo wrote under ``output_dir`` whose input is gone."""
    if not output_dir.is_dir():
        return []
    found = []
    for path in find_inputs(output_dir):
        if path in expected:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if OWNER_ANNOTATION in text:
            found.append(Outcome(path, path, "orphaned", "generated by kfp2argo, but no input compiles to it any more; delete it"))
    return found


def _report(outcomes: list[Outcome], check: bool, stream: TextIO) -> int:
    drift = ("missing", "stale", "orphaned") if check else ()
    for outcome in outcomes:
        if outcome.state == "failed":
            print(f"FAILED {outcome.source}\n{_indent(outcome.detail)}", file=stream)
        elif outcome.state in drift:
            print(f"{outcome.state.upper()} {outcome.output} (from {outcome.source})" if outcome.state != "orphaned" else f"ORPHANED {outcome.output}: {outcome.detail}", file=stream)
        elif outcome.state == "orphaned":
            print(f"warning: {outcome.output}: {outcome.detail}", file=stream)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.state] = counts.get(outcome.state, 0) + 1
    order = ("written", "unchanged", "missing", "stale", "orphaned", "failed", "skipped")
    summary = ", ".join(f"{counts[state]} {state}" for state in order if counts.get(state))
    compiled = sum(counts.get(s, 0) for s in ("written", "unchanged", "missing", "stale"))
    print(f"kfp2argo: {compiled} pipeline(s) compiled{'; checked' if check else ''}: {summary or 'nothing found'}", file=stream)
    bad = counts.get("failed", 0) + sum(counts.get(state, 0) for state in drift)
    return EXIT_PROBLEMS if bad else EXIT_OK


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


class Progress:
    """``[3/40] path`` on one line of a terminal; nothing when the stream is not a terminal."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.count = 0
        self.stream = stream
        self.enabled = total > 1 and stream.isatty()

    def show(self, path: Path) -> None:
        self.count += 1
        if self.enabled:
            self.stream.write(f"\r\033[K[{self.count}/{self.total}] {path}")
            self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()
