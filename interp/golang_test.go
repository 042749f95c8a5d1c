package interp_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	yaegi "github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
	"go.starlark.net/starlark"

	"github.com/weirstream/weir/interp"
	"github.com/weirstream/weir/spec"
)

const goManifest = `apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: shop
spec:
  bootstrapServers: localhost:9092
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: orders
  labels:
    kaspr.io/app: shop
spec:
  input:
    topic:
      name: orders
  processors:
    pipeline: [op]
    operations:
      - name: op
        tables:
          - name: counts
            paramName: counts
        map:
          python: |
            def f(v, counts):
                return v
---
apiVersion: kaspr.io/v1alpha1
kind: KasprTable
metadata:
  name: counts
  labels:
    kaspr.io/app: shop
spec:
  name: counts
`

const goOpPath = "spec.processors.operations[0].map"

// goBlockPos is where the hand-built blocks start in their manifest.
var goBlockPos = spec.Pos{File: "agent.yaml", Line: 20, Column: 11}

// compileGoBlock compiles a go block as the map of an agent.
func compileGoBlock(t testing.TB, opts interp.Options, entry, src string) (*interp.Func, error) {
	t.Helper()
	b, err := spec.Parse(spec.File{Name: "agent.yaml", Data: []byte(goManifest)})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	ag := b.App("shop").Agents[0]
	ag.Spec.Processors.Operations[0].Map = &spec.Code{Go: src, Entrypoint: entry, Pos: goBlockPos}
	prog, err := interp.Compile(ag, opts)
	if err != nil {
		return nil, err
	}
	f := prog.Func(goOpPath)
	if f == nil {
		t.Fatalf("no func at %s", goOpPath)
	}
	return f, nil
}

func mustCompileGo(t testing.TB, opts interp.Options, entry, src string) *interp.Func {
	t.Helper()
	f, err := compileGoBlock(t, opts, entry, src)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return f
}

// wantLoadError compiles src and checks the error's YAML line (the
// block's line+19) and message.
func wantLoadError(t *testing.T, entry, src string, blockLine int, contains ...string) {
	t.Helper()
	_, err := compileGoBlock(t, interp.Options{App: "shop"}, entry, src)
	if err == nil {
		t.Fatalf("compiled; want an error containing %q", contains)
	}
	var es spec.Errors
	if !errors.As(err, &es) || len(es) == 0 {
		t.Fatalf("error %T %v, want spec.Errors", err, err)
	}
	e := es[0]
	if e.Pos.File != "agent.yaml" || e.Pos.Line != goBlockPos.Line+blockLine-1 {
		t.Errorf("error at %s, want agent.yaml:%d: %v", e.Pos, goBlockPos.Line+blockLine-1, err)
	}
	for _, c := range contains {
		if !strings.Contains(e.Message, c) {
			t.Errorf("error %q does not contain %q", e.Message, c)
		}
	}
}

