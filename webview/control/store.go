package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/weirstream/weir/spec"
)

// record is an app created through the API, as kept in the data dir.
type record struct {
	ID string `json:"id"`
	// Label is the name a compatibility client gave (a DataCater
	// deployment's or a Coordinator pipeline's name), when it is not the
	// app's.
	Label      string     `json:"label,omitempty"`
	Created    time.Time  `json:"created"`
	Updated    time.Time  `json:"updated"`
	Generation int64      `json:"generation"`
	Files      []fileJSON `json:"files"`

	// failed are the errors of a kept app that did not load at the
	// restart; it is not held by the host until a PUT fixes it.
	failed []apiError
}

// fileJSON is one manifest file of an app.
type fileJSON struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

// validID is what an id may be: a Kubernetes object name, which is what
// a KasprApp's name is. It is also safe as a file name.
var validID = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)

// owner is the host's owner of an app's manifests.
func owner(id string) string { return "api/" + id }

// files are the record's manifests as the host holds them: each name
// under the owner, so that positions say which app they are in.
func (r *record) files() []spec.File {
	out := make([]spec.File, len(r.Files))
	for i, f := range r.Files {
		out[i] = spec.File{Name: owner(r.ID) + "/" + f.Name, Data: []byte(f.Content)}
	}
	return out
}

// store keeps the API's apps in a directory, one JSON file each.
type store struct {
	dir string
}

func (s *store) path(id string) string { return filepath.Join(s.dir, id+".json") }

// save writes a record atomically: a temporary file, synced, renamed
// over the old one, and the directory synced.
func (s *store) save(r *record) error {
	if !validID.MatchString(r.ID) {
		return fmt.Errorf("app id %q cannot name a file", r.ID)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("keeping app %s: %w", r.ID, err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, "."+r.ID+".*.tmp")
	if err != nil {
		return fmt.Errorf("keeping app %s: %w", r.ID, err)
	}
	defer os.Remove(tmp.Name())
	if _, err = tmp.Write(append(b, '\n')); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.path(r.ID))
	}
	if err != nil {
		return fmt.Errorf("keeping app %s: %w", r.ID, err)
	}
	return syncDir(s.dir)
}

// remove deletes a record.
func (s *store) remove(id string) error {
	if err := os.Remove(s.path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("forgetting app %s: %w", id, err)
	}
	return syncDir(s.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	defer d.Close()
	return d.Sync()
}

// load reads every record, in id order. A file that cannot be read is
// reported and skipped.
func (s *store) load() ([]*record, []error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []error{fmt.Errorf("reading the apps kept in %s: %w", s.dir, err)}
	}
	var out []*record
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue
		}
		p := filepath.Join(s.dir, name)
		b, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", p, err))
			continue
		}
		var r record
		if err := json.Unmarshal(b, &r); err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", p, err))
			continue
		}
		if r.ID+".json" != name || !validID.MatchString(r.ID) || len(r.Files) == 0 {
			errs = append(errs, fmt.Errorf("reading %s: not an app kept by weir (its id %q does not match its file name, or it holds no manifests)", p, r.ID))
			continue
		}
		if r.Generation < 1 {
			r.Generation = 1
		}
		out = append(out, &r)
	}
	slices.SortFunc(out, func(a, b *record) int { return strings.Compare(a.ID, b.ID) })
	return out, errs
}
