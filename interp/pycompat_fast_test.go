package interp

import (
	"fmt"
	"strings"
	"testing"
)

// TestDictMergeForms runs {**a, "k": v, **b} in both forms of __dict_merge:
// the flat one, and the list one of literals with more parts than a call
// takes arguments. Later parts win, in the order of first insertion, as in
// Python.
func TestDictMergeForms(t *testing.T) {
	var long strings.Builder
	long.WriteString("big = {**a")
	for i := range 200 {
		fmt.Fprintf(&long, ", \"k%d\": %d", i, i)
	}
	long.WriteString(", **b}\n")
	src := `a = {"x": 1, "y": 2}
b = {"y": 3, "z": 4}
m = {**a, "y": 9, "w": 0, **b, "x": 5}
assert m == {"x": 5, "y": 3, "w": 0, "z": 4}, m
assert list(m.keys()) == ["x", "y", "w", "z"]
e = {**{}, **{}}
assert e == {} and type(e) == "dict"
n = {
    **a,
    "nested": {**b, "q": 1},
}
assert n == {"x": 1, "y": 2, "nested": {"y": 3, "z": 4, "q": 1}}, n
m["x"] = 7
assert a["x"] == 1
` + long.String() + `assert len(big) == 2 + 200 + 1, len(big)
assert big["k199"] == 199 and big["y"] == 3 and list(big.keys())[-1] == "z"
`
	out, _, err := translatePython(src)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `__dict_merge("*kk*k", a, "y", 9,`) || !strings.Contains(out, "big = __dict_merge([a, {") {
		t.Errorf("translation lacks a form:\n%s", out)
	}
	if _, _, err := runPython(t, "merge.py", src); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"m = {**{}, **5}\n",
		"m = {\"k\": 1, **[1]}\n",
	} {
		_, _, err := runPython(t, "bad.py", bad)
		if err == nil || !strings.Contains(err.Error(), "is not a mapping") {
			t.Errorf("%q: got %v, want a TypeError that it is not a mapping", bad, err)
		}
	}
}

// TestPyIntErrors checks that int() fails as Starlark's int does where the
// short way does not apply.
func TestPyIntErrors(t *testing.T) {
	for bad, want := range map[string]string{
		"int(float('nan'))": "int: cannot convert float NaN to integer",
		"int(float('inf'))": "int: cannot convert float infinity to integer",
		"int(1.5, 10)":      "int: can't convert non-string with explicit base",
		"int([1])":          "int: cannot convert list to int",
		"int(1, 2, 3)":      "int: got 3 arguments, want at most 2",
	} {
		_, _, err := runPython(t, "bad.py", "x = "+bad+"\n")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", bad, err, want)
		}
	}
}
