"""transpiler/schema_check.py gives the same schema errors as jsonschema (issue 17).

Differential tests: every golden input, every corpus file, fuzz cases of whole documents
(tests/fuzz.py) and thousands of seeded mutations of sub-documents, each checked against its own
``$defs`` entry, must give jsonschema's errors: same locations, keywords, messages, schemas and
instances, in the same order once sorted as validate.py sorts them.

``python tests/test_schema_check.py`` prints the speed of both validators instead (see _benchmark).
"""

from __future__ import annotations

import copy
import json
import random
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

import fuzz  # noqa: E402
from conftest import GOLDEN, require_corpus  # noqa: E402
from transpiler import schema_check  # noqa: E402
from transpiler.errors import LoadError  # noqa: E402
from transpiler.load import load  # noqa: E402

SCHEMA = schema_check._schema()
DEFS = SCHEMA["$defs"]
ENTRIES = ("PipelineSpec", "PlatformSpec")
_REFERENCE: dict[str, jsonschema.Draft202012Validator] = {}


def reference_errors(definition: str, document: Any) -> list[Any]:
    if definition not in _REFERENCE:  # built as validate.py builds it
        _REFERENCE[definition] = jsonschema.Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{definition}"})
    return list(_REFERENCE[definition].iter_errors(document))


def rows(errors: list[Any]) -> list[tuple]:
    """What validate.py reads of each error, sorted as it sorts them (a stable sort, so errors
    with the same place and message must also come in the same order)."""
    ordered = sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [(tuple(e.absolute_path), e.validator, e.message, e.schema, e.validator_value, id(e.instance)) for e in ordered]


def difference(definition: str, document: Any) -> str | None:
    """None when both validators agree on ``document``, else both error lists."""
    expected = rows(reference_errors(definition, document))
    actual = rows(list(schema_check.iter_errors(definition, document)))
    if expected == actual:
        return None
    return f"{definition}:\n  jsonschema:\n{_show(expected)}\n  schema_check:\n{_show(actual)}"


def _show(table: list[tuple]) -> str:
    return "\n".join(f"    {row[:3]}" for row in table[:8])


def documents(path: Path) -> Iterator[tuple[str, Any]]:
    try:
        source = load(path.read_bytes(), path.name)
    except LoadError:
        return
    yield "PipelineSpec", source.pipeline_spec
    if source.platform_spec is not None:
        yield "PlatformSpec", source.platform_spec


def golden_inputs() -> list[Path]:
    return sorted(GOLDEN.glob("*/pipeline.yaml"))


def corpus_inputs() -> list[Path]:
    corpus = require_corpus()
    return sorted((corpus / "kfp-ir").rglob("*.yaml")) + sorted(p for p in (corpus / "invalid").glob("*") if p.is_file())


# --------------------------------------------------------------------------- the fast path


@pytest.mark.parametrize("definition", ENTRIES)
def test_entry_definitions_use_the_fast_path(definition: str) -> None:
    assert schema_check.uses_fast_path(definition)
    errors = list(schema_check.iter_errors(definition, {"unknownField": 1}))
    assert errors and all(isinstance(e, schema_check.Error) for e in errors)


def test_every_definition_uses_the_fast_path() -> None:
    assert [name for name in DEFS if not schema_check.uses_fast_path(name)] == []


@pytest.mark.parametrize("schema", [
    {"required": ["a"]},
    {"format": "uri"},
    {"oneOf": [{}]},
    {"type": "decimal"},
    {"$ref": "#/$defs/missing"},
    {"$ref": "other.json#/x"},
    {"items": False},
    {"properties": {"a": False}},
    {"$schema": "http://json-schema.org/draft-07/schema#"},
    {"properties": {"a": {"$id": "other"}}},
    {"properties": {"a": {"$schema": "https://json-schema.org/draft/2019-09/schema"}}},
])
def test_an_unsupported_keyword_is_not_guessed(schema: dict[str, Any]) -> None:
    with pytest.raises(schema_check.Unsupported):
        schema_check.compile_schema({"$defs": {}, **schema})


def test_annotations_and_true_compile() -> None:
    check = schema_check.compile_schema({"$defs": {"A": True}, "title": "t", "x-anything": 1, "properties": {"a": {"$ref": "#/$defs/A", "description": "d"}, "b": True}})
    assert check({"a": 1, "b": 1}) is None


