package interp

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

func TestSerializers(t *testing.T) {
	for _, tc := range []struct {
		name, in, typ, out string
	}{
		{"raw", "\x00\xffab", "bytes", "\x00\xffab"},
		{"binary", "abc", "bytes", "abc"},
		{"string", "héllo", "string", "héllo"},
		{"json", `{"a":1.0}`, "dict", `{"a":1.0}`},
	} {
		s, err := NewSerializer(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.Decode([]byte(tc.in))
		if err != nil || v.Type() != tc.typ {
			t.Errorf("%s: decoded %v (%v), want a %s", tc.name, v, err, tc.typ)
			continue
		}
		out, err := s.Append(nil, v)
		if err != nil || string(out) != tc.out {
			t.Errorf("%s: encoded %q (%v), want %q", tc.name, out, err, tc.out)
		}
		if v, _ := s.Decode(nil); v != starlark.None {
			t.Errorf("%s: nil bytes decode to %v, want None", tc.name, v)
		}
	}
	str, _ := NewSerializer("string")
	if _, err := str.Decode([]byte{0xff}); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("invalid UTF-8 with the string serializer: %v", err)
	}
	raw, _ := NewSerializer("raw")
	if _, err := raw.Append(nil, starlark.MakeInt(1)); err == nil || !strings.Contains(err.Error(), "use json") {
		t.Errorf("an int with the raw serializer: %v", err)
	}
	if _, err := NewSerializer("pickle"); err == nil {
		t.Error("pickle accepted")
	}
}
