package interp

import (
	"testing"

	"go.starlark.net/starlark"

	"github.com/weirstream/weir/spec"
)

// record is a 200-byte JSON order, the size the speed targets are set for.
var record = []byte(`{"id":"ord-000123","customer":{"id":42,"name":"Ada Lovelace","country":"GB"},"items":[{"sku":"A-1","qty":2,"price":9.99},{"sku":"B-7","qty":1,"price":24.5}],"currency":"EUR","ts":1700000000123}`)

func benchFunc(b *testing.B, op, src string) (*Func, *Thread) {
	b.Helper()
	m := "apiVersion: kaspr.io/v1alpha1\nkind: KasprAgent\nmetadata: {name: bench}\nspec:\n  input: {topic: {name: in}}\n  processors:\n    pipeline: [op]\n    operations:\n      - name: op\n        " + op + ":\n          python: |\n" + indent(src, "            ")
	bundle, err := spec.Parse(spec.File{Name: "app.yaml", Data: []byte(caseApp)}, spec.File{Name: "agent.yaml", Data: []byte(m)})
	if err != nil {
		b.Fatal(err)
	}
	opts := OptionsFor(bundle.Apps[0].App)
	prog, err := Compile(bundle.Apps[0].Agents[0], opts)
	if err != nil {
		b.Fatal(err)
	}
	return prog.Func("spec.processors.operations[0]." + op), NewThread(opts)
}

// BenchmarkStarlarkMap is the per-record path of a map: JSON bytes in,
// decode, call, encode, JSON bytes out.
func BenchmarkStarlarkMap(b *testing.B) {
	f, th := benchFunc(b, "map", `def enrich(order):
    total = 0.0
    for item in order["items"]:
        total += item["qty"] * item["price"]
    order["total"] = total
    order["big"] = total > 40
    return order
`)
	benchMapPath(b, f, th)
}

// BenchmarkStarlarkMapSmall is the same path with the smallest useful map:
// one field set.
func BenchmarkStarlarkMapSmall(b *testing.B) {
	f, th := benchFunc(b, "map", "def tag(order):\n    order[\"seen\"] = True\n    return order\n")
	benchMapPath(b, f, th)
}

// benchMapPath runs the per-record path of a map: JSON bytes in, decode,
// call, encode, JSON bytes out.
func benchMapPath(b *testing.B, f *Func, th *Thread) {
	buf := make([]byte, 0, 512)
	args := make(starlark.Tuple, 1)
	ev := &Event{Topic: "in"}
	var d JSONDecoder
	b.ReportAllocs()
	b.SetBytes(int64(len(record)))
	for b.Loop() {
		v, err := d.Decode(record)
		if err != nil {
			b.Fatal(err)
		}
		args[0] = v
		out, err := f.Call(th, ev, args, nil)
		if err != nil {
			b.Fatal(err)
		}
		if buf, err = AppendJSON(buf[:0], out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStarlarkFilter is a filter on a decoded value.
func BenchmarkStarlarkFilter(b *testing.B) {
	f, th := benchFunc(b, "filter", `def keep(order):
    return order["currency"] == "EUR" and len(order["items"]) > 0
`)
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

func BenchmarkDecodeJSON(b *testing.B) {
	var d JSONDecoder
	b.ReportAllocs()
	b.SetBytes(int64(len(record)))
	for b.Loop() {
		if _, err := d.Decode(record); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeJSON(b *testing.B) {
	v, err := DecodeJSON(record)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(record)))
	for b.Loop() {
		if buf, err = AppendJSON(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}
