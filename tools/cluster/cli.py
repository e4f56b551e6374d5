"""Command line of the cluster harness.

    cluster preflight   say whether this machine can run the cluster (exit 1 when it cannot)
    cluster build       build and cache every piece (no-op when cached)
    cluster up          start the single-node cluster (state in $KFP2ARGO_CLUSTER_STATE)
    cluster down        stop what `up` started, by recorded PID; remove its cgroups
    cluster status      what is running
    cluster env         shell lines: KUBECONFIG and the cache/state folders
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kfpcluster import build, config, node  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cluster", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build and cache every piece (no-op when cached)")
    b.add_argument("--only", nargs="*", help="only these steps (debs rootfs-python kubernetes argo minio images)")
    sub.add_parser("up", help="start the cluster")
    sub.add_parser("down", help="stop the cluster")
    sub.add_parser("status", help="what is running")
    sub.add_parser("preflight", help="can this machine run the cluster?")
    sub.add_parser("env", help="KUBECONFIG and folders, as shell assignments")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            print(json.dumps(build.build(args.only), indent=1))
        elif args.command == "preflight":
            problems = node.preflight()
            for p in problems:
                print(f"cannot run the cluster: {p}")
            if not problems:
                print("this machine can run the cluster")
            return 1 if problems else 0
        elif args.command == "up":
            times = node.Cluster().up()
            print(json.dumps({"up_seconds": times, "kubeconfig": str(node.Cluster().kubeconfig)}, indent=1))
        elif args.command == "down":
            left = node.Cluster().down()
            print(json.dumps(left, indent=1))
            return 1 if set(left) - {"seconds"} else 0
        elif args.command == "status":
            cluster = node.Cluster()
            print(json.dumps(cluster.status(), indent=1))
        elif args.command == "env":
            print(f"export KUBECONFIG={config.state_dir() / 'kubeconfig'}")
            print(f"KFP2ARGO_CLUSTER_CACHE={config.cache_dir()}")
            print(f"KFP2ARGO_CLUSTER_STATE={config.state_dir()}")
    except (build.BuildError, node.ClusterError) as e:
        print(f"cluster {args.command}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
