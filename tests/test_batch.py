"""GitOps batch mode: a tree of IR files compiled to a mirrored tree, drift checks, atomic writes,
and the size warning."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import yaml
from typer.testing import CliRunner

from conftest import GOLDEN
from transpiler import batch, transpile
from transpiler.cli import app
from transpiler import Options

runner = CliRunner()


def _tree(root: Path) -> Path:
    """in/hello.yaml, in/team/types.json (JSON IR), a non-IR YAML file, a hidden directory."""
    source = root / "in"
    (source / "team").mkdir(parents=True)
    shutil.copy(GOLDEN / "hello_container" / "pipeline.yaml", source / "hello.yaml")
    data = yaml.safe_load((GOLDEN / "parameter_types" / "pipeline.yaml").read_text())
    import json

    (source / "team" / "types.json").write_text(json.dumps(data))
    (source / "values.yaml").write_text("replicas: 3\n")
    (source / ".cache").mkdir()
    shutil.copy(GOLDEN / "hello_container" / "pipeline.yaml", source / ".cache" / "copy.yaml")
    return source


def run(*args: str):
    return runner.invoke(app, ["compile", *args])


def test_directory_is_compiled_into_a_mirrored_tree(tmp_path):
    source = _tree(tmp_path)
    out = tmp_path / "out"
    result = run(str(source), "-o", str(out))
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["hello.yaml", "team/types.yaml"]
    assert (out / "hello.yaml").read_text() == transpile((source / "hello.yaml").read_bytes(), file=str(source / "hello.yaml"))
    assert "2 pipeline(s) compiled: 2 written, 1 skipped" in result.stderr


def test_unchanged_outputs_are_not_rewritten_and_check_passes(tmp_path):
    source = _tree(tmp_path)
    out = tmp_path / "out"
    assert run(str(source), "-o", str(out)).exit_code == 0
    os.utime(out / "hello.yaml", (1_000_000, 1_000_000))
    again = run(str(source), "-o", str(out))
    assert again.exit_code == 0 and "2 unchanged" in again.stderr
    assert (out / "hello.yaml").stat().st_mtime == 1_000_000
    check = run(str(source), "-o", str(out), "--check")
    assert check.exit_code == 0 and "2 unchanged" in check.stderr


def test_check_lists_missing_stale_and_orphaned_outputs_and_writes_nothing(tmp_path):
    source = _tree(tmp_path)
    out = tmp_path / "out"
    assert run(str(source), "-o", str(out)).exit_code == 0
    (out / "hello.yaml").write_text((out / "hello.yaml").read_text().replace("hello world", "hello"))
    (source / "team" / "types.json").rename(source / "team" / "renamed.json")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    result = run(str(source), "-o", str(out), "--check")
    assert result.exit_code == 1
    assert f"STALE {out / 'hello.yaml'}" in result.stderr
    assert f"MISSING {out / 'team' / 'renamed.yaml'}" in result.stderr
    assert f"ORPHANED {out / 'team' / 'types.yaml'}" in result.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_options_change_is_drift(tmp_path):
    source = _tree(tmp_path)
    out = tmp_path / "out"
    assert run(str(source), "-o", str(out)).exit_code == 0
    result = run(str(source), "-o", str(out), "--check", "--namespace", "prod")
    assert result.exit_code == 1 and result.stderr.count("STALE") == 2


def test_one_bad_input_does_not_stop_the_others(tmp_path):
    source = _tree(tmp_path)
    (source / "broken.yaml").write_text("pipelineInfo: {name: x}\nroot: {dag: {tasks: {a: {componentRef: {name: missing}}}}}\n")
    (source / "bad-syntax.yaml").write_text("pipelineInfo: [\n")
    out = tmp_path / "out"
    result = run(str(source), "-o", str(out))
    assert result.exit_code == 1
    assert (out / "hello.yaml").is_file() and (out / "team" / "types.yaml").is_file()
    assert not (out / "broken.yaml").exists() and not (out / "bad-syntax.yaml").exists()
    assert f"FAILED {source / 'broken.yaml'}" in result.stderr
    assert f"{source / 'bad-syntax.yaml'}:2:1: /: The input is not valid YAML" in result.stderr
    assert "2 written, 2 failed, 1 skipped" in result.stderr
    assert "Traceback" not in result.output


def test_json_output_format_and_colliding_outputs(tmp_path):
    source = _tree(tmp_path)
    shutil.copy(source / "hello.yaml", source / "hello.yml")
    out = tmp_path / "out"
    result = run(str(source), "-o", str(out), "--output-format", "json")
    assert result.exit_code == 1
    assert (out / "team" / "types.json").is_file()
    assert "writes the same output as" in result.stderr


def test_output_inside_the_input_tree_is_not_read_back(tmp_path):
    source = _tree(tmp_path)
    out = source / "manifests"
    assert run(str(source), "-o", str(out)).exit_code == 0
    second = run(str(source), "-o", str(out))
    assert second.exit_code == 0 and "2 unchanged, 1 skipped" in second.stderr


def test_single_file_flags_are_refused_in_batch_mode(tmp_path):
    source = _tree(tmp_path)
    for args in (["--name", "x"], ["-p", "a=1"], []):
        result = run(str(source), *args)
        assert result.exit_code == 2, args


def test_single_file_check(tmp_path):
    out = tmp_path / "wf.yaml"
    hello = str(GOLDEN / "hello_container" / "pipeline.yaml")
    assert run(hello, "-o", str(out), "--check").exit_code == 1
    assert run(hello, "-o", str(out)).exit_code == 0
    assert run(hello, "-o", str(out), "--check").exit_code == 0
    assert run(hello, "-o", str(out), "--check", "-n", "x").exit_code == 1


def test_atomic_write_leaves_no_temporary_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "wf.yaml"
    target.write_text("old\n")

    def broken_replace(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", broken_replace)
    try:
        batch.write_atomic(target, "new\n")
    except KeyboardInterrupt:
        pass
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["wf.yaml"]


def test_progress_only_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = batch.Progress(3, stream)
        for name in ("a", "b", "c"):
            progress.show(Path(name))
        progress.done()
    assert "[3/3] c" in terminal.getvalue()
    assert pipe.getvalue() == ""


def test_size_warning_for_manifests_kubernetes_would_refuse(tmp_path):
    ir = yaml.safe_load((GOLDEN / "hello_container" / "pipeline.yaml").read_text())
    executor = next(iter(ir["deploymentSpec"]["executors"].values()))
    executor["container"]["args"] = ["x" * (1600 * 1024)]
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(ir))
    result = run(str(path), "-o", str(tmp_path / "wf.yaml"))
    assert result.exit_code == 0
    assert "warning: the manifest is 1.56 MiB" in result.stderr and "refuses objects over 1.5 MiB" in result.stderr
    small = run(str(GOLDEN / "hello_container" / "pipeline.yaml"), "-o", str(tmp_path / "small.yaml"))
    assert "warning" not in small.stderr


def test_stored_size_is_compact_json():
    document = {"a": "é", "b": [1, 2]}
    assert batch.stored_size(document) == len('{"a":"é","b":[1,2]}'.encode())


def test_batch_uses_the_given_options(tmp_path):
    source = _tree(tmp_path)
    out = tmp_path / "out"
    code = batch.run_directory(source, out, Options(namespace="ml"), "yaml", stream=io.StringIO())
    assert code == 0
    assert yaml.safe_load((out / "hello.yaml").read_text())["metadata"]["namespace"] == "ml"


def test_pre_commit_hooks_run_the_installed_command(tmp_path):
    import tomllib

    root = Path(__file__).resolve().parent.parent
    hooks = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    assert {hook["id"] for hook in hooks} == {"kfp2argo-check", "kfp2argo-compile"}
    source = _tree(tmp_path)
    out = tmp_path / "out"
    for hook in sorted(hooks, key=lambda h: h["id"], reverse=True):  # compile first, then check
        command, *args = hook["entry"].split()
        assert command in scripts and hook["language"] == "python" and hook["pass_filenames"] is False
        result = runner.invoke(app, [*args, str(source), "-o", str(out)])
        assert result.exit_code == 0, (hook["id"], result.output)


def test_outputs_get_the_umask_mode_not_a_private_one(tmp_path):
    source = _tree(tmp_path)
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        assert run(str(source), "-o", str(out)).exit_code == 0
        assert run(str(GOLDEN / "hello_container" / "pipeline.yaml"), "-o", str(tmp_path / "one.yaml")).exit_code == 0
    finally:
        os.umask(old)
    assert (out / "hello.yaml").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "one.yaml").stat().st_mode & 0o777 == 0o644


def test_two_pipelines_that_would_share_a_name_fail_the_second(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    data = yaml.safe_load((GOLDEN / "hello_container" / "pipeline.yaml").read_text())
    (source / "a.yaml").write_text(yaml.safe_dump(data))
    data["pipelineInfo"]["name"] = data["pipelineInfo"]["name"].upper()  # sanitized to the same metadata.name
    (source / "b.yaml").write_text(yaml.safe_dump(data))
    result = run(str(source), "-o", str(tmp_path / "out"), "--kind", "workflow-template")
    assert result.exit_code == 1
    assert "b.yaml" in result.stderr and "has the same name as the one from" in result.stderr
    assert (tmp_path / "out" / "a.yaml").exists() and not (tmp_path / "out" / "b.yaml").exists()
    assert run(str(source), "-o", str(tmp_path / "wf")).exit_code == 0  # Workflows: generateName, no clash


def test_an_internal_error_fails_one_input_and_not_the_batch(tmp_path, monkeypatch):
    from transpiler import compiler

    source = _tree(tmp_path)
    real = compiler.compile_document

    def flaky(data, options, file):
        if file.endswith("hello.yaml"):
            raise RuntimeError("boom")
        return real(data, options, file)

    monkeypatch.setattr(compiler, "compile_document", flaky)
    result = run(str(source), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1 and "internal error RuntimeError: boom" in result.stderr
    assert (tmp_path / "out" / "team" / "types.yaml").exists()
    assert "Traceback" not in result.output
