"""Diagnostics: one exception base, one subclass per stage, and their text form.

Every problem the transpiler reports is a :class:`Diagnostic`: the input file, a JSON pointer
(RFC 6901) into the input document, the line and column of that location when known, and a
message of the form ``<what is wrong>. <what is supported / how to fix>``. Passes collect
diagnostics and raise them together, once, so a user sees every problem in one run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_REPORTED = 20


def escape_pointer_token(token: str | int) -> str:
    """Escape one JSON-pointer reference token (RFC 6901).

    >>> escape_pointer_token("a/b~c")
    'a~1b~0c'
    """
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str | int) -> str:
    """Build a JSON pointer from reference tokens.

    >>> pointer("root", "dag", "tasks", "train/v2")
    '/root/dag/tasks/train~1v2'
    >>> pointer()
    ''
    """
    return "".join("/" + escape_pointer_token(t) for t in tokens)


@dataclass(frozen=True)
class Diagnostic:
    """One located problem in the input."""

    message: str
    pointer: str = ""
    file: str = "<input>"
    line: int | None = None
    column: int | None = None
    document: int = 0

    def __str__(self) -> str:
        if not self.pointer and (self.file.endswith(".py") or (self.file.startswith("-") and self.line is None)):
            # a command-line flag, or a Python source: no JSON pointer to give
            return f"{self.file}{f':{self.line}' if self.line else ''}: {self.message}"
        location = self.file
        if self.line is not None:
            location += f":{self.line}"
            if self.column is not None:
                location += f":{self.column}"
        where = self.pointer or "/"
        if self.document:
            where = f"document {self.document + 1} {where}"
        return f"{location}: {where}: {self.message}"


@dataclass
class TranspileError(Exception):
    """Base of every error the transpiler raises on bad or unsupported input."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.format())

    def format(self, limit: int = MAX_REPORTED) -> str:
        """All diagnostics, one per line, capped at ``limit`` with an "... and N more" line."""
        lines = [str(d) for d in self.diagnostics[:limit]]
        if len(self.diagnostics) > limit:
            lines.append(f"... and {len(self.diagnostics) - limit} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


class LoadError(TranspileError):
    """The input could not be read as a KFP pipeline document (encoding, YAML, size, shape)."""


class InputSchemaError(TranspileError):
    """The input does not match the IR's JSON Schema or refers to things that do not exist."""


class UnsupportedFeature(TranspileError):
    """The input uses an IR feature that has no faithful Argo mapping (yet)."""


class OutputSchemaError(TranspileError):
    """The generated manifest breaks a rule Argo or Kubernetes enforces (a transpiler bug or a limit)."""


class UsageError(TranspileError):
    """An option given by the caller (e.g. ``-p name=value``) does not fit the pipeline."""
