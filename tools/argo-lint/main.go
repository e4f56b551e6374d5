// Command argo-lint checks Argo Workflows manifests the way `argo lint --offline` (strict)
// does, using Argo's own Go packages, and additionally validates them against Argo's full
// CRDs the way the Kubernetes API server does on submit.
//
// Usage: argo-lint [-v] PATH...
//
// PATHs are files or directories (walked for .yaml, .yml and .json, as argo lint does). All
// WorkflowTemplates and ClusterWorkflowTemplates found in the PATHs resolve
// workflowTemplateRef/templateRef. Documents of other kinds (ConfigMap, PVC,
// WorkflowEventBinding, ...) are skipped.
//
// Output: one line per problem, "FILE: KIND/NAME: MESSAGE"; CRD problems have a message
// starting with "CRD: ". Exit status 0 when there is no problem, 1 when there is one, 2 on a
// usage or internal error.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/argoproj/argo-workflows/v4/cmd/argo/lint"
	"github.com/argoproj/argo-workflows/v4/pkg/apiclient"
	wf "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow"
	fileutil "github.com/argoproj/argo-workflows/v4/util/file"
	jsonpkg "github.com/argoproj/argo-workflows/v4/util/json"
	"github.com/argoproj/argo-workflows/v4/util/logging"
	"github.com/argoproj/argo-workflows/v4/workflow/common"
)

// lintedKinds are the kinds `argo lint` checks (its default --kinds=all).
var lintedKinds = map[string]bool{
	wf.WorkflowKind:                true,
	wf.WorkflowTemplateKind:        true,
	wf.ClusterWorkflowTemplateKind: true,
	wf.CronWorkflowKind:            true,
}

// yamlSeparator splits documents exactly as workflow/common.ParseObjects does.
var yamlSeparator = regexp.MustCompile(`\n---`)

// lintErr matches the "in <object>: " prefix that cmd/argo/lint puts on each error.
var lintErr = regexp.MustCompile(`(?s)^in "(.*)" \(([A-Za-z]+)\): (.*)$`)

type problem struct{ obj, msg string }

type report struct {
	order    []string
	problems map[string][]problem
}

