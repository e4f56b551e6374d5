"""KFP caching (``cachingOptions.enableCache``) as Argo memoization, opt-in with ``--cache``.

The memoization key is ``kfp2argo-<identity>-<inputs>``: ``identity`` hashes the whole container
template as generated (image, command, arguments with the embedded launcher, environment,
resources, interface, retry policy; not its name), so any change to the component misses;
``inputs`` is the SHA-256 of the JSON list of the template's input parameter values, computed by
Argo when the task runs (``sprig.sha256sum``). Argo accepts only ``[a-zA-Z0-9][-a-zA-Z0-9]*`` as a
key, which is why values are hashed, never spliced in.

A template with input artifacts is never memoized: nothing in an Argo template names an input
artifact's content or location as text, so a key could not tell two different inputs apart and a
hit would restore outputs computed from other data. README "Caching" lists how Argo's
memoization differs from KFP's cache.
"""

from __future__ import annotations

import hashlib
import json

from hera.workflows import models as m

from transpiler import argo_expr, expr
from transpiler.options import Options

KEY_PREFIX = "kfp2argo"


def memoize(options: Options, template: m.Template, enable_cache: bool) -> m.Memoize | None:
    """The ``memoize`` block for a container template, or None when it must not be cached."""
    if not (options.cache and enable_cache) or _has_input_artifacts(template):
        return None
    return m.Memoize(
        key=key(template),
        max_age=options.cache_max_age or "",
        cache=m.Cache(config_map=m.LocalObjectReference(name=options.cache_config_map)),
    )


def key(template: m.Template) -> str:
    """Argo text of the memoization key of ``template`` (before its ``memoize`` is set)."""
    identity = template.model_dump(by_alias=True, exclude_none=True, mode="json", exclude={"name", "memoize"})
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()[:16]
    parameters = [p.name for p in (template.inputs.parameters or [])] if template.inputs else []
    if not parameters:
        return f"{KEY_PREFIX}-{digest}"
    values = [argo_expr.input_parameter_var(name) for name in parameters]
    return f"{KEY_PREFIX}-{digest}-" + argo_expr.expression(expr.digest_of_values(values))


def _has_input_artifacts(template: m.Template) -> bool:
    return bool(template.inputs and template.inputs.artifacts)

