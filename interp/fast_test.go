package interp

import (
	"math"
	"math/big"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/weirstream/weir/spec"
)

// compileBlock compiles one python map block (with an init block) and
// returns it.
func compileBlock(t *testing.T, src string) *Func {
	t.Helper()
	m := "apiVersion: kaspr.io/v1alpha1\nkind: KasprAgent\nmetadata: {name: fast}\nspec:\n  input: {topic: {name: in}}\n  processors:\n    pipeline: [op]\n" +
		"    init:\n      python: |\n        RATE = 0.5\n        NAME = \"n\"\n        ITEMS = [1]\n" +
		"    operations:\n      - name: op\n        map:\n          python: |\n" + indent(src, "            ")
	bundle, err := spec.Parse(spec.File{Name: "app.yaml", Data: []byte(caseApp)}, spec.File{Name: "agent.yaml", Data: []byte(m)})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Compile(bundle.Apps[0].Agents[0], OptionsFor(bundle.Apps[0].App))
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return prog.Func("spec.processors.operations[0].map")
}

// TestFastFuncs checks which functions take the fast way, and that it
// answers as Starlark does, or leaves the call to Starlark (always when
// Starlark fails), for values of every kind.
func TestFastFuncs(t *testing.T) {
	fast := []string{
		"def f(v):\n    return v[\"status\"] == \"ok\"\n",
		"def f(v):\n    oid = v.get(\"id\")\n    return \"\" if oid is None else str(oid)\n",
		"def f(v):\n    # Non-objects are kept.\n    return not isinstance(v, dict) or not v.get(\"test\", False)\n",
		"def f(v):\n    return v.get(\"n\", 0) > 10 and v[\"kind\"] in (\"a\", \"b\")\n",
		"def f(v):\n    return v[\"kind\"] not in (\"a\", \"b\")\n",
		"def f(v):\n    return v != None and v == v\n",
		"def f(v):\n    return len(v) - 1\n",
		"def f(v):\n    return -v[\"n\"] * 2 + RATE\n",
		"def f(v):\n    \"\"\"The value, or its name.\"\"\"\n    a = v.get(NAME)\n    b = a or v\n    return b\n",
		"def f(v):\n    return isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0\n",
		"def f(v):\n    return v[\"n\"] // 3 % 2 == 1 if isinstance(v, dict) else ~1 < 0\n",
		"def f(v):\n    return\n",
		"def f(v):\n    return str(v) + b\"\" if False else str(v)\n",
		"def f(v):\n    return v\n\ndef helper(x):\n    return x\n",
		"def f(v):\n    if v:\n        return 1\n    return 2\n",
		"def f(v):\n    return int(v)\n",
		"def f(v):\n    if isinstance(v, dict):\n        pass\n",
		"def f(v):\n    if not isinstance(v, dict):\n        return {\"raw\": v, \"n\": [v, 1], \"t\": (v,)}\n" +
			"    n = v.get(\"n\")\n    if v.get(\"id\") in (None, \"\"):\n        reason = \"no id\"\n" +
			"    elif not isinstance(n, int) or n <= 0:\n        reason = \"bad n\"\n    else:\n" +
			"        total = int(n * RATE * 100 + 0.5) / 100\n        return {**v, \"total\": total, \"ok\": True}\n" +
			"    return {**v, \"reason\": reason}\n",
		"def f(v):\n    return {v.get(\"kind\", \"x\"): 1, \"a\": 2}\n",
		"def f(v):\n    return {**v, **{\"k\": 1}}\n",
		"def f(v):\n    x = 1\n    x = 2\n    return [v, x]\n",
		"def f(v):\n    return v * v\n",
		"def f(v):\n    return v + v\n",
		"def f(v):\n    return v + 1\n",
		"def f(v):\n    return v - 1\n",
		"def f(v):\n    return 1 - v\n",
		"def f(v):\n    return -v\n",
		"def f(v):\n    return -(-v)\n",
		"def f(v):\n    return v / 2\n",
		"def f(v):\n    return 1 / v\n",
		"def f(v):\n    return int(v)\n",
		"def f(v):\n    return int(v * 100 + 0.5) / 100\n",
		"def f(v):\n    return v * 2 + v * v - -v\n",
		"def f(v):\n    return (v * 3037000500) * 3037000500\n",
		"def f(v):\n    x = v * 2\n    y = int(x * RATE) + 1\n    return [x, y, x / y if y else 0]\n",
	}
	// Fast, but always giving up: x is read before it is assigned.
	givesUp := "def f(v):\n    y = x\n    x = v\n    return y\n"
	slow := []string{
		"def f(v):\n    print(v)\n    return v\n",
		"def f(v):\n    return context.event.topic\n",
		"def f(v):\n    return helper(v)\n\ndef helper(x):\n    return x\n",
		"X = 1\n\ndef f(v):\n    return v\n",
		"def f(v):\n    return ITEMS\n",
		"def f(v, w=1):\n    return v\n",
		"def f(v):\n    return v.get(\"a\", default=1)\n",
		"def f(v):\n    return v.keys()\n",
		"def f(v):\n    return str\n",
		"def f(v):\n    for x in v:\n        return x\n",
		"def f(v):\n    v[\"k\"] = 1\n    return v\n",
		"def f(v):\n    x = v\n    x += 1\n    return x\n",
		"def f(v):\n    return [x for x in v]\n",
		"def f(v):\n    return float(v)\n",
	}
	values := []string{
		`{"status":"ok","id":"o-1","n":12,"kind":"a","test":false}`,
		`{"status":"invalid","id":7,"n":3.5,"kind":"c","test":true}`,
		`{"id":null,"n":-2,"kind":"b"}`,
		`{"id":["x"],"n":"s","n2":1}`,
		`{}`, `[1,2]`, `"text"`, `""`, `0`, `-3`, `2.5`, `true`, `false`, `null`,
		`123456789012345678901234567890`,
	}
	var vals []Value
	for _, s := range values {
		v, err := DecodeJSON([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		vals = append(vals, v)
	}
	vals = append(vals, starlark.Bytes("b"), starlark.Tuple{starlark.MakeInt(1)},
		starlark.MakeInt64(math.MaxInt64), starlark.MakeInt64(math.MinInt64), starlark.MakeInt64(-math.MaxInt64),
		starlark.MakeInt64(1<<62), starlark.MakeInt64(3037000500), starlark.MakeInt64(-3037000500), starlark.MakeInt64(1<<31),
		starlark.Float(math.Inf(1)), starlark.Float(math.Inf(-1)), starlark.Float(math.NaN()), starlark.Float(math.Copysign(0, -1)),
		starlark.Float(9.3e18), starlark.Float(-9.3e18), starlark.Float(0x1p63), starlark.Float(-0x1p63), starlark.Float(1e300),
		starlark.NewList([]starlark.Value{starlark.MakeInt(1)}), starlark.MakeInt(0))

	th, slowTh := NewThread(Options{}), NewThread(Options{})
	slowTh.noFast = true
	for _, src := range fast {
		f := compileBlock(t, src)
		if f.fast == nil {
			t.Errorf("no fast way for\n%s", src)
			continue
		}
		handled := 0
		for _, v := range vals {
			want, werr := f.Call(slowTh, nil, starlark.Tuple{v}, nil)
			got, ok := f.fast.call(th, v)
			switch {
			case werr != nil && ok:
				t.Errorf("%s\nwith %s: the fast way gave %s where Starlark fails: %v", src, v, got, werr)
			case ok && (got.Type() != want.Type() || got.String() != want.String()):
				t.Errorf("%s\nwith %s: fast %s (%s), Starlark %s (%s)", src, v, got, got.Type(), want, want.Type())
			case ok:
				handled++
			}
			// Call gives Starlark's answer either way.
			got, err := f.Call(th, nil, starlark.Tuple{v}, nil)
			if (err != nil) != (werr != nil) || err == nil && got.String() != want.String() || err != nil && err.Error() != werr.Error() {
				t.Errorf("%s\nwith %s: Call gave %v, %v; want %v, %v", src, v, got, err, want, werr)
			}
		}
		if handled == 0 {
			t.Errorf("the fast way handled none of the values for\n%s", src)
		}
	}
	if f := compileBlock(t, givesUp); f.fast == nil {
		t.Errorf("no fast way for\n%s", givesUp)
	} else if _, ok := f.fast.call(th, vals[0]); ok {
		t.Errorf("the fast way answered for\n%s", givesUp)
	}
	for _, src := range slow {
		if f := compileBlock(t, src); f.fast != nil {
			t.Errorf("a fast way for\n%s", src)
		}
	}
}

// TestFastFuncErrorNamesLine checks that a failure on the fast way's
// ground is Starlark's, with the block's line.
func TestFastFuncErrorNamesLine(t *testing.T) {
	f := compileBlock(t, "def f(v):\n    return v[\"missing\"] == 1\n")
	if f.fast == nil {
		t.Fatal("no fast way")
	}
	v, _ := DecodeJSON([]byte(`{"a":1}`))
	_, err := f.Call(NewThread(Options{}), nil, starlark.Tuple{v}, nil)
	if err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "agent.yaml:") {
		t.Fatalf("got %v, want Starlark's key error at a line of agent.yaml", err)
	}
}

// TestFastCompare checks compare against Starlark's over ints and floats
// around the edges of exactness.
func TestFastCompare(t *testing.T) {
	big53 := int64(1) << 53
	var vals []starlark.Value
	for _, i := range []int64{0, 1, -1, 7, big53 - 1, big53, big53 + 1, -big53, -big53 - 1, 1 << 62} {
		vals = append(vals, starlark.MakeInt64(i))
	}
	vals = append(vals, starlark.MakeBigInt(new(big.Int).Lsh(big.NewInt(1), 80)))
	for _, f := range []float64{0, math.Copysign(0, -1), 0.5, -0.5, 1, 7, 7.000000000000001, float64(big53), float64(big53) + 2, -float64(big53),
		1e300, -1e300, math.Inf(1), math.Inf(-1), math.NaN(), 0x1p62, 0x1p80} {
		vals = append(vals, starlark.Float(f))
	}
	vals = append(vals, starlark.String("x"), starlark.String("y"), starlark.String(""), starlark.String("x\x00"), starlark.None)
	for _, op := range []syntax.Token{syntax.EQL, syntax.NEQ, syntax.LT, syntax.LE, syntax.GT, syntax.GE} {
		for _, x := range vals {
			for _, y := range vals {
				got, gerr := compare(op, x, y)
				want, werr := starlark.Compare(op, x, y)
				if got != want || (gerr != nil) != (werr != nil) {
					t.Errorf("%s %s %s: got %v, %v; want %v, %v", x, op, y, got, gerr, want, werr)
				}
			}
		}
	}
}