func (r *report) add(file, obj, msg string) {
	if _, ok := r.problems[file]; !ok {
		r.order = append(r.order, file)
	}
	r.problems[file] = append(r.problems[file], problem{obj, oneLine(msg)})
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func main() {
	verbose := flag.Bool("v", false, "log Argo's debug messages to stderr")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: argo-lint [-v] PATH...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	var logger logging.Logger
	if *verbose {
		logger = logging.NewSlogLoggerCustom(logging.Debug, logging.Text, os.Stderr)
	} else {
		logger = logging.NewSlogLoggerCustom(logging.Error, logging.Text, io.Discard)
	}
	ctx := logging.WithLogger(context.Background(), logger)

	rep := &report{problems: map[string][]problem{}}
	n, err := run(ctx, flag.Args(), rep)
	if err != nil {
		fmt.Fprintln(os.Stderr, "argo-lint:", err)
		os.Exit(2)
	}
	if n == 0 {
		rep.add("argo-lint", "-", "found nothing to lint in the specified paths (no Workflow, WorkflowTemplate, ClusterWorkflowTemplate or CronWorkflow)")
	}
	var out bytes.Buffer
	count := 0
	for _, f := range rep.order {
		for _, p := range rep.problems[f] {
			fmt.Fprintf(&out, "%s: %s: %s\n", f, p.obj, p.msg)
			count++
		}
	}
	os.Stdout.Write(out.Bytes())
	if count > 0 {
		os.Exit(1)
	}
}

type document struct{ kind, namespace, name string }

// run lints paths and returns the number of Argo objects seen.
func run(ctx context.Context, paths []string, rep *report) (int, error) {
	// Pass 1: our own checks per document: YAML validity, duplicate keys (argo lint's strict
	// parser drops such a document silently) and the CRD schema. It also picks the files the
	// offline client can load.
	var offlineFiles []string
	templates := map[string]string{} // "namespace/name" or "cluster//name" -> file
	objects := 0
	for _, p := range paths {
		err := fileutil.WalkManifests(ctx, p, func(path string, data []byte) error {
			docs, loadable, err := checkFile(ctx, path, data, rep)
			if err != nil {
				return err
			}
			for _, d := range docs {
				objects++
				var key string
				switch d.kind {
				case wf.WorkflowTemplateKind:
					key = d.namespace + "/" + d.name
				case wf.ClusterWorkflowTemplateKind:
					key = "(cluster)/" + d.name
				default:
					continue
				}
				if prev, dup := templates[key]; dup && d.name != "" {
					rep.add(path, d.kind+"/"+d.name, fmt.Sprintf("duplicate %s %q (also in %s); this copy is not used to resolve references", d.kind, d.name, prev))
					loadable = false
				} else {
					templates[key] = path
				}
			}
			if loadable {
				offlineFiles = append(offlineFiles, path)
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}

	// Pass 2: argo lint itself: the offline API client (which resolves template references
	// from the given files) driven by cmd/argo/lint with strict parsing, as
	// `argo lint --offline` does.
	ctx, client, err := apiclient.NewClientFromOptsWithContext(ctx, apiclient.Opts{Offline: true, OfflineFiles: offlineFiles})
	if err != nil {
		return 0, fmt.Errorf("offline client: %w", err)
	}
	clients := lint.ServiceClients{WorkflowsClient: client.NewWorkflowServiceClient(ctx)}
	if clients.WorkflowTemplatesClient, err = client.NewWorkflowTemplateServiceClient(); err != nil {
		return 0, err
	}
	if clients.CronWorkflowsClient, err = client.NewCronWorkflowServiceClient(); err != nil {
		return 0, err
	}
	if clients.ClusterWorkflowTemplateClient, err = client.NewClusterWorkflowTemplateServiceClient(); err != nil {
		return 0, err
	}
	res, err := lint.Lint(ctx, &lintOptions{
		Files:          paths,
		Strict:         true,
		ServiceClients: clients,
	})
	if err != nil {
		return 0, err
	}
	lintProblems := &report{problems: map[string][]problem{}}
	for _, r := range res.Results {
		for _, e := range r.Errs {
			obj, msg := "-", e.Error()
			if m := lintErr.FindStringSubmatch(msg); m != nil {
				obj, msg = m[2]+"/"+m[1], m[3]
			}
			lintProblems.add(r.File, obj, msg)
		}
	}
	// Lint problems first, then ours, file by file.
	for _, f := range rep.order {
		if _, ok := lintProblems.problems[f]; !ok {
			lintProblems.order = append(lintProblems.order, f)
		}
		lintProblems.problems[f] = append(lintProblems.problems[f], rep.problems[f]...)
	}
	*rep = *lintProblems
	return objects, nil
}

// checkFile runs the per-document checks of one file. It returns the Argo documents and
// whether the file can be handed to the offline client (which fails as a whole on a parse
// error).
func checkFile(ctx context.Context, path string, data []byte, rep *report) ([]document, bool, error) {
	loadable := true
	for _, pr := range common.ParseObjects(ctx, data, false) {
		if pr.Err != nil {
			loadable = false
		}
	}
	var texts [][]byte
	if jsonpkg.IsJSON(data) {
		texts = [][]byte{data}
	} else {
		for _, t := range yamlSeparator.Split(string(data), -1) {
			if strings.TrimSpace(t) != "" {
				texts = append(texts, []byte(t))
			}
		}
	}
	var docs []document
	for i, text := range texts {
		un := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(text, &un.Object); err != nil {
			rep.add(path, fmt.Sprintf("document #%d", i+1), "invalid YAML: "+err.Error())
			loadable = false
			continue
		}
		kind := un.GetKind()
		if !lintedKinds[kind] {
			continue
		}
		name := un.GetName()
		if name == "" {
			name = un.GetGenerateName()
		}
		if name == "" {
			name = fmt.Sprintf("object #%d", i+1)
		}
		obj := kind + "/" + name
		docs = append(docs, document{kind: kind, namespace: un.GetNamespace(), name: un.GetName()})
		if _, err := yaml.YAMLToJSONStrict(text); err != nil {
			rep.add(path, obj, "strict decoding error: "+err.Error())
		}
		// CRD validation on a fresh decode (the objects are modified by pruning/defaulting).
		js, err := yaml.YAMLToJSON(text)
		if err != nil {
			continue // reported above
		}
		fresh := &unstructured.Unstructured{}
		if err := fresh.UnmarshalJSON(js); err != nil {
			rep.add(path, obj, "CRD: "+err.Error())
			continue
		}
		problems, err := validateCRD(ctx, kind, fresh.Object)
		if err != nil {
			return nil, false, err
		}
		for _, p := range problems {
			rep.add(path, obj, "CRD: "+p)
		}
	}
	return docs, loadable, nil
}
