"""Tests of transpiler/runtime/launcher.py, run for real with the real KFP executor.

Each test compiles a component with the KFP SDK, reads the executor's container argv from the
compiled IR, takes the launcher spec the transpiler writes for it (lower/launcher.py; every path
moved under pytest's tmp_path), and runs `python -c <launcher source> <spec> -- <argv...>` as a
subprocess, exactly as a generated manifest does.

The SDK's argv starts with a `sh -c <pip install kfp...> ... && "$0" "$@"` stage that installs
the SDK and then runs the rest of the argv unchanged. The venv already holds that SDK, so most
tests drop that first stage and run the rest untouched (`sh -ec <program> <source> --executor_input
{{$}} --function_to_execute <fn>`); `test_full_sdk_command_with_pip_stage` keeps the whole argv
and runs pip offline (PIP_NO_INDEX=1), which succeeds because the pinned version is installed.
"""

import ast
import base64
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple, Optional

import pytest
import yaml

from transpiler import wire
from transpiler.analysis import Analysis
from transpiler.load import load
from transpiler.lower.context import Context
from transpiler.lower.launcher import BOOT, invocation
from transpiler.parse import parse
from transpiler.plan import Plan

kfp = pytest.importorskip("kfp")
from kfp import compiler, dsl  # noqa: E402
from kfp.dsl import (  # noqa: E402
    ConcatPlaceholder,
    ContainerSpec,
    Dataset,
    IfPresentPlaceholder,
    Input,
    Model,
    Output,
    OutputPath,
)

ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = (ROOT / "transpiler" / "runtime" / "launcher.py").read_text(encoding="utf-8")
# How a pod runs it: the source in KFP2ARGO_LAUNCHER (spec.templateDefaults), started by BOOT.
RUN_LAUNCHER = [sys.executable, "-c", BOOT]
IMAGE = "python:3.11"
HARD = ("He said \"hi\" & 'bye'\nline2\r\n$(rm -rf /) `id` \\back\\slash\\ \t é 日本 😀 "
        "{{workflow.name}} {{=1+1}} {{$.inputs.parameters['s']}} {{$}} a{{b kfp2argo:none\n")


# ---- components under test (module level: the SDK reads their source) ----

@dsl.component(base_image=IMAGE)
def all_types(s: str, i: int, f: float, b: bool, l: list, d: dict) -> NamedTuple(
        "Outputs", [("s", str), ("i", int), ("f", float), ("b", bool), ("l", list),
                    ("d", dict), ("kinds", str)]):
    from collections import namedtuple
    kinds = ",".join(type(v).__name__ for v in (s, i, f, b, l, d))
    Outputs = namedtuple("Outputs", ["s", "i", "f", "b", "l", "d", "kinds"])
    return Outputs(s, i, f, b, l, d, kinds)


@dsl.component(base_image=IMAGE)
def with_defaults(x: int = 7, s: str = "dflt", l: Optional[list] = None) -> str:
    return "%r|%r|%r" % (x, s, l)


@dsl.component(base_image=IMAGE)
def echo_to_paths(s: str, out: OutputPath(str), n: OutputPath(int)):
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write(s)
    with open(n, "w") as f:
        f.write("42\n")


@dsl.component(base_image=IMAGE)
def braces(name: str) -> str:
    table = {"outer": {"inner": name}}
    return f"{{literal}} {table['outer']['inner']} {{{{double}}}}"


@dsl.component(base_image=IMAGE)
def read_dataset(ds: Input[Dataset]) -> str:
    import json
    with open(ds.path, encoding="utf-8") as f:
        content = f.read()
    return json.dumps({"content": content, "metadata": ds.metadata, "path": ds.path,
                       "uri": ds.uri})


@dsl.component(base_image=IMAGE)
def locate_dataset(ds: Input[Dataset]) -> str:
    return ds.uri + " " + ds.path


@dsl.component(base_image=IMAGE)
def maybe_dataset(ds: Optional[Input[Dataset]] = None) -> str:
    if ds is None:
        return "no dataset"
    with open(ds.path, encoding="utf-8") as f:
        return f.read()


@dsl.component(base_image=IMAGE)
def maybe_dataset_path(ds: Optional[Input[Dataset]] = None) -> str:
    import os

    if ds is None:
        return "no dataset"
    return "missing file" if not os.path.exists(ds.path) else "file"


