// Go code blocks
//
// A code block may be written in Go instead of Python: the key `go:` holds
// the source and `entrypoint:` (required) names the function to call. The
// source is a whole file of package main, run by the yaegi interpreter. It
// is compiled once when the app is loaded; a mistake is a load error that
// names the line in the YAML file.
//
//	map:
//	  entrypoint: Enrich
//	  go: |
//	    package main
//
//	    import (
//	        "strings"
//
//	        "weir"
//	    )
//
//	    func Enrich(ctx *weir.Context, value any) (any, error) {
//	        order := value.(map[string]any)
//	        order["country"] = strings.ToUpper(order["country"].(string))
//	        order["topic"] = ctx.Event.Topic
//	        return order, nil
//	    }
//
// # Entry point
//
// The entrypoint is a top-level func of one of these shapes:
//
//	func(value any) any
//	func(value any) (any, error)
//	func(ctx *weir.Context, value any) any
//	func(ctx *weir.Context, value any) (any, error)
//
// and, for the first operation of a task, which gets no value:
//
//	func() any
//	func() (any, error)
//	func(ctx *weir.Context) any
//	func(ctx *weir.Context) (any, error)
//
// A map returns the new value; a filter returns a value whose truth keeps
// the event (false, nil, 0, "" and empty maps and slices drop it); a
// returned error fails the call, as an exception does in Python.
//
// # Values
//
// A value arrives as plain Go values: a JSON object is a map[string]any, an
// array []any, a string string, a number without a fraction int64 (a bigger
// one *big.Int), other numbers float64, true/false bool, null nil, and raw
// bytes []byte. Use type assertions: value.(map[string]any)["n"].(int64).
//
// Return the same kinds, or []string, map[string]string, []map[string]any,
// any int or float type, slices and maps of those, and structs (converted as
// encoding/json writes them, so json tags apply). Map keys come out in
// sorted order. A time.Time, a time.Duration or an error cannot be returned
// as a value: return a string or a number.
//
// # The weir package
//
// import "weir" gives:
//
//	type Context struct {
//	    App    string           // the app's name
//	    Event  *Event           // the record being processed; nil in tasks and web views
//	    Tables map[string]Table // the operation's tables, by paramName
//	    Params map[string]any   // other keyword arguments, such as a web view's path parameters
//	}
//
//	type Event struct {
//	    Key, Value any               // deserialized, as values are
//	    Headers    map[string][]byte // the last header of a repeated key wins
//	    Topic      string
//	    Partition  int32
//	    Offset     int64
//	    Timestamp  time.Time
//	}
//
//	type Table interface {
//	    Get(key any) (any, bool)    // the value and true; for a missing key the table's default (defaultSelector; nil without one) and false
//	    Set(key, value any)         // store a value (agents and tasks only)
//	    Delete(key any)             // remove a key; a missing key is no error
//	    Len() int
//	    Items() [][2]any            // every key and value, in key order
//	    PrefixScan(prefix string) [][2]any // the keys that start with prefix, in key order
//	}
//
//	func Fanout(items ...any) any
//
// A table failure (a read-only table written, a value the table cannot
// store) panics; the call fails with that message unless the code
// recovers. Table reads of a partitioned table see the partition of the
// current event. Values read from a table are copies: change one and Set it
// back to store it.
//
// A map that returns weir.Fanout(a, b, c) passes a, b and c on one by one; a
// slice is one value. To fan out a slice s of type []any, write
// weir.Fanout(s...).
//
// # Packages
//
// A go block may import "weir" and these standard packages, and no others
// (no os, net, io, reflect, unsafe, runtime, ...): bytes, cmp, crypto/md5,
// crypto/sha256, encoding/base64, encoding/hex, encoding/json, errors, fmt,
// hash/fnv, maps, math, math/big, regexp, slices, sort, strconv, strings,
// time (without AfterFunc), unicode, unicode/utf8. Of the generic packages
// the interpreter compiles only some functions: cmp.Compare and cmp.Less,
// slices.Contains, ContainsFunc, Index and IndexFunc, maps.DeleteFunc;
// others (slices.Sort, Insert, Equal, maps.Clone, iterators) fail at load:
// use sort and loops. fmt.Print and println write to weir's log, a line at
// a time.
//
// # Limits
//
// A call is bounded by codeTimeout only (the interpreter counts no steps).
// At the deadline the call fails and weir stops the interpreter; a call
// stuck inside a library function (time.Sleep, a huge strings.Repeat)
// cannot be stopped and keeps running in the background until that
// function returns. Go statements (go f()) and func main are not allowed;
// func init and package variables run once per worker when the block is
// loaded, so package variables are per worker, not shared. The interpreter
// does not support range over an int or a function (Go 1.22/1.23) nor the
// min, max and clear builtins; load errors say so. It has bugs of its own:
// a switch on an any value with constant cases (switch v { case "a": })
// panics at run time, so switch on a typed value (switch v.(string)); weir
// works around `return a > b` from a func returning any. A panic names the
// function it happened in, but the line only for failed type assertions.
// Unbounded recursion and huge allocations end the process, as in compiled
// Go.

