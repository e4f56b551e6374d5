"""Fuzzing (issue 16): seeded, structure-aware mutations of real IR through ``transpile``.

Bad input never crashes, and user text containing ``{{`` is never left for Argo to evaluate
(DESIGN.md). Hypothesis draws case numbers (derandomized, no example database, so every run
checks the same cases); ``tests/fuzz.py`` turns each number into a mutated golden or corpus
file and runs it in a worker process with a hard time limit. The oracle, per case:

- ``transpile`` returns a manifest or raises ``TranspileError`` (nothing else, no timeout);
- the manifest holds no Argo tag carrying the fuzzer's marker (values and keys);
- the manifest passes Argo's JSON Schema;
- and, in one batch at the end, distinct manifests pass the Go lint harness.

All problems are collected and reported together, each with the line that replays it. The long
run (10,000+ cases, minimized reproducers) is ``python tools/fuzz.py --out DIR``.
``KFP2ARGO_FUZZ_EXAMPLES`` changes the number of cases (default sized for about a minute).
"""

from __future__ import annotations

import collections
import os
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import argo_lint
import fuzz

FUZZ_SEED = 16
MAX_EXAMPLES = int(os.environ.get("KFP2ARGO_FUZZ_EXAMPLES", "700"))
TIMEOUT_S = 20.0
LINT_AT_MOST = 40  # distinct manifests linted at the end (the harness takes ~0.15 s each)


def _replay(index: int) -> str:
    return f"python tools/fuzz.py --seed {FUZZ_SEED} --replay {index} --out DIR"


def test_mutated_ir_is_rejected_or_compiles_to_a_safe_valid_manifest(tmp_path: Path) -> None:
    fuzz.load_seeds()
    findings: dict[str, list[str]] = collections.defaultdict(list)  # problem -> examples
    outputs: dict[str, tuple[int, str, str]] = {}  # hash -> (case, format, text)
    counts: collections.Counter = collections.Counter()

    with fuzz.Worker(FUZZ_SEED, TIMEOUT_S, keep_output=True) as worker:

        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(index=st.integers(min_value=0, max_value=2**31 - 1))
        def check(index: int) -> None:
            result = worker.call(("index", index, ""), index)
            counts[result.outcome] += 1
            where = f"case {index} ({_replay(index)})"
            if result.outcome in ("crash", "timeout"):
                findings[f"{result.error_class} at {result.place}: {result.message[:200]}"].append(where)
            for number, path in result.leaks:
                findings[f"marker leak into {path}"].append(where)
            for line in result.schema_errors:
                findings[f"Argo JSON Schema: {line}"].append(where)
            if result.outcome == "ok" and result.output is not None and result.output_hash not in outputs:
                if len(outputs) < LINT_AT_MOST:
                    outputs[result.output_hash] = (index, result.output_format, result.output)

        check()

    if outputs:
        paths = {}
        for digest, (index, output_format, text) in outputs.items():
            path = tmp_path / f"case-{index}.{output_format}"
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            paths[str(path)] = index
        if argo_lint.harness_path() is None:
            if not findings:
                argo_lint.require_harness()  # skips without Go; fails when CI=true
        else:
            for file, lines in fuzz.lint_files([Path(p) for p in paths]).items():
                for line in lines:
                    findings[f"lint: {line}"].append(f"case {paths.get(file, file)} ({_replay(paths.get(file, -1))})")

    print(f"fuzz outcomes over {sum(counts.values())} cases: {dict(counts)}; {len(outputs)} manifests linted")
    report = [f"{problem}\n    {len(where)} case(s), e.g. {where[0]}" for problem, where in sorted(findings.items())]
    assert not findings, f"{len(findings)} distinct problems in {sum(counts.values())} fuzzed inputs:\n" + "\n".join(report)
