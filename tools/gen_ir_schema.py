#!/usr/bin/env python3
"""Generate the JSON Schema of the KFP pipeline IR from its protobuf descriptors.

Run ``python tools/gen_ir_schema.py`` after bumping ``kfp-pipeline-spec`` or
``kfp-kubernetes``; ``tests/test_schema.py`` fails until the committed files match.
``--check`` exits with status 1 (and changes nothing) when a committed file is stale;
``--out-dir DIR`` writes somewhere other than ``schemas/``.

What it reads
    The message and enum descriptors compiled into ``kfp.pipeline_spec.pipeline_spec_pb2``
    (``ml_pipelines.*``) and ``kfp.kubernetes.kubernetes_executor_config_pb2``
    (``kfp_kubernetes.*``). No field is typed by hand. Roots: ``PipelineSpec``,
    ``PlatformSpec``, ``PipelineJob``, ``PipelineDeploymentConfig`` and
    ``KubernetesExecutorConfig``; every message reachable from them gets a ``$defs`` entry
    keyed by its full name (``ml_pipelines.PipelineTaskSpec``), and so does every enum.

What it writes
    ``schemas/pipeline_spec.schema.json`` (JSON Schema draft 2020-12). The root validates a
    ``PipelineSpec`` document. Entry ``$defs`` for the project's validator:

    ``PipelineSpec``
        ``ml_pipelines.PipelineSpec`` plus one override: ``deploymentSpec`` is a
        ``google.protobuf.Struct`` in the proto, but the SDK always fills it with
        ``MessageToDict(PipelineDeploymentConfig)`` (``executors.<label>.container`` ...),
        so the entry types it as ``ml_pipelines.PipelineDeploymentConfig``.
    ``PlatformSpec``
        ``ml_pipelines.PlatformSpec`` plus one override: the values of
        ``platforms.kubernetes.deploymentSpec.executors`` (a ``Struct`` in the proto) are
        typed as ``kfp_kubernetes.KubernetesExecutorConfig``, which is what kfp-kubernetes
        writes there. Other platforms keep the plain ``Struct``.
    ``PipelineJob``
        ``ml_pipelines.PipelineJob`` with ``pipelineSpec`` (a ``Struct``) typed as the
        ``PipelineSpec`` entry above.

    The overrides are written as ``$ref`` to the plain message plus sibling ``properties``
    that only narrow a ``Struct``; the ``$defs`` named after proto messages stay exactly
    what the descriptors say.

Mapping (protobuf JSON mapping, as ``google.protobuf.json_format.ParseDict`` reads it)
    * Field names: only the lowerCamelCase ``json_name`` (what ``MessageToDict`` and so the
      SDK writes). ParseDict also accepts the original snake_case name; this schema does
      not, because downstream code reads the camelCase keys and a snake_case key would be
      silently ignored there (python ParseDict even takes ``pipelineInfo`` and
      ``pipeline_info`` in one object, the last one winning). No corpus file uses a
      snake_case name.
    * Messages: ``type: object``, ``additionalProperties: false`` (unknown fields are
      errors, as in ParseDict without ``ignore_unknown_fields``), ``title`` = full name.
      No ``description``: the proto comments are not available at run time (the
      ``_pb2`` modules embed descriptors without ``source_code_info``, and the upb runtime
      drops it even when present), and prose is not invented here. Fields marked
      ``[deprecated = true]`` get the standard ``deprecated: true`` annotation.
    * Scalars: string; bool; 32-bit integers -> ``integer`` with range; 64-bit integers ->
      integer or string of decimal digits (``MessageToDict`` writes them as strings);
      float/double -> number or one of the strings ``NaN``, ``Infinity``, ``-Infinity``;
      bytes -> base64 string.
    * Enums: a ``$defs`` entry per enum: ``if: {type: integer}, then: {enum: [numbers]},
      else: {enum: [names]}``, so a misspelt name fails one ``enum`` keyword that lists
      exactly the names (not the numbers).
    * repeated -> array; ``map<k, v>`` -> object with ``additionalProperties: <v>``
      (non-string keys get a ``propertyNames`` pattern).
    * Well-known types: ``Value`` -> any JSON value, ``Struct`` -> object, ``ListValue`` ->
      array, ``Duration`` -> ``"1.5s"``-style string, ``Timestamp`` -> RFC 3339 string,
      wrappers -> their scalar, ``Any`` -> object with ``@type``, ``Empty`` -> ``{}``,
      ``FieldMask`` -> string.
    * oneof groups (synthetic oneofs of proto3 ``optional`` fields are skipped): recorded
      as ``x-oneof: {group: [jsonName, ...]}`` on the message (descriptor order), and
      enforced with standard ``dependentSchemas``: each member forbids the members that
      come *after* it::

          dependentSchemas:
            a: {properties: {b: NOPE(a, b), c: NOPE(a, c)}}
            b: {properties: {c: NOPE(b, c)}}
          NOPE(x, y) = {not: {}, x-oneof-conflict: {group: <group>, fields: [x, y]}}

      So a document setting ``a`` and ``c`` gives exactly one error, located at ``c``
      (JSON path ``.../c``, keyword ``not``), and the failing subschema itself says which
      group and fields conflict: a validator can read ``error.schema["x-oneof-conflict"]``
      without walking back through ``$ref`` links. ``{not: {}}`` is used instead of the
      equivalent ``false`` because python-jsonschema (4.26) drops the property name from
      both the instance path and the schema path of errors raised by a ``false`` subschema.

    Deliberately stricter than ParseDict (the SDK never writes these forms): ``null`` is
    rejected for every field except those of type ``google.protobuf.Value``; snake_case
    field names are rejected; 32-bit integers and floats given as JSON strings of digits
    are rejected; enum numbers that the enum does not declare are rejected.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

REPO = Path(__file__).resolve().parents[1]
GENERATOR = "tools/gen_ir_schema.py"
SCHEMA_FILE = "pipeline_spec.schema.json"

# (distribution, module) pairs the descriptors come from.
SOURCES = (
    ("kfp-pipeline-spec", "kfp.pipeline_spec.pipeline_spec_pb2"),
    ("kfp-kubernetes", "kfp.kubernetes.kubernetes_executor_config_pb2"),
)

ROOT_MESSAGES = (
    "ml_pipelines.PipelineSpec",
    "ml_pipelines.PlatformSpec",
    "ml_pipelines.PipelineJob",
    "ml_pipelines.PipelineDeploymentConfig",
    "kfp_kubernetes.KubernetesExecutorConfig",
)

INT32_RANGE = (-(2**31), 2**31 - 1)
UINT32_RANGE = (0, 2**32 - 1)
INT64_RANGE = (-(2**63), 2**63 - 1)
UINT64_RANGE = (0, 2**64 - 1)

F = FieldDescriptor


def _int32(lo_hi):
    return {"type": "integer", "minimum": lo_hi[0], "maximum": lo_hi[1]}


def _int64(lo_hi):
    return {
        "type": ["integer", "string"],
        "minimum": lo_hi[0],
        "maximum": lo_hi[1],
        "pattern": "^-?[0-9]+$" if lo_hi[0] < 0 else "^[0-9]+$",
    }


_FLOAT = {"type": ["number", "string"], "pattern": "^(NaN|-?Infinity)$"}
_BYTES = {
    "type": "string",
    "contentEncoding": "base64",
    "pattern": "^[A-Za-z0-9+/_-]*={0,2}$",
}

SCALARS = {
    F.TYPE_STRING: {"type": "string"},
    F.TYPE_BOOL: {"type": "boolean"},
    F.TYPE_INT32: _int32(INT32_RANGE),
    F.TYPE_SINT32: _int32(INT32_RANGE),
    F.TYPE_SFIXED32: _int32(INT32_RANGE),
    F.TYPE_UINT32: _int32(UINT32_RANGE),
    F.TYPE_FIXED32: _int32(UINT32_RANGE),
    F.TYPE_INT64: _int64(INT64_RANGE),
    F.TYPE_SINT64: _int64(INT64_RANGE),
    F.TYPE_SFIXED64: _int64(INT64_RANGE),
    F.TYPE_UINT64: _int64(UINT64_RANGE),
    F.TYPE_FIXED64: _int64(UINT64_RANGE),
    F.TYPE_FLOAT: _FLOAT,
    F.TYPE_DOUBLE: _FLOAT,
    F.TYPE_BYTES: _BYTES,
}

# Map keys are JSON object keys, i.e. always strings; integer and bool keys are written as
# their decimal / "true" / "false" text.
KEY_PATTERNS = {
    F.TYPE_BOOL: "^(true|false)$",
    **{t: "^-?[0-9]+$" for t in (F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32,
                                 F.TYPE_INT64, F.TYPE_SINT64, F.TYPE_SFIXED64)},
    **{t: "^[0-9]+$" for t in (F.TYPE_UINT32, F.TYPE_FIXED32, F.TYPE_UINT64, F.TYPE_FIXED64)},
}

# Well-known types have special JSON forms; their descriptors are not walked.
WELL_KNOWN = {
    "google.protobuf.Value": {},
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?s$"},
    "google.protobuf.Timestamp": {
        "type": "string",
        "format": "date-time",
        "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
                   r"([Zz]|[+-][0-9]{2}:[0-9]{2})$",
    },
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
    "google.protobuf.Any": {
        "type": "object",
        "required": ["@type"],
        "properties": {"@type": {"type": "string"}},
    },
    "google.protobuf.DoubleValue": SCALARS[F.TYPE_DOUBLE],
    "google.protobuf.FloatValue": SCALARS[F.TYPE_FLOAT],
    "google.protobuf.Int64Value": SCALARS[F.TYPE_INT64],
    "google.protobuf.UInt64Value": SCALARS[F.TYPE_UINT64],
    "google.protobuf.Int32Value": SCALARS[F.TYPE_INT32],
    "google.protobuf.UInt32Value": SCALARS[F.TYPE_UINT32],
    "google.protobuf.BoolValue": SCALARS[F.TYPE_BOOL],
    "google.protobuf.StringValue": SCALARS[F.TYPE_STRING],
    "google.protobuf.BytesValue": SCALARS[F.TYPE_BYTES],
}


def _is_repeated(field: FieldDescriptor) -> bool:
    # protobuf >= 5.29 has the is_repeated property and deprecates label.
    if hasattr(type(field), "is_repeated") or hasattr(field, "is_repeated"):
        return bool(field.is_repeated)
    return field.label == F.LABEL_REPEATED


def _ref(name: str) -> dict:
    return {"$ref": f"#/$defs/{name}"}


class _Builder:
    def __init__(self):
        self.defs: dict[str, object] = {}

    # -- types ---------------------------------------------------------------------------
    def message(self, desc: Descriptor) -> str:
        """Add ``desc`` (and everything it reaches) to ``defs``; return its def name."""
        name = desc.full_name
        if name in self.defs:
            return name
        if name in WELL_KNOWN:
            self.defs[name] = {"title": name, **WELL_KNOWN[name]}
            return name
        if name.startswith("google.protobuf."):
            raise SystemExit(f"{GENERATOR}: no JSON mapping known for well-known type {name}")
        schema: dict = {"title": name, "type": "object", "additionalProperties": False}
        self.defs[name] = schema  # placeholder first: messages can be recursive

        proto = descriptor_pb2.DescriptorProto()
        desc.CopyToProto(proto)
        synthetic = {
            f.oneof_index for f in proto.field
            if f.proto3_optional and f.HasField("oneof_index")
        }

        props = {}
        for field in desc.fields:
            prop = self.field(field)
            if field.GetOptions().deprecated:
                prop = {**prop, "deprecated": True}
            props[field.json_name] = prop
        schema["properties"] = props

        groups = {}
        for index, oneof in enumerate(desc.oneofs):
            if index in synthetic:
                continue
            groups[oneof.name] = [f.json_name for f in oneof.fields]
        if groups:
            schema["x-oneof"] = groups
            dependent = {}
            for group, members in groups.items():
                for i, member in enumerate(members[:-1]):
                    dependent[member] = {"properties": {
                        later: {
                            "not": {},
                            "x-oneof-conflict": {"group": group, "fields": [member, later]},
                        }
                        for later in members[i + 1:]
                    }}
            schema["dependentSchemas"] = dependent
        return name

    def enum(self, desc: EnumDescriptor) -> str:
        name = desc.full_name
        if name not in self.defs:
            numbers = []
            for value in desc.values:
                if value.number not in numbers:
                    numbers.append(value.number)
            self.defs[name] = {
                "title": name,
                "if": {"type": "integer"},
                "then": {"enum": numbers},
                "else": {"enum": [v.name for v in desc.values]},
            }
        return name

    def single(self, field: FieldDescriptor) -> dict:
        """Schema of one value of ``field`` (an element, for repeated fields)."""
        if field.type in (F.TYPE_MESSAGE, F.TYPE_GROUP):
            return _ref(self.message(field.message_type))
        if field.type == F.TYPE_ENUM:
            return _ref(self.enum(field.enum_type))
        return dict(SCALARS[field.type])

    def field(self, field: FieldDescriptor) -> dict:
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            key, value = entry.fields_by_name["key"], entry.fields_by_name["value"]
            schema = {"type": "object", "additionalProperties": self.single(value)}
            if key.type in KEY_PATTERNS:
                schema["propertyNames"] = {"pattern": KEY_PATTERNS[key.type]}
            return schema
        if _is_repeated(field):
            return {"type": "array", "items": self.single(field)}
        return self.single(field)


def _load_sources():
    modules, versions = [], {}
    for dist, module_name in SOURCES:
        modules.append(importlib.import_module(module_name))
        versions[dist] = importlib.metadata.version(dist)
    return modules, versions


def _find_message(modules, full_name: str) -> Descriptor:
    package, _, rest = full_name.partition(".")
    for module in modules:
        if module.DESCRIPTOR.package == package:
            desc = module.DESCRIPTOR.message_types_by_name[rest.split(".")[0]]
            for part in rest.split(".")[1:]:
                desc = desc.nested_types_by_name[part]
            return desc
    raise KeyError(full_name)


def build_schema() -> dict:
    modules, versions = _load_sources()
    builder = _Builder()
    for name in ROOT_MESSAGES:
        builder.message(_find_message(modules, name))
    defs = builder.defs

    # Entry points. Each is the plain message plus properties that narrow a Struct field.
    defs["PipelineSpec"] = {
        "$comment": "ml_pipelines.PipelineSpec whose deploymentSpec (a google.protobuf.Struct "
                    "in the proto) is typed as ml_pipelines.PipelineDeploymentConfig, which "
                    "is what the KFP SDK writes there.",
        **_ref("ml_pipelines.PipelineSpec"),
        "properties": {"deploymentSpec": _ref("ml_pipelines.PipelineDeploymentConfig")},
    }
    defs["PlatformSpec"] = {
        "$comment": "ml_pipelines.PlatformSpec whose platforms.kubernetes.deploymentSpec."
                    "executors values (google.protobuf.Struct in the proto) are typed as "
                    "kfp_kubernetes.KubernetesExecutorConfig, which is what kfp-kubernetes "
                    "writes there.",
        **_ref("ml_pipelines.PlatformSpec"),
        "properties": {"platforms": {"properties": {"kubernetes": {"properties": {
            "deploymentSpec": {"properties": {"executors": {
                "additionalProperties": _ref("kfp_kubernetes.KubernetesExecutorConfig"),
            }}},
        }}}}},
    }
    defs["PipelineJob"] = {
        "$comment": "ml_pipelines.PipelineJob whose pipelineSpec (a google.protobuf.Struct "
                    "in the proto) is typed as the PipelineSpec entry.",
        **_ref("ml_pipelines.PipelineJob"),
        "properties": {"pipelineSpec": _ref("PipelineSpec")},
    }

    sources = ", ".join(f"{dist} {versions[dist]}" for dist, _ in SOURCES)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": f"GENERATED by {GENERATOR} from the protobuf descriptors of {sources}. "
                    f"Do not edit; run `python {GENERATOR}`.",
        "title": "Kubeflow Pipelines IR (ml_pipelines.PipelineSpec, protobuf JSON mapping)",
        "x-generated-from": {
            "generator": GENERATOR,
            "packages": dict(versions),
            "modules": {dist: module for dist, module in SOURCES},
            "proto-files": sorted({m.DESCRIPTOR.name for m in modules}),
        },
        **_ref("PipelineSpec"),
        "$defs": defs,
    }


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def outputs() -> dict[str, str]:
    """File name (inside ``schemas/``) -> exact file text."""
    return {SCHEMA_FILE: render(build_schema())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=REPO / "schemas",
                        help="where to write the schema files (default: schemas/)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a file in --out-dir differs")
    args = parser.parse_args(argv)

    stale = []
    for name, text in outputs().items():
        path = args.out_dir / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(path)
        else:
            args.out_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            print(f"wrote {path}")
    if stale:
        for path in stale:
            print(f"{path} is out of date; run `python {GENERATOR}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
