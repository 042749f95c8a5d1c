package interp

import (
	"fmt"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// Serializer turns message bytes into values and back, as a topic's or a
// table's keySerializer or valueSerializer says.
type Serializer struct {
	name string
	json JSONDecoder
	// size is the length of the last JSON encoding: Append to nil starts
	// with room for as much, so that a value costs one allocation.
	size int
}

// NewSerializer returns the serializer of a name: raw and binary (bytes),
// string (str, UTF-8) or json. Names are checked at load; an unknown one is
// an error here too. A Serializer keeps a JSON key cache: use one per worker.
func NewSerializer(name string) (*Serializer, error) {
	switch name {
	case "raw", "binary", "string", "json":
		return &Serializer{name: name}, nil
	}
	return nil, fmt.Errorf("unknown serializer %q (raw, binary, string or json)", name)
}

// Name is the serializer's name.
func (s *Serializer) Name() string { return s.name }

// Decode turns message bytes into a value. Nil bytes (a missing key or a
// tombstone) are None for every serializer.
func (s *Serializer) Decode(data []byte) (Value, error) {
	if data == nil {
		return starlark.None, nil
	}
	switch s.name {
	case "json":
		return s.json.Decode(data)
	case "string":
		if !utf8.Valid(data) {
			return nil, fmt.Errorf("not UTF-8 text: the string serializer needs UTF-8 (use raw for bytes)")
		}
		return starlark.String(data), nil
	default:
		return starlark.Bytes(data), nil
	}
}

// Append appends the bytes of v to buf. None is nil bytes (no key, or a
// tombstone). A nil buf gets a new slice with room for about as much JSON
// as the last value took.
func (s *Serializer) Append(buf []byte, v Value) ([]byte, error) {
	if v == starlark.None {
		return nil, nil
	}
	switch s.name {
	case "json":
		if buf == nil && s.size > 0 {
			buf = make([]byte, 0, s.size+s.size/8)
		}
		start := len(buf)
		buf, err := AppendJSON(buf, v)
		s.size = len(buf) - start
		return buf, err
	default:
		switch x := v.(type) {
		case starlark.Bytes:
			return append(buf, x...), nil
		case starlark.String:
			return append(buf, x...), nil
		}
		return buf, fmt.Errorf("the %s serializer writes bytes or str, not %s (use json for other values)", s.name, v.Type())
	}
}
