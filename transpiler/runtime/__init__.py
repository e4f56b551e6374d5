"""Programs that run inside the workflow's pods, not in the transpiler.

``launcher.py`` is kfp2argo's in-pod launcher for Python components: standard-library Python
that the manifest carries as text (``transpiler.lower.launcher``). The transpiler reads these
files as text (:func:`source`) and never imports them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=None)
def source(name: str) -> str:
    """The text of the in-pod program ``name`` (e.g. ``"launcher.py"``)."""
    return (Path(__file__).resolve().parent / name).read_text(encoding="utf-8")