@dsl.component(base_image=IMAGE)
def make_model(note: str, model: Output[Model]):
    with open(model.path, "w") as f:
        f.write("weights")
    model.metadata["accuracy"] = 0.5
    model.metadata["epochs"] = 3
    model.metadata["note"] = note


@dsl.component(base_image=IMAGE)
def claims_a_uri(model: Output[Model]):
    with open(model.path, "w") as f:
        f.write("w")
    model.metadata["kfp2argo:uri"] = "gs://not/imported"
    model.metadata["kept"] = 1


@dsl.component(base_image=IMAGE)
def to_float(x: int) -> float:
    return x


@dsl.component(base_image=IMAGE)
def to_str(s: str) -> str:
    return s


@dsl.component(base_image=IMAGE)
def fails(code: int):
    import sys
    print("component says boom", file=sys.stderr)
    sys.exit(code)


@dsl.component(base_image=IMAGE)
def killed():
    import os
    import signal
    os.kill(os.getpid(), signal.SIGKILL)


@dsl.component(base_image=IMAGE)
def writes_nothing(out: OutputPath(str)):
    pass


ARGV_SCRIPT = ("import json, sys; p = sys.argv[sys.argv.index('--out') + 1]; "
               "open(p, 'w', encoding='utf-8').write(json.dumps(sys.argv[1:]))")


@dsl.container_component
def structured_args(x: str, src: Input[Dataset], out: OutputPath(str), ds: Output[Dataset],
                    y: Optional[str] = None):
    return ContainerSpec(
        image=IMAGE,
        command=["python3", "-c", ARGV_SCRIPT],
        args=[
            ConcatPlaceholder(["--x=", x, "@", ds.path]),
            IfPresentPlaceholder(input_name="y", then=["--y", y], else_=["--no-y"]),
            IfPresentPlaceholder(input_name="y", then=ConcatPlaceholder(["y=", y])),
            IfPresentPlaceholder(input_name="src", then=["--src", src.path, src.uri]),
            "--out", out, "--uri", ds.uri, "--job", dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
        ])


# ---- harness ----

class Run(NamedTuple):
    proc: subprocess.CompletedProcess
    spec: dict
    argv: list

    @property
    def stderr(self) -> str:
        return self.proc.stderr.decode("utf-8", "replace")

    def output(self, name: str) -> str:
        """The output parameter's value as Argo reads it (one trailing newline dropped)."""
        path = Path(self.spec["outputs"]["parameters"][name]["path"])
        text = path.read_text(encoding="utf-8")
        return text[:-1] if text.endswith("\n") else text

    def value(self, name: str):
        p = self.spec["outputs"]["parameters"][name]
        return wire.decode_typed(self.output(name), p["type"])


def compile_component(component, tmp_path: Path):
    """The compiled component's IR (a dict, also written to tmp_path/ir.yaml) and its argv."""
    path = tmp_path / "ir.yaml"
    compiler.Compiler().compile(component, str(path))
    ir = yaml.safe_load(path.read_text(encoding="utf-8"))
    (comp_spec,) = ir["components"].values()
    container = ir["deploymentSpec"]["executors"][comp_spec["executorLabel"]]["container"]
    return comp_spec, container["command"] + container.get("args", [])


def build_spec(ir_path: Path, root: Path) -> dict:
    """The launcher spec the transpiler writes for the compiled component (lower/launcher.py),
    with root in place of /kfp2argo."""
    source = load(ir_path.read_bytes(), file=str(ir_path))
    pipeline = parse(source)
    [component] = [c for c in pipeline.components.values() if c.executor]
    facts = Analysis(pipeline)
    context = Context(source, pipeline, facts, Plan(pipeline, facts))
    _, args, _ = invocation(context, component, pipeline.executors[component.executor])
    return json.loads(args[0].replace("/kfp2argo", str(root)))


def drop_pip_stage(argv: list) -> list:
    """The SDK's first stage installs kfp, then runs `"$0" "$@"`, i.e. argv[3:]."""
    assert argv[:2] == ["sh", "-c"] and "pip install" in argv[2]
    assert argv[2].rstrip().endswith('"$0" "$@"')
    return argv[3:]


def base_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KFP2ARGO_")}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PYTHONDONTWRITEBYTECODE="1", KFP2ARGO_PIPELINE_JOB_NAME="my-run-x1", KFP2ARGO_LAUNCHER=LAUNCHER)
    return env


