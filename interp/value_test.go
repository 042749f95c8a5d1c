package interp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"go.starlark.net/starlark"
)

func TestJSONRoundTrip(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{`1`, `1`},
		{`1.0`, `1.0`},
		{`-0.5e3`, `-500.0`},
		{`1e400`, ``}, // out of range: +Inf cannot be encoded
		{`123456789012345678901234567890`, `123456789012345678901234567890`},
		{`-9223372036854775809`, `-9223372036854775809`},
		{`9223372036854775807`, `9223372036854775807`},
		{`-9223372036854775808`, `-9223372036854775808`},
		{`999999999999999999`, `999999999999999999`},
		{`-999999999999999999`, `-999999999999999999`},
		{`[0,-0,7,-7,10,-10]`, `[0,0,7,-7,10,-10]`},
		{`"a\"b\\c\/d\n\u00e9\ud83d\ude00"`, `"a\"b\\c/d\n` + "é😀" + `"`},
		{`{"b":1,"a":[true,false,null],"c":{}}`, `{"b":1,"a":[true,false,null],"c":{}}`},
		{` [ 1 , 2 ] `, `[1,2]`},
		{`"\u0001"`, `"\u0001"`},
	} {
		v, err := DecodeJSON([]byte(tc.in))
		if err != nil {
			t.Errorf("decode %s: %v", tc.in, err)
			continue
		}
		got, err := EncodeJSON(v)
		if tc.out == "" {
			if err == nil {
				t.Errorf("encode %s: want an error, got %s", tc.in, got)
			}
			continue
		}
		if err != nil || string(got) != tc.out {
			t.Errorf("%s: got %s, %v; want %s", tc.in, got, err, tc.out)
		}
	}
}

func TestJSONTypes(t *testing.T) {
	v, err := DecodeJSON([]byte(`{"i": 1, "f": 1.0, "big": 18446744073709551616}`))
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*starlark.Dict)
	for key, want := range map[string]string{"i": "int", "f": "float", "big": "int"} {
		x, _, _ := d.Get(starlark.String(key))
		if x.Type() != want {
			t.Errorf("%s decodes to %s, want %s", key, x.Type(), want)
		}
	}
}

func TestJSONDecodeErrors(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a"}`, `{"a":1,}`, `[1,]`, `01`, `1.`, `tru`, `"abc`, "\"\x01\"", `"\x"`, `{"a":1} x`, `"\ud83d\u12"`, "\"\xff\"", strings.Repeat("[", 2000)} {
		if _, err := DecodeJSON([]byte(in)); err == nil {
			t.Errorf("DecodeJSON(%q) succeeded, want an error", in)
		}
	}
}

func TestJSONEncode(t *testing.T) {
	d := starlark.NewDict(0)
	d.SetKey(starlark.MakeInt(1), starlark.String("int key"))
	d.SetKey(starlark.None, starlark.Tuple{starlark.Float(2), starlark.Bool(true)})
	got, err := EncodeJSON(d)
	if err != nil || string(got) != `{"1":"int key","null":[2.0,true]}` {
		t.Errorf("got %s, %v", got, err)
	}
	for _, v := range []Value{starlark.Bytes("x"), starlark.Float(math.NaN()), &Fanout{}, starlark.NewSet(0)} {
		if _, err := EncodeJSON(v); err == nil {
			t.Errorf("EncodeJSON(%s) succeeded, want an error", v.Type())
		}
	}
	l := starlark.NewList(nil)
	l.Append(l) // a list that contains itself
	if _, err := EncodeJSON(l); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Errorf("self-containing list: %v", err)
	}
}

func TestJSONDecoderCache(t *testing.T) {
	var d JSONDecoder
	for range 3 {
		v, err := d.Decode([]byte(`{"country": "GB", "name": "a name longer than sixteen bytes"}`))
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := EncodeJSON(v); string(s) != `{"country":"GB","name":"a name longer than sixteen bytes"}` {
			t.Fatalf("got %s", s)
		}
	}
	n := 0
	for _, slot := range d.strs {
		if slot.v != nil {
			n++
		}
	}
	if n != 3 { // country, name, GB
		t.Errorf("cache holds %d strings, want 3", n)
	}
	// Records share them.
	v1, _ := d.Decode([]byte(`{"country": "GB"}`))
	v2, _ := d.Decode([]byte(`{"country": "GB"}`))
	k1, k2 := v1.(*starlark.Dict).Keys()[0], v2.(*starlark.Dict).Keys()[0]
	if string(k1.(starlark.String)) != "country" || !sameString(k1, k2) {
		t.Errorf("two records do not share their key")
	}
	g1, _, _ := v1.(*starlark.Dict).Get(k1)
	g2, _, _ := v2.(*starlark.Dict).Get(k2)
	if !sameString(g1, g2) {
		t.Errorf("two records do not share a short value")
	}
}

// sameString reports whether two string values share their bytes.
func sameString(a, b starlark.Value) bool {
	x, y := string(a.(starlark.String)), string(b.(starlark.String))
	return len(x) > 0 && len(x) == len(y) && unsafe.StringData(x) == unsafe.StringData(y)
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",null,true]}`, `"\u00e9"`, `-1e-7`, `123456789012345678901234567890`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeJSON(data)
		if err != nil {
			return
		}
		out, err := EncodeJSON(v)
		if err != nil {
			return // +Inf from a huge exponent
		}
		v2, err := DecodeJSON(out)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		if eq, err := starlark.Equal(v, v2); err != nil || !eq {
			t.Fatalf("round trip changed %s into %s", v, v2)
		}
	})
}

