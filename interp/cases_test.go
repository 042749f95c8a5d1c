package interp

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/weirstream/weir/internal/casefile"
	"github.com/weirstream/weir/spec"
)

var update = flag.Bool("update", false, "rewrite the expected sections of testdata/cases with what the code does")

// A case is a casefile (see testdata/cases): a code block, the value it is
// called with, and the expected output or error. The runner wraps the block
// in an agent manifest, loads and compiles it as weir does, and calls it.
type codeCase struct{ *casefile.Case }

func parseCodeCase(data string) codeCase { return codeCase{casefile.Parse([]byte(data))} }

func (c *codeCase) get(name string) (string, bool) { return c.Get(name) }

// block finds the code section: <operator>.<lang>, such as map.py,
// filter.star or map.go.
func (c *codeCase) block() (op, lang, src string, ok bool) {
	for _, s := range c.Sections {
		o, ext, found := strings.Cut(s.Name, ".")
		if !found || !slices.Contains([]string{"map", "filter"}, o) {
			continue
		}
		switch ext {
		case "py":
			return o, "python", s.Body, true
		case "star":
			return o, "starlark", s.Body, true
		case "go":
			return o, "go", s.Body, true
		}
	}
	return "", "", "", false
}

func indent(src, prefix string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(src, "\n") {
		if strings.TrimSpace(line) == "" {
			b.WriteString(strings.TrimLeft(line, " \t"))
			continue
		}
		b.WriteString(prefix + line)
	}
	return b.String()
}

// manifest wraps a case's code in an app and an agent. The code block's
// first line is line 15 of agent.yaml, at column 13; an init block (2 lines
// and its own), a tables list (1 line and one per table) and an entrypoint
// (1 line) come before it and push it down.
func (c *codeCase) manifest() (string, error) {
	op, lang, src, ok := c.block()
	if !ok {
		return "", fmt.Errorf("no code section (map.py, filter.star, map.go, ...)")
	}
	var b strings.Builder
	b.WriteString("apiVersion: kaspr.io/v1alpha1\nkind: KasprAgent\nmetadata:\n  name: case\nspec:\n  input:\n    topic:\n      name: in\n  processors:\n    pipeline: [op]\n")
	if init, ok := c.get("init.py"); ok {
		b.WriteString("    init:\n      python: |\n" + indent(init, "        "))
	}
	b.WriteString("    operations:\n      - name: op\n")
	if tables, ok := c.get("tables"); ok {
		b.WriteString("        tables:\n")
		for _, name := range strings.Fields(tables) {
			fmt.Fprintf(&b, "          - {name: %s, paramName: %s}\n", name, name)
		}
	}
	fmt.Fprintf(&b, "        %s:\n", op)
	if e, ok := c.get("entrypoint"); ok {
		fmt.Fprintf(&b, "          entrypoint: %s\n", strings.TrimSpace(e))
	}
	fmt.Fprintf(&b, "          %s: |\n%s", lang, indent(src, "            "))
	return b.String(), nil
}

const caseApp = `apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: cases
spec:
  bootstrapServers: localhost:9092
  config:
    codeMaxSteps: 100000
    codeTimeout: 1s
`