def launch(tmp_path, component, inputs=None, metadata=None, env=None, keep_pip=False,
           spec_edit=None) -> Run:
    """Runs the launcher on a compiled component.

    inputs: parameter name -> wire text (a missing name leaves its variable unset).
    metadata: input artifact name -> wire text of its metadata.
    """
    comp_spec, argv = compile_component(component, tmp_path)
    if not keep_pip and argv[:2] == ["sh", "-c"]:
        argv = drop_pip_stage(argv)
    spec = build_spec(tmp_path / "ir.yaml", tmp_path / "kfp2argo")
    if spec_edit:
        spec_edit(spec)
    full_env = base_env()
    for name, text in (inputs or {}).items():
        full_env[spec["inputs"]["parameters"][name]["env"]] = text
    for name, text in (metadata or {}).items():
        full_env[spec["inputs"]["artifacts"][name]["metadataEnv"]] = text
    full_env.update(env or {})
    encoded = [wire.encode_launcher_arg(a) for a in argv]
    proc = subprocess.run(
        RUN_LAUNCHER + [json.dumps(spec, separators=(",", ":")), "--"]
        + encoded, env=full_env, capture_output=True, timeout=300)
    return Run(proc, spec, encoded)


def place_input(name: str, content: str | None):
    """A spec_edit that puts a file where Argo would place input artifact `name` (none for None)."""
    def edit(spec):
        art = spec["inputs"]["artifacts"][name]
        if content is not None:
            Path(art["path"]).parent.mkdir(parents=True, exist_ok=True)
            Path(art["path"]).write_text(content, encoding="utf-8")
    return edit


def assert_ok(run: Run):
    assert run.proc.returncode == 0, run.stderr
    assert "kfp2argo-launcher" not in run.stderr


def assert_launcher_error(run: Run, *fragments):
    assert run.proc.returncode == 2, run.stderr
    lines = [l for l in run.stderr.splitlines() if l.startswith("kfp2argo-launcher:")]
    assert len(lines) == 1, run.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert not Path(run.spec["outputFile"]).exists()  # the component never ran


# ---- the launcher source itself ----

def test_source_is_embeddable():
    assert "{{" not in LAUNCHER and "$(" not in LAUNCHER and "$$" not in LAUNCHER  # Argo's and Kubernetes' expansions
    assert "__file__" not in LAUNCHER
    assert LAUNCHER.isascii()
    ast.parse(LAUNCHER, feature_version=(3, 7))


def load_launcher_namespace() -> dict:
    namespace = {"__name__": "kfp2argo_launcher_under_test"}
    exec(compile(LAUNCHER, "launcher.py", "exec"), namespace)
    return namespace


def sample_texts(count: int, seed: int):
    rng = random.Random(seed)
    pieces = ["{{", "}}", "{", "}", " ", "\n", "\r", "\t", "=", "$", "x", "workflow.name",
              "inputs.parameters.p", "item", "kfp2argo:", "none", "b64:", "é", "日", "😀",
              "\x00", "\x07", "\x7f", '"', "\\", "'", "base64:"]
    for _ in range(count):
        yield "".join(rng.choice(pieces) for _ in range(rng.randint(0, 7)))


def test_launcher_and_wire_module_agree():
    ns = load_launcher_namespace()
    for text in sample_texts(3000, seed=7):
        assert ns["is_argo_inert"](text) == wire.is_argo_inert(text), repr(text)
        assert ns["encode"](text) == wire.encode(text), repr(text)
        assert ns["decode"](wire.encode(text)) == text
    values = [("", "STRING"), ("a\nb", "STRING"), (0, "NUMBER_INTEGER"), (-3, "NUMBER_INTEGER"),
              (3.0, "NUMBER_INTEGER"), (2**70, "NUMBER_INTEGER"), (0.1, "NUMBER_DOUBLE"),
              (-0.0, "NUMBER_DOUBLE"), (1e20, "NUMBER_DOUBLE"), (1e-7, "NUMBER_DOUBLE"),
              (5, "NUMBER_DOUBLE"), (1.5e300, "NUMBER_DOUBLE"), (True, "BOOLEAN"),
              (False, "BOOLEAN"), ([1.0, 2.5, 1e21, 1e-7, None, "é"], "LIST"),
              ({"z": {"a": [True]}, "é": 0.0}, "STRUCT")]
    for value, ptype in values:
        text = wire.canonical_text(value, ptype)
        assert ns["canonical"](value, ptype) == text, (value, ptype)
        assert ns["parse_text"](text, ptype) == wire.parse_text(text, ptype)
    rejected = [(True, "NUMBER_INTEGER"), (2.5, "NUMBER_INTEGER"), ("1", "NUMBER_DOUBLE"),
                (float("nan"), "NUMBER_DOUBLE"), (1, "BOOLEAN"), ({}, "LIST"), ([], "STRUCT"),
                (None, "STRING"), ([float("inf")], "LIST")]
    for value, ptype in rejected:
        with pytest.raises(ValueError):
            wire.canonical_text(value, ptype)
        with pytest.raises(ValueError):
            ns["canonical"](value, ptype)
    for text, ptype in [("4.5", "NUMBER_INTEGER"), ("1_000", "NUMBER_INTEGER"),
                        ("nan", "NUMBER_DOUBLE"), ("1e999", "NUMBER_DOUBLE"),
                        ("yes", "BOOLEAN"), ("{}", "LIST"), ("[NaN]", "LIST"), ("[]", "STRUCT")]:
        with pytest.raises(ValueError):
            wire.parse_text(text, ptype)
        with pytest.raises(ValueError):
            ns["parse_text"](text, ptype)


