"""Options a repository commits: ``kfp2argo.yaml``, or a ``[tool.kfp2argo]`` table in pyproject.toml.

The file is found from the current directory upwards (the nearest directory that has either;
``kfp2argo.yaml`` wins in one directory; a pyproject.toml without the table does not count), or
given with ``--config``. Keys are Argo's own names where Argo has the field; command-line flags
override them (maps such as ``labels`` are merged key by key, a flag's value winning).

Argo-typed values (``podGC``, ``ttlStrategy``, ``securityContext``, ``podMetadata``,
``artifactRepositoryRef``, and ``defaultWorkspace``, the PersistentVolumeClaimSpec a pipeline
workspace's ``pvcSpecPatch`` patches, as KFP's API server config has it) are checked against hera's models of Argo's types, and a field the
model does not know is an error rather than silently dropped. Every problem is reported with the
file, line and key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from transpiler.argo_values import MSG_CHOICE, argo_object_problems
from transpiler.errors import Diagnostic, UsageError, pointer

CONFIG_FILE = "kfp2argo.yaml"
PYPROJECT = "pyproject.toml"
PYPROJECT_TABLE = "tool.kfp2argo"

KINDS = ("workflow", "workflow-template", "cluster-workflow-template", "cron-workflow")
CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
IMPORTER_SCHEMES = ("gs", "s3", "minio", "http", "https")
ARGO_VERSIONS = ("3.6", "3.7", "4.0")  # transpiler.argo_versions.VERSIONS (kept import-free here)

MSG_UNKNOWN_KEY = "Unknown key {key!r}. Known keys: {known}"
MSG_TYPE = "Expected {expected}, got {got}"
MSG_TOML = "Not valid TOML: {problem}"
MSG_READ = "Cannot read the config file: {problem}"


def _string_map(value: Any) -> str | None:
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return None
    return "a mapping of strings to strings"


def _string_list(value: Any) -> str | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return None
    return "a list of strings"


def _positive_int(value: Any) -> str | None:
    return None if isinstance(value, int) and not isinstance(value, bool) and value > 0 else "a whole number above 0"


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "a non-empty string"


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def _mapping(value: Any) -> str | None:
    return None if isinstance(value, dict) else "a mapping"


# key: (check, choices). Keys that hold Argo objects are also checked by ARGO_MODELS.
SCHEMA: dict[str, tuple[Callable[[Any], str | None], tuple[str, ...]]] = {
    "kind": (_string, KINDS),
    "namespace": (_string, ()),
    "serviceAccountName": (_string, ()),
    "labels": (_string_map, ()),
    "annotations": (_string_map, ()),
    "artifactRepositoryRef": (_mapping, ()),
    "imagePullSecrets": (_string_list, ()),
    "podGC": (_mapping, ()),
    "ttlStrategy": (_mapping, ()),
    "parallelism": (_positive_int, ()),
    "activeDeadlineSeconds": (_positive_int, ()),
    "securityContext": (_mapping, ()),
    "podMetadata": (_mapping, ()),
    "pipelineRoot": (_string, ()),
    "importerScheme": (_string, IMPORTER_SCHEMES),
    "argoVersion": (_string, ARGO_VERSIONS),
    "defaultWorkspace": (_mapping, ()),
    "placeholders": (_string_map, ()),
    "cache": (_boolean, ()),
    "cacheConfigMap": (_string, ()),
    "cacheMaxAge": (_string, ()),
    "schedules": (_string_list, ()),
    "timezone": (_string, ()),
    "concurrencyPolicy": (_string, CONCURRENCY_POLICIES),
    "skeleton": (_string, ()),
}

# Config keys that are WorkflowSpec fields, with the hera model that checks their value.
ARGO_MODELS = {
    "artifactRepositoryRef": "ArtifactRepositoryRef",
    "podGC": "PodGC",
    "ttlStrategy": "TTLStrategy",
    "securityContext": "PodSecurityContext",
    "podMetadata": "Metadata",
    "defaultWorkspace": "PersistentVolumeClaimSpec",
}

@dataclass(frozen=True)
class Config:
    """A validated config: its values by key, and the file they came from (``None``: no file)."""

    values: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def relative(self, text: str) -> Path:
        """A path written in the config, taken relative to the config file's directory."""
        base = self.path.parent if self.path else Path.cwd()
        return base / text


def find(start: Path) -> Path | None:
    """The nearest config file at or above ``start``."""
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate
        pyproject = directory / PYPROJECT
        if pyproject.is_file() and _has_table(pyproject):
            return pyproject
    return None


def _has_table(pyproject: Path) -> bool:
    try:
        return _tool_table(pyproject.read_text(encoding="utf-8")) is not None
    except (OSError, UnicodeDecodeError, ValueError):
        return True  # let read() report what is wrong with it


