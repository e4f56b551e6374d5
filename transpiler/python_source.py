"""Pipelines written in Python: ``kfp2argo compile pipeline.py`` compiles the module's pipeline
with the installed ``kfp`` in memory, as ``kfp dsl compile --py FILE --function NAME`` does, and
hands the IR to the transpiler. ``kfp`` is optional (``pip install 'kfp2argo[kfp]'``); importing
the file runs its code, so only a file given by name is imported, never one found in a directory.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from transpiler.errors import Diagnostic, LoadError, UsageError

MSG_NO_KFP = "Compiling a .py file needs the kfp package: pip install 'kfp2argo[kfp]' (or pip install kfp)"
MSG_IMPORT = "Importing the file failed: {error}"
MSG_NO_PIPELINE = "The file defines no @dsl.pipeline function. Compile its IR, or add one"
MSG_SEVERAL = "The file defines several pipelines ({names}): choose one with --function NAME"
MSG_UNKNOWN = "The file has no pipeline {name!r}. Its pipelines: {names}"
MSG_COMPILE = "kfp could not compile pipeline {name!r}: {error}"


def ir_text(path: Path, function: str | None = None) -> bytes:
    """The IR (YAML bytes) kfp compiles from the pipeline in ``path``.

    Raises:
        UsageError: kfp is not installed, or the pipeline to compile is not clear.
        LoadError: the file fails to import, or kfp refuses the pipeline (located where the
            error was raised in the file, when it was).
    """
    _require_kfp(str(path))
    module = _import(path)
    pipelines = {name: value for name, value in sorted(vars(module).items()) if _is_pipeline(value)}
    name = _choose(pipelines, function, str(path))
    return compile_pipeline_ir(pipelines[name], name, str(path))


def compile_pipeline_ir(pipeline: Any, name: str = "pipeline", file: str = "<pipeline>") -> bytes:
    """The IR kfp compiles from a pipeline object (a ``@dsl.pipeline`` function)."""
    _require_kfp(file)
    from kfp import compiler

    with tempfile.TemporaryDirectory() as directory:
        target = Path(directory) / "pipeline.yaml"
        try:
            compiler.Compiler().compile(pipeline, str(target))
        except Exception as error:  # noqa: BLE001 (the SDK raises many kinds; each is the user's to fix)
            raise LoadError([_located(MSG_COMPILE.format(name=name, error=_one_line(error)), error, file)]) from None
        return target.read_bytes()


def _require_kfp(file: str) -> None:
    if importlib.util.find_spec("kfp") is None:
        raise UsageError([Diagnostic(MSG_NO_KFP, "", file)])


def _import(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"kfp2argo_pipeline_{abs(hash(str(path)))}", path)
    if spec is None or spec.loader is None:
        raise UsageError([Diagnostic(f"cannot import {path}", "", str(path))])
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.resolve().parent))  # the file's own imports of its neighbours
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 (user code: any exception is the user's to fix)
        raise LoadError([_located(MSG_IMPORT.format(error=_one_line(error)), error, str(path))]) from None
    finally:
        sys.path.remove(str(path.resolve().parent))
    return module


def _is_pipeline(value: Any) -> bool:
    from kfp.dsl import graph_component

    return isinstance(value, graph_component.GraphComponent)


def _choose(pipelines: dict[str, Any], function: str | None, file: str) -> str:
    names = ", ".join(pipelines) or "(none)"
    if function is not None:
        if function not in pipelines:
            raise UsageError([Diagnostic(MSG_UNKNOWN.format(name=function, names=names), "", "--function")])
        return function
    if not pipelines:
        raise LoadError([Diagnostic(MSG_NO_PIPELINE, "", file)])
    if len(pipelines) > 1:
        raise UsageError([Diagnostic(MSG_SEVERAL.format(names=names), "", "--function")])
    return next(iter(pipelines))


def _located(message: str, error: BaseException, file: str) -> Diagnostic:
    """A diagnostic at the innermost line of ``file`` in the error's traceback (none: no line)."""
    line = None
    resolved = str(Path(file).resolve()) if file else ""
    for frame in traceback.extract_tb(error.__traceback__):
        if str(Path(frame.filename).resolve()) == resolved:
            line = frame.lineno
    if line is None and isinstance(error, SyntaxError) and error.lineno:
        line = error.lineno
    return Diagnostic(message, "", file, line)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")
