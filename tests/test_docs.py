"""Doctests of the public docstrings."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import transpiler

MODULES = sorted(
    ["transpiler"]
    + [m.name for m in pkgutil.walk_packages(transpiler.__path__, "transpiler.") if not m.name.endswith("__main__")]
)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
