package webview

import (
	"context"
	"net/http"
	"os"
	"testing"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/spec"
)

// TestApply swaps a server's web views for those of a new plan of the app
// (a reload): the new route answers, a route the new plan drops does not.
func TestApply(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/selectors/app.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := compile(t, load(t, "testdata/selectors"), nil, "")
	rt := engine.NewRuntime(p, engine.RuntimeOptions{Logger: testLogger(t)})
	s := startServer(t, rt, p.Apps[0], Options{})
	if r := get(t, s.root()+"/api/hello"); r.status != http.StatusNotFound {
		t.Fatalf("GET /api/hello before the reload: %s", r)
	}

	edited := string(src) + `---
apiVersion: kaspr.io/v1alpha1
kind: KasprWebView
metadata:
  name: hello
spec:
  name: hello
  request:
    method: GET
    path: /hello
  processors:
    pipeline: [hi]
    operations:
      - name: hi
        map:
          python: |
            def hi(request):
                return "hi"
`
	b, err := spec.Parse(spec.File{Name: "testdata/selectors/app.yaml", Data: []byte(edited)})
	if err != nil {
		t.Fatal(err)
	}
	p2 := compile(t, b, nil, "")
	app := p2.Apps[0]
	app.WebViews = app.WebViews[1:] // drop echo
	if err := s.Apply(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	if r := get(t, s.root()+"/api/hello"); r.status != http.StatusOK || string(r.body) != "hi" {
		t.Errorf("GET /api/hello after the reload: %s", r)
	}
	if r := do(t, http.MethodPost, s.root()+"/api/echo/a/b", nil, []byte("{}")); r.status != http.StatusNotFound {
		t.Errorf("POST /api/echo/a/b after the reload dropped it: %s", r)
	}
	if r := get(t, s.root()+"/api/divide/7/2"); r.status != http.StatusOK {
		t.Errorf("GET /api/divide/7/2 after the reload: %s", r)
	}

	other := *app
	other.Name = "other"
	if err := s.Apply(context.Background(), &other); err == nil {
		t.Error("a plan of another app was applied")
	}
}
