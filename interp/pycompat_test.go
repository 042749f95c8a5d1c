package interp

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.starlark.net/lib/json"
	"go.starlark.net/lib/math"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// The cases are data under testdata/pycompat:
//   - translate/*.txt: "=== name", Python source, then "--- out" (the
//     Starlark) and "--- lines" (the line map), or "--- error"
//     ("line:column: message" of the CompatError);
//   - exec/*.py: Python run through the layer; its asserts are the test.
//     "# want-error: text" says the run must fail with text in the error,
//     "# want-error-line: n" at line n of the Python;
//   - format.txt: value, spec, conversion and Python's result of a field,
//     tab-separated (made with CPython);
//   - percent.txt, strformat.txt and decode.txt: CPython's results of
//     format % args, format.format(...) and bytes.decode(...), made by
//     gen_tables.py.
//
// go test -run 'TestTranslatePython' ./interp/ -pycompat.update rewrites the
// expected sections of translate/*.txt with what the code does.
var pyUpdate = flag.Bool("pycompat.update", false, "rewrite the expected sections of testdata/pycompat/translate")

var pyFileOptions = &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}

type pyCase struct {
	name, src   string
	out, lines  string
	err         string
	hasExpected bool
}

func parsePyCases(t *testing.T, data string) []*pyCase {
	t.Helper()
	var cases []*pyCase
	var c *pyCase
	var section *string
	for _, line := range strings.SplitAfter(data, "\n") {
		trimmed := strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(trimmed, "=== "):
			c = &pyCase{name: strings.TrimPrefix(trimmed, "=== ")}
			cases = append(cases, c)
			section = &c.src
		case c == nil:
			// comments before the first case
		case trimmed == "--- out":
			section, c.hasExpected = &c.out, true
		case trimmed == "--- lines":
			section, c.hasExpected = &c.lines, true
		case trimmed == "--- error":
			section, c.hasExpected = &c.err, true
		default:
			*section += line
		}
	}
	for _, c := range cases {
		c.src = strings.TrimSuffix(c.src, "\n") + "\n"
		c.out = strings.TrimSuffix(c.out, "\n")
		c.lines = strings.TrimSpace(c.lines)
		c.err = strings.TrimSpace(c.err)
	}
	return cases
}

func formatPyCases(cases []*pyCase) string {
	var b strings.Builder
	for i, c := range cases {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "=== %s\n%s", c.name, c.src)
		if c.err != "" {
			fmt.Fprintf(&b, "--- error\n%s\n", c.err)
			continue
		}
		fmt.Fprintf(&b, "--- out\n%s\n--- lines\n%s\n", c.out, c.lines)
	}
	return b.String()
}

func pyLinesString(lines []int) string {
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = strconv.Itoa(l)
	}
	return strings.Join(s, " ")
}

// translateCase translates a case's source and returns what the expected
// sections should hold.
func translateCase(src string) (out, lines, errText string) {
	o, l, err := translatePython(src)
	if err != nil {
		var ce *CompatError
		if errors.As(err, &ce) {
			return "", "", fmt.Sprintf("%d:%d: %s", ce.Line, ce.Column, ce.Error())
		}
		return "", "", "not a CompatError: " + err.Error()
	}
	return strings.TrimSuffix(o, "\n"), pyLinesString(l), ""
}

