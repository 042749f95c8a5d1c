package interp

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// Value is a value flowing through a pipeline: what operations take and
// return.
type Value = starlark.Value

// DecodeJSON decodes JSON straight into Starlark values: objects become
// dicts (in document order), arrays lists, numbers without a fraction or
// exponent ints (of any size), other numbers floats. Strings without escapes
// share one copy of the input, so a record costs few allocations.
func DecodeJSON(data []byte) (Value, error) {
	d := jsonDecoder{src: string(data)}
	return d.document()
}

// JSONDecoder decodes JSON like DecodeJSON, and remembers object keys and
// short strings across calls, so that records of one shape share them
// instead of allocating them again. A worker keeps one; it is not safe for
// concurrent use.
type JSONDecoder struct {
	strs *stringCache
	// shape is the keys of the last top-level object, in order (at most
	// maxShape): the keys of the next are most likely the same, and
	// comparing with them costs less than a hash.
	shape []Value
}

// maxShape is how many keys of a top-level object shape holds.
const maxShape = 64

// stringCache is a direct-mapped cache of strings as Starlark values: a
// string's hash picks its one slot, which a string of another record may
// take over. It costs a hash and a compare (a Go map of recent strings,
// large enough for the keys and the repeating values of a stream, cost
// several times more in a worker); the keys of a record shape stay, as few
// strings come between two records.
type stringCache [stringCacheSize]struct {
	hash uint64 // of v: a string of another hash is told apart without reading v
	v    Value
}

const (
	stringCacheSize = 1024 // a power of two
	// maxCachedLen is the longest string value cached: codes and names
	// repeat, long texts rarely do. Keys are cached at any length.
	maxCachedLen = 16
)

var stringSeed = maphash.MakeSeed()

// Decode decodes one JSON document.
func (jd *JSONDecoder) Decode(data []byte) (Value, error) {
	if jd.strs == nil {
		jd.strs = new(stringCache)
	}
	d := jsonDecoder{src: string(data), strs: jd.strs, jd: jd}
	return d.document()
}

func (d *jsonDecoder) document() (Value, error) {
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.src) {
		return nil, d.errorf("unexpected %q after the JSON value", d.src[d.pos])
	}
	return v, nil
}

// maxJSONDepth bounds nesting, so hostile input cannot exhaust the stack.
const maxJSONDepth = 1000

type jsonDecoder struct {
	src  string
	pos  int
	strs *stringCache
	jd   *JSONDecoder // nil: DecodeJSON
}

// key returns the Starlark string of the i-th key of an object at depth.
func (d *jsonDecoder) key(k string, i, depth int) Value {
	if depth > 0 || d.jd == nil || i >= maxShape {
		return d.cached(k, true)
	}
	shape := d.jd.shape
	if i < len(shape) {
		if s, ok := shape[i].(starlark.String); ok && string(s) == k {
			return shape[i]
		}
	}
	v := d.cached(k, true)
	if i < len(shape) {
		shape[i] = v
	} else if i == len(shape) {
		d.jd.shape = append(shape, v)
	}
	return v
}

// cached returns the Starlark string of s, from the cache when it is there.
// An object key put in the cache gets bytes of its own: keys are compared
// and hashed at every record, so they had better not stay in the middle
// of some old record (whose memory they would also keep).
func (d *jsonDecoder) cached(s string, key bool) Value {
	if d.strs == nil {
		return starlark.String(s)
	}
	h := maphash.String(stringSeed, s)
	slot := &d.strs[h&(stringCacheSize-1)]
	if slot.hash == h && slot.v != nil {
		if v, ok := slot.v.(starlark.String); ok && string(v) == s {
			return slot.v
		}
	}
	if key {
		s = strings.Clone(s)
	}
	v := Value(starlark.String(s))
	slot.hash, slot.v = h, v
	return v
}

