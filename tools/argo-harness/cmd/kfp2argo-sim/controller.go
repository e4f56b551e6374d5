package main

// Argo's workflow controller, started through its exported API exactly as cmd/workflow-controller
// does (NewWorkflowController, then Run), on the simulated cluster. Only its configuration is the
// simulator's: an S3 artifact repository whose objects the executor keeps in a local directory,
// and no limit on the rate of pod creation.

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/argoproj/argo-workflows/v4/workflow/controller"
)

const (
	namespace      = "argo"
	configMapName  = "workflow-controller-configmap"
	artifactBucket = "kfp2argo-sim"
	executorImage  = "quay.io/argoproj/argoexec:v4.0.2"
)

// controllerConfig is the controller's ConfigMap (its `config` key).
const controllerConfig = `
artifactRepository:
  s3:
    bucket: ` + artifactBucket + `
    endpoint: artifacts.kfp2argo-sim.invalid:9000
    insecure: true
resourceRateLimit:
  limit: 1000
  burst: 1000
`

func startController(ctx context.Context, c *cluster) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: configMapName, Namespace: namespace},
		Data:       map[string]string{"config": controllerConfig},
	}
	if _, err := c.kube.CoreV1().ConfigMaps(namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		return err
	}
	wfc, err := controller.NewWorkflowController(ctx, restConfigFor(c.argoStore), c.kube, c.argo,
		namespace, "", executorImage, "", "text", configMapName, false)
	if err != nil {
		return err
	}
	go wfc.Run(ctx, 4, 1, 1, 1, 1)
	return nil
}
