"""Tests of transpiler/wire.py: the wire encoding of docs/runtime-contract.md.

Two tests check the module against Go itself and are skipped when it is not available:
`test_numbers_match_go` needs `go` on PATH (standard library only, no network);
`test_inertness_matches_argo_templating` also needs KFP2ARGO_ARGO_SRC to name an Argo
Workflows 4.x source tree, and downloads that tree's Go dependencies.
"""

import doctest
import json
import math
import os
import random
import shutil
import struct
import subprocess
import textwrap

import pytest

from transpiler import wire


def test_doctests():
    result = doctest.testmod(wire)
    assert result.attempted > 10
    assert result.failed == 0


# ---- canonical text ----

@pytest.mark.parametrize("value, expected", [
    (1.0, "1"), (-0.0, "-0"), (0.0, "0"), (1e20, "100000000000000000000"),
    (1e21, "1000000000000000000000"), (1e-7, "0.0000001"), (0.1, "0.1"), (-2.5, "-2.5"),
    (123.456, "123.456"), (0.30000000000000004, "0.30000000000000004"), (100, "100"),
    (2**53 + 1, "9007199254740992"), (1e100, "1" + "0" * 100),
    (5e-324, "0." + "0" * 323 + "5"), (1.7976931348623157e308, "17976931348623157" + "0" * 292),
])
def test_format_number_double(value, expected):
    assert wire.format_number_double(value) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), True, "1", None,
                                   10**400])
def test_format_number_double_rejects(value):
    with pytest.raises(ValueError):
        wire.format_number_double(value)


@pytest.mark.parametrize("value, ptype, expected", [
    ("", "STRING", ""),
    ("a \"b\"\n{{c}}", "STRING", "a \"b\"\n{{c}}"),
    (42, "NUMBER_INTEGER", "42"),
    (-3, "NUMBER_INTEGER", "-3"),
    (3.0, "NUMBER_INTEGER", "3"),
    (-0.0, "NUMBER_INTEGER", "0"),
    (10**30, "NUMBER_INTEGER", "1" + "0" * 30),
    (2.5, "NUMBER_DOUBLE", "2.5"),
    (7, "NUMBER_DOUBLE", "7"),
    (True, "BOOLEAN", "true"),
    (False, "BOOLEAN", "false"),
    ([], "LIST", "[]"),
    ([1, 1.0, 1.5, "x", None, True, {"k": []}], "LIST", '[1,1,1.5,"x",null,true,{"k":[]}]'),
    ([1e21, 1e-7, 1e-6, 123456789.125, -0.0], "LIST", "[1e+21,1e-7,0.000001,123456789.125,-0]"),
    (("a", "b"), "LIST", '["a","b"]'),
    ({}, "STRUCT", "{}"),
    ({"z": 1, "a": "é\n\"", "m": {"x": [2.0]}}, "STRUCT", '{"z":1,"a":"é\\n\\"","m":{"x":[2]}}'),
])
def test_canonical_text(value, ptype, expected):
    assert wire.canonical_text(value, ptype) == expected


@pytest.mark.parametrize("value, ptype, message", [
    (1, "STRING", "STRING value must be a str"),
    (True, "NUMBER_INTEGER", "must be an integer, got bool"),
    (2.5, "NUMBER_INTEGER", "must be an integer"),
    (float("inf"), "NUMBER_INTEGER", "must be an integer"),
    ("3", "NUMBER_INTEGER", "must be an integer, got str"),
    (False, "NUMBER_DOUBLE", "must be a number, got bool"),
    (float("nan"), "NUMBER_DOUBLE", "NaN"),
    (1, "BOOLEAN", "must be a bool"),
    ("true", "BOOLEAN", "must be a bool"),
    ({"a": 1}, "LIST", "must be a list"),
    ([1], "STRUCT", "must be a dict"),
    ({1: "a"}, "STRUCT", "key that is not a string"),
    ([float("nan")], "LIST", "NaN"),
    ([object()], "LIST", "JSON cannot carry"),
    ("x", "DOUBLE", "unknown parameter type"),
])
def test_canonical_text_rejects(value, ptype, message):
    with pytest.raises(ValueError, match=message):
        wire.canonical_text(value, ptype)


# ---- inertness ----