// run loads, compiles and calls a case, returning its output or error.
func (c *codeCase) run(t *testing.T) (output, errText string) {
	t.Helper()
	m, err := c.manifest()
	if err != nil {
		t.Fatal(err)
	}
	appYAML := caseApp
	var tables []string
	if s, ok := c.get("tables"); ok {
		tables = strings.Fields(s)
		for _, name := range tables {
			appYAML += fmt.Sprintf("---\napiVersion: kaspr.io/v1alpha1\nkind: KasprTable\nmetadata: {name: %s}\nspec: {name: %s}\n", name, name)
		}
	}
	b, err := spec.Parse(spec.File{Name: "app.yaml", Data: []byte(appYAML)}, spec.File{Name: "agent.yaml", Data: []byte(m)})
	if err != nil {
		t.Fatalf("the case's manifest does not load:\n%v\n%s", err, m)
	}
	app := b.Apps[0]
	opts := OptionsFor(app.App)
	var printed []string
	opts.Print = func(pos spec.Pos, msg string) { printed = append(printed, fmt.Sprintf("%s: %s", pos, msg)) }
	prog, err := Compile(app.Agents[0], opts)
	if err != nil {
		return "", err.Error() + "\n"
	}
	f := prog.Func("spec.processors.operations[0]." + map[bool]string{true: "map", false: "filter"}[c.isMap()])
	var args starlark.Tuple
	if in, ok := c.get("input"); ok {
		v, err := DecodeJSON([]byte(in))
		if err != nil {
			t.Fatalf("input: %v", err)
		}
		args = starlark.Tuple{v}
	}
	mem := map[string]*MemTable{}
	var kwargs []starlark.Tuple
	for _, name := range tables {
		mem[name] = NewMemTable()
		deflt := func() (Value, error) { return starlark.MakeInt(0), nil }
		kwargs = append(kwargs, starlark.Tuple{starlark.String(name), NewTableValue(name, mem[name], deflt, false)})
	}
	ev := &Event{Key: starlark.String("k1"), Value: starlark.None, Topic: "in", Partition: 2, Offset: 42,
		Timestamp: time.Unix(1700000000, 500_000_000).UTC(), Headers: []Header{{"trace", []byte("abc")}}}
	if len(args) > 0 {
		ev.Value = args[0]
	}
	th := NewThread(opts)
	var out bytes.Buffer
	calls := 1
	if s, ok := c.get("calls"); ok {
		fmt.Sscan(s, &calls)
	}
	for i := 0; i < calls; i++ {
		v, err := f.Call(th, ev, args, kwargs)
		if err != nil {
			return out.String(), err.Error() + "\n"
		}
		out.WriteString(render(v))
	}
	for _, name := range tables {
		fmt.Fprintf(&out, "table %s:", name)
		mem[name].Scan(starlark.None, func(k, v Value) bool {
			fmt.Fprintf(&out, " %s=%s", strings.TrimSpace(render(k)), strings.TrimSpace(render(v)))
			return true
		})
		out.WriteString("\n")
	}
	for _, p := range printed {
		out.WriteString("print " + p + "\n")
	}
	return out.String(), ""
}

func (c *codeCase) isMap() bool { op, _, _, _ := c.block(); return op == "map" }

// render writes a result as JSON where it can, else as Starlark prints it.
func render(v Value) string {
	if items, ok := Fanned(v); ok {
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = strings.TrimSuffix(render(it), "\n")
		}
		return "fanout " + strings.Join(parts, " ") + "\n"
	}
	if b, err := EncodeJSON(v); err == nil {
		return string(b) + "\n"
	}
	return v.String() + "\n"
}

func TestCodeCases(t *testing.T) {
	paths, _ := filepath.Glob("testdata/cases/*.txt")
	if len(paths) == 0 {
		t.Fatal("no cases")
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c := parseCodeCase(string(data))
			output, errText := c.run(t)
			if *update {
				if output != "" || errText == "" {
					c.Set("output", output)
				}
				if errText != "" {
					c.Set("error", errText)
				} else {
					c.Remove("error")
				}
				if err := os.WriteFile(path, c.Format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantOut, hasOut := c.get("output")
			wantErr, hasErr := c.get("error")
			if !hasOut && !hasErr {
				t.Fatalf("%s: no -- output -- or -- error -- section", path)
			}
			if hasOut && output != wantOut {
				t.Errorf("%s: output differs\n--- want\n%s--- got\n%s", path, wantOut, output)
			}
			if errText != wantErr {
				t.Errorf("%s: error differs\n--- want\n%s--- got\n%s", path, wantErr, errText)
			}
		})
	}
}
