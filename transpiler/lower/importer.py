"""``dsl.importer``: an artifact that already exists, handed to its consumers with no pod.

The importer task is not an Argo task. Each task that reads its artifact gets an argument
artifact whose location is the URI's, in the form Argo's artifact drivers read:

* ``gs://b/k`` -> ``gcs: {bucket: b, key: k}``: a full location, read with the pod's Google
  credentials (workload identity or the node's service account);
* ``s3://b/k`` -> ``s3: {endpoint: s3.amazonaws.com, bucket: b, key: k, useSDKCreds: true}``
  (AWS S3 with the AWS SDK's default credentials, as KFP reads imported ``s3://`` URIs);
* ``minio://b/k`` -> ``s3: {key: k}``: a key-only artifact, which Argo completes from the
  workflow's artifact repository (endpoint, bucket and credentials: ``Relocate`` in Argo's
  executor). KFP's ``minio://`` names the MinIO that holds its pipeline root; here it is the
  repository, whose bucket must be ``b``;
* ``http(s)://...`` -> ``http: {url: ...}``.

The object is downloaded as it is (``archive: none``). A URI known only at run time is split by
an expression in the argument; its scheme, which decides the kind of location, must be known at
compile time (a constant, or the default of the parameter it comes from), and a run-time URI
with another scheme fails the consumer. The consumer's executor input sees the original URI and
the importer's metadata: both travel in the artifact's metadata companion parameter (the URI
under the reserved key ``kfp2argo:uri``), and the launcher links KFP's local path for the URI
(``/gcs/b/k`` ...) to the downloaded file, so ``artifact.path`` reads it.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from hera.workflows import models as m

from transpiler import argo_expr, ir, names, placeholders, wire, wire_expr

URI_KEY = "kfp2argo:uri"
# The schemes with a local path in KFP's SDK (``Artifact.path``), and where the launcher links them.
LOCAL_ROOTS = {"gs": "/gcs", "s3": "/s3", "minio": "/minio"}
SCHEMES = ("gs", "s3", "minio", "http", "https")
AWS_S3_ENDPOINT = "s3.amazonaws.com"

MSG_SCHEME = (
    "The importer URI {uri!r} has no Argo artifact source: kfp2argo reads gs://, s3://, minio://, "
    "http:// and https:// URIs"
)
MSG_NO_KEY = "The importer URI {uri!r} names no object: expected {scheme}://<bucket>/<key>"
MSG_RUN_TIME_SCHEME = (
    "The importer URI comes from {source}, so its scheme is unknown at compile time, and Argo fixes "
    "the kind of an artifact's location in the manifest. Give the pipeline parameter a default "
    "URI with the scheme the run will use"
)
MSG_MIXED_SCHEMES = "The importer URI can be {uris}: one importer needs one scheme"
MSG_METADATA_PLACEHOLDER = "The importer metadata placeholder {text} is not supported: only {{{{$.inputs.parameters['...']}}}} is"
MSG_IMPORTER_OUTPUT = "An importer's artifact as an output of a pipeline or sub-pipeline is not supported yet. Pass it to a task instead"


def scheme_of(uri: str) -> str | None:
    """The scheme of a URI kfp2argo can read, or None.

    >>> scheme_of("gs://b/k"), scheme_of("oci://r/m"), scheme_of("HTTPS://x")
    ('gs', None, 'https')
    """
    head, sep, _ = uri.partition("://")
    return head.lower() if sep and head.lower() in SCHEMES else None


def family(scheme: str) -> str:
    """http and https share a location kind."""
    return "http" if scheme in ("http", "https") else scheme


def split(uri: str) -> tuple[str, str] | None:
    """(bucket, key) of a bucket URI, or None when either is empty.

    >>> split("gs://b/dir/file.txt"), split("gs://b"), split("s3://b/")
    (('b', 'dir/file.txt'), None, None)
    """
    bucket, _, key = uri.partition("://")[2].partition("/")
    return (bucket, key) if bucket and key else None


# Where an importer's URI comes from ------------------------------------------------------------


def uri_source(importer: ir.Importer, task: ir.Task) -> ir.ParameterSource | None:
    """The importer task's URI: a constant, or the binding of its runtime parameter."""
    if isinstance(importer.uri, ir.Constant):
        return importer.uri
    binding = next((b for b in task.parameters if b.name == importer.uri), None)
    return binding.source if binding else None


