"""kfp2argo launcher: runs a KFP Python component inside an Argo pod, with no KFP backend.

A manifest carries it once, verbatim, in the environment variable KFP2ARGO_LAUNCHER (set for every
container by spec.templateDefaults); a Python component's container runs it with
`python3 -c 'import os; exec(...KFP2ARGO_LAUNCHER...)' <spec> -- <argv...>`.
It reads the component's inputs from environment variables (wire-encoded by the transpiler or
by the producing launcher), builds the executor input that KFP's own launcher would build,
resolves the KFP placeholders in the component's command, runs it, and copies its outputs to
the files Argo collects, wire-encoded. The spec, the wire encoding and the steps are in
docs/runtime-contract.md; transpiler/wire.py holds the compile-time copy of the encoding.

Standard library only, Python 3.7+, no network. Argo parses every double opening brace in a
manifest, so this file never contains one: the code builds it as OPEN.
"""
import base64
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
from decimal import Decimal

NONE = "kfp2argo:none"
ESCAPE = "kfp2argo:"
B64 = "kfp2argo:b64:"
ERROR = "kfp2argo:error:"
URI_KEY = "kfp2argo:uri"  # in an input artifact's metadata: the URI of an imported artifact
WORKSPACE_KEY = "_kfp_workspace"  # KFP's flag: the artifact is in the pipeline workspace
WORKSPACE = "/kfp-workspace"
# KFP's SDK reads a remote URI's artifact.path from these local folders (artifact_types.py).
LOCAL_PREFIXES = (("gs://", "/gcs/"), ("s3://", "/s3/"), ("minio://", "/minio/"))
OPEN = "{" * 2
ROOTS = ("workflow", "inputs", "outputs", "pod", "node", "tasks", "steps", "item", "retries",
         "lastRetry", "cronworkflow", "status", "exitCode", "duration", "resourcesDuration")
PLACEHOLDER = re.compile(r"\{\{\$[^{}]*\}\}")
DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
TRUE, FALSE = ("1", "t", "T", "TRUE", "true", "True"), ("0", "f", "F", "FALSE", "false", "False")


class LauncherError(Exception):
    """A problem the launcher reports itself (exit code 2)."""


# ---- wire encoding (docs/runtime-contract.md, "Wire encoding") ----

def argo_unsafe(ch):
    o = ord(ch)
    return (o < 0x20 and ch not in "\b\t\n\f\r") or o == 0x7F or o > 0xFFFF or 0xD800 <= o <= 0xDFFF


def is_argo_inert(text):
    if any(argo_unsafe(ch) for ch in text):
        return False
    pos = 0
    while True:
        start = text.find(OPEN, pos)
        if start < 0:
            return True
        end = text.find("}}", start + 2)
        if end < 0:
            return False
        tag = text[start + 2:end]
        if OPEN in tag or tag.strip().startswith(("=",) + ROOTS):
            return False
        pos = end + 2


def encode(text):
    if is_argo_inert(text) and not text.startswith(ESCAPE) and not text.endswith("\n"):
        return text
    return B64 + base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode(wire):
    if wire == NONE:
        return None
    if wire.startswith(B64):
        try:
            return base64.b64decode(wire[len(B64):], validate=True).decode("utf-8")
        except ValueError as e:  # binascii.Error and UnicodeDecodeError are ValueErrors
            raise ValueError("malformed kfp2argo:b64: value (%s)" % e)
    if wire.startswith(ERROR):
        raise ValueError("no value: " + wire[len(ERROR):])
    if wire.startswith(ESCAPE):
        raise ValueError("unknown escape %r" % wire[:40])
    return wire


def format_double(number):
    """As Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, no exponent."""
    try:
        f = float(number)
    except OverflowError:
        raise ValueError("%d is too large for a double" % number)
    if math.isnan(f) or math.isinf(f):
        raise ValueError("NaN and infinite numbers cannot be parameter values")
    return format(Decimal(repr(f)).normalize(), "f")


