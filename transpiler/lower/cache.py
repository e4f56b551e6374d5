"""KFP caching (``cachingOptions.enableCache``) as Argo memoization, opt-in with ``--cache``.

The memoization key is ``kfp2argo-<identity>-<inputs>``: ``identity`` hashes the pipeline's name
(KFP's cache is per pipeline) and the whole container template as generated (image, command,
arguments, environment, resources, interface, retry policy; not its name) with the launcher it
runs, so any change to the component misses; ``inputs`` is the SHA-256 of the JSON list of the
template's input parameter values, computed by Argo when the task runs (``sprig.sha256sum``).
Argo accepts only ``[a-zA-Z0-9][-a-zA-Z0-9]*`` as a key, which is why values are hashed, never
spliced in. A task with a custom ``cacheKey`` gets ``kfp2argo-<digest>`` of the pipeline name,
the component name and that key, as KFP's driver ignores everything else for it.

A template with input artifacts is never memoized (unless it has a custom key): nothing in an
Argo template names an input artifact's content or location as text, so a key could not tell
two different inputs apart and a hit would restore outputs computed from other data. README
"Caching" lists how Argo's memoization differs from KFP's cache.
"""

from __future__ import annotations

import hashlib
import json

from hera.workflows import models as m

from transpiler import argo_expr, expr
from transpiler.analysis import Variant
from transpiler.options import Options

KEY_PREFIX = "kfp2argo"


def memoize(options: Options, template: m.Template, pipeline: str, component: str, variant: Variant,
            launcher: str | None) -> m.Memoize | None:
    """The ``memoize`` block for a container template, or None when it must not be cached.

    ``pipeline`` and ``component`` are the IR's names; ``launcher`` the launcher's source when the
    template runs it (it is not in the template itself)."""
    if not (options.cache and variant.enable_cache) or variant.collected:
        return None
    if variant.cache_key:
        text = key_from_cache_key(pipeline, component, variant.cache_key)
    elif _has_input_artifacts(template):
        return None
    else:
        text = key(template, pipeline, launcher)
    return m.Memoize(
        key=text,
        max_age=options.cache_max_age or "",
        cache=m.Cache(config_map=m.LocalObjectReference(name=options.cache_config_map)),
    )


def key(template: m.Template, pipeline: str, launcher: str | None = None) -> str:
    """Argo text of the memoization key of ``template`` (before its ``memoize`` is set)."""
    identity = template.model_dump(by_alias=True, exclude_none=True, mode="json", exclude={"name", "memoize"})
    scoped = [pipeline, identity, hashlib.sha256(launcher.encode("utf-8")).hexdigest() if launcher else None]
    digest = hashlib.sha256(json.dumps(scoped, sort_keys=True).encode("utf-8")).hexdigest()[:16]
    parameters = [p.name for p in (template.inputs.parameters or [])] if template.inputs else []
    if not parameters:
        return f"{KEY_PREFIX}-{digest}"
    values = [argo_expr.input_parameter_var(name) for name in parameters]
    return f"{KEY_PREFIX}-{digest}-" + argo_expr.expression(expr.digest_of_values(values))


def key_from_cache_key(pipeline: str, component: str, cache_key: str) -> str:
    """The key of a task with a custom ``cacheKey``: as KFP's driver makes its fingerprint
    (``getFingerPrint``: SHA-256 of the component name, a NUL and the key; inputs, image, command
    and arguments ignored), scoped by the pipeline name as KFP's cache lookup is."""
    digest = hashlib.sha256("\0".join((pipeline, component, cache_key)).encode("utf-8")).hexdigest()
    return f"{KEY_PREFIX}-{digest}"


def _has_input_artifacts(template: m.Template) -> bool:
    return bool(template.inputs and template.inputs.artifacts)
