package main

// The main container: its command runs on the host as Argo's emissary runs it in the container
// (a child process with the container's environment; exit code 64 when it cannot be started,
// 137 when it is killed), in the pod's scratch directory.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/argoproj/argo-workflows/v4/workflow/common"
)

const (
	emissaryErrorExitCode = 64
	killedExitCode        = 137
	logLimit              = 256 << 10
)

type mainRun struct {
	started    bool
	exitCode   int
	message    string // the main container's termination message
	reason     string // a pod-level failure: DeadlineExceeded, CreateContainerConfigError
	podMessage string
	stdout     string
	stderr     string
}

func (k *kubelet) runMain(ctx context.Context, pod *corev1.Pod, podFS *podFS, scratch string) mainRun {
	c := findContainer(pod, common.MainContainerName)
	if c == nil {
		return mainRun{started: true, exitCode: emissaryErrorExitCode, message: "kfp2argo-sim: the pod has no main container"}
	}
	env, err := k.containerEnv(ctx, pod, c)
	if err != nil {
		return mainRun{reason: "CreateContainerConfigError", podMessage: err.Error()}
	}
	values := map[string]string{}
	for _, e := range env {
		values[e.Name] = e.Value
	}
	lookup := func(name string) (string, bool) {
		v, ok := values[name]
		return v, ok
	}
	expanded := c.DeepCopy()
	for i := range expanded.Command {
		expanded.Command[i] = expandReferences(expanded.Command[i], lookup)
	}
	for i := range expanded.Args {
		expanded.Args[i] = expandReferences(expanded.Args[i], lookup)
	}
	argv, err := k.mainCommand(ctx, pod, expanded, env)
	if err != nil {
		return mainRun{started: true, exitCode: emissaryErrorExitCode, message: err.Error()}
	}
	for i := range argv {
		argv[i] = podFS.rewrite(argv[i])
	}
	processEnv := append(append([]string{}, k.hostEnv...),
		"HOME="+filepath.Join(podFS.root, "home"), "TMPDIR="+filepath.Join(podFS.root, "tmp"))
	for _, e := range env {
		processEnv = append(processEnv, e.Name+"="+podFS.rewrite(e.Value))
	}
	dir := podFS.root
	if c.WorkingDir != "" {
		dir = podFS.host(c.WorkingDir)
	}
	return k.runProcess(ctx, pod, argv, processEnv, dir, scratch)
}

func (k *kubelet) runProcess(ctx context.Context, pod *corev1.Pod, argv, env []string, dir, scratch string) mainRun {
	binary, err := lookPath(argv[0], envValue(env, "PATH"))
	if err != nil {
		return mainRun{started: true, exitCode: emissaryErrorExitCode, message: fmt.Sprintf("failed to find name in PATH: %v", err)}
	}
	stdoutFile, stderrFile := filepath.Join(scratch, "stdout"), filepath.Join(scratch, "stderr")
	stdout, err := os.Create(stdoutFile)
	if err != nil {
		return mainRun{started: true, exitCode: emissaryErrorExitCode, message: err.Error()}
	}
	defer stdout.Close()
	stderr, err := os.Create(stderrFile)
	if err != nil {
		return mainRun{started: true, exitCode: emissaryErrorExitCode, message: err.Error()}
	}
	defer stderr.Close()
	cmd := exec.Command(binary, argv[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return mainRun{started: true, exitCode: emissaryErrorExitCode, message: err.Error()}
	}
	if err := cmd.Start(); err != nil {
		return mainRun{started: true, exitCode: emissaryErrorExitCode, message: fmt.Sprintf("failed to start command: %v", err)}
	}
	run := mainRun{started: true}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	limit, limitMessage := k.deadline(pod)
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case err = <-done:
	case <-timer.C:
		killGroup(cmd)
		err = <-done
		run.reason, run.podMessage = "DeadlineExceeded", limitMessage
	case <-ctx.Done():
		killGroup(cmd)
		err = <-done
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && exitErr.ExitCode() >= 0:
		run.exitCode = exitErr.ExitCode()
	default:
		run.exitCode = killedExitCode
	}
	run.stdout, run.stderr = readLog(stdoutFile), readLog(stderrFile)
	return run
}

// deadline is how long the pod may run: its activeDeadlineSeconds, bounded by the simulator's
// own limit per pod.
func (k *kubelet) deadline(pod *corev1.Pod) (time.Duration, string) {
	limit := k.podTimeout
	message := fmt.Sprintf("kfp2argo-sim: the pod ran longer than the simulator allows (-pod-timeout %s)", k.podTimeout)
	if s := pod.Spec.ActiveDeadlineSeconds; s != nil && time.Duration(*s)*time.Second < limit {
		limit = time.Duration(*s) * time.Second
		message = "Pod was active on the node longer than the specified deadline"
	}
	return limit, message
}

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

func readLog(file string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > logLimit {
		_, _ = f.Seek(info.Size()-logLimit, io.SeekStart)
	}
	data, _ := io.ReadAll(f)
	return string(data)
}

// lookPath finds a command as exec.LookPath does, in the container's PATH.
func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		if isExecutable(name) {
			return name, nil
		}
		return "", fmt.Errorf("exec: %q: not an executable file", name)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		candidate := filepath.Join(dir, name)
		if isExecutable(candidate) {
			return candidate, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

func isExecutable(file string) bool {
	info, err := os.Stat(file)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}

func envValue(env []string, name string) string {
	value := ""
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			value = v
		}
	}
	return value
}

func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}
