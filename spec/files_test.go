package spec

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

const appYAML = `apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: demo
spec:
  bootstrapServers: localhost:9092
`

const tableYAML = `apiVersion: kaspr.io/v1alpha1
kind: KasprTable
metadata:
  name: counts
spec:
  name: counts
`

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// configMapMount lays a folder out as the kubelet does for a ConfigMap
// volume: the data in a hidden timestamped folder, a hidden ..data symlink
// to it, and one visible symlink per key through ..data.
func configMapMount(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	stamp := "..2026_11_21_10_00_00.123456789"
	for name, content := range files {
		write(t, filepath.Join(dir, stamp, name), content)
	}
	symlink(t, stamp, filepath.Join(dir, "..data"))
	for name := range files {
		symlink(t, filepath.Join("..data", name), filepath.Join(dir, name))
	}
	return dir
}

func names(files []File, dir string) []string {
	var out []string
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f.Name)
		out = append(out, rel)
	}
	slices.Sort(out)
	return out
}

func TestReadFilesConfigMapMount(t *testing.T) {
	dir := configMapMount(t, map[string]string{"app.yaml": appYAML, "table.yml": tableYAML, "notes.txt": "not a manifest"})
	files, err := ReadFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(files, dir), []string{"app.yaml", "table.yml"}; !slices.Equal(got, want) {
		t.Fatalf("read %v, want each manifest once under its visible name: %v", got, want)
	}
	b, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Apps) != 1 || len(b.Apps[0].Tables) != 1 {
		t.Fatalf("want one app with one table, got %+v", b.Apps)
	}
	if got := b.Apps[0].App.File(); got != filepath.Join(dir, "app.yaml") {
		t.Errorf("errors would name %s, want the visible path", got)
	}
}

func TestReadFilesRecursiveHiddenAndLoops(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yaml"), appYAML)
	write(t, filepath.Join(dir, "sub", "deeper", "b.YAML"), tableYAML)
	write(t, filepath.Join(dir, ".hidden.yaml"), "not: read")
	write(t, filepath.Join(dir, ".git", "c.yaml"), "not: read")
	symlink(t, dir, filepath.Join(dir, "sub", "loop"))                                // a loop back to the top
	symlink(t, filepath.Join(dir, "a.yaml"), filepath.Join(dir, "sub", "again.yaml")) // the same file twice
	files, err := ReadFiles(dir, filepath.Join(dir, "a.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(files, dir), []string{"a.yaml", "sub/deeper/b.YAML"}; !slices.Equal(got, want) {
		t.Fatalf("read %v, want %v", got, want)
	}
}

func TestReadFilesExplicitFileAndMissingPath(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "manifest.txt"), appYAML)
	files, err := ReadFiles(filepath.Join(dir, "manifest.txt"), filepath.Join(dir, "nope"))
	if len(files) != 1 {
		t.Fatalf("a file named on the command line is read whatever its extension; got %d files", len(files))
	}
	want := filepath.Join(dir, "nope") + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Fatalf("got error %v, want %q", err, want)
	}
}
