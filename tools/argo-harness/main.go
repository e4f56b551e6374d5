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
// Output: one line per problem, "FILE: KIND/NAME: MESSAGE", where NAME is metadata.name, else
// metadata.generateName, else "object #N". Messages of the CRD check start with "CRD: ". A
// document that is not YAML at all is reported as "FILE: document #N: invalid YAML: ...".
// Exit status: 0 when there is no problem, 1 when there is one, 2 on a usage or internal error.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"runtime/debug"
	"slices"
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

// report collects problems per file and prints them in the order the files were walked:
// argo lint's problems first, then the harness's own (duplicate keys, invalid YAML, CRD).
type report struct {
	files []string            // walk order
	lint  map[string][]string // file -> "KIND/NAME: MESSAGE"
	own   map[string][]string // same, from the harness's own checks
	extra []string            // problems not tied to a walked file
}

func newReport() *report {
	return &report{lint: map[string][]string{}, own: map[string][]string{}}
}

func (r *report) add(file, obj, msg string) {
	r.own[file] = append(r.own[file], obj+": "+oneLine(msg))
}

func (r *report) lines() []string {
	var out []string
	for _, f := range r.files {
		for _, p := range append(r.lint[f], r.own[f]...) {
			out = append(out, f+": "+p)
		}
	}
	seen := map[string]bool{}
	for _, f := range r.files {
		seen[f] = true
	}
	for _, m := range []map[string][]string{r.lint, r.own} {
		for _, f := range slices.Sorted(maps.Keys(m)) {
			if !seen[f] {
				for _, p := range m[f] {
					out = append(out, f+": "+p)
				}
			}
		}
	}
	return append(out, r.extra...)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func main() {
	verbose := flag.Bool("v", false, "log Argo's debug messages to stderr")
	version := flag.Bool("version", false, "print the versions of the Argo and Kubernetes modules built in, and exit")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: argo-lint [-v] PATH...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *version {
		printVersions()
		return
	}
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

	rep := newReport()
	n, err := run(ctx, flag.Args(), rep)
	if err != nil {
		fmt.Fprintln(os.Stderr, "argo-lint:", err)
		os.Exit(2)
	}
	if n == 0 && len(rep.lines()) == 0 {
		// argo lint fails when it found nothing to lint, too.
		rep.extra = append(rep.extra, "argo-lint: -: found nothing to lint in the specified paths (no Workflow, WorkflowTemplate, ClusterWorkflowTemplate or CronWorkflow)")
	}
	lines := rep.lines()
	var out bytes.Buffer
	for _, l := range lines {
		out.WriteString(l + "\n")
	}
	os.Stdout.Write(out.Bytes())
	if len(lines) > 0 {
		os.Exit(1)
	}
}

// printVersions prints "module version" for the modules whose code does the checking.
func printVersions() {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Println("unknown")
		return
	}
	for _, m := range info.Deps {
		switch m.Path {
		case "github.com/argoproj/argo-workflows/v4", "k8s.io/apiextensions-apiserver":
			if m.Replace != nil {
				m = m.Replace
			}
			fmt.Println(m.Path, m.Version)
		}
	}
}

type document struct{ kind, namespace, name string }

// run lints paths and returns the number of Argo objects seen.
func run(ctx context.Context, paths []string, rep *report) (int, error) {
	// Pass 1: our own checks per document: YAML validity, duplicate keys (argo lint's strict
	// parser drops such a document silently) and the CRD schema. It also picks the files the
	// offline client can load.
	var offlineFiles []string
	templates := map[string]string{} // "namespace/name" or "(cluster)/name" -> file
	objects := 0
	for _, p := range paths {
		err := fileutil.WalkManifests(ctx, p, func(path string, data []byte) error {
			rep.files = append(rep.files, path)
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
	for _, r := range res.Results {
		for _, e := range r.Errs {
			obj, msg := "-", e.Error()
			if m := lintErr.FindStringSubmatch(msg); m != nil {
				obj, msg = m[2]+"/"+m[1], m[3]
			}
			rep.lint[r.File] = append(rep.lint[r.File], obj+": "+oneLine(msg))
		}
	}
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
		var generic any
		if err := yaml.Unmarshal(text, &generic); err != nil {
			rep.add(path, fmt.Sprintf("document #%d", i+1), "invalid YAML: "+err.Error())
			loadable = false
			continue
		}
		m, ok := generic.(map[string]any)
		if !ok {
			continue // not a Kubernetes object
		}
		un := &unstructured.Unstructured{Object: m}
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
