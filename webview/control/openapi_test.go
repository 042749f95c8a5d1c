package control

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// The OpenAPI document served at /api/v1/openapi.json names every route
// the server's mux serves, and the mux serves every operation the document
// names (each found by the mux under that very pattern).
func TestOpenAPIMatchesRoutes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := start(t, ctx, envOptions{})
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	e.must(http.StatusOK, "GET", "/api/v1/openapi.json", "", nil).json(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	var inDoc []string
	for path, item := range doc.Paths {
		for method, op := range item {
			m := strings.ToUpper(method)
			inDoc = append(inDoc, m+" "+path)
			// The mux serves this operation under this pattern.
			req := httptest.NewRequest(m, pathParam.ReplaceAllString(path, "x"), nil)
			if _, pattern := e.s.mux.Handler(req); pattern != m+" "+path {
				t.Errorf("the document's %s %s: the mux serves it as %q", m, path, pattern)
			}
			for _, k := range []string{"operationId", "summary", "responses"} {
				if op[k] == nil {
					t.Errorf("%s %s: no %s", m, path, k)
				}
			}
		}
	}
	// Every pattern the mux was given with a method is in the document.
	var served []string
	for _, rt := range e.s.routes {
		served = append(served, rt.method+" "+rt.path)
	}
	slices.Sort(inDoc)
	slices.Sort(served)
	if !slices.Equal(inDoc, served) {
		t.Fatalf("the document's operations\n%v\nthe routes\n%v", inDoc, served)
	}
	// And the routes are what the mux serves: an unknown one is not.
	for _, probe := range []string{"GET /api/v1/apps/x/nothing", "PATCH /api/v1/apps", "GET /pipeline/x"} {
		m, p, _ := strings.Cut(probe, " ")
		_, pattern := e.s.mux.Handler(httptest.NewRequest(m, p, nil))
		if slices.Contains(served, pattern) {
			t.Errorf("%s is served as %s", probe, pattern)
		}
	}
}
