package interp

import (
	"go.starlark.net/starlark"
)

// Copy returns a deep copy of v's mutable parts (dicts, lists, sets, and
// tuples holding them), sharing what cannot change (strings, numbers, bytes,
// None, booleans) and what is shared by design (tables). The copy is not
// frozen. A value handed from one thread to another (a channel) is copied so
// that neither side sees the other's later changes.
func Copy(v Value) Value {
	return copyValue(v, 0)
}

// maxCopyDepth bounds the recursion of Copy; deeper parts are shared (a
// value that deep is a cycle or a mistake).
const maxCopyDepth = 1000

func copyValue(v Value, depth int) Value {
	if depth > maxCopyDepth {
		return v
	}
	switch x := v.(type) {
	case *starlark.Dict:
		d := starlark.NewDict(x.Len())
		for _, it := range x.Items() {
			_ = d.SetKey(it[0], copyValue(it[1], depth+1))
		}
		return d
	case *starlark.List:
		items := make([]Value, x.Len())
		for i := range items {
			items[i] = copyValue(x.Index(i), depth+1)
		}
		return starlark.NewList(items)
	case starlark.Tuple:
		out := make(starlark.Tuple, len(x))
		for i, e := range x {
			out[i] = copyValue(e, depth+1)
		}
		return out
	case *starlark.Set:
		s := starlark.NewSet(x.Len())
		it := x.Iterate()
		defer it.Done()
		var e Value
		for it.Next(&e) {
			_ = s.Insert(e)
		}
		return s
	case *Fanout:
		items := make([]Value, len(x.Items))
		for i, e := range x.Items {
			items[i] = copyValue(e, depth+1)
		}
		return &Fanout{Items: items}
	}
	return v
}