def possible_uris(pipeline: ir.Pipeline, parent: ir.Component, source: Any) -> list[str] | None:
    """The URIs a value can be at compile time: a constant, or the defaults and constants an
    input of the enclosing DAGs is bound to; None when one of them is known only at run time."""
    if isinstance(source, ir.Constant):
        return [source.value] if isinstance(source.value, str) else None
    if not isinstance(source, ir.ComponentInput):
        return None
    definition = parent.inputs.parameter(source.name)
    default = definition.default if definition else ir.MISSING
    if parent is pipeline.root:
        return [default] if isinstance(default, str) else None
    uris: list[str] = []
    for caller_parent, caller in _callers(pipeline, parent):
        binding = next((b for b in caller.parameters if b.name == source.name), None)
        if binding is None:
            found = [default] if isinstance(default, str) else None
        elif binding.field is not None:
            found = None
        else:
            found = possible_uris(pipeline, caller_parent, binding.source)
        if found is None:
            return None
        uris += found
    return uris or None


def _callers(pipeline: ir.Pipeline, component: ir.Component) -> list[tuple[ir.Component, ir.Task]]:
    return [
        (parent, task)
        for parent in (pipeline.root, *pipeline.components.values())
        if parent.dag is not None
        for task in parent.dag.tasks
        if task.component == component.name
    ]


def scheme(pipeline: ir.Pipeline, parent: ir.Component, task: ir.Task) -> tuple[str | None, str | None]:
    """(scheme, None), or (None, the reason it cannot be known or read)."""
    importer = pipeline.importer(task.component)
    assert importer is not None
    source = uri_source(importer, task)
    uris = possible_uris(pipeline, parent, source)
    if uris is None:
        where = "a task output" if isinstance(source, ir.TaskOutput) else "a value without a default"
        return None, MSG_RUN_TIME_SCHEME.format(source=where)
    for uri in uris:
        if scheme_of(uri) is None:
            return None, MSG_SCHEME.format(uri=uri)
        if family(scheme_of(uri) or "") != "http" and split(uri) is None:
            return None, MSG_NO_KEY.format(uri=uri, scheme=scheme_of(uri))
    families = {family(scheme_of(u) or "") for u in uris}
    if len(families) > 1:
        return None, MSG_MIXED_SCHEMES.format(uris=" or ".join(repr(u) for u in sorted(set(uris))))
    return scheme_of(uris[0]), None


def imported_schemes(pipeline: ir.Pipeline) -> dict[tuple[str, str], frozenset[str]]:
    """For each (component, input artifact), the schemes of the importers whose artifact may
    reach it, directly or through the inputs of the DAGs around it."""
    result: dict[tuple[str, str], frozenset[str]] = {}
    dags = [c for c in (pipeline.root, *pipeline.components.values()) if c.dag is not None]
    changed = True
    while changed:
        changed = False
        for parent in dags:
            assert parent.dag is not None
            for task in parent.dag.tasks:
                for binding in task.artifacts:
                    found = binding_schemes(pipeline, parent, binding, result)
                    key = (task.component, binding.name)
                    if found - result.get(key, frozenset()):
                        result[key] = result.get(key, frozenset()) | found
                        changed = True
    return result


