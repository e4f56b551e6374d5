"""Validate manifests against Argo's own JSON Schema (../shared/argo/workflow.schema.json).

Two quirks of that schema are handled as its README says: IntOrString is declared as a string,
so it is widened to integer-or-string; and the top-level oneOf over kinds gives useless messages,
so each document is validated against its kind's own definition. A third: the schema requires a
Container's ``image``, which Kubernetes' and Argo's Go types mark optional (``omitempty``) and
the full CRDs the API server applies do not require; ``templateDefaults.container`` has none
(kfp2argo puts only the launcher and a volume mount there), so ``image`` is made optional there.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import SHARED

SCHEMA = SHARED / "argo" / "workflow.schema.json"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
CONTAINER = "io.k8s.api.core.v1.Container"
TEMPLATE = "io.argoproj.workflow.v1alpha1.Template"
WORKFLOW_SPEC = "io.argoproj.workflow.v1alpha1.WorkflowSpec"


@lru_cache(maxsize=None)
def _validator(kind: str, path: Path = SCHEMA) -> jsonschema.protocols.Validator:
    schema = json.loads(path.read_text())
    schema["definitions"][INT_OR_STRING] = {"type": ["integer", "string"]}
    defaults_container = dict(schema["definitions"][CONTAINER], required=[])
    schema["definitions"]["kfp2argo.TemplateDefaultsContainer"] = defaults_container
    template = schema["definitions"][TEMPLATE]
    schema["definitions"]["kfp2argo.TemplateDefaults"] = dict(
        template, properties=dict(template["properties"], container={"$ref": "#/definitions/kfp2argo.TemplateDefaultsContainer"})
    )
    spec = schema["definitions"][WORKFLOW_SPEC]
    spec["properties"]["templateDefaults"] = {"$ref": "#/definitions/kfp2argo.TemplateDefaults"}
    schema.pop("oneOf", None)
    schema["$ref"] = f"#/definitions/io.argoproj.workflow.v1alpha1.{kind}"
    return jsonschema.Draft202012Validator(schema)


def argo_schema_errors(document: dict[str, Any], schema: Path = SCHEMA) -> list[str]:
    """Problems of one manifest document, as '<path>: <message>' lines (against ``schema``, by
    default Argo 4's in ../shared/argo)."""
    if not schema.is_file():
        pytest.skip(f"{schema} is absent")
    errors = _validator(document["kind"], schema).iter_errors(document)
    return sorted(f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)
