package lib

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// The json module: loads and dumps, with Python's output format, defaults and error messages.
// Objects decode to dicts, arrays to lists, integers to int (any size) and numbers with a
// fraction or exponent to float.

func newJSON() starlark.Value {
	return module("json", map[string]builtinFunc{
		"loads": jsonLoads,
		"dumps": jsonDumps,
	}, nil)
}

// maxJSONDepth bounds the nesting of decoded and encoded values (Python: the recursion limit).
const maxJSONDepth = 1000

func jsonLoads(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
		return nil, err
	}
	var text string
	switch s := s.(type) {
	case starlark.String:
		text = string(s)
		if strings.HasPrefix(text, "\ufeff") {
			return nil, fmt.Errorf("%s: %s", b.Name(), (&jsonDecoder{s: text}).errorAt("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0))
		}
	case starlark.Bytes:
		text = strings.TrimPrefix(string(s), "\ufeff")
		if !utf8.ValidString(text) {
			for i := 0; i < len(text); {
				r, n := utf8.DecodeRuneInString(text[i:])
				if r == utf8.RuneError && n == 1 {
					return nil, fmt.Errorf("%s: 'utf-8' codec can't decode byte 0x%02x in position %d", b.Name(), text[i], i)
				}
				i += n
			}
		}
	default:
		return nil, fmt.Errorf("%s: the JSON object must be str, bytes or bytearray, not %s", b.Name(), pyTypeName(s))
	}
	d := &jsonDecoder{s: text}
	d.skipSpace()
	v, err := d.value()
	if err == nil {
		d.skipSpace()
		if d.i < len(d.s) {
			err = d.errorAt("Extra data", d.i)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return v, nil
}

type jsonDecoder struct {
	s     string
	i     int
	depth int
}

// errorAt formats a decode error as Python's JSONDecodeError does, positions in code points.
func (d *jsonDecoder) errorAt(msg string, pos int) error {
	before := d.s[:pos]
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	return fmt.Errorf("%s: line %d column %d (char %d)", msg, line, col, utf8.RuneCountInString(before))
}

func (d *jsonDecoder) skipSpace() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value() (starlark.Value, error) {
	if d.i >= len(d.s) {
		return nil, d.errorAt("Expecting value", d.i)
	}
	switch c := d.s[d.i]; {
	case c == '"':
		s, err := d.str()
		return starlark.String(s), err
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '-' || '0' <= c && c <= '9':
		if strings.HasPrefix(d.s[d.i:], "-Infinity") {
			d.i += len("-Infinity")
			return starlark.Float(math.Inf(-1)), nil
		}
		return d.number()
	}
	for _, lit := range []struct {
		text string
		v    starlark.Value
	}{
		{"null", starlark.None},
		{"true", starlark.True},
		{"false", starlark.False},
		{"NaN", starlark.Float(math.NaN())},
		{"Infinity", starlark.Float(math.Inf(1))},
	} {
		if strings.HasPrefix(d.s[d.i:], lit.text) {
			d.i += len(lit.text)
			return lit.v, nil
		}
	}
	return nil, d.errorAt("Expecting value", d.i)
}

func (d *jsonDecoder) number() (starlark.Value, error) {
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.s) && '0' <= d.s[d.i] && d.s[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.s[d.i] == '-' {
		d.i++
	}
	if d.i < len(d.s) && d.s[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		d.i = start
		return nil, d.errorAt("Expecting value", start)
	}
	isFloat := false
	if d.i+1 < len(d.s) && d.s[d.i] == '.' && '0' <= d.s[d.i+1] && d.s[d.i+1] <= '9' {
		d.i++
		digits()
		isFloat = true
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		save := d.i
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			d.i = save
		} else {
			isFloat = true
		}
	}
	text := d.s[start:d.i]
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil && !isRangeErr(err) {
			return nil, d.errorAt("Expecting value", start)
		}
		return starlark.Float(f), nil
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return starlark.MakeInt64(n), nil
	}
	n, _ := new(big.Int).SetString(text, 10)
	return starlark.MakeBigInt(n), nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// str decodes a string whose opening quote is at d.i.
func (d *jsonDecoder) str() (string, error) {
	begin := d.i
	d.i++
	var sb strings.Builder
	for {
		// Copy the run of plain characters.
		j := d.i
		for j < len(d.s) && d.s[j] != '"' && d.s[j] != '\\' && d.s[j] >= 0x20 {
			j++
		}
		sb.WriteString(d.s[d.i:j])
		d.i = j
		if d.i >= len(d.s) {
			return "", d.errorAt("Unterminated string starting at", begin)
		}
		switch c := d.s[d.i]; {
		case c == '"':
			d.i++
			return sb.String(), nil
		case c < 0x20:
			return "", d.errorAt("Invalid control character at", d.i)
		}
		// A backslash escape.
		if d.i+1 >= len(d.s) {
			return "", d.errorAt("Unterminated string starting at", begin)
		}
		esc := d.s[d.i+1]
		switch esc {
		case '"', '\\', '/':
			sb.WriteByte(esc)
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			r, ok := d.hex4(d.i + 2)
			if !ok {
				return "", d.errorAt("Invalid \\uXXXX escape", d.i+1)
			}
			d.i += 6
			if utf16.IsSurrogate(r) && r < 0xdc00 && strings.HasPrefix(d.s[d.i:], "\\u") {
				if r2, ok := d.hex4(d.i + 2); ok && 0xdc00 <= r2 && r2 <= 0xdfff {
					r = utf16.DecodeRune(r, r2)
					d.i += 6
				}
			}
			sb.WriteRune(r) // a lone surrogate becomes U+FFFD
			continue
		default:
			return "", d.errorAt("Invalid \\escape", d.i)
		}
		d.i += 2
	}
}

func (d *jsonDecoder) hex4(at int) (rune, bool) {
	if at+4 > len(d.s) {
		return 0, false
	}
	n, err := strconv.ParseUint(d.s[at:at+4], 16, 32)
	if err != nil || strings.ContainsAny(d.s[at:at+4], "+-_xX") {
		return 0, false
	}
	return rune(n), true
}

func (d *jsonDecoder) enter() error {
	d.depth++
	if d.depth > maxJSONDepth {
		return d.errorAt("maximum nesting depth exceeded", d.i)
	}
	return nil
}

func (d *jsonDecoder) object() (starlark.Value, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer func() { d.depth-- }()
	d.i++ // '{'
	dict := new(starlark.Dict)
	d.skipSpace()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return dict, nil
	}
	for {
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return nil, d.errorAt("Expecting property name enclosed in double quotes", d.i)
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return nil, d.errorAt("Expecting ':' delimiter", d.i)
		}
		d.i++
		d.skipSpace()
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		if err := dict.SetKey(starlark.String(k), v); err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.i < len(d.s) && d.s[d.i] == '}' {
			d.i++
			return dict, nil
		}
		if d.i >= len(d.s) || d.s[d.i] != ',' {
			return nil, d.errorAt("Expecting ',' delimiter", d.i)
		}
		d.i++
		d.skipSpace()
	}
}

