package lib

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// The collections module: defaultdict, Counter and OrderedDict (a plain dict, since Starlark
// dicts keep insertion order). defaultdict and Counter are mappings usable wherever a dict
// is read (dict(x), json.dumps, for loops, len, in); they are not dicts, so they compare
// equal only to their own kind.

func newCollections() starlark.Value {
	return module("collections", map[string]builtinFunc{
		"defaultdict": defaultDictNew,
		"Counter":     counterNew,
	}, starlark.StringDict{
		"OrderedDict": starlark.Universe["dict"],
	})
}

// dictMethods are the starlark dict methods a wrapper delegates to its dict.
var dictMethods = []string{"clear", "get", "items", "keys", "pop", "popitem", "setdefault", "values"}

// ---- defaultdict ----

// defaultDict is collections.defaultdict: a dict that calls factory for a missing key read
// with d[k] and stores the result. The factory runs on its own bounded thread, since
// Mapping.Get has none.
type defaultDict struct {
	factory starlark.Value // a Callable, or None
	d       *starlark.Dict
}

var (
	_ starlark.IterableMapping = (*defaultDict)(nil)
	_ starlark.HasSetKey       = (*defaultDict)(nil)
	_ starlark.Container       = (*defaultDict)(nil)
	_ starlark.Sequence        = (*defaultDict)(nil)
	_ starlark.HasAttrs        = (*defaultDict)(nil)
	_ starlark.Comparable      = (*defaultDict)(nil)
)

func defaultDictNew(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var factory starlark.Value = starlark.None
	if len(args) > 0 {
		factory, args = args[0], args[1:]
	}
	if _, ok := factory.(starlark.Callable); !ok && factory != starlark.None {
		return nil, fmt.Errorf("%s: first argument must be callable or None", b.Name())
	}
	dd := &defaultDict{factory: factory, d: new(starlark.Dict)}
	if err := updateDict(thread, dd.d, args, kwargs); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return dd, nil
}

// updateDict applies dict.update(*args, **kwargs) to d.
func updateDict(thread *starlark.Thread, d *starlark.Dict, args starlark.Tuple, kwargs []starlark.Tuple) error {
	if len(args) == 0 && len(kwargs) == 0 {
		return nil
	}
	update, _ := d.Attr("update")
	_, err := starlark.Call(thread, update, args, kwargs)
	return err
}

func (dd *defaultDict) String() string {
	return fmt.Sprintf("defaultdict(%s, %s)", dd.factory, dd.d)
}
func (dd *defaultDict) Type() string { return "defaultdict" }
func (dd *defaultDict) Freeze() {
	dd.factory.Freeze()
	dd.d.Freeze()
}
func (dd *defaultDict) Truth() starlark.Bool             { return dd.d.Len() > 0 }
func (dd *defaultDict) Hash() (uint32, error)            { return 0, fmt.Errorf("unhashable type: 'defaultdict'") }
func (dd *defaultDict) Len() int                         { return dd.d.Len() }
func (dd *defaultDict) Iterate() starlark.Iterator       { return dd.d.Iterate() }
func (dd *defaultDict) Items() []starlark.Tuple          { return dd.d.Items() }
func (dd *defaultDict) SetKey(k, v starlark.Value) error { return dd.d.SetKey(k, v) }
func (dd *defaultDict) Has(k starlark.Value) (bool, error) {
	_, found, err := dd.d.Get(k)
	return found, err
}

func (dd *defaultDict) Get(k starlark.Value) (starlark.Value, bool, error) {
	v, found, err := dd.d.Get(k)
	if found || err != nil || dd.factory == starlark.None {
		return v, found, err
	}
	v, err = callFactory(dd.factory)
	if err != nil {
		return nil, false, fmt.Errorf("defaultdict factory: %w", err)
	}
	if err := dd.d.SetKey(k, v); err != nil {
		return nil, false, fmt.Errorf("defaultdict: inserting missing key %s: %w", k, err)
	}
	return v, true, nil
}

// callFactory calls a default factory. Python's int(), str() and bytes() give zero values;
// Starlark's need an argument, so those three are answered here.
func callFactory(f starlark.Value) (starlark.Value, error) {
	switch f {
	case starlark.Universe["int"]:
		return zero, nil
	case starlark.Universe["str"]:
		return starlark.String(""), nil
	case starlark.Universe["bytes"]:
		return starlark.Bytes(""), nil
	}
	return starlark.Call(freshThread("defaultdict"), f, nil, nil)
}

func (dd *defaultDict) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	return starlark.CompareDepth(op, dd.d, y.(*defaultDict).d, depth)
}

