"""The shape of the code: passes import only what comes before them, nothing imports in a cycle,
and lowering reports nothing (every refusal sits before it, so ``validate`` sees them all)."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "transpiler"

# Modules in the order of the passes (``transpiler.compiler``); each may import only modules of
# a lower rank, or libraries (rank 0). The package ``lower`` is one rank.
RANKS = {
    # libraries: no knowledge of the passes
    "errors": 0, "version": 0, "data": 0, "ir": 0, "names": 0, "wire": 0, "expr": 0, "argo_expr": 0,
    "placeholders": 0, "runtime": 0, "cel": 0, "options": 0, "argo_values": 0, "k8s": 0, "schema_check": 0,
    # passes, in order
    "load": 1, "validate": 2, "parse_platform": 3, "parse": 4, "analysis": 5, "support": 6, "arguments": 7,
    "partition": 8, "plan": 9, "lower": 10, "emit": 11, "argo_versions": 11, "skeleton": 12,
    # the row, and the front ends
    "compiler": 13, "config": 14, "batch": 14, "python_source": 14, "cli": 15, "__init__": 16, "__main__": 17,
}


def module_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0] if parts else "__init__"


def imports(path: Path) -> set[str]:
    """The transpiler modules a file imports (top level or inside functions), as RANKS keys."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "transpiler":
            parts = node.module.split(".")
            found |= {a.name for a in node.names} if len(parts) == 1 else {parts[1]}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("transpiler.")}
    return found & RANKS.keys()


def sources() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if p.relative_to(PACKAGE).parts[:1] != ("runtime",) or p.name == "__init__.py"]


def test_every_module_has_a_rank() -> None:
    assert {module_of(p) for p in sources()} <= RANKS.keys()


def test_no_module_imports_a_later_pass() -> None:
    upward = []
    for path in sources():
        mine = module_of(path)
        for target in imports(path) - {mine}:
            if RANKS[target] and RANKS[target] >= RANKS[mine]:
                upward.append(f"{path.relative_to(ROOT)} imports {target}")
    assert not upward, "\n".join(upward)


def test_no_import_cycle_between_modules() -> None:
    graph: dict[str, set[str]] = {}
    for path in sources():
        name = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        graph[name] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("transpiler."):
                graph[name].add(node.module.removeprefix("transpiler."))
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in graph.get(node, ()):
            assert state.get(target) != 1, "import cycle: " + " -> ".join(trail + [target])
            if not state.get(target):
                visit(target, trail + [target])
        state[node] = 2

    for node in sorted(graph):
        if not state.get(node):
            visit(node, [node])


def test_lowering_reports_nothing() -> None:
    """Refusals live before ``lower``: no lowering module builds a diagnostic or raises one."""
    offenders = []
    for path in sorted((PACKAGE / "lower").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for word in ("transpiler.errors", "Diagnostic", "unsupported(", "UsageError", "UnsupportedFeature"):
            if word in text:
                offenders.append(f"{path.relative_to(ROOT)}: {word}")
    assert not offenders, "\n".join(offenders)


def test_expression_fragments_are_built_in_one_module() -> None:
    """expr-lang text (``map([...])``, ``sprig.``, ``toJson``, ``?? ``) is written in ``expr`` (and
    the CEL translator's operators in ``cel``), not as f-strings spread over the passes."""
    offenders = []
    markers = ("map([", "sprig.", "toJson(", "fromJSON(", " ?? ", "startsWith")
    for path in sources():
        if module_of(path) in ("expr", "cel"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                if any(marker in text for marker in markers):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, "\n".join(offenders)
