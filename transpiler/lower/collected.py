"""``dsl.Collected`` artifacts: the artifacts a loop's iterations made, as one list input.

Argo aggregates a looped task's output parameters but never its artifacts, so the iterations
write them where the consumer can download them all at once, at key-only locations (bucket and
credentials from the artifact repository, as ``lower.pipeline_root`` explains)::

    kfp2argo-collected/<workflow uid>/<sha256 of the loop's node name>/<loop output>/iterations/<index>/artifact
                                                                                                .../metadata

* the loop template passes its ``{{node.name}}`` to the iteration template; an iteration's node is
  ``<loop node>.iteration(<index>:<item>)``, so the digits after that prefix are its index;
* the producer task gets the key as a parameter (through the DAGs between it and the loop body:
  conditions, sub-pipelines used only there); its template writes the artifact and its KFP
  metadata file there, and is never memoized (a cache hit would write nothing); an iteration
  whose producer a condition skipped writes nothing;
* the consumer, a sibling of the loop task, downloads the prefix ``.../<loop output>/iterations`` (the loop's
  node name is ``<its DAG's node name>.<loop task>``) as a directory: optional, since no
  iteration may have produced anything; the launcher makes one artifact per index, in index order.

The expressions use only functions that cannot fail (``docs/runtime-contract.md``).
"""

from __future__ import annotations

from hera.workflows import models as m

from transpiler import argo_expr, ir, names

ITERATION_TASK = "iteration"  # the loop template's one task (``lower.loop``)
LOOP_NODE_PARAMETER = "kfp2argo-loop-node"
KEY_ROOT = "kfp2argo-collected"
# Ends the consumer's prefix with a fixed segment: a prefix ending in an output's name would also
# match a longer output name for drivers that list by raw prefix (GCS).
ITERATIONS = "iterations"
ARTIFACT_FILE = "artifact"
METADATA_FILE = "metadata"

MSG_NESTED_PRODUCER = (
    "A dsl.Collected artifact must be made by a container task of the loop body, directly or in "
    "condition DAGs or sub-pipelines used only there; here it comes through {task!r}, which holds a "
    "nested loop, an importer, a dsl.OneOf or a sub-pipeline that other tasks use too"
)
MSG_PASSED_UP = "A dsl.Collected artifact list can only be consumed by a task in the loop's own DAG, not passed up as a DAG output"
MSG_CONSUMER = "A dsl.Collected artifact list can only be read by a Python component (Input[List[...]]); {what} cannot take a list of artifacts"
MSG_ONE_OF = "A dsl.Collected artifact with several sources (dsl.OneOf) is not supported"


def key_parameter(artifact: str) -> str:
    """The producer template's input parameter holding where one collected artifact goes."""
    return "kfp2argo-collect-" + names.parameter_name(artifact)


def is_collected(loop_component: ir.Component, output: str) -> bool:
    """Whether a loop component's output artifact is a collected list."""
    definition = loop_component.outputs.artifact(output)
    return definition is not None and definition.is_list


def producer_key(loop_output: str) -> str:
    """The key prefix of one iteration's artifact, as the iteration template's producer task
    binds it (``node.name`` is the iteration's node there)."""
    loop_node = argo_expr.input_parameter_var(LOOP_NODE_PARAMETER)
    digest = argo_expr.expression(f"sprig.sha256sum({loop_node})")
    after_prefix = f"sprig.trimPrefix({loop_node} + '.{ITERATION_TASK}(', {argo_expr.node_name_var()})"
    index = argo_expr.expression(f"sprig.regexFind('^[0-9]+', {after_prefix})")
    return f"{KEY_ROOT}/{argo_expr.workflow_uid()}/{digest}/{names.parameter_name(loop_output)}/{ITERATIONS}/{index}"


def consumer_location(loop_task: str, loop_output: str) -> dict:
    """``m.Artifact`` keywords for the consumer's argument: the prefix of all iterations'
    artifacts of the loop task ``loop_task`` (its Argo name) in the consumer's DAG."""
    digest = argo_expr.expression(f"sprig.sha256sum({argo_expr.node_name_var()} + '.{loop_task}')")
    key = f"{KEY_ROOT}/{argo_expr.workflow_uid()}/{digest}/{names.parameter_name(loop_output)}/{ITERATIONS}"
    return {"s3": m.S3Artifact(key=key)}


def output_location(artifact: str, file: str) -> dict:
    """``m.Artifact`` keywords for the producer's output (``file``: ARTIFACT_FILE or METADATA_FILE)."""
    return {"s3": m.S3Artifact(key=f"{argo_expr.input_parameter(key_parameter(artifact))}/{file}")}
