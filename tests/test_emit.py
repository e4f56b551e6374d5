"""The emitter writes strings that every YAML reader a manifest meets reads back as the same
strings: PyYAML (YAML 1.1), ruamel.yaml (YAML 1.2 core schema) and, through the lint harness,
Go's sigs.k8s.io/yaml (go-yaml v2), which is what kubectl, the API server and Argo use."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml
from ruamel.yaml import YAML

from conftest import CORPUS, GOLDEN
from transpiler import emit, transpile

YAML12 = YAML(typ="safe", pure=True)  # YAML 1.2 core schema

TRICKY = [
    "1e-8", "3e-4", "1e3", "-1e+308", "1E5", "0x1F", "0o17", "0b101", "017", "1_000", "+12", "-0", ".5", "5.",
    "12:30", "1:20:30", "2026-12-05", "2026-12-05T10:00:00Z", "2026-1-5 10:00:00", "y", "Y", "n", "N", "yes", "No",
    "on", "OFF", "true", "False", "TRUE", "~", "null", "Null", "", ".inf", "-.Inf", ".NaN", "<<", "=", "-", "--lr",
    "3-day", "v1.2", "1.2.3", "0.01", "1e", "e5", "0x", "12:70", "python:3.11", "a: b", "#x", "x #y", "'q'", '"q"',
    "é", " lead", "trail ", "{{x}}", "[1]", "{a: 1}", "*x", "&x", "!x", "%x", "@x", "`x", "|x", ">x", "?", ":",
]


def plain_or_quoted(value: str) -> str:
    return emit.to_yaml({"v": value})


@pytest.mark.parametrize("value", TRICKY)
def test_every_reader_reads_back_the_same_string(value: str) -> None:
    text = plain_or_quoted(value)
    assert yaml.safe_load(text) == {"v": value}, text
    assert YAML12.load(text) == {"v": value}, text


def test_generated_number_like_strings_read_back_as_strings() -> None:
    parts = ["", "+", "-", "0", "1", "9", ".", "e", "E", "_", "x", "o", "b", ":", "5"]
    checked = 0
    for length in (1, 2, 3, 4):
        for combo in itertools.product(parts, repeat=length):
            value = "".join(combo)
            text = plain_or_quoted(value)
            assert yaml.safe_load(text) == {"v": value}, text
            assert YAML12.load(text) == {"v": value}, text
            checked += 1
    assert checked > 50_000


def manifests() -> list[tuple[str, str]]:
    found = [(str(p.parent.name), p.read_text(encoding="utf-8")) for p in sorted(GOLDEN.glob("*/workflow.yaml"))]
    if CORPUS.is_dir():
        for path in sorted((CORPUS / "kfp-ir").rglob("*.yaml")):
            try:
                found.append((path.name, transpile(path.read_bytes(), file=path.name)))
            except Exception:  # refused inputs have no manifest
                continue
    return found


def test_argv_and_parameter_values_are_strings_to_a_yaml_1_2_reader() -> None:
    problems = []
    for name, text in manifests():
        document = YAML12.load(text)
        spec = document["spec"].get("workflowSpec", document["spec"])
        for template in spec["templates"]:
            container = template.get("container") or {}
            for field in ("command", "args"):
                problems += [f"{name}: {template['name']}.{field}: {v!r}" for v in container.get(field, []) if not isinstance(v, str)]
            for env in container.get("env", []):
                if "value" in env and not isinstance(env["value"], str):
                    problems.append(f"{name}: {template['name']}.env.{env['name']}: {env['value']!r}")
            for parameter in (template.get("inputs") or {}).get("parameters", []):
                if "default" in parameter and not isinstance(parameter["default"], str):
                    problems.append(f"{name}: {template['name']}.inputs.{parameter['name']}: {parameter['default']!r}")
            for task in (template.get("dag") or {}).get("tasks", []):
                for parameter in (task.get("arguments") or {}).get("parameters", []):
                    if "value" in parameter and not isinstance(parameter["value"], str):
                        problems.append(f"{name}: {task['name']}.arguments.{parameter['name']}: {parameter['value']!r}")
        for parameter in (spec.get("arguments") or {}).get("parameters", []):
            if not isinstance(parameter.get("value", ""), str):
                problems.append(f"{name}: spec.arguments.{parameter['name']}: {parameter['value']!r}")
    assert not problems, "\n".join(problems)
