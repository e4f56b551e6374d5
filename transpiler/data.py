"""Files shipped beside the code: ``templates/`` and ``schemas/``.

In a source checkout (and an editable install) they are the top-level folders of the repository;
in a wheel they are packaged under ``transpiler/_data/``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def folder(name: str) -> Path:
    """The directory holding the shipped ``templates`` or ``schemas`` files."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"kfp2argo is installed without its {name}/ folder")


def read_text(folder_name: str, file_name: str) -> str:
    return (folder(folder_name) / file_name).read_text(encoding="utf-8")