def compact_json(v):
    if isinstance(v, float):  # as Go's encoding/json writes a float64: 1.0 is 1, 1e-07 is 1e-7
        text = format_double(v)
        return text if v == 0 or 1e-6 <= abs(v) < 1e21 else re.sub(r"e-0(\d)\Z", r"e-\1", repr(v))
    if isinstance(v, list):
        return "[" + ",".join(compact_json(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + compact_json(x)
                              for k, x in v.items()) + "}"
    return json.dumps(v, ensure_ascii=False)  # str, int, bool, None


def canonical(value, ptype):
    """Canonical text of a value (a JSON value) of an IR parameter type."""
    kinds = {"STRING": str, "BOOLEAN": bool, "LIST": list, "STRUCT": dict}
    if ptype in kinds and isinstance(value, kinds[ptype]):
        if ptype == "STRING":
            return value
        return ("true" if value else "false") if ptype == "BOOLEAN" else compact_json(value)
    if ptype == "NUMBER_INTEGER" and not isinstance(value, bool):
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return str(int(value))
    if ptype == "NUMBER_DOUBLE" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_double(value)
    raise ValueError("%s %r is not a %s value" % (type(value).__name__, value, ptype))


def parse_text(text, ptype):
    """Typed value of a text of an IR parameter type (what KFP's launcher accepts)."""
    s = text.strip()
    if ptype == "STRING":
        return text
    if ptype == "NUMBER_INTEGER":  # digits, or an integral decimal such as 3.0 (not 1e999999)
        if DECIMAL.match(s) and Decimal(s) == Decimal(s).to_integral_value() \
                and Decimal(s).adjusted() <= 1000:
            return int(Decimal(s))
    elif ptype == "NUMBER_DOUBLE":
        if DECIMAL.match(s) and math.isfinite(float(s)):
            return float(s)
    elif ptype == "BOOLEAN":
        if s in TRUE + FALSE:
            return s in TRUE
    elif ptype in ("LIST", "STRUCT"):
        try:
            value = json.loads(text, parse_constant=reject_constant)
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, list if ptype == "LIST" else dict):
            return value
    else:
        raise ValueError("unknown parameter type %r" % ptype)
    raise ValueError("not a %s: %r" % (ptype, text if len(text) <= 80 else text[:77] + "..."))


def reject_constant(name):
    raise ValueError("JSON constant %s is not allowed" % name)


# ---- steps 1-2: executor input ----

def read_inputs(spec):
    """Typed input parameter values and input artifacts, as the executor input holds them."""
    params, artifacts = {}, {}
    for name, p in sorted(spec.get("inputs", {}).get("parameters", {}).items()):
        raw = os.environ.get(p["env"])
        try:
            text = None if raw is None else decode(raw)
            if text is not None:
                params[name] = parse_text(text, p["type"])
        except ValueError as e:
            raise LauncherError("input parameter %r (%s): %s" % (name, p["type"], e))
    for name, a in sorted(spec.get("inputs", {}).get("artifacts", {}).items()):
        if a.get("list"):
            artifacts[name] = {"artifacts": read_list(name, a)}
            continue
        raw = os.environ.get(a.get("metadataEnv") or "", "")
        if raw == NONE:  # an optional input the task does not bind (a bound one may lack its file)
            continue
        try:
            meta = decode(raw) if raw else None
            meta = parse_text(meta, "STRUCT") if meta else {}
        except ValueError as e:
            raise LauncherError("metadata of input artifact %r: %s" % (name, e))
        uri = meta.pop(URI_KEY, None)
        if isinstance(uri, str) and local_path(uri) != uri and meta.get(WORKSPACE_KEY) is True:
            place_in_workspace(name, a["path"], uri)
        elif isinstance(uri, str) and local_path(uri) != uri:
            link_import(name, a["path"], uri)
        elif not isinstance(uri, str):
            uri = a["path"]  # an artifact a task made: its URI is where Argo put it
        artifacts[name] = {"artifacts": [artifact(name, a, meta, uri)]}
    return params, artifacts


