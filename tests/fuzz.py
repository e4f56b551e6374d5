"""A seeded, structure-aware mutation fuzzer for ``transpiler.transpile`` and its oracle.

Used by ``tests/test_fuzz.py`` (a bounded run in CI) and ``tools/fuzz.py`` (the long run).

Seeds are real IR: ``golden/*/pipeline.yaml`` (always present) and, when ``../shared`` exists,
every ``*.yaml``/``*.yml``/``*.json`` under ``../shared/corpus/kfp-ir`` (read in place). A case
is fully determined by ``(seed, index)``: :func:`generate` picks a seed file and stacks one to
four mutations on its documents, then renders them as YAML or JSON (plus, sometimes, a byte-level
change). Mutations:

- structure: delete / duplicate / rename keys, delete / duplicate list items, graft a value seen
  under the same key elsewhere in the seeds, replace a string with another string of the seed,
  wrap the spec in a PipelineJob (``pipelineSpec`` + ``runtimeConfig.parameterValues``);
- values: swap types (str, int, float, bool, list, dict, null), NaN / inf, integers beyond
  Python's 4,300-digit limit, long strings, numbers in JSON exponent form (``1e-05``), parameter
  defaults / constants of another type or number form, explicit
  YAML tags (``!!bool maybe``, ``!!int abc``, ``!!binary``, ``!!set``, ``!!python/object``...),
  deep nesting, duplicate keys in the text;
- text: control characters (C0, DEL, C1, U+FFFE, lone surrogates) inside values and keys, raw
  control bytes, truncation;
- Argo tags: ``{{workflow.parameters.kfp2argofuzzN}}`` / ``{{=sprig.env('KFP2ARGOFUZZN')}}``
  (``N`` numbers the injection, so a leak names the IR field it came from) in string values
  and in map keys;
- platform spec: graft another file's platform spec, drop / swap / repeat / break the second
  document, retarget its executors; half of the mutations of a file with a platform spec land in it.

The oracle (:func:`run_case`): ``transpile`` returns text or raises ``TranspileError``; anything
else is a crash, reported with the innermost frame inside ``transpiler/`` as its place (a
``UsageError`` with default options is reported apart: an input problem that the CLI would
blame on its options, exit 2). For a manifest: no live marker tag anywhere in it (values and
keys, :func:`tagged_markers`), it passes Argo's JSON Schema, and no unquoted YAML string is a
number to Go's YAML reader (:func:`go_yaml_retyped`). :class:`Worker` runs cases in a child
process with a hard wall-clock limit (a case that runs over is killed and reported as a
timeout, with the phase it was in); :func:`lint_files` runs the Go lint harness on many
manifests in one process; :func:`cli_check` runs ``python -m transpiler compile``;
:func:`minimize` shrinks a reproducer.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
import random
import re
import resource
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import yaml

try:
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SHARED = ROOT.parent / "shared"
CORPUS_IR = SHARED / "corpus" / "kfp-ir"
PACKAGE_DIR = ROOT / "transpiler"



class _FuzzDumper(_Dumper):  # type: ignore[misc, valid-type]
    """PyYAML's safe dumper with its own representers: hera (imported with the transpiler)
    replaces the str representer of PyYAML's SafeRepresenter in place, which would make a case's
    bytes depend on whether the transpiler was imported before it was rendered."""


_FuzzDumper.yaml_representers = dict(yaml.representer.SafeRepresenter.yaml_representers)
_FuzzDumper.yaml_representers[str] = yaml.representer.SafeRepresenter.represent_str
_FuzzDumper.yaml_multi_representers = dict(yaml.representer.SafeRepresenter.yaml_multi_representers)

if str(TESTS) not in sys.path:  # argo_schema / argo_lint / conftest live beside this file
    sys.path.insert(0, str(TESTS))

INPUT_NAME = "fuzz.yaml"
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_MEMORY_LIMIT_MB = 3072
STARTUP_TIMEOUT_S = 300.0

# ---------------------------------------------------------------------------------------------
# markers

MARKER_NAME = "kfp2argofuzz"
MARKER_FORMS = (
    "{{{{workflow.parameters.kfp2argofuzz{n}}}}}",
    "{{{{=sprig.env('KFP2ARGOFUZZ{n}')}}}}",
)
_NUMBER = re.compile(r"\d*")
# What comes right before the marker's name in one of the two marker tags, as Argo would read it.
_MARKER_TAG_HEAD = re.compile(r"\{\{\s*(?:workflow\.parameters\.|=\s*sprig\.env\(\s*')$", re.IGNORECASE)


def tagged_markers(text: str) -> list[tuple[int | None, int, int]]:
    """The fuzzer's marker tags still live in ``text`` (``{{workflow.parameters.kfp2argofuzzN``
    or ``{{=sprig.env('KFP2ARGOFUZZN``), as (marker number, tag start, marker end).

    The marker's name alone is no leak: a name made from it by kfp2argo (``sprig-env-kfp2argofuzz0``
    as a task name inside kfp2argo's own ``{{tasks.<name>...}}`` reference) is Argo-inert.
    Linear in the text (a regex scanning from every ``{{`` is quadratic on runs of braces)."""
    lower = text.lower()
    found = []
    start = 0
    while True:
        at = lower.find(MARKER_NAME, start)
        if at < 0:
            return found
        start = at + len(MARKER_NAME)
        head = _MARKER_TAG_HEAD.search(text, max(0, at - 48), at)
        if head:
            digits = _NUMBER.match(text, start).group(0)
            found.append((int(digits) if digits else None, head.start(), start + len(digits)))


def marker(n: int, form: int = 0) -> str:
    """The n-th marker text in one of the two forms (a plain tag or an expression tag)."""
    return MARKER_FORMS[form].format(n=n)


# ---------------------------------------------------------------------------------------------
# seeds


@dataclass
class Seed:
    name: str  # e.g. golden/hello_container/pipeline.yaml or corpus/kfp-ir/kubernetes/x.yaml
    path: Path
    docs_json: str  # the parsed documents as JSON text: json.loads gives a fresh copy quickly
    size: int
    has_platform: bool


@dataclass
class Vocabulary:
    """What the seeds contain, for structure-aware replacements."""

    values_by_key: dict[str, list[str]] = field(default_factory=dict)  # key -> JSON texts of values seen
    keys: list[str] = field(default_factory=list)
    strings: list[list[str]] = field(default_factory=list)  # per seed
    platform_docs: list[str] = field(default_factory=list)  # JSON texts of platform documents


def seed_paths() -> list[tuple[str, Path]]:
    """(name, path) of every seed file, goldens first, in a stable order."""
    found = [(str(p.relative_to(ROOT)), p) for p in sorted((ROOT / "golden").glob("*/pipeline.yaml"))]
    if CORPUS_IR.is_dir():
        for p in sorted(CORPUS_IR.rglob("*")):
            if p.is_file() and p.suffix in (".yaml", ".yml", ".json"):
                found.append((str(p.relative_to(SHARED)), p))
    return found


_SEEDS: tuple[list[Seed], Vocabulary] | None = None


def load_seeds() -> tuple[list[Seed], Vocabulary]:
    """The seeds and their vocabulary (cached per process)."""
    global _SEEDS
    if _SEEDS is not None:
        return _SEEDS
    seeds: list[Seed] = []
    vocab = Vocabulary()
    keys: set[str] = set()
    per_key: dict[str, dict[str, None]] = {}
    for name, path in seed_paths():
        raw = path.read_bytes()
        try:
            docs = [d for d in yaml.load_all(raw.decode("utf-8"), Loader=_Loader) if d is not None]
            text = json.dumps(docs, allow_nan=False)
        except (yaml.YAMLError, UnicodeDecodeError, ValueError, TypeError):
            continue
        if not docs or not isinstance(docs[0], dict):
            continue
        has_platform = len(docs) > 1 and isinstance(docs[1], dict) and "platforms" in docs[1]
        seeds.append(Seed(name, path, text, len(raw), has_platform))
        strings: dict[str, None] = {}
        for _, key, value in _walk(docs):
            if isinstance(key, str):
                keys.add(key)
                bucket = per_key.setdefault(key, {})
                if len(bucket) < 40:
                    bucket.setdefault(json.dumps(value, sort_keys=True), None)
            if isinstance(value, str) and len(value) < 200:
                strings.setdefault(value, None)
        vocab.strings.append(list(strings))
        if has_platform:
            vocab.platform_docs.append(json.dumps(docs[1]))
    vocab.keys = sorted(keys)
    vocab.values_by_key = {k: list(v) for k, v in sorted(per_key.items())}
    _SEEDS = (seeds, vocab)
    return _SEEDS


def _walk(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any, Any]]:
    """(path, key, value) of every slot under node, preorder (the root itself is not a slot)."""
    stack = [(node, path)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, dict):
            items = list(current.items())
        elif isinstance(current, list):
            items = list(enumerate(current))
        else:
            continue
        for key, value in reversed(items):
            stack.append((value, where + (key,)))
        for key, value in items:
            yield where + (key,), key, value


# ---------------------------------------------------------------------------------------------
# cases

RAW_PREFIX = "kfpfuzzraw"
RAW_RE = re.compile(r'"?kfpfuzzraw(\d+)x"?')


@dataclass
class Case:
    """One generated input. ``docs`` may hold raw sentinels (``kfpfuzzrawNx``) that ``render``
    replaces with ``raws[N]`` verbatim (text YAML cannot express as a value: tags, exponents,
    huge integers, deep nesting, duplicate keys)."""

    index: int
    seed_name: str
    docs: list[Any]
    raws: list[str] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)
    markers: dict[int, str] = field(default_factory=dict)  # marker number -> where it was put
    fmt: dict[str, Any] = field(default_factory=dict)  # how to render
    post: list[tuple] = field(default_factory=list)  # byte-level changes after rendering
    options: dict[str, Any] = field(default_factory=dict)  # kind, output_format
    data: bytes = b""

    def raw(self, text: str) -> str:
        self.raws.append(text)
        return f"{RAW_PREFIX}{len(self.raws) - 1}x"

    def summary(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.options.items() if v not in (None, "yaml", "workflow"))
        return f"case {self.index}: {self.seed_name} [{self.fmt.get('format')}{', ' + extra if extra else ''}]: " + "; ".join(self.ops)


def render(case: Case) -> bytes:
    """The case's documents as bytes (YAML or JSON), raw sentinels replaced, byte changes applied."""
    fmt = case.fmt
    if fmt.get("format") == "json":
        parts = [json.dumps(d, ensure_ascii=fmt.get("ascii", True), indent=fmt.get("indent")) for d in case.docs]
        text = "\n---\n".join(parts) + "\n"
    else:
        text = yaml.dump_all(
            case.docs,
            Dumper=_FuzzDumper,
            sort_keys=False,
            allow_unicode=fmt.get("unicode", True),
            default_flow_style=fmt.get("flow", False),
            width=1 << 30,
            explicit_start=fmt.get("explicit_start", False),
        )
    if case.raws:
        text = RAW_RE.sub(lambda m: case.raws[int(m.group(1))] if int(m.group(1)) < len(case.raws) else m.group(0), text)
    data = text.encode("utf-8", "surrogatepass")
    for op in case.post:
        if op[0] == "truncate":
            data = data[: int(len(data) * op[1])]
        elif op[0] == "insert":
            at = int(len(data) * op[1])
            data = data[:at] + op[2] + data[at:]
    return data


SPECIAL_NUMBERS_RAW = (
    ".nan", ".NaN", ".inf", "-.inf", "+.inf", "NaN", "Infinity", "-Infinity",
    "1e-05", "1E5", "1e400", "-1e400", "2.5e+10", "1.0e5", "0x1F", "0o17", "0b101", "1_000", "+1", "-0",
    "1" + "0" * 4300, "9" * 4301, "-" + "7" * 5000, "1" * 20000 + ".5",
    "190:20:30", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "~", "Null", "yes", "No", "on", "OFF",
)
YAML_TAGS_RAW = (
    "!!bool maybe", "!!bool yes", "!!bool 1", "!!int abc", "!!int 0x1F", "!!int 1_000", "!!int ''", "!!int 1.5",
    "!!int " + "1" * 5000, "!!float abc", "!!float x", "!!float ''", "!!float .nan", "!!float 1e400", "!!float 1",
    "!!binary aGVsbG8=", "!!binary '!!!'", "!!binary ''", "!!timestamp 2001-12-14", "!!timestamp bad",
    "!!timestamp 2001-12-14t21:59:43.10-05:00", "!!set {a: null, b: null}", "!!set {}", "!!omap [{a: 1}, {b: 2}]",
    "!!pairs [{a: 1}]", "!!omap {a: 1}", "!!python/object:os.system {}", "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system ''", "!!python/tuple [1, 2]", "!!python/bytes aGk=", "!!str 123", "!!str", "!!null x",
    "!!null ''", "!!map {a: 1}", "!!seq [1]", "!!map [1]", "!!seq {a: 1}", "!custom x", "!custom {a: 1}",
    "!<tag:yaml.org,2002:int> 12", "!<tag:yaml.org,2002:int> twelve", "!<tag:example.com,2000:x> y", "!!value =",
    "!!merge <<", "!!yaml x", "! 12", "!!int\t7",
)
CONTROL_CHARS = (
    "\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\t", "\r", "\n", "\r\n", "\x7f",
    "\x80", "\x85", "\x9b", "\x9f", "\xa0", "\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff", "\U0001f600",
    "\ud800", "\udfff",
)
TYPED_VALUE_KEYS = ("defaultValue", "constant", "constantValue", "intValue", "doubleValue", "stringValue", "boolValue")
TYPED_VALUES: tuple[Any, ...] = (
    "raw:.nan", "raw:.inf", "raw:-.inf", "raw:NaN", "raw:1e-05", "raw:1E+3", "raw:1.0e5", "raw:2e0", "raw:-0",
    "raw:" + "9" * 4301, "raw:!!float .nan", "raw:!!int 1e3", "1e-05", "NaN", "true", "1.5", "3", "", "x",
    True, False, 0, -1, 1.5, -0.0, 2**64, 10**30, 1e308, [], [1, "a"], {}, {"k": [None]}, None,
)
LONG_STRINGS = (1000, 5000, 70000, 300000, 2_000_000)
NESTING_DEPTHS = (40, 100, 200, 250, 254, 255, 256, 300, 5000, 100000)


def _swap_values(rng: random.Random, case: Case) -> Any:
    choices: list[Callable[[], Any]] = [
        lambda: None, lambda: True, lambda: False, lambda: 0, lambda: 1, lambda: -1, lambda: 2**31,
        lambda: 2**63, lambda: -(2**63) - 1, lambda: 10**40, lambda: 0.5, lambda: -0.0, lambda: 1e308,
        lambda: 1e-300, lambda: float("nan"), lambda: float("inf"), lambda: float("-inf"), lambda: "",
        lambda: " ", lambda: "0", lambda: "true", lambda: "null", lambda: "NaN", lambda: "1e-05", lambda: "[]",
        lambda: "{}", lambda: [], lambda: [None], lambda: [1, "a", None], lambda: {}, lambda: {"a": 1},
        lambda: {"": None}, lambda: [[[]]], lambda: {"a": {"b": [1, {"c": None}]}}, lambda: "x" * 300,
        lambda: "line1\nline2\n", lambda: "ü€😀", lambda: "$(echo hi) $$ `id` '\"\\",
        lambda: case.raw(rng.choice(SPECIAL_NUMBERS_RAW)),
    ]
    return rng.choice(choices)()


def _exponent_forms(value: Any) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ["1e-05", "1E+3", "-2.5e10", "0e0"]
    number = float(value)
    if not math.isfinite(number):
        return ["1e400", "-1e400"]
    mantissa, exponent = f"{number:e}".split("e")
    trimmed = mantissa.rstrip("0").rstrip(".")
    exp = int(exponent)
    forms = [
        f"{trimmed}e{exp}", f"{trimmed}e{exp:+03d}", f"{trimmed}E{exp:+d}", f"{number:e}", f"{number:E}",
        json.dumps(number), f"{trimmed}.0e{exp:+d}" if "." not in trimmed else f"{trimmed}e{exp:+d}",
    ]
    if isinstance(value, int) and not isinstance(value, bool):
        forms += [f"{value}e0", f"{value}E+0", f"{value}.0"]
    return forms


class _Gen:
    """Mutation operators over a case's documents (all randomness from one seeded rng)."""

    def __init__(self, rng: random.Random, case: Case, vocab: Vocabulary, strings: list[str], seed_has_platform: bool):
        self.rng = rng
        self.case = case
        self.vocab = vocab
        self.strings = strings
        self.seed_has_platform = seed_has_platform

    # --- helpers

    def _doc_index(self) -> int:
        docs = self.case.docs
        candidates = [i for i, d in enumerate(docs) if isinstance(d, (dict, list)) and d]
        if not candidates:
            return -1
        platform = [i for i in candidates if i > 0]
        if platform and self.rng.random() < 0.5:
            return self.rng.choice(platform)
        return self.rng.choice([i for i in candidates if i == 0] or candidates)

    def _slots(self, predicate: Callable[[tuple, Any, Any], bool] = lambda p, k, v: True) -> list[tuple[int, tuple]]:
        i = self._doc_index()
        if i < 0:
            return []
        return [(i, path) for path, key, value in _walk(self.case.docs[i]) if predicate(path, key, value)]

    def _pick(self, predicate: Callable[[tuple, Any, Any], bool] = lambda p, k, v: True) -> tuple[int, tuple] | None:
        slots = self._slots(predicate)
        if not slots:
            return None
        return self.rng.choice(slots)

    def _get(self, doc: int, path: tuple) -> Any:
        node = self.case.docs[doc]
        for key in path:
            node = node[key]
        return node

    def _parent(self, doc: int, path: tuple) -> Any:
        return self._get(doc, path[:-1])

    def _set(self, doc: int, path: tuple, value: Any) -> None:
        self._parent(doc, path)[path[-1]] = value

    def _rename(self, doc: int, path: tuple, new: str) -> tuple:
        parent = self._parent(doc, path)
        old = path[-1]
        if new in parent and new != old:
            return path
        items = [(new if k == old else k, v) for k, v in parent.items()]
        parent.clear()
        parent.update(items)
        return path[:-1] + (new,)

    def where(self, doc: int, path: tuple) -> str:
        pointer = "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in path)
        return (f"doc{doc + 1}:" if doc else "") + (pointer or "/")

    def _short(self, value: Any, limit: int = 60) -> str:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        text = RAW_RE.sub(lambda m: self.case.raws[int(m.group(1))], text) if RAW_PREFIX in text else text
        if len(text) > limit:
            text = f"{text[:limit]}...({len(text)} chars)"
        return repr(text)

    # --- operators (each returns a description, or None when it found nothing to change)

    def delete_key(self) -> str | None:
        pick = self._pick(lambda p, k, v: isinstance(k, str))
        if not pick:
            return None
        doc, path = pick
        del self._parent(doc, path)[path[-1]]
        return f"delete {self.where(doc, path)}"

    def delete_item(self) -> str | None:
        pick = self._pick(lambda p, k, v: isinstance(k, int))
        if not pick:
            return None
        doc, path = pick
        del self._parent(doc, path)[path[-1]]
        return f"delete item {self.where(doc, path)}"

    def dup_entry(self) -> str | None:
        pick = self._pick(lambda p, k, v: isinstance(k, str))
        if not pick:
            return None
        doc, path = pick
        parent = self._parent(doc, path)
        new = self.rng.choice([path[-1] + "-2", path[-1] + "_2", path[-1].upper(), path[-1] + "-" + "x" * 70, self.rng.choice(self.vocab.keys)])
        if new in parent:
            return None
        parent[new] = json.loads(json.dumps(parent[path[-1]], allow_nan=True))
        return f"copy {self.where(doc, path)} to key {new!r}"

    def dup_item(self) -> str | None:
        pick = self._pick(lambda p, k, v: isinstance(k, int))
        if not pick:
            return None
        doc, path = pick
        parent = self._parent(doc, path)
        parent.insert(path[-1], json.loads(json.dumps(parent[path[-1]], allow_nan=True)))
        return f"duplicate item {self.where(doc, path)}"

    def rename_key(self) -> str | None:
        pick = self._pick(lambda p, k, v: isinstance(k, str))
        if not pick:
            return None
        doc, path = pick
        old = path[-1]
        new = self.rng.choice([
            self.rng.choice(self.vocab.keys), self.rng.choice(self.vocab.keys), old + "-x", old.upper(), "", " ",
            old + "\n", "a/b~c", "x" * 300, old.replace("-", "_"), "-" + old, "0", "1" + old, "ü" + old, "$" + old,
            "{{" + old + "}}", old + ".", "a" * 64,
        ])
        self._rename(doc, path, new)
        return f"rename key {self.where(doc, path)} to {new!r}"

    def swap_type(self) -> str | None:
        pick = self._pick()
        if not pick:
            return None
        doc, path = pick
        value = _swap_values(self.rng, self.case)
        self._set(doc, path, value)
        return f"set {self.where(doc, path)} = {self._short(value)}"

    def graft(self) -> str | None:
        """A value seen under the same key anywhere in the seeds (enum values, refs, shapes)."""
        pick = self._pick(lambda p, k, v: isinstance(k, str) and k in self.vocab.values_by_key)
        if not pick:
            return None
        doc, path = pick
        value = json.loads(self.rng.choice(self.vocab.values_by_key[path[-1]]))
        self._set(doc, path, value)
        return f"set {self.where(doc, path)} = {self._short(value)} (seen under this key)"

    def seed_string(self) -> str | None:
        """Another string of the same seed (a reference to the wrong thing, a type name...)."""
        if not self.strings:
            return None
        pick = self._pick(lambda p, k, v: isinstance(v, str))
        if not pick:
            return None
        doc, path = pick
        value = self.rng.choice(self.strings)
        self._set(doc, path, value)
        return f"set {self.where(doc, path)} = {self._short(value)}"

    def seed_key(self) -> str | None:
        """Rename a key to another string of the seed (names colliding with other names)."""
        if not self.strings:
            return None
        pick = self._pick(lambda p, k, v: isinstance(k, str))
        if not pick:
            return None
        doc, path = pick
        new = self.rng.choice(self.strings)
        self._rename(doc, path, new)
        return f"rename key {self.where(doc, path)} to {new!r}"

    def exponent(self) -> str | None:
        pick = self._pick(lambda p, k, v: isinstance(v, (int, float)) and not isinstance(v, bool))
        if pick is None:
            pick = self._pick(lambda p, k, v: not isinstance(v, (dict, list)))
        if pick is None:
            return None
        doc, path = pick
        text = self.rng.choice(_exponent_forms(self._get(doc, path)))
        self._set(doc, path, self.case.raw(text))
        return f"set {self.where(doc, path)} = raw {text}"

    def special_number(self) -> str | None:
        pick = self._pick()
        if not pick:
            return None
        doc, path = pick
        text = self.rng.choice(SPECIAL_NUMBERS_RAW)
        self._set(doc, path, self.case.raw(text))
        return f"set {self.where(doc, path)} = raw {self._short(text, 30)}"

    def yaml_tag(self) -> str | None:
        if self.rng.random() < 0.15:  # a tag on a key
            pick = self._pick(lambda p, k, v: isinstance(k, str))
            if not pick:
                return None
            doc, path = pick
            text = self.rng.choice(YAML_TAGS_RAW[:20] + ("!!str " + json.dumps(path[-1]),))
            if "{" in text or "[" in text:
                return None
            self._rename(doc, path, self.case.raw(text))
            return f"key {self.where(doc, path)} written as {self._short(text, 40)}"
        pick = self._pick()
        if not pick:
            return None
        doc, path = pick
        text = self.rng.choice(YAML_TAGS_RAW)
        self._set(doc, path, self.case.raw(text))
        return f"set {self.where(doc, path)} = raw {self._short(text, 40)}"

    def typed_value(self) -> str | None:
        """A parameter value (default, constant, runtime value) of another type or a number
        form the loader or the wire encoding may mistake: NaN, inf, exponents, huge ints."""
        pick = self._pick(lambda p, k, v: k in TYPED_VALUE_KEYS or (len(p) > 1 and p[-2] == "parameterValues"))
        if not pick:
            return None
        doc, path = pick
        value = self.rng.choice(TYPED_VALUES)
        if isinstance(value, str) and value.startswith("raw:"):
            self._set(doc, path, self.case.raw(value[4:]))
            return f"set {self.where(doc, path)} = raw {value[4:][:30]}"
        self._set(doc, path, value)
        return f"set {self.where(doc, path)} = {self._short(value)}"

    def long_string(self) -> str | None:
        pick = self._pick(lambda p, k, v: not isinstance(v, (dict, list)))
        if not pick:
            return None
        doc, path = pick
        n = self.rng.choice(LONG_STRINGS)
        value = self.rng.choice(["x", "ab", "é", "{{", "a\n"]) * n
        self._set(doc, path, value)
        return f"set {self.where(doc, path)} = {self._short(value, 10)}"

    def control_char(self) -> str | None:
        on_key = self.rng.random() < 0.3
        pick = self._pick((lambda p, k, v: isinstance(k, str)) if on_key else (lambda p, k, v: isinstance(v, str)))
        if not pick:
            return None
        doc, path = pick
        char = self.rng.choice(CONTROL_CHARS)
        old = path[-1] if on_key else self._get(doc, path)
        at = self.rng.choice([0, len(old), self.rng.randint(0, len(old))])
        new = old[:at] + char + old[at:]
        if "\ud800" <= char <= "\udfff":  # not encodable: written as a JSON/YAML escape or raw bytes
            new = self.case.raw(json.dumps(new, ensure_ascii=True))
        if on_key:
            self._rename(doc, path, new)
            return f"insert {char!r} into key {self.where(doc, path)} at {at}"
        self._set(doc, path, new)
        return f"insert {char!r} into {self.where(doc, path)} at {at}"

    def inject_value(self) -> str | None:
        if self.rng.random() < 0.2:  # numbers and booleans too (quantities, counts, flags)
            pick = self._pick(lambda p, k, v: not isinstance(v, (dict, list)))
            if pick and not isinstance(self._get(*pick), str):
                doc, path = pick
                n = len(self.case.markers)
                tag = marker(n, self.rng.randrange(2))
                old = self._get(doc, path)
                new = self.rng.choice([tag, f"{json.dumps(old)}{tag}"])
                self._set(doc, path, new)
                self.case.markers[n] = self.where(doc, path)
                return f"set {self.where(doc, path)} (was {json.dumps(old)}) = {new!r}"
        pick = self._pick(lambda p, k, v: isinstance(v, str))
        if not pick:
            return None
        doc, path = pick
        n = len(self.case.markers)
        tag = marker(n, self.rng.randrange(2))
        old = self._get(doc, path)
        how = self.rng.choice(["replace", "prefix", "suffix", "middle"])
        new = {"replace": tag, "prefix": tag + old, "suffix": old + tag, "middle": old[: len(old) // 2] + tag + old[len(old) // 2 :]}[how]
        self._set(doc, path, new)
        self.case.markers[n] = self.where(doc, path)
        return f"{how} {self.where(doc, path)} with {tag}"

    def inject_key(self) -> str | None:
        pick = self._pick(lambda p, k, v: isinstance(k, str))
        if not pick:
            return None
        doc, path = pick
        n = len(self.case.markers)
        tag = marker(n, self.rng.randrange(2))
        old = path[-1]
        new = self.rng.choice([tag, old + tag, tag + old])
        self._rename(doc, path, new)
        self.case.markers[n] = self.where(doc, path) + " (key)"
        return f"rename key {self.where(doc, path)} to {new!r}"

    def deep_nesting(self) -> str | None:
        pick = self._pick()
        if not pick:
            return None
        doc, path = pick
        depth = self.rng.choice(NESTING_DEPTHS)
        text = self.rng.choice(["[" * depth + "]" * depth, '{"a": ' * depth + "1" + "}" * depth, "[" * depth + "1" + "]" * depth])
        self._set(doc, path, self.case.raw(text))
        return f"set {self.where(doc, path)} = nested {depth} deep"

    def dup_key_text(self) -> str | None:
        """The same key twice in one mapping (in the text; a dict cannot hold it)."""
        pick = self._pick(lambda p, k, v: isinstance(k, str))
        if not pick:
            return None
        doc, path = pick
        parent = self._parent(doc, path)
        key = path[-1]
        twin = self.case.raw(json.dumps(key))
        if twin in parent:
            return None
        parent[twin] = json.loads(json.dumps(parent[key], allow_nan=True))
        return f"duplicate key {self.where(doc, path)} in the text"

    def pipeline_job(self) -> str | None:
        spec = self.case.docs[0]
        if not isinstance(spec, dict) or "pipelineSpec" in spec:
            return None
        params = {}
        try:
            declared = spec["root"]["inputDefinitions"]["parameters"]
        except (KeyError, TypeError):
            declared = {}
        names = list(declared) if isinstance(declared, dict) else []
        for name in names:
            if self.rng.random() < 0.7:
                params[name] = _swap_values(self.rng, self.case) if self.rng.random() < 0.7 else json.loads(self.rng.choice(self.vocab.values_by_key.get("defaultValue", ["1"])))
        if not names or self.rng.random() < 0.2:
            params[self.rng.choice(["unknown", "x", "Output"])] = "v"
        self.case.docs[0] = {"pipelineSpec": spec, "runtimeConfig": {"parameterValues": params}}
        if self.rng.random() < 0.2:
            self.case.docs[0]["runtimeConfig"] = self.rng.choice([None, [], "x", {"parameterValues": [1]}])
        return f"wrap in a PipelineJob with runtime values {self._short(self.case.docs[0]['runtimeConfig'], 120)}"

    def platform_graft(self) -> str | None:
        if not self.vocab.platform_docs:
            return None
        other = json.loads(self.rng.choice(self.vocab.platform_docs))
        if len(self.case.docs) > 1:
            self.case.docs[1] = other
            return "replace the platform spec with another file's"
        self.case.docs.append(other)
        return "append another file's platform spec"

    def platform_doc(self) -> str | None:
        docs = self.case.docs
        choice = self.rng.randrange(6)
        if choice == 0 and len(docs) > 1:
            del docs[1:]
            return "drop the platform spec"
        if choice == 1 and len(docs) > 1:
            docs[0], docs[1] = docs[1], docs[0]
            return "swap the two documents"
        if choice == 2:
            docs.append(json.loads(json.dumps(docs[-1], allow_nan=True)))
            return "repeat the last document"
        value = self.rng.choice([[], "x", {}, 1, {"platforms": None}, {"platforms": {}}, {"platforms": {"kubernetes": None}},
                                 {"platforms": {"kubernetes": {"deploymentSpec": None}}}, {"platforms": {"other": {}}},
                                 {"platforms": {"kubernetes": {"deploymentSpec": {"executors": {"exec-x": {}}}}}}])
        if len(docs) > 1:
            docs[1] = value
        else:
            docs.append(value)
        return f"platform document = {self._short(value)}"

    def platform_retarget(self) -> str | None:
        if len(self.case.docs) < 2:
            return None
        try:
            executors = self.case.docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
            labels = list(self.case.docs[0]["deploymentSpec"]["executors"])
        except (KeyError, TypeError, IndexError):
            return None
        if not isinstance(executors, dict) or not executors or not labels:
            return None
        old = self.rng.choice(list(executors))
        new = self.rng.choice(labels + ["exec-missing"])
        path = ("platforms", "kubernetes", "deploymentSpec", "executors", old)
        self._rename(1, path, new)
        return f"retarget platform executor {old!r} to {new!r}"


OPERATORS: tuple[tuple[str, int], ...] = (
    ("delete_key", 10), ("delete_item", 4), ("dup_entry", 4), ("dup_item", 3), ("rename_key", 6),
    ("swap_type", 12), ("graft", 10), ("seed_string", 6), ("seed_key", 3), ("exponent", 4),
    ("special_number", 4), ("yaml_tag", 5), ("long_string", 2), ("control_char", 6), ("inject_value", 14),
    ("inject_key", 7), ("deep_nesting", 1), ("dup_key_text", 1), ("pipeline_job", 2), ("typed_value", 4), ("platform_graft", 3),
    ("platform_doc", 1), ("platform_retarget", 2),
)
_OP_NAMES = [name for name, _ in OPERATORS]
_OP_WEIGHTS = [weight for _, weight in OPERATORS]
KINDS = ("workflow-template", "cluster-workflow-template", "cron-workflow")


def generate(fuzz_seed: int, index: int, seed_index: int | None = None) -> Case:
    """Case ``index`` of the run seeded ``fuzz_seed`` (the same pair always gives the same bytes)."""
    seeds, vocab = load_seeds()
    rng = random.Random(f"kfp2argo-fuzz:{fuzz_seed}:{index}")
    if seed_index is None:
        seed_index = rng.randrange(len(seeds))
    seed_index %= len(seeds)
    seed = seeds[seed_index]
    case = Case(index, seed.name, json.loads(seed.docs_json))
    gen = _Gen(rng, case, vocab, vocab.strings[seed_index], seed.has_platform)
    count = rng.choices([1, 2, 3, 4], [50, 30, 13, 7])[0]
    attempts = 0
    while len(case.ops) < count and attempts < 20:
        attempts += 1
        name = rng.choices(_OP_NAMES, _OP_WEIGHTS)[0]
        if name.startswith("platform_retarget") and not seed.has_platform and rng.random() < 0.5:
            continue
        description = getattr(gen, name)()
        if description:
            case.ops.append(description)
    fmt: dict[str, Any] = {"format": "json" if rng.random() < 0.3 else "yaml"}
    if fmt["format"] == "json":
        fmt["ascii"] = rng.random() < 0.5
        fmt["indent"] = rng.choice([None, 2, 1])
    else:
        fmt["unicode"] = rng.random() < 0.7
        fmt["flow"] = rng.random() < 0.05
        fmt["explicit_start"] = rng.random() < 0.2
    case.fmt = fmt
    roll = rng.random()
    if roll < 0.02:
        case.post.append(("truncate", rng.random()))
        case.ops.append(f"truncate at {case.post[-1][1]:.0%} of the bytes")
    elif roll < 0.04:
        char = rng.choice(CONTROL_CHARS)
        case.post.append(("insert", rng.random(), char.encode("utf-8", "surrogatepass")))
        case.ops.append(f"insert raw {char!r} into the text at {case.post[-1][1]:.0%}")
    case.options = {"output_format": "json" if rng.random() < 0.15 else "yaml", "kind": rng.choice(KINDS) if rng.random() < 0.1 else "workflow"}
    case.data = render(case)
    return case


# ---------------------------------------------------------------------------------------------
# the oracle


@dataclass
class Result:
    index: int
    outcome: str  # ok | rejected | usage | crash | timeout | harness
    error_class: str = ""
    message: str = ""
    place: str = ""  # innermost transpiler frame of a crash, "transpiler/x.py:LINE in function"
    traceback: str = ""
    leaks: list[tuple[int | None, str]] = field(default_factory=list)  # (marker number, output path)
    schema_errors: list[str] = field(default_factory=list)
    output: str | None = None  # the manifest (only when asked for)
    output_hash: str = ""
    output_format: str = "yaml"
    size: int = 0  # bytes of the input
    input_sha: str = ""  # first 16 hex digits of the input's SHA-256 (replays must match it)
    seconds: float = 0.0
    maxrss_kb: int = 0
    cli: dict[str, Any] | None = None

    @property
    def crash_key(self) -> str:
        return f"{self.error_class} at {self.place}"


def options_of(spec: dict[str, Any]) -> Any:
    kind = spec.get("kind", "workflow")
    if kind == "workflow":
        return None
    try:
        from transpiler import Options
    except ImportError:
        return None
    extra: dict[str, Any] = {"schedules": ("0 2 * * *",)} if kind == "cron-workflow" else {}
    try:
        return Options(kind=kind, **extra)
    except Exception:  # noqa: BLE001 - the options' shape changed: fall back to the default kind
        return None


def crash_place(error: BaseException) -> str:
    """The innermost frame inside transpiler/ (file:line in function), else the innermost frame."""
    frames = traceback.extract_tb(error.__traceback__)
    package = str(PACKAGE_DIR) + os.sep
    inside = [f for f in frames if f.filename.startswith(package)]
    frame = (inside or frames or [None])[-1]
    if frame is None:
        return "?"
    name = os.path.relpath(frame.filename, ROOT) if frame.filename.startswith(str(ROOT)) else Path(frame.filename).name
    return f"{name}:{frame.lineno} in {frame.name}"


# Manifest maps whose keys are data (from the IR or kfp2argo), not field names.
FREE_MAPS = ("labels", "annotations", "nodeSelector", "matchLabels")


def output_paths(document: Any) -> Iterator[tuple[str, str]]:
    """(normalized JSON path, text) of every string and key in a manifest: list indices are
    ``[]``, keys of label/annotation/selector maps and other non-field keys are ``[*]``."""
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            free = path.endswith(FREE_MAPS)
            for key, value in node.items():
                key = str(key)
                if not free and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                    step = f"{path}.{key}" if path else key
                else:
                    step = f"{path}[*]"
                yield step + " (key)", key
                stack.append((value, step))
        elif isinstance(node, list):
            for value in node:
                stack.append((value, path + "[]"))
        elif isinstance(node, str):
            yield path, node


# The manifest's own metadata, which Argo never evaluates: it copies the annotations and labels
# (and spec.workflowMetadata's onto the workflows a CronWorkflow starts) and offers them as
# values of workflow.annotations.* / workflow.labels.*, which it does not evaluate again
# (workflow/controller/operator.go, setGlobalParameters and updateWorkflowMetadata).
UNEVALUATED = re.compile(r"(metadata|spec\.workflowMetadata)\.(annotations|labels)\[\*\]( \(key\))?")


def find_leaks(text: str, document: Any) -> list[tuple[int | None, str]]:
    """Markers still inside an Argo tag: (marker number, output path), deduplicated."""
    if MARKER_NAME not in text.lower():
        return []
    found: dict[tuple[int | None, str], None] = {}
    if document is not None:
        for path, value in output_paths(document):
            if UNEVALUATED.fullmatch(path):
                continue
            for number, _, _ in tagged_markers(value):
                found[(number, path)] = None
    if document is None:
        for number, _, _ in tagged_markers(text):
            found[(number, "<manifest text>")] = None
    return list(found)


# A plain scalar that Go's YAML reader (sigs.k8s.io/yaml, which Kubernetes and Argo use) reads as
# a number: its int forms (base prefixes, `_`) and its float syntax, which needs neither the dot
# nor the exponent sign that PyYAML's YAML 1.1 float needs (`1e-05`, `1.0e5`, `+.5`).
GO_YAML_NUMBER = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?0[xX][0-9a-fA-F_]+|[-+]?0[oO][0-7_]+|[-+]?0[bB][01_]+|[-+]?[0-9][0-9_]*"
)
_GO_CANDIDATE = re.compile(r"[0-9][eE]|0[oO]|[-+]\.[0-9]|[0-9]_|\.[0-9]")
_STR = "tag:yaml.org,2002:str"


def go_yaml_retyped(text: str) -> list[str]:
    """Unquoted strings of a YAML manifest that Go's YAML reader takes for numbers, as
    '<path>: <value>' lines (the manifest means a string there; Argo would see a number)."""
    if not _GO_CANDIDATE.search(text):
        return []
    problems: list[str] = []
    resolver = yaml.resolver.Resolver()
    stack: list[list[Any]] = []  # [is_mapping, current key or index, expecting key]
    try:
        events = yaml.parse(text, Loader=_Loader)
        for event in events:
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if stack and stack[-1][0]:
                    stack[-1][2] = True
                stack.append([isinstance(event, yaml.MappingStartEvent), "" if isinstance(event, yaml.MappingStartEvent) else -1, True])
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                if stack and not stack[-1][0]:
                    pass
                continue
            if not isinstance(event, yaml.ScalarEvent) or not stack:
                continue
            top = stack[-1]
            if top[0] and top[2]:  # a key
                top[1], top[2] = event.value, False
                continue
            if top[0]:
                top[2] = True
            if not event.style and event.implicit[0] and event.tag in (None, "!"):
                tag = resolver.resolve(yaml.ScalarNode, event.value, (True, False))
                if tag == _STR and GO_YAML_NUMBER.fullmatch(event.value):
                    path = "".join(f".{level[1]}" if level[0] else "[]" for level in stack).lstrip(".")
                    problems.append(f"{path}: {event.value!r} is unquoted: Go's YAML reads it as a number")
    except yaml.YAMLError:
        return []
    return problems[:20]


_schema_cache: dict[str, list[str]] = {}

# What a worker is doing, shared with its parent so that a timeout names the phase.
PHASES = ("idle", "generate", "transpile", "oracle", "cli")
_phase: Any = None


def _set_phase(name: str) -> None:
    if _phase is not None:
        _phase.value = PHASES.index(name)


def schema_errors(document: Any) -> list[str]:
    """Argo JSON Schema problems of one manifest (empty when ../shared/argo is absent)."""
    import argo_schema

    if not argo_schema.SCHEMA.is_file():
        return []
    if not isinstance(document, dict) or "kind" not in document:
        return ["/: the manifest is not a mapping with a kind"]
    return argo_schema.argo_schema_errors(document)


def run_data(data: bytes, options: dict[str, Any], index: int = -1, keep_output: bool = False) -> Result:
    """Run the oracle on one input in this process (no time limit)."""
    from transpiler import TranspileError, UsageError, transpile

    output_format = options.get("output_format", "yaml")
    result = Result(index, "ok", output_format=output_format, size=len(data), input_sha=hashlib.sha256(data).hexdigest()[:16])
    transpile_options = options_of(options)
    started = time.perf_counter()
    _set_phase("transpile")
    try:
        text = transpile(data, transpile_options, file=INPUT_NAME, output_format=output_format)
    except TranspileError as error:
        result.outcome = "usage" if isinstance(error, UsageError) and options.get("kind", "workflow") == "workflow" else "rejected"
        result.error_class = type(error).__name__
        result.message = str(error)[:2000]
        result.seconds = time.perf_counter() - started
        return result
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 - that is what the fuzzer looks for
        result.outcome = "crash"
        result.error_class = type(error).__name__
        result.message = _safe_str(error)[:2000]
        result.place = crash_place(error)
        result.traceback = "".join(traceback.format_exception(type(error), error, error.__traceback__))[-6000:]
        result.seconds = time.perf_counter() - started
        return result
    result.seconds = time.perf_counter() - started
    _set_phase("oracle")
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    result.output_hash = digest
    try:
        document = json.loads(text) if output_format == "json" else yaml.load(text, Loader=_Loader)
    except (ValueError, yaml.YAMLError) as error:
        document = None
        result.schema_errors = [f"/: the manifest does not parse as {output_format}: {_safe_str(error)[:300]}"]
    result.leaks = find_leaks(text, document)
    if document is not None:
        if digest not in _schema_cache:
            if len(_schema_cache) > 2000:
                _schema_cache.clear()
            _schema_cache[digest] = schema_errors(document) + (go_yaml_retyped(text) if output_format == "yaml" else [])
        result.schema_errors = _schema_cache[digest]
    if keep_output:
        result.output = text
    return result


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # noqa: BLE001
        return repr(type(error))


def run_case(case: Case, keep_output: bool = False) -> Result:
    return run_data(case.data, case.options, case.index, keep_output)


# ---------------------------------------------------------------------------------------------
# the CLI check


def cli_check(data: bytes, options: dict[str, Any], workdir: Path, timeout: float = 120.0) -> dict[str, Any]:
    """``python -m transpiler compile IN -o OUT`` on the input: exit code, traceback, leftovers."""
    workdir.mkdir(parents=True, exist_ok=True)
    suffix = ".json" if options.get("output_format") == "json" else ".yaml"
    source = workdir / "input.yaml"
    out = workdir / f"out{suffix}"
    source.write_bytes(data)
    if out.exists():
        out.unlink()
    argv = [sys.executable, "-m", "transpiler", "compile", str(source), "-o", str(out)]
    if options.get("output_format") == "json":
        argv += ["--output-format", "json"]
    kind = options.get("kind", "workflow")
    if kind != "workflow":
        argv += ["--kind", kind]
        if kind == "cron-workflow":
            argv += ["--schedule", "0 2 * * *"]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        proc = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"rc": None, "problems": [f"the CLI did not finish in {timeout:g} s"], "stderr": ""}
    stderr = proc.stderr.decode("utf-8", "replace")
    problems = []
    if proc.returncode not in (0, 1, 2):
        problems.append(f"exit code {proc.returncode}")
    if "Traceback" in stderr:
        problems.append("Traceback on stderr")
    if proc.returncode != 0 and out.exists():
        problems.append(f"exit {proc.returncode} but {out.name} was written")
    if proc.returncode == 0 and not out.exists():
        problems.append("exit 0 but no output file")
    leftovers = sorted(p.name for p in workdir.iterdir() if p.name not in ("input.yaml", out.name))
    if leftovers:
        problems.append(f"files left behind: {leftovers}")
    for p in workdir.iterdir():
        if p.is_file():
            p.unlink()
    return {"rc": proc.returncode, "problems": problems, "stderr": stderr[-3000:]}


def cli_expected_rc(result: Result) -> int | None:
    """The exit code the CLI should give for what the API did (None: no expectation)."""
    if result.outcome == "ok":
        return 0
    if result.outcome == "rejected":
        return 1
    if result.outcome == "usage":
        return 2
    return None


# ---------------------------------------------------------------------------------------------
# workers with a hard time limit


def _peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _worker_main(conn: Any, fuzz_seed: int, memory_limit_mb: int, keep_output: bool, parent_pid: int = 0, phase: Any = None) -> None:
    global _phase
    _phase = phase
    if memory_limit_mb:
        limit = memory_limit_mb * 1024 * 1024
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ValueError, OSError):
            pass
    load_seeds()
    import transpiler  # noqa: F401 - import before the first timed case
    import transpiler.lower  # noqa: F401

    conn.send("ready")

    while True:
        try:
            while not conn.poll(1.0):  # a forked worker holds the parent's end too: no EOF
                if parent_pid and os.getppid() != parent_pid:
                    return
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        kind = request[0]
        if kind == "index":
            _, index, cli_dir = request[:3]
            _set_phase("generate")
            case = generate(fuzz_seed, index, request[3] if len(request) > 3 else None)
            result = run_case(case, keep_output)
            if cli_dir:
                _set_phase("cli")
                result.cli = cli_check(case.data, case.options, Path(cli_dir))
        elif kind == "data":
            _, data, options, want_output = request
            result = run_data(data, options, -1, want_output or keep_output)
        elif kind == "cli":
            _, data, options, cli_dir = request
            _set_phase("cli")
            result = Result(-1, "cli", cli=cli_check(data, options, Path(cli_dir)))
        else:
            continue
        _set_phase("idle")
        result.maxrss_kb = _peak_rss_kb()
        conn.send(result)


def _vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class Worker:
    """One worker process; ``call`` gives its Result or a ``timeout`` Result after killing it."""

    def __init__(self, fuzz_seed: int, timeout: float, memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB, keep_output: bool = False):
        self.fuzz_seed = fuzz_seed
        self.timeout = timeout
        self.memory_limit_mb = memory_limit_mb
        self.keep_output = keep_output
        self.process: Any = None
        self.conn: Any = None
        self.restarts = 0

    def _start(self) -> None:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        parent, child = context.Pipe()
        self.phase = context.Value("i", 0, lock=False)
        self.process = context.Process(
            target=_worker_main,
            args=(child, self.fuzz_seed, self.memory_limit_mb, self.keep_output, os.getpid(), self.phase),
            daemon=True,
        )
        self.process.start()
        child.close()
        self.conn = parent
        # Start-up (imports, seeds) is not part of any case's time.
        if not parent.poll(STARTUP_TIMEOUT_S) or parent.recv() != "ready":
            raise RuntimeError(f"the fuzz worker did not start within {STARTUP_TIMEOUT_S:g} s")

    def call(self, request: tuple, index: int = -1, timeout: float | None = None) -> Result:
        if self.process is None or not self.process.is_alive():
            if self.process is not None:
                self.restarts += 1
            self._start()
        limit = self.timeout if timeout is None else timeout
        started = time.perf_counter()
        self.conn.send(request)
        try:
            ready = self.conn.poll(limit)
            if ready:
                return self.conn.recv()
            phase = PHASES[self.phase.value] if 0 <= self.phase.value < len(PHASES) else "?"
            outcome, message = "timeout", f"no result within {limit:g} s (in phase {phase}); the worker was killed"
        except (EOFError, OSError, ConnectionError):
            outcome, message = "crash", f"the worker process died (exit code {self.process.exitcode})"
        hwm = _vm_hwm_kb(self.process.pid)
        self.kill()
        place = outcome
        if outcome == "timeout":
            place = "timeout in transpile" if "phase transpile" in message else f"timeout in the fuzzer's own {message.split('phase ')[1].split(')')[0]} step"
        return Result(
            index, outcome, error_class="Timeout" if outcome == "timeout" else "WorkerDied", message=message,
            place=place, seconds=time.perf_counter() - started, maxrss_kb=hwm,
        )

    def kill(self) -> None:
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join(10)
            self.process = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def close(self) -> None:
        if self.process is not None and self.process.is_alive():
            try:
                self.conn.send(None)
                self.process.join(5)
            except (OSError, BrokenPipeError):
                pass
        self.kill()

    def __enter__(self) -> "Worker":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# lint


# Lines the harness prints because many manifests are linted in one process, not because of one.
LINT_BATCH_ARTEFACT = re.compile(r"duplicate (Cluster)?WorkflowTemplate .* \(also in ")


def lint_files(paths: list[Path]) -> dict[str, list[str]]:
    """Lint manifests with the Go harness in one process: problems by file path (as given).

    Raises ``argo_lint.HarnessError`` when the harness is unavailable or fails to run."""
    import argo_lint

    lines = argo_lint.lint(paths)
    grouped: dict[str, list[str]] = {}
    for line in lines:
        if LINT_BATCH_ARTEFACT.search(line):
            continue
        file, sep, rest = line.partition(": ")
        grouped.setdefault(file if sep else "", []).append(rest if sep else line)
    return grouped


def lint_harness_available() -> bool:
    import argo_lint

    return argo_lint.harness_path() is not None


# ---------------------------------------------------------------------------------------------
# minimizing a reproducer


def _slots_of(node: Any) -> list[Any]:
    return list(node) if isinstance(node, dict) else list(range(len(node) - 1, -1, -1)) if isinstance(node, list) else []


def minimize(case: Case, reproduces: Callable[[bytes], bool], budget: int = 300, deadline_s: float = 90.0) -> bytes:
    """A smaller input for which ``reproduces`` still holds: first by deleting subtrees of the
    case's documents (top down) and shortening strings, then by deleting lines of the text."""
    started = time.monotonic()
    tries = 0

    def test(data: bytes) -> bool:
        nonlocal tries
        tries += 1
        return reproduces(data)

    def out_of_budget() -> bool:
        return tries >= budget or time.monotonic() - started > deadline_s

    work = dataclasses.replace(case, docs=json.loads(json.dumps(case.docs, allow_nan=True)), raws=list(case.raws))
    best = render(work)
    if not case.post:
        def visit(node: Any) -> None:
            nonlocal best
            for key in _slots_of(node):
                if out_of_budget():
                    return
                if isinstance(node, dict):
                    items = list(node.items())
                    del node[key]
                    candidate = render(work)
                    if len(candidate) < len(best) and test(candidate):
                        best = candidate
                        continue
                    node.clear()
                    node.update(items)
                else:
                    value = node.pop(key)
                    candidate = render(work)
                    if len(candidate) < len(best) and test(candidate):
                        best = candidate
                        continue
                    node.insert(key, value)
                child = node[key]
                if isinstance(child, (dict, list)):
                    visit(child)
                elif isinstance(child, str) and len(child) > 12 and not child.startswith(RAW_PREFIX):
                    shorter = _shorten(child)
                    if shorter != child:
                        node[key] = shorter
                        candidate = render(work)
                        if test(candidate):
                            best = candidate
                        else:
                            node[key] = child

        for doc in work.docs:
            if isinstance(doc, (dict, list)):
                visit(doc)
    # then lines of the text (ddmin-style chunks), and the text without its common indentation
    import textwrap

    lines = best.split(b"\n")
    chunk = max(1, len(lines) // 2)
    while chunk >= 1 and not out_of_budget():
        i = 0
        removed_any = False
        while i < len(lines) and not out_of_budget():
            candidate_lines = lines[:i] + lines[i + chunk :]
            candidate = b"\n".join(candidate_lines)
            if candidate_lines and test(candidate):
                lines = candidate_lines
                best = candidate
                removed_any = True
            else:
                i += chunk
        if not removed_any:
            chunk //= 2
    try:
        dedented = textwrap.dedent(best.decode("utf-8")).encode("utf-8")
    except UnicodeDecodeError:
        dedented = best
    if dedented != best and not out_of_budget() and test(dedented):
        best = dedented
    return best


def _shorten(text: str) -> str:
    """Keep markers, control characters and the first few characters; drop the rest."""
    keep = tagged_markers(text)
    if keep:
        start = keep[0][1]
        end = text.find("}}", start)
        end = len(text) if end < 0 else end + 2
        return text[start:end]
    return text[:8]


# ---------------------------------------------------------------------------------------------
# normalizing IR locations for grouping

NAME_MAPS = {"components", "executors", "tasks", "parameters", "artifacts", "parameterValues", "labels", "annotations", "metadata"}
FREE_FORM = {"constant", "defaultValue", "runtimeValue", "structValue", "customProperties"}


def normalize_ir_location(where: str) -> str:
    """``doc2:/platforms/kubernetes/deploymentSpec/executors/exec-a/secretAsEnv/0/secretName`` ->
    ``doc2:/platforms/kubernetes/deploymentSpec/executors/*/secretAsEnv/*/secretName``."""
    suffix = ""
    if where.endswith(" (key)"):
        where, suffix = where[: -len(" (key)")], " (key)"
    prefix, _, pointer = where.rpartition(":") if where.startswith("doc") else ("", "", where)
    tokens = pointer.split("/")[1:] if pointer != "/" else []
    out = []
    free = False
    for i, token in enumerate(tokens):
        parent = tokens[i - 1] if i else ""
        if free or token.isdigit() or parent in NAME_MAPS:
            out.append("*")
        else:
            out.append(token)
        if token in FREE_FORM:
            free = True
    if suffix and out:
        out[-1] = "<key>"
    return (prefix + ":" if prefix else "") + "/" + "/".join(out)


def iter_chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def encode_for_report(data: bytes, limit: int = 4000) -> str:
    """The reproducer as text for a report (base64 when it is not UTF-8)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(data[:limit]).decode()
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text)} chars)"


__all__ = [
    "Case", "Result", "Seed", "Worker", "cli_check", "cli_expected_rc", "find_leaks", "generate", "lint_files",
    "load_seeds", "marker", "minimize", "normalize_ir_location", "render", "run_case", "run_data",
]