INERTNESS_CASES = [
    ("", True),
    ("plain text", True),
    ("{{x}}", True),
    ("{{...}}", True),
    ("{{}}", True),
    ("{{$}}", True),
    ("{{$.inputs.parameters['p']}}", True),
    ("{x} {{y}} }} {", True),
    ("a}}b", True),
    ("{{{x}}", True),  # the tag is "{x"
    ("{{x}}}", True),
    ("é 日本 \u2028 \xa0", True),
    ("\b\t\n\f\r", True),
    ('"quotes" \\ & < >', True),
    ("{{ workflow.name }}", False),
    ("{{workflow.name}}", False),
    ("{{workflowx}}", False),  # conservative: any tag starting with a root
    ("{{=1}}", False),
    ("{{ =1}}", False),  # Argo would not evaluate it; conservative
    ("a{{b", False),
    ("}}{{", False),
    ("{{x}}{{", False),
    ("{{inputs.parameters.x}}", False),
    ("{{outputs.parameters.o.path}}", False),
    ("{{tasks.a.outputs.result}}", False),
    ("{{steps.a.outputs.result}}", False),
    ("{{item}}", False),
    ("{{item.k}}", False),
    ("{{pod.name}}", False),
    ("{{node.name}}", False),
    ("{{retries}}", False),
    ("{{lastRetry.exitCode}}", False),
    ("{{cronworkflow.name}}", False),
    ("{{status}}", False),
    ("{{exitCode}}", False),
    ("{{duration}}", False),
    ("{{resourcesDuration.cpu}}", False),
    ("{{\nworkflow.name}}", False),  # conservative: stripped of white space
    ("{{a{{b}}", False),  # the tag "a{{b" holds a nested tag
    ("{{a{{workflow.name}}", False),
    ("bell\x07", False),  # Go's strconv.Quote writes \a: invalid JSON
    ("vt\x0b", False),
    ("nul\x00", False),
    ("del\x7f", False),
    ("\U000e0067", False),  # a non-printable tag character (argo-workflows#15512)
    ("😀", False),  # conservative: every character outside the BMP
]


@pytest.mark.parametrize("text, inert", INERTNESS_CASES)
def test_is_argo_inert(text, inert):
    assert wire.is_argo_inert(text) is inert


@pytest.mark.parametrize("text, inert", INERTNESS_CASES)
def test_tags_inert_is_the_tag_part_of_the_rule(text, inert):
    unsafe = any(ord(ch) < 0x20 and ch not in "\b\t\n\f\r" or ord(ch) == 0x7F or ord(ch) > 0xFFFF
                 for ch in text)
    assert wire.tags_inert(text) is (inert or unsafe)
    assert wire.tags_inert(text + " {{=x}}") is False


# ---- encode / decode ----

HARD_STRINGS = [
    "", " ", "\n", "plain", "trailing newline\n", "\r\n", "two\n\n", "no newline\r",
    'double "quotes" and \'single\'', "$(rm -rf /)", "`id`; echo $HOME", "back\\slash\\",
    "é ü 日本 😀", "{{workflow.name}}", "{{...}}", "{{=sprig.upper('x')}}", "a{{b", "}}{{",
    "kfp2argo:none", "kfp2argo:b64:aGk=", "kfp2argo:", "base64:aGk=", "\x00\x07\x1b\x7f",
    "\U000e0067\U000e007f", "multi\nline\ntext", "\t tab", "null", "[1,2]", "{\"a\":1}",
]


@pytest.mark.parametrize("text", HARD_STRINGS)
def test_round_trip_hard_strings(text):
    encoded = wire.encode(text)
    assert wire.decode(encoded) == text
    assert wire.is_argo_inert(encoded)
    assert not encoded.endswith("\n")
    assert not encoded.startswith(wire.ESCAPE_PREFIX) or encoded.startswith(wire.B64_PREFIX)


def test_encode_keeps_readable_text_and_escapes_the_rest():
    assert wire.encode("hello {{x}}") == "hello {{x}}"
    assert wire.encode("") == ""
    assert wire.encode("kfp2argo:none") == "kfp2argo:b64:a2ZwMmFyZ286bm9uZQ=="
    assert wire.encode("a\n") == "kfp2argo:b64:YQo="
    assert wire.encode("a\nb") == "a\nb"
    assert wire.encode("é") == "é"
    assert wire.encode("{{item}}") == "kfp2argo:b64:e3tpdGVtfX0="


def test_encode_rejects_lone_surrogates():
    with pytest.raises(ValueError, match="surrogate"):
        wire.encode("\ud800")


@pytest.mark.parametrize("text", ["kfp2argo:b64:@@@@", "kfp2argo:b64:YQ", "kfp2argo:b64:/w==",
                                  "kfp2argo:nothing", "kfp2argo:", "kfp2argo:NONE"])
def test_decode_rejects_malformed_escapes(text):
    with pytest.raises(ValueError):
        wire.decode(text)


