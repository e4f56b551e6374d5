package main

// The simulated kubelet: it watches the pods Argo's controller creates and runs each one on the
// host (init: input artifacts; main: the container's command; wait: outputs reported as a
// WorkflowTaskResult), then sets the pod's status the way a kubelet does, so that the
// controller's own code decides what the pod's end means for the workflow.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/util/retry"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/workflow/common"
)

type kubelet struct {
	cluster    *cluster
	workDir    string
	repo       *artifactRepo
	hostEnv    []string // the environment every command starts from (PATH and the like)
	reserved   []string // host directories a pod path must not shadow
	podTimeout time.Duration

	mu       sync.Mutex
	running  map[types.UID]context.CancelFunc
	records  []podRecord
	stopping bool // no pod starts once wait has begun
	wg       sync.WaitGroup
}

// podRecord is what the report says about one pod.
type podRecord struct {
	Name     string `json:"name"`
	NodeID   string `json:"nodeID"`
	Image    string `json:"image,omitempty"` // the main container's image, as Argo wrote it
	Phase    string `json:"phase"`
	ExitCode *int   `json:"exitCode,omitempty"`
	Message  string `json:"message,omitempty"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
}

// run plays kubelet for every pod until ctx ends.
func (k *kubelet) run(ctx context.Context) error {
	w, err := k.cluster.kube.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	go func() {
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, open := <-w.ResultChan():
				if !open {
					return
				}
				pod, ok := e.Object.(*corev1.Pod)
				if !ok {
					continue
				}
				switch e.Type {
				case watch.Added:
					k.start(ctx, pod)
				case watch.Deleted:
					k.kill(pod.UID)
				}
			}
		}
	}()
	return nil
}

func (k *kubelet) start(ctx context.Context, pod *corev1.Pod) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, seen := k.running[pod.UID]; seen || k.stopping || pod.Status.Phase != corev1.PodPending {
		return
	}
	podCtx, cancel := context.WithCancel(ctx)
	k.running[pod.UID] = cancel
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		defer cancel()
		record := k.runPod(podCtx, pod)
		k.mu.Lock()
		k.records = append(k.records, record)
		k.mu.Unlock()
	}()
}

func (k *kubelet) kill(uid types.UID) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if cancel, ok := k.running[uid]; ok {
		cancel()
	}
}

// wait waits for the pods that are running to end (run's context ends them) and starts no more.
func (k *kubelet) wait() {
	k.mu.Lock()
	k.stopping = true
	k.mu.Unlock()
	k.wg.Wait()
}

// podOutcome is how each container of a pod ended.
type podOutcome struct {
	initErr  error  // the init container failed (input artifacts)
	started  bool   // the main container started
	exitCode int    // of the main container
	mainMsg  string // termination message of the main container
	waitErrs []error
	reason   string // pod-level failure (e.g. DeadlineExceeded), with message
	message  string
}

func (k *kubelet) runPod(ctx context.Context, pod *corev1.Pod) podRecord {
	record := podRecord{Name: pod.Name, NodeID: pod.Annotations[common.AnnotationKeyNodeID]}
	for _, container := range pod.Spec.Containers {
		if container.Name == common.MainContainerName {
			record.Image = container.Image
		}
	}
	scratch := filepath.Join(k.workDir, "pods", pod.Name)
	startedAt := metav1.Now()
	outcome := k.execute(ctx, pod, scratch, &record)
	if ctx.Err() != nil && outcome.reason == "" {
		// The pod was deleted, or the simulation ended, while it ran: no status to report.
		record.Phase = "Stopped"
		return record
	}
	phase := k.finish(context.WithoutCancel(ctx), pod, startedAt, outcome)
	record.Phase = string(phase)
	if outcome.started {
		code := outcome.exitCode
		record.ExitCode = &code
	}
	record.Message = firstMessage(outcome)
	return record
}

func firstMessage(o podOutcome) string {
	switch {
	case o.message != "":
		return o.message
	case o.initErr != nil:
		return o.initErr.Error()
	case len(o.waitErrs) > 0:
		return o.waitErrs[0].Error()
	}
	return o.mainMsg
}

// execute runs the pod's containers in order and reports how they ended.
func (k *kubelet) execute(ctx context.Context, pod *corev1.Pod, scratch string, record *podRecord) podOutcome {
	tmpl, err := k.template(ctx, pod)
	if err != nil {
		return podOutcome{initErr: err}
	}
	if tmpl.GetType() == wfv1.TemplateTypeResource {
		return k.runResource(ctx, pod, tmpl)
	}
	if tmpl.GetType() != wfv1.TemplateTypeContainer {
		return podOutcome{initErr: fmt.Errorf("kfp2argo-sim: %s templates are not simulated", tmpl.GetType())}
	}
	if len(tmpl.Sidecars) > 0 || len(tmpl.InitContainers) > 0 {
		return podOutcome{initErr: fmt.Errorf("kfp2argo-sim: sidecars and init containers of templates are not simulated")}
	}
	main := findContainer(pod, common.MainContainerName)
	if main == nil {
		return podOutcome{initErr: errors.New("kfp2argo-sim: the pod has no main container")}
	}
	mounts := userMounts(main)
	podFS, err := newPodFS(filepath.Join(scratch, "root"), podPaths(tmpl, mounts, main.WorkingDir), k.reserved)
	if err == nil {
		err = podFS.prepare()
	}
	if err == nil {
		err = k.mountVolumes(ctx, pod, mounts, podFS)
	}
	if err == nil {
		err = loadInputArtifacts(k.repo, tmpl, podFS)
	}
	if err != nil {
		return podOutcome{initErr: err}
	}
	if err := k.markRunning(ctx, pod); err != nil {
		return podOutcome{initErr: err}
	}
	reporter := newTaskResultReporter(k.cluster, pod)
	outcome := podOutcome{}
	if err := reporter.initialize(ctx); err != nil {
		outcome.waitErrs = append(outcome.waitErrs, err)
	}
	run := k.runMain(ctx, pod, podFS, scratch)
	record.Stdout, record.Stderr = run.stdout, run.stderr
	outcome.started, outcome.exitCode, outcome.mainMsg = run.started, run.exitCode, run.message
	outcome.reason, outcome.message = run.reason, run.podMessage
	if ctx.Err() != nil && run.reason == "" {
		return outcome
	}
	outputs, errs := collectOutputs(ctx, k.repo, tmpl, podFS, scratch, run.stdout, includeScriptOutput(pod))
	outcome.waitErrs = append(outcome.waitErrs, errs...)
	if err := reporter.report(ctx, outputs); err != nil {
		outcome.waitErrs = append(outcome.waitErrs, err)
	}
	if err := reporter.finalize(ctx); err != nil {
		outcome.waitErrs = append(outcome.waitErrs, err)
	}
	return outcome
}

// template is the template Argo passes to its executor (ARGO_TEMPLATE of the init container,
// or the pod's ConfigMap when it was too large for an environment variable).
func (k *kubelet) template(ctx context.Context, pod *corev1.Pod) (*wfv1.Template, error) {
	var text string
	for _, c := range pod.Spec.InitContainers {
		for _, e := range c.Env {
			if e.Name == common.EnvVarTemplate {
				text = e.Value
			}
		}
	}
	if text == common.EnvVarTemplateOffloaded {
		value, err := k.offloaded(ctx, pod, common.EnvVarTemplate)
		if err != nil {
			return nil, err
		}
		text = value
	}
	if text == "" {
		return nil, fmt.Errorf("kfp2argo-sim: pod %s has no %s", pod.Name, common.EnvVarTemplate)
	}
	tmpl := &wfv1.Template{}
	if err := json.Unmarshal([]byte(text), tmpl); err != nil {
		return nil, fmt.Errorf("kfp2argo-sim: %s of pod %s: %w", common.EnvVarTemplate, pod.Name, err)
	}
	return tmpl, nil
}

func (k *kubelet) offloaded(ctx context.Context, pod *corev1.Pod, key string) (string, error) {
	cm, err := k.cluster.kube.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("offloaded %s of pod %s: %w", key, pod.Name, err)
	}
	value, ok := cm.Data[key]
	if !ok {
		return "", fmt.Errorf("offloaded %s of pod %s: ConfigMap has no key %s", key, pod.Name, key)
	}
	return value, nil
}

func includeScriptOutput(pod *corev1.Pod) bool {
	for _, c := range pod.Spec.Containers {
		if c.Name == common.MainContainerName {
			for _, e := range c.Env {
				if e.Name == common.EnvVarIncludeScriptOutput {
					return e.Value == "true"
				}
			}
		}
	}
	return false
}

// markRunning reports the init container done and the others running.
func (k *kubelet) markRunning(ctx context.Context, pod *corev1.Pod) error {
	now := metav1.Now()
	return k.updateStatus(ctx, pod, func(status *corev1.PodStatus) {
		status.Phase = corev1.PodRunning
		status.StartTime = &now
		status.InitContainerStatuses = containerStatuses(pod.Spec.InitContainers, func(string) corev1.ContainerState {
			return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: now, FinishedAt: now}}
		})
		status.ContainerStatuses = containerStatuses(pod.Spec.Containers, func(string) corev1.ContainerState {
			return corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
		})
	})
}

// finish sets the pod's final status from the outcome and returns its phase.
func (k *kubelet) finish(ctx context.Context, pod *corev1.Pod, startedAt metav1.Time, o podOutcome) corev1.PodPhase {
	now := metav1.Now()
	phase := corev1.PodSucceeded
	if o.initErr != nil || o.reason != "" || o.exitCode != 0 || len(o.waitErrs) > 0 {
		phase = corev1.PodFailed
	}
	err := k.updateStatus(ctx, pod, func(status *corev1.PodStatus) {
		status.Phase = phase
		status.Reason, status.Message = o.reason, o.message
		if status.StartTime == nil {
			status.StartTime = &startedAt
		}
		status.InitContainerStatuses = containerStatuses(pod.Spec.InitContainers, func(name string) corev1.ContainerState {
			if o.initErr != nil && name == common.InitContainerName {
				return terminated(1, o.initErr.Error(), startedAt, now)
			}
			return terminated(0, "", startedAt, now)
		})
		status.ContainerStatuses = containerStatuses(pod.Spec.Containers, func(name string) corev1.ContainerState {
			if o.initErr != nil {
				return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}
			}
			switch name {
			case common.MainContainerName:
				return terminated(o.exitCode, o.mainMsg, startedAt, now)
			case common.WaitContainerName:
				if len(o.waitErrs) > 0 {
					return terminated(1, o.waitErrs[0].Error(), startedAt, now)
				}
			}
			return terminated(0, "", startedAt, now)
		})
	})
	if err != nil && !apierrors.IsNotFound(err) {
		fmt.Fprintf(os.Stderr, "kfp2argo-sim: pod %s: status not reported: %v\n", pod.Name, err)
	}
	return phase
}

func terminated(exitCode int, message string, startedAt, finishedAt metav1.Time) corev1.ContainerState {
	reason := "Completed"
	if exitCode != 0 {
		reason = "Error"
	}
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: int32(exitCode), Reason: reason, Message: message, StartedAt: startedAt, FinishedAt: finishedAt,
	}}
}

func containerStatuses(containers []corev1.Container, state func(name string) corev1.ContainerState) []corev1.ContainerStatus {
	statuses := make([]corev1.ContainerStatus, 0, len(containers))
	for _, c := range containers {
		s := state(c.Name)
		statuses = append(statuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, State: s, Ready: s.Running != nil, Started: ptrTo(s.Running != nil),
		})
	}
	return statuses
}

func ptrTo[T any](v T) *T {
	return &v
}

func (k *kubelet) updateStatus(ctx context.Context, pod *corev1.Pod, mutate func(*corev1.PodStatus)) error {
	pods := k.cluster.kube.CoreV1().Pods(pod.Namespace)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if current.UID != pod.UID {
			return apierrors.NewNotFound(corev1.Resource("pods"), pod.Name)
		}
		mutate(&current.Status)
		_, err = pods.UpdateStatus(ctx, current, metav1.UpdateOptions{})
		return err
	})
}

// mainCommand is the main container's command as Argo's emissary runs it: what follows the
// `argoexec emissary ... --` the controller puts in front, then the args (from the pod's
// ConfigMap when they were too large).
func (k *kubelet) mainCommand(ctx context.Context, pod *corev1.Pod, c *corev1.Container, env []corev1.EnvVar) ([]string, error) {
	command := c.Command
	if len(command) < 2 || !strings.HasSuffix(command[0], "/argoexec") || command[1] != "emissary" {
		return nil, fmt.Errorf("kfp2argo-sim: main container command %q is not Argo's emissary", strings.Join(command, " "))
	}
	separator := -1
	for i, arg := range command {
		if arg == "--" {
			separator = i
			break
		}
	}
	if separator < 0 || separator == len(command)-1 {
		return nil, errors.New("kfp2argo-sim: no command after the emissary's --")
	}
	argv := append(append([]string{}, command[separator+1:]...), c.Args...)
	for _, e := range env {
		if e.Name == common.EnvVarContainerArgsFile {
			text, err := k.offloaded(ctx, pod, common.EnvVarContainerArgsFile)
			if err != nil {
				return nil, err
			}
			var more []string
			if err := json.Unmarshal([]byte(text), &more); err != nil {
				return nil, fmt.Errorf("failed to unmarshal container args: %w", err)
			}
			argv = append(argv, more...)
		}
	}
	return argv, nil
}
