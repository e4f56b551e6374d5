"""One-line rule tests: "this IR snippet lowers to this", "this snippet is refused here".

A snippet is a small change to a one-task pipeline (:data:`BASE`: task ``t`` runs component
``comp-c``, a container ``alpine`` running ``echo hi``), given as JSON pointers into the
PipelineSpec (or, with a ``platform:`` prefix, into the platform-spec document) and the value to
put there::

    assert_lowers({"/deploymentSpec/executors/exec-c/container/args": ["--x"]},
                  "/spec/templates/1/container/args", ["--x"])
    assert_refused({"/root/dag/tasks/t/retryPolicy": {"maxRetryCount": 2, "backoffFactor": 1.5}},
                   "/root/dag/tasks/t/retryPolicy/backoffFactor", "not a whole number")

Both helpers also check ``transpiler.check`` (what ``kfp2argo validate`` runs): it must accept
exactly what compiles and refuse with exactly the same diagnostics.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from transpiler import Options, TranspileError, check, compile_document

BASE: dict[str, Any] = {
    "pipelineInfo": {"name": "snippet"},
    "schemaVersion": "2.1.0",
    "sdkVersion": "kfp-2.17.0",
    "components": {"comp-c": {"executorLabel": "exec-c"}},
    "deploymentSpec": {"executors": {"exec-c": {"container": {"image": "alpine", "command": ["echo", "hi"]}}}},
    "root": {"dag": {"tasks": {"t": {"componentRef": {"name": "comp-c"}, "taskInfo": {"name": "t"}}}}},
}


def snippet(changes: dict[str, Any], base: dict[str, Any] | None = None) -> str:
    """The IR text of ``base`` (default :data:`BASE`) with each pointer set to its value (missing
    mappings on the way are created; a value of ``None`` deletes the key)."""
    documents = [copy.deepcopy(base or BASE), {"platforms": {"kubernetes": {"deploymentSpec": {"executors": {}}}}}]
    uses_platform = False
    for where, value in changes.items():
        document = 0
        if where.startswith("platform:"):
            document, where, uses_platform = 1, where[len("platform:"):], True
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in where.split("/")[1:]]
        node = documents[document]
        for token in tokens[:-1]:
            node = node.setdefault(token, {}) if isinstance(node, dict) else node[int(token)]
        if value is None:
            node.pop(tokens[-1], None)
        elif isinstance(node, list):
            node[int(tokens[-1])] = value
        else:
            node[tokens[-1]] = value
    text = json.dumps(documents[0])
    return text + "\n---\n" + json.dumps(documents[1]) if uses_platform else text


def at(document: Any, where: str) -> Any:
    """The value at a JSON pointer in plain data."""
    for token in where.split("/")[1:]:
        document = document[int(token)] if isinstance(document, list) else document[token]
    return document


def assert_lowers(changes: dict[str, Any], where: str, expected: Any, options: Options | None = None) -> dict[str, Any]:
    """The snippet compiles, its manifest holds ``expected`` at ``where``, and ``check`` agrees."""
    text = snippet(changes)
    manifest = compile_document(text, options, "snippet.json")
    check(text, options, "snippet.json")
    assert at(manifest, where) == expected
    return manifest


def assert_refused(changes: dict[str, Any], pointer: str, message: str, options: Options | None = None,
                   kind: type[TranspileError] = TranspileError) -> None:
    """The snippet is refused with a diagnostic at ``pointer`` whose message holds ``message``,
    and ``check`` refuses it with the same diagnostics."""
    text = snippet(changes)
    with pytest.raises(kind) as compiled:
        compile_document(text, options, "snippet.json")
    with pytest.raises(kind) as checked:
        check(text, options, "snippet.json")
    assert str(checked.value) == str(compiled.value)
    found = [(d.pointer, d.message) for d in compiled.value.diagnostics]
    assert any(p == pointer and message in m for p, m in found), found
