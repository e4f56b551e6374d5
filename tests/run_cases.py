"""The fixture pipelines that run end to end, and what each run must give: one table for the
simulator (tests/test_run.py) and a real Kubernetes cluster with Argo (tests/test_cluster.py).

* ``LOCAL_CASES``: (fixture, arguments) whose Argo run must equal the kfp.local run;
* ``LOGIC_CASES``: fixtures kfp.local cannot run, with the results the pipeline's logic implies,
  written out (and, for some, checks of what the pods printed);
* ``RETRIES``: the retry fixture (its counter directory must be shared by the attempts' pods).

Results are compared in the shape of tests/runs.py (:class:`runs.Run`).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Callable

from runs import FAILED, SUCCEEDED, ArgoRun, Run, typed_json

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def ok(**parameters: Any) -> dict[str, Any]:
    """A task that succeeded with these output parameters and no output artifacts."""
    return {
        "state": SUCCEEDED,
        "parameters": {k: typed_json(v) for k, v in parameters.items()},
        "artifacts": {},
    }


def tasks(**entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Expected tasks by IR task name (``_`` for ``-``), each list in the order Run sorts it."""
    return {name.replace("_", "-"): sorted(e, key=lambda x: json.dumps(x, sort_keys=True)) for name, e in sorted(entries.items())}


# ----------------------------------------------------------------------------------------------
# Equal to kfp.local

LOCAL_CASES: list[tuple[str, dict[str, Any]]] = [
    ("run_artifacts", {}),  # artifacts across three steps: a file, a directory, a file
    ("artifacts_chain", {}),  # ... and a Metrics artifact that is only metadata
    ("outputs_namedtuple", {}),  # NamedTuple and OutputPath outputs
    ("nested_pipeline", {}),  # pipelines as components, with parameter and artifact outputs
    ("run_branches", {}),  # If/Elif/Else on int, float, bool, string outputs: first arms
    ("run_branches", {"i": 3, "f": 0.5, "b": False, "s": "alpha"}),  # Elif arms, bool Else
    ("run_branches", {"i": 1, "f": 0.75, "s": "omega"}),  # Else arms
    ("conditions", {}),  # dsl.OneOf, nested conditions, a bool parameter
    ("conditions", {"seed": 3, "verbose": False, "threshold": 2}),
    ("run_loops", {}),  # ParallelFor over raw, parameter and task-output lists, Collected
    ("exit_handler", {}),  # exit handlers and ignore_upstream_failure when nothing fails
]


# ----------------------------------------------------------------------------------------------
# What the pipeline's logic implies (kfp.local cannot run these)


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    fixture: str
    arguments: dict[str, Any]
    expected: Callable[[Any], Run]  # the fixture module -> the expected Run
    check: Callable[[ArgoRun, Any], None] | None = None  # (the run, the fixture module): more asserts
    doc: str = ""

    @property
    def path(self) -> Path:
        return FIXTURES / f"{self.fixture}.py"


def _exit_handler_failing(module: Any) -> Run:
    return Run(
        FAILED,
        tasks(
            work=[{"state": FAILED}],  # guarded by the first handler; work-2 after it never runs
            work_3=[{"state": FAILED}],  # "risky", in the second handler
            report=[ok(Output="FAILED")],  # exit task of the first handler: sees the failure
            cleanup=[ok(), ok()],  # the second handler's exit pipeline, and "after risky"
            describe=[ok(Output="risky said: no result")],
        ),
    )


def _loops(module: Any) -> Run:
    return Run(
        SUCCEEDED,
        tasks(
            make_words=[ok(Output=["hello", "loop", "world"])],
            shout=[ok(Output="HELLO"), ok(Output="LOOP"), ok(Output="WORLD")],
            square=[ok(Output=1), ok(Output=4), ok(Output=9)],
            square_2=[ok(Output=4), ok(Output=9)],  # "square-big": only where n > 1
            square_3=[ok(Output=1), ok(Output=4), ok(Output=1), ok(Output=4)],
            make_points=[ok(Output=[{"word": "a", "x": 1}, {"word": "b", "x": 2}])],
            label=[ok(Output="a=1"), ok(Output="b=2")],
            total=[ok(Output=14)],
            total_2=[ok(Output=13)],  # "total-big": the iterations that skipped are left out
            summary=[ok(Output="HELLO,LOOP,WORLD;[1, 4, 9]")],
            grid=[ok(Output=10)],
            done=[ok()],
        ),
    )


def _parameter_types(module: Any) -> Run:
    return Run(
        SUCCEEDED,
        tasks(
            echo_types=[ok(Output=repr(("text", 7, 1.5, False, [1, 2, 3], {"k": "v"})))],
            echo_types_2=[ok(Output=repr(("text", 42, 0.5, True, [1, "two", {"three": 3}], {"a": [1, 2], "b": None})))],
            make_int=[ok(Output=42)],
            make_float=[ok(Output=0.5)],
            make_bool=[ok(Output=True)],
            make_list=[ok(Output=[1, "two", {"three": 3}])],
            make_dict=[ok(Output={"a": [1, 2], "b": None})],
        ),
    )


