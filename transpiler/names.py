"""Every Argo and Kubernetes name kfp2argo writes is decided here.

Rules (from Argo's validator and Kubernetes):

* template and DAG task names: lowercase DNS-1123 labels (``[a-z0-9]([-a-z0-9]*[a-z0-9])?``),
  at most 63 characters here (Argo allows 128, but template names become part of pod names),
  never starting with a digit and never an ``expr`` keyword (``depends`` is evaluated by expr
  after replacing ``-`` with ``_``, so names never contain ``_``);
* parameter and artifact names: ``[-a-zA-Z0-9_]+``;
* ``generateName``: a DNS-1123 subdomain prefix of at most 57 characters plus ``-``.

A name that had to be shortened gets a suffix of 8 hex digits of the SHA-256 of the original, so
it stays unique and stable. Names are assigned per scope by :class:`Namer`, which never gives two
originals the same name: a clash is resolved with the same hash suffix, deterministically.
"""

from __future__ import annotations

import hashlib
import re

MAX_DNS_LABEL = 63
MAX_GENERATE_NAME = 57
_INVALID_DNS = re.compile(r"[^a-z0-9-]+")
_DASHES = re.compile(r"-{2,}")
_INVALID_PARAM = re.compile(r"[^-a-zA-Z0-9_]+")
_EXPR_KEYWORDS = frozenset(
    "in not and or matches contains startswith endswith let if else true false nil".split()
)


# kfp2argo's mark on every manifest it writes (its value: the pipeline name); batch mode finds
# orphaned manifests by it.
OWNER_ANNOTATION = "kfp2argo.io/pipeline-name"