SMALL_SCHEMAS = [
    (  # a cycle of $refs: the IR schema has none, but one must work (and terminate) all the same
        {"$defs": {"Tree": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Tree"}}, "leaf": {"enum": [1, "a"]}}}}, "$ref": "#/$defs/Tree"},
        [{"children": [{"leaf": 2}, {"children": [{"leaf": True}, {"children": "x"}]}]}, {"leaf": 1.0}, []],
    ),
    (  # the same message twice at one place, from two schemas: they must come in jsonschema's order
        {"$defs": {"O": {"type": "object"}, "A": {"type": "array"}}, "type": "object", "$ref": "#/$defs/O", "properties": {"a": {"$ref": "#/$defs/A", "items": True, "type": "array"}}},
        ["x", {"a": 1}, {"a": [1]}],
    ),
    (  # keywords side by side, a list of types, an enum of mixed values, if/else
        {"type": ["string", "null", "boolean"], "enum": ["a", None, 0, [1, True], {"k": False}], "not": {"type": "null"}, "if": {"type": "boolean"}, "else": {"pattern": "^a"}},
        ["a", "b", None, False, 0, 0.0, [1, True], [1, 1], {"k": False}, {"k": 0}, 1.5],
    ),
    (
        {"additionalProperties": {"minimum": 0, "maximum": 1.5}, "dependentSchemas": {"a": {"properties": {"b": {"not": {}}}}, "b": True}},
        [{"a": -1, "b": 2}, {"x": 1.5, "y": True, "z": "s"}, {"a": 0}],
    ),
]


@pytest.mark.parametrize("case", range(len(SMALL_SCHEMAS)))
def test_small_schemas(case: int) -> None:
    schema, documents = SMALL_SCHEMAS[case]
    check = schema_check.compile_schema(schema)
    for document in documents:
        assert rows(check(document) or []) == rows(list(jsonschema.Draft202012Validator(schema).iter_errors(document))), document


# --------------------------------------------------------------------------- real inputs


def test_golden_inputs() -> None:
    problems = [f"{path}: {d}" for path in golden_inputs() for name, doc in documents(path) if (d := difference(name, doc))]
    assert not problems, "\n".join(problems)


def test_corpus_inputs() -> None:
    problems = [f"{path}: {d}" for path in corpus_inputs() for name, doc in documents(path) if (d := difference(name, doc))]
    assert not problems, "\n".join(problems)


# Hand-picked edge cases (valid and not), each keyword at least once, whatever the mutator draws.
VALUE = "ml_pipelines.Value"
TASK = "ml_pipelines.PipelineTaskSpec"
RESOURCES = "ml_pipelines.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec"
CASES = [
    (VALUE, {"intValue": value})
    for value in ("12", "-7", "abc", "1.5", 3.0, 3.5, 2**63, 2**63 - 1, -(2**63), -(2**63) - 1, 2.0**63, -(2.0**63), True, None, [1], float("nan"), float("inf"))
] + [
    (VALUE, {"doubleValue": value}) for value in ("NaN", "-Infinity", "inf", "1.5", 1, 1.5, False, {})
] + [
    (VALUE, {"intValue": 1, "doubleValue": 2.0, "stringValue": "x"}),
    (VALUE, {"intValue": 1, "stringValue": 2}),
    (VALUE, {"stringValue": "x", "unknown": 1, "another": 2}),
    (VALUE, "not an object"),
    ("ml_pipelines.ValueOrRuntimeParameter", {"constant": 1, "constantValue": {"intValue": 1}, "runtimeParameter": "x"}),
    ("ml_pipelines.ValueOrRuntimeParameter", {"constant": 1, "runtimeParameter": 2}),
    ("ml_pipelines.ComponentInputsSpec.ParameterSpec", {"parameterType": "STRUNG"}),
    ("ml_pipelines.ComponentInputsSpec.ParameterSpec", {"parameterType": 3}),
    ("ml_pipelines.ComponentInputsSpec.ParameterSpec", {"parameterType": 3.0}),
    ("ml_pipelines.ComponentInputsSpec.ParameterSpec", {"parameterType": 99}),
    ("ml_pipelines.ComponentInputsSpec.ParameterSpec", {"parameterType": 2.5}),
    ("ml_pipelines.ComponentInputsSpec.ParameterSpec", {"parameterType": True}),
    ("ml_pipelines.ComponentInputsSpec.ParameterSpec", {"parameterType": None}),
    ("ml_pipelines.ComponentInputsSpec.ParameterSpec", {"parameterType": ["STRING"]}),
    (TASK, {"dependentTasks": ["a", 1, None, ["b"]], "artifactIterator": {}, "parameterIterator": {}}),
    (TASK, {"dependentTasks": "a", "retryPolicy": {"backoffDuration": "1.5m", "backoffFactor": "2", "maxRetryCount": "3"}}),
    (TASK, {"retryPolicy": {"backoffDuration": "-1.5s", "backoffMaxDuration": 5, "maxRetryCount": 2**31}}),
    (TASK, {"triggerPolicy": {"strategy": "SOMETIMES", "condition": 1}}),
    (RESOURCES, {"cpuLimit": "2", "memoryLimit": 1.5, "accelerator": {"count": "x", "type": 1}}),
    ("kfp_kubernetes.KubernetesExecutorConfig", {"activeDeadlineSeconds": "-10", "tolerations": [{"tolerationSeconds": 1e30}], "unknown": []}),
    ("PipelineSpec", {"deploymentSpec": "x", "root": [], "components": {"a": 1}}),
    ("PipelineSpec", []),
    ("PlatformSpec", {"platforms": {"kubernetes": {"deploymentSpec": {"executors": {"e": {"nodeSelector": 1}}}}}}),
    ("PlatformSpec", {"platforms": {"kubernetes": {"deploymentSpec": {"executors": []}}}}),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_hand_picked_cases(case: int) -> None:
    definition, document = CASES[case]
    assert difference(definition, document) is None, difference(definition, document)


def test_hand_picked_cases_reach_every_keyword() -> None:
    seen = {e.validator for definition, document in CASES for e in reference_errors(definition, document)}
    assert seen == {"type", "additionalProperties", "not", "enum", "pattern", "minimum", "maximum"}


# --------------------------------------------------------------------------- mutations


def test_fuzzed_whole_documents() -> None:
    """tests/fuzz.py's mutations of goldens and corpus files, both documents of each case."""
    problems = []
    for index in range(400):
        case = fuzz.generate(17, index)
        docs = case.docs or [None]
        spec = docs[0]
        if isinstance(spec, dict) and isinstance(spec.get("pipelineSpec"), dict):  # a PipelineJob
            spec = spec["pipelineSpec"]
        pairs = [("PipelineSpec", spec)] + [("PlatformSpec", doc) for doc in docs[1:2]]
        problems += [f"{case.summary()}\n{d}" for name, doc in pairs if (d := difference(name, doc))]
    assert not problems, "\n".join(problems[:5])


def ref_sites(instance: Any, schema: Any, found: dict[str, list[Any]]) -> None:
    """Every sub-document of ``instance`` that a ``$ref`` checks, by definition name."""
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        found.setdefault(name, []).append(instance)
        ref_sites(instance, DEFS[name], found)
    if isinstance(instance, dict):
        properties, extra = schema.get("properties", {}), schema.get("additionalProperties")
        for key, value in instance.items():
            ref_sites(value, properties.get(key, extra), found)
    elif isinstance(instance, list):
        for item in instance:
            ref_sites(item, schema.get("items"), found)


def field_names() -> list[str]:
    names: set[str] = set()
    for definition in DEFS.values():
        names.update(definition.get("properties", {}))
    return sorted(names)


VALUES = [
    None, True, False, 0, 1, -1, 3, 3.0, 2.5, -0.0, 8, 99, 2**31, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**40,
    1e308, float("nan"), float("inf"), float("-inf"), "", "x", "12", "-7", "1.5", "1.5s", "-3s", "10s", "NaN",
    "Infinity", "-Infinity", "inf", "STRING", "NUMBER_INTEGER", "BAD_ENUM", "ALL_UPSTREAM_TASKS_COMPLETED", "ENV",
    "INT", [], [1], ["a", 2], {}, {"a": 1}, {"stringValue": "x"}, {"intValue": 5, "doubleValue": 1.0},
]


class Mutator:
    """Seeded schema-aware mutations of one sub-document (1 to 3 per case)."""

    def __init__(self, rng: random.Random, names: list[str]) -> None:
        self.rng = rng
        self.names = names

    def mutate(self, definition: str, document: Any) -> Any:
        holder = [document]  # the root is a slot too
        for _ in range(self.rng.choice((1, 1, 2, 3))):
            operation = self.rng.choice((self.delete, self.insert, self.declared, self.declared, self.replace, self.replace, self.wrap, self.oneof))
            operation(definition, holder)
        return holder[0]

    def slots(self, holder: list[Any]) -> list[tuple[Any, Any]]:
        stack = [holder[0]]
        slots: list[tuple[Any, Any]] = [(holder, 0)]
        while stack:
            node = stack.pop()
            children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
            for key, value in children:
                slots.append((node, key))
                stack.append(value)
        return slots

    def containers(self, holder: list[Any], kind: type) -> list[Any]:
        return [parent[key] for parent, key in self.slots(holder) if isinstance(parent[key], kind)]

    def value(self) -> Any:
        return copy.deepcopy(self.rng.choice(VALUES))

    def delete(self, definition: str, holder: list[Any]) -> None:
        slots = [(parent, key) for parent, key in self.slots(holder) if parent is not holder]
        if slots:
            parent, key = self.rng.choice(slots)
            del parent[key]

    def insert(self, definition: str, holder: list[Any]) -> None:
        objects = self.containers(holder, dict)
        if objects:
            name = self.rng.choice(self.names + ["unknownField", "x", ""])
            self.rng.choice(objects)[name] = self.value()

    def declared(self, definition: str, holder: list[Any]) -> None:
        """Set a field the definition declares (to a value of any type)."""
        names = sorted(DEFS[definition].get("properties", {}))
        if names and isinstance(holder[0], dict):
            holder[0][self.rng.choice(names)] = self.value()

    def replace(self, definition: str, holder: list[Any]) -> None:
        parent, key = self.rng.choice(self.slots(holder))
        parent[key] = self.value()

    def wrap(self, definition: str, holder: list[Any]) -> None:
        parent, key = self.rng.choice(self.slots(holder))
        parent[key] = [parent[key]] if self.rng.random() < 0.5 else {"wrapped": parent[key]}

    def oneof(self, definition: str, holder: list[Any]) -> None:
        """Set two or more fields of one protobuf oneof group."""
        groups = DEFS[definition].get("x-oneof", {})
        if groups and isinstance(holder[0], dict):
            fields = self.rng.choice(sorted(groups.values()))
            for name in self.rng.sample(fields, self.rng.randint(2, len(fields))):
                holder[0].setdefault(name, self.value())


def sub_documents() -> dict[str, list[Any]]:
    """Sub-documents of every seed (goldens, and the corpus when present) by definition name."""
    found: dict[str, list[Any]] = {}
    for seed in fuzz.load_seeds()[0]:
        docs = json.loads(seed.docs_json)
        ref_sites(docs[0], {"$ref": "#/$defs/PipelineSpec"}, found)
        if seed.has_platform:
            ref_sites(docs[1], {"$ref": "#/$defs/PlatformSpec"}, found)
    return found


def test_mutated_sub_documents() -> None:
    """3,000 mutated sub-documents, each against its own definition, every definition found in
    the seeds about equally often (rare ones, such as the oneof-heavy messages, included)."""
    rng = random.Random(17)
    pool = sub_documents()
    definitions = sorted(pool)
    mutator = Mutator(rng, field_names())
    problems = []
    seen: set[str | None] = set()
    for index in range(3000):
        definition = definitions[index % len(definitions)]
        document = mutator.mutate(definition, copy.deepcopy(rng.choice(pool[definition])))
        if d := difference(definition, document):
            problems.append(f"case {index}: {d}")
        seen.update(e.validator for e in schema_check.iter_errors(definition, document))
    assert not problems, "\n".join(problems[:5])
    # the mutator makes every kind of error the schema can report (else it would test little)
    assert seen == {"type", "additionalProperties", "not", "enum", "pattern", "minimum", "maximum"}, seen


# --------------------------------------------------------------------------- speed


def _best(function: Any, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def _benchmark() -> None:
    """Best of 5 of jsonschema and schema_check on the largest corpus file and on the 1000-task
    synthetic IR of benchmarks/bench.py, and the cost of importing and compiling schema_check."""
    import os
    import subprocess
    import tempfile

    sys.path.insert(0, str(TESTS.parent / "benchmarks"))
    import bench

    largest = max((p for p in (require_corpus() / "kfp-ir").rglob("*.yaml")), key=lambda p: p.stat().st_size)
    inputs = [(f"largest corpus file ({largest.name}, {largest.stat().st_size // 1024} KB)", load(largest.read_bytes(), largest.name).pipeline_spec),
              ("synthetic 1000-task IR (benchmarks/bench.py)", bench.synthetic_ir(1000))]
    start = time.perf_counter()
    schema_check.uses_fast_path("PipelineSpec")
    print(f"first use (read + compile the schema): {(time.perf_counter() - start) * 1000:.1f} ms")
    for label, document in inputs:
        reference_errors("PipelineSpec", document)  # warm up jsonschema (it resolves $refs lazily)
        slow = _best(lambda: reference_errors("PipelineSpec", document))
        fast = _best(lambda: list(schema_check.iter_errors("PipelineSpec", document)))
        print(f"{label}: jsonschema {slow * 1000:.1f} ms, schema_check {fast * 1000:.2f} ms, {slow / fast:.0f}x faster")
    code = "import time; import transpiler.errors, transpiler.data; t = time.perf_counter(); import transpiler.schema_check; print((time.perf_counter() - t) * 1000)"
    with tempfile.TemporaryDirectory() as cache:  # bytecode goes here, not into the checkout
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPYCACHEPREFIX": cache}
        run = lambda: float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=TESTS.parent, env=env).stdout)  # noqa: E731
        first = run()
        cached = min(run() for _ in range(5))
    print(f"import transpiler.schema_check (its transpiler imports excluded): {first:.2f} ms compiling the source, best of 5 {cached:.2f} ms from bytecode")


if __name__ == "__main__":
    _benchmark()
