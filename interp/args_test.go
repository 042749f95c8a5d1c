package interp

import (
	"strings"
	"testing"

	"github.com/weirstream/weir/spec"
)

func compileWebView(t *testing.T, src string) (*Program, error) {
	t.Helper()
	m := "apiVersion: kaspr.io/v1alpha1\nkind: KasprTable\nmetadata: {name: counts}\nspec: {name: counts}\n---\n" +
		"apiVersion: kaspr.io/v1alpha1\nkind: KasprWebView\nmetadata: {name: view}\nspec:\n  name: view\n  request: {method: GET, path: \"/count/{word}\"}\n" +
		"  processors:\n    pipeline: [get]\n    operations:\n      - name: get\n        tables: [{name: counts, paramName: counts}]\n        map:\n          python: |\n" + indent(src, "            ")
	b, err := spec.Parse(spec.File{Name: "app.yaml", Data: []byte(caseApp)}, spec.File{Name: "view.yaml", Data: []byte(m)})
	if err != nil {
		t.Fatal(err)
	}
	return Compile(b.Apps[0].WebViews[0], OptionsFor(b.Apps[0].App))
}

func TestArgsWebView(t *testing.T) {
	// Kaspr's way: the path parameter is read from the request.
	p, err := compileWebView(t, "def get(request, counts):\n    return counts[request.params[\"word\"]]\n")
	if err != nil {
		t.Fatal(err)
	}
	f := p.Func("spec.processors.operations[0].map")
	if f.Accepts("word") {
		t.Error("get(request, counts) accepts word")
	}
	// weir's way: the path parameter as a keyword argument.
	p, err = compileWebView(t, "def get(request, counts, word):\n    return counts[word]\n")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Func("spec.processors.operations[0].map").Accepts("word") {
		t.Error("get(request, counts, word) does not accept word")
	}
	for src, want := range map[string]string{
		"def get(counts):\n    return 1\n":               "view.yaml:19:13: spec.processors.operations[0].map: get(counts) takes counts as a positional argument",
		"def get(request, tables):\n    return 1\n":      "get(request, tables) has no parameter counts: weir passes the request and the table counts by name",
		"def get(request, counts, x):\n    return 1\n":   "get(request, counts, x) needs x, which weir does not pass",
		"def get():\n    return 1\n":                     "get() cannot take 1 argument: weir passes the request and the table counts by name",
		"def get(request, **kw):\n    return 1\n":        "",
		"def get(*args, **kw):\n    return 1\n":          "",
		"def get(request, counts, x=1):\n    return 1\n": "",
	} {
		_, err := compileWebView(t, src)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", src, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: got %v, want %q", src, err, want)
		}
	}
}