CONTAINER_VALUES = ("some text", -7, 2.5, False, ["one", 2, True], {"k": ["v", 1.5]})


def _container_types(module: Any) -> Run:
    names = ("s_out", "i_out", "f_out", "b_out", "l_out", "d_out")
    return Run(
        SUCCEEDED,
        tasks(copy_values=[ok(**dict(zip(names, CONTAINER_VALUES)))], describe=[ok(Output=repr(CONTAINER_VALUES))]),
    )


def _hard_values(module: Any) -> Run:
    return Run(
        SUCCEEDED,
        tasks(
            echo_back=[ok(Output=module.HARD_DEFAULT)],
            echo_back_2=[ok(Output="{{inert}} plain")],
            echo_back_3=[ok(Output=module.HARD)],
            show=[ok()],
        ),
    )


def _hard_values_check(argo: ArgoRun, module: Any) -> None:
    from transpiler import wire

    assert "{literal} {'key': \"{it'}\"}" in argo.stdout("echo-back-3")[0]
    # A container component receives a value Argo would alter in its escaped form (README).
    assert wire.decode(argo.stdout("show")[0]) == module.HARD


def _dollar_values(module: Any) -> Run:
    return Run(SUCCEEDED, tasks(echo=[ok(Output=module.DOLLARS)], copy_text=[ok(out=module.DOLLARS)]))


def _placeholders(module: Any) -> Run:
    produced = {"state": SUCCEEDED, "parameters": {"size": typed_json(3)}, "artifacts": {"data": {"content": "hi", "metadata": {}}}}
    return Run(SUCCEEDED, tasks(produce=[produced], consume=[ok()], consume_2=[ok()]))


def _placeholders_check(argo: ArgoRun, module: Any) -> None:
    name, uid = argo.report["workflow"], argo.workflow_uid
    assert argo.stdout("consume") == [f"hi label=first --no-flag {name} consume {uid}\n"]
    assert argo.stdout("consume-2") == [f"hi label=second --flag on {name} consume-2\n"]


LOGIC_CASES: dict[str, Case] = {
    c.name: c
    for c in [
        Case(
            "exit_handler_failing", "exit_handler", {"fail": True}, _exit_handler_failing,
            doc="The failing task fails the run, yet the exit tasks and the tasks that ignore upstream failures run; "
            "the one reading the failed task's output gets its input's default. (kfp.local stops with \"Tried to get "
            "output 'Output' from task 'work-3', but task 'work-3' not found\".)",
        ),
        Case(
            "loops", "loops", {}, _loops,
            doc="Every loop form of tests/fixtures/loops.py. (kfp.local passes collected integers as doubles, so `grid` "
            "fails there: \"returned value of type float; want type int\".)",
        ),
        Case(
            "parameter_types", "parameter_types", {}, _parameter_types,
            doc="(kfp.local rejects the dict with a None value.) Integers inside lists and dicts stay integers.",
        ),
        Case("container_types", "run_container_types", {}, _container_types, doc="Every parameter type through a container component."),
        Case(
            "hard_values", "hard_values", {}, _hard_values, _hard_values_check,
            doc="Quotes, a newline, $(...), a backslash, non-ASCII and Argo tags, into Python components (and out again), "
            "one of them with an f-string holding {{ in its source.",
        ),
        Case(
            "dollar_values", "run_dollar_values", {}, _dollar_values,
            doc="Kubernetes expands `$(NAME)` and turns `$$` into `$` in a container's env values, command and args; a "
            "value must still arrive unchanged.",
        ),
        Case(
            "container_placeholders", "container_placeholders", {}, _placeholders, _placeholders_check,
            doc="`produce` writes its OutputPath file without creating its folder first, as a KFP container component may.",
        ),
    ]
}


# ----------------------------------------------------------------------------------------------
# Retries: `flaky` fails twice, then succeeds; the attempts are counted in a file under the
# `counter_dir` argument, which every attempt's pod must see.

RETRIES_FIXTURE = FIXTURES / "run_retries.py"
RETRIES_EXPECTED = Run(SUCCEEDED, tasks(flaky=[ok(Output=3)], report=[ok(Output="succeeded on attempt 3")]))
RETRIES_ATTEMPTS = {"flaky": 3, "report": 1}
RETRIES_FLAKY_PHASES = ["Failed", "Failed", "Succeeded"]


def retry_phases(argo: ArgoRun) -> list[str]:
    """The phases of the retried task's attempts, in attempt order."""
    return [n["phase"] for n in sorted(argo.report["nodes"], key=lambda n: n["name"]) if n["displayName"].startswith("flaky(")]