def binding_schemes(pipeline: ir.Pipeline, parent: ir.Component, binding: ir.ArtifactBinding,
                    imported: dict[tuple[str, str], frozenset[str]]) -> frozenset[str]:
    source = binding.source
    if isinstance(source, ir.ComponentInput):
        return imported.get((parent.name, source.name), frozenset())
    assert parent.dag is not None
    producer = next((t for t in parent.dag.tasks if t.name == source.task), None)
    if producer is None or pipeline.importer(producer.component) is None:
        return frozenset()
    found, _ = scheme(pipeline, parent, producer)
    return frozenset([found]) if found else frozenset()


# The consumer's argument -----------------------------------------------------------------------


def location(uri_scheme: str, uri: str | None, uri_expr: str | None) -> dict[str, Any]:
    """The location of the argument artifact, as ``hera`` ``Artifact`` keywords: from the URI
    (a constant) or from an expression whose value is the URI's wire text."""
    if family(uri_scheme) == "http":
        url = uri if uri is not None else argo_expr.expression(_run_time_part(uri_expr, uri_scheme, "url"))
        return {"http": m.HTTPArtifact(url=url)}
    if uri is not None:
        parts = split(uri)
        assert parts is not None
        bucket, key = parts
    else:
        bucket = argo_expr.expression(_run_time_part(uri_expr, uri_scheme, "bucket"))
        key = argo_expr.expression(_run_time_part(uri_expr, uri_scheme, "key"))
    if uri_scheme == "gs":
        return {"gcs": m.GCSArtifact(bucket=bucket, key=key)}
    if uri_scheme == "s3":
        return {"s3": m.S3Artifact(endpoint=AWS_S3_ENDPOINT, bucket=bucket, key=key, use_sdk_creds=True)}
    return {"s3": m.S3Artifact(key=key)}  # minio: key-only, completed from the artifact repository


def text_of(wire_text: str) -> str:
    """The canonical text a wire text (an expression) holds, base64 escape undone; nil when it
    is absent. A URI or a value spliced into metadata is read this way."""
    prefix = wire_expr.string(wire.B64_PREFIX)
    return f"({wire_text} == {wire_expr.string(wire.NONE)} ? nil : ({wire_text} startsWith {prefix} ? sprig.b64dec({wire_text}[{len(wire.B64_PREFIX)}:]) : {wire_text}))"


def _run_time_part(uri_expr: str | None, uri_scheme: str, part: str) -> str:
    """The ``part`` ("url", "bucket" or "key") of a run-time URI, when it has the scheme the
    manifest was made for and names an object; otherwise a text that makes Argo's download fail
    with the reason in it. Never an evaluation error."""
    assert uri_expr is not None
    error = wire_expr.string(f"{wire.ERROR_PREFIX}the importer URI is not a {uri_scheme}:// URI of an object")
    if part == "url":
        matches = "hasPrefix(lower(#), 'http://') || hasPrefix(lower(#), 'https://')"
        return f"map([{text_of(uri_expr)}], # != nil && ({matches}) ? # : {error})[0]"
    prefix = f"{uri_scheme}://"
    pick = "#[0]" if part == "bucket" else "join(#[1:], '/')"
    parts = f"map([split(#[{len(prefix)}:], '/')], len(#) > 1 && #[0] != '' && join(#[1:], '/') != '' ? {pick} : {error})[0]"
    return f"map([{text_of(uri_expr)}], # != nil && hasPrefix(lower(#), {wire_expr.string(prefix)}) ? {parts} : {error})[0]"


