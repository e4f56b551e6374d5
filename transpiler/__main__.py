"""``python -m transpiler``: the same command line as ``kfp2argo``."""

from transpiler.cli import main

main()