func (dd *defaultDict) Attr(name string) (starlark.Value, error) {
	switch name {
	case "default_factory":
		return dd.factory, nil
	case "update":
		return dd.d.Attr(name)
	case "copy":
		return starlark.NewBuiltin("copy", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := noArgs(b, args, kwargs); err != nil {
				return nil, err
			}
			return &defaultDict{factory: dd.factory, d: copyDict(dd.d)}, nil
		}), nil
	}
	for _, m := range dictMethods {
		if m == name {
			return dd.d.Attr(name)
		}
	}
	return nil, nil
}

func (dd *defaultDict) AttrNames() []string {
	names := append([]string{"copy", "default_factory", "update"}, dictMethods...)
	sort.Strings(names)
	return names
}

func copyDict(d *starlark.Dict) *starlark.Dict {
	c := starlark.NewDict(d.Len())
	for _, item := range d.Items() {
		_ = c.SetKey(item[0], item[1])
	}
	return c
}

// ---- Counter ----

// counter is collections.Counter: a dict of counts where a missing key reads as 0.
type counter struct{ d *starlark.Dict }

var (
	_ starlark.IterableMapping = (*counter)(nil)
	_ starlark.HasSetKey       = (*counter)(nil)
	_ starlark.Container       = (*counter)(nil)
	_ starlark.Sequence        = (*counter)(nil)
	_ starlark.HasAttrs        = (*counter)(nil)
	_ starlark.HasBinary       = (*counter)(nil)
	_ starlark.Comparable      = (*counter)(nil)
)

var zero = starlark.MakeInt(0)

func counterNew(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var src starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, nil, 0, &src); err != nil {
		return nil, err
	}
	c := &counter{d: new(starlark.Dict)}
	if err := c.add(src, kwargs, 1); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return c, nil
}

// add adds (sign 1) or subtracts (sign -1) counts from an iterable, a mapping or keywords.
// A str counts its characters, as in Python.
func (c *counter) add(src starlark.Value, kwargs []starlark.Tuple, sign int) error {
	bump := func(k, n starlark.Value) error {
		old, _, err := c.Get(k)
		if err != nil {
			return err
		}
		op := syntax.PLUS
		if sign < 0 {
			op = syntax.MINUS
		}
		v, err := starlark.Binary(op, old, n)
		if err != nil {
			return err
		}
		return c.d.SetKey(k, v)
	}
	one := starlark.MakeInt(1)
	switch src := src.(type) {
	case nil, starlark.NoneType:
	case starlark.IterableMapping:
		for _, item := range src.Items() {
			if err := bump(item[0], item[1]); err != nil {
				return err
			}
		}
	case starlark.String:
		for _, r := range string(src) {
			if err := bump(starlark.String(string(r)), one); err != nil {
				return err
			}
		}
	case starlark.Iterable:
		it := src.Iterate()
		defer it.Done()
		var x starlark.Value
		for it.Next(&x) {
			if err := bump(x, one); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("'%s' object is not iterable", src.Type())
	}
	for _, kw := range kwargs {
		if err := bump(kw[0], kw[1]); err != nil {
			return err
		}
	}
	return nil
}

func (c *counter) mostCommon() []starlark.Tuple {
	items := c.d.Items()
	sort.SliceStable(items, func(i, j int) bool {
		gt, _ := starlark.Compare(syntax.GT, items[i][1], items[j][1])
		return gt
	})
	return items
}

func (c *counter) String() string {
	if c.d.Len() == 0 {
		return "Counter()"
	}
	var sb strings.Builder
	sb.WriteString("Counter({")
	for i, item := range c.mostCommon() {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%s: %s", item[0], item[1])
	}
	sb.WriteString("})")
	return sb.String()
}
func (c *counter) Type() string                     { return "Counter" }
func (c *counter) Freeze()                          { c.d.Freeze() }
func (c *counter) Truth() starlark.Bool             { return c.d.Len() > 0 }
func (c *counter) Hash() (uint32, error)            { return 0, fmt.Errorf("unhashable type: 'Counter'") }
func (c *counter) Len() int                         { return c.d.Len() }
func (c *counter) Iterate() starlark.Iterator       { return c.d.Iterate() }
func (c *counter) Items() []starlark.Tuple          { return c.d.Items() }
func (c *counter) SetKey(k, v starlark.Value) error { return c.d.SetKey(k, v) }
func (c *counter) Has(k starlark.Value) (bool, error) {
	_, found, err := c.d.Get(k)
	return found, err
}
func (c *counter) Get(k starlark.Value) (starlark.Value, bool, error) {
	v, found, err := c.d.Get(k)
	if err != nil {
		return nil, false, err
	}
	if !found {
		return zero, true, nil
	}
	return v, true, nil
}

// CompareSameType compares as Python 3.10+ does: missing elements count as zero, and <= is
// inclusion.
func (c *counter) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	other := y.(*counter)
	all := func(cmp syntax.Token) (bool, error) {
		for _, pair := range [][2]*counter{{c, other}, {other, c}} {
			for _, item := range pair[0].d.Items() {
				a, _, _ := c.Get(item[0])
				b, _, _ := other.Get(item[0])
				ok, err := starlark.CompareDepth(cmp, a, b, depth-1)
				if err != nil || !ok {
					return false, err
				}
			}
		}
		return true, nil
	}
	switch op {
	case syntax.EQL:
		return all(syntax.EQL)
	case syntax.NEQ:
		eq, err := all(syntax.EQL)
		return !eq, err
	case syntax.LE:
		return all(syntax.LE)
	case syntax.GE:
		return all(syntax.GE)
	}
	cmp, eq := syntax.LE, syntax.EQL
	if op == syntax.GT {
		cmp = syntax.GE
	}
	in, err := all(cmp)
	if err != nil || !in {
		return false, err
	}
	same, err := all(eq)
	return !same, err
}