def companion(importer: ir.Importer, uri_scheme: str, uri: str | None, uri_expr: str | None,
              inputs: dict[str, tuple[bool, str]], problem: Callable[[str, str], None]) -> str:
    """The artifact's metadata companion (STRUCT wire text, or an expression tag giving it): the
    importer's metadata with its ``{{$.inputs.parameters['x']}}`` placeholders resolved as
    ``kfp.local`` does (a string as it is, any other value as JSON), plus the URI under
    ``URI_KEY`` when KFP's SDK maps it to a local path. ``inputs`` maps each input of the
    importer task to (True, its canonical text) for a constant, else (False, an expression of
    its wire text)."""
    metadata: dict[str, Any] = dict(importer.metadata)
    if uri_scheme in LOCAL_ROOTS:
        metadata[URI_KEY] = uri if uri is not None else _RunTime(text_of(uri_expr or "nil"))
    builder = _MetadataBuilder(inputs, problem, importer.pointer + "/metadata")
    if not builder.is_run_time(metadata):
        return wire.wire_value(builder.static(metadata), "STRUCT")
    return argo_expr.expression(wire_expr.encode(builder.json_text(metadata)))


class _RunTime(str):
    """A metadata value known at run time: an expr-lang expression."""


class _MetadataBuilder:
    """Importer metadata with placeholders: its value when every placeholder is bound to a
    constant, else an expression giving its JSON text."""

    def __init__(self, inputs: dict[str, tuple[bool, str]], problem: Callable[[str, str], None], at: str) -> None:
        self.inputs = inputs
        self.problem = problem
        self.at = at

    def pieces(self, text: str) -> list[str | tuple[bool, str]]:
        """Literal text, and the input (as in ``inputs``) of each placeholder."""
        result: list[str | tuple[bool, str]] = []
        for piece in placeholders.split(text):
            if isinstance(piece, str):
                result.append(piece)
            elif isinstance(piece, placeholders.IORef) and (piece.side, piece.kind, piece.attr) == ("inputs", "parameters", "") \
                    and piece.name in self.inputs:
                result.append(self.inputs[piece.name])
            else:
                self.problem(MSG_METADATA_PLACEHOLDER.format(text=piece.text), self.at)
                result.append(piece.text)
        return result

    def is_run_time(self, value: Any) -> bool:
        if isinstance(value, _RunTime):
            return True
        if isinstance(value, dict):
            return any(self.is_run_time(k) or self.is_run_time(v) for k, v in value.items())
        if isinstance(value, list):
            return any(self.is_run_time(v) for v in value)
        if isinstance(value, str):
            return any(isinstance(p, tuple) and not p[0] for p in self.pieces(value))
        return False

    def static(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {self.static(k): self.static(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.static(v) for v in value]
        if isinstance(value, str):
            return "".join(p if isinstance(p, str) else p[1] for p in self.pieces(value))
        return value

    def json_text(self, value: Any) -> str:
        """An expression whose value is the compact JSON text of ``value``."""
        if isinstance(value, _RunTime):
            return f"toJson({value})"
        if isinstance(value, dict):
            entries = [f"toJson({self.string(k)}) + ':' + {self.json_text(v)}" for k, v in value.items()]
            return "'{' + " + " + ',' + ".join(entries or ["''"]) + " + '}'"
        if isinstance(value, list):
            return "'[' + " + " + ',' + ".join([self.json_text(v) for v in value] or ["''"]) + " + ']'"
        if isinstance(value, str):
            return f"toJson({self.string(value)})"
        return wire_expr.string(json.dumps(value))

    def string(self, text: str) -> str:
        """An expression for a metadata string with its placeholders replaced."""
        parts = []
        for piece in self.pieces(text):
            if isinstance(piece, str):
                parts.append(wire_expr.string(piece))
            elif piece[0]:
                parts.append(wire_expr.string(piece[1]))
            else:
                parts.append(f"({text_of(piece[1])} ?? 'null')")
        return " + ".join(parts) or "''"


def interpolated(wire_text: str) -> str:
    """How a constant input reads inside importer metadata: its canonical text (a string as it
    is, any other value as compact JSON), "null" when it is absent."""
    value = wire.decode(wire_text)
    return "null" if value is None else value


def uri_parameter(name: str) -> str:
    """The input parameter that gives a container component the original URI of an imported
    artifact (for ``{{$.inputs.artifacts['x'].uri}}``)."""
    return "kfp2argo-uri-" + names.parameter_name(name)
