package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// File is one manifest file: the name errors will show and its content.
type File struct {
	Name string
	Data []byte
}

// ReadFiles collects the manifest files under the given paths. A directory is
// walked recursively for *.yaml and *.yml files; a file named directly is read
// whatever its extension. Names starting with "." are skipped inside
// directories, which is what makes a Kubernetes ConfigMap mount read each
// manifest once: the mount holds a hidden timestamped folder ("..2026_..."),
// a hidden "..data" symlink to it, and visible symlinks into "..data". The
// visible symlinks are followed; the hidden copies are not. A file reached by
// two routes is read once, under the first name met.
func ReadFiles(paths ...string) ([]File, error) {
	r := &reader{seen: map[string]bool{}, dirs: map[string]bool{}}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			r.fail(p, err)
			continue
		}
		if info.IsDir() {
			r.walk(p)
		} else {
			r.read(p)
		}
	}
	if len(r.errs) > 0 {
		return r.files, r.errs.sorted()
	}
	return r.files, nil
}

type reader struct {
	files []File
	errs  Errors
	seen  map[string]bool // real paths of files read
	dirs  map[string]bool // real paths of directories entered (symlink loops)
}

func (r *reader) fail(path string, err error) {
	r.errs = append(r.errs, &Error{Pos: Pos{File: path}, Message: describeFSError(err)})
}

func (r *reader) walk(dir string) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		r.fail(dir, err)
		return
	}
	if r.dirs[real] {
		return
	}
	r.dirs[real] = true
	entries, err := os.ReadDir(dir)
	if err != nil {
		r.fail(dir, err)
		return
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(dir, name)
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			info, err := os.Stat(p)
			if err != nil {
				r.fail(p, err)
				continue
			}
			isDir = info.IsDir()
		}
		switch {
		case isDir:
			r.walk(p)
		case isManifestName(name):
			r.read(p)
		}
	}
}

func (r *reader) read(p string) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		r.fail(p, err)
		return
	}
	if r.seen[real] {
		return
	}
	r.seen[real] = true
	data, err := os.ReadFile(p)
	if err != nil {
		r.fail(p, err)
		return
	}
	r.files = append(r.files, File{Name: p, Data: data})
}

func isManifestName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return slices.Contains([]string{".yaml", ".yml"}, ext)
}

func describeFSError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return fmt.Sprintf("cannot read: %v", err)
}
