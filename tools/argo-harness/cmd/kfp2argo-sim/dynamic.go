package main

// Argo's controller builds a dynamic client from its rest.Config (NewWorkflowController has no
// parameter for one) and reads Workflows, WorkflowTemplates, ClusterWorkflowTemplates and
// CronWorkflows through informers on it. restTransport is the http.RoundTripper of that
// rest.Config: it answers the dynamic client's list, get and watch requests from the same store
// as Argo's fake clientset, so both views of the cluster agree. Nothing leaves the process.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/argoproj/argo-workflows/v4/pkg/apis/workflow"
)

const apiPrefix = "/apis/" + workflow.Group + "/v1alpha1/"

// argoKinds maps the resources the controller reads through its dynamic client to their kinds.
var argoKinds = map[string]string{
	workflow.WorkflowPlural:                workflow.WorkflowKind,
	workflow.WorkflowTemplatePlural:        workflow.WorkflowTemplateKind,
	workflow.ClusterWorkflowTemplatePlural: workflow.ClusterWorkflowTemplateKind,
	workflow.CronWorkflowPlural:            workflow.CronWorkflowKind,
}

// restConfigFor is the controller's rest.Config: requests go to the store, never to a network.
func restConfigFor(s *store) *rest.Config {
	return &rest.Config{Host: "http://kfp2argo-sim.invalid", Transport: &restTransport{store: s}}
}

type restTransport struct {
	store *store
}

func (t *restTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	ns, resource, name, ok := parseAPIPath(req.URL.Path)
	kind, known := argoKinds[resource]
	if !ok || !known || req.Method != http.MethodGet {
		return statusResponse(req, apierrors.NewMethodNotSupported(schema.GroupResource{Group: workflow.Group, Resource: resource},
			fmt.Sprintf("%s %s (kfp2argo-sim serves only get, list and watch of %s)", req.Method, req.URL.Path, strings.Join(slices.Sorted(maps.Keys(argoKinds)), ", "))))
	}
	gvr := schema.GroupVersionResource{Group: workflow.Group, Version: "v1alpha1", Resource: resource}
	gvk := gvr.GroupVersion().WithKind(kind)
	query := req.URL.Query()
	labelSelector, err := labels.Parse(query.Get("labelSelector"))
	if err != nil {
		return statusResponse(req, apierrors.NewBadRequest(err.Error()))
	}
	fieldSelector, err := fields.ParseSelector(query.Get("fieldSelector"))
	if err != nil {
		return statusResponse(req, apierrors.NewBadRequest(err.Error()))
	}
	switch {
	case name != "":
		obj, err := t.store.Get(gvr, ns, name)
		if err != nil {
			return statusResponse(req, err)
		}
		return jsonResponse(req, withKind(obj, gvk))
	case query.Get("watch") == "true" || query.Get("watch") == "1":
		return t.watch(req, gvr, gvk, ns, labelSelector, fieldSelector, query.Get("resourceVersion"))
	default:
		return t.list(req, gvr, gvk, ns, labelSelector, fieldSelector)
	}
}

func (t *restTransport) list(req *http.Request, gvr schema.GroupVersionResource, gvk schema.GroupVersionKind, ns string, labelSelector labels.Selector, fieldSelector fields.Selector) (*http.Response, error) {
	list, err := t.store.List(gvr, gvk, ns, metav1.ListOptions{LabelSelector: labelSelector.String(), FieldSelector: fieldSelector.String()})
	if err != nil {
		return statusResponse(req, err)
	}
	listMeta, _ := meta.ListAccessor(list)
	items, _ := meta.ExtractList(list)
	out := map[string]any{
		"apiVersion": gvk.GroupVersion().String(),
		"kind":       gvk.Kind + "List",
		"metadata":   map[string]any{"resourceVersion": listMeta.GetResourceVersion()},
		"items":      []any{},
	}
	for _, item := range items {
		out["items"] = append(out["items"].([]any), withKind(item, gvk))
	}
	return jsonResponse(req, out)
}

func (t *restTransport) watch(req *http.Request, gvr schema.GroupVersionResource, gvk schema.GroupVersionKind, ns string, labelSelector labels.Selector, fieldSelector fields.Selector, resourceVersion string) (*http.Response, error) {
	w, err := t.store.watch(gvr, ns, labelSelector, fieldSelector, resourceVersion)
	if err != nil {
		return statusResponse(req, err)
	}
	reader, writer := io.Pipe()
	go func() {
		defer w.Stop()
		encoder := json.NewEncoder(writer)
		for {
			select {
			case e, open := <-w.ResultChan():
				if !open {
					_ = writer.Close()
					return
				}
				if err := encoder.Encode(map[string]any{"type": e.Type, "object": withKind(e.Object, gvk)}); err != nil {
					return
				}
			case <-req.Context().Done():
				_ = writer.CloseWithError(req.Context().Err())
				return
			}
		}
	}()
	body := &watchBody{PipeReader: reader, stop: w.Stop}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: body, Request: req}, nil
}

type watchBody struct {
	*io.PipeReader
	stop func()
}

func (b *watchBody) Close() error {
	b.stop()
	return b.PipeReader.Close()
}

// parseAPIPath splits /apis/argoproj.io/v1alpha1/[namespaces/NS/]RESOURCE[/NAME].
func parseAPIPath(path string) (ns, resource, name string, ok bool) {
	rest, found := strings.CutPrefix(path, apiPrefix)
	if !found {
		return "", "", "", false
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) >= 2 && parts[0] == "namespaces" {
		ns, parts = parts[1], parts[2:]
	}
	switch len(parts) {
	case 1:
		return ns, parts[0], "", true
	case 2:
		return ns, parts[0], parts[1], true
	}
	return "", "", "", false
}

func withKind(obj runtime.Object, gvk schema.GroupVersionKind) runtime.Object {
	obj = obj.DeepCopyObject()
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return obj
}

func jsonResponse(req *http.Request, body any) (*http.Response, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(data)), Request: req}, nil
}

func statusResponse(req *http.Request, err error) (*http.Response, error) {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		status = apierrors.NewInternalError(err)
	}
	s := status.Status()
	s.APIVersion, s.Kind = "v1", "Status"
	data, _ := json.Marshal(s)
	return &http.Response{StatusCode: int(s.Code), Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(data)), Request: req}, nil
}
