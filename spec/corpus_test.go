package spec

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirstream/weir/internal/casefile"
)

var update = flag.Bool("update", false, "rewrite the errors sections of the testdata cases with what the loader reports")

// A case is a casefile: comment lines, then manifest files, each introduced
// by a line "-- name --". The section named "errors" is not a manifest: it
// holds the exact lines the load must report, with paths relative to the
// case's folder. A case without errors must load.
type testCase struct {
	*casefile.Case
	files   []File
	errors  string
	hasErrs bool
}

func parseCase(data []byte) testCase {
	c := testCase{Case: casefile.Parse(data)}
	for _, s := range c.Sections {
		if s.Name != "errors" {
			c.files = append(c.files, File{Name: s.Name, Data: []byte(s.Body)})
		}
	}
	c.errors, c.hasErrs = c.Get("errors")
	return c
}

// loadCase writes a case's files into a folder and loads it, returning the
// error lines with the folder removed from the paths.
func loadCase(t *testing.T, c testCase) (string, error) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range c.files {
		p := filepath.Join(dir, f.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Load(dir)
	if err == nil {
		return "", nil
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("load returned %T, want Errors: %v", err, err)
	}
	var b strings.Builder
	for _, e := range es {
		b.WriteString(strings.ReplaceAll(e.Error(), dir+string(filepath.Separator), ""))
		b.WriteByte('\n')
	}
	return b.String(), err
}

func TestInvalidCorpus(t *testing.T) {
	paths, _ := filepath.Glob("testdata/invalid/*.txt")
	if len(paths) < 40 {
		t.Errorf("the invalid corpus has %d cases; keep at least 40", len(paths))
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c := parseCase(data)
			got, _ := loadCase(t, c)
			if *update {
				c.Set("errors", got)
				if err := os.WriteFile(path, c.Format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !c.hasErrs {
				t.Fatalf("%s has no -- errors -- section", path)
			}
			if got == "" {
				t.Fatalf("%s: loaded without errors, want:\n%s", path, c.errors)
			}
			if got != c.errors {
				t.Errorf("%s: errors differ\n--- want\n%s--- got\n%s", path, c.errors, got)
			}
		})
	}
}

func TestValidCorpus(t *testing.T) {
	paths, _ := filepath.Glob("testdata/valid/*.txt")
	if len(paths) == 0 {
		t.Fatal("no valid cases")
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c := parseCase(data)
			if c.hasErrs && strings.TrimSpace(c.errors) != "" {
				t.Fatalf("%s: a valid case has no errors section", path)
			}
			if got, _ := loadCase(t, c); got != "" {
				t.Errorf("%s: want no errors, got:\n%s", path, got)
			}
		})
	}
}
