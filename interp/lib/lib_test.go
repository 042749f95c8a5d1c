package lib

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// The behaviour of every module is pinned by the scripts in testdata/*.star. Each gets the
// predeclared names below; testdata/cpython_check.py runs the same scripts under CPython 3.11
// (with weir = False) to confirm the expected values are Python's.
//
//	module(name)            Module(name), as an import would bind it
//	weir                    True (False under CPython)
//	assert_eq(got, want)    got == want and of the same type
//	assert_ne(a, b)
//	assert_true(cond, msg?)
//	assert_fails(fn, text)  fn() fails with an error containing text
//
// A failing assertion reports the script's file:line and the script carries on.

var fileOptions = &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}

func testPredeclared(t *testing.T) starlark.StringDict {
	fail := func(thread *starlark.Thread, format string, args ...any) {
		t.Errorf("%s: %s", thread.CallFrame(1).Pos, fmt.Sprintf(format, args...))
	}
	return starlark.StringDict{
		"weir": starlark.True,
		"module": starlark.NewBuiltin("module", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var name string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &name); err != nil {
				return nil, err
			}
			m, ok := Module(name)
			if !ok {
				return nil, fmt.Errorf("no module named %q", name)
			}
			return m, nil
		}),
		"assert_eq": starlark.NewBuiltin("assert_eq", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var got, want starlark.Value
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &got, &want); err != nil {
				return nil, err
			}
			eq, err := starlark.Equal(got, want)
			if err != nil {
				fail(thread, "comparing %s and %s: %v", got, want, err)
			} else if !eq || got.Type() != want.Type() {
				fail(thread, "got %s (%s), want %s (%s)", got, got.Type(), want, want.Type())
			}
			return starlark.None, nil
		}),
		"assert_ne": starlark.NewBuiltin("assert_ne", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var x, y starlark.Value
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
				return nil, err
			}
			if eq, err := starlark.Equal(x, y); err != nil || eq {
				fail(thread, "%s == %s (%v)", x, y, err)
			}
			return starlark.None, nil
		}),
		"assert_true": starlark.NewBuiltin("assert_true", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var cond starlark.Value
			msg := "assertion failed"
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &cond, &msg); err != nil {
				return nil, err
			}
			if !cond.Truth() {
				fail(thread, "%s", msg)
			}
			return starlark.None, nil
		}),
		"assert_fails": starlark.NewBuiltin("assert_fails", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var fn starlark.Callable
			var want string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &fn, &want); err != nil {
				return nil, err
			}
			v, err := starlark.Call(thread, fn, nil, nil)
			switch {
			case err == nil:
				fail(thread, "succeeded with %s, want an error containing %q", v, want)
			case !strings.Contains(err.Error(), want):
				fail(thread, "error %q does not contain %q", err.Error(), want)
			}
			return starlark.None, nil
		}),
	}
}

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.star")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts in testdata: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".star"), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			thread := &starlark.Thread{Name: file, Print: func(_ *starlark.Thread, msg string) { t.Log(msg) }}
			if _, err := starlark.ExecFileOptions(fileOptions, thread, file, src, testPredeclared(t)); err != nil {
				if evalErr, ok := err.(*starlark.EvalError); ok {
					t.Fatal(evalErr.Backtrace())
				}
				t.Fatal(err)
			}
		})
	}
}

func TestNames(t *testing.T) {
	names := Names()
	want := []string{"base64", "collections", "datetime", "hashlib", "json", "math", "os", "random", "re", "time", "uuid"}
	if !slices.Equal(names, want) {
		t.Errorf("Names() = %v, want %v", names, want)
	}
	for _, name := range names {
		m, ok := Module(name)
		if !ok {
			t.Errorf("Module(%q) missing", name)
			continue
		}
		if again, _ := Module(name); again != m {
			t.Errorf("Module(%q) built twice", name)
		}
	}
	if _, ok := Module("subprocess"); ok {
		t.Error("Module(subprocess) exists")
	}
}

// TestConcurrent runs calls that touch shared state (the random generator, the regexp and
// strptime caches, uuid1's clock) from many threads at once; run it with -race.
func TestConcurrent(t *testing.T) {
	const src = `
re = module("re")
random = module("random")
uuid = module("uuid")
datetime = module("datetime")
json = module("json")
collections = module("collections")
def work(i):
    assert_eq(re.sub(r"(\d+)", r"<\1>", "a%d" % i), "a<%d>" % i)
    assert_true(random.random() < 1)
    assert_eq(len(str(uuid.uuid1())), 36)
    d = datetime.datetime.strptime("2024-01-%d" % (i % 28 + 1), "%Y-%m-%d")
    assert_eq(d.day, i % 28 + 1)
    c = collections.defaultdict(list)
    c["k"].append(i)
    assert_eq(json.loads(json.dumps(c)), {"k": [i]})
for i in range(200):
    work(i)
`
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			thread := &starlark.Thread{Name: fmt.Sprint("g", g)}
			if _, err := starlark.ExecFileOptions(fileOptions, thread, "concurrent.star", src, testPredeclared(t)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}
