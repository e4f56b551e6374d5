"""Lists of artifacts: ``dsl.Collected`` fan-in, lists passed between DAGs, loops over them.

Argo aggregates a looped task's output parameters but never its artifacts, so a list of
artifacts travels in two halves, both plain Argo values:

* **Where the elements go** (known before the loop runs). Each element is stored at a key-only
  location (bucket and credentials from the artifact repository, as ``lower.pipeline_root``
  explains) under the list's *prefix*::

      kfp2argo-collected/<workflow uid>/<sha256 of the node name of the task that outputs the list>/<output>/list
          /<iteration index>/artifact          an element made in that iteration
          /<iteration index>/list/...          the elements of a list made in that iteration (nested loops)

  A DAG template with a list output takes its prefix as the input parameter
  ``kfp2argo-collect-<output>``; its caller passes a fresh one, or its own when it passes the
  list up as its own output. The loop template hands the prefix and its ``{{node.name}}`` to the
  iteration; an iteration's node is ``<loop node>.iteration(<index>:<item>)``, so the digits
  after that prefix are its index. The container task that makes an element gets its exact key
  as ``kfp2argo-collect-<its output>`` (through the condition DAGs and once-used sub-pipelines
  between it and the loop body) and uploads its artifact there; it is never memoized (a cache
  hit would write nothing).

* **What the list holds** (known after the loop ran): the *list manifest*, wire-encoded JSON
  ``{"prefix": <prefix>, "items": [{"path": <key below the prefix>, "metadata": {...}}, ...]}``
  in iteration order, carried where a single artifact's metadata goes (``names.metadata_parameter``).
  Each iteration outputs its own items (paths relative to its element; none when a condition
  skipped the producer); the loop template joins them, prefixing each path with the index of its
  iteration (Argo aggregates the outputs of the iterations that succeeded, in item order; the loop
  has outputs only when all of them did). A DAG passes a list on as a parameter.

A Python component reading a list downloads the prefix as one optional directory and its
launcher builds the list from the manifest. A loop over a list (``artifactIterator``) iterates
over the manifest's items, each iteration downloading one element. The expressions use only
functions that cannot fail (``docs/runtime-contract.md``).
"""

from __future__ import annotations

from hera.workflows import models as m

from transpiler import argo_expr, expr, names

ITERATION_TASK = names.ITERATION_TASK
KEY_ROOT = "kfp2argo-collected"
# Every key ends with a fixed segment: a prefix ending in a name or an index would also match a
# longer one (``.../1`` and ``.../10``) for drivers that list by raw prefix.
LIST = "list"
ARTIFACT = "artifact"
ABSENT = "absent"  # below the run's root: downloaded for a list no task made (an optional input)


def _index() -> str:
    """The iteration's index, as an expression tag, in a task of the iteration template."""
    loop_node = argo_expr.input_parameter_var(names.LOOP_NODE_PARAMETER)
    return argo_expr.expression(expr.iteration_index(loop_node, argo_expr.node_name_var(), ITERATION_TASK))


def element_key(loop_output: str, is_list: bool) -> str:
    """Where the iteration's element of a loop output goes (an artifact, or a list's prefix), as
    the iteration template's tasks bind it."""
    prefix = argo_expr.input_parameter(names.collect_key_parameter(loop_output))
    return f"{prefix}/{_index()}/{LIST if is_list else ARTIFACT}"


def fresh_prefix(task: str, output: str) -> str:
    """A new list prefix for the list output ``output`` of the DAG task ``task`` (its Argo name),
    as that task's DAG binds it: unique per run and per node."""
    digest = argo_expr.expression(expr.node_digest(argo_expr.node_name_var(), task))
    return f"{KEY_ROOT}/{argo_expr.workflow_uid()}/{digest}/{names.parameter_name(output)}/{LIST}"


def output_location(artifact: str) -> dict:
    """``m.Artifact`` keywords for a producer's output that is an element of a list."""
    return {"s3": m.S3Artifact(key=argo_expr.input_parameter(names.collect_key_parameter(artifact)))}


# the manifest ---------------------------------------------------------------------------------


def iteration_items_from_element(metadata_wire: str) -> str:
    """An iteration's items of a loop output made by a container task: one element, or none when
    the task did not run (its metadata companion is absent)."""
    return expr.iteration_items_from_element(metadata_wire, ARTIFACT)


def iteration_items_from_list(manifest_wire: str) -> str:
    """An iteration's items of a loop output that is a list made in the iteration (nested)."""
    return expr.iteration_items_from_list(manifest_wire, LIST)


def download_key(manifest_wire: str) -> str:
    """The key a consumer downloads for a list: its prefix, or a key no task writes when absent."""
    absent = expr.joined([expr.string(f"{KEY_ROOT}/"), argo_expr.workflow_uid_var(), expr.string(f"/{ABSENT}")])
    return argo_expr.expression(expr.manifest_prefix(manifest_wire, absent))


def artifact_list(manifest_wire: str, folder: str, schema_title: str, schema_version: str) -> str:
    """What a container component reads as ``{{$.inputs.artifacts['x']}}``: the JSON list of
    the artifacts, each with its path in the downloaded ``folder`` as URI (as for one artifact)."""
    return argo_expr.expression(expr.artifact_list(manifest_wire, folder, schema_title, schema_version))


def loop_items(manifest_wire: str) -> str:
    """``withParam`` of a loop over a list: per element, the wire text of its key and metadata."""
    return argo_expr.expression(expr.list_loop_items(manifest_wire))


def item_key() -> str:
    """In a loop over a list, the key of the iteration's element (``loop_items``)."""
    return argo_expr.expression(expr.list_item_key(argo_expr.loop_item_var()))


def item_metadata() -> str:
    """In a loop over a list, the metadata companion of the iteration's element."""
    return argo_expr.expression(expr.list_item_metadata(argo_expr.loop_item_var()))
