package interp

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/weirstream/weir/spec"
)

func compileWithInit(t *testing.T, init string) (*Program, error) {
	t.Helper()
	m := "apiVersion: kaspr.io/v1alpha1\nkind: KasprAgent\nmetadata: {name: a}\nspec:\n  input: {topic: {name: in}}\n  processors:\n    pipeline: [op]\n" +
		"    init:\n" + init +
		"    operations:\n      - name: op\n        map:\n          python: |\n            def f(v):\n                return [RATE, CURRENCY]\n"
	b, err := spec.Parse(spec.File{Name: "app.yaml", Data: []byte(caseApp)}, spec.File{Name: "agent.yaml", Data: []byte(m)})
	if err != nil {
		t.Fatal(err)
	}
	return Compile(b.Apps[0].Agents[0], OptionsFor(b.Apps[0].App))
}

func TestInitEntrypoint(t *testing.T) {
	p, err := compileWithInit(t, "      entrypoint: setup\n      python: |\n        RATE = 0.2\n        def setup():\n            return {\"CURRENCY\": \"EUR\"}\n")
	if err != nil {
		t.Fatal(err)
	}
	v, err := p.Func("spec.processors.operations[0].map").Call(NewThread(p.opts), nil, starlark.Tuple{starlark.None}, nil)
	if err != nil || v.String() != `[0.2, "EUR"]` {
		t.Errorf("got %v, %v", v, err)
	}
	_, err = compileWithInit(t, "      entrypoint: setup\n      python: |\n        def setup():\n            return {\"not a name\": 1}\n")
	if err == nil || !strings.Contains(err.Error(), "cannot name a global") {
		t.Errorf("bad key: %v", err)
	}
}

func TestPrintInInitHasPosition(t *testing.T) {
	m := "apiVersion: kaspr.io/v1alpha1\nkind: KasprAgent\nmetadata: {name: a}\nspec:\n  input: {topic: {name: in}}\n  processors:\n    pipeline: [op]\n" +
		"    init:\n      python: |\n        print(\"starting\")\n" +
		"    operations:\n      - name: op\n        map:\n          python: |\n            def f(v):\n                print(\"got\", v)\n                return v\n"
	b, err := spec.Parse(spec.File{Name: "app.yaml", Data: []byte(caseApp)}, spec.File{Name: "agent.yaml", Data: []byte(m)})
	if err != nil {
		t.Fatal(err)
	}
	opts := OptionsFor(b.Apps[0].App)
	var got []string
	opts.Print = func(pos spec.Pos, msg string) { got = append(got, pos.String()+" "+msg) }
	p, err := Compile(b.Apps[0].Agents[0], opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Func("spec.processors.operations[0].map").Call(NewThread(opts), nil, starlark.Tuple{starlark.MakeInt(1)}, nil); err != nil {
		t.Fatal(err)
	}
	want := "agent.yaml:10:14 starting|agent.yaml:16:22 got 1" // at the call's parenthesis
	if strings.Join(got, "|") != want {
		t.Errorf("printed %q, want %q", strings.Join(got, "|"), want)
	}
}
