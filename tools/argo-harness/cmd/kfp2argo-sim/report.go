package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"unicode/utf8"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/workflow/packer"
)

// report is the simulator's output.
type report struct {
	Workflow string       `json:"workflow"`
	UID      string       `json:"uid"`
	Phase    string       `json:"phase"`
	Message  string       `json:"message"`
	TimedOut bool         `json:"timedOut,omitempty"`
	Nodes    []nodeReport `json:"nodes"`
	Pods     []podRecord  `json:"pods"`
}

type nodeReport struct {
	ID           string             `json:"id"`
	Name         string             `json:"name"`
	DisplayName  string             `json:"displayName"`
	Type         string             `json:"type"`
	TemplateName string             `json:"templateName,omitempty"`
	Phase        string             `json:"phase"`
	Message      string             `json:"message,omitempty"`
	BoundaryID   string             `json:"boundaryID,omitempty"`
	Children     []string           `json:"children,omitempty"`
	Inputs       map[string]*string `json:"inputs,omitempty"`
	Outputs      *outputsReport     `json:"outputs,omitempty"`
}

type outputsReport struct {
	Parameters map[string]*string        `json:"parameters,omitempty"`
	Artifacts  map[string]artifactReport `json:"artifacts,omitempty"`
	Result     *string                   `json:"result,omitempty"`
	ExitCode   *string                   `json:"exitCode,omitempty"`
}

// artifactReport is an output artifact and what its object in the repository holds: a file's
// content, or every file of a directory by relative path.
type artifactReport struct {
	Key     string                  `json:"key,omitempty"`
	File    *fileContent            `json:"file,omitempty"`
	Files   map[string]*fileContent `json:"files,omitempty"`
	Missing bool                    `json:"missing,omitempty"`
}

// fileContent is a file's text, or its bytes in base64 when they are not UTF-8.
type fileContent struct {
	Text   *string `json:"text,omitempty"`
	Base64 []byte  `json:"base64,omitempty"`
}

func buildReport(wf *wfv1.Workflow, k *kubelet, timedOut bool) (*report, error) {
	if err := packer.DecompressWorkflow(context.Background(), wf); err != nil {
		return nil, err
	}
	r := &report{Workflow: wf.Name, UID: string(wf.UID), Phase: string(wf.Status.Phase), Message: wf.Status.Message, TimedOut: timedOut, Pods: k.records}
	if r.Pods == nil {
		r.Pods = []podRecord{}
	}
	sort.Slice(r.Pods, func(i, j int) bool { return r.Pods[i].Name < r.Pods[j].Name })
	for _, node := range wf.Status.Nodes {
		r.Nodes = append(r.Nodes, nodeReportOf(node, k.repo))
	}
	sort.Slice(r.Nodes, func(i, j int) bool { return r.Nodes[i].Name < r.Nodes[j].Name })
	return r, nil
}

func nodeReportOf(node wfv1.NodeStatus, repo *artifactRepo) nodeReport {
	n := nodeReport{
		ID: node.ID, Name: node.Name, DisplayName: node.DisplayName, Type: string(node.Type),
		TemplateName: node.TemplateName, Phase: string(node.Phase), Message: node.Message,
		BoundaryID: node.BoundaryID, Children: node.Children,
	}
	if node.Inputs != nil && len(node.Inputs.Parameters) > 0 {
		n.Inputs = parameterValues(node.Inputs.Parameters)
	}
	if o := node.Outputs; o != nil {
		n.Outputs = &outputsReport{Result: o.Result, ExitCode: o.ExitCode}
		if len(o.Parameters) > 0 {
			n.Outputs.Parameters = parameterValues(o.Parameters)
		}
		for _, art := range o.Artifacts {
			if n.Outputs.Artifacts == nil {
				n.Outputs.Artifacts = map[string]artifactReport{}
			}
			n.Outputs.Artifacts[art.Name] = artifactContents(&art, repo)
		}
	}
	return n
}

func parameterValues(parameters []wfv1.Parameter) map[string]*string {
	values := map[string]*string{}
	for _, p := range parameters {
		if p.Value != nil {
			v := p.Value.String()
			values[p.Name] = &v
		} else {
			values[p.Name] = nil
		}
	}
	return values
}

func artifactContents(art *wfv1.Artifact, repo *artifactRepo) artifactReport {
	a := artifactReport{}
	a.Key, _ = art.GetKey()
	// Node outputs may keep only the key; the location is the default repository's.
	located := art.DeepCopy()
	if err := located.Relocate(&wfv1.ArtifactLocation{S3: &wfv1.S3Artifact{S3Bucket: wfv1.S3Bucket{Bucket: artifactBucket}}}); err != nil {
		a.Missing = true
		return a
	}
	object, err := repo.objectPath(located)
	if err != nil {
		a.Missing = true
		return a
	}
	info, err := os.Stat(object)
	switch {
	case err != nil:
		a.Missing = true
	case !info.IsDir():
		a.File = readContent(object)
	default:
		a.Files = map[string]*fileContent{}
		_ = filepath.WalkDir(object, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(object, p)
				a.Files[filepath.ToSlash(rel)] = readContent(p)
			}
			return nil
		})
	}
	return a
}

func readContent(file string) *fileContent {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	if utf8.Valid(data) {
		text := string(data)
		return &fileContent{Text: &text}
	}
	return &fileContent{Base64: data}
}