package interp

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"
)

// GoContext is weir.Context: what a go block's entry point gets as ctx.
type GoContext struct {
	App    string
	Event  *GoEvent
	Tables map[string]GoTable
	Params map[string]any
}

// GoEvent is weir.Event, the record being processed.
type GoEvent struct {
	Key, Value any
	Headers    map[string][]byte
	Topic      string
	Partition  int32
	Offset     int64
	Timestamp  time.Time
}

// GoTable is weir.Table: a table as go code sees it. Failures panic with a
// *GoError.
type GoTable interface {
	Get(key any) (any, bool)
	Set(key, value any)
	Delete(key any)
	Len() int
	Items() [][2]any
	PrefixScan(prefix string) [][2]any
}

// GoFanout is what weir.Fanout returns: a map that returns it passes each
// item on by itself (it becomes a *Fanout).
type GoFanout struct {
	Items []any
}

// GoError is the panic value of a failing weir.Table method.
type GoError struct {
	Message string
}

func (e *GoError) Error() string { return e.Message }

// goFanout is weir.Fanout.
func goFanout(items ...any) any { return &GoFanout{Items: items} }

// goExports is package weir for yaegi, written as `yaegi extract` would.
var goExports = map[string]map[string]reflect.Value{
	"weir/weir": {
		"Context": reflect.ValueOf((*GoContext)(nil)),
		"Event":   reflect.ValueOf((*GoEvent)(nil)),
		"Table":   reflect.ValueOf((*GoTable)(nil)),
		"Fanout":  reflect.ValueOf(goFanout),
	},
}

// callState is shared by the tables of one call: once the call has timed
// out, a goroutine left running may no longer touch them.
type callState struct {
	expired atomic.Bool
}

// goTable is a TableValue for go code.
type goTable struct {
	tv   *TableValue
	call *callState
}

var _ GoTable = (*goTable)(nil)

func (t *goTable) fail(err error) {
	msg := err.Error()
	if !strings.HasPrefix(msg, "table "+t.tv.name+" ") {
		msg = fmt.Sprintf("table %s: %s", t.tv.name, msg)
	}
	panic(&GoError{Message: msg})
}

func (t *goTable) check() {
	if t.call != nil && t.call.expired.Load() {
		panic(&GoError{Message: fmt.Sprintf("table %s: the call has timed out", t.tv.name)})
	}
}

func (t *goTable) key(k any) Value {
	v, err := FromGo(k)
	if err != nil {
		t.fail(fmt.Errorf("key: %v", err))
	}
	return v
}

func (t *goTable) value(v Value) any {
	g, err := toGo(v, 0, t.call)
	if err != nil {
		t.fail(err)
	}
	return g
}

func (t *goTable) Get(key any) (any, bool) {
	t.check()
	v, ok, err := t.tv.table.Get(t.key(key))
	if err != nil {
		t.fail(err)
	}
	if !ok {
		if t.tv.deflt == nil {
			return nil, false
		}
		if v, err = t.tv.deflt(); err != nil {
			t.fail(fmt.Errorf("default: %v", err))
		}
	}
	return t.value(v), ok
}

func (t *goTable) Set(key, value any) {
	t.check()
	k := t.key(key)
	v, err := FromGo(value)
	if err != nil {
		t.fail(fmt.Errorf("value: %v", err))
	}
	if _, isFanout := v.(*Fanout); isFanout {
		t.fail(errors.New("cannot store a weir.Fanout"))
	}
	if err := t.tv.SetKey(k, v); err != nil {
		t.fail(err)
	}
}

func (t *goTable) Delete(key any) {
	t.check()
	if t.tv.partial {
		t.fail(fmt.Errorf("table %s is read-only here: only agents and tasks write tables", t.tv.name))
	}
	if err := t.tv.table.Delete(t.key(key)); err != nil {
		t.fail(err)
	}
}

func (t *goTable) Len() int {
	t.check()
	n, err := t.tv.table.Len()
	if err != nil {
		t.fail(err)
	}
	return n
}

func (t *goTable) Items() [][2]any { return t.scan(starlark.None) }

func (t *goTable) PrefixScan(prefix string) [][2]any { return t.scan(starlark.String(prefix)) }

func (t *goTable) scan(prefix Value) [][2]any {
	t.check()
	var out [][2]any
	var convErr error
	err := t.tv.table.Scan(prefix, func(k, v Value) bool {
		gk, err := toGo(k, 0, t.call)
		if err != nil {
			convErr = err
			return false
		}
		gv, err := toGo(v, 0, t.call)
		if err != nil {
			convErr = err
			return false
		}
		out = append(out, [2]any{gk, gv})
		return true
	})
	if err == nil {
		err = convErr
	}
	if err != nil {
		t.fail(err)
	}
	return out
}