# ---- running components ----

@pytest.mark.parametrize("f_wire, f_out", [("2.5", "2.5"), ("3", "3"), ("-0.125", "-0.125")])
def test_every_parameter_type_in_and_out(tmp_path, f_wire, f_out):
    inputs = {"s": wire.wire_value("plain text", "STRING"), "i": "42", "f": f_wire,
              "b": "true", "l": '[1,2.5,"a",{"k":null}]', "d": '{"z":1,"a":[true,1.5]}'}
    run = launch(tmp_path, all_types, inputs)
    assert_ok(run)
    assert run.output("kinds") == "str,int,float,bool,list,dict"
    assert run.output("s") == "plain text"
    assert run.output("i") == "42"
    assert run.output("f") == f_out
    assert run.output("b") == "true"
    assert run.output("l") == '[1,2.5,"a",{"k":null}]'
    assert run.output("d") == '{"z":1,"a":[true,1.5]}'


def test_integral_floats_in_lists_arrive_as_ints_like_kfp(tmp_path):
    inputs = {"s": "", "i": "-1", "f": "0", "b": "False", "l": wire.wire_value([1.0, 2.0], "LIST"),
              "d": wire.wire_value({"k": 1.0}, "STRUCT")}
    run = launch(tmp_path, all_types, inputs)
    assert_ok(run)
    assert run.value("l") == [1, 2] and run.output("l") == "[1,2]"
    assert run.output("d") == '{"k":1}'
    assert run.value("b") is False and run.value("i") == -1 and run.output("s") == ""


def test_absent_optional_inputs_use_python_defaults(tmp_path):
    run = launch(tmp_path, with_defaults, {"x": wire.NONE, "l": wire.NONE})  # s: variable unset
    assert_ok(run)
    assert run.value("Output") == "7|'dflt'|None"


def test_supplied_optional_inputs_override_defaults(tmp_path):
    run = launch(tmp_path, with_defaults, {"x": "8", "s": "", "l": "[]"})
    assert_ok(run)
    assert run.value("Output") == "8|''|[]"


@pytest.mark.parametrize("text", [HARD, "", "kfp2argo:none", "base64:abc", "\x07\x00bell",
                                  "😀", "{{inputs.parameters.s}}", " spaced \n\n"])
def test_string_values_arrive_byte_for_byte(tmp_path, text):
    run = launch(tmp_path, echo_to_paths, {"s": wire.encode(text)})
    assert_ok(run)
    assert wire.decode(run.output("out")) == text
    assert wire.is_argo_inert(run.output("out"))
    assert run.output("n") == "42"  # an OutputPath(int) file "42\n" re-encoded as wire text


def test_component_source_with_double_braces_travels_as_base64(tmp_path):
    run = launch(tmp_path, braces, {"name": "x"})
    assert_ok(run)
    source_args = [a for a in run.argv if a.startswith("base64:")
                   and "{{literal}}" in base64.b64decode(a[7:]).decode()]
    assert len(source_args) == 1
    assert run.output("Output") == "{literal} x {{double}}"


def test_input_artifact_with_metadata(tmp_path):
    metadata = {"rows": 3, "note": "{{workflow.name}}", "nested": {"a": [1.5]}}
    run = launch(tmp_path, read_dataset, metadata={"ds": wire.wire_value(metadata, "STRUCT")},
                 spec_edit=place_input("ds", "a,b\n1,2\n"))
    assert_ok(run)
    path = run.spec["inputs"]["artifacts"]["ds"]["path"]
    assert json.loads(run.value("Output")) == {
        "content": "a,b\n1,2\n", "metadata": metadata, "path": path, "uri": path}