func (d *jsonDecoder) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", d.pos, fmt.Sprintf(format, args...))
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.src) {
		switch d.src[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (Value, error) {
	if d.pos >= len(d.src) {
		return nil, d.errorf("unexpected end of input")
	}
	if depth > maxJSONDepth {
		return nil, d.errorf("nested more than %d levels deep", maxJSONDepth)
	}
	switch c := d.src[d.pos]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		if len(s) <= maxCachedLen {
			return d.cached(s, false), nil
		}
		return starlark.String(s), nil
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return d.literal("true", starlark.True)
	case c == 'f':
		return d.literal("false", starlark.False)
	case c == 'n':
		return d.literal("null", starlark.None)
	default:
		return nil, d.errorf("unexpected %q", c)
	}
}

func (d *jsonDecoder) literal(word string, v Value) (Value, error) {
	if len(d.src)-d.pos >= len(word) && d.src[d.pos:d.pos+len(word)] == word {
		d.pos += len(word)
		return v, nil
	}
	return nil, d.errorf("unexpected %q", d.src[d.pos])
}

func (d *jsonDecoder) object(depth int) (Value, error) {
	d.pos++ // {
	size := 0
	if depth == 0 && d.jd != nil {
		size = len(d.jd.shape)
	}
	dict := starlark.NewDict(size)
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == '}' {
		d.pos++
		return dict, nil
	}
	for i := 0; ; i++ {
		d.skipSpace()
		if d.pos >= len(d.src) || d.src[d.pos] != '"' {
			return nil, d.errorf("expected a string key")
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.src) || d.src[d.pos] != ':' {
			return nil, d.errorf("expected ':' after a key")
		}
		d.pos++
		d.skipSpace()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := dict.SetKey(d.key(k, i, depth), v); err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.src) {
			return nil, d.errorf("unexpected end of input in an object")
		}
		switch d.src[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			if depth == 0 && d.jd != nil && i+1 < len(d.jd.shape) {
				d.jd.shape = d.jd.shape[:i+1]
			}
			return dict, nil
		default:
			return nil, d.errorf("expected ',' or '}' in an object")
		}
	}
}

func (d *jsonDecoder) array(depth int) (Value, error) {
	d.pos++ // [
	d.skipSpace()
	if d.pos < len(d.src) && d.src[d.pos] == ']' {
		d.pos++
		return starlark.NewList(nil), nil
	}
	elems := make([]Value, 0, 4)
	for {
		d.skipSpace()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		elems = append(elems, v)
		d.skipSpace()
		if d.pos >= len(d.src) {
			return nil, d.errorf("unexpected end of input in an array")
		}
		switch d.src[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return starlark.NewList(elems), nil
		default:
			return nil, d.errorf("expected ',' or ']' in an array")
		}
	}
}

// str reads a string. Without escapes it is a slice of the input.
func (d *jsonDecoder) str() (string, error) {
	d.pos++ // opening quote
	start := d.pos
	for d.pos < len(d.src) {
		d.pos = plainUntil(d.src, d.pos)
		if d.pos >= len(d.src) {
			break
		}
		c := d.src[d.pos]
		switch {
		case c == '"':
			s := d.src[start:d.pos]
			d.pos++
			return s, nil
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return "", d.errorf("control character in a string")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(d.src[d.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", d.errorf("invalid UTF-8 in a string")
			}
			d.pos += size
		default:
			d.pos++
		}
	}
	return "", d.errorf("unterminated string")
}

func (d *jsonDecoder) escaped(start int) (string, error) {
	buf := []byte(d.src[start:d.pos])
	for d.pos < len(d.src) {
		c := d.src[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(buf), nil
		case c == '\\':
			if d.pos+1 >= len(d.src) {
				return "", d.errorf("unterminated escape")
			}
			e := d.src[d.pos+1]
			d.pos += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, err := d.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					if d.pos+1 < len(d.src) && d.src[d.pos] == '\\' && d.src[d.pos+1] == 'u' {
						d.pos += 2
						if r2, err = d.hex4(); err != nil {
							return "", err
						}
					}
					r = utf16.DecodeRune(r, r2)
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", d.errorf("invalid escape \\%c", e)
			}
		case c < 0x20:
			return "", d.errorf("control character in a string")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(d.src[d.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", d.errorf("invalid UTF-8 in a string")
			}
			buf = append(buf, d.src[d.pos:d.pos+size]...)
			d.pos += size
		default:
			buf = append(buf, c)
			d.pos++
		}
	}
	return "", d.errorf("unterminated string")
}

func (d *jsonDecoder) hex4() (rune, error) {
	if d.pos+4 > len(d.src) {
		return 0, d.errorf("short \\u escape")
	}
	n, err := strconv.ParseUint(d.src[d.pos:d.pos+4], 16, 32)
	if err != nil {
		return 0, d.errorf("invalid \\u escape")
	}
	d.pos += 4
	return rune(n), nil
}

func (d *jsonDecoder) number() (Value, error) {
	start := d.pos
	if d.src[d.pos] == '-' {
		d.pos++
	}
	digits := d.pos
	for d.pos < len(d.src) && d.src[d.pos] >= '0' && d.src[d.pos] <= '9' {
		d.pos++
	}
	if d.pos == digits || d.src[digits] == '0' && d.pos-digits > 1 {
		return nil, d.errorf("invalid number")
	}
	isFloat := false
	if d.pos < len(d.src) && d.src[d.pos] == '.' {
		isFloat = true
		d.pos++
		frac := d.pos
		for d.pos < len(d.src) && d.src[d.pos] >= '0' && d.src[d.pos] <= '9' {
			d.pos++
		}
		if d.pos == frac {
			return nil, d.errorf("invalid number")
		}
	}
	if d.pos < len(d.src) && (d.src[d.pos] == 'e' || d.src[d.pos] == 'E') {
		isFloat = true
		d.pos++
		if d.pos < len(d.src) && (d.src[d.pos] == '+' || d.src[d.pos] == '-') {
			d.pos++
		}
		exp := d.pos
		for d.pos < len(d.src) && d.src[d.pos] >= '0' && d.src[d.pos] <= '9' {
			d.pos++
		}
		if d.pos == exp {
			return nil, d.errorf("invalid number")
		}
	}
	text := d.src[start:d.pos]
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, d.errorf("invalid number %q", text)
		}
		return starlark.Float(f), nil
	}
	if len(text)-(digits-start) <= 18 {
		// At most 18 digits: no overflow.
		n := int64(0)
		for _, c := range []byte(text[digits-start:]) {
			n = n*10 + int64(c-'0')
		}
		if digits > start {
			n = -n
		}
		return starlark.MakeInt64(n), nil
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return starlark.MakeInt64(n), nil
	}
	b, ok := new(big.Int).SetString(text, 10)
	if !ok {
		return nil, d.errorf("invalid number %q", text)
	}
	return starlark.MakeBigInt(b), nil
}