func (d *jsonDecoder) array() (starlark.Value, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer func() { d.depth-- }()
	d.i++ // '['
	var elems []starlark.Value
	d.skipSpace()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		return starlark.NewList(elems), nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		elems = append(elems, v)
		d.skipSpace()
		if d.i < len(d.s) && d.s[d.i] == ']' {
			d.i++
			return starlark.NewList(elems), nil
		}
		if d.i >= len(d.s) || d.s[d.i] != ',' {
			return nil, d.errorAt("Expecting ',' delimiter", d.i)
		}
		d.i++
		d.skipSpace()
	}
}

func jsonDumps(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		obj                          starlark.Value
		skipKeys, sortKeys           bool
		ensureASCII, allowNaN, circ  = true, true, true
		indent, separators, defaultV starlark.Value
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"obj", &obj, "skipkeys?", &skipKeys, "ensure_ascii?", &ensureASCII,
		"check_circular?", &circ, "allow_nan?", &allowNaN, "indent??", &indent,
		"separators??", &separators, "default??", &defaultV, "sort_keys?", &sortKeys,
	); err != nil {
		return nil, err
	}
	e := &jsonEncoder{
		thread: thread, skipKeys: skipKeys, sortKeys: sortKeys,
		ensureASCII: ensureASCII, allowNaN: allowNaN,
		itemSep: ", ", keySep: ": ",
		seen: make(map[starlark.Value]bool),
	}
	switch v := indent.(type) {
	case nil:
	case starlark.Int:
		n, ok := v.Int64()
		if !ok || n > 1<<16 {
			return nil, fmt.Errorf("%s: indent too large", b.Name())
		}
		e.indent, e.hasIndent, e.itemSep = strings.Repeat(" ", int(max(n, 0))), true, ","
	case starlark.String:
		e.indent, e.hasIndent, e.itemSep = string(v), true, ","
	default:
		return nil, fmt.Errorf("%s: indent must be None, int or str, not %s", b.Name(), pyTypeName(v))
	}
	if separators != nil {
		seq, ok := separators.(starlark.Indexable)
		var a, c starlark.String
		if ok && seq.Len() == 2 {
			a, ok = seq.Index(0).(starlark.String)
			if ok {
				c, ok = seq.Index(1).(starlark.String)
			}
		}
		if !ok {
			return nil, fmt.Errorf("%s: separators must be a pair of strings (item_separator, key_separator)", b.Name())
		}
		e.itemSep, e.keySep = string(a), string(c)
	}
	if defaultV != nil {
		fn, ok := defaultV.(starlark.Callable)
		if !ok {
			return nil, fmt.Errorf("%s: default must be callable, not %s", b.Name(), pyTypeName(defaultV))
		}
		e.defaultFn = fn
	}
	if err := e.encode(obj, 0); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return starlark.String(e.buf.String()), nil
}