func TestTranslatePython(t *testing.T) {
	files, err := filepath.Glob("testdata/pycompat/translate/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		cases := parsePyCases(t, string(data))
		for _, c := range cases {
			t.Run(filepath.Base(file)+"/"+c.name, func(t *testing.T) {
				out, lines, errText := translateCase(c.src)
				if *pyUpdate {
					c.out, c.lines, c.err = out, lines, errText
				} else {
					if !c.hasExpected {
						t.Fatalf("%s: case %q has no expected sections (run with -pycompat.update)", file, c.name)
					}
					if errText != c.err {
						t.Errorf("%s: case %q: error\ngot:  %s\nwant: %s", file, c.name, errText, c.err)
					}
					if out != c.out {
						t.Errorf("%s: case %q: output\n%s", file, c.name, pyDiff(c.out, out))
					}
					if lines != c.lines {
						t.Errorf("%s: case %q: line map\ngot:  %s\nwant: %s", file, c.name, lines, c.lines)
					}
				}
				if errText == "" {
					if n := strings.Count(out+"\n", "\n"); n != len(strings.Fields(lines)) {
						t.Errorf("%s: case %q: %d output lines, %d in the line map", file, c.name, n, len(strings.Fields(lines)))
					}
					if _, err := pyFileOptions.Parse(c.name, out, 0); err != nil {
						t.Errorf("%s: case %q: Starlark does not parse the output: %v\n%s", file, c.name, err, out)
					}
				}
			})
		}
		if *pyUpdate {
			if err := os.WriteFile(file, []byte(formatPyCases(cases)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// pyDiff shows want and got line by line, marking the lines that differ.
func pyDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl == gl {
			fmt.Fprintf(&b, "  %s\n", wl)
			continue
		}
		if i < len(w) {
			fmt.Fprintf(&b, "- %s\n", wl)
		}
		if i < len(g) {
			fmt.Fprintf(&b, "+ %s\n", gl)
		}
	}
	return b.String()
}

// pyTestImport provides json and math, as the runtime's modules would.
func pyTestImport(name string) (starlark.Value, error) {
	switch name {
	case "json":
		return json.Module, nil
	case "math":
		return math.Module, nil
	}
	return nil, fmt.Errorf("ModuleNotFoundError: no module named %q (the modules are json, math)", name)
}

// pyTestFanout stands in for the runtime's fanout: a struct holding the
// items, so tests can compare it with ==.
var pyTestFanout = starlark.NewBuiltin("fanout", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var items *starlark.List
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &items); err != nil {
		return nil, err
	}
	return starlarkstruct.FromStringDict(starlark.String("fanout"), starlark.StringDict{"items": items}), nil
})

// runPython translates src and runs it; the error's line is the Python
// line of the innermost frame (0 if none).
func runPython(t *testing.T, name, src string) (starlark.StringDict, int, error) {
	t.Helper()
	out, lines, err := translatePython(src)
	if err != nil {
		return nil, 0, err
	}
	predeclared := compatBuiltins(pyTestImport)
	predeclared["fanout"] = pyTestFanout
	thread := &starlark.Thread{Name: name, Print: func(_ *starlark.Thread, msg string) { t.Log(msg) }}
	thread.SetMaxExecutionSteps(1_000_000)
	globals, err := starlark.ExecFileOptions(pyFileOptions, thread, name, out, predeclared)
	if err == nil {
		return globals, 0, nil
	}
	line := 0
	var ee *starlark.EvalError
	var se syntax.Error
	switch {
	case errors.As(err, &ee):
		for i := len(ee.CallStack) - 1; i >= 0; i-- {
			if l := int(ee.CallStack[i].Pos.Line); ee.CallStack[i].Pos.Filename() == name && l >= 1 && l <= len(lines) {
				line = lines[l-1]
				break
			}
		}
	case errors.As(err, &se):
		if l := int(se.Pos.Line); l >= 1 && l <= len(lines) {
			line = lines[l-1]
		}
	}
	if line == 0 {
		t.Logf("translated:\n%s", out)
	}
	return globals, line, err
}

func TestPythonExec(t *testing.T) {
	files, err := filepath.Glob("testdata/pycompat/exec/*.py")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			src := string(data)
			var wantErr string
			wantLine := 0
			for _, l := range strings.Split(src, "\n") {
				if s, ok := strings.CutPrefix(l, "# want-error: "); ok {
					wantErr = s
				}
				if s, ok := strings.CutPrefix(l, "# want-error-line: "); ok {
					wantLine, _ = strconv.Atoi(s)
				}
			}
			_, line, err := runPython(t, filepath.Base(file), src)
			switch {
			case wantErr == "" && err != nil:
				t.Fatalf("%s:%d: %v", file, line, err)
			case wantErr != "" && err == nil:
				t.Fatalf("%s: ran, want an error with %q", file, wantErr)
			case wantErr != "" && !strings.Contains(err.Error(), wantErr):
				t.Fatalf("%s: error %q, want one with %q", file, err, wantErr)
			case wantLine != 0 && line != wantLine:
				t.Fatalf("%s: error at line %d, want %d: %v", file, line, wantLine, err)
			}
		})
	}
}

// TestPythonRaise checks what a raise statement fails with.
func TestPythonRaise(t *testing.T) {
	_, line, err := runPython(t, "raise.py", "def f(x):\n    if x < 0:\n        raise ValueError(f\"negative: {x}\")\n    return x\n\nf(-2)\n")
	var re *RaisedError
	if !errors.As(err, &re) || re.Type != "ValueError" || re.Message != "negative: -2" || err.Error() != "ValueError: negative: -2" {
		t.Fatalf("got %v (%#v), want ValueError: negative: -2", err, re)
	}
	if line != 3 {
		t.Errorf("error at line %d, want 3", line)
	}
}