def read_list(name, a):
    """A list of artifacts (lower/collected.py): the manifest (wire-encoded JSON, in the
    metadata variable) names each element's path below the folder Argo downloaded, in KFP's
    order, with its metadata. An absent manifest is an empty list."""
    raw = os.environ.get(a.get("metadataEnv") or "", "")
    try:
        text = decode(raw) if raw else None
        manifest = parse_text(text, "STRUCT") if text is not None else {}
    except ValueError as e:
        raise LauncherError("list of artifacts %r: %s" % (name, e))
    found = []
    for item in manifest.get("items") or []:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise LauncherError("list of artifacts %r: malformed element %r" % (name, item))
        meta = dict(item.get("metadata") or {})
        meta.pop(URI_KEY, None)
        try:
            path = confined(a["path"], item["path"])
        except ValueError as e:
            raise LauncherError("list of artifacts %r: %s" % (name, e))
        found.append(artifact(name, a, meta, path))
    return found


def confined(root, relative):
    """``root`` joined with a relative path that comes from run-time data, refused unless every
    segment is a plain name: no empty, '.' or '..' segment, no NUL, nothing outside ``root``."""
    segments = relative.split("/")
    if not relative or any(seg in ("", ".", "..") or "\0" in seg for seg in segments):
        raise ValueError("unsafe path %r" % relative[:200])
    return os.path.join(root, *segments)


def local_path(uri):
    """Where KFP's SDK reads an artifact with this URI (artifact.path): a local folder for a
    gs://, s3:// or minio:// URI, the URI itself otherwise."""
    for prefix, folder in LOCAL_PREFIXES:
        if uri.startswith(prefix):
            return folder + uri[len(prefix):]
    return uri


def link_import(name, download, uri):
    """Makes the file Argo downloaded for an imported artifact readable at KFP's local path for
    its URI, which must name an object (bucket and key of plain segments) inside that folder."""
    folder = next(f for p, f in LOCAL_PREFIXES if uri.startswith(p))
    try:
        link = confined(folder.rstrip("/"), uri.split("://", 1)[1].rstrip("/"))
        os.makedirs(os.path.dirname(link), exist_ok=True)
        real = os.path.realpath(os.path.dirname(link))
        if not (real + "/").startswith(os.path.realpath(folder.rstrip("/")) + "/"):
            raise ValueError("%s leads outside %s" % (link, folder))
        if not os.path.lexists(link):  # two inputs may import the same object
            os.symlink(download, link)
    except (OSError, ValueError) as e:
        raise LauncherError("imported artifact %r: cannot link %r: %s" % (name, uri[:200], e))


def workspace_path(uri):
    """Where KFP reads an artifact that is in the workspace: KFP's local path for its URI, under
    the workspace's .artifacts folder (the SDK's Artifact.path does the same)."""
    return confined(WORKSPACE + "/.artifacts", local_path(uri).lstrip("/"))


def place_in_workspace(name, download, uri):
    """An importer's artifact downloaded into the workspace: the first task that reads it copies
    Argo's download there (whole, then renamed into place); later ones find it and leave it."""
    try:
        target = workspace_path(uri)
        if os.path.lexists(target):
            return
        os.makedirs(os.path.dirname(target), exist_ok=True)
        partial = "%s.kfp2argo-%d" % (target, os.getpid())
        if os.path.isdir(download):
            shutil.copytree(download, partial, symlinks=True)
        else:
            shutil.copy2(download, partial)
        try:
            os.rename(partial, target)
        except OSError:  # another task placed it first
            shutil.rmtree(partial, ignore_errors=True) if os.path.isdir(partial) else os.unlink(partial)
            if not os.path.lexists(target):
                raise
    except (OSError, ValueError) as e:
        raise LauncherError("artifact %r for the workspace: cannot place %r: %s" % (name, uri[:200], e))


