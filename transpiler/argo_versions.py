"""The Argo versions kfp2argo writes for (``--argo-version``), and what differs between them.

Every check runs against each version's own JSON Schema (tests/test_argo_versions.py, from the
Argo Go modules). The one difference in what kfp2argo writes: Argo 3.x types
``memoize.cache.configMap`` as a ConfigMapKeySelector, whose ``key`` its schema requires though
the controller reads only ``name`` (workflow/controller/operator.go), while 4.x has only ``name``.
"""

from __future__ import annotations

from typing import Any

VERSIONS = ("3.6", "3.7", "4.0")
DEFAULT = "4.0"
CACHE_KEY = "kfp2argo"  # for Argo 3.x's schema; its controller never reads it


def shape(document: dict[str, Any], version: str) -> dict[str, Any]:
    """The manifest (plain data, changed in place) in the form ``version`` takes."""
    if version.startswith("3."):
        for template in _templates(document):
            config_map = template.get("memoize", {}).get("cache", {}).get("configMap")
            if config_map is not None:
                config_map.setdefault("key", CACHE_KEY)
    return document


def _templates(document: dict[str, Any]) -> list[dict[str, Any]]:
    spec = document.get("spec", {})
    return spec.get("templates") or spec.get("workflowSpec", {}).get("templates") or []