// TestPyFormat checks __fmt against CPython's format results.
func TestPyFormat(t *testing.T) {
	data, err := os.ReadFile("testdata/pycompat/format.txt")
	if err != nil {
		t.Fatal(err)
	}
	fmtFn := compatBuiltins(nil)["__fmt"]
	n := 0
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			t.Fatalf("format.txt:%d: want 4 tab-separated fields, got %d", i+1, len(f))
		}
		v, err := starlark.EvalOptions(pyFileOptions, &starlark.Thread{}, "value", f[0], nil)
		if err != nil {
			t.Fatalf("format.txt:%d: value %s: %v", i+1, f[0], err)
		}
		got, err := starlark.Call(&starlark.Thread{}, fmtFn, starlark.Tuple{v, starlark.String(f[1]), starlark.String(f[2])}, nil)
		want, _ := strconv.Unquote(f[3])
		switch {
		case strings.HasPrefix(f[3], "error:"):
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(f[3], "error:")) {
				t.Errorf("format.txt:%d: format(%s, %q) = %v, %v; want error %s", i+1, f[0], f[1], got, err, f[3])
			}
		case err != nil:
			t.Errorf("format.txt:%d: format(%s, %q): %v; want %q", i+1, f[0], f[1], err, want)
		case string(got.(starlark.String)) != want:
			t.Errorf("format.txt:%d: format(%s, %q, %q) = %q, want %q", i+1, f[0], f[1], f[2], got, want)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no cases in format.txt")
	}
}

// TestTranslateLineCount checks that the line map covers the output and
// never goes back, for every exec case.
func TestTranslateLineCount(t *testing.T) {
	files, _ := filepath.Glob("testdata/pycompat/exec/*.py")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out, lines, err := translatePython(string(data))
		if err != nil {
			continue
		}
		outLines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(outLines) != len(lines) {
			t.Errorf("%s: %d output lines, %d in the line map", file, len(outLines), len(lines))
		}
		for i := 1; i < len(lines); i++ {
			if lines[i] < lines[i-1] {
				t.Errorf("%s: line map goes back at output line %d: %v", file, i+1, lines)
			}
		}
	}
}

func FuzzTranslatePython(f *testing.F) {
	files, _ := filepath.Glob("testdata/pycompat/exec/*.py")
	for _, file := range files {
		data, _ := os.ReadFile(file)
		f.Add(string(data))
	}
	f.Add("x = f\"{a!r:>{w}}\" 'b'\ndef g():\n\tyield 1\n")
	f.Add(`A.""B""%`)
	f.Fuzz(func(t *testing.T, src string) {
		out, lines, err := translatePython(src)
		if err != nil {
			var ce *CompatError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *CompatError", err)
			}
			return
		}
		if n := strings.Count(strings.TrimSuffix(out, "\n"), "\n") + 1; out != "" && n != len(lines) {
			t.Fatalf("%d output lines, %d in the line map\n%s", n, len(lines), out)
		}
		// Starlark is nearly a subset of Python: what it parses as it is
		// must still parse after the rewrites.
		if _, err := pyFileOptions.Parse("in", src, 0); err == nil {
			if _, err := pyFileOptions.Parse("out", out, 0); err != nil {
				t.Fatalf("the output of Starlark source does not parse: %v\n%s\n---\n%s", err, src, out)
			}
		}
	})
}

// TestTranslateSourceEdges covers sources the text cases cannot hold: no
// final line break, and CRLF line ends.
func TestTranslateSourceEdges(t *testing.T) {
	for _, tc := range []struct{ src, out, lines string }{
		{"def g(xs):\n    for x in xs:\n        yield x", "def g(xs):\n    __out = []\n    for x in xs:\n        __out.append(x)\n    return fanout(__out)", "1 1 2 3 3"},
		{"x = a is None", "x = a == None", "1"},
		{"if x:\r\n    y = 0 < x < 2\r\n", "if x:\r\n    y = (0 < x and x < 2)\r\n", "1 2"},
		{"", "", ""},
		{"# only a comment", "# only a comment", "1"},
	} {
		out, lines, err := translatePython(tc.src)
		if err != nil || out != tc.out || pyLinesString(lines) != tc.lines {
			t.Errorf("translatePython(%q) = %q, [%s], %v; want %q, [%s]", tc.src, out, pyLinesString(lines), err, tc.out, tc.lines)
		}
	}
}

// TestPyFormatStrftime: a field with a spec formats a date with strftime.
func TestPyFormatStrftime(t *testing.T) {
	date := starlarkstruct.FromStringDict(starlark.String("date"), starlark.StringDict{
		"strftime": starlark.NewBuiltin("strftime", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			return starlark.String("formatted " + string(args[0].(starlark.String))), nil
		}),
	})
	got, err := starlark.Call(&starlark.Thread{}, compatBuiltins(nil)["__fmt"], starlark.Tuple{date, starlark.String("%Y"), starlark.String("")}, nil)
	if err != nil || got != starlark.String("formatted %Y") {
		t.Fatalf("got %v, %v", got, err)
	}
}