// AppendJSON appends the JSON encoding of v to buf. Dicts become objects
// (keys that are not strings are written as strings, as Python's json does),
// lists and tuples arrays, ints stay ints and floats keep a fraction (1.0),
// so a value read from JSON is written back unchanged. Bytes, sets,
// functions and NaN or infinite floats cannot be encoded.
func AppendJSON(buf []byte, v Value) ([]byte, error) {
	return appendJSON(buf, v, 0)
}

// EncodeJSON returns the JSON encoding of v.
func EncodeJSON(v Value) ([]byte, error) { return AppendJSON(nil, v) }

func appendJSON(buf []byte, v Value, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return buf, fmt.Errorf("cannot encode as JSON: nested more than %d levels deep (a value that contains itself?)", maxJSONDepth)
	}
	switch x := v.(type) {
	case starlark.NoneType:
		return append(buf, "null"...), nil
	case starlark.Bool:
		return strconv.AppendBool(buf, bool(x)), nil
	case starlark.String:
		return appendJSONString(buf, string(x)), nil
	case starlark.Int:
		if n, ok := x.Int64(); ok {
			return strconv.AppendInt(buf, n, 10), nil
		}
		return x.BigInt().Append(buf, 10), nil
	case starlark.Float:
		return appendJSONFloat(buf, float64(x))
	case *starlark.List:
		return appendJSONArray(buf, x, depth)
	case starlark.Tuple:
		return appendJSONArray(buf, x, depth)
	case *starlark.Dict:
		return appendJSONDict(buf, x, depth)
	case starlark.IterableMapping:
		buf = append(buf, '{')
		for i, item := range x.Items() {
			if i > 0 {
				buf = append(buf, ',')
			}
			k, err := jsonKey(item[0])
			if err != nil {
				return buf, err
			}
			buf = appendJSONString(buf, k)
			buf = append(buf, ':')
			if buf, err = appendJSON(buf, item[1], depth+1); err != nil {
				return buf, err
			}
		}
		return append(buf, '}'), nil
	case *Fanout:
		return buf, fmt.Errorf("cannot encode fanout(...) as JSON: return it from a map, where each item flows on by itself")
	}
	return buf, fmt.Errorf("cannot encode a %s as JSON", v.Type())
}

// appendJSONDict writes a dict's items in order. (Its iterator is done
// without a defer: a deferred call in appendJSON, which has many returns,
// cost more than the rest of writing a small dict.)
func appendJSONDict(buf []byte, d *starlark.Dict, depth int) ([]byte, error) {
	buf = append(buf, '{')
	it := d.Iterate()
	var k Value
	var err error
	for first := true; it.Next(&k); first = false {
		if !first {
			buf = append(buf, ',')
		}
		if buf, err = appendJSONKey(buf, k); err != nil {
			break
		}
		v, _, _ := d.Get(k)
		if buf, err = appendJSON(buf, v, depth+1); err != nil {
			break
		}
	}
	it.Done()
	if err != nil {
		return buf, err
	}
	return append(buf, '}'), nil
}

func appendJSONArray(buf []byte, seq starlark.Indexable, depth int) ([]byte, error) {
	buf = append(buf, '[')
	var err error
	for i := range seq.Len() {
		if i > 0 {
			buf = append(buf, ',')
		}
		if buf, err = appendJSON(buf, seq.Index(i), depth+1); err != nil {
			return buf, err
		}
	}
	return append(buf, ']'), nil
}

// appendJSONKey writes a dict key and the colon after it.
func appendJSONKey(buf []byte, k Value) ([]byte, error) {
	if s, ok := k.(starlark.String); ok {
		buf = appendJSONString(buf, string(s))
	} else {
		s, err := jsonKey(k)
		if err != nil {
			return buf, err
		}
		buf = appendJSONString(buf, s)
	}
	return append(buf, ':'), nil
}

