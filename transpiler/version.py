"""The kfp2argo version (one place, read by the package, the CLI and the skeleton)."""

__version__ = "0.1.0"
