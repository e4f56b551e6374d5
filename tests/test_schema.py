"""The IR JSON Schema (schemas/pipeline_spec.schema.json) and its generator.

The schema is generated from the protobuf descriptors by tools/gen_ir_schema.py; see its
docstring for the mapping rules. These tests check that the committed schema matches the
installed kfp-pipeline-spec / kfp-kubernetes, that real IR validates, that it rejects what
protobuf rejects (with the right location), and that SDK-compiled pipelines validate.
"""


import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from google.protobuf import json_format

REPO = Path(__file__).resolve().parents[1]
SCHEMA_PATH = REPO / "schemas" / "pipeline_spec.schema.json"
GENERATOR = REPO / "tools" / "gen_ir_schema.py"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
IR_CORPUS = CORPUS / "kfp-ir"

# Corpus files that must NOT validate, with the reason. If one starts to validate (e.g.
# after a kfp-kubernetes bump), the test fails so that the entry gets removed.
KNOWN_INVALID = {
    "kubernetes/init_container.yaml": (
        "initContainers",
        "written by an unreleased kfp-kubernetes: KubernetesExecutorConfig has no "
        "init_containers field up to kfp-kubernetes 2.17.3, so protobuf ParseDict rejects "
        "it too",
    ),
}


# --------------------------------------------------------------------------- helpers


def _load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


SCHEMA = _load_schema()
# Precompiled validators, one per entry $defs, reused by every test.
VALIDATORS = {
    entry: jsonschema.Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{entry}"})
    for entry in ("PipelineSpec", "PlatformSpec", "PipelineJob")
}


def errors(doc, entry: str = "PipelineSpec") -> list[jsonschema.ValidationError]:
    return sorted(VALIDATORS[entry].iter_errors(doc), key=lambda e: list(map(str, e.path)))


def describe(errs, limit: int = 10) -> str:
    lines = [
        f"  at {e.json_path}: {e.message[:300]}  [schema: {'/'.join(map(str, e.schema_path))}]"
        for e in errs[:limit]
    ]
    if len(errs) > limit:
        lines.append(f"  ... and {len(errs) - limit} more")
    return "\n".join(lines)


def load_documents(path: Path) -> list:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return [json.loads(text)]
    docs = list(yaml.safe_load_all(text))
    while docs and docs[-1] is None:  # a trailing '---'
        docs.pop()
    return docs


def protobuf_accepts(doc, entry: str = "PipelineSpec") -> bool:
    """What json_format.ParseDict says, with the same Struct overrides as the schema."""
    from kfp.kubernetes import kubernetes_executor_config_pb2 as k8s
    from kfp.pipeline_spec import pipeline_spec_pb2 as pb

    try:
        if entry == "PipelineSpec":
            json_format.ParseDict(doc, pb.PipelineSpec())
            json_format.ParseDict(doc.get("deploymentSpec") or {}, pb.PipelineDeploymentConfig())
        elif entry == "PlatformSpec":
            json_format.ParseDict(doc, pb.PlatformSpec())
            kube = (doc.get("platforms") or {}).get("kubernetes") or {}
            for config in ((kube.get("deploymentSpec") or {}).get("executors") or {}).values():
                json_format.ParseDict(config, k8s.KubernetesExecutorConfig())
        else:
            raise ValueError(entry)
    except json_format.ParseError:
        return False
    return True


# ------------------------------------------------------------ 1. generated files are current


