package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
)

// podFS is a pod's file system on the host. A container sees its own root; here the pod's
// command runs on the host, so every top-level directory the pod uses (artifact and
// output-parameter paths, volume mounts, the working directory: /kfp2argo for kfp2argo's
// templates) is a directory of the pod's scratch directory, and occurrences of those paths in
// the command, arguments and environment are rewritten to it. Where the top-level directory is
// one the host needs to run commands (/etc, /usr, ..., those of PATH), only the path itself is
// mapped (a secret mounted at /etc/creds); a path that would shadow such a directory fails the
// pod with a message.
type podFS struct {
	root  string   // the pod's scratch directory, the container's "/"
	roots []string // mapped directories, e.g. "/kfp2argo", longest first
}

var hostDirectories = map[string]bool{
	"/bin": true, "/boot": true, "/dev": true, "/etc": true, "/lib": true, "/lib32": true,
	"/lib64": true, "/libx32": true, "/proc": true, "/sbin": true, "/sys": true, "/usr": true,
}

func newPodFS(root string, paths []string, reserved []string) (*podFS, error) {
	fs := &podFS{root: root}
	seen := map[string]bool{}
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			continue
		}
		mapped := topDirectory(p)
		if hostDirectories[mapped] || coversAny(mapped, reserved) {
			mapped = filepath.Clean(p)
		}
		if mapped == "/" || hostDirectories[mapped] || coversAny(mapped, reserved) {
			return nil, fmt.Errorf("kfp2argo-sim: the pod uses %s, which cannot be mapped to a scratch directory on this host (it holds what the host needs to run commands)", p)
		}
		if !seen[mapped] {
			seen[mapped] = true
			fs.roots = append(fs.roots, mapped)
		}
	}
	sort.Slice(fs.roots, func(i, j int) bool { return len(fs.roots[i]) > len(fs.roots[j]) })
	return fs, nil
}

// podPaths are the absolute paths a pod uses: its template's artifact and output paths, its
// main container's volume mounts (Argo's own left out) and working directory.
func podPaths(tmpl *wfv1.Template, mounts []corev1.VolumeMount, workingDir string) []string {
	var paths []string
	for _, a := range tmpl.Inputs.Artifacts {
		paths = append(paths, a.Path)
	}
	for _, a := range tmpl.Outputs.Artifacts {
		paths = append(paths, a.Path)
	}
	for _, p := range tmpl.Outputs.Parameters {
		if p.ValueFrom != nil {
			paths = append(paths, p.ValueFrom.Path)
		}
	}
	for _, m := range mounts {
		paths = append(paths, m.MountPath)
	}
	return append(paths, workingDir)
}

func topDirectory(p string) string {
	clean := filepath.Clean(p)
	if clean == "/" {
		return "/"
	}
	return "/" + strings.SplitN(strings.TrimPrefix(clean, "/"), "/", 2)[0]
}

// coversAny tells whether dir is one of paths or one of their parents.
func coversAny(dir string, paths []string) bool {
	for _, p := range paths {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

// host is where a path of the pod is on the host.
func (fs *podFS) host(podPath string) string {
	clean := filepath.Clean(podPath)
	for _, r := range fs.roots {
		if clean == r || strings.HasPrefix(clean, r+"/") {
			return filepath.Join(fs.root, clean)
		}
	}
	return clean
}

// rewrite maps every occurrence of a mapped directory in text (at a path boundary: not part of
// a longer name) to its host directory.
func (fs *podFS) rewrite(text string) string {
	if len(fs.roots) == 0 {
		return text
	}
	var out strings.Builder
	for i := 0; i < len(text); {
		matched := ""
		if i == 0 || !isPathChar(text[i-1]) {
			for _, r := range fs.roots {
				end := i + len(r)
				if strings.HasPrefix(text[i:], r) && (end == len(text) || text[end] == '/' || !isNameChar(text[end])) {
					matched = r
					break
				}
			}
		}
		if matched != "" {
			out.WriteString(fs.root)
			out.WriteString(matched)
			i += len(matched)
			continue
		}
		out.WriteByte(text[i])
		i++
	}
	return out.String()
}

func isNameChar(c byte) bool {
	return c == '.' || c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isPathChar(c byte) bool {
	return c == '/' || isNameChar(c)
}

// prepare creates the scratch directory with the container's usual directories.
func (fs *podFS) prepare() error {
	for _, dir := range []string{fs.root, filepath.Join(fs.root, "tmp"), filepath.Join(fs.root, "home")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return nil
}
