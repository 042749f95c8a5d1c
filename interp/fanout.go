package interp

import (
	"fmt"

	"go.starlark.net/starlark"
)

// Fanout is what fanout([...]) returns: a map that returns it passes each
// item on by itself. A plain list is one value.
type Fanout struct {
	Items []Value
}

var _ starlark.Sequence = (*Fanout)(nil)

func (f *Fanout) String() string        { return fmt.Sprintf("fanout(%d items)", len(f.Items)) }
func (f *Fanout) Type() string          { return "fanout" }
func (f *Fanout) Freeze()               {}
func (f *Fanout) Truth() starlark.Bool  { return len(f.Items) > 0 }
func (f *Fanout) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: fanout") }

// Len and Iterate let code that calls a generator helper loop over what it
// yields (for x in helper(v)), as Python iterates a generator.
func (f *Fanout) Len() int                   { return len(f.Items) }
func (f *Fanout) Iterate() starlark.Iterator { return &listIterator{items: f.Items} }

// Fanned returns the items of a fan-out, and whether v is one.
func Fanned(v Value) ([]Value, bool) {
	if f, ok := v.(*Fanout); ok {
		return f.Items, true
	}
	return nil, false
}

// fanoutBuiltin implements fanout(iterable).
var fanoutBuiltin = starlark.NewBuiltin("fanout", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (Value, error) {
	var items starlark.Iterable
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &items); err != nil {
		return nil, err
	}
	f := &Fanout{}
	if n := starlark.Len(items); n > 0 {
		f.Items = make([]Value, 0, n)
	}
	it := items.Iterate()
	defer it.Done()
	var x Value
	for it.Next(&x) {
		f.Items = append(f.Items, x)
	}
	return f, nil
})