def test_decode_error_gives_its_reason():
    with pytest.raises(ValueError, match="no value: the loop item has no field 'x'"):
        wire.decode_typed("kfp2argo:error:the loop item has no field 'x'", "STRING")


def test_decode_none():
    assert wire.decode(wire.NONE) is None
    assert wire.decode_typed(wire.NONE, "NUMBER_INTEGER") is None
    assert wire.wire_value(None, "STRUCT") == wire.NONE


PIECES = ["{{", "}}", "{", "}", "=", " ", "\n", "\r", "\t", "$", ".", "'", '"', "\\",
          "workflow", "inputs", "item", "status", "x", "kfp2argo:", "none", "b64:",
          "é", "日本", "😀", "\x00", "\x07", "\x7f", "\u2028", "\U000e0067"]
ARGO_KEYS = ["workflow.name", "workflow.parameters.p", "inputs.parameters.x", "item", "item.k",
             "outputs.parameters.o.path", "pod.name", "node.name", "tasks.t.outputs.result",
             "steps.s.outputs.result", "retries", "lastRetry.exitCode", "cronworkflow.name",
             "status", "exitCode", "duration", "resourcesDuration.cpu", "1+1"]


def generated_strings(count, seed, pieces=PIECES):
    rng = random.Random(seed)
    for _ in range(count):
        if rng.random() < 0.1:
            yield "".join(chr(rng.choice([rng.randrange(0x20, 0x7f), rng.randrange(0, 0x110000)]))
                          for _ in range(rng.randint(0, 12))).replace("\ud800", "")
        else:
            yield "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))


def test_property_round_trip_and_inert_wire_text():
    for text in generated_strings(20000, seed=1):
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
            continue
        encoded = wire.encode(text)
        assert wire.decode(encoded) == text, repr(text)
        assert wire.is_argo_inert(encoded), repr(text)
        assert not encoded.endswith("\n"), repr(text)
        if encoded.startswith(wire.ESCAPE_PREFIX):
            assert encoded.startswith(wire.B64_PREFIX), repr(text)
        if encoded == text:  # kept as is only when that is safe
            assert wire.is_argo_inert(text) and not text.startswith("kfp2argo:")


# ---- typed values ----

@pytest.mark.parametrize("text, ptype, expected", [
    ("x y ", "STRING", "x y "),
    ("", "STRING", ""),
    ("42", "NUMBER_INTEGER", 42),
    ("+5", "NUMBER_INTEGER", 5),
    (" -7\n", "NUMBER_INTEGER", -7),
    ("3.0", "NUMBER_INTEGER", 3),
    ("1e3", "NUMBER_INTEGER", 1000),
    ("12345678901234567890.0", "NUMBER_INTEGER", 12345678901234567890),
    ("1", "NUMBER_DOUBLE", 1.0),
    (".5", "NUMBER_DOUBLE", 0.5),
    ("5.", "NUMBER_DOUBLE", 5.0),
    ("-1e-7", "NUMBER_DOUBLE", -1e-7),
    (" 2.5\n", "NUMBER_DOUBLE", 2.5),
    *[(w, "BOOLEAN", True) for w in ("1", "t", "T", "TRUE", "true", "True", " true\n")],
    *[(w, "BOOLEAN", False) for w in ("0", "f", "F", "FALSE", "false", "False")],
    ("[1, 2.5, \"a\"]", "LIST", [1, 2.5, "a"]),
    (' {"b": 1, "a": {}} ', "STRUCT", {"b": 1, "a": {}}),
])
def test_parse_text(text, ptype, expected):
    value = wire.parse_text(text, ptype)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("text, ptype", [
    ("", "NUMBER_INTEGER"), ("3.5", "NUMBER_INTEGER"), ("1_000", "NUMBER_INTEGER"),
    ("0x10", "NUMBER_INTEGER"), ("1e99999", "NUMBER_INTEGER"), ("٣", "NUMBER_INTEGER"),
    ("", "NUMBER_DOUBLE"), ("nan", "NUMBER_DOUBLE"), ("inf", "NUMBER_DOUBLE"),
    ("Infinity", "NUMBER_DOUBLE"), ("0x1p3", "NUMBER_DOUBLE"), ("1e999", "NUMBER_DOUBLE"),
    ("1_0.5", "NUMBER_DOUBLE"), ("yes", "BOOLEAN"), ("tRUE", "BOOLEAN"), ("", "BOOLEAN"),
    ("{}", "LIST"), ("[1,", "LIST"), ("[NaN]", "LIST"), ("[Infinity]", "LIST"), ("[]", "STRUCT"),
    ("null", "STRUCT"), ("x", "FLOAT"),
])
def test_parse_text_rejects(text, ptype):
    with pytest.raises(ValueError):
        wire.parse_text(text, ptype)