func TestJSONFloatsAsPython(t *testing.T) {
	// Each as Python's repr() and json.dumps() print it.
	for f, want := range map[float64]string{
		1700000000.5: "1700000000.5", 123456789.0: "123456789.0", 1e16: "1e+16", 1e15: "1000000000000000.0",
		1.5e-5: "1.5e-05", 0.0001: "0.0001", 0.1: "0.1", -2.5: "-2.5", 1e22: "1e+22", 9999999999999998.0: "9999999999999998.0",
		5e-324: "5e-324", 1.7976931348623157e308: "1.7976931348623157e+308", 100.0: "100.0",
	} {
		got, err := EncodeJSON(starlark.Float(f))
		if err != nil || string(got) != want {
			t.Errorf("%v: got %s, want %s", f, got, want)
		}
	}
}

// TestPlainUntil checks the eight-bytes-at-a-time scan against a byte loop,
// with each kind of byte at each place of strings around the word size.
func TestPlainUntil(t *testing.T) {
	naive := func(s string, i int) int {
		for ; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
				return i
			}
		}
		return i
	}
	for _, c := range []byte{0x00, 0x01, 0x1f, '"', '\\', 0x7f, 0x80, 0xc3, 0xff, 0x20, '!', '#', '[', ']', 'a'} {
		for n := range 26 {
			for at := range n {
				b := []byte(strings.Repeat("ab!#~ [] z", 3)[:n])
				b[at] = c
				for from := 0; from <= n; from++ {
					if got, want := plainUntil(string(b), from), naive(string(b), from); got != want {
						t.Fatalf("%q from %d: got %d, want %d", b, from, got, want)
					}
				}
			}
		}
	}
	// Two special bytes: the first one counts.
	if got := plainUntil("abcdefgh\"ijk\x01mnop", 0); got != 8 {
		t.Errorf("got %d, want 8", got)
	}
}

// TestJSONFloatFixedRange checks floats written in fixed notation without
// a look at their exponent first against the exponent's verdict, around the
// ends of the range and at random.
func TestJSONFloatFixedRange(t *testing.T) {
	reference := func(f float64) string {
		b := strconv.AppendFloat(nil, f, 'e', -1, 64)
		if exp := exponent(b); exp < -4 || exp >= 16 {
			return string(b)
		}
		return string(withFraction(strconv.AppendFloat(nil, f, 'f', -1, 64), 0))
	}
	var fs []float64
	for _, edge := range []float64{1e-4, 1e16, 1e-5, 1e15, 1, 0.5} {
		x := edge
		for range 50 {
			x = math.Nextafter(x, 0)
		}
		for range 100 {
			fs = append(fs, x, -x)
			x = math.Nextafter(x, math.Inf(1))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		f := math.Float64frombits(r.Uint64())
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			fs = append(fs, f)
		}
		fs = append(fs, r.Float64()*math.Pow(10, float64(r.IntN(24)-6)))
		// amounts: cents, and sums and products of them
		c := float64(r.Int64N(1<<uint(r.IntN(50)+1))) / 100
		fs = append(fs, c, -c, c*1.2, c+0.1, c*float64(r.IntN(10)), c/3)
	}
	for _, f := range []float64{0.01, 0.1, 0.3, 0.06, 0.07, 59.97, 71.96, 1e13 - 0.01, 9999999999999.99, 1e12 + 0.5, 0.1 + 0.2, 2.675, 1.005} {
		fs = append(fs, f, -f)
	}
	for _, f := range fs {
		if f == 0 {
			continue
		}
		got, err := appendJSONFloat(nil, f)
		if want := reference(f); err != nil || string(got) != want {
			t.Fatalf("%v: got %s, want %s", f, got, want)
		}
	}
}

// TestJSONDecoderShapes decodes records whose keys change from one to the
// next (more, fewer, other, reordered, nested, repeated) with one decoder,
// as a worker does, and checks each against a decoder without memory.
func TestJSONDecoderShapes(t *testing.T) {
	var d JSONDecoder
	docs := []string{
		`{"a":1,"b":"x","c":{"a":2}}`,
		`{"a":1,"b":"x","c":{"a":2}}`,
		`{"a":1,"b":"y"}`,
		`{"b":1,"a":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10}`,
		`{"a":1,"a":2}`,
		`{}`,
		`[{"a":1},{"b":2}]`,
		`{"a":{"a":{"a":1}},"b":[{"a":2}]}`,
		`"a"`,
		`{"b":1,"a":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11}`,
		`{"a":1}`,
	}
	var long strings.Builder
	long.WriteString("{")
	for i := range 100 {
		if i > 0 {
			long.WriteString(",")
		}
		fmt.Fprintf(&long, `"k%d":%d`, i, i)
	}
	long.WriteString("}")
	docs = append(docs, long.String(), long.String(), docs[0])
	for _, doc := range docs {
		got, err := d.Decode([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := DecodeJSON([]byte(doc))
		g, _ := EncodeJSON(got)
		w, _ := EncodeJSON(want)
		if string(g) != string(w) {
			t.Errorf("%s: got %s, want %s", doc, g, w)
		}
	}
}