// Binary implements + - | & between Counters, keeping only positive counts.
func (c *counter) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	other, ok := y.(*counter)
	if !ok {
		return nil, nil
	}
	a, b := c, other
	if side == starlark.Right {
		a, b = b, a
	}
	result := &counter{d: new(starlark.Dict)}
	keep := func(k, v starlark.Value) error {
		pos, err := starlark.Compare(syntax.GT, v, zero)
		if err != nil || !pos {
			return err
		}
		return result.d.SetKey(k, v)
	}
	var combine func(x, y starlark.Value) (starlark.Value, error)
	switch op {
	case syntax.PLUS:
		combine = func(x, y starlark.Value) (starlark.Value, error) { return starlark.Binary(syntax.PLUS, x, y) }
	case syntax.MINUS:
		combine = func(x, y starlark.Value) (starlark.Value, error) { return starlark.Binary(syntax.MINUS, x, y) }
	case syntax.PIPE, syntax.AMP:
		combine = func(x, y starlark.Value) (starlark.Value, error) {
			lt, err := starlark.Compare(syntax.LT, x, y)
			if err != nil {
				return nil, err
			}
			if lt == (op == syntax.PIPE) {
				return y, nil
			}
			return x, nil
		}
	default:
		return nil, nil
	}
	for _, item := range a.d.Items() {
		bv, _, _ := b.Get(item[0])
		v, err := combine(item[1], bv)
		if err != nil {
			return nil, err
		}
		if err := keep(item[0], v); err != nil {
			return nil, err
		}
	}
	for _, item := range b.d.Items() {
		if in, _ := a.Has(item[0]); in {
			continue
		}
		v, err := combine(zero, item[1])
		if err != nil {
			return nil, err
		}
		if err := keep(item[0], v); err != nil {
			return nil, err
		}
	}
	return result, nil
}

func (c *counter) Attr(name string) (starlark.Value, error) {
	if fn, ok := counterMethods[name]; ok {
		return starlark.NewBuiltin(name, fn).BindReceiver(c), nil
	}
	for _, m := range dictMethods {
		if m == name {
			return c.d.Attr(name)
		}
	}
	return nil, nil
}

func (c *counter) AttrNames() []string {
	names := append(counterMethods.names(), dictMethods...)
	sort.Strings(names)
	return names
}

var counterMethods = methods{
	"most_common": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var n starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "n?", &n); err != nil {
			return nil, err
		}
		items := b.Receiver().(*counter).mostCommon()
		if n != starlark.None {
			var k int
			if err := starlark.AsInt(n, &k); err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			items = items[:max(0, min(k, len(items)))]
		}
		out := make([]starlark.Value, len(items))
		for i, item := range items {
			out[i] = item
		}
		return starlark.NewList(out), nil
	},
	"elements": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		var out []starlark.Value
		for _, item := range b.Receiver().(*counter).d.Items() {
			var n int
			if err := starlark.AsInt(item[1], &n); err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			for range n {
				out = append(out, item[0])
			}
		}
		return starlark.NewList(out), nil
	},
	"total": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		var sum starlark.Value = zero
		for _, item := range b.Receiver().(*counter).d.Items() {
			var err error
			if sum, err = starlark.Binary(syntax.PLUS, sum, item[1]); err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
		}
		return sum, nil
	},
	"update":   counterAdd(1),
	"subtract": counterAdd(-1),
	"copy": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		return &counter{d: copyDict(b.Receiver().(*counter).d)}, nil
	},
}

func counterAdd(sign int) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var src starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, nil, 0, &src); err != nil {
			return nil, err
		}
		if err := b.Receiver().(*counter).add(src, kwargs, sign); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return starlark.None, nil
	}
}