type jsonEncoder struct {
	thread                                     *starlark.Thread
	buf                                        strings.Builder
	indent, itemSep, keySep                    string
	hasIndent, sortKeys, ensureASCII, allowNaN bool
	skipKeys                                   bool
	defaultFn                                  starlark.Callable
	seen                                       map[starlark.Value]bool // containers being encoded
}

func (e *jsonEncoder) newline(depth int) {
	if e.hasIndent {
		e.buf.WriteByte('\n')
		for range depth {
			e.buf.WriteString(e.indent)
		}
	}
}

// enter marks a container as being encoded, to detect cycles.
func (e *jsonEncoder) enter(v starlark.Value, depth int) (leave func(), err error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("maximum nesting depth exceeded")
	}
	switch v.(type) {
	case *starlark.List, *starlark.Dict, *defaultDict, *counter:
		if e.seen[v] {
			return nil, fmt.Errorf("Circular reference detected")
		}
		e.seen[v] = true
		return func() { delete(e.seen, v) }, nil
	}
	return func() {}, nil
}

func (e *jsonEncoder) float(f float64) (string, error) {
	switch {
	case math.IsNaN(f):
		if !e.allowNaN {
			return "", fmt.Errorf("Out of range float values are not JSON compliant")
		}
		return "NaN", nil
	case math.IsInf(f, 1):
		if !e.allowNaN {
			return "", fmt.Errorf("Out of range float values are not JSON compliant")
		}
		return "Infinity", nil
	case math.IsInf(f, -1):
		if !e.allowNaN {
			return "", fmt.Errorf("Out of range float values are not JSON compliant")
		}
		return "-Infinity", nil
	}
	return pyFloatRepr(f), nil
}