TYPED_VALUES = [
    ("", "STRING"), ("kfp2argo:none", "STRING"), ("line\n", "STRING"), ("{{item}}", "STRING"),
    (0, "NUMBER_INTEGER"), (-(2**70), "NUMBER_INTEGER"), (0.1, "NUMBER_DOUBLE"),
    (-0.0, "NUMBER_DOUBLE"), (1e300, "NUMBER_DOUBLE"), (5e-324, "NUMBER_DOUBLE"),
    (True, "BOOLEAN"), (False, "BOOLEAN"), ([1, "{{x}}", [None]], "LIST"),
    ({"k": "\n", "é": [0.5]}, "STRUCT"),
]


@pytest.mark.parametrize("value, ptype", TYPED_VALUES)
def test_typed_round_trip(value, ptype):
    wire_text = wire.wire_value(value, ptype)
    assert wire.is_argo_inert(wire_text)
    back = wire.decode_typed(wire_text, ptype)
    assert back == value and type(back) is type(value)
    if isinstance(value, float):
        assert math.copysign(1, back) == math.copysign(1, value)


def test_integral_floats_in_lists_become_integers_as_in_kfp():
    assert wire.decode_typed(wire.wire_value([1.0, 2.5], "LIST"), "LIST") == [1, 2.5]
    assert type(wire.decode_typed(wire.wire_value([1.0], "LIST"), "LIST")[0]) is int


def test_decode_typed_names_the_problem():
    with pytest.raises(ValueError, match="not a NUMBER_INTEGER: 'abc'"):
        wire.decode_typed("abc", "NUMBER_INTEGER")
    with pytest.raises(ValueError, match="malformed"):
        wire.decode_typed("kfp2argo:b64:!", "STRING")


def test_encode_launcher_arg():
    assert wire.encode_launcher_arg("--function_to_execute") == "--function_to_execute"
    assert wire.encode_launcher_arg("") == ""
    assert wire.encode_launcher_arg("{x} }}") == "{x} }}"
    assert wire.encode_launcher_arg("base64:x") == "base64:YmFzZTY0Ong="
    assert wire.encode_launcher_arg("f'{{x}}'") == "base64:Zid7e3h9fSc="


# ---- checks against Go and Argo themselves (skipped when unavailable) ----

GO_NUMBERS = textwrap.dedent("""\
    package main

    import (
    \t"bufio"
    \t"encoding/json"
    \t"fmt"
    \t"math"
    \t"os"
    \t"strconv"
    )

    func main() {
    \tin := bufio.NewScanner(os.Stdin)
    \tfor in.Scan() {
    \t\tbits, _ := strconv.ParseUint(in.Text(), 16, 64)
    \t\tv := math.Float64frombits(bits)
    \t\tb, _ := json.Marshal(v)
    \t\tfmt.Printf("%s %s\\n", strconv.FormatFloat(v, 'f', -1, 64), b)
    \t}
    }
    """)


