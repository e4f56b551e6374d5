// Command kfp2argo-sim runs one Argo Workflow on Argo's own workflow controller (the
// workflow/controller package of the pinned Argo module, started through its exported API as
// the workflow-controller binary starts it) against fake Kubernetes and Argo clientsets, and
// plays kubelet and executor for every pod the controller creates: each pod's main container
// command runs on the host, in a scratch directory of its own. It prints the workflow's final
// phase, every node's phase, inputs and outputs, and the contents of every output artifact, as
// JSON. See tools/argo-harness/README.md for what is simulated and how.
//
// Usage: kfp2argo-sim [flags] WORKFLOW.yaml   (- reads stdin)
//
// Exit status: 0 when the workflow finished (whatever its phase) and the report was printed;
// 1 when it did not finish within -timeout (the report says "timedOut": true); 2 on a usage or
// internal error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/klog/v2"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/util/logging"
	"github.com/argoproj/argo-workflows/v4/workflow/common"
	"github.com/argoproj/argo-workflows/v4/workflow/util"
)

// The controller reads DEFAULT_REQUEUE_TIME when its package is initialised, before main runs,
// so the simulator sets it by starting itself again with it. Pod and task-result events requeue
// the workflow after this delay (10s by default, for real clusters whose informers lag).
const requeueTime = "100ms"

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

type options struct {
	file       string
	parameters stringList
	env        stringList
	objects    stringList
	workDir    string
	artifacts  string
	keep       bool
	timeout    time.Duration
	podTimeout time.Duration
	logLevel   string
}

func main() {
	os.Exit(run())
}

func run() int {
	opts, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfp2argo-sim:", err)
		return 2
	}
	if err := controllerEnvironment(); err != nil {
		fmt.Fprintln(os.Stderr, "kfp2argo-sim:", err)
		return 2
	}
	report, err := simulate(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfp2argo-sim:", err)
		return 2
	}
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(report); err != nil {
		fmt.Fprintln(os.Stderr, "kfp2argo-sim:", err)
		return 2
	}
	if report.TimedOut {
		return 1
	}
	return 0
}

func parseFlags() (*options, error) {
	opts := &options{}
	flags := flag.NewFlagSet("kfp2argo-sim", flag.ContinueOnError)
	flags.Var(&opts.parameters, "p", "NAME=VALUE: a workflow parameter, as argo submit -p (repeatable)")
	flags.Var(&opts.env, "env", "NAME=VALUE: added to the environment every pod command starts from (repeatable)")
	flags.Var(&opts.objects, "objects", "FILE: Kubernetes objects (YAML) to create before the workflow, e.g. Secrets, ConfigMaps, PersistentVolumeClaims (repeatable)")
	flags.StringVar(&opts.artifacts, "artifacts", "", "the artifact repository's directory: objects are <dir>/<bucket>/<key> (default: <work>/artifacts); may hold objects beforehand")
	flags.StringVar(&opts.workDir, "work", "", "directory for the pods' scratch directories, volumes and the artifact repository (kept; default: a temporary directory, removed)")
	flags.BoolVar(&opts.keep, "keep", false, "keep the temporary work directory and print its path on stderr")
	flags.DurationVar(&opts.timeout, "timeout", 5*time.Minute, "time limit for the whole workflow")
	flags.DurationVar(&opts.podTimeout, "pod-timeout", 2*time.Minute, "time limit for one pod's command")
	flags.StringVar(&opts.logLevel, "log-level", "error", "level of the controller's log on stderr: debug, info, warn, error")
	if err := flags.Parse(os.Args[1:]); err != nil {
		return nil, err
	}
	if flags.NArg() != 1 {
		return nil, errors.New("usage: kfp2argo-sim [flags] WORKFLOW.yaml (- for stdin)")
	}
	opts.file = flags.Arg(0)
	return opts, nil
}

