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
* ``http(s)://...``: no argument artifact. KFP's launcher downloads only the URIs it maps to a
  local path (gs, s3, minio: ``LocalPathForURI``); an http(s) artifact reaches the component as
  its URI, which KFP's SDK also gives as ``artifact.path`` (``support`` refuses a container
  component that reads its ``.path``: KFP leaves that placeholder unresolved).

The object is downloaded as it is (``archive: none``), and, as KFP's launcher does, whether or
not the component reads its path: an unreadable object fails the consumer. A URI known only at
run time is split by an expression in the argument; its scheme, which decides the kind of
location, is known at compile time (``analysis.Analysis.importer_scheme``: the URIs the value
may have, or ``--importer-scheme``), and a run-time URI with another scheme fails the consumer. The consumer's executor input sees the original URI and the importer's
metadata: both travel in the artifact's metadata companion parameter (the URI under the reserved
key ``kfp2argo:uri``), and the launcher links KFP's local path for the URI (``/gcs/b/k`` ...) to
the downloaded file, so ``artifact.path`` reads it.
"""

from __future__ import annotations

from typing import Any

from hera.workflows import models as m

from transpiler import argo_expr, expr, ir, names, placeholders, wire
from transpiler.analysis import scheme_family, scheme_of, split_uri
from transpiler.lower import io
from transpiler.lower.values import Scope, Value, parameter_value

URI_KEY = "kfp2argo:uri"
WORKSPACE_KEY = "_kfp_workspace"  # KFP's own metadata flag of an artifact downloaded into the workspace
AWS_S3_ENDPOINT = "s3.amazonaws.com"


def imported_argument(scope: Scope, binding: ir.ArtifactBinding) -> tuple[m.Artifact | None, m.Parameter]:
    """The argument artifact for an importer's artifact (its location, downloaded as it is; None
    for an http(s) URI, which KFP does not download) and its metadata companion (the importer's
    metadata and the original URI)."""
    producer = _producer(scope, binding)
    spec = scope.ctx.pipeline.importer(producer.component)
    assert spec is not None
    uri_scheme, uri, uri_value = _uri(scope, producer)
    values = _inputs(scope, producer)
    inputs = {
        b.name: (True, _interpolated(values[b.name].tag)) if isinstance(b.source, ir.Constant) else (False, values[b.name].expr)
        for b in producer.parameters
    }
    uri_expr = uri_value.expr if uri_value else None
    metadata = _companion(spec, uri_scheme, uri, uri_expr, inputs)
    companion = m.Parameter(name=names.metadata_parameter(binding.name), value=metadata)
    if scheme_family(uri_scheme) == "http":
        return None, companion
    # Not optional: a missing object fails the consumer, as KFP's launcher fails it.
    artifact = m.Artifact(name=names.parameter_name(binding.name), archive=m.ArchiveStrategy(none=m.NoneStrategy()),
                          **location(uri_scheme, uri, uri_expr))
    return artifact, companion


def imported_uri(scope: Scope, binding: ir.ArtifactBinding) -> str:
    """What a container component sees as ``{{$.inputs.artifacts['x'].uri}}`` for an artifact
    that may be imported: the importer's URI (as any string input, its wire text); through a
    DAG input, the URI the metadata companion carries, else (an artifact a task made) the local
    path, as for any artifact."""
    source = binding.source
    if isinstance(source, ir.TaskOutput):
        _, uri, uri_value = _uri(scope, _producer(scope, binding))
        return uri_value.tag if uri_value else wire.wire_value(uri, "STRING")
    companion = scope.component_input(names.metadata_parameter(source.name)).expr
    return argo_expr.expression(expr.imported_uri_or_local(companion, URI_KEY, io.input_artifact_path(binding.name)))


def _producer(scope: Scope, binding: ir.ArtifactBinding) -> ir.Task:
    assert isinstance(binding.source, ir.TaskOutput) and scope.component.dag is not None
    return scope.component.dag.task(binding.source.task)


def _uri(scope: Scope, producer: ir.Task) -> tuple[str, str | None, Value | None]:
    """An importer task's URI in a consumer's scope: its scheme, and the URI (a constant) or the
    value that holds it at run time."""
    spec = scope.ctx.pipeline.importer(producer.component)
    assert spec is not None
    found, _ = scope.ctx.facts.importer_scheme(scope.component, producer)
    assert found is not None, "support refuses importers without a known scheme"
    source = scope.ctx.facts.importer_uri_source(producer)
    if isinstance(source, ir.Constant):
        return found, source.value, None
    return found, None, _inputs(scope, producer)[str(spec.uri)]


def _inputs(scope: Scope, producer: ir.Task) -> dict[str, Value]:
    component = scope.ctx.pipeline.components[producer.component]
    return {b.name: parameter_value(scope, producer, component, b) for b in producer.parameters}


def location(uri_scheme: str, uri: str | None, uri_expr: str | None) -> dict[str, Any]:
    """The location of an artifact with a gs://, s3:// or minio:// URI, as ``hera`` ``Artifact``
    keywords: from the URI (a constant) or from an expression whose value is the URI's wire
    text."""
    if uri is not None:
        parts = split_uri(uri)
        assert parts is not None
        bucket, key = parts
    else:
        bucket = argo_expr.expression(expr.uri_part(uri_expr or "", uri_scheme, "bucket"))
        key = argo_expr.expression(expr.uri_part(uri_expr or "", uri_scheme, "key"))
    if uri_scheme == "gs":
        return {"gcs": m.GCSArtifact(bucket=bucket, key=key)}
    if uri_scheme == "s3":
        return {"s3": m.S3Artifact(endpoint=AWS_S3_ENDPOINT, bucket=bucket, key=key, use_sdk_creds=True)}
    return {"s3": m.S3Artifact(key=key)}  # minio: key-only, completed from the artifact repository


def pipeline_input(artifact: ir.ArtifactDef) -> tuple[m.Artifact | None, m.Parameter]:
    """A pipeline input artifact as workflow arguments: the artifact at its ``--input-artifact``
    URI (none without a URI: the Workflow that runs a template gives it, as Argo takes no
    artifact argument without a location; none for an http(s) URI, which is not downloaded) and
    its metadata companion, which carries the URI as an importer's does."""
    scheme = scheme_of(artifact.uri or "")
    name = names.parameter_name(artifact.name)
    if artifact.uri is None:
        metadata = wire.NONE if artifact.optional else io.EMPTY_METADATA
        return None, m.Parameter(name=names.metadata_parameter(artifact.name), value=metadata)
    companion = m.Parameter(name=names.metadata_parameter(artifact.name), value=wire.wire_value({URI_KEY: artifact.uri}, "STRUCT"))
    if scheme is None or scheme_family(scheme) == "http":
        return None, companion
    return m.Artifact(name=name, archive=m.ArchiveStrategy(none=m.NoneStrategy()), **location(scheme, artifact.uri, None)), companion