def test_input_artifact_without_metadata_variable_gets_empty_metadata(tmp_path):
    run = launch(tmp_path, read_dataset, metadata={}, spec_edit=place_input("ds", "x"))
    assert_ok(run)
    assert json.loads(run.value("Output"))["metadata"] == {}


@pytest.mark.parametrize("metadata, expected", [(wire.NONE, "no dataset"), ("{}", "missing file")])
def test_absent_metadata_means_unbound_and_a_missing_file_does_not(tmp_path, metadata, expected):
    """``kfp2argo:none`` as an input's metadata means the task does not bind the input: it is left
    out of the executor input. A bound input whose producer wrote no file is still given (KFP
    records an unwritten output artifact and hands it on)."""
    run = launch(tmp_path, maybe_dataset_path, metadata={"ds": metadata}, spec_edit=place_input("ds", None))
    assert_ok(run)
    assert run.value("Output") == expected


@pytest.fixture
def gcs_bucket():
    """A bucket folder under /gcs, where KFP's SDK reads a gs:// artifact (artifact.path) and a
    pod that reads an imported artifact has an emptyDir; removed afterwards."""
    root = Path("/gcs")
    if not os.access(root if root.exists() else root.parent, os.W_OK):
        pytest.skip("needs write access to /gcs, as the pod has")
    bucket = "kfp2argo-test-%d" % random.randrange(10**9)
    yield bucket
    import shutil
    shutil.rmtree(root / bucket, ignore_errors=True)
    if root.exists() and not any(root.iterdir()):
        root.rmdir()


def test_imported_artifact_keeps_its_uri_and_path_reads_the_download(tmp_path, gcs_bucket):
    uri = "gs://%s/dir/shakespeare1.txt" % gcs_bucket
    metadata = {"source": "gcs", "kfp2argo:uri": uri}
    run = launch(tmp_path, read_dataset, metadata={"ds": wire.wire_value(metadata, "STRUCT")},
                 spec_edit=place_input("ds", "to be"))
    assert_ok(run)
    assert json.loads(run.value("Output")) == {
        "content": "to be", "metadata": {"source": "gcs"}, "uri": uri,
        "path": "/gcs/%s/dir/shakespeare1.txt" % gcs_bucket}


def test_an_http_import_is_its_url_as_kfps_sdk_gives_it(tmp_path):
    url = "https://example.com/data/page.html"
    run = launch(tmp_path, locate_dataset, metadata={"ds": wire.wire_value({"kfp2argo:uri": url}, "STRUCT")},
                 spec_edit=place_input("ds", None))  # not downloaded, as KFP's launcher does not
    assert_ok(run)
    assert run.value("Output") == url + " " + url


def test_imported_artifact_in_placeholders(tmp_path, gcs_bucket):
    uri = "gs://%s/data.csv" % gcs_bucket
    run = launch(tmp_path, structured_args, {"x": "v"},
                 metadata={"src": wire.wire_value({"kfp2argo:uri": uri}, "STRUCT")},
                 spec_edit=place_input("src", "csv"))
    assert_ok(run)
    out = Path(run.spec["outputs"]["parameters"]["out"]["path"])
    argv = json.loads(wire.decode(out.read_text(encoding="utf-8")))
    local = "/gcs/%s/data.csv" % gcs_bucket
    assert argv[argv.index("--src") + 1:argv.index("--src") + 3] == [local, uri]
    assert Path(local).read_text() == "csv"


def test_output_metadata_never_carries_the_reserved_uri_key(tmp_path):
    run = launch(tmp_path, claims_a_uri)
    assert_ok(run)
    meta = Path(run.spec["outputs"]["artifacts"]["model"]["metadataPath"]).read_text(encoding="utf-8")
    assert wire.decode_typed(meta, "STRUCT") == {"kept": 1}


@pytest.mark.parametrize("content, metadata, expected", [("rows", "{}", "rows"), (None, wire.NONE, "no dataset")])
def test_optional_input_artifact(tmp_path, content, metadata, expected):
    run = launch(tmp_path, maybe_dataset, metadata={"ds": metadata}, spec_edit=place_input("ds", content))
    assert_ok(run)
    assert run.value("Output") == expected