def artifact(name, a, metadata, uri=None):
    kind = {"schemaTitle": a.get("schemaTitle", "system.Artifact"),
            "schemaVersion": a.get("schemaVersion", "0.0.1")}
    return {"name": name, "type": kind, "uri": uri or a["path"], "metadata": metadata}


def executor_input(spec, params, artifacts):
    """The executor input; also creates the folders of every output path."""
    outs = spec.get("outputs", {})
    paths = [spec["outputFile"]]
    for p in outs.get("parameters", {}).values():
        paths.append(p["path"])
    for a in outs.get("artifacts", {}).values():
        paths += [a["path"], a.get("metadataPath") or a["path"]]
    for path in paths:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    return {
        "inputs": {"parameterValues": params, "artifacts": artifacts},
        "outputs": {
            "parameters": {n: {"outputFile": p["path"]}
                           for n, p in sorted(outs.get("parameters", {}).items())},
            "artifacts": {n: {"artifacts": [artifact(n, a, {})]}
                          for n, a in sorted(outs.get("artifacts", {}).items())},
            "outputFile": spec["outputFile"]}}


# ---- step 3: placeholders ----

def placeholder_table(spec, ei):
    """Each KFP placeholder this task can resolve, mapped to its text."""
    def key(body):
        return OPEN + "$" + body + "}}"
    table = {key(""): json.dumps(ei, separators=(",", ":"))}
    ptypes = spec.get("inputs", {}).get("parameters", {})
    for name, value in ei["inputs"]["parameterValues"].items():
        table[key(".inputs.parameters['%s']" % name)] = canonical(value, ptypes[name]["type"])
    for side in ("inputs", "outputs"):
        for name, arts in ei[side]["artifacts"].items():
            if spec.get(side, {}).get("artifacts", {}).get(name, {}).get("list"):
                continue  # KFP has no path or URI placeholder for a list
            first = arts["artifacts"][0]
            uri = first["uri"]  # a local path, or an imported artifact's URI
            in_workspace = first["metadata"].get(WORKSPACE_KEY) is True and local_path(uri) != uri
            table[key(".%s.artifacts['%s'].path" % (side, name))] = workspace_path(uri) if in_workspace else local_path(uri)
            table[key(".%s.artifacts['%s'].uri" % (side, name))] = uri
    for name, p in ei["outputs"]["parameters"].items():
        table[key(".outputs.parameters['%s'].output_file" % name)] = p["outputFile"]
    table[key(".outputs.output_file")] = ei["outputs"]["outputFile"]
    for placeholder, env in spec.get("env", {}).items():
        if env not in os.environ:
            raise LauncherError("environment variable %s for %s is not set" % (env, placeholder))
        table[placeholder] = os.environ[env]
    return table


