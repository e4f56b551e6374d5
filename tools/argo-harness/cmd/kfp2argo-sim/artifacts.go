package main

// The artifact repository: the controller is configured with an S3 repository (it only computes
// keys from it); objects live in a local directory, <dir>/<bucket>/<key>, a file or a directory
// as Argo's S3 driver stores them. GCS locations (bucket and key) are read from the same
// directory, so a test can put an object there beforehand. Staging follows Argo's executor (workflow/executor
// loadArtifacts and stageArchiveFile): archive strategies none, tar (gzip, the default) and zip.

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/util/archive"
)

var errArtifactNotFound = errors.New("not found in the artifact repository")

type artifactRepo struct {
	dir string
}

// objectPath is where an artifact's object is on the host.
func (r *artifactRepo) objectPath(art *wfv1.Artifact) (string, error) {
	var bucket, key string
	switch {
	case art.S3 != nil:
		bucket, key = art.S3.Bucket, art.S3.Key
	case art.GCS != nil:
		bucket, key = art.GCS.Bucket, art.GCS.Key
	default:
		return "", fmt.Errorf("kfp2argo-sim: artifact %q: only S3 and GCS locations (in the simulated repository) and raw artifacts are supported", art.Name)
	}
	clean := path.Clean("/" + key)
	if key == "" || clean == "/" {
		return "", fmt.Errorf("artifact %q has no key", art.Name)
	}
	return filepath.Join(r.dir, bucket, filepath.FromSlash(clean)), nil
}

// load puts the object of art (already relocated against the archive location) at dest.
func (r *artifactRepo) load(art *wfv1.Artifact, dest string) error {
	if art.Raw != nil {
		return os.WriteFile(dest, []byte(art.Raw.Data), 0o644)
	}
	src, err := r.objectPath(art)
	if err != nil {
		return err
	}
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", src, errArtifactNotFound)
	}
	return copyTree(src, dest)
}

func (r *artifactRepo) save(src string, art *wfv1.Artifact) error {
	dest, err := r.objectPath(art)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dest); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	return copyTree(src, dest)
}

// loadInputArtifacts is the init container: every input artifact at its path in the pod.
func loadInputArtifacts(repo *artifactRepo, tmpl *wfv1.Template, podFS *podFS) error {
	for _, art := range tmpl.Inputs.Artifacts {
		if !art.HasLocationOrKey() {
			if art.Optional {
				continue
			}
			return fmt.Errorf("required artifact '%s' not supplied", art.Name)
		}
		located := art.DeepCopy()
		if err := located.Relocate(tmpl.ArchiveLocation); err != nil {
			return fmt.Errorf("failed to load artifact '%s': %w", art.Name, err)
		}
		dest := podFS.host(art.Path)
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return err
		}
		temp := dest + ".tmp"
		if err := repo.load(located, temp); err != nil {
			if art.Optional && errors.Is(err, errArtifactNotFound) {
				continue
			}
			return fmt.Errorf("artifact %s failed to load: %w", art.Name, err)
		}
		if err := unpackInput(&art, temp, dest); err != nil {
			return fmt.Errorf("artifact %s failed to load: %w", art.Name, err)
		}
		if art.Mode != nil {
			if err := chmodTree(dest, os.FileMode(*art.Mode), art.RecurseMode); err != nil {
				return err
			}
		}
	}
	return nil
}

func unpackInput(art *wfv1.Artifact, temp, dest string) error {
	strategy := art.GetArchive()
	switch {
	case strategy.None != nil:
		return os.Rename(temp, dest)
	case strategy.Zip != nil:
		return unpackInto(temp, dest, extractZip)
	case strategy.Tar != nil || isTarball(temp):
		return unpackInto(temp, dest, extractTarGz)
	}
	return os.Rename(temp, dest)
}

// saveOutputArtifacts is the wait container's upload: the artifacts saved, with their keys.
func saveOutputArtifacts(ctx context.Context, repo *artifactRepo, tmpl *wfv1.Template, podFS *podFS, scratch string) (wfv1.Artifacts, error) {
	saved := wfv1.Artifacts{}
	var problems []string
	for _, art := range tmpl.Outputs.Artifacts {
		art := art
		src := podFS.host(art.Path)
		if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
			if art.Optional {
				continue
			}
			problems = append(problems, fmt.Sprintf("%s no such file or directory", art.Path))
			continue
		}
		fileName, staged, err := stageOutput(ctx, &art, src, scratch)
		if err == nil {
			err = uploadOutput(repo, tmpl, &art, fileName, staged)
		}
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		saved = append(saved, art)
	}
	if len(problems) > 0 {
		return saved, errors.New(strings.Join(problems, "; ") + "; ")
	}
	return saved, nil
}