def read(path: Path) -> Config:
    """Read and check a config file (``kfp2argo.yaml`` or a pyproject.toml).

    Raises:
        UsageError: one located diagnostic per problem.
    """
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError([Diagnostic(MSG_READ.format(problem=getattr(err, "strerror", None) or err), "", file)]) from None
    if path.name == PYPROJECT:
        try:
            values = _tool_table(text) or {}
        except ValueError as err:
            raise UsageError([Diagnostic(MSG_TOML.format(problem=err), "", file)]) from None
        locate: Callable[[str], tuple[int | None, int | None]] = lambda at: (None, None)
    else:
        from transpiler.errors import LoadError
        from transpiler.load import load_yaml

        try:
            values, locate = load_yaml(text, file)
        except LoadError as err:
            raise UsageError(err.diagnostics) from None
        values = {} if values is None else values
    problems = [
        Diagnostic(message, at, file, *locate(at))
        for message, at in check(values)
    ]
    if problems:
        raise UsageError(problems)
    if "skeleton" in values:  # relative to the config file, wherever kfp2argo runs from
        values = {**values, "skeleton": str(path.parent / values["skeleton"])}
    return Config(values, path)


def _tool_table(text: str) -> dict[str, Any] | None:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(str(err)) from None
    table = document.get("tool", {}).get("kfp2argo")
    return table if isinstance(table, dict) or table is None else {"": table}


def check(values: Any) -> list[tuple[str, str]]:
    """(message, JSON pointer) for every problem in a config's values."""
    if not isinstance(values, dict):
        return [(MSG_TYPE.format(expected="a mapping of options", got=_kind(values)), "")]
    problems: list[tuple[str, str]] = []
    for key, value in values.items():
        at = pointer(key)
        if key not in SCHEMA:
            problems.append((MSG_UNKNOWN_KEY.format(key=key, known=", ".join(SCHEMA)), at))
            continue
        test, choices = SCHEMA[key]
        expected = test(value)
        if expected and isinstance(value, dict) and test is _string_map:
            problems.extend((MSG_TYPE.format(expected="a string", got=_kind(v)), at + pointer(k)) for k, v in value.items() if not isinstance(v, str))
        elif expected:
            problems.append((MSG_TYPE.format(expected=expected, got=_kind(value)), at))
        elif choices and value not in choices:
            problems.append((MSG_CHOICE.format(choices=", ".join(choices), value=value), at))
        elif key in ARGO_MODELS:
            problems.extend(argo_object_problems(ARGO_MODELS[key], value, at))
    return problems


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    ) + ("" if not isinstance(value, (str, int, float)) or isinstance(value, bool) else f" ({json.dumps(value)})")


# Config keys that become WorkflowSpec fields as they are (after the imagePullSecrets rewrite).
WORKFLOW_FIELDS = (
    "artifactRepositoryRef",
    "imagePullSecrets",
    "podGC",
    "ttlStrategy",
    "parallelism",
    "activeDeadlineSeconds",
    "securityContext",
    "podMetadata",
)
MERGED_MAPS = ("labels", "annotations", "placeholders")


def merge(config: Config, flags: dict[str, Any]) -> dict[str, Any]:
    """Config values overridden by the flags that were given (``None``: not given); maps merge."""
    values = dict(config.values)
    for key, value in flags.items():
        if value is None:
            continue
        if key in MERGED_MAPS:
            values[key] = {**values.get(key, {}), **value}
        else:
            values[key] = value
    return values


def to_options(values: dict[str, Any], **fixed: Any) -> Any:
    """The lowering options for merged config values (``fixed``: flag-only options such as
    ``name`` and ``parameters``)."""
    from transpiler.options import DEFAULT_CACHE_CONFIG_MAP, Options

    workflow_fields = []
    for key in WORKFLOW_FIELDS:
        if key in values:
            value = values[key]
            if key == "imagePullSecrets":
                value = [{"name": secret} for secret in value]
            workflow_fields.append((key, value))
    return Options(
        namespace=values.get("namespace"),
        service_account=values.get("serviceAccountName"),
        placeholder_values=tuple(sorted(values.get("placeholders", {}).items())),
        pipeline_root=values.get("pipelineRoot"),
        importer_scheme=values.get("importerScheme"),
        argo_version=values.get("argoVersion", "4.0"),
        default_workspace=tuple(sorted(values.get("defaultWorkspace", {}).items())),
        kind=values.get("kind", "workflow"),
        labels=tuple(sorted(values.get("labels", {}).items())),
        annotations=tuple(sorted(values.get("annotations", {}).items())),
        workflow_fields=tuple(workflow_fields),
        cache=values.get("cache", False),
        cache_config_map=values.get("cacheConfigMap", DEFAULT_CACHE_CONFIG_MAP),
        cache_max_age=values.get("cacheMaxAge"),
        schedules=tuple(values.get("schedules", ())),
        timezone=values.get("timezone"),
        concurrency_policy=values.get("concurrencyPolicy"),
        skeleton=values.get("skeleton"),
        **fixed,
    )
