package interp

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"go.starlark.net/starlark"
)

// Table is the state a code block reads and writes. The engine implements
// it over its store (reads see the partition of the current event); MemTable
// implements it in memory. Keys and values are Starlark values; the
// implementation serializes them as the table's serializers say.
type Table interface {
	// Get returns the value of key and whether it is present.
	Get(key Value) (Value, bool, error)
	// Set stores value under key.
	Set(key, value Value) error
	// Delete removes key; a missing key is no error.
	Delete(key Value) error
	// Len returns the number of keys.
	Len() (int, error)
	// Scan calls fn for every key that starts with prefix (a string or
	// bytes; None means every key), in key order, until fn returns false.
	Scan(prefix Value, fn func(key, value Value) bool) error
}

// TableValue is a table as code sees it: a dict-like object. t[k] of a
// missing key returns the table's default (from its defaultSelector), or
// fails with a KeyError when it has none.
type TableValue struct {
	name    string
	table   Table
	deflt   func() (Value, error)
	partial bool // no writes: web views read only
}

// NewTableValue wraps a table for code. deflt gives the value of a missing
// key for t[k], or is nil. A read-only table refuses writes.
func NewTableValue(name string, t Table, deflt func() (Value, error), readOnly bool) *TableValue {
	return &TableValue{name: name, table: t, deflt: deflt, partial: readOnly}
}

var (
	_ starlark.HasSetKey = (*TableValue)(nil)
	_ starlark.HasAttrs  = (*TableValue)(nil)
	_ starlark.Sequence  = (*TableValue)(nil)
	_ starlark.Container = (*TableValue)(nil)
)

func (t *TableValue) String() string        { return fmt.Sprintf("<table %s>", t.name) }
func (t *TableValue) Type() string          { return "table" }
func (t *TableValue) Freeze()               {} // a table is shared state, written through its methods
func (t *TableValue) Truth() starlark.Bool  { return true }
func (t *TableValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: table") }

// Get implements t[k].
func (t *TableValue) Get(k Value) (Value, bool, error) {
	v, ok, err := t.table.Get(k)
	if err != nil || ok {
		return v, ok, err
	}
	if t.deflt != nil {
		v, err := t.deflt()
		return v, err == nil, err
	}
	return nil, false, nil
}

// SetKey implements t[k] = v.
func (t *TableValue) SetKey(k, v Value) error {
	if t.partial {
		return fmt.Errorf("table %s is read-only here: only agents and tasks write tables", t.name)
	}
	return t.table.Set(k, v)
}

// Len implements len(t).
func (t *TableValue) Len() int {
	n, err := t.table.Len()
	if err != nil {
		return 0
	}
	return n
}

// Iterate implements `for k in t`, over the keys.
func (t *TableValue) Iterate() starlark.Iterator {
	keys, _ := t.items(starlark.None, true, false)
	return &listIterator{items: keys}
}

var tableMethods = []string{"get", "items", "keys", "pop", "prefix_scan", "setdefault", "values"}

func (t *TableValue) AttrNames() []string { return tableMethods }

func (t *TableValue) Attr(name string) (Value, error) {
	if !slices.Contains(tableMethods, name) {
		return nil, nil
	}
	return starlark.NewBuiltin(name, t.method).BindReceiver(t), nil
}

func (t *TableValue) method(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (Value, error) {
	switch b.Name() {
	case "get":
		var k Value
		var d Value = starlark.None
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &k, &d); err != nil {
			return nil, err
		}
		v, ok, err := t.table.Get(k)
		if err != nil || !ok {
			return d, err
		}
		return v, nil
	case "pop":
		var k, d Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &k, &d); err != nil {
			return nil, err
		}
		if t.partial {
			return nil, fmt.Errorf("table %s is read-only here: only agents and tasks write tables", t.name)
		}
		v, ok, err := t.table.Get(k)
		if err != nil {
			return nil, err
		}
		if !ok {
			if d != nil {
				return d, nil
			}
			return nil, fmt.Errorf("KeyError: %s (not in table %s)", k, t.name)
		}
		return v, t.table.Delete(k)
	case "setdefault":
		var k Value
		var d Value = starlark.None
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &k, &d); err != nil {
			return nil, err
		}
		v, ok, err := t.table.Get(k)
		if err != nil || ok {
			return v, err
		}
		return d, t.SetKey(k, d)
	case "keys", "values", "items":
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		keys, values := b.Name() != "values", b.Name() != "keys"
		out, err := t.items(starlark.None, keys, values)
		return starlark.NewList(out), err
	case "prefix_scan":
		var p Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
			return nil, err
		}
		out, err := t.items(p, true, true)
		return starlark.NewList(out), err
	}
	return nil, fmt.Errorf("table has no method %s", b.Name())
}

