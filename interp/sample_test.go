package interp

import (
	"fmt"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/weirstream/weir/spec"
)

// TestEnrichAndRouteSample pins what the samples/enrich-and-route agent
// makes of odd orders as well as good ones, so that its code can be made
// cheaper without changing its outputs: for each input, "dropped" or, for
// each output whose predicate passes, "-> i key=K VALUE".
func TestEnrichAndRouteSample(t *testing.T) {
	bundle, err := spec.Load("../samples/enrich-and-route")
	if err != nil {
		t.Fatal(err)
	}
	app := bundle.Apps[0]
	prog, err := Compile(app.Agents[0], OptionsFor(app.App))
	if err != nil {
		t.Fatal(err)
	}
	get := func(suffix string) *Func {
		for p, f := range prog.funcs {
			if strings.HasSuffix(p, suffix) {
				return f
			}
		}
		t.Fatalf("no block %s", suffix)
		return nil
	}
	th := NewThread(OptionsFor(app.App))
	call := func(f *Func, v Value) Value {
		t.Helper()
		out, err := f.Call(th, nil, starlark.Tuple{v}, nil)
		if err != nil {
			t.Fatalf("%s(%s): %v", f.Entry(), v, err)
		}
		return out
	}
	for _, tc := range []struct{ in, want string }{
		{`{"id":"o-1","customer":"ada","qty":3,"price":19.99}`, `-> 0 key="o-1" {"id":"o-1","customer":"ada","qty":3,"price":19.99,"subtotal":59.97,"tax":11.99,"total":71.96,"currency":"EUR","status":"ok"}`},
		{`{"id":"o-2","customer":"bob","qty":0,"price":5}`, `-> 1 key="o-2" {"id":"o-2","customer":"bob","qty":0,"price":5,"status":"invalid","reason":"qty must be a positive integer"}`},
		{`{"id":"o-3","customer":"qa","qty":1,"price":1,"test":true}`, `dropped`},
		{`{"customer":"eve","qty":1,"price":2}`, `-> 1 key="" {"customer":"eve","qty":1,"price":2,"status":"invalid","reason":"missing id"}`},
		{`{"id":"","qty":1,"price":2}`, `-> 1 key="" {"id":"","qty":1,"price":2,"status":"invalid","reason":"missing id"}`},
		{`{"id":null,"qty":1,"price":2}`, `-> 1 key="" {"id":null,"qty":1,"price":2,"status":"invalid","reason":"missing id"}`},
		{`{"id":0,"qty":1,"price":2}`, `-> 0 key="0" {"id":0,"qty":1,"price":2,"subtotal":2.0,"tax":0.4,"total":2.4,"currency":"EUR","status":"ok"}`},
		{`{"id":7,"qty":2,"price":2}`, `-> 0 key="7" {"id":7,"qty":2,"price":2,"subtotal":4.0,"tax":0.8,"total":4.8,"currency":"EUR","status":"ok"}`},
		{`{"id":"o-4","qty":true,"price":2}`, `-> 1 key="o-4" {"id":"o-4","qty":true,"price":2,"status":"invalid","reason":"qty must be a positive integer"}`},
		{`{"id":"o-5","qty":1.0,"price":2}`, `-> 1 key="o-5" {"id":"o-5","qty":1.0,"price":2,"status":"invalid","reason":"qty must be a positive integer"}`},
		{`{"id":"o-6","qty":-3,"price":2}`, `-> 1 key="o-6" {"id":"o-6","qty":-3,"price":2,"status":"invalid","reason":"qty must be a positive integer"}`},
		{`{"id":"o-7","qty":2,"price":true}`, `-> 1 key="o-7" {"id":"o-7","qty":2,"price":true,"status":"invalid","reason":"price must be a non-negative number"}`},
		{`{"id":"o-8","qty":2,"price":"3"}`, `-> 1 key="o-8" {"id":"o-8","qty":2,"price":"3","status":"invalid","reason":"price must be a non-negative number"}`},
		{`{"id":"o-9","qty":2,"price":-0.5}`, `-> 1 key="o-9" {"id":"o-9","qty":2,"price":-0.5,"status":"invalid","reason":"price must be a non-negative number"}`},
		{`{"id":"o-10","qty":2,"price":0}`, `-> 0 key="o-10" {"id":"o-10","qty":2,"price":0,"subtotal":0.0,"tax":0.0,"total":0.0,"currency":"EUR","status":"ok"}`},
		{`{"id":"o-11","qty":2,"price":-0.0}`, `-> 0 key="o-11" {"id":"o-11","qty":2,"price":-0.0,"subtotal":0.0,"tax":0.0,"total":0.0,"currency":"EUR","status":"ok"}`},
		{`{"id":"o-12","qty":2}`, `-> 1 key="o-12" {"id":"o-12","qty":2,"status":"invalid","reason":"price must be a non-negative number"}`},
		{`{"id":"o-13","price":2}`, `-> 1 key="o-13" {"id":"o-13","price":2,"status":"invalid","reason":"qty must be a positive integer"}`},
		{`{"id":"o-14","qty":99999999999999999999,"price":1.5}`, `-> 0 key="o-14" {"id":"o-14","qty":99999999999999999999,"price":1.5,"subtotal":1.5e+20,"tax":3e+19,"total":1.8e+20,"currency":"EUR","status":"ok"}`},
		{`{"id":"o-15","qty":3,"price":0.1,"test":false}`, `-> 0 key="o-15" {"id":"o-15","qty":3,"price":0.1,"test":false,"subtotal":0.3,"tax":0.06,"total":0.36,"currency":"EUR","status":"ok"}`},
		{`{"id":"o-16","qty":3,"price":0.1,"test":0}`, `-> 0 key="o-16" {"id":"o-16","qty":3,"price":0.1,"test":0,"subtotal":0.3,"tax":0.06,"total":0.36,"currency":"EUR","status":"ok"}`},
		{`{"id":"o-17","qty":3,"price":0.1,"test":1}`, `dropped`},
		{`{"id":"o-18","qty":3,"price":0.1,"test":"yes"}`, `dropped`},
		{`{"id":"o-19","qty":3,"price":0.1,"test":null}`, `-> 0 key="o-19" {"id":"o-19","qty":3,"price":0.1,"test":null,"subtotal":0.3,"tax":0.06,"total":0.36,"currency":"EUR","status":"ok"}`},
		{`{"id":"o-20","qty":7,"price":1.005,"status":"old","subtotal":1,"currency":"USD"}`, `-> 0 key="o-20" {"id":"o-20","qty":7,"price":1.005,"status":"ok","subtotal":7.03,"currency":"EUR","tax":1.41,"total":8.44}`},
		{`{"id":["a"],"qty":1,"price":1}`, `-> 0 key="[\"a\"]" {"id":["a"],"qty":1,"price":1,"subtotal":1.0,"tax":0.2,"total":1.2,"currency":"EUR","status":"ok"}`},
		{`{"id":"o-21","qty":123456,"price":9876.54321}`, `-> 0 key="o-21" {"id":"o-21","qty":123456,"price":9876.54321,"subtotal":1219318518.53,"tax":243863703.71,"total":1463182222.24,"currency":"EUR","status":"ok"}`},
		{`{"id":"o-22","qty":5,"price":1e300}`, `-> 0 key="o-22" {"id":"o-22","qty":5,"price":1e+300,"subtotal":5e+300,"tax":1e+300,"total":6e+300,"currency":"EUR","status":"ok"}`},
		{`{}`, `-> 1 key="" {"status":"invalid","reason":"missing id"}`},
		{`"raw-1"`, `-> 1 key="" {"status":"invalid","reason":"order is not a JSON object","raw":"raw-1"}`},
		{`[1,2]`, `-> 1 key="" {"status":"invalid","reason":"order is not a JSON object","raw":[1,2]}`},
		{`3`, `-> 1 key="" {"status":"invalid","reason":"order is not a JSON object","raw":3}`},
		{`null`, `-> 1 key="" {"status":"invalid","reason":"order is not a JSON object","raw":null}`},
		{`true`, `-> 1 key="" {"status":"invalid","reason":"order is not a JSON object","raw":true}`},
	} {
		v, err := DecodeJSON([]byte(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		if !call(get("operations[0].filter"), v).Truth() {
			got = append(got, "dropped")
		} else {
			m := call(get("operations[1].map"), v)
			for i := range 2 {
				if !call(get(fmt.Sprintf("topics[%d].predicate", i)), m).Truth() {
					continue
				}
				k := call(get(fmt.Sprintf("topics[%d].keySelector", i)), m)
				b, err := EncodeJSON(m)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("-> %d key=%s %s", i, k, b))
			}
		}
		if g := strings.Join(got, " | "); g != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.in, g, tc.want)
		}
	}
}