// jsonKey writes a dict key as Python's json.dumps does.
func jsonKey(k Value) (string, error) {
	switch x := k.(type) {
	case starlark.String:
		return string(x), nil
	case starlark.Int:
		return x.String(), nil
	case starlark.Float:
		b, err := appendJSONFloat(nil, float64(x))
		return string(b), err
	case starlark.Bool:
		return strconv.FormatBool(bool(x)), nil
	case starlark.NoneType:
		return "null", nil
	}
	return "", fmt.Errorf("cannot encode a dict key of type %s as JSON", k.Type())
}

// appendJSONFloat writes a float as Python's repr does (and so its
// json.dumps): the shortest digits that read back the same, in fixed
// notation for exponents from -4 to 15 and with a fraction always (1.0), in
// scientific notation otherwise (1e+16, 1.5e-05).
func appendJSONFloat(buf []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return buf, fmt.Errorf("cannot encode %v as JSON", f)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(buf, "-0.0"...), nil
		}
		return append(buf, "0.0"...), nil
	}
	start := len(buf)
	if a := math.Abs(f); a >= 1e-4 && a < 1e13 {
		// Amounts: a float that is the double nearest to some x/100 (the
		// division being exact to the last bit, that is when x/100 computes
		// to it) reads back from the decimal x/100, and below 1e13 floats
		// are less than 0.01 apart, so no decimal of fewer digits (which
		// would be at least 0.01 away) reads back as it: those digits are
		// the shortest, without strconv's search.
		if c := math.Round(f * 100); c/100 == f {
			return appendCents(buf, int64(c)), nil
		}
	}
	if a := math.Abs(f); a >= 1e-4 && a < 1e16 {
		// The shortest digits of such a float have an exponent from -4
		// to 15 (1e16 is a float: no smaller one reads as it), so fixed
		// notation it is, without trying 'e' first.
		buf = strconv.AppendFloat(buf, f, 'f', -1, 64)
		return withFraction(buf, start), nil
	}
	buf = strconv.AppendFloat(buf, f, 'e', -1, 64)
	if exp := exponent(buf[start:]); exp < -4 || exp >= 16 {
		return buf, nil
	}
	buf = strconv.AppendFloat(buf[:start], f, 'f', -1, 64)
	return withFraction(buf, start), nil
}

// appendCents writes x/100 as Python writes a float: no trailing zeros but
// one digit after the point (12.5, 3.0, 0.07).
func appendCents(buf []byte, x int64) []byte {
	if x < 0 {
		buf = append(buf, '-')
		x = -x
	}
	buf = strconv.AppendInt(buf, x/100, 10)
	switch c := x % 100; {
	case c == 0:
		return append(buf, '.', '0')
	case c%10 == 0:
		return append(buf, '.', byte('0'+c/10))
	default:
		return append(buf, '.', byte('0'+c/10), byte('0'+c%10))
	}
}

// exponent reads the exponent of a number in 'e' notation (1.5e-05).
func exponent(b []byte) int {
	i := bytes.IndexByte(b, 'e')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	n := 0
	for _, c := range b[i+2:] {
		n = n*10 + int(c-'0')
	}
	if b[i+1] == '-' {
		return -n
	}
	return n
}

// withFraction adds ".0" to a fixed-notation number without a fraction, so
// it reads back as a float.
func withFraction(buf []byte, start int) []byte {
	for _, c := range buf[start:] {
		if c == '.' {
			return buf
		}
	}
	return append(buf, ".0"...)
}

const hexDigits = "0123456789abcdef"

func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		if i = plainUntil(s, i); i >= len(s) {
			break
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, s[start:i]...)
				buf = append(buf, `\ufffd`...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

const (
	lsb = 0x0101010101010101 // the lowest bit of each byte
	msb = 0x8080808080808080 // the highest bit of each byte
)

// plainUntil returns the index of the first byte of s from i on that a JSON
// string cannot hold as it is: a quote, a backslash, a control character or
// a byte of a non-ASCII character; len(s) when there is none. It looks at
// eight bytes at a time.
func plainUntil(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		q := x ^ (lsb * '"')
		b := x ^ (lsb * '\\')
		// A byte below 0x20, a zero byte of q or b (a quote or a
		// backslash), or a byte with its high bit set: the borrow tricks
		// can flag bytes after a true one, never miss one, so the lowest
		// byte flagged is a true one.
		if m := ((x-lsb*0x20)&^x | (q-lsb)&^q | (b-lsb)&^b | x) & msb; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(s); i++ {
		if !jsonPlain[s[i]] {
			return i
		}
	}
	return i
}

// jsonPlain says which bytes a JSON string holds as they are.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
