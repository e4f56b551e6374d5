// Command gencrds turns Argo's full CRDs (shipped in the argo-workflows Go module under
// manifests/base/crds/full/) into compact JSON for the argo-lint binary to embed.
//
// It is run by build.sh; its output (crds/*.json) is generated, not committed. Only the
// human-readable "description" strings of the schemas are dropped, which the API server's
// validation never reads; everything else (types, limits, patterns, CEL rules, list types,
// x-kubernetes-* markers) is kept unchanged.
//
// Usage: go run ./internal/gencrds <argo module dir> <output dir>
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// Kinds is the set of CRDs the linter validates against.
var files = []string{
	"argoproj.io_workflows",
	"argoproj.io_workflowtemplates",
	"argoproj.io_clusterworkflowtemplates",
	"argoproj.io_cronworkflows",
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gencrds <argo module dir> <output dir>")
		os.Exit(2)
	}
	src := filepath.Join(os.Args[1], "manifests", "base", "crds", "full")
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(src, f+".yaml"))
		if err != nil {
			fail(err)
		}
		var crd map[string]any
		if err := yaml.Unmarshal(data, &crd); err != nil {
			fail(fmt.Errorf("%s: %w", f, err))
		}
		stripDescriptions(crd, false)
		out, err := json.Marshal(crd)
		if err != nil {
			fail(err)
		}
		tmp := filepath.Join(os.Args[2], "."+f+".json.tmp")
		if err := os.WriteFile(tmp, out, 0o644); err != nil {
			fail(err)
		}
		if err := os.Rename(tmp, filepath.Join(os.Args[2], f+".json")); err != nil {
			fail(err)
		}
	}
}

// stripDescriptions removes "description" strings from schema nodes. Inside a map of
// property names (properties, patternProperties, definitions) the keys are field names, so a
// field that is itself called "description" (Argo's Parameter has one) is kept.
func stripDescriptions(v any, namesMap bool) {
	switch t := v.(type) {
	case map[string]any:
		if !namesMap {
			if _, ok := t["description"].(string); ok {
				delete(t, "description")
			}
		}
		for k, child := range t {
			stripDescriptions(child, !namesMap && (k == "properties" || k == "patternProperties" || k == "definitions"))
		}
	case []any:
		for _, child := range t {
			stripDescriptions(child, false)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gencrds:", err)
	os.Exit(1)
}
