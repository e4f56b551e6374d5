package main

// Volumes of the main container, as the kubelet would mount them: an emptyDir or an ephemeral
// volume is a directory of the pod; a PersistentVolumeClaim is a directory shared by every pod that mounts the claim;
// Secret and ConfigMap volumes are their keys as files. Argo's own volumes (the executor's and
// the input-artifact volume) are left out: the simulator plays those parts itself.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var argoVolumes = map[string]bool{
	"var-run-argo": true, "input-artifacts": true, "argo-env-config": true, "argo-staging": true, "tmp-dir-argo": true,
}

func userMounts(c *corev1.Container) []corev1.VolumeMount {
	var mounts []corev1.VolumeMount
	for _, m := range c.VolumeMounts {
		if !argoVolumes[m.Name] {
			mounts = append(mounts, m)
		}
	}
	return mounts
}

func (k *kubelet) mountVolumes(ctx context.Context, pod *corev1.Pod, mounts []corev1.VolumeMount, podFS *podFS) error {
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	for _, m := range mounts {
		v, ok := volumes[m.Name]
		if !ok {
			return fmt.Errorf("volume %q of mount %s not found in the pod", m.Name, m.MountPath)
		}
		if err := k.mount(ctx, pod, v, m, podFS.host(m.MountPath)); err != nil {
			return fmt.Errorf("volume %q: %w", m.Name, err)
		}
	}
	return nil
}

func (k *kubelet) mount(ctx context.Context, pod *corev1.Pod, v corev1.Volume, m corev1.VolumeMount, target string) error {
	switch {
	case v.EmptyDir != nil, v.Ephemeral != nil: // an ephemeral volume's claim lives and dies with the pod
		return os.MkdirAll(filepath.Join(target, m.SubPath), 0o777)
	case v.PersistentVolumeClaim != nil:
		claim := v.PersistentVolumeClaim.ClaimName
		if _, err := k.cluster.kube.CoreV1().PersistentVolumeClaims(pod.Namespace).Get(ctx, claim, metav1.GetOptions{}); err != nil {
			return err
		}
		shared := filepath.Join(k.workDir, "volumes", pod.Namespace, claim, m.SubPath)
		if err := os.MkdirAll(shared, 0o777); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.Symlink(shared, target)
	case v.Secret != nil:
		secret, err := k.cluster.kube.CoreV1().Secrets(pod.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
		if err != nil {
			if v.Secret.Optional != nil && *v.Secret.Optional {
				return os.MkdirAll(target, 0o755)
			}
			return err
		}
		return writeKeys(target, secret.Data, v.Secret.Items)
	case v.ConfigMap != nil:
		cm, err := k.cluster.kube.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
		if err != nil {
			if v.ConfigMap.Optional != nil && *v.ConfigMap.Optional {
				return os.MkdirAll(target, 0o755)
			}
			return err
		}
		data := map[string][]byte{}
		for key, value := range cm.Data {
			data[key] = []byte(value)
		}
		for key, value := range cm.BinaryData {
			data[key] = value
		}
		return writeKeys(target, data, v.ConfigMap.Items)
	}
	return fmt.Errorf("kfp2argo-sim: only emptyDir, ephemeral, persistentVolumeClaim, secret and configMap volumes are simulated")
}

// writeKeys writes every key as a file (or only the listed items, at their paths).
func writeKeys(dir string, data map[string][]byte, items []corev1.KeyToPath) error {
	files := map[string][]byte{}
	if len(items) == 0 {
		for key, value := range data {
			files[key] = value
		}
	}
	for _, item := range items {
		value, ok := data[item.Key]
		if !ok {
			return fmt.Errorf("key %q not found", item.Key)
		}
		files[item.Path] = value
	}
	for name, value := range files {
		target, err := insideDir(dir, name)
		if err == nil {
			err = os.MkdirAll(filepath.Dir(target), 0o755)
		}
		if err == nil {
			err = os.WriteFile(target, value, 0o644)
		}
		if err != nil {
			return err
		}
	}
	return os.MkdirAll(dir, 0o755)
}
