package interp_test

import (
	"encoding/json"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/weirstream/weir/interp"
)

func TestConvertRoundTrip(t *testing.T) {
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	for _, src := range []string{
		`null`, `true`, `0`, `-7`, `9223372036854775807`, `-9223372036854775808`,
		`9223372036854775808`, `-123456789012345678901234567890`, `1.5`, `"héllo"`,
		`[]`, `{}`, `[1,"a",null,[true],{"k":2.0}]`,
		`{"a":{"b":[1,2,{"c":"d"}]},"big":123456789012345678901234567890,"f":-0.25}`,
	} {
		v, err := interp.DecodeJSON([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		g, err := interp.ToGo(v)
		if err != nil {
			t.Fatalf("%s: ToGo: %v", src, err)
		}
		back, err := interp.FromGo(g)
		if err != nil {
			t.Fatalf("%s: FromGo: %v", src, err)
		}
		if eq, err := starlark.Equal(v, back); err != nil || !eq {
			t.Errorf("%s: round trip gave %s", src, back)
		}
	}

	// Types on the Go side.
	v, _ := interp.DecodeJSON([]byte(`{"n":1,"x":1.5,"s":"a","l":[2],"big":123456789012345678901234567890,"z":null}`))
	g, _ := interp.ToGo(v)
	want := map[string]any{"n": int64(1), "x": 1.5, "s": "a", "l": []any{int64(2)}, "big": huge, "z": nil}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("ToGo gave %#v", g)
	}
}

func TestConvertToGo(t *testing.T) {
	for _, c := range []struct {
		in   starlark.Value
		want any
	}{
		{starlark.Bytes("ab"), []byte("ab")},
		{starlark.Tuple{starlark.MakeInt(1), starlark.String("x")}, []any{int64(1), "x"}},
		{&interp.Fanout{Items: []interp.Value{starlark.MakeInt(1)}}, &interp.GoFanout{Items: []any{int64(1)}}},
		{starlark.MakeUint64(math.MaxUint64), new(big.Int).SetUint64(math.MaxUint64)},
	} {
		got, err := interp.ToGo(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ToGo(%s) = %#v %v, want %#v", c.in, got, err, c.want)
		}
	}
	d := starlark.NewDict(1)
	_ = d.SetKey(starlark.MakeInt(1), starlark.None)
	if _, err := interp.ToGo(d); err == nil || !strings.Contains(err.Error(), "a key of type int") {
		t.Errorf("int key: %v", err)
	}
	if _, err := interp.ToGo(starlark.Universe["len"]); err == nil {
		t.Error("a builtin converted")
	}
	l := starlark.NewList(nil)
	_ = l.Append(l)
	if _, err := interp.ToGo(l); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("a list that contains itself: %v", err)
	}
}

func TestConvertFromGo(t *testing.T) {
	type rec struct {
		Name string `json:"name"`
		Skip string `json:"-"`
		N    int    `json:"n"`
	}
	type myInt int16
	for _, c := range []struct {
		in   any
		want string
	}{
		{nil, "None"},
		{int(3), "3"},
		{int32(-3), "-3"},
		{uint8(200), "200"},
		{uint64(math.MaxUint64), "18446744073709551615"},
		{myInt(5), "5"},
		{float32(0.5), "0.5"},
		{"s", `"s"`},
		{[]byte("b"), `b"b"`},
		{[2]byte{'h', 'i'}, `b"hi"`},
		{[]string{"a", "b"}, `["a", "b"]`},
		{[]int{1, 2}, `[1, 2]`},
		{[]map[string]any{{"a": 1}}, `[{"a": 1}]`},
		{map[string]string{"b": "2", "a": "1"}, `{"a": "1", "b": "2"}`},
		{map[string]any{"z": 1, "a": []any{true, nil}}, `{"a": [True, None], "z": 1}`},
		{map[int]string{10: "x", 2: "y"}, `{2: "y", 10: "x"}`},
		{map[string][]float64{"k": {1.5}}, `{"k": [1.5]}`},
		{json.Number("12"), "12"},
		{json.Number("1.25"), "1.25"},
		{rec{Name: "a", Skip: "x", N: 2}, `{"name": "a", "n": 2}`},
		{&rec{Name: "p"}, `{"name": "p", "n": 0}`},
		{new(int), "0"},
		{(*rec)(nil), "None"},
		{&interp.GoFanout{Items: []any{1, "a"}}, "fanout(2 items)"},
		{starlark.String("already"), `"already"`},
	} {
		got, err := interp.FromGo(c.in)
		if err != nil {
			t.Errorf("FromGo(%#v): %v", c.in, err)
			continue
		}
		if got.String() != c.want {
			t.Errorf("FromGo(%#v) = %s, want %s", c.in, got, c.want)
		}
	}
	for _, bad := range []any{time.Now(), time.Second, make(chan int), func() {}, map[[2]int]int{{1, 2}: 3}, &json.UnsupportedValueError{}} {
		if _, err := interp.FromGo(bad); err == nil {
			t.Errorf("FromGo(%T) converted", bad)
		}
	}
	if _, err := interp.FromGo(time.Now()); err == nil || !strings.Contains(err.Error(), "return a string") {
		t.Errorf("time.Time: %v", err)
	}
	m := map[string]any{}
	m["self"] = m
	if _, err := interp.FromGo(m); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("a map that contains itself: %v", err)
	}
}

func TestConvertBigInts(t *testing.T) {
	for _, s := range []string{"9223372036854775807", "9223372036854775808", "-9223372036854775809", "340282366920938463463374607431768211456"} {
		n, _ := new(big.Int).SetString(s, 10)
		v, err := interp.FromGo(n)
		if err != nil || v.String() != s {
			t.Errorf("FromGo(%s) = %v %v", s, v, err)
		}
		g, err := interp.ToGo(v)
		if err != nil {
			t.Fatal(err)
		}
		switch x := g.(type) {
		case int64:
			if !n.IsInt64() || x != n.Int64() {
				t.Errorf("ToGo(%s) = int64 %d", s, x)
			}
		case *big.Int:
			if n.IsInt64() || x.Cmp(n) != 0 {
				t.Errorf("ToGo(%s) = *big.Int %s", s, x)
			}
		default:
			t.Errorf("ToGo(%s) = %T", s, g)
		}
	}
	// The *big.Int passed in is not shared with the result.
	n := big.NewInt(1)
	n.Lsh(n, 100)
	v, _ := interp.FromGo(n)
	n.SetInt64(0)
	if v.String() != "1267650600228229401496703205376" {
		t.Errorf("the value changed with its source: %s", v)
	}
}
