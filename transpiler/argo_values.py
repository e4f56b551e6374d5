"""Values checked against hera's models of Argo's types (config values, skeleton additions).

A value must be accepted by the model and keep every key through its round trip (a field the
model does not know would otherwise be dropped without a word), and enumerations Argo checks but
hera's models type as plain strings are checked here.
"""

from __future__ import annotations

from typing import Any

from transpiler.errors import pointer

MSG_CHOICE = "Expected one of {choices}, got {value!r}"
MSG_ARGO_FIELD = "{model} has no field {key!r}"
MSG_ARGO_VALUE = "Not a valid {model}: {problem}"

# Enumerations Argo checks but hera's models type as plain strings: model -> (field, choices).
ARGO_CHOICES = {
    "PodGC": ("strategy", ("OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess")),
}


def argo_object_problems(model_name: str, value: dict[str, Any], at: str) -> list[tuple[str, str]]:
    """Problems of a value as an Argo object: hera's model must accept it and keep every key."""
    import pydantic
    from hera.workflows import models

    model = getattr(models, model_name)
    try:
        parsed = model.model_validate(value)
    except pydantic.ValidationError as err:
        return [
            (MSG_ARGO_VALUE.format(model=model_name, problem=e["msg"]), at + pointer(*e["loc"]))
            for e in err.errors()
        ]
    kept = parsed.model_dump(by_alias=True, exclude_none=True, mode="json")
    problems = [(MSG_ARGO_FIELD.format(model=model_name, key=lost.rsplit("/", 1)[1]), at + lost) for lost in _lost_keys(value, kept)]
    choices = ARGO_CHOICES.get(model_name)
    if choices and value.get(choices[0]) not in (None, *choices[1]):
        problems.append((MSG_CHOICE.format(choices=", ".join(choices[1]), value=value[choices[0]]), at + pointer(choices[0])))
    return problems


def _lost_keys(given: Any, kept: Any, at: str = "") -> list[str]:
    """JSON pointers of keys in ``given`` that did not survive the model round trip."""
    lost: list[str] = []
    if isinstance(given, dict) and isinstance(kept, dict):
        for key, value in given.items():
            if key not in kept:
                lost.append(at + pointer(key))
            else:
                lost.extend(_lost_keys(value, kept[key], at + pointer(key)))
    elif isinstance(given, list) and isinstance(kept, list):
        for index, (a, b) in enumerate(zip(given, kept)):
            lost.extend(_lost_keys(a, b, at + pointer(index)))
    return lost