func (t *TableValue) items(prefix Value, keys, values bool) ([]Value, error) {
	var out []Value
	err := t.table.Scan(prefix, func(k, v Value) bool {
		switch {
		case keys && values:
			out = append(out, starlark.Tuple{k, v})
		case keys:
			out = append(out, k)
		default:
			out = append(out, v)
		}
		return true
	})
	return out, err
}

// Has implements `k in t`; unlike t[k] it ignores the default.
func (t *TableValue) Has(k Value) (bool, error) {
	_, ok, err := t.table.Get(k)
	return ok, err
}

type listIterator struct {
	items []Value
	i     int
}

func (it *listIterator) Next(p *Value) bool {
	if it.i >= len(it.items) {
		return false
	}
	*p = it.items[it.i]
	it.i++
	return true
}

func (it *listIterator) Done() {}

// MemTable is a Table in memory, for tests and `weir test`. Keys are ordered
// by their string form; it is safe for concurrent use.
type MemTable struct {
	mu   sync.Mutex
	data map[string]memEntry
}

type memEntry struct{ key, value Value }

// NewMemTable returns an empty in-memory table.
func NewMemTable() *MemTable { return &MemTable{data: map[string]memEntry{}} }

func memKey(k Value) (string, error) {
	if _, err := k.Hash(); err != nil {
		return "", fmt.Errorf("a table key must be hashable: %v", err)
	}
	if s, ok := k.(starlark.String); ok {
		return string(s), nil
	}
	return "\x00" + k.Type() + ":" + k.String(), nil
}

func (m *MemTable) Get(k Value) (Value, bool, error) {
	key, err := memKey(k)
	if err != nil {
		return nil, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.data[key]
	return e.value, ok, nil
}

func (m *MemTable) Set(k, v Value) error {
	key, err := memKey(k)
	if err != nil {
		return err
	}
	v.Freeze() // stored state is not changed behind the table's back
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[key] = memEntry{k, v}
	return nil
}

func (m *MemTable) Delete(k Value) error {
	key, err := memKey(k)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, key)
	return nil
}

func (m *MemTable) Len() (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.data), nil
}

func (m *MemTable) Scan(prefix Value, fn func(k, v Value) bool) error {
	var p string
	switch x := prefix.(type) {
	case nil, starlark.NoneType:
	case starlark.String:
		p = string(x)
	case starlark.Bytes:
		p = string(x)
	default:
		return fmt.Errorf("prefix_scan takes a str or bytes prefix, not %s", prefix.Type())
	}
	m.mu.Lock()
	keys := make([]string, 0, len(m.data))
	for k := range m.data {
		if strings.HasPrefix(k, p) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	entries := make([]memEntry, len(keys))
	for i, k := range keys {
		entries[i] = m.data[k]
	}
	m.mu.Unlock()
	for _, e := range entries {
		if !fn(e.key, e.value) {
			return nil
		}
	}
	return nil
}

// DefaultOf turns what a table's defaultSelector returns into the value of a
// missing key: a type such as int, float, str, list or dict (Kaspr's way,
// after Python's defaultdict) gives its empty value, anything else is the
// value itself. Call it for every missing key: a list or dict must not be
// shared between keys.
func DefaultOf(v Value) Value {
	b, ok := v.(*starlark.Builtin)
	if !ok {
		return v
	}
	switch b.Name() {
	case "int":
		return starlark.MakeInt(0)
	case "float":
		return starlark.Float(0)
	case "str":
		return starlark.String("")
	case "bytes":
		return starlark.Bytes("")
	case "bool":
		return starlark.False
	case "list":
		return starlark.NewList(nil)
	case "dict":
		return starlark.NewDict(0)
	case "tuple":
		return starlark.Tuple{}
	case "set":
		return starlark.NewSet(0)
	}
	return v
}