func (e *jsonEncoder) encode(v starlark.Value, depth int) error {
	switch v := v.(type) {
	case starlark.NoneType:
		e.buf.WriteString("null")
	case starlark.Bool:
		if v {
			e.buf.WriteString("true")
		} else {
			e.buf.WriteString("false")
		}
	case starlark.Int:
		e.buf.WriteString(v.String())
	case starlark.Float:
		s, err := e.float(float64(v))
		if err != nil {
			return err
		}
		e.buf.WriteString(s)
	case starlark.String:
		e.str(string(v))
	case *starlark.List, starlark.Tuple:
		seq := v.(starlark.Indexable)
		leave, err := e.enter(v, depth)
		if err != nil {
			return err
		}
		defer leave()
		if seq.Len() == 0 {
			e.buf.WriteString("[]")
			return nil
		}
		e.buf.WriteByte('[')
		for i := range seq.Len() {
			if i > 0 {
				e.buf.WriteString(e.itemSep)
			}
			e.newline(depth + 1)
			if err := e.encode(seq.Index(i), depth+1); err != nil {
				return err
			}
		}
		e.newline(depth)
		e.buf.WriteByte(']')
	case starlark.IterableMapping:
		return e.object(v, depth)
	default:
		if e.defaultFn == nil {
			return fmt.Errorf("Object of type %s is not JSON serializable", v.Type())
		}
		leave, err := e.enter(v, depth)
		if err != nil {
			return err
		}
		defer leave()
		r, err := starlark.Call(e.thread, e.defaultFn, starlark.Tuple{v}, nil)
		if err != nil {
			return err
		}
		return e.encode(r, depth)
	}
	return nil
}

func (e *jsonEncoder) object(m starlark.IterableMapping, depth int) error {
	leave, err := e.enter(m, depth)
	if err != nil {
		return err
	}
	defer leave()
	items := m.Items()
	if e.sortKeys {
		var sortErr error
		sort.SliceStable(items, func(i, j int) bool {
			lt, err := starlark.Compare(syntax.LT, items[i][0], items[j][0])
			if err != nil && sortErr == nil {
				sortErr = fmt.Errorf("'<' not supported between instances of '%s' and '%s'", pyTypeName(items[i][0]), pyTypeName(items[j][0]))
			}
			return lt
		})
		if sortErr != nil {
			return sortErr
		}
	}
	if len(items) == 0 {
		e.buf.WriteString("{}")
		return nil
	}
	e.buf.WriteByte('{')
	first := true
	for _, item := range items {
		var key string
		switch k := item[0].(type) {
		case starlark.String:
			key = string(k)
		case starlark.Int:
			key = k.String()
		case starlark.Float:
			s, err := e.float(float64(k))
			if err != nil {
				return err
			}
			key = s
		case starlark.Bool:
			key = "false"
			if k {
				key = "true"
			}
		case starlark.NoneType:
			key = "null"
		default:
			if e.skipKeys {
				continue
			}
			return fmt.Errorf("keys must be str, int, float, bool or None, not %s", pyTypeName(k))
		}
		if !first {
			e.buf.WriteString(e.itemSep)
		}
		first = false
		e.newline(depth + 1)
		e.str(key)
		e.buf.WriteString(e.keySep)
		if err := e.encode(item[1], depth+1); err != nil {
			return err
		}
	}
	if first { // every key skipped
		e.buf.WriteString("}")
		return nil
	}
	e.newline(depth)
	e.buf.WriteByte('}')
	return nil
}

func (e *jsonEncoder) str(s string) {
	const hex = "0123456789abcdef"
	u4 := func(r rune) {
		e.buf.WriteString(`\u`)
		e.buf.WriteByte(hex[r>>12&0xf])
		e.buf.WriteByte(hex[r>>8&0xf])
		e.buf.WriteByte(hex[r>>4&0xf])
		e.buf.WriteByte(hex[r&0xf])
	}
	e.buf.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			e.buf.WriteString(`\"`)
		case '\\':
			e.buf.WriteString(`\\`)
		case '\b':
			e.buf.WriteString(`\b`)
		case '\f':
			e.buf.WriteString(`\f`)
		case '\n':
			e.buf.WriteString(`\n`)
		case '\r':
			e.buf.WriteString(`\r`)
		case '\t':
			e.buf.WriteString(`\t`)
		default:
			switch {
			case r < 0x20:
				u4(r)
			case !e.ensureASCII || r < 0x7f:
				e.buf.WriteRune(r)
			case r > 0xffff:
				r1, r2 := utf16.EncodeRune(r)
				u4(r1)
				u4(r2)
			default:
				u4(r)
			}
		}
	}
	e.buf.WriteByte('"')
}
