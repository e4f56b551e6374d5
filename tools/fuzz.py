"""The long fuzz run: seeded mutations of real IR through ``transpiler.transpile`` and the CLI.

    python tools/fuzz.py --cases 10000 --seed 0 --jobs 2 --out ../fuzz-out

Each case is generated from ``(--seed, index)`` by ``tests/fuzz.py`` and run in a worker process
with a hard time limit. The oracle: ``transpile`` returns a manifest or raises
``TranspileError``; a manifest carries no Argo tag with the fuzzer's marker, passes Argo's JSON
Schema and the Go lint harness (``tests/argo_lint.py``, in batches of distinct manifests). Every
``--cli-every``-th case also runs ``python -m transpiler compile IN -o OUT`` (exit code 0/1/2, no
traceback, no output file unless it succeeded, and the exit code the API's outcome implies).

Writes into ``--out``: ``summary.md`` and ``summary.json`` (also printed), ``cases.jsonl`` (one
line per case), and ``repro/``: one minimized reproducer per distinct crash place, marker-leak
field, schema problem, lint problem, usage-error message and CLI problem, with a ``.txt`` note
beside each (what it shows, the traceback, how to replay the original case). Replay one case::

    python tools/fuzz.py --seed 0 --replay 1234 --out replay-dir
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import hashlib
import json
import queue
import re
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This file is also called fuzz.py: import the module in tests/, not this script.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(1, str(ROOT))

import fuzz  # noqa: E402  (tests/fuzz.py)



# A lint line that only says that other problems stopped some checks.
CONSEQUENCE = re.compile(r"some validation rules \(x-kubernetes-validations\) were not checked")


def normalize_schema_error(line: str) -> str:
    path, _, message = line.partition(": ")
    path = re.sub(r"/\d+(?=/|$)", "/*", path)
    if "is a required property" not in message and "Additional properties" not in message:
        message = re.sub(
            r"^.*? (is not of type|is not valid under any|does not match|is too long|is too short|is not one of|"
            r"is less than|is greater than|is not a|should be non-empty|is not allowed for|is unquoted)",
            r"<value> \1", message, flags=re.DOTALL,
        )
    return f"{path}: {message[:200]}"


def normalize_lint(line: str) -> str:
    _, _, message = line.partition(": ") if re.match(r"^[A-Za-z]+/[^:]*: ", line) else ("", "", line)
    message = re.sub(r"\{\{[^}]*\}\}", "{{…}}", message)
    message = re.sub(r"'[^']*'", "'…'", message)
    message = re.sub(r'"[^"]*"', '"…"', message)
    message = re.sub(r"\b(templates|tasks|steps)\.[A-Za-z0-9_.-]+", r"\1.<name>", message)
    message = re.sub(r"\[\d+\]", "[*]", message)
    message = re.sub(r"\d+", "N", message)
    return message[:240]


def normalize_usage(message: str) -> str:
    first = message.splitlines()[0] if message else ""
    first = re.sub(r"^[^:]*:(\d+:)*(\d+:)? ", "", first)
    first = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", first)
    first = re.sub(r"^(/runtimeConfig/parameterValues)/[^:]*", r"\1/*", first)
    first = re.sub(r"Value .* for parameter '…' does not fit its type (\w+):.*", r"Value … for parameter '…' does not fit its type \1", first)
    first = re.sub(r"The pipeline's parameters are: .*", "The pipeline's parameters are: …", first)
    return first[:200]


class LintQueue:
    """Distinct manifests staged as files and linted in batches on a background thread."""

    def __init__(self, stage: Path, batch: int, enabled: bool):
        self.stage = stage
        self.batch = batch
        self.enabled = enabled
        self.pending: list[tuple[Path, str]] = []
        self.seen: dict[str, int] = {}  # output hash -> first case index
        self.problems: dict[str, list[str]] = {}  # output hash -> problem lines
        self.errors: list[str] = []
        self.linted = 0
        self.seconds = 0.0
        self.pool = concurrent.futures.ThreadPoolExecutor(1)
        self.futures: list[concurrent.futures.Future] = []
        stage.mkdir(parents=True, exist_ok=True)

    def add(self, result: Any, text: str) -> None:
        if not self.enabled or result.output_hash in self.seen:
            return
        self.seen[result.output_hash] = result.index
        path = self.stage / f"{result.output_hash[:20]}.{result.output_format}"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        self.pending.append((path, result.output_hash))
        if len(self.pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            batch, self.pending = self.pending, []
            self.futures.append(self.pool.submit(self._lint, batch))

    def _lint(self, batch: list[tuple[Path, str]]) -> None:
        started = time.perf_counter()
        try:
            grouped = fuzz.lint_files([p for p, _ in batch])
        except Exception as error:  # noqa: BLE001 - a harness failure is reported, not fatal
            self.errors.append(f"{type(error).__name__}: {str(error)[:500]}")
            grouped = {}
        by_path = {str(p): h for p, h in batch}
        for file, lines in grouped.items():
            if lines and file in by_path:
                self.problems[by_path[file]] = lines
            elif lines:
                self.errors.append(f"lint lines for an unknown file {file!r}: {lines[:2]}")
        for p, _ in batch:
            p.unlink(missing_ok=True)
        self.linted += len(batch)
        self.seconds += time.perf_counter() - started

    def finish(self) -> None:
        self.flush()
        for future in self.futures:
            future.result()
        self.pool.shutdown()


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    repro = out / "repro"
    repro.mkdir(exist_ok=True)
    for old in repro.iterdir():
        old.unlink()
    started = time.time()
    seeds, _ = fuzz.load_seeds()
    print(f"fuzz: {len(seeds)} seed files ({sum(s.has_platform for s in seeds)} with a platform spec); "
          f"{args.cases} cases, seed {args.seed}, {args.jobs} jobs, {args.timeout:g} s per case", flush=True)
    lint_enabled = not args.no_lint and fuzz.lint_harness_available()
    if not args.no_lint and not lint_enabled:
        print("fuzz: the Go lint harness is unavailable (no Go toolchain): lint checks skipped", flush=True)
    lints = LintQueue(out / "lint-stage", args.lint_batch, lint_enabled)

    # Seeds unmutated first: they must all be clean, or findings below are not the mutations'.
    baseline: list[str] = []
    with fuzz.Worker(args.seed, args.timeout, args.memory_limit_mb, keep_output=True) as worker:
        for seed in seeds:
            result = worker.call(("data", seed.path.read_bytes(), {}, True))
            problems = []
            if result.outcome in ("crash", "timeout", "usage"):
                problems.append(f"{result.outcome}: {result.crash_key if result.outcome == 'crash' else result.message[:200]}")
            if result.leaks or result.schema_errors:
                problems.append(f"leaks {result.leaks} schema {result.schema_errors[:2]}")
            if problems:
                baseline.append(f"{seed.name}: {'; '.join(problems)}")
            if result.outcome == "ok" and result.output is not None:
                result.index = -1
                lints.add(result, result.output)
    print(f"fuzz: seeds checked ({len(baseline)} with problems) in {time.time() - started:.0f} s", flush=True)

    indices: "queue.Queue[int | None]" = queue.Queue()
    for i in range(args.start, args.start + args.cases):
        indices.put(i)
    results: "queue.Queue[Any]" = queue.Queue()
    cli_root = out / "cli"

    def drive(slot: int) -> None:
        with fuzz.Worker(args.seed, args.timeout, args.memory_limit_mb, keep_output=True) as worker:
            while True:
                try:
                    index = indices.get_nowait()
                except queue.Empty:
                    results.put(("worker-done", worker.restarts))
                    return
                cli = args.cli_every and index % args.cli_every == 0
                cli_dir = str(cli_root / f"w{slot}") if cli else ""
                results.put(worker.call(("index", index, cli_dir), index, args.timeout + (180 if cli else 0)))

    threads = [threading.Thread(target=drive, args=(slot,), daemon=True) for slot in range(args.jobs)]
    for thread in threads:
        thread.start()

    records: list[dict[str, Any]] = []
    outcomes: collections.Counter = collections.Counter()
    crashes: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    leaks: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    schema: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    usage: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    cli_problems: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    timeouts: list[dict[str, Any]] = []
    peak = (0, -1)
    slowest = (0.0, -1)
    restarts = 0
    done_workers = 0
    cli_runs = 0
    hash_cases: dict[str, list[int]] = collections.defaultdict(list)
    cases_file = (out / "cases.jsonl").open("w", encoding="utf-8")
    last_report = time.time()
    while done_workers < len(threads):
        item = results.get()
        if isinstance(item, tuple):
            done_workers += 1
            restarts += item[1]
            continue
        r = item
        outcomes[r.outcome] += 1
        record = {
            "index": r.index, "outcome": r.outcome, "class": r.error_class, "place": r.place, "size": r.size,
            "seconds": round(r.seconds, 4), "sha": r.input_sha, "message": r.message[:300], "leaks": r.leaks, "schema": r.schema_errors[:5],
        }
        if r.maxrss_kb > peak[0]:
            peak = (r.maxrss_kb, r.index)
        if r.seconds > slowest[0] and r.outcome != "timeout":
            slowest = (r.seconds, r.index)
        if r.outcome == "crash":
            crashes[r.crash_key].append(record)
            record["traceback"] = r.traceback
        elif r.outcome == "timeout":
            timeouts.append(record)
        elif r.outcome == "usage":
            usage[normalize_usage(r.message)].append(record)
        for number, path in r.leaks:
            record.setdefault("leak_paths", []).append(path)
            leaks[path].append(record)
        for line in r.schema_errors:
            schema[normalize_schema_error(line)].append(record)
        if r.outcome == "ok" and r.output is not None:
            hash_cases[r.output_hash].append(r.index)
            record["hash"] = r.output_hash[:20]
            lints.add(r, r.output)
        if r.cli is not None:
            cli_runs += 1
            record["cli"] = r.cli
            expected = fuzz.cli_expected_rc(r)
            problems = list(r.cli["problems"])
            if expected is not None and r.cli["rc"] is not None and r.cli["rc"] != expected:
                problems.append(f"exit {r.cli['rc']} where the API outcome '{r.outcome}' implies {expected}")
            for problem in problems:
                cli_problems[re.sub(r"\d+", "N", problem) if "implies" not in problem else problem].append(record)
        cases_file.write(json.dumps({k: v for k, v in record.items() if k != "traceback"}, default=str) + "\n")
        records.append(record)
        if time.time() - last_report > 30:
            last_report = time.time()
            print(f"fuzz: {len(records)}/{args.cases} cases, {dict(outcomes)}, {len(crashes)} crash places, "
                  f"{len(leaks)} leak fields, lint {lints.linted} done, {time.time() - started:.0f} s", flush=True)
    cases_file.close()
    run_seconds = time.time() - started
    print(f"fuzz: {len(records)} cases in {run_seconds:.0f} s; waiting for lint ({len(lints.pending)} staged)", flush=True)
    lints.finish()
    lint_groups: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    by_index = {rec["index"]: rec for rec in records}
    for digest, lines in lints.problems.items():
        for line in lines:
            if CONSEQUENCE.search(line):
                continue
            key = normalize_lint(line)
            for index in hash_cases.get(digest, [])[:50] or [lints.seen.get(digest, -1)]:
                rec = by_index.get(index) or {"index": index, "size": 0, "outcome": "seed"}
                lint_groups[key].append(dict(rec, lint_line=line))

    # Reproducers, minimized in parallel (one worker each).
    jobs: list[tuple[str, str, Any]] = []
    for key, recs in sorted(crashes.items()):
        jobs.append(("crash", key, recs))
    for key, recs in sorted(leaks.items()):
        jobs.append(("leak", key, recs))
    for key, recs in sorted(schema.items()):
        jobs.append(("schema", key, recs))
    for key, recs in sorted(usage.items()):
        jobs.append(("usage", key, recs))
    for key, recs in sorted(lint_groups.items()):
        jobs.append(("lint", key, [r for r in recs if r["index"] >= 0] or recs))
    for key, recs in sorted(cli_problems.items()):
        jobs.append(("cli", key, recs))
    for rec in timeouts:
        jobs.append(("timeout", f"{rec['place']}: case {rec['index']}", [rec]))
    print(f"fuzz: minimizing {len(jobs)} reproducers", flush=True)
    minimize_started = time.time()
    findings: list[dict[str, Any]] = [None] * len(jobs)  # type: ignore[list-item]
    job_queue: "queue.Queue[int]" = queue.Queue()
    for i in range(len(jobs)):
        job_queue.put(i)

    def minimizer(slot: int) -> None:
        with fuzz.Worker(args.seed, args.timeout, args.memory_limit_mb) as worker:
            while True:
                try:
                    i = job_queue.get_nowait()
                except queue.Empty:
                    return
                kind, key, recs = jobs[i]
                try:
                    findings[i] = make_reproducer(args, worker, kind, key, recs, i, repro, cli_root / f"m{slot}")
                except Exception as error:  # noqa: BLE001
                    findings[i] = {"kind": kind, "key": key, "count": len(recs), "error": f"{type(error).__name__}: {error}"}

    minimizers = [threading.Thread(target=minimizer, args=(slot,)) for slot in range(args.jobs)]
    for thread in minimizers:
        thread.start()
    for thread in minimizers:
        thread.join()

    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    summary = {
        "cases": len(records),
        "seed": args.seed,
        "start": args.start,
        "jobs": args.jobs,
        "seed_files": len(seeds),
        "seconds_cases": round(run_seconds, 1),
        "seconds_total": round(time.time() - started, 1),
        "seconds_minimize": round(time.time() - minimize_started, 1),
        "outcomes": dict(outcomes),
        "peak_worker_rss_mb": round(peak[0] / 1024, 1),
        "peak_worker_rss_case": peak[1],
        "peak_child_rss_mb": round(children / 1024, 1),
        "parent_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "slowest_case": {"seconds": round(slowest[0], 2), "index": slowest[1]},
        "worker_restarts": restarts,
        "cli_runs": cli_runs,
        "lint": {"enabled": lint_enabled, "distinct_manifests": lints.linted, "seconds": round(lints.seconds, 1),
                 "manifests_with_problems": len(lints.problems), "harness_errors": lints.errors},
        "baseline_problems": baseline,
        "findings": findings,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
    text = format_summary(summary)
    (out / "summary.md").write_text(text, encoding="utf-8")
    print(text)
    bad = outcomes["crash"] + outcomes["timeout"] + len(leaks) + len(schema) + len(lint_groups) + len(cli_problems)
    return 1 if bad else 0


def make_reproducer(args: argparse.Namespace, worker: Any, kind: str, key: str, recs: list[dict[str, Any]], number: int,
                    repro: Path, cli_dir: Path) -> dict[str, Any]:
    """Minimize the smallest case of a group and write it (and a note) into repro/."""
    ordered = sorted(recs, key=lambda r: (r.get("size", 0), r["index"]))
    example = ordered[0]
    finding: dict[str, Any] = {"kind": kind, "key": key, "count": len({r["index"] for r in recs}), "example_case": example["index"]}
    if example["index"] < 0:
        finding["note"] = "found on an unmutated seed"
        return finding
    case = fuzz.generate(args.seed, example["index"])
    if example.get("sha") and hashlib.sha256(case.data).hexdigest()[:16] != example["sha"]:
        finding["note"] = "the regenerated case differs from the one run (generation is not deterministic?)"
    finding["ops"] = case.ops
    finding["seed_file"] = case.seed_name
    ir_fields = collections.Counter()
    if kind == "leak":
        sample = sorted(recs, key=lambda r: r["index"])[:300]  # regenerating costs ~10 ms a case
        if len(sample) < len(recs):
            finding["ir_fields_sample"] = f"first {len(sample)} of {len(recs)} cases"
        for r in sample:
            c = fuzz.generate(args.seed, r["index"])
            for number_, path in r["leaks"]:
                if path == key and number_ is not None and number_ in c.markers:
                    ir_fields[fuzz.normalize_ir_location(c.markers[number_])] += 1
        finding["ir_fields"] = ir_fields.most_common()
        finding["exact_ir_field"] = [case.markers.get(n) for n, p in example["leaks"] if p == key]
    if kind == "crash":
        finding["message"] = example["message"]
        finding["messages"] = sorted({r["message"][:160] for r in recs})[:6]
    if kind in ("schema", "usage"):
        finding["message"] = key

    def result_of(data: bytes, want_output: bool = False) -> Any:
        return worker.call(("data", data, case.options, want_output), timeout=min(args.timeout, 30))

    if kind == "crash":
        predicate = lambda data: (lambda r: r.outcome == "crash" and r.crash_key == key)(result_of(data))  # noqa: E731
    elif kind == "leak":
        predicate = lambda data: any(p == key for _, p in result_of(data).leaks)  # noqa: E731
    elif kind == "schema":
        predicate = lambda data: any(normalize_schema_error(e) == key for e in result_of(data).schema_errors)  # noqa: E731
    elif kind == "usage":
        predicate = lambda data: (lambda r: r.outcome == "usage" and normalize_usage(r.message) == key)(result_of(data))  # noqa: E731
    elif kind == "lint":
        finding["lint_line"] = example.get("lint_line", "")
        lint_file = cli_dir / ("lint." + case.options.get("output_format", "yaml"))
        cli_dir.mkdir(parents=True, exist_ok=True)

        def predicate(data: bytes) -> bool:
            r = result_of(data, True)
            if r.outcome != "ok" or r.output is None:
                return False
            lint_file.write_text(r.output, encoding="utf-8", errors="surrogatepass")
            try:
                lines = fuzz.lint_files([lint_file]).get(str(lint_file), [])
            except Exception:  # noqa: BLE001
                return False
            return any(normalize_lint(line) == key for line in lines)
    else:
        predicate = None

    data = case.data
    budget = {"lint": 40, "cli": 0, "timeout": 0}.get(kind, args.minimize_budget)
    if predicate is not None and budget and not args.no_minimize:
        if predicate(data):
            data = fuzz.minimize(case, predicate, budget=budget, deadline_s=args.minimize_seconds)
            finding["minimized"] = True
        else:
            finding["minimized"] = False
            finding["note"] = "did not reproduce in a fresh worker; kept as generated"
    final = worker.call(("data", data, case.options, False), timeout=args.timeout)
    if kind == "crash":
        finding["place"] = final.place or example["place"]
        finding["traceback_tail"] = (final.traceback or example.get("traceback", "")).strip().splitlines()[-4:]
    if kind == "cli":
        finding["cli"] = example.get("cli")
    if kind == "crash":  # what a user of the CLI sees with this input
        cli = worker.call(("cli", data, case.options, str(cli_dir)), timeout=200).cli
        finding["cli_on_reproducer"] = {"rc": cli["rc"], "problems": cli["problems"], "stderr_tail": cli["stderr"].strip().splitlines()[-2:]}
    slug = re.sub(r"[^a-z0-9]+", "-", f"{kind}-{key}".lower()).strip("-")[:70]
    suffix = ".json" if data.lstrip()[:1] in (b"{", b"[") else ".yaml"
    name = f"{number:03d}-{slug}{suffix}"
    (repro / name).write_bytes(data)
    finding["file"] = f"repro/{name}"
    finding["size"] = len(data)
    finding["reproducer"] = fuzz.encode_for_report(data, 1500)
    note = [
        f"{kind}: {key}", f"cases: {finding['count']}", f"original: case {example['index']} (seed {args.seed}): {case.summary()}",
        f"options: {case.options}", f"replay: python tools/fuzz.py --seed {args.seed} --replay {example['index']} --out DIR", "",
    ]
    for field_name in ("message", "place", "ir_fields", "ir_fields_sample", "exact_ir_field", "lint_line", "cli", "cli_on_reproducer"):
        if field_name in finding:
            note.append(f"{field_name}: {json.dumps(finding[field_name], default=str)}")
    if final.traceback:
        note += ["", final.traceback]
    (repro / (name.rsplit(".", 1)[0] + ".txt")).write_text("\n".join(note) + "\n", encoding="utf-8")
    return finding


def format_summary(s: dict[str, Any]) -> str:
    lines = [
        f"# kfp2argo fuzz run: {s['cases']} cases, seed {s['seed']}, {s['jobs']} jobs, {s['seed_files']} seed files",
        "",
        f"- time: {s['seconds_cases']} s for the cases, {s['seconds_minimize']} s minimizing, {s['seconds_total']} s in all",
        f"- outcomes: {s['outcomes']}",
        f"- peak memory: worker max RSS {s['peak_worker_rss_mb']} MB (case {s['peak_worker_rss_case']}); "
        f"largest child {s['peak_child_rss_mb']} MB; parent {s['parent_rss_mb']} MB",
        f"- slowest case: {s['slowest_case']}; worker restarts: {s['worker_restarts']}; CLI runs: {s['cli_runs']}",
        f"- lint: {s['lint']}",
        f"- seeds with problems before mutation: {s['baseline_problems'] or 'none'}",
        "",
    ]
    titles = {
        "crash": "Crashes (exception other than TranspileError), by place",
        "timeout": "Timeouts",
        "leak": "Marker leaks (a live Argo tag with the marker in the manifest), by output field",
        "schema": "Argo JSON Schema failures",
        "lint": "Lint failures",
        "usage": "Input problems reported as UsageError (CLI exit 2) with default options",
        "cli": "CLI problems",
    }
    for kind, title in titles.items():
        group = [f for f in s["findings"] if f and f["kind"] == kind]
        lines.append(f"## {title}: {len(group)}")
        lines.append("")
        for f in group:
            lines.append(f"### {f['key']}  ({f['count']} cases)")
            for name in ("place", "message", "ir_fields", "ir_fields_sample", "exact_ir_field", "lint_line", "cli", "cli_on_reproducer", "note", "error"):
                if f.get(name):
                    lines.append(f"- {name}: {json.dumps(f[name], default=str)[:600]}")
            if f.get("ops"):
                lines.append(f"- generated from {f.get('seed_file')} by: {'; '.join(f['ops'])[:600]}")
            if f.get("file"):
                lines.append(f"- reproducer ({f['size']} bytes{', minimized' if f.get('minimized') else ''}): {f['file']}")
                body = f["reproducer"]
                if len(body) <= 1200:
                    lines += ["", "```", body.rstrip("\n"), "```"]
            lines.append("")
    return "\n".join(lines) + "\n"


def replay(args: argparse.Namespace) -> int:
    case = fuzz.generate(args.seed, args.replay)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"case-{args.seed}-{args.replay}.{'json' if case.fmt.get('format') == 'json' else 'yaml'}"
    path.write_bytes(case.data)
    print(case.summary())
    print(f"input written to {path}; options {case.options}")
    result = fuzz.run_case(case)
    print(f"outcome: {result.outcome} {result.error_class} {result.place}\n{result.message[:2000]}")
    if result.traceback:
        print(result.traceback)
    for number, out_path in result.leaks:
        print(f"leak: marker {number} from {case.markers.get(number)} at {out_path}")
    for line in result.schema_errors:
        print(f"schema: {line}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=0, help="first case index")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True, help="directory for the summary and reproducers (outside the repo)")
    parser.add_argument("--timeout", type=float, default=fuzz.DEFAULT_TIMEOUT_S, help="wall-clock seconds per case")
    parser.add_argument("--memory-limit-mb", type=int, default=fuzz.DEFAULT_MEMORY_LIMIT_MB, help="address-space limit of a worker (0: none)")
    parser.add_argument("--cli-every", type=int, default=50, help="run the CLI on every N-th case (0: never)")
    parser.add_argument("--lint-batch", type=int, default=200, help="distinct manifests per lint harness run")
    parser.add_argument("--no-lint", action="store_true")
    parser.add_argument("--no-minimize", action="store_true")
    parser.add_argument("--minimize-budget", type=int, default=300, help="runs per reproducer")
    parser.add_argument("--minimize-seconds", type=float, default=90.0, help="seconds per reproducer")
    parser.add_argument("--replay", type=int, help="only generate and run this case index, verbosely")
    args = parser.parse_args(argv)
    if args.replay is not None:
        return replay(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