def test_output_artifact_file_and_metadata(tmp_path):
    note = "{{workflow.name}}\n"
    run = launch(tmp_path, make_model, {"note": wire.encode(note)})
    assert_ok(run)
    art = run.spec["outputs"]["artifacts"]["model"]
    assert Path(art["path"]).read_text() == "weights"
    meta_wire = Path(art["metadataPath"]).read_text(encoding="utf-8")
    assert meta_wire.startswith(wire.B64_PREFIX)  # the note is not Argo-inert
    assert wire.decode(meta_wire) == '{"accuracy":0.5,"epochs":3,"note":"{{workflow.name}}\\n"}'
    assert wire.decode_typed(meta_wire, "STRUCT") == {"accuracy": 0.5, "epochs": 3, "note": note}


@pytest.mark.parametrize("component, inputs, expected", [
    (to_float, {"x": "3"}, "3"),
    (to_float, {"x": "-12"}, "-12"),
    (to_str, {"s": wire.encode("kfp2argo:none")}, wire.encode("kfp2argo:none")),
    (to_str, {"s": "trailing newline\n"}, wire.encode("trailing newline\n")),
])
def test_single_return_value(tmp_path, component, inputs, expected):
    run = launch(tmp_path, component, inputs)
    assert_ok(run)
    assert run.output("Output") == expected


def test_failing_component_keeps_its_exit_code_and_logs(tmp_path):
    run = launch(tmp_path, fails, {"code": "7"})
    assert run.proc.returncode == 7
    assert "component says boom" in run.stderr
    assert "kfp2argo-launcher" not in run.stderr


def test_component_raising_exits_like_python(tmp_path):
    run = launch(tmp_path, to_float, {"x": "3"}, spec_edit=lambda spec: spec["inputs"][
        "parameters"]["x"].update(type="STRING"))  # the executor gets "3", float("3") returns str
    assert run.proc.returncode == 1
    assert "returned value of type" in run.stderr
    assert not Path(run.spec["outputs"]["parameters"]["Output"]["path"]).exists()


def test_component_killed_by_signal(tmp_path):
    run = launch(tmp_path, killed)
    assert run.proc.returncode == 128 + signal.SIGKILL


@pytest.mark.parametrize("name, text, fragment", [
    ("i", "4.5", "not a NUMBER_INTEGER: '4.5'"),
    ("b", "yes", "not a BOOLEAN"),
    ("l", '{"a":1}', "not a LIST"),
    ("d", "[1]", "not a STRUCT"),
    ("f", "NaN", "not a NUMBER_DOUBLE"),
    ("s", "kfp2argo:b64:@@@", "malformed kfp2argo:b64:"),
    ("s", "kfp2argo:other", "unknown escape"),
    ("s", "kfp2argo:error:the loop item has no field 'x'", "no value: the loop item has no field 'x'"),
])
def test_bad_input_value_fails_with_exit_2_naming_the_parameter(tmp_path, name, text, fragment):
    inputs = {"s": "", "i": "1", "f": "1", "b": "true", "l": "[]", "d": "{}"}
    inputs[name] = text
    run = launch(tmp_path, all_types, inputs)
    assert_launcher_error(run, "input parameter %r" % name, fragment)


def test_output_parameter_nobody_wrote_fails_with_exit_2(tmp_path):
    run = launch(tmp_path, writes_nothing)
    assert run.proc.returncode == 2
    assert "kfp2argo-launcher: output parameter 'out' (STRING)" in run.stderr


def test_output_path_text_not_of_its_type_fails_with_exit_2(tmp_path):
    run = launch(tmp_path, echo_to_paths, {"s": "x"}, spec_edit=lambda spec: spec["outputs"][
        "parameters"]["n"].update(type="BOOLEAN"))
    assert run.proc.returncode == 2
    assert "output parameter 'n' (BOOLEAN): not a BOOLEAN: '42\\n'" in run.stderr


@pytest.mark.parametrize("args", [["{not json", "--", "true"], ["{}", "--", "true"],
                                  ["{}", "true"], ["base64:!!", "--", "true"]])
def test_bad_invocation_fails_with_exit_2(args):
    proc = subprocess.run(RUN_LAUNCHER + args, capture_output=True,
                          env=base_env())
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("kfp2argo-launcher: ")
    assert len(proc.stderr.decode().splitlines()) == 1


