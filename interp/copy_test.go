package interp

import (
	"testing"

	"go.starlark.net/starlark"
)

func TestCopyIsDeep(t *testing.T) {
	inner := starlark.NewList([]Value{starlark.MakeInt(1)})
	d := starlark.NewDict(2)
	_ = d.SetKey(starlark.String("xs"), inner)
	_ = d.SetKey(starlark.String("t"), starlark.Tuple{starlark.NewList(nil), starlark.String("s")})
	d.Freeze()

	c := Copy(d).(*starlark.Dict)
	if err := c.SetKey(starlark.String("new"), starlark.True); err != nil {
		t.Fatalf("the copy is frozen: %v", err)
	}
	xs, _, _ := c.Get(starlark.String("xs"))
	if err := xs.(*starlark.List).Append(starlark.MakeInt(2)); err != nil {
		t.Fatalf("the copied list is frozen: %v", err)
	}
	if inner.Len() != 1 || d.Len() != 2 {
		t.Fatalf("changing the copy changed the original: %s", d)
	}
	tv, _, _ := c.Get(starlark.String("t"))
	orig, _, _ := d.Get(starlark.String("t"))
	if tv.(starlark.Tuple)[0] == orig.(starlark.Tuple)[0] {
		t.Fatal("a list inside a tuple is shared")
	}
	if got := Copy(starlark.String("x")); got != starlark.String("x") {
		t.Fatalf("Copy(str) = %v", got)
	}
}
