package interp

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"time"

	"go.starlark.net/starlark"
)

// ToGo converts a Starlark value to the Go value a go block sees:
//
//	None         nil
//	bool         bool
//	int          int64, or *big.Int beyond the range of int64
//	float        float64
//	str          string
//	bytes        []byte
//	list, tuple  []any (a set too)
//	dict         map[string]any (a key that is not a str is an error)
//	fanout(...)  *GoFanout
//	table        GoTable
//	other objects map[string]any of their attributes that are not methods
//
// The result shares nothing with v: changing it does not change v.
func ToGo(v Value) (any, error) { return toGo(v, 0, nil) }

func toGo(v Value, depth int, done *callState) (any, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("cannot pass a value nested more than %d levels deep to go code (a value that contains itself?)", maxJSONDepth)
	}
	switch x := v.(type) {
	case nil, starlark.NoneType:
		return nil, nil
	case starlark.Bool:
		return bool(x), nil
	case starlark.String:
		return string(x), nil
	case starlark.Int:
		if n, ok := x.Int64(); ok {
			return n, nil
		}
		return x.BigInt(), nil
	case starlark.Float:
		return float64(x), nil
	case starlark.Bytes:
		return []byte(x), nil
	case *starlark.Dict:
		m := make(map[string]any, x.Len())
		for k, e := range x.Entries() {
			ks, ok := k.(starlark.String)
			if !ok {
				return nil, fmt.Errorf("cannot pass a dict with a key of type %s to go code: go blocks take dicts with str keys (map[string]any)", k.Type())
			}
			g, err := toGo(e, depth+1, done)
			if err != nil {
				return nil, err
			}
			m[string(ks)] = g
		}
		return m, nil
	case *starlark.List:
		return toGoSeq(x, depth, done)
	case starlark.Tuple:
		return toGoSeq(x, depth, done)
	case *starlark.Set:
		out := make([]any, 0, x.Len())
		it := x.Iterate()
		defer it.Done()
		var e Value
		for it.Next(&e) {
			g, err := toGo(e, depth+1, done)
			if err != nil {
				return nil, err
			}
			out = append(out, g)
		}
		return out, nil
	case *Fanout:
		items := make([]any, len(x.Items))
		for i, e := range x.Items {
			g, err := toGo(e, depth+1, done)
			if err != nil {
				return nil, err
			}
			items[i] = g
		}
		return &GoFanout{Items: items}, nil
	case *TableValue:
		return &goTable{tv: x, call: done}, nil
	case starlark.HasAttrs:
		// An object such as a web view's request: its attributes that are
		// not methods.
		m := map[string]any{}
		for _, name := range x.AttrNames() {
			a, err := x.Attr(name)
			if err != nil || a == nil {
				continue
			}
			if _, isMethod := a.(starlark.Callable); isMethod {
				continue
			}
			g, err := toGo(a, depth+1, done)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %v", x.Type(), name, err)
			}
			m[name] = g
		}
		return m, nil
	}
	return nil, fmt.Errorf("cannot pass a %s to go code", v.Type())
}

func toGoSeq(seq starlark.Indexable, depth int, done *callState) (any, error) {
	out := make([]any, seq.Len())
	for i := range out {
		g, err := toGo(seq.Index(i), depth+1, done)
		if err != nil {
			return nil, err
		}
		out[i] = g
	}
	return out, nil
}

// FromGo converts what a go block returns to a Starlark value:
//
//	nil                                  None
//	bool                                 bool
//	int, int8..int64, uint, uint8..uint64 int
//	*big.Int                             int
//	json.Number                          int or float
//	float32, float64                     float
//	string                               str
//	[]byte, [N]byte                      bytes
//	slices and arrays ([]any, []string, []map[string]any, ...) list
//	maps with string, integer or bool keys dict, in sorted key order
//	*GoFanout (weir.Fanout(...))         fanout(...): each item flows on by itself
//	structs and pointers to structs      dict, as encoding/json writes them (json tags apply)
//	a Starlark value                     itself
//
// time.Time, time.Duration, errors, funcs and channels are errors: return
// a string or a number instead.
func FromGo(x any) (Value, error) { return fromGo(x, 0) }