def structured(node, present):
    """Expands a Concat/IfPresent structure into argv elements (strings)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for item in node for s in structured(item, present)]
    kind = list(node)[0] if isinstance(node, dict) and len(node) == 1 else None
    if kind == "Concat" and isinstance(node[kind], list):
        return ["".join(s for item in node[kind] for s in structured(item, present))]
    if kind == "IfPresent" and isinstance(node[kind], dict):
        body = node[kind]
        branch = body.get("Then") if body.get("InputName") in present else body.get("Else")
        return [] if branch is None else structured(branch, present)
    raise LauncherError("unsupported structured placeholder: %s" % json.dumps(node)[:200])


def resolve_argv(argv, table, ei):
    """Expands structured elements, then replaces placeholders in one pass (never in values)."""
    present = set(ei["inputs"]["parameterValues"]) | set(ei["inputs"]["artifacts"])
    out = []
    for element in argv:
        node = element
        if element.lstrip().startswith(('{"Concat"', '{"IfPresent"')):
            try:
                node = json.loads(element)
            except ValueError:
                node = element
        for s in structured(node, present):
            out.append(PLACEHOLDER.sub(lambda m: table.get(m.group(0), m.group(0)), s))
    return out


# ---- steps 4-6: run, then publish outputs ----

def run(argv):
    try:
        child = subprocess.Popen(argv)
    except OSError as e:  # as a shell does for a command it cannot run
        sys.stderr.write("kfp2argo-launcher: cannot run %r: %s\n" % (argv[0], e))
        return 127
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: child.send_signal(signum))
    code = child.wait()
    return 128 - code if code < 0 else code


def write_text(path, text):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def publish_outputs(spec):
    """Writes each output parameter and artifact metadata, wire-encoded, where Argo reads it."""
    outs = spec.get("outputs", {})
    result = {}
    if os.path.exists(spec["outputFile"]):
        try:
            with open(spec["outputFile"], encoding="utf-8") as f:
                result = json.load(f)
        except ValueError as e:
            raise LauncherError("cannot read the executor output file: %s" % e)
    values = result.get("parameterValues") or {}
    for name, p in sorted(outs.get("parameters", {}).items()):
        try:
            if name in values:
                text = canonical(values[name], p["type"])
            elif os.path.isfile(p["path"]):
                with open(p["path"], encoding="utf-8", newline="") as f:
                    text = canonical(parse_text(f.read(), p["type"]), p["type"])
            else:
                raise ValueError("the component did not write it")
        except ValueError as e:
            raise LauncherError("output parameter %r (%s): %s" % (name, p["type"], e))
        write_text(p["path"], encode(text))
    for name, a in sorted(outs.get("artifacts", {}).items()):
        if a.get("metadataPath"):
            runtime = ((result.get("artifacts") or {}).get(name) or {}).get("artifacts") or [{}]
            meta = runtime[0].get("metadata") or {}
            if isinstance(meta, dict):  # the key is reserved for an importer's URI
                meta = {k: v for k, v in meta.items() if k != URI_KEY}
            try:
                write_text(a["metadataPath"], encode(canonical(meta, "STRUCT")))
            except ValueError as e:
                raise LauncherError("metadata of output artifact %r: %s" % (name, e))


def decode_arg(arg):
    """An argv element as the transpiler wrote it: as is, or base64: + base64 of its UTF-8."""
    return base64.b64decode(arg[len("base64:"):], validate=True).decode("utf-8") \
        if arg.startswith("base64:") else arg


def main(args):
    os.environ.pop("KFP2ARGO_LAUNCHER", None)  # the component's own processes do not need it
    if len(args) < 3 or args[1] != "--":
        raise LauncherError("usage: launcher SPEC -- COMMAND...")
    try:
        spec = json.loads(decode_arg(args[0]))
        argv = [decode_arg(a) for a in args[2:]]
    except ValueError as e:
        raise LauncherError("cannot decode the spec or the command: %s" % e)
    if not isinstance(spec, dict) or "outputFile" not in spec:
        raise LauncherError("the spec is not a JSON object with an outputFile")
    params, artifacts = read_inputs(spec)
    ei = executor_input(spec, params, artifacts)
    code = run(resolve_argv(argv, placeholder_table(spec, ei), ei))
    if code != 0:
        return code
    publish_outputs(spec)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except LauncherError as e:
        sys.stderr.write("kfp2argo-launcher: %s\n" % e)
        sys.exit(2)
    except (KeyError, TypeError, AttributeError) as e:
        sys.stderr.write("kfp2argo-launcher: malformed spec (%s: %s)\n" % (type(e).__name__, e))
        sys.exit(2)
    except (OSError, ValueError) as e:
        sys.stderr.write("kfp2argo-launcher: %s: %s\n" % (type(e).__name__, e))
        sys.exit(2)
