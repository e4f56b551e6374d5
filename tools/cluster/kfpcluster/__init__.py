"""kfp2argo's real-cluster harness: build (build.py), start and stop (node.py) a single-node
Kubernetes with Argo, and talk to it (client.py). See tools/cluster/README.md."""