def short_hash(text: str) -> str:
    """Eight hex digits of the SHA-256 of ``text``.

    >>> short_hash("comp-train")
    '0c694c46'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def dns_label(original: str, max_length: int = MAX_DNS_LABEL) -> str:
    """A lowercase DNS-1123 label derived from ``original``; shortened with a hash if needed.

    >>> dns_label("Train_Model v2")
    'train-model-v2'
    >>> dns_label("1st-step")
    't-1st-step'
    >>> dns_label("in")
    'in-task'
    >>> len(dns_label("x" * 100))
    63
    """
    name = _DASHES.sub("-", _INVALID_DNS.sub("-", original.lower())).strip("-") or "x"
    if name[0].isdigit():
        name = "t-" + name
    if name.replace("-", "") in _EXPR_KEYWORDS or name in _EXPR_KEYWORDS:
        name += "-task"
    if len(name) > max_length:
        name = name[: max_length - 9].rstrip("-") + "-" + short_hash(original)
    return name


def parameter_name(original: str) -> str:
    """A valid Argo parameter or artifact name; unchanged when already valid.

    >>> parameter_name("pipelinechannel--train-Output")
    'pipelinechannel--train-Output'
    >>> parameter_name("a.b")
    'a-b-2e7336dc'
    """
    if original and not _INVALID_PARAM.search(original):
        return original
    return (_INVALID_PARAM.sub("-", original) or "p") + "-" + short_hash(original)


def generate_name(pipeline_name: str) -> str:
    """The workflow ``generateName`` for a pipeline name (with its trailing ``-``).

    >>> generate_name("My Pipeline")
    'my-pipeline-'
    """
    return dns_label(pipeline_name, MAX_GENERATE_NAME) + "-"


class Namer:
    """Assigns unique names within one scope (e.g. the templates of a workflow).

    >>> namer = Namer()
    >>> namer.assign("comp-a", "comp-a"), namer.assign("comp_a", "comp-a")
    ('comp-a', 'comp-a-8efa7697')
    >>> namer.assign("comp-a", "comp-a")
    'comp-a'
    """

    def __init__(self, max_length: int = MAX_DNS_LABEL) -> None:
        self.max_length = max_length
        self._by_key: dict[str, str] = {}
        self._taken: set[str] = set()

    def assign(self, key: str, wanted: str) -> str:
        """The name for ``key``, derived from ``wanted``; the same key always gets the same name."""
        if key in self._by_key:
            return self._by_key[key]
        name = wanted
        if name in self._taken:
            name = name[: self.max_length - 9].rstrip("-") + "-" + short_hash(key)
        if name in self._taken:
            raise ValueError(f"name collision for {key!r}: {name!r}")
        self._taken.add(name)
        self._by_key[key] = name
        return name

    def get(self, key: str) -> str:
        return self._by_key[key]


# --- names kfp2argo reserves ---------------------------------------------------------------------
#
# Every parameter, volume, environment variable and annotation kfp2argo adds to a manifest has
# its name from here. Reserved parameter names start with ``kfp2argo-``, which no IR name maps
# to: KFP's own names are Python identifiers and ``pipelinechannel--...``.

ITERATION_TASK = "iteration"  # the one task of a loop template, running the iteration template
LOOP_NODE_PARAMETER = "kfp2argo-loop-node"  # the loop's node name, from which iterations find their index
TASK_NAME_PARAMETER = "kfp2argo-task-name"  # {{$.pipeline_task_name}}: the IR task's display name
OUTPUTS_VOLUME = "kfp2argo-outputs"  # the emptyDir every output file is written to
LAUNCHER_ENV = "KFP2ARGO_LAUNCHER"  # the launcher's source, given to every container once
WORKSPACE_VOLUME = "kfp-workspace"  # KFP's own name for the run's workspace (a component may look for it)
ENABLE_CACHE_ANNOTATION = "kfp2argo.io/kfp-enable-cache"
ACCELERATOR_ANNOTATION = "kfp2argo.io/accelerator-type"


def metadata_parameter(artifact: str) -> str:
    """The parameter that carries an artifact's KFP metadata (wire-encoded JSON), or a list's manifest.

    >>> metadata_parameter("model")
    'kfp2argo-meta-model'
    """
    return "kfp2argo-meta-" + parameter_name(artifact)


def artifact_list_parameter(artifact: str) -> str:
    """The parameter that gives a container component ``{{$.inputs.artifacts['x']}}`` of a list."""
    return "kfp2argo-artifacts-" + parameter_name(artifact)


def collect_key_parameter(output: str) -> str:
    """The template input holding where an output goes: the key of a single artifact (container
    templates, DAGs that route one to the loop) or the prefix of a list (DAG templates)."""
    return "kfp2argo-collect-" + parameter_name(output)


def uri_parameter(artifact: str) -> str:
    """The input that gives a container component the original URI of an imported artifact."""
    return "kfp2argo-uri-" + parameter_name(artifact)


def platform_parameter(kind: str, index: int) -> str:
    """The input that carries the ``index``-th run-time platform value of a ``kind`` (secret,
    config-map, pvc, node-selector, ...) into a container template.

    >>> platform_parameter("secret", 0)
    'kfp2argo-secret-0'
    """
    return f"kfp2argo-{kind}-{index}"


def object_volume(kind: str, index: int) -> str:
    """The volume of the ``index``-th Secret or ConfigMap (``kind``) mounted by a template."""
    return f"kfp2argo-{dns_label(kind)}-volume-{index}"


def pvc_volume(index: int) -> str:
    return f"kfp2argo-pvc-volume-{index}"


def local_root_volume(root: str) -> str:
    """The emptyDir at one of KFP's local folders for remote URIs (``/gcs`` -> ``kfp2argo-gcs``)."""
    return "kfp2argo" + root.replace("/", "-")


def input_env(name: str) -> str:
    """The launcher's environment variable for an input parameter."""
    return "KFP2ARGO_IN_" + parameter_name(name)


def metadata_env(name: str) -> str:
    """The launcher's environment variable for an input artifact's metadata."""
    return "KFP2ARGO_META_" + parameter_name(name)


def placeholder_env(placeholder: str) -> str:
    """The launcher's environment variable for a job or task placeholder such as ``pipeline_job_name``."""
    return "KFP2ARGO_" + placeholder.upper()
