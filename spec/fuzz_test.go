package spec

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader as one manifest file, next to
// a valid app. Whatever the input, the loader must not panic, and a failed
// load must return Errors whose every entry names a file and says something.
func FuzzLoad(f *testing.F) {
	for _, glob := range []string{"testdata/*/*.txt", "../samples/*/*.yaml"} {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			for _, file := range parseCase(data).files {
				f.Add(file.Data)
			}
			if filepath.Ext(p) == ".yaml" {
				f.Add(data)
			}
		}
	}
	f.Add([]byte("a: &a [*a, *a]\nb: &b [*a, *a]\nc: [*b, *b]\n"))
	f.Add([]byte("<<: {kind: KasprApp}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse(File{Name: "app.yaml", Data: []byte(appYAML)}, File{Name: "fuzz.yaml", Data: data})
		if err == nil {
			return
		}
		var es Errors
		if !errors.As(err, &es) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		for _, e := range es {
			if e.File == "" || e.Message == "" {
				t.Fatalf("error without a file or message: %+v", e)
			}
		}
	})
}
