package main

// What the kubelet does to a container's environment, command and arguments before the
// container starts: env values come from `value` or `valueFrom`, and `$(NAME)` references in
// env values, command and args are expanded (Kubernetes documents this in "Define a Command and
// Arguments for a Container" and "Define Dependent Environment Variables").

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// expandReferences applies Kubernetes' `$(NAME)` expansion: `$(NAME)` becomes the value of a
// defined variable and stays as it is otherwise, `$$` becomes `$`, any other `$` is kept.
func expandReferences(text string, lookup func(string) (string, bool)) string {
	var out strings.Builder
	for i := 0; i < len(text); i++ {
		if text[i] != '$' || i+1 == len(text) {
			out.WriteByte(text[i])
			continue
		}
		switch next := text[i+1]; next {
		case '$':
			out.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(text[i+2:], ')')
			if end < 0 {
				out.WriteString("$(")
				i++
				continue
			}
			name := text[i+2 : i+2+end]
			if value, ok := lookup(name); ok {
				out.WriteString(value)
			} else {
				out.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			out.WriteByte('$')
			out.WriteByte(next)
			i++
		}
	}
	return out.String()
}

// containerEnv resolves a container's environment in order; each value may refer to the
// variables defined before it.
func (k *kubelet) containerEnv(ctx context.Context, pod *corev1.Pod, c *corev1.Container) ([]corev1.EnvVar, error) {
	if len(c.EnvFrom) > 0 {
		return nil, fmt.Errorf("kfp2argo-sim: envFrom is not simulated (container %q)", c.Name)
	}
	defined := map[string]string{}
	var env []corev1.EnvVar
	for _, e := range c.Env {
		value := e.Value
		if e.ValueFrom != nil {
			v, err := k.envValueFrom(ctx, pod, e)
			if err != nil {
				return nil, err
			}
			value = v
		} else {
			value = expandReferences(value, func(name string) (string, bool) {
				v, ok := defined[name]
				return v, ok
			})
		}
		defined[e.Name] = value
		env = append(env, corev1.EnvVar{Name: e.Name, Value: value})
	}
	return env, nil
}

func (k *kubelet) envValueFrom(ctx context.Context, pod *corev1.Pod, e corev1.EnvVar) (string, error) {
	from := e.ValueFrom
	switch {
	case from.FieldRef != nil:
		return podField(pod, from.FieldRef.FieldPath)
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		cm, err := k.cluster.kube.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err == nil {
			if v, ok := cm.Data[ref.Key]; ok {
				return v, nil
			}
		}
		if ref.Optional != nil && *ref.Optional {
			return "", nil
		}
		return "", fmt.Errorf("configmap %q key %q for env %s not found", ref.Name, ref.Key, e.Name)
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		secret, err := k.cluster.kube.CoreV1().Secrets(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err == nil {
			if v, ok := secret.Data[ref.Key]; ok {
				return string(v), nil
			}
		}
		if ref.Optional != nil && *ref.Optional {
			return "", nil
		}
		return "", fmt.Errorf("secret %q key %q for env %s not found", ref.Name, ref.Key, e.Name)
	}
	return "", fmt.Errorf("kfp2argo-sim: env %s: this valueFrom is not simulated", e.Name)
}

func podField(pod *corev1.Pod, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return pod.Status.PodIP, nil
	case "status.hostIP":
		return pod.Status.HostIP, nil
	}
	for prefix, values := range map[string]map[string]string{"metadata.labels": pod.Labels, "metadata.annotations": pod.Annotations} {
		if key, ok := strings.CutPrefix(path, prefix+"['"); ok && strings.HasSuffix(key, "']") {
			return values[strings.TrimSuffix(key, "']")], nil
		}
	}
	return "", fmt.Errorf("kfp2argo-sim: fieldRef %s is not simulated", path)
}
