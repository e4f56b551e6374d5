"""Every Argo ``{{...}}`` reference kfp2argo writes is built here, and nowhere else.

Argo evaluates these tags when it runs the workflow. Keeping them in one module makes the set of
references reviewable: each helper names one Argo variable (see Argo's docs/variables.md).
Names passed in must already be valid Argo names (``transpiler.names``).
"""

from __future__ import annotations

from transpiler import expr


def _tag(expression: str) -> str:
    return "{{" + expression + "}}"


def input_parameter(name: str) -> str:
    """The Argo reference ``input_parameter``.

    >>> input_parameter("text")
    '{{inputs.parameters.text}}'
    """
    return _tag(f"inputs.parameters.{name}")


def pod_input_parameter(name: str) -> str:
    """An input parameter inside a container's command, args or env value, with every ``$``
    doubled: Kubernetes expands ``$(NAME)`` and turns ``$$`` into ``$`` in those fields after
    Argo has substituted the value, so the doubled text arrives as the value itself.

    >>> pod_input_parameter("x")
    "{{=sprig.replace('$', '$$', inputs.parameters['x'])}}"
    """
    return expression(expr.escape_dollars(input_parameter_var(name)))


def input_artifact(name: str) -> str:
    """The Argo reference ``input_artifact``.

    >>> input_artifact("data")
    '{{inputs.artifacts.data}}'
    """
    return _tag(f"inputs.artifacts.{name}")


def workflow_parameter(name: str) -> str:
    """The Argo reference ``workflow_parameter``.

    >>> workflow_parameter("lr")
    '{{workflow.parameters.lr}}'
    """
    return _tag(f"workflow.parameters.{name}")


def task_output_parameter(task: str, name: str) -> str:
    """The Argo reference ``task_output_parameter``.

    >>> task_output_parameter("train", "accuracy")
    '{{tasks.train.outputs.parameters.accuracy}}'
    """
    return _tag(f"tasks.{task}.outputs.parameters.{name}")


def task_output_artifact(task: str, name: str) -> str:
    """The Argo reference ``task_output_artifact``.

    >>> task_output_artifact("train", "model")
    '{{tasks.train.outputs.artifacts.model}}'
    """
    return _tag(f"tasks.{task}.outputs.artifacts.{name}")


def workflow_name() -> str:
    return _tag("workflow.name")


def workflow_uid() -> str:
    return _tag("workflow.uid")


def workflow_creation_timestamp() -> str:
    return _tag("workflow.creationTimestamp.RFC3339")


def variable(name: str) -> str:
    """The simple tag of a global variable such as ``workflow.uid`` (one of Argo's names)."""
    return _tag(name)


def workflow_scheduled_time() -> str:
    """When a CronWorkflow scheduled the run (RFC 3339; only in workflows a CronWorkflow starts)."""
    return _tag("workflow.scheduledTime")


def pod_name() -> str:
    return _tag("pod.name")


def contains_tag(text: str) -> bool:
    """Whether ``text`` holds the opening of an Argo tag.

    >>> contains_tag("echo {{x}}"), contains_tag("echo {x}")
    (True, False)
    """
    return "{{" in text


# Expression tags ({{=...}}) and the variables they read. Argo's docs ask for bracket access
# (names hold dashes); names passed in are Argo names, which never hold a quote.


def expression(expr: str) -> str:
    """An expression tag. The expression must not hold ``{{`` or ``}}`` (Argo pairs tags by
    their braces, with no escape syntax).

    >>> expression("inputs.parameters['n'] == '1'")
    "{{=inputs.parameters['n'] == '1'}}"
    """
    if "{{" in expr or "}}" in expr:
        raise ValueError(f"an expression tag cannot hold '{{{{' or '}}}}': {expr!r}")
    return "{{=" + expr + "}}"


def input_parameter_var(name: str) -> str:
    """An input parameter inside an expression.

    >>> input_parameter_var("x")
    "inputs.parameters['x']"
    """
    return f"inputs.parameters['{name}']"


def workflow_parameter_var(name: str) -> str:
    return f"workflow.parameters['{name}']"


def task_output_parameter_var(task: str, name: str) -> str:
    return f"tasks['{task}'].outputs.parameters['{name}']"


def optional_task_output_parameter_var(task: str, name: str) -> str:
    """A task's output parameter, nil (not an error) when the task set none: a loop over no
    items aggregates nothing."""
    return f"tasks['{task}']?.outputs?.parameters?.['{name}']"


def task_output_artifact_var(task: str, name: str) -> str:
    return f"tasks['{task}'].outputs.artifacts['{name}']"


def task_status_var(task: str) -> str:
    """The phase of a task's node: Succeeded, Failed, Error, Skipped, Omitted, ..."""
    return f"tasks['{task}'].status"


def node_name() -> str:
    """The name of the node running the template (``<parent node>.<task>`` in a DAG)."""
    return _tag("node.name")


def node_name_var() -> str:
    return "node.name"


def workflow_name_var() -> str:
    return "workflow.name"


def workflow_uid_var() -> str:
    return "workflow.uid"


def loop_item() -> str:
    """The current item of a ``withItems``/``withParam`` loop."""
    return _tag("item")


def loop_item_var() -> str:
    return "item"


def depends_completed(task: str) -> str:
    """A ``depends`` term true once ``task`` has finished, whatever its outcome."""
    return "(" + " || ".join(f"{task}.{result}" for result in ("Succeeded", "Failed", "Errored", "Skipped", "Omitted")) + ")"