// stageOutput gives the object's file name and the local file or directory to upload.
func stageOutput(ctx context.Context, art *wfv1.Artifact, src, scratch string) (string, string, error) {
	strategy := art.Archive
	if strategy == nil {
		strategy = &wfv1.ArchiveStrategy{Tar: &wfv1.TarStrategy{}}
	}
	if strategy.None != nil {
		return filepath.Base(art.Path), src, nil
	}
	if err := os.MkdirAll(filepath.Join(scratch, "outputs"), 0o755); err != nil {
		return "", "", err
	}
	if strategy.Zip != nil {
		fileName := art.Name + ".zip"
		staged := filepath.Join(scratch, "outputs", fileName)
		f, err := os.Create(staged)
		if err != nil {
			return "", "", err
		}
		defer f.Close()
		zw := zip.NewWriter(f)
		if err := archive.ZipToWriter(ctx, src, zw); err != nil {
			return "", "", err
		}
		return fileName, staged, zw.Close()
	}
	level := gzip.DefaultCompression
	if strategy.Tar != nil && strategy.Tar.CompressionLevel != nil {
		level = int(*strategy.Tar.CompressionLevel)
	}
	fileName := art.Name + ".tgz"
	staged := filepath.Join(scratch, "outputs", fileName)
	f, err := os.Create(staged)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	if err := archive.TarGzToWriter(ctx, src, level, w); err != nil {
		return "", "", err
	}
	return fileName, staged, w.Flush()
}

func uploadOutput(repo *artifactRepo, tmpl *wfv1.Template, art *wfv1.Artifact, fileName, staged string) error {
	if !art.HasKey() {
		key, err := tmpl.ArchiveLocation.GetKey()
		if err != nil {
			return err
		}
		location, err := tmpl.ArchiveLocation.Get()
		if err != nil {
			return err
		}
		if err := art.SetType(location); err != nil {
			return err
		}
		if err := art.SetKey(path.Join(key, fileName)); err != nil {
			return err
		}
	}
	located := art.DeepCopy()
	if err := located.Relocate(tmpl.ArchiveLocation); err != nil {
		return err
	}
	return repo.save(staged, located)
}

func isTarball(file string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return false
	}
	defer gz.Close()
	_, err = tar.NewReader(gz).Next()
	return err == nil
}

// unpackInto extracts an archive into a fresh directory; a single top-level entry becomes dest
// itself, several make dest a directory (as Argo's executor does).
func unpackInto(archiveFile, dest string, extract func(string, string) error) error {
	tmpDir := dest + ".tmpdir"
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return err
	}
	if err := extract(archiveFile, tmpDir); err != nil {
		return err
	}
	if err := os.Remove(archiveFile); err != nil {
		return err
	}
	entries, err := os.ReadDir(tmpDir)
	if err != nil {
		return err
	}
	if len(entries) == 1 {
		if err := os.Rename(filepath.Join(tmpDir, entries[0].Name()), dest); err != nil {
			return err
		}
		return os.Remove(tmpDir)
	}
	return os.Rename(tmpDir, dest)
}

func extractTarGz(archiveFile, dest string) error {
	f, err := os.Open(archiveFile)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		header, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		target, err := insideDir(dest, header.Name)
		if err != nil {
			return err
		}
		switch header.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o755)
		case tar.TypeReg:
			err = writeFile(target, tr, os.FileMode(header.Mode))
		case tar.TypeSymlink:
			if err = os.MkdirAll(filepath.Dir(target), 0o755); err == nil {
				err = os.Symlink(header.Linkname, target)
			}
		}
		if err != nil {
			return err
		}
	}
}

func extractZip(archiveFile, dest string) error {
	r, err := zip.OpenReader(archiveFile)
	if err != nil {
		return err
	}
	defer r.Close()
	for _, entry := range r.File {
		target, err := insideDir(dest, entry.Name)
		if err != nil {
			return err
		}
		if entry.FileInfo().IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			continue
		}
		rc, err := entry.Open()
		if err != nil {
			return err
		}
		err = writeFile(target, rc, entry.Mode())
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func insideDir(dir, name string) (string, error) {
	target := filepath.Join(dir, filepath.Clean(name))
	if !strings.HasPrefix(target, filepath.Clean(dir)+string(os.PathSeparator)) {
		return "", fmt.Errorf("illegal file path: %s", name)
	}
	return target, nil
}

func writeFile(target string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// copyTree copies a file, or a directory recursively (symbolic links as links).
func copyTree(src, dest string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dest, rel)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case info.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return writeFile(target, f, info.Mode().Perm())
		}
	})
}

func chmodTree(root string, mode os.FileMode, recurse bool) error {
	if !recurse {
		return os.Chmod(root, mode)
	}
	return filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chmod(p, mode)
	})
}
