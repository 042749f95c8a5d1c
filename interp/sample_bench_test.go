package interp

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/weirstream/weir/spec"
)

// sampleOrder is an input of weir bench: a 200-byte order.
func sampleOrder(i int) []byte {
	b := fmt.Appendf(nil, `{"id":"o-%09d","customer":"c-%05d","sku":"sku-%04d","qty":%d,"price":%d.%02d`, i, i%10007, i%997, 1+i%5, 1+i%97, i%100)
	if i%20 == 7 {
		b = append(b, `,"test":true`...)
	}
	b = append(b, `,"ts":1700000000000000,"note":"`...)
	for len(b) < 198 {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}

// BenchmarkEnrichAndRoute is the per-record path of the
// samples/enrich-and-route agent as a worker runs it: decode the JSON value,
// the filter, the map, each output's predicate and, where it passes, its
// key selector and the encoding of the key and value.
func BenchmarkEnrichAndRoute(b *testing.B) {
	bundle, err := spec.Load("../samples/enrich-and-route")
	if err != nil {
		b.Fatal(err)
	}
	app := bundle.Apps[0]
	prog, err := Compile(app.Agents[0], OptionsFor(app.App))
	if err != nil {
		b.Fatal(err)
	}
	var paths []string
	for p := range prog.funcs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	get := func(suffix string) *Func {
		for _, p := range paths {
			if strings.HasSuffix(p, suffix) {
				return prog.funcs[p]
			}
		}
		b.Fatalf("no block %s in %v", suffix, paths)
		return nil
	}
	filter, mapf := get("operations[0].filter"), get("operations[1].map")
	type output struct{ pred, key *Func }
	outs := []output{
		{get("topics[0].predicate"), get("topics[0].keySelector")},
		{get("topics[1].predicate"), get("topics[1].keySelector")},
	}
	th := NewThread(OptionsFor(app.App))
	var values [100][]byte
	for i := range values {
		values[i] = sampleOrder(i)
	}
	valSer, _ := NewSerializer("json")
	keySer, _ := NewSerializer("string")
	args := make(starlark.Tuple, 1)
	ev := &Event{Topic: "orders-raw"}
	call := func(f *Func, v Value) Value {
		args[0] = v
		out, err := f.Call(th, ev, args, nil)
		if err != nil {
			b.Fatal(err)
		}
		args[0] = nil
		return out
	}
	sent := 0
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		v, err := valSer.Decode(values[i%len(values)])
		i++
		if err != nil {
			b.Fatal(err)
		}
		if !call(filter, v).Truth() {
			continue
		}
		v = call(mapf, v)
		for _, o := range outs {
			if !call(o.pred, v).Truth() {
				continue
			}
			k := call(o.key, v)
			kb, err := keySer.Append(nil, k)
			if err != nil {
				b.Fatal(err)
			}
			vb, err := valSer.Append(nil, v)
			if err != nil {
				b.Fatal(err)
			}
			sent += len(kb) + len(vb)
		}
	}
	if sent == 0 {
		b.Fatal("nothing sent")
	}
}

// BenchmarkStarlarkPredicate is the smallest call the engine makes per
// record: an output's predicate on a decoded value.
func BenchmarkStarlarkPredicate(b *testing.B) {
	f, th := benchFunc(b, "filter", "def is_ok(order):\n    return order[\"currency\"] == \"EUR\"\n")
	v, err := DecodeJSON(record)
	if err != nil {
		b.Fatal(err)
	}
	args := starlark.Tuple{v}
	ev := &Event{Topic: "in"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Call(th, ev, args, nil); err != nil {
			b.Fatal(err)
		}
	}
}
