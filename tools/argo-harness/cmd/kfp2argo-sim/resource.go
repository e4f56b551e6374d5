package main

// Resource templates: where Argo's executor runs `kubectl <action> -f manifest` (workflow/executor
// resource.go), the simulator applies the action to the simulated cluster's Kubernetes objects
// (any kind client-go's scheme knows, e.g. a PersistentVolumeClaim), then reads the output
// parameters' jsonPath from the object as `kubectl get -o jsonpath=...` does.
// Not simulated (the pod fails saying so): manifestFrom, success/failure conditions, jqFilter.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/util/jsonpath"
	"sigs.k8s.io/yaml"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
)

func (k *kubelet) runResource(ctx context.Context, pod *corev1.Pod, tmpl *wfv1.Template) podOutcome {
	if err := k.markRunning(ctx, pod); err != nil {
		return podOutcome{initErr: err}
	}
	reporter := newTaskResultReporter(k.cluster, pod)
	outcome := podOutcome{started: true}
	if err := reporter.initialize(ctx); err != nil {
		outcome.waitErrs = append(outcome.waitErrs, err)
	}
	outputs, err := k.applyResource(ctx, pod, tmpl)
	if err != nil {
		outcome.exitCode, outcome.mainMsg = 1, err.Error()
	} else if err := reporter.report(ctx, outputs); err != nil {
		outcome.exitCode, outcome.mainMsg = 1, err.Error()
	}
	if err := reporter.finalize(ctx); err != nil {
		outcome.waitErrs = append(outcome.waitErrs, err)
	}
	return outcome
}

func (k *kubelet) applyResource(ctx context.Context, pod *corev1.Pod, tmpl *wfv1.Template) (*wfv1.Outputs, error) {
	res := tmpl.Resource
	switch {
	case res.ManifestFrom != nil:
		return nil, fmt.Errorf("kfp2argo-sim: resource manifestFrom is not simulated")
	case res.SuccessCondition != "" || res.FailureCondition != "":
		return nil, fmt.Errorf("kfp2argo-sim: resource success and failure conditions are not simulated")
	}
	object, gvr, err := decodeManifest(res.Manifest, pod.Namespace)
	if err != nil {
		return nil, err
	}
	m, _ := meta.Accessor(object)
	ns, name := m.GetNamespace(), m.GetName()
	var result runtime.Object
	switch res.Action {
	case "create":
		result, err = k.cluster.kube.Invokes(k8stesting.NewCreateAction(gvr, ns, object), nil)
	case "apply":
		result, err = k.applyObject(gvr, ns, object)
	case "get":
		result, err = k.cluster.kube.Invokes(k8stesting.NewGetAction(gvr, ns, name), nil)
	case "delete":
		_, err = k.cluster.kube.Invokes(k8stesting.NewDeleteAction(gvr, ns, name), nil)
		if apierrors.IsNotFound(err) {
			err = nil // the executor runs kubectl delete --ignore-not-found
		}
		return tmpl.Outputs.DeepCopy(), err
	default:
		return nil, fmt.Errorf("kfp2argo-sim: resource action %q is not simulated", res.Action)
	}
	if err != nil {
		return nil, err
	}
	return resourceOutputs(tmpl, result)
}

func (k *kubelet) applyObject(gvr schema.GroupVersionResource, ns string, object runtime.Object) (runtime.Object, error) {
	m, _ := meta.Accessor(object)
	current, err := k.cluster.kube.Invokes(k8stesting.NewGetAction(gvr, ns, m.GetName()), nil)
	if apierrors.IsNotFound(err) {
		return k.cluster.kube.Invokes(k8stesting.NewCreateAction(gvr, ns, object), nil)
	}
	if err != nil {
		return nil, err
	}
	currentMeta, _ := meta.Accessor(current)
	m.SetResourceVersion(currentMeta.GetResourceVersion())
	return k.cluster.kube.Invokes(k8stesting.NewUpdateAction(gvr, ns, object), nil)
}

// decodeManifest reads a manifest into the typed object of its kind.
func decodeManifest(manifest, defaultNamespace string) (runtime.Object, schema.GroupVersionResource, error) {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		return nil, schema.GroupVersionResource{}, fmt.Errorf("resource manifest: %w", err)
	}
	return typedObject(u, defaultNamespace)
}

func typedObject(u *unstructured.Unstructured, defaultNamespace string) (runtime.Object, schema.GroupVersionResource, error) {
	gvk := u.GroupVersionKind()
	object, err := scheme.Scheme.New(gvk)
	if err != nil {
		return nil, schema.GroupVersionResource{}, fmt.Errorf("kfp2argo-sim: kind %s is not simulated: %w", gvk, err)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, object); err != nil {
		return nil, schema.GroupVersionResource{}, fmt.Errorf("%s: %w", gvk.Kind, err)
	}
	m, _ := meta.Accessor(object)
	if m.GetNamespace() == "" {
		m.SetNamespace(defaultNamespace)
	}
	gvr, _ := meta.UnsafeGuessKindToResource(gvk)
	return object, gvr, nil
}

// createObjects creates the Kubernetes objects of a YAML file (documents separated by ---) in
// the simulated cluster: the ConfigMaps, Secrets and PersistentVolumeClaims a workflow expects.
func createObjects(c *cluster, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := decoder.Decode(&u.Object); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		object, gvr, err := typedObject(u, namespace)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		m, _ := meta.Accessor(object)
		if _, err := c.kube.Invokes(k8stesting.NewCreateAction(gvr, m.GetNamespace(), object), nil); err != nil {
			return fmt.Errorf("%s: %s %s: %w", file, u.GetKind(), m.GetName(), err)
		}
	}
}

func resourceOutputs(tmpl *wfv1.Template, object runtime.Object) (*wfv1.Outputs, error) {
	outputs := tmpl.Outputs.DeepCopy()
	data, err := runtime.DefaultUnstructuredConverter.ToUnstructured(object)
	if err != nil {
		return nil, err
	}
	for i, p := range outputs.Parameters {
		switch {
		case p.ValueFrom == nil:
		case p.ValueFrom.JQFilter != "":
			return nil, fmt.Errorf("kfp2argo-sim: output parameter %s: jqFilter is not simulated", p.Name)
		case p.ValueFrom.JSONPath != "":
			value, err := evalJSONPath(p.ValueFrom.JSONPath, data)
			if err != nil {
				return nil, fmt.Errorf("output parameter %s: %w", p.Name, err)
			}
			outputs.Parameters[i].Value = wfv1.AnyStringPtr(value)
		}
	}
	return outputs, nil
}

func evalJSONPath(expression string, data map[string]any) (string, error) {
	if !strings.Contains(expression, "{") {
		expression = "{" + expression + "}" // kubectl accepts a bare path too
	}
	jp := jsonpath.New("output")
	if err := jp.Parse(expression); err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := jp.Execute(&out, data); err != nil {
		return "", err
	}
	return out.String(), nil
}