def _companion(importer: ir.Importer, uri_scheme: str, uri: str | None, uri_expr: str | None,
               inputs: dict[str, tuple[bool, str]]) -> str:
    """The artifact's metadata companion (STRUCT wire text, or an expression tag giving it): the
    importer's metadata with its ``{{$.inputs.parameters['x']}}`` placeholders resolved as
    ``kfp.local`` does (a string as it is, any other value as JSON), plus the URI under
    ``URI_KEY``. ``inputs`` maps each input of the
    importer task to (True, its canonical text) for a constant, else (False, an expression of
    its wire text)."""
    metadata: dict[str, Any] = dict(importer.metadata)
    if importer.download_to_workspace:
        metadata[WORKSPACE_KEY] = True  # KFP's driver marks it so; the SDK then reads it from the workspace
    metadata[URI_KEY] = uri if uri is not None else expr.Raw(expr.text_of(uri_expr or "nil"))
    builder = _MetadataBuilder(inputs)
    if not builder.is_run_time(metadata):
        return wire.wire_value(builder.static(metadata), "STRUCT")
    return argo_expr.expression(expr.encode(expr.json_text(metadata, builder.string)))


class _MetadataBuilder:
    """Importer metadata with placeholders: its value when every placeholder is bound to a
    constant, else an expression giving its JSON text (``support`` refuses other placeholders)."""

    def __init__(self, inputs: dict[str, tuple[bool, str]]) -> None:
        self.inputs = inputs

    def pieces(self, text: str) -> list[str | tuple[bool, str]]:
        """Literal text, and the input (as in ``inputs``) of each placeholder."""
        result: list[str | tuple[bool, str]] = []
        for piece in placeholders.split(text):
            if isinstance(piece, str):
                result.append(piece)
            else:
                assert isinstance(piece, placeholders.IORef)
                result.append(self.inputs[piece.name])
        return result

    def is_run_time(self, value: Any) -> bool:
        if isinstance(value, expr.Raw):
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

    def string(self, text: str) -> str:
        """An expression for a metadata string with its placeholders replaced."""
        parts = []
        for piece in self.pieces(text):
            if isinstance(piece, str):
                parts.append(expr.string(piece))
            elif piece[0]:
                parts.append(expr.string(piece[1]))
            else:
                parts.append(expr.text_or_null(piece[1]))
        return expr.joined(parts)


def _interpolated(wire_text: str) -> str:
    """How a constant input reads inside importer metadata: its canonical text (a string as it
    is, any other value as compact JSON), "null" when it is absent."""
    value = wire.decode(wire_text)
    return "null" if value is None else value