// pyTableCases reads a table of CPython results made by
// testdata/pycompat/gen_tables.py: tab-separated fields, the first a JSON
// string, the middle ones Starlark expressions, the last the result (a
// JSON string, or error:message).
func pyTableCases(t *testing.T, file string, fields int, run func(format string, vals []starlark.Value) (starlark.Value, error)) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != fields {
			t.Fatalf("%s:%d: want %d tab-separated fields, got %d", file, i+1, fields, len(f))
		}
		format, err := strconv.Unquote(f[0])
		if err != nil {
			t.Fatalf("%s:%d: format %s: %v", file, i+1, f[0], err)
		}
		var vals []starlark.Value
		for _, expr := range f[1 : fields-1] {
			v, err := starlark.EvalOptions(pyFileOptions, &starlark.Thread{}, "value", expr, nil)
			if err != nil {
				t.Fatalf("%s:%d: value %s: %v", file, i+1, expr, err)
			}
			vals = append(vals, v)
		}
		got, err := run(format, vals)
		want := f[fields-1]
		if msg, ok := strings.CutPrefix(want, "error:"); ok {
			if err == nil || !strings.Contains(err.Error(), msg) {
				t.Errorf("%s:%d: %s with %s = %v, %v; want error %s", file, i+1, f[0], strings.Join(f[1:fields-1], ", "), got, err, msg)
			}
		} else {
			w, uerr := strconv.Unquote(want)
			switch {
			case uerr != nil:
				t.Fatalf("%s:%d: result %s: %v", file, i+1, want, uerr)
			case err != nil:
				t.Errorf("%s:%d: %s with %s: %v; want %q", file, i+1, f[0], strings.Join(f[1:fields-1], ", "), err, w)
			case got != starlark.String(w):
				t.Errorf("%s:%d: %s with %s = %v, want %q", file, i+1, f[0], strings.Join(f[1:fields-1], ", "), got, w)
			}
		}
		n++
	}
	if n == 0 {
		t.Fatalf("no cases in %s", file)
	}
}

// TestPyPercent checks __percent against CPython's format % args.
func TestPyPercent(t *testing.T) {
	fn := compatBuiltins(nil)["__percent"]
	pyTableCases(t, "testdata/pycompat/percent.txt", 3, func(format string, vals []starlark.Value) (starlark.Value, error) {
		return starlark.Call(&starlark.Thread{}, fn, starlark.Tuple{starlark.String(format), vals[0]}, nil)
	})
}

// TestPyStrFormat checks __str_format against CPython's str.format.
func TestPyStrFormat(t *testing.T) {
	fn := compatBuiltins(nil)["__str_format"]
	pyTableCases(t, "testdata/pycompat/strformat.txt", 4, func(format string, vals []starlark.Value) (starlark.Value, error) {
		args := append(starlark.Tuple{starlark.String(format)}, vals[0].(starlark.Tuple)...)
		return starlark.Call(&starlark.Thread{}, fn, args, vals[1].(*starlark.Dict).Items())
	})
}

// TestPyDecode checks __decode against CPython's bytes.decode.
func TestPyDecode(t *testing.T) {
	data, err := os.ReadFile("testdata/pycompat/decode.txt")
	if err != nil {
		t.Fatal(err)
	}
	fn := compatBuiltins(nil)["__decode"]
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			t.Fatalf("decode.txt:%d: want 4 tab-separated fields, got %d", i+1, len(f))
		}
		b, err := hex.DecodeString(f[0])
		if err != nil {
			t.Fatalf("decode.txt:%d: %v", i+1, err)
		}
		got, err := starlark.Call(&starlark.Thread{}, fn, starlark.Tuple{starlark.Bytes(b), starlark.String(f[1]), starlark.String(f[2])}, nil)
		if msg, ok := strings.CutPrefix(f[3], "error:"); ok {
			if err == nil || err.Error() != msg {
				t.Errorf("decode.txt:%d: %s.decode(%s, %s) = %v, %v; want error %s", i+1, f[0], f[1], f[2], got, err, msg)
			}
			continue
		}
		want, uerr := strconv.Unquote(f[3])
		switch {
		case uerr != nil:
			t.Fatalf("decode.txt:%d: result %s: %v", i+1, f[3], uerr)
		case err != nil:
			t.Errorf("decode.txt:%d: %s.decode(%s, %s): %v; want %q", i+1, f[0], f[1], f[2], err, want)
		case got != starlark.String(want):
			t.Errorf("decode.txt:%d: %s.decode(%s, %s) = %v, want %q", i+1, f[0], f[1], f[2], got, want)
		}
	}
}