def test_concat_ifpresent_and_env_placeholders_when_present(tmp_path):
    y = "why {{x}} $(no)"
    run = launch(tmp_path, structured_args, {"x": "ex", "y": wire.encode(y)},
                 metadata={"src": "{}"}, spec_edit=place_input("src", ""))
    assert_ok(run)
    spec = run.spec
    ds_path = spec["outputs"]["artifacts"]["ds"]["path"]
    src_path = spec["inputs"]["artifacts"]["src"]["path"]
    out_path = spec["outputs"]["parameters"]["out"]["path"]
    assert json.loads(wire.decode(run.output("out"))) == [
        "--x=ex@" + ds_path, "--y", y, "y=" + y, "--src", src_path, src_path,
        "--out", out_path, "--uri", ds_path, "--job", "my-run-x1"]
    assert wire.decode_typed(Path(spec["outputs"]["artifacts"]["ds"]["metadataPath"])
                             .read_text(), "STRUCT") == {}


def test_concat_ifpresent_when_absent(tmp_path):
    run = launch(tmp_path, structured_args, {"x": "", "y": wire.NONE},
                 metadata={"src": wire.NONE}, spec_edit=place_input("src", None))
    assert_ok(run)
    spec = run.spec
    ds_path = spec["outputs"]["artifacts"]["ds"]["path"]
    assert json.loads(wire.decode(run.output("out"))) == [
        "--x=@" + ds_path, "--no-y",
        "--out", spec["outputs"]["parameters"]["out"]["path"], "--uri", ds_path,
        "--job", "my-run-x1"]


def test_missing_env_placeholder_variable_fails_with_exit_2(tmp_path):
    run = launch(tmp_path, structured_args, {"x": "", "y": wire.NONE},
                 spec_edit=lambda spec: spec["env"].update(
                     {dsl.PIPELINE_JOB_NAME_PLACEHOLDER: "KFP2ARGO_NOT_SET"}))
    assert_launcher_error(run, "KFP2ARGO_NOT_SET")


def test_spec_may_travel_as_base64(tmp_path):
    comp_spec, argv = compile_component(to_str, tmp_path)
    spec = build_spec(tmp_path / "ir.yaml", tmp_path / "kfp2argo")
    env = dict(base_env(), **{spec["inputs"]["parameters"]["s"]["env"]: "ok"})
    spec_arg = "base64:" + base64.b64encode(json.dumps(spec).encode()).decode()
    proc = subprocess.run(RUN_LAUNCHER + [spec_arg, "--"]
                          + [wire.encode_launcher_arg(a) for a in drop_pip_stage(argv)],
                          env=env, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
    assert Path(spec["outputs"]["parameters"]["Output"]["path"]).read_text() == "ok"


def test_full_sdk_command_with_pip_stage(tmp_path):
    run = launch(tmp_path, to_float, {"x": "5"}, keep_pip=True)
    assert run.argv[:2] == ["sh", "-c"]
    assert_ok(run)
    assert run.output("Output") == "5"


def test_executor_input_json(tmp_path):
    """{{$}} gets the executor input KFP's launcher would build, as compact ASCII JSON."""
    script = "import sys; open(sys.argv[2], 'w').write(sys.argv[1])"

    comp_spec, _ = compile_component(to_str, tmp_path)  # its spec; the command is replaced
    spec = build_spec(tmp_path / "ir.yaml", tmp_path / "kfp2argo")
    out = spec["outputs"]["parameters"]["Output"]["path"]
    env = base_env()
    env[spec["inputs"]["parameters"]["s"]["env"]] = wire.encode("é {{$}}\n")
    argv = [sys.executable, "-c", script, "{{$}}", "{{$.outputs.parameters['Output'].output_file}}"]
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, json.dumps(spec), "--"]
                          + [wire.encode_launcher_arg(a) for a in argv], env=env,
                          capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
    text = wire.decode(Path(out).read_text(encoding="utf-8"))
    assert text.isascii() and text == json.dumps(json.loads(text), separators=(",", ":"))
    assert json.loads(text) == {
        "inputs": {"parameterValues": {"s": "é {{$}}\n"}, "artifacts": {}},
        "outputs": {"parameters": {"Output": {"outputFile": out}}, "artifacts": {},
                    "outputFile": spec["outputFile"]}}


# ---- a template exactly as the transpiler generates it ----