// controllerEnvironment sets the controller's environment knobs (documented Argo settings):
// DEFAULT_REQUEUE_TIME (see requeueTime) and INFORMER_WRITE_BACK=true (after each update the
// controller writes the workflow back to its informer instead of sleeping one second).
func controllerEnvironment() error {
	if _, set := os.LookupEnv("INFORMER_WRITE_BACK"); !set {
		if err := os.Setenv("INFORMER_WRITE_BACK", "true"); err != nil {
			return err
		}
	}
	if _, set := os.LookupEnv("DEFAULT_REQUEUE_TIME"); set {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	return syscall.Exec(self, os.Args, append(os.Environ(), "DEFAULT_REQUEUE_TIME="+requeueTime))
}

func simulate(opts *options) (*report, error) {
	level, err := logging.ParseLevel(opts.logLevel)
	if err != nil {
		return nil, err
	}
	if level != logging.Debug {
		klog.SetOutput(io.Discard)
		klog.LogToStderr(false)
	}
	ctx := logging.WithLogger(context.Background(), logging.NewSlogLoggerCustom(level, logging.Text, os.Stderr))
	wf, err := readWorkflow(ctx, opts)
	if err != nil {
		return nil, err
	}
	workDir, cleanup, err := workDirectory(opts)
	if err != nil {
		return nil, err
	}
	defer cleanup()

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	c := newCluster()
	k := &kubelet{
		cluster:    c,
		workDir:    workDir,
		repo:       &artifactRepo{dir: artifactDirectory(opts, workDir)},
		hostEnv:    hostEnvironment(opts.env),
		reserved:   reservedDirectories(),
		podTimeout: opts.podTimeout,
		running:    map[types.UID]context.CancelFunc{},
	}
	if err := k.run(ctx); err != nil {
		return nil, err
	}
	for _, file := range opts.objects {
		if err := createObjects(c, file); err != nil {
			return nil, err
		}
	}
	if err := startController(ctx, c); err != nil {
		return nil, err
	}
	if _, err := c.argo.ArgoprojV1alpha1().Workflows(wf.Namespace).Create(ctx, wf, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	timedOut, err := waitForCompletion(ctx, c, wf, opts.timeout)
	if err != nil {
		return nil, err
	}
	stop()
	k.wait()
	final, err := c.argo.ArgoprojV1alpha1().Workflows(wf.Namespace).Get(context.Background(), wf.Name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return buildReport(final, k, timedOut)
}

func readWorkflow(ctx context.Context, opts *options) (*wfv1.Workflow, error) {
	var data []byte
	var err error
	if opts.file == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(opts.file)
	}
	if err != nil {
		return nil, err
	}
	workflows, err := common.SplitWorkflowYAMLFile(ctx, data, true)
	if err != nil {
		return nil, err
	}
	if len(workflows) != 1 {
		return nil, fmt.Errorf("%s: expected one Workflow, found %d", opts.file, len(workflows))
	}
	wf := &workflows[0]
	if wf.Namespace == "" {
		wf.Namespace = namespace
	}
	if wf.Name == "" {
		if wf.GenerateName == "" {
			return nil, errors.New("the Workflow has neither metadata.name nor metadata.generateName")
		}
		wf.Name = wf.GenerateName + "sim"
	}
	// As `argo submit -p NAME=VALUE`.
	return wf, util.ApplySubmitOpts(wf, &wfv1.SubmitOpts{Parameters: opts.parameters})
}

func workDirectory(opts *options) (string, func(), error) {
	if opts.workDir != "" {
		dir, err := filepath.Abs(opts.workDir)
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		return dir, func() {}, err
	}
	dir, err := os.MkdirTemp("", "kfp2argo-sim-")
	if err != nil {
		return "", nil, err
	}
	if opts.keep {
		fmt.Fprintln(os.Stderr, "kfp2argo-sim: work directory", dir)
		return dir, func() {}, nil
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}

func artifactDirectory(opts *options, workDir string) string {
	if opts.artifacts != "" {
		if dir, err := filepath.Abs(opts.artifacts); err == nil {
			return dir
		}
	}
	return filepath.Join(workDir, "artifacts")
}

// hostEnvironment is what every pod command's environment starts from (a container image's
// environment is not simulated): the host's PATH and locale, pip kept off the network (a
// Python component's `pip install kfp==...` finds the packages already on PATH's Python), and
// the -env additions. The container's own env is added on top.
func hostEnvironment(extra []string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"LANG=C.UTF-8",
		"PIP_NO_INDEX=1",
		"PIP_DISABLE_PIP_VERSION_CHECK=1",
		"PYTHONDONTWRITEBYTECODE=1",
	}
	return append(env, extra...)
}

// reservedDirectories are host directories no pod path may shadow: PATH's.
func reservedDirectories() []string {
	var reserved []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if filepath.IsAbs(dir) {
			reserved = append(reserved, filepath.Clean(dir))
		}
	}
	return reserved
}

// waitForCompletion waits until the controller has finished the workflow (its phase is final
// and it is labelled completed). It reports whether the time limit ran out first.
func waitForCompletion(ctx context.Context, c *cluster, wf *wfv1.Workflow, timeout time.Duration) (bool, error) {
	w, err := c.argo.ArgoprojV1alpha1().Workflows(wf.Namespace).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + wf.Name})
	if err != nil {
		return false, err
	}
	defer w.Stop()
	limit := time.NewTimer(timeout)
	defer limit.Stop()
	for {
		select {
		case <-limit.C:
			return true, nil
		case e, open := <-w.ResultChan():
			if !open {
				return false, errors.New("the workflow watch ended")
			}
			if e.Type == watch.Deleted {
				return false, errors.New("the workflow was deleted")
			}
			if current, ok := e.Object.(*wfv1.Workflow); ok && current.Status.Fulfilled() &&
				current.Labels[common.LabelKeyCompleted] == "true" {
				return false, nil
			}
		}
	}
}
