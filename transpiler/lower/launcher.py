"""Python components: run the component's own command under kfp2argo's in-pod launcher.

The launcher (``transpiler/runtime/launcher.py``, standard-library Python) builds the executor input
that KFP's launcher would build, runs the command with ``{{$}}`` replaced, and turns the
executor output into Argo output parameter files. ``docs/runtime-contract.md`` is the contract;
this module writes the compile-time half: the spec, the encoded argv and the environment.
"""

from __future__ import annotations

import json
from functools import lru_cache

from hera.workflows import models as m

from transpiler import argo_expr, ir, names, placeholders, runtime, wire
from transpiler.lower import io
from transpiler.lower.context import Context


# What a Python component's container runs: the launcher, which the manifest holds once, in the
# environment variable ``names.LAUNCHER_ENV`` that ``spec.templateDefaults`` gives every
# container (``launcher_defaults``).
BOOT = f'import os; exec(compile(os.environ["{names.LAUNCHER_ENV}"], "kfp2argo-launcher", "exec"))'


@lru_cache(maxsize=1)
def launcher_source() -> str:
    """The launcher script, verbatim. It must never contain ``{{`` (Argo would read it), ``$(``
    or ``$$`` (Kubernetes expands those in an environment variable's value)."""
    source = runtime.source("launcher.py")
    if "{{" in source or "$(" in source or "$$" in source:
        raise RuntimeError("transpiler/runtime/launcher.py must not contain '{{', '$(' or '$$'")
    return source


def launcher_defaults() -> m.EnvVar:
    """The environment variable that carries the launcher to every container of the workflow
    (``spec.templateDefaults.container.env``): one copy in the manifest and in the stored
    Workflow, however many Python components there are."""
    return m.EnvVar(name=names.LAUNCHER_ENV, value=launcher_source())


def invocation(
    ctx: Context, component: ir.Component, executor: ir.ContainerSpec
) -> tuple[list[str], list[str], list[m.EnvVar]]:
    """Command, args and environment of a Python component's container."""
    env = [
        m.EnvVar(name=names.input_env(p.name), value=argo_expr.pod_input_parameter(names.parameter_name(p.name)))
        for p in component.inputs.parameters
    ]
    env += [
        m.EnvVar(name=names.metadata_env(a.name), value=argo_expr.pod_input_parameter(names.metadata_parameter(a.name)))
        for a in component.inputs.artifacts
    ]
    placeholder_env = {}
    for ref in placeholders.references(executor.argv):
        if isinstance(ref, placeholders.NamedRef) and ref.name != "$" and ref.text not in placeholder_env:
            variable = names.placeholder_env(ref.name)
            placeholder_env[ref.text] = variable
            env.append(m.EnvVar(name=variable, value=ctx.job_placeholder(ref)))
    spec = _spec(component, placeholder_env)
    # The spec stays readable unless a name in it (an input, a schema title) is text Argo would read.
    spec = spec if wire.tags_inert(spec) else wire.encode_launcher_arg(spec)
    args = [spec, "--"] + [wire.encode_launcher_arg(e) for e in executor.argv]
    return ["python3", "-c", BOOT], args, env


def _spec(component: ir.Component, placeholder_env: dict[str, str]) -> str:
    spec = {
        "inputs": {
            "parameters": {
                p.name: {"type": wire.wire_type(p.type), "env": names.input_env(p.name)} for p in component.inputs.parameters
            },
            "artifacts": {
                a.name: {
                    "path": io.input_artifact_path(a.name),
                    "schemaTitle": a.schema_title,
                    "schemaVersion": a.schema_version,
                    "metadataEnv": names.metadata_env(a.name),
                    **({"list": True} if a.is_list else {}),
                }
                for a in component.inputs.artifacts
            },
        },
        "outputs": {
            "parameters": {
                p.name: {"type": wire.wire_type(p.type), "path": io.output_parameter_path(p.name)}
                for p in component.outputs.parameters
            },
            "artifacts": {
                a.name: {
                    "path": io.output_artifact_path(a.name),
                    "schemaTitle": a.schema_title,
                    "schemaVersion": a.schema_version,
                    "metadataPath": io.metadata_path(a.name),
                }
                for a in component.outputs.artifacts
            },
        },
        "outputFile": io.EXECUTOR_OUTPUT_FILE,
        "env": placeholder_env,
    }
    return json.dumps(spec, separators=(",", ":"), sort_keys=True)