@pytest.mark.skipif(shutil.which("go") is None, reason="needs the Go toolchain")
def test_numbers_match_go(tmp_path):
    """format_number_double is strconv.FormatFloat(v, 'f', -1, 64); list numbers are Go JSON."""
    rng = random.Random(3)
    values = [0.0, -0.0, 1.0, 0.1, 1e20, 1e21, 1e-6, 1e-7, 5e-324, 1.7976931348623157e308,
              123456789.125, 2.0**53, 1 / 3]
    while len(values) < 3000:
        (v,) = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))
        if math.isfinite(v):
            values.append(v)
        values.append(rng.uniform(-1e6, 1e6))
    (tmp_path / "main.go").write_text(GO_NUMBERS)
    (tmp_path / "go.mod").write_text("module numbers\n\ngo 1.20\n")
    env = dict(os.environ, GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
    lines = "\n".join(struct.pack("<d", v)[::-1].hex() for v in values) + "\n"
    proc = subprocess.run(["go", "run", "."], cwd=tmp_path, input=lines, capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    outputs = proc.stdout.splitlines()
    assert len(outputs) == len(values)
    for v, line in zip(values, outputs):
        go_f, go_json = line.split(" ")
        assert wire.format_number_double(v) == go_f, v
        assert wire.canonical_text([v], "LIST") == "[%s]" % go_json, v


GO_ARGO = textwrap.dedent("""\
    package main

    import (
    \t"bufio"
    \t"context"
    \t"encoding/json"
    \t"fmt"
    \t"os"

    \t"github.com/argoproj/argo-workflows/v4/util/logging"
    \t"github.com/argoproj/argo-workflows/v4/util/template"
    )

    var keys = []string{"workflow.name", "workflow.uid", "workflow.parameters.p",
    \t"inputs.parameters.x", "inputs.parameters", "inputs.artifacts.a.path",
    \t"outputs.parameters.o.path", "pod.name", "node.name", "tasks.t.outputs.result",
    \t"tasks.name", "steps.s.outputs.result", "item", "item.k", "retries",
    \t"lastRetry.exitCode", "cronworkflow.name", "status", "exitCode", "duration",
    \t"resourcesDuration.cpu"}

    func main() {
    \tlogger := logging.NewSlogLogger(logging.Error, logging.JSON)
    \tctx := logging.WithLogger(context.Background(), logger)
    \tin := bufio.NewScanner(os.Stdin)
    \tin.Buffer(make([]byte, 1<<20), 1<<24)
    \tfor in.Scan() {
    \t\tvar s string
    \t\tif err := json.Unmarshal(in.Bytes(), &s); err != nil {
    \t\t\tpanic(err)
    \t\t}
    \t\tm := map[string]any{}
    \t\tfor _, k := range keys {
    \t\t\tm[k] = "SUBSTITUTED"
    \t\t}
    \t\t// A pass over JSON that holds the value (Argo's global, inputs and pod passes).
    \t\tdoc, _ := json.Marshal(map[string]string{"value": s})
    \t\tout, err := template.Replace(ctx, string(doc), m, true)
    \t\tunchanged := err == nil && out == string(doc)
    \t\t// Splicing the value into other JSON through a tag (arguments, env values).
    \t\tm["inputs.parameters.x"] = s
    \t\tout2, err2 := template.Replace(ctx, `{"env":"{{inputs.parameters.x}}"}`, m, true)
    \t\tvar got map[string]string
    \t\tcarried := err2 == nil && json.Unmarshal([]byte(out2), &got) == nil && got["env"] == s
    \t\tfmt.Println(unchanged, carried)
    \t}
    }
    """)


@pytest.mark.skipif(shutil.which("go") is None or not os.environ.get("KFP2ARGO_ARGO_SRC"),
                    reason="needs Go and KFP2ARGO_ARGO_SRC (an Argo Workflows 4.x source tree)")
def test_inertness_matches_argo_templating(tmp_path):
    """Every text is_argo_inert accepts passes Argo's own templating unchanged."""
    src = os.path.abspath(os.environ["KFP2ARGO_ARGO_SRC"])
    (tmp_path / "main.go").write_text(GO_ARGO)
    (tmp_path / "go.mod").write_text(
        "module argocheck\n\ngo 1.24\n\nrequire github.com/argoproj/argo-workflows/v4 v4.0.0\n\n"
        "replace github.com/argoproj/argo-workflows/v4 => %s\n" % src)
    env = dict(os.environ, GOFLAGS="-mod=mod")
    tidy = subprocess.run(["go", "mod", "tidy"], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=1200)
    assert tidy.returncode == 0, tidy.stderr
    texts = set(generated_strings(20000, seed=2, pieces=PIECES + ARGO_KEYS * 2))
    texts |= {"{{%s}}" % key for key in ARGO_KEYS} | {"x{{y{{%s}}" % key for key in ARGO_KEYS}
    texts = sorted(texts | set(HARD_STRINGS) | {text for text, _ in INERTNESS_CASES})
    texts = [t for t in texts if not any(0xD800 <= ord(ch) <= 0xDFFF for ch in t)]
    encoded = [wire.encode(t) for t in texts]
    lines = "".join(json.dumps(t) + "\n" for t in texts + encoded)
    proc = subprocess.run(["go", "run", "."], cwd=tmp_path, input=lines, capture_output=True,
                          text=True, env=env, timeout=1200)
    assert proc.returncode == 0, proc.stderr
    results = [line.split() for line in proc.stdout.splitlines()]
    assert len(results) == 2 * len(texts)
    for text, (unchanged, carried) in zip(texts, results):
        if wire.tags_inert(text):  # as literal text in a template
            assert unchanged == "true", repr(text)
        if wire.is_argo_inert(text):  # as a value, also spliced in through a tag
            assert unchanged == carried == "true", repr(text)
    assert all(r == ["true", "true"] for r in results[len(texts):])  # every wire text survives
    assert ["false", "true"] in results and ["true", "false"] in results  # a telling corpus
