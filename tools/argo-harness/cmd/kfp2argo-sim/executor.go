package main

// The wait container: output parameters, script result and output artifacts collected as
// Argo's executor does (workflow/executor: SaveParameters, CaptureScriptResult, SaveArtifacts),
// and reported to the controller as a WorkflowTaskResult named after the node
// (workflow/executor/taskresult.go: created with report-outputs-completed=false, patched with
// the outputs, then labelled report-outputs-completed=true).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/argoproj/argo-workflows/v4/pkg/apis/workflow"
	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/workflow/common"
)

// maxResultSize is the part of stdout kept as outputs.result (the executor keeps the last 256 kB).
const maxResultSize = 256 << 10

// collectOutputs returns the template's outputs with their values and the errors met.
func collectOutputs(ctx context.Context, repo *artifactRepo, tmpl *wfv1.Template, podFS *podFS, scratch, stdout string, includeResult bool) (*wfv1.Outputs, []error) {
	outputs := tmpl.Outputs.DeepCopy()
	var errs []error
	if includeResult {
		result := strings.TrimSuffix(stdout, "\n")
		if len(result) > maxResultSize {
			result = result[len(result)-maxResultSize:]
		}
		outputs.Result = &result
	}
	for i, p := range outputs.Parameters {
		if p.ValueFrom == nil || p.ValueFrom.Path == "" {
			continue
		}
		data, err := os.ReadFile(podFS.host(p.ValueFrom.Path))
		var value *wfv1.AnyString
		switch {
		case err == nil:
			value = wfv1.AnyStringPtr(string(data))
		case p.ValueFrom.Default != nil:
			value = p.ValueFrom.Default
		default:
			errs = append(errs, fmt.Errorf("open %s: no such file or directory", p.ValueFrom.Path))
			continue
		}
		outputs.Parameters[i].Value = wfv1.AnyStringPtr(strings.TrimSuffix(value.String(), "\n"))
	}
	saved, err := saveOutputArtifacts(ctx, repo, tmpl, podFS, scratch)
	if err != nil {
		errs = append(errs, err)
	}
	outputs.Artifacts = saved
	return outputs, errs
}

type taskResultReporter struct {
	cluster  *cluster
	pod      *corev1.Pod
	nodeID   string
	workflow string
	uid      types.UID
}

func newTaskResultReporter(c *cluster, pod *corev1.Pod) *taskResultReporter {
	r := &taskResultReporter{cluster: c, pod: pod, nodeID: pod.Annotations[common.AnnotationKeyNodeID], workflow: pod.Labels[common.LabelKeyWorkflow]}
	for _, owner := range pod.OwnerReferences {
		if owner.Kind == workflow.WorkflowKind {
			r.uid = owner.UID
		}
	}
	return r
}

func (r *taskResultReporter) initialize(ctx context.Context) error {
	result := &wfv1.WorkflowTaskResult{
		TypeMeta: metav1.TypeMeta{APIVersion: workflow.APIVersion, Kind: workflow.WorkflowTaskResultKind},
		ObjectMeta: metav1.ObjectMeta{
			Name:   r.nodeID,
			Labels: map[string]string{common.LabelKeyWorkflow: r.workflow, common.LabelKeyReportOutputsCompleted: "false"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: workflow.APIVersion, Kind: workflow.WorkflowKind, Name: r.workflow, UID: r.uid,
			}},
		},
	}
	_, err := r.cluster.argo.ArgoprojV1alpha1().WorkflowTaskResults(r.pod.Namespace).Create(ctx, result, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (r *taskResultReporter) report(ctx context.Context, outputs *wfv1.Outputs) error {
	return r.patch(ctx, &wfv1.WorkflowTaskResult{NodeResult: wfv1.NodeResult{Outputs: outputs}})
}

func (r *taskResultReporter) finalize(ctx context.Context) error {
	return r.patch(ctx, &wfv1.WorkflowTaskResult{ObjectMeta: metav1.ObjectMeta{
		Labels: map[string]string{common.LabelKeyReportOutputsCompleted: "true"},
	}})
}

func (r *taskResultReporter) patch(ctx context.Context, result *wfv1.WorkflowTaskResult) error {
	data, err := json.Marshal(result)
	if err != nil {
		return err
	}
	_, err = r.cluster.argo.ArgoprojV1alpha1().WorkflowTaskResults(r.pod.Namespace).Patch(ctx, r.nodeID, types.MergePatchType, data, metav1.PatchOptions{})
	return err
}