def run_generated_template(tmp_path, case: str, template: str, inputs: dict) -> subprocess.CompletedProcess:
    """Runs a Python-component template of golden/<case> as Argo would: its input parameters
    substituted into the environment, /kfp2argo moved under tmp_path, pip finding kfp installed."""
    from transpiler import transpile

    workflow = yaml.safe_load(transpile((ROOT / "golden" / case / "pipeline.yaml").read_bytes()))
    [tmpl] = [t for t in workflow["spec"]["templates"] if t["name"] == template]
    container = tmpl["container"]
    root = str(tmp_path / "kfp2argo")
    env = base_env()
    for var in container["env"]:
        value = var["value"]
        for name, text in inputs.items():  # Argo's substitution doubles "$", Kubernetes undoes it
            value = value.replace("{{=sprig.replace('$', '$$', inputs.parameters['%s'])}}" % name, text.replace("$", "$$"))
        env[var["name"]] = value.replace("{{workflow.name}}", "my-run-x1").replace("$$", "$")
    args = [container["args"][0].replace("/kfp2argo", root)] + container["args"][1:]
    assert container["command"][:2] == ["python3", "-c"]
    return subprocess.run([sys.executable, "-c", container["command"][2]] + args, env=env,
                          capture_output=True, timeout=300)


@pytest.mark.parametrize("state, error", [("SUCCEEDED", {}), ("FAILED", {"code": 1, "message": "Task exit-handler-1 failed."})])
def test_final_status_reaches_the_exit_task_of_the_generated_template(tmp_path, state, error):
    status = {"error": error, "pipelineJobResourceName": "my-run-x1", "pipelineTaskName": "exit-handler-1", "state": state}
    proc = run_generated_template(tmp_path, "exit_handler", "comp-report", {"status": wire.wire_value(status, "STRUCT")})
    assert proc.returncode == 0, proc.stderr.decode()
    assert (tmp_path / "kfp2argo" / "outputs" / "parameter.Output").read_text() == state
    expected = "exit-handler-1: %s %s %s" % (state, error.get("code"), error.get("message"))
    assert expected in proc.stdout.decode()


def test_every_golden_holds_the_launcher_once_or_not_at_all():
    """The launcher is stored once per manifest (spec.templateDefaults), never per template."""
    import yaml

    for path in sorted((ROOT / "golden").glob("*/workflow.yaml")):
        text = path.read_text(encoding="utf-8")
        assert text.count(LAUNCHER.splitlines()[0]) <= 1, path
        document = yaml.safe_load(text)
        python = [t for t in document["spec"]["templates"] if (t.get("container") or {}).get("command", [None])[-1] == BOOT]
        env = (document["spec"].get("templateDefaults") or {}).get("container", {}).get("env", [])
        assert ([e["value"] for e in env] == [LAUNCHER]) == bool(python), path


@pytest.mark.parametrize("key", ["../../tmp/kfp2argo-planted.py", "dir/../../../tmp/kfp2argo-planted.py",
                                 "./x", "a//b", "k/\0/x"])
def test_imported_uris_that_leave_the_local_folder_are_refused(tmp_path, gcs_bucket, key):
    """An importer URI is run-time data (a pipeline parameter): the launcher links KFP's local
    path for it only inside /gcs, /s3 or /minio, and never follows a path out of there."""
    planted = Path("/tmp/kfp2argo-planted.py")
    planted.unlink(missing_ok=True)
    uri = "gs://%s/%s" % (gcs_bucket, key)
    run = launch(tmp_path, read_dataset, metadata={"ds": wire.wire_value({"kfp2argo:uri": uri}, "STRUCT")},
                 spec_edit=place_input("ds", "payload"))
    assert run.proc.returncode == 2, run.stderr
    assert "imported artifact 'ds': cannot link" in run.stderr
    assert not planted.exists() and not planted.is_symlink()


def test_an_import_cannot_follow_an_earlier_link_out_of_the_local_folder(tmp_path, gcs_bucket):
    """A link made for one input (to its download) is not a way out for another input's path."""
    first = "gs://%s/k" % gcs_bucket
    second = "gs://%s/k/inside-the-download" % gcs_bucket
    os.makedirs("/gcs/%s" % gcs_bucket, exist_ok=True)
    os.symlink(str(tmp_path), "/gcs/%s/k" % gcs_bucket)  # as the first input's link would be
    run = launch(tmp_path, read_dataset, metadata={"ds": wire.wire_value({"kfp2argo:uri": second}, "STRUCT")},
                 spec_edit=place_input("ds", "payload"))
    assert run.proc.returncode == 2 and "leads outside" in run.stderr, (first, run.stderr)
