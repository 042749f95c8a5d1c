package control

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the answers of testdata/invalid")

// Requests that must be refused, as data: each testdata/invalid/*.txt
// holds a comment, the request body (YAML manifests) after "-- request
// --", and the answer after "-- answer --": its status, its sentence and
// every error with its position. Nothing is created by any of them.
func TestInvalidRequests(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := start(t, ctx, envOptions{folder: "testdata/folder"})
	files, err := filepath.Glob("testdata/invalid/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			head, rest, ok := strings.Cut(string(b), "-- request --\n")
			body, want, ok2 := strings.Cut(rest, "-- answer --\n")
			if !ok || !ok2 {
				t.Fatalf("%s: want a request and an answer section", file)
			}
			a := e.do("POST", "/api/v1/apps", "application/yaml", []byte(body))
			var p problem
			a.json(t, &p)
			var got strings.Builder
			fmt.Fprintf(&got, "%d %s\n", a.status, p.Msg)
			for _, e := range p.Errors {
				fmt.Fprintln(&got, e.Text)
			}
			if *update {
				if err := os.WriteFile(file, []byte(head+"-- request --\n"+body+"-- answer --\n"+got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got.String() != want {
				t.Errorf("%s: the answer\n%s\nwant\n%s", file, got.String(), want)
			}
		})
	}
	var list struct{ Apps []appSummary }
	e.must(http.StatusOK, "GET", "/api/v1/apps", "", nil).json(t, &list)
	if len(list.Apps) != 1 {
		t.Fatalf("after the refused requests: %+v", list.Apps)
	}
}
