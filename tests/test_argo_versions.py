"""--argo-version (issue 18): every golden, with caching on and in every kind, passes the JSON
Schema of the Argo it is written for. Argo 3.x's schemas come from its own Go module (the
version pinned below, fetched through the Go module proxy like the lint harness's Argo 4)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from argo_schema import SCHEMA, argo_schema_errors
from conftest import GOLDEN, golden_options
from transpiler import Options, transpile
from transpiler.argo_versions import VERSIONS

ARGO_V3 = {"3.6": "v3.6.18", "3.7": "v3.7.18"}  # the newest patch releases the module proxy served us
KINDS = [Options(cache=True), Options(kind="workflow-template", cache=True),
         Options(kind="cron-workflow", schedules=("0 * * * *",), cache=True)]
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "pipeline.yaml").is_file())


def needs_values(case: str) -> bool:
    """Whether a pipeline has a parameter without a default (a CronWorkflow refuses it)."""
    spec = next(yaml.safe_load_all((GOLDEN / case / "pipeline.yaml").read_text()))
    parameters = spec["root"].get("inputDefinitions", {}).get("parameters", {}).values()
    return any("defaultValue" not in p and not p.get("isOptional") for p in parameters)


@lru_cache(maxsize=None)
def schema(version: str) -> Path:
    if version == "4.0":
        return SCHEMA
    go = shutil.which("go")
    if go is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Go is needed to fetch Argo 3.x's schema (CI=true: not skipped)")
        pytest.skip("Go is needed to fetch Argo 3.x's schema")
    module = f"github.com/argoproj/argo-workflows/v3@{ARGO_V3[version]}"
    proc = subprocess.run([go, "mod", "download", "-json", module], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, GOFLAGS="-mod=mod"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Path(json.loads(proc.stdout)["Dir"]) / "api" / "jsonschema" / "schema.json"


def option_sets(case: str, version: str) -> list[Options]:
    """Each kind with caching on; a case with its own options (golden/<case>/kfp2argo.yaml) as
    they are, with caching on. A CronWorkflow only where every parameter has a value."""
    from dataclasses import replace

    base = golden_options(case)
    if base is not None:
        return [replace(base, cache=True, argo_version=version)]
    kinds = [o for o in KINDS if not (o.kind == "cron-workflow" and needs_values(case))]
    return [replace(o, argo_version=version) for o in kinds]


@pytest.mark.parametrize("version", VERSIONS)
def test_goldens_pass_the_schema_of_the_argo_they_are_for(version: str) -> None:
    problems = []
    for case in CASES:
        for options in option_sets(case, version):
            manifest = transpile((GOLDEN / case / "pipeline.yaml").read_bytes(), options,
                                 file=f"golden/{case}/pipeline.yaml")
            for document in yaml.safe_load_all(manifest):
                problems += [f"{case} {document['kind']}: {p}" for p in argo_schema_errors(document, schema(version))]
    assert problems == []


def test_argo_3_gets_the_cache_key_its_schema_requires_and_4_does_not() -> None:
    ir = (GOLDEN / "loops" / "pipeline.yaml").read_bytes()
    for version, expected in (("3.7", {"name": "kfp2argo-cache", "key": "kfp2argo"}), ("4.0", {"name": "kfp2argo-cache"})):
        manifest = yaml.safe_load(transpile(ir, Options(cache=True, argo_version=version), file="p.yaml"))
        maps = [t["memoize"]["cache"]["configMap"] for t in manifest["spec"]["templates"] if "memoize" in t]
        assert maps and all(m == expected for m in maps)