func fromGo(x any, depth int) (Value, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("cannot convert a go value nested more than %d levels deep (a value that contains itself?)", maxJSONDepth)
	}
	switch v := x.(type) {
	case nil:
		return starlark.None, nil
	case bool:
		return starlark.Bool(v), nil
	case string:
		return starlark.String(v), nil
	case int64:
		return starlark.MakeInt64(v), nil
	case int:
		return starlark.MakeInt(v), nil
	case int32:
		return starlark.MakeInt64(int64(v)), nil
	case float64:
		return starlark.Float(v), nil
	case float32:
		return starlark.Float(float64(v)), nil
	case []byte:
		return starlark.Bytes(v), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		d := starlark.NewDict(len(v))
		for _, k := range keys {
			e, err := fromGo(v[k], depth+1)
			if err != nil {
				return nil, err
			}
			if err := d.SetKey(starlark.String(k), e); err != nil {
				return nil, err
			}
		}
		return d, nil
	case []any:
		elems := make([]Value, len(v))
		for i, e := range v {
			s, err := fromGo(e, depth+1)
			if err != nil {
				return nil, err
			}
			elems[i] = s
		}
		return starlark.NewList(elems), nil
	case []string:
		elems := make([]Value, len(v))
		for i, e := range v {
			elems[i] = starlark.String(e)
		}
		return starlark.NewList(elems), nil
	case map[string]string:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		d := starlark.NewDict(len(v))
		for _, k := range keys {
			if err := d.SetKey(starlark.String(k), starlark.String(v[k])); err != nil {
				return nil, err
			}
		}
		return d, nil
	case *big.Int:
		if v == nil {
			return starlark.None, nil
		}
		return starlark.MakeBigInt(v), nil
	case json.Number:
		return fromJSONNumber(v)
	case *GoFanout:
		if v == nil {
			return starlark.None, nil
		}
		return fromGoFanout(v, depth)
	case GoFanout:
		return fromGoFanout(&v, depth)
	case Value:
		return v, nil
	case time.Time:
		return nil, errors.New("cannot convert a time.Time: return a string (t.Format(time.RFC3339)) or a number (t.Unix(), float64(t.UnixNano())/1e9)")
	case time.Duration:
		return nil, errors.New("cannot convert a time.Duration: return a number (d.Seconds()) or a string (d.String())")
	case error:
		return nil, fmt.Errorf("cannot convert an error value (%v): return it as the error of a func(...) (any, error) entrypoint", v)
	}
	return fromReflect(reflect.ValueOf(x), depth)
}

func fromGoFanout(f *GoFanout, depth int) (Value, error) {
	out := &Fanout{Items: make([]Value, len(f.Items))}
	for i, e := range f.Items {
		if _, nested := e.(*GoFanout); nested {
			return nil, errors.New("cannot put a weir.Fanout inside a weir.Fanout")
		}
		s, err := fromGo(e, depth+1)
		if err != nil {
			return nil, err
		}
		out.Items[i] = s
	}
	return out, nil
}

func fromJSONNumber(n json.Number) (Value, error) {
	s := string(n)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return starlark.MakeInt64(i), nil
	}
	if b, ok := new(big.Int).SetString(s, 10); ok {
		return starlark.MakeBigInt(b), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("cannot convert json.Number %q: %v", s, err)
	}
	return starlark.Float(f), nil
}

// fromReflect converts the kinds the type switch of fromGo leaves: named
// and other numeric types, other slices, arrays, maps, pointers and
// structs.
func fromReflect(v reflect.Value, depth int) (Value, error) {
	switch v.Kind() {
	case reflect.Bool:
		return starlark.Bool(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return starlark.MakeInt64(v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n := v.Uint()
		if n <= math.MaxInt64 {
			return starlark.MakeInt64(int64(n)), nil
		}
		return starlark.MakeBigInt(new(big.Int).SetUint64(n)), nil
	case reflect.Float32, reflect.Float64:
		return starlark.Float(v.Float()), nil
	case reflect.String:
		return starlark.String(v.String()), nil
	case reflect.Slice:
		if v.IsNil() && v.Type().Elem().Kind() != reflect.Uint8 {
			return starlark.NewList(nil), nil
		}
		fallthrough
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			reflect.Copy(reflect.ValueOf(b), v)
			return starlark.Bytes(b), nil
		}
		elems := make([]Value, v.Len())
		for i := range elems {
			s, err := fromGo(v.Index(i).Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			elems[i] = s
		}
		return starlark.NewList(elems), nil
	case reflect.Map:
		return fromReflectMap(v, depth)
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return starlark.None, nil
		}
		if v.Kind() == reflect.Pointer && v.Elem().Kind() != reflect.Struct {
			return fromGo(v.Elem().Interface(), depth+1)
		}
		if v.Kind() == reflect.Interface {
			return fromGo(v.Elem().Interface(), depth+1)
		}
		fallthrough
	case reflect.Struct:
		data, err := json.Marshal(v.Interface())
		if err != nil {
			return nil, fmt.Errorf("cannot convert a %s: %v", v.Type(), err)
		}
		return DecodeJSON(data)
	}
	return nil, fmt.Errorf("cannot convert a go %s to a value: return maps, slices, strings, numbers, bools or nil", v.Type())
}

func fromReflectMap(v reflect.Value, depth int) (Value, error) {
	type entry struct {
		k reflect.Value
		s Value
	}
	entries := make([]entry, 0, v.Len())
	kind := v.Type().Key().Kind()
	for it := v.MapRange(); it.Next(); {
		k := it.Key()
		var s Value
		switch kind {
		case reflect.String:
			s = starlark.String(k.String())
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Bool, reflect.Float32, reflect.Float64:
			var err error
			if s, err = fromReflect(k, depth+1); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("cannot convert a %s: map keys must be strings, numbers or bools", v.Type())
		}
		entries = append(entries, entry{k, s})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		switch kind {
		case reflect.String:
			return cmp.Compare(a.k.String(), b.k.String())
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return cmp.Compare(a.k.Int(), b.k.Int())
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			return cmp.Compare(a.k.Uint(), b.k.Uint())
		case reflect.Float32, reflect.Float64:
			return cmp.Compare(a.k.Float(), b.k.Float())
		case reflect.Bool:
			return cmp.Compare(boolInt(a.k.Bool()), boolInt(b.k.Bool()))
		}
		return 0
	})
	d := starlark.NewDict(len(entries))
	for _, e := range entries {
		val, err := fromGo(v.MapIndex(e.k).Interface(), depth+1)
		if err != nil {
			return nil, err
		}
		if err := d.SetKey(e.s, val); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