func dict(t testing.TB, kv ...any) *starlark.Dict {
	t.Helper()
	d := starlark.NewDict(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		v, err := interp.FromGo(kv[i+1])
		if err != nil {
			t.Fatal(err)
		}
		if err := d.SetKey(starlark.String(kv[i].(string)), v); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestGoMap(t *testing.T) {
	f := mustCompileGo(t, interp.Options{App: "shop"}, "Enrich", `package main

import (
	"strings"

	"weir"
)

func Enrich(ctx *weir.Context, value any) (any, error) {
	order := value.(map[string]any)
	order["country"] = strings.ToUpper(order["country"].(string))
	order["qty"] = order["qty"].(int64) * 2
	order["app"] = ctx.App
	return order, nil
}
`)
	if f.Entry() != "Enrich" || f.Pos() != goBlockPos {
		t.Errorf("entry %q at %v", f.Entry(), f.Pos())
	}
	in := dict(t, "country", "nl", "qty", 3)
	out, err := f.Call(interp.NewThread(interp.Options{App: "shop"}), nil, starlark.Tuple{in}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), `{"app": "shop", "country": "NL", "qty": 6}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if in.String() != `{"country": "nl", "qty": 3}` {
		t.Errorf("the input changed: %s", in)
	}
}

func TestGoFilter(t *testing.T) {
	f := mustCompileGo(t, interp.Options{}, "Big", `package main

func Big(value any) any {
	return value.(map[string]any)["amount"].(float64) > 100
}
`)
	th := interp.NewThread(interp.Options{})
	for amount, want := range map[float64]starlark.Bool{50: false, 150: true} {
		out, err := f.Call(th, nil, starlark.Tuple{dict(t, "amount", amount)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out != want {
			t.Errorf("amount %v: got %v, want %v", amount, out, want)
		}
	}
}

func TestGoEvent(t *testing.T) {
	f := mustCompileGo(t, interp.Options{}, "Describe", `package main

import (
	"fmt"
	"time"

	"weir"
)

func Describe(ctx *weir.Context, value any) any {
	e := ctx.Event
	return map[string]any{
		"where":   fmt.Sprintf("%s[%d]@%d", e.Topic, e.Partition, e.Offset),
		"key":     e.Key,
		"same":    e.Value.(map[string]any)["id"] == value.(map[string]any)["id"],
		"trace":   string(e.Headers["trace"]),
		"ts":      e.Timestamp.UTC().Format(time.RFC3339),
		"noEvent": ctx.Tables == nil,
	}
}
`)
	v := dict(t, "id", 7)
	ev := &interp.Event{
		Key: starlark.String("k1"), Value: v, Topic: "orders", Partition: 2, Offset: 41,
		Headers:   []interp.Header{{Key: "trace", Value: []byte("abc")}},
		Timestamp: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
	}
	out, err := f.Call(interp.NewThread(interp.Options{}), ev, starlark.Tuple{v}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"key": "k1", "noEvent": True, "same": True, "trace": "abc", "ts": "2025-03-01T12:00:00Z", "where": "orders[2]@41"}`
	if out.String() != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}

func TestGoTables(t *testing.T) {
	f := mustCompileGo(t, interp.Options{}, "Count", `package main

import "weir"

func Count(ctx *weir.Context, value any) any {
	counts := ctx.Tables["counts"]
	word := value.(string)
	n, _ := counts.Get(word)
	counts.Set(word, n.(int64)+1)
	counts.Set("seen:"+word, true)
	counts.Delete("gone")
	_, missing := counts.Get("nope")
	return map[string]any{
		"n":       n.(int64) + 1,
		"len":     counts.Len(),
		"items":   len(counts.Items()),
		"seen":    counts.PrefixScan("seen:"),
		"missing": !missing,
		"user":    ctx.Params["user"],
	}
}
`)
	mem := interp.NewMemTable()
	if err := mem.Set(starlark.String("gone"), starlark.MakeInt(1)); err != nil {
		t.Fatal(err)
	}
	tv := interp.NewTableValue("counts", mem, func() (interp.Value, error) { return starlark.MakeInt(0), nil }, false)
	kwargs := []starlark.Tuple{{starlark.String("counts"), tv}, {starlark.String("user"), starlark.String("ann")}}
	th := interp.NewThread(interp.Options{})
	var out interp.Value
	var err error
	for range 2 {
		if out, err = f.Call(th, nil, starlark.Tuple{starlark.String("apple")}, kwargs); err != nil {
			t.Fatal(err)
		}
	}
	want := `{"items": 2, "len": 2, "missing": True, "n": 2, "seen": [["seen:apple", True]], "user": "ann"}`
	if out.String() != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	v, ok, _ := mem.Get(starlark.String("apple"))
	if !ok || v.String() != "2" {
		t.Errorf("table apple = %v %v, want 2", v, ok)
	}
	if _, ok, _ := mem.Get(starlark.String("gone")); ok {
		t.Error("gone is still in the table")
	}

	// A read-only table panics with a weir error; the call reports it.
	ro := interp.NewTableValue("counts", mem, func() (interp.Value, error) { return starlark.MakeInt(0), nil }, true)
	_, err = f.Call(th, nil, starlark.Tuple{starlark.String("pear")}, []starlark.Tuple{{starlark.String("counts"), ro}})
	var ie *interp.Error
	if !errors.As(err, &ie) || !strings.Contains(ie.Message, "table counts is read-only") || ie.Pos.Line != goBlockPos.Line+4 {
		t.Errorf("read-only table: got %v, want a table error at line %d", err, goBlockPos.Line+4)
	}
}

func TestGoFanout(t *testing.T) {
	f := mustCompileGo(t, interp.Options{}, "Split", `package main

import (
	"strings"

	"weir"
)

func Split(value any) any {
	var items []any
	for _, w := range strings.Fields(value.(string)) {
		items = append(items, w)
	}
	return weir.Fanout(items...)
}
`)
	out, err := f.Call(interp.NewThread(interp.Options{}), nil, starlark.Tuple{starlark.String("a b c")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	items, ok := interp.Fanned(out)
	if !ok || len(items) != 3 || items[2] != starlark.String("c") {
		t.Errorf("got %v, want fanout of a, b, c", out)
	}
}

func TestGoTask(t *testing.T) {
	f := mustCompileGo(t, interp.Options{App: "shop"}, "Tick", `package main

import "weir"

var calls int

func Tick(ctx *weir.Context) (any, error) {
	calls++
	return map[string]any{"app": ctx.App, "calls": calls, "event": ctx.Event == nil}, nil
}
`)
	th := interp.NewThread(interp.Options{App: "shop"})
	var out interp.Value
	var err error
	for range 2 {
		if out, err = f.Call(th, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if want := `{"app": "shop", "calls": 2, "event": True}`; out.String() != want {
		t.Errorf("got %s, want %s", out, want)
	}
	// Package variables belong to the thread.
	out, err = f.Call(interp.NewThread(interp.Options{App: "shop"}), nil, nil, nil)
	if err != nil || !strings.Contains(out.String(), `"calls": 1`) {
		t.Errorf("another thread: got %v %v, want calls 1", out, err)
	}
	if _, err := f.Call(th, nil, starlark.Tuple{starlark.None}, nil); err == nil || !strings.Contains(err.Error(), "takes no value") {
		t.Errorf("called with a value: %v", err)
	}
}

func TestGoReturnsError(t *testing.T) {
	f := mustCompileGo(t, interp.Options{}, "Check", `package main

import (
	"errors"
	"fmt"
)

type badValue struct{ v any }

func (b *badValue) Error() string { return fmt.Sprintf("bad value %v", b.v) }

func Check(value any) (any, error) {
	if value == nil {
		return nil, errors.New("no value")
	}
	if value == "custom" {
		return nil, &badValue{value}
	}
	if value == "wrapped" {
		return nil, fmt.Errorf("check: %w", errors.New("inner"))
	}
	return value, nil
}
`)
	th := interp.NewThread(interp.Options{})
	for in, want := range map[starlark.Value]string{starlark.None: "no value", starlark.String("custom"): "bad value custom", starlark.String("wrapped"): "check: inner"} {
		_, err := f.Call(th, nil, starlark.Tuple{in}, nil)
		var ie *interp.Error
		if !errors.As(err, &ie) || ie.Message != want || ie.Pos.Line != goBlockPos.Line+11 || ie.Path != goOpPath {
			t.Errorf("%v: got %v, want %q at line %d", in, err, want, goBlockPos.Line+11)
		}
	}
	out, err := f.Call(th, nil, starlark.Tuple{starlark.MakeInt(1)}, nil)
	if err != nil || out != starlark.MakeInt(1) {
		t.Errorf("got %v %v", out, err)
	}
}

func TestGoLoadErrors(t *testing.T) {
	t.Run("forbidden import", func(t *testing.T) {
		wantLoadError(t, "F", "package main\n\nimport (\n\t\"strings\"\n\t\"os\"\n)\n\nfunc F(v any) any { return strings.ToUpper(os.Getenv(\"X\")) }\n",
			5, `package "os" is not available to go code blocks (allowed: weir, bytes,`)
	})
	for _, p := range []string{"os/exec", "net/http", "syscall", "unsafe", "reflect", "io/ioutil", "runtime", "path/filepath", "bufio", "github.com/x/y"} {
		wantLoadError(t, "F", "package main\n\nimport _ \""+p+"\"\n\nfunc F(v any) any { return v }\n", 3, fmt.Sprintf("package %q is not available", p))
	}
	t.Run("range over int", func(t *testing.T) {
		wantLoadError(t, "F", "package main\n\nfunc F(v any) any {\n\tn := 0\n\tfor i := range 4 {\n\t\tn += i\n\t}\n\treturn n\n}\n",
			5, "range over an int is not supported")
	})
	t.Run("range over func", func(t *testing.T) {
		wantLoadError(t, "F", "package main\n\nfunc seq(yield func(int) bool) {}\n\nfunc F(v any) any {\n\tfor x := range seq {\n\t\t_ = x\n\t}\n\treturn v\n}\n",
			6, "range over a function is not supported")
	})
	t.Run("syntax error", func(t *testing.T) {
		wantLoadError(t, "F", "package main\n\nfunc F(v any) any {\n\treturn v +\n}\n", 5, "syntax error")
	})
	t.Run("undefined", func(t *testing.T) {
		wantLoadError(t, "F", "package main\n\nfunc F(v any) any {\n\treturn nope\n}\n", 4, "undefined: nope")
	})
	t.Run("wrong signature", func(t *testing.T) {
		wantLoadError(t, "F", "package main\n\nfunc F(v map[string]any) map[string]any {\n\treturn v\n}\n",
			3, "entrypoint F is func(v map[string]any) map[string]any: it must have one of these shapes: func(value any) any")
	})
	t.Run("missing entrypoint", func(t *testing.T) {
		wantLoadError(t, "", "package main\n\nfunc F(v any) any { return v }\n", 1, "needs an entrypoint", "(it defines F)")
	})
	t.Run("undefined entrypoint", func(t *testing.T) {
		wantLoadError(t, "G", "package main\n\nfunc F(v any) any { return v }\n", 1, `entrypoint "G" is not defined`, "(it defines F)")
	})
	t.Run("entrypoint is a var", func(t *testing.T) {
		wantLoadError(t, "G", "package main\n\nvar G = func(v any) any { return v }\n", 3, "must be a top-level func, not a var")
	})
	t.Run("not main", func(t *testing.T) {
		wantLoadError(t, "F", "package blocks\n\nfunc F(v any) any { return v }\n", 1, "must be package main")
	})
	t.Run("go statement", func(t *testing.T) {
		wantLoadError(t, "F", "package main\n\nfunc F(v any) any {\n\tgo func() {}()\n\treturn v\n}\n", 4, "go statements are not allowed")
	})
	t.Run("unsupported generic", func(t *testing.T) {
		wantLoadError(t, "F", "package main\n\nimport \"slices\"\n\nfunc F(v any) any {\n\treturn slices.Clone([]int{1})\n}\n", 1, "cannot instantiate a generic function", "use sort and loops")
	})
	t.Run("max builtin", func(t *testing.T) {
		wantLoadError(t, "F", "package main\n\nfunc F(v any) any {\n\treturn max(1, 2)\n}\n", 4, "undefined: max")
	})
	t.Run("time.AfterFunc", func(t *testing.T) {
		wantLoadError(t, "F", "package main\n\nimport \"time\"\n\nfunc F(v any) any {\n\ttime.AfterFunc(time.Second, func() {})\n\treturn v\n}\n", 6, "AfterFunc")
	})
	t.Run("init panics", func(t *testing.T) {
		wantLoadError(t, "F", "package main\n\nfunc init() {\n\tpanic(\"boom\")\n}\n\nfunc F(v any) any { return v }\n", 3, "panic: boom (in func init)")
	})
}

func TestGoPanic(t *testing.T) {
	f := mustCompileGo(t, interp.Options{}, "F", `package main

func set(m map[string]any) {
	var nilMap map[string]int
	nilMap["a"] = 1
}

func F(value any) any {
	if value == "assert" {
		return value.(int)
	}
	set(nil)
	return value
}
`)
	th := interp.NewThread(interp.Options{})
	_, err := f.Call(th, nil, starlark.Tuple{starlark.None}, nil)
	var ie *interp.Error
	if !errors.As(err, &ie) {
		t.Fatalf("got %v, want an *interp.Error", err)
	}
	// yaegi tells the functions a panic unwound, not their lines.
	if ie.Message != "panic: assignment to entry in nil map (in func set)" || ie.Pos.Line != goBlockPos.Line+2 {
		t.Errorf("got %q at %v, want the panic in set at line %d", ie.Message, ie.Pos, goBlockPos.Line+2)
	}
	if len(ie.Frames) != 2 || ie.Frames[0].Func != "F" || ie.Frames[0].Pos.Line != goBlockPos.Line+7 || ie.Frames[1].Func != "set" {
		t.Errorf("frames %+v", ie.Frames)
	}
	// A failed type assertion has its line. The thread goes on.
	_, err = f.Call(th, nil, starlark.Tuple{starlark.String("assert")}, nil)
	if !errors.As(err, &ie) || !strings.Contains(ie.Message, "panic: interface conversion: interface {} is string, not int") || ie.Pos.Line != goBlockPos.Line+9 {
		t.Errorf("got %v, want the type assertion at line %d", err, goBlockPos.Line+9)
	}
}

// TestGoBoolResult covers the yaegi bug that fixBoolReturns works around:
// returning a comparison as an any.
func TestGoBoolResult(t *testing.T) {
	f := mustCompileGo(t, interp.Options{}, "F", `package main

func F(value any) (any, error) {
	n := value.(int64)
	check := func() any { return !(n > 1) }
	if n > 10 {
		return n > 100, nil
	}
	return check(), nil
}
`)
	th := interp.NewThread(interp.Options{})
	for n, want := range map[int]starlark.Value{5: starlark.False, 0: starlark.True, 50: starlark.False, 500: starlark.True} {
		out, err := f.Call(th, nil, starlark.Tuple{starlark.MakeInt(n)}, nil)
		if err != nil || out != want {
			t.Errorf("%d: got %v %v, want %v", n, out, err, want)
		}
	}
}

func TestGoTimeout(t *testing.T) {
	opts := interp.Options{Timeout: 50 * time.Millisecond}
	f := mustCompileGo(t, opts, "F", `package main

var calls int

func F(value any) any {
	calls++
	if value == "spin" {
		for {
		}
	}
	return calls
}
`)
	th := interp.NewThread(opts)
	start := time.Now()
	_, err := f.Call(th, nil, starlark.Tuple{starlark.String("spin")}, nil)
	if err == nil || !strings.Contains(err.Error(), "ran longer than 50ms (codeTimeout)") {
		t.Fatalf("got %v, want a timeout", err)
	}
	if !strings.Contains(err.Error(), "was stopped") {
		t.Errorf("the loop was not stopped: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the call took %v", d)
	}
	// The thread has a fresh interpreter: package variables start over.
	out, err := f.Call(th, nil, starlark.Tuple{starlark.String("ok")}, nil)
	if err != nil || out.String() != "1" {
		t.Errorf("after a timeout: got %v %v, want 1", out, err)
	}
}

func TestGoTimeoutInInit(t *testing.T) {
	opts := interp.Options{Timeout: 50 * time.Millisecond}
	_, err := compileGoBlock(t, opts, "F", "package main\n\nfunc init() {\n\tfor {\n\t}\n}\n\nfunc F(v any) any { return v }\n")
	if err == nil || !strings.Contains(err.Error(), "package initialization") {
		t.Errorf("got %v, want an init timeout", err)
	}
}

func TestGoPrint(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	opts := interp.Options{Print: func(pos spec.Pos, msg string) {
		mu.Lock()
		lines = append(lines, fmt.Sprintf("%s %s", pos, msg))
		mu.Unlock()
	}}
	f := mustCompileGo(t, opts, "F", "package main\n\nimport \"fmt\"\n\nfunc F(v any) any {\n\tfmt.Println(\"got\", v)\n\treturn v\n}\n")
	if _, err := f.Call(interp.NewThread(opts), nil, starlark.Tuple{starlark.MakeInt(3)}, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 1 || lines[0] != "agent.yaml:20:11 got 3" {
		t.Errorf("printed %q", lines)
	}
}

func TestGoPackages(t *testing.T) {
	f := mustCompileGo(t, interp.Options{}, "F", `package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
)

type rec struct {
	Name string `+"`json:\"name\"`"+`
	N    int    `+"`json:\"n,omitempty\"`"+`
}

func F(value any) any {
	m := value.(map[string]any)
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !slices.Contains(keys, "a") || slices.Index(keys, "b") != 1 {
		panic("slices")
	}
	sum := sha256.Sum256([]byte("x"))
	b, _ := json.Marshal(m)
	return map[string]any{
		"keys": keys,
		"hex":  hex.EncodeToString(sum[:2]),
		"json": string(b),
		"n":    strconv.Itoa(len(keys)),
		"rec":  rec{Name: "a"},
		"big":  uint64(1) << 63,
	}
}
`)
	out, err := f.Call(interp.NewThread(interp.Options{}), nil, starlark.Tuple{dict(t, "b", 1, "a", 2)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"big": 9223372036854775808, "hex": "2d71", "json": "{\"a\":2,\"b\":1}", "keys": ["a", "b"], "n": "2", "rec": {"name": "a"}}`
	if out.String() != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}

// TestGoConcurrent calls one block from many threads at once (run with
// -race).
func TestGoConcurrent(t *testing.T) {
	f := mustCompileGo(t, interp.Options{}, "F", `package main

import "strings"

var calls int

func F(value any) any {
	calls++
	m := value.(map[string]any)
	return map[string]any{"name": strings.ToUpper(m["name"].(string)), "calls": calls}
}
`)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			th := interp.NewThread(interp.Options{})
			for i := range 50 {
				out, err := f.Call(th, nil, starlark.Tuple{dict(t, "name", fmt.Sprintf("w%d", g))}, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if want := fmt.Sprintf(`{"calls": %d, "name": "W%d"}`, i+1, g); out.String() != want {
					t.Errorf("got %s, want %s", out, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	runtime.GC()
}

// TestGoYaegiSharedInterpreter records why weir compiles an interpreter per
// Thread: calling one yaegi function from many goroutines is race free
// (run with -race), but its package variables are shared and racy, and
// stopping a runaway call stops every call of that interpreter.
func TestGoYaegiSharedInterpreter(t *testing.T) {
	yi := yaegi.New(yaegi.Options{})
	if err := yi.Use(yaegi.Exports{"strings/strings": stdlib.Symbols["strings/strings"]}); err != nil {
		t.Fatal(err)
	}
	if _, err := yi.Eval("package main\nimport \"strings\"\nfunc F(v any) any {\n\tm := v.(map[string]any)\n\treturn map[string]any{\"s\": strings.ToUpper(m[\"s\"].(string))}\n}\n"); err != nil {
		t.Fatal(err)
	}
	v, err := yi.Eval("main.F")
	if err != nil {
		t.Fatal(err)
	}
	fn := v.Interface().(func(any) any)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if out := fn(map[string]any{"s": "a"}).(map[string]any); out["s"] != "A" {
					t.Errorf("got %v", out)
					return
				}
			}
		}()
	}
	wg.Wait()
}

const benchRecord = `{"id":"ord-000123","customer":{"id":42,"name":"Ada Lovelace","tier":"gold"},"items":[{"sku":"A-1","qty":2,"price":9.5},{"sku":"B-7","qty":1,"price":120.25}],"country":"nl","created":"2025-03-01T12:00:00Z"}`

func BenchmarkGoMap(b *testing.B) {
	f := mustCompileGo(b, interp.Options{}, "Enrich", `package main

import "strings"

func Enrich(value any) any {
	order := value.(map[string]any)
	order["country"] = strings.ToUpper(order["country"].(string))
	total := 0.0
	for _, it := range order["items"].([]any) {
		item := it.(map[string]any)
		total += float64(item["qty"].(int64)) * item["price"].(float64)
	}
	order["total"] = total
	return order
}
`)
	th := interp.NewThread(interp.Options{})
	data := []byte(benchRecord)
	var buf []byte
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := interp.DecodeJSON(data)
		if err != nil {
			b.Fatal(err)
		}
		out, err := f.Call(th, nil, starlark.Tuple{v}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if buf, err = interp.AppendJSON(buf[:0], out); err != nil {
			b.Fatal(err)
		}
	}
}

func TestGoRecursionRefused(t *testing.T) {
	wantLoadError(t, "F", "package main\n\nfunc F(v any) any {\n\treturn F(v)\n}\n", 3, "recursion (F calls F) is not allowed")
	wantLoadError(t, "F", "package main\n\nfunc F(v any) any {\n\treturn g(v)\n}\n\nfunc g(v any) any {\n\treturn F(v)\n}\n", 3, "recursion (F calls g calls F)")
}