def _generator_module():
    spec = importlib.util.spec_from_file_location("gen_ir_schema", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_schema_matches_generator(tmp_path):
    gen = _generator_module()
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--out-dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    names = sorted(gen.outputs())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    stale = []
    for name in names:
        committed = REPO / "schemas" / name
        fresh = (tmp_path / name).read_bytes()
        if not committed.exists() or committed.read_bytes() != fresh:
            stale.append(f"schemas/{name}")
    assert not stale, (
        f"out of date: {', '.join(stale)} (the installed packages are "
        f"{json.loads((tmp_path / names[0]).read_text())['x-generated-from']['packages']}). "
        "If kfp-pipeline-spec or kfp-kubernetes was bumped on purpose, run "
        "`python tools/gen_ir_schema.py` and commit the result."
    )


def test_schema_is_valid_draft_2020_12_and_self_describing():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    info = SCHEMA["x-generated-from"]
    assert info["generator"] == "tools/gen_ir_schema.py"
    assert set(info["packages"]) == {"kfp-pipeline-spec", "kfp-kubernetes"}
    defs = SCHEMA["$defs"]
    for name in ("PipelineSpec", "PlatformSpec", "PipelineJob",
                 "ml_pipelines.PipelineSpec", "ml_pipelines.PlatformSpec",
                 "ml_pipelines.PipelineJob", "ml_pipelines.PipelineDeploymentConfig",
                 "kfp_kubernetes.KubernetesExecutorConfig"):
        assert name in defs
    for name, schema in defs.items():
        if "." in name:
            assert schema["title"] == name
            assert "description" not in schema  # the shipped descriptors carry no comments
    assert len(SCHEMA_PATH.read_bytes()) < 200_000


def test_every_reachable_message_has_a_def_with_all_its_fields():
    from kfp.kubernetes import kubernetes_executor_config_pb2 as k8s
    from kfp.pipeline_spec import pipeline_spec_pb2 as pb

    messages = {}

    def walk(desc):
        if desc.full_name in messages:
            return
        messages[desc.full_name] = desc
        if not desc.full_name.startswith("google.protobuf."):
            for field in desc.fields:
                if field.message_type is not None:
                    walk(field.message_type)

    for msg in (pb.PipelineSpec, pb.PlatformSpec, pb.PipelineJob,
                pb.PipelineDeploymentConfig, k8s.KubernetesExecutorConfig):
        walk(msg.DESCRIPTOR)
    defs = SCHEMA["$defs"]
    for name, desc in messages.items():
        if desc.GetOptions().map_entry:
            assert name not in defs  # maps are inlined as objects
        elif name.startswith("google.protobuf."):
            assert name in defs
        else:
            assert set(defs[name]["properties"]) == {f.json_name for f in desc.fields}, name
            assert defs[name]["additionalProperties"] is False


# -------------------------------------------------------------------------- 2. the corpus


def _corpus_files():
    if not IR_CORPUS.is_dir():
        return []
    return sorted(p for p in IR_CORPUS.rglob("*") if p.is_file() and p.suffix in
                  (".yaml", ".yml", ".json"))


CORPUS_FILES = _corpus_files()


@pytest.mark.skipif(not IR_CORPUS.is_dir(), reason="../shared/corpus is not checked out")
def test_corpus_is_present():
    assert len(CORPUS_FILES) > 100


@pytest.mark.skipif(not IR_CORPUS.is_dir(), reason="../shared/corpus is not checked out")
@pytest.mark.parametrize(
    "path", CORPUS_FILES, ids=[p.relative_to(IR_CORPUS).as_posix() for p in CORPUS_FILES])
def test_corpus_file_validates(path):
    rel = path.relative_to(IR_CORPUS).as_posix()
    docs = load_documents(path)
    assert 1 <= len(docs) <= 2, f"{rel}: expected 1 or 2 YAML documents, got {len(docs)}"
    entries = ("PipelineSpec", "PlatformSpec")
    problems = []
    for index, doc in enumerate(docs):
        errs = errors(doc, entries[index])
        if errs:
            problems.append(f"{rel}: document {index + 1} ({entries[index]}):\n{describe(errs)}")
        # The schema must agree with protobuf itself on every real file.
        assert protobuf_accepts(doc, entries[index]) == (not errs), (
            f"{rel}: document {index + 1}: schema and json_format.ParseDict disagree "
            f"(schema errors: {len(errs)})")

    if rel in KNOWN_INVALID:
        needle, reason = KNOWN_INVALID[rel]
        assert problems, (f"{rel} now validates; remove it from KNOWN_INVALID "
                          f"(it was listed because: {reason})")
        assert needle in "\n".join(problems), "\n".join(problems)
        return
    assert not problems, "\n".join(problems)


# -------------------------------------------------------------------- 3. negative checks

# A small hand-written IR in the shape the SDK writes (one container component).
BASE_IR = {
    "pipelineInfo": {"name": "tiny"},
    "schemaVersion": "2.1.0",
    "sdkVersion": "kfp-2.17.0",
    "root": {
        "inputDefinitions": {"parameters": {
            "msg": {"parameterType": "STRING", "defaultValue": "hi", "isOptional": True},
        }},
        "dag": {"tasks": {
            "say": {
                "taskInfo": {"name": "say"},
                "componentRef": {"name": "comp-say"},
                "inputs": {"parameters": {
                    "msg": {"componentInputParameter": "msg"},
                }},
                "cachingOptions": {"enableCache": True},
                "retryPolicy": {"maxRetryCount": 2, "backoffDuration": "1.5s",
                                "backoffFactor": 2},
            },
        }},
    },
    "components": {
        "comp-say": {
            "executorLabel": "exec-say",
            "inputDefinitions": {"parameters": {"msg": {"parameterType": "STRING"}}},
            "outputDefinitions": {"parameters": {"Output": {"parameterType": "STRING"}}},
        },
    },
    "deploymentSpec": {"executors": {
        "exec-say": {"container": {
            "image": "python:3.11",
            "command": ["echo"],
            "args": ["{{$.inputs.parameters['msg']}}"],
            "resources": {"accelerator": {"count": "1", "type": "nvidia.com/gpu"}},
        }},
    }},
}

BASE_PLATFORM = {
    "platforms": {"kubernetes": {"deploymentSpec": {"executors": {
        "exec-say": {
            "secretAsEnv": [{
                "secretName": "s",
                "secretNameParameter": {"runtimeValue": {"constant": "s"}},
                "keyToEnv": [{"secretKey": "password", "envVar": "PW"}],
            }],
            "activeDeadlineSeconds": "60",
        },
    }}}},
}

TASK = ["root", "dag", "tasks", "say"]
TASK_PARAM = TASK + ["inputs", "parameters", "msg"]


def mutate(base, path, value=None, delete=False):
    doc = copy.deepcopy(base)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


def test_base_documents_validate():
    assert errors(BASE_IR) == []
    assert errors(BASE_PLATFORM, "PlatformSpec") == []
    assert protobuf_accepts(BASE_IR) and protobuf_accepts(BASE_PLATFORM, "PlatformSpec")
    job = {"displayName": "x", "pipelineSpec": BASE_IR,
           "runtimeConfig": {"parameterValues": {"msg": "hello", "n": 3, "l": [None]}}}
    assert errors(job, "PipelineJob") == []


# (case id, entry, mutation path, value, expected error location, expected validator)
NEGATIVE = [
    ("unknown-nested-field", "PipelineSpec", TASK_PARAM + ["bogusField"], 1,
     TASK_PARAM, "additionalProperties"),
    ("componentRef-as-string", "PipelineSpec", TASK + ["componentRef"], "comp-say",
     TASK + ["componentRef"], "type"),
    ("oneof-two-members", "PipelineSpec", TASK_PARAM + ["runtimeValue"],
     {"constant": "x"}, TASK_PARAM + ["componentInputParameter"], "not"),
    ("enum-typo", "PipelineSpec",
     ["components", "comp-say", "inputDefinitions", "parameters", "msg", "parameterType"],
     "STRIN",
     ["components", "comp-say", "inputDefinitions", "parameters", "msg", "parameterType"],
     "enum"),
    ("repeated-not-a-list", "PipelineSpec", TASK + ["dependentTasks"], "other",
     TASK + ["dependentTasks"], "type"),
    ("int32-not-integer", "PipelineSpec", TASK + ["retryPolicy", "maxRetryCount"], 1.5,
     TASK + ["retryPolicy", "maxRetryCount"], "type"),
    ("int32-out-of-range", "PipelineSpec", TASK + ["retryPolicy", "maxRetryCount"], 2**31,
     TASK + ["retryPolicy", "maxRetryCount"], "maximum"),
    ("duration-format", "PipelineSpec", TASK + ["retryPolicy", "backoffDuration"], "3 sec",
     TASK + ["retryPolicy", "backoffDuration"], "pattern"),
    ("double-as-word", "PipelineSpec", TASK + ["retryPolicy", "backoffFactor"], "two",
     TASK + ["retryPolicy", "backoffFactor"], "pattern"),
    ("int64-bad-string", "PipelineSpec",
     ["deploymentSpec", "executors", "exec-say", "container", "resources", "accelerator",
      "count"], "one",
     ["deploymentSpec", "executors", "exec-say", "container", "resources", "accelerator",
      "count"], "pattern"),
    ("executor-unknown-field", "PipelineSpec",
     ["deploymentSpec", "executors", "exec-say", "container", "imagee"], "x",
     ["deploymentSpec", "executors", "exec-say", "container"], "additionalProperties"),
    ("executor-oneof", "PipelineSpec",
     ["deploymentSpec", "executors", "exec-say", "importer"], {"reimport": False},
     ["deploymentSpec", "executors", "exec-say", "importer"], "not"),
    ("platform-unknown-field", "PlatformSpec",
     ["platforms", "kubernetes", "deploymentSpec", "executors", "exec-say", "secretAsEnvv"],
     [], ["platforms", "kubernetes", "deploymentSpec", "executors", "exec-say"],
     "additionalProperties"),
    ("platform-wrong-type", "PlatformSpec",
     ["platforms", "kubernetes", "deploymentSpec", "executors", "exec-say", "secretAsEnv",
      0, "keyToEnv"], {"password": "PW"},
     ["platforms", "kubernetes", "deploymentSpec", "executors", "exec-say", "secretAsEnv",
      0, "keyToEnv"], "type"),
]


@pytest.mark.parametrize("case", NEGATIVE, ids=[c[0] for c in NEGATIVE])
def test_rejected_with_location(case):
    _, entry, path, value, where, keyword = case
    base = BASE_IR if entry == "PipelineSpec" else BASE_PLATFORM
    doc = mutate(base, path, value)
    errs = errors(doc, entry)
    assert len(errs) == 1, describe(errs)
    err = errs[0]
    assert list(err.absolute_path) == where, describe(errs)
    assert err.validator == keyword, describe(errs)
    # ... and protobuf rejects it too, so the schema is not stricter than the real thing here.
    assert not protobuf_accepts(doc, entry)


def test_oneof_error_can_be_explained_from_the_schema():
    doc = mutate(BASE_IR, TASK_PARAM + ["runtimeValue"], {"constant": "x"})
    (err,) = errors(doc)
    # The failing subschema names the group and both fields ...
    conflict = err.schema["x-oneof-conflict"]
    assert conflict == {"group": "kind",
                        "fields": ["runtimeValue", "componentInputParameter"]}
    assert err.path[-1] == conflict["fields"][1]
    # ... consistently with the message-level annotation.
    message = SCHEMA["$defs"]["ml_pipelines.TaskInputsSpec.InputParameterSpec"]
    assert set(conflict["fields"]) <= set(message["x-oneof"][conflict["group"]])


def test_enum_typo_error_lists_the_names_only():
    doc = mutate(BASE_IR, ["components", "comp-say", "inputDefinitions", "parameters", "msg",
                           "parameterType"], "STRIN")
    (err,) = errors(doc)
    assert err.validator == "enum"
    assert "STRING" in err.validator_value and "NUMBER_INTEGER" in err.validator_value
    assert all(isinstance(v, str) for v in err.validator_value)


def test_oneof_three_members_give_one_error_per_pair():
    doc = mutate(BASE_IR, TASK_PARAM + ["runtimeValue"], {"constant": "x"})
    doc = mutate(doc, TASK_PARAM + ["taskFinalStatus"], {"producerTask": "say"})
    assert len(errors(doc)) == 3


def test_proto3_optional_fields_are_not_oneofs():
    kec = SCHEMA["$defs"]["kfp_kubernetes.SecurityContext"]
    assert "x-oneof" not in kec and "dependentSchemas" not in kec
    doc = mutate(BASE_PLATFORM, ["platforms", "kubernetes", "deploymentSpec", "executors",
                                 "exec-say", "securityContext"],
                 {"runAsUser": "1000", "runAsGroup": 1000, "runAsNonRoot": True})
    assert errors(doc, "PlatformSpec") == []


def test_accepted_json_mapping_forms():
    ok = [
        mutate(BASE_IR, TASK + ["retryPolicy", "backoffFactor"], "NaN"),
        mutate(BASE_IR, TASK + ["retryPolicy", "backoffFactor"], "-Infinity"),
        mutate(BASE_IR, TASK + ["retryPolicy", "backoffDuration"], "-3s"),
        mutate(BASE_IR, ["deploymentSpec", "executors", "exec-say", "container",
                         "resources", "accelerator", "count"], 2),
        mutate(BASE_IR, ["components", "comp-say", "inputDefinitions", "parameters", "msg",
                         "parameterType"], 3),  # enum by number
        mutate(BASE_IR, ["root", "inputDefinitions", "parameters", "msg", "defaultValue"],
               None),  # google.protobuf.Value accepts null
    ]
    for doc in ok:
        assert errors(doc) == [], describe(errors(doc))
        assert protobuf_accepts(doc)


def test_deliberately_stricter_than_parse_dict():
    # Forms ParseDict accepts but the SDK never writes; rejected on purpose (see the
    # generator's docstring). If protobuf stops accepting one, drop it from this list.
    stricter = [
        mutate(BASE_IR, ["pipelineInfo", "displayName"], None),                 # null
        mutate(BASE_IR, TASK + ["retryPolicy", "maxRetryCount"], "2"),          # int32 text
        mutate(BASE_IR, TASK + ["retryPolicy", "backoffFactor"], "2.5"),       # double text
        mutate(BASE_IR, ["components", "comp-say", "inputDefinitions", "parameters", "msg",
                         "parameterType"], 99),                                 # open enum
        mutate(mutate(BASE_IR, TASK + ["component_ref"], {"name": "comp-say"}),
               TASK + ["componentRef"], delete=True),                          # snake_case
        # json_format (python) even takes both spellings at once, the last one winning:
        mutate(BASE_IR, ["pipeline_info"], {"name": "other"}),
    ]
    for doc in stricter:
        assert len(errors(doc)) == 1, describe(errors(doc))
        assert protobuf_accepts(doc)


def test_pipeline_job_wrapper_locates_errors_inside_pipeline_spec():
    job = {"pipelineSpec": mutate(BASE_IR, TASK + ["componentRef"], "comp-say")}
    (err,) = errors(job, "PipelineJob")
    assert list(err.absolute_path) == ["pipelineSpec"] + TASK + ["componentRef"]


def test_largest_corpus_file_validates_fast():
    # Not a benchmark: guards against a schema change that makes validation pathological.
    if not CORPUS_FILES:
        pytest.skip("../shared/corpus is not checked out")
    import time

    largest = max(CORPUS_FILES, key=lambda p: p.stat().st_size)
    doc = load_documents(largest)[0]
    validator = VALIDATORS["PipelineSpec"]
    validator.is_valid(doc)
    start = time.perf_counter()
    for _ in range(5):
        assert validator.is_valid(doc)
    per_file = (time.perf_counter() - start) / 5
    assert per_file < 0.5, f"{largest.name}: {per_file * 1000:.0f} ms per validation"


# --------------------------------------------------------------- 4. SDK-compiled pipelines


def _compile(tmp_path: Path, with_kubernetes: bool) -> list:
    pytest.importorskip("kfp")
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11")
    def say(msg: str) -> str:
        print(msg)
        return msg

    @dsl.pipeline(name="tiny-schema-test")
    def pipeline(msg: str = "hi", n: int = 3):
        first = say(msg=msg)
        first.set_retry(num_retries=2, backoff_duration="5s")
        second = say(msg=first.output).after(first)
        second.set_caching_options(False)
        if with_kubernetes:
            from kfp import kubernetes

            kubernetes.use_secret_as_env(
                first, secret_name="db-secret", secret_key_to_env={"password": "PW"})
            kubernetes.add_node_selector(second, label_key="pool", label_value="gpu")
            kubernetes.set_timeout(second, 120)

    out = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(pipeline, str(out))
    return load_documents(out)


def test_sdk_compiled_pipeline_validates(tmp_path):
    docs = _compile(tmp_path, with_kubernetes=False)
    assert len(docs) == 1
    assert errors(docs[0]) == [], describe(errors(docs[0]))


def test_sdk_compiled_kubernetes_pipeline_validates(tmp_path):
    pytest.importorskip("kfp.kubernetes")
    docs = _compile(tmp_path, with_kubernetes=True)
    assert len(docs) == 2
    spec, platform = docs
    assert errors(spec) == [], describe(errors(spec))
    assert errors(platform, "PlatformSpec") == [], describe(errors(platform, "PlatformSpec"))
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert any("secretAsEnv" in config for config in executors.values())
    # The executor configs are really checked as KubernetesExecutorConfig, not as a Struct.
    label = next(iter(executors))
    broken = copy.deepcopy(platform)
    broken["platforms"]["kubernetes"]["deploymentSpec"]["executors"][label]["nodeSelectr"] = {}
    (err,) = errors(broken, "PlatformSpec")
    assert list(err.absolute_path) == ["platforms", "kubernetes", "deploymentSpec",
                                       "executors", label]
