package interp

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// runWithTable runs a Starlark snippet with a table t bound, returning the
// value of the global `out`.
func runWithTable(t *testing.T, tv *TableValue, src string) (Value, error) {
	t.Helper()
	th := &starlark.Thread{}
	globals, err := starlark.ExecFileOptions(fileOptions, th, "t.star", src, starlark.StringDict{"t": tv})
	if err != nil {
		return nil, err
	}
	return globals["out"], nil
}

func TestTableValue(t *testing.T) {
	mem := NewMemTable()
	tv := NewTableValue("counts", mem, func() (Value, error) { return starlark.MakeInt(0), nil }, false)
	out, err := runWithTable(t, tv, `
t["b"] = t["b"] + 2
t["a"] = 1
t["ab"] = 3
t.setdefault("c", 9)
before = len(t)
popped = t.pop("c")
out = [t["b"], t["missing"], "missing" in t, "a" in t, t.get("missing"), t.get("missing", 5),
       before, len(t), popped, t.pop("nope", "dflt"), t.keys(), t.values(), t.items(),
       t.prefix_scan("a"), [k for k in t]]
`)
	if err != nil {
		t.Fatal(err)
	}
	want := `[2, 0, False, True, None, 5, 4, 3, 9, "dflt", ["a", "ab", "b"], [1, 3, 2], [("a", 1), ("ab", 3), ("b", 2)], [("a", 1), ("ab", 3)], ["a", "ab", "b"]]`
	if out.String() != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}

func TestTableValueErrors(t *testing.T) {
	mem := NewMemTable()
	noDefault := NewTableValue("plain", mem, nil, false)
	if _, err := runWithTable(t, noDefault, `out = t["x"]`); err == nil || !strings.Contains(err.Error(), "not in table") {
		t.Errorf("missing key without a default: %v", err)
	}
	if _, err := runWithTable(t, noDefault, `out = t.pop("x")`); err == nil || !strings.Contains(err.Error(), "KeyError") {
		t.Errorf("pop of a missing key: %v", err)
	}
	if _, err := runWithTable(t, noDefault, `t[[1]] = 1`); err == nil || !strings.Contains(err.Error(), "hashable") {
		t.Errorf("unhashable key: %v", err)
	}
	readOnly := NewTableValue("view", mem, nil, true)
	for _, src := range []string{`t["x"] = 1`, `t.pop("x", 1)`, `t.setdefault("x", 1)`} {
		if _, err := runWithTable(t, readOnly, src); err == nil || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("%s on a read-only table: %v", src, err)
		}
	}
}

func TestMemTableFreezesValues(t *testing.T) {
	mem := NewMemTable()
	tv := NewTableValue("t", mem, nil, false)
	if _, err := runWithTable(t, tv, "l = [1]\nt['k'] = l\nl.append(2)"); err == nil {
		t.Error("a stored list could be changed behind the table's back")
	}
}

func TestDefaultOf(t *testing.T) {
	for name, want := range map[string]string{"int": "0", "float": "0.0", "str": `""`, "list": "[]", "dict": "{}", "bool": "False", "tuple": "()"} {
		if got := DefaultOf(starlark.Universe[name]); got.String() != want {
			t.Errorf("DefaultOf(%s) = %s, want %s", name, got, want)
		}
	}
	if got := DefaultOf(starlark.MakeInt(7)); got.String() != "7" {
		t.Errorf("a plain value is its own default, got %s", got)
	}
	a, b := DefaultOf(starlark.Universe["list"]), DefaultOf(starlark.Universe["list"])
	if a == b {
		t.Error("two keys share one default list")
	}
}
