package interp

// The Python compatibility layer, part two: the helpers the translated code
// calls (__import, __import_name, __fmt, __dict_merge, __raise, __del,
// __encode, __decode, __percent, __str_format) and the Python builtins
// Starlark lacks, or lacks keywords of, that code blocks commonly use.
// str.split(maxsplit=) is one such keyword no builtin can add: a method of
// str is Starlark's own.

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// RaisedError is the error of a raise statement in a python block:
// raise ValueError("bad") fails with "ValueError: bad". It reaches callers
// wrapped in a *starlark.EvalError (use errors.As).
type RaisedError struct {
	Type, Message string
}

func (e *RaisedError) Error() string {
	if e.Message == "" {
		return e.Type
	}
	return e.Type + ": " + e.Message
}

// compatBuiltins returns the predeclared names translated Python needs.
// importModule resolves `import m`; its error is the import's error.
// fanout is not among them: the runtime defines it.
func compatBuiltins(importModule func(name string) (starlark.Value, error)) starlark.StringDict {
	d := starlark.StringDict{
		"__import": starlark.NewBuiltin("import", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var name string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &name); err != nil {
				return nil, err
			}
			if importModule == nil {
				return nil, fmt.Errorf("ModuleNotFoundError: no module named %q", name)
			}
			return importModule(name)
		}),
		"__import_name": starlark.NewBuiltin("import", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var mod, name string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &mod, &name); err != nil {
				return nil, err
			}
			if importModule == nil {
				return nil, fmt.Errorf("ModuleNotFoundError: no module named %q", mod)
			}
			m, err := importModule(mod)
			if err != nil {
				return nil, err
			}
			return pyImportName(m, mod, name)
		}),
		"__fmt":        starlark.NewBuiltin("format", pyFmtBuiltin),
		"__dict_merge": dictMergeBuiltin,
		"__raise":      starlark.NewBuiltin("raise", pyRaise),
		"__del":        starlark.NewBuiltin("del", pyDel),
		"__encode":     starlark.NewBuiltin("encode", pyEncode),
		"__decode":     starlark.NewBuiltin("decode", pyDecode),
		"__percent":    starlark.NewBuiltin("%", pyPercentBuiltin),
		"__str_format": starlark.NewBuiltin("format", pyStrFormatBuiltin),
		"sum":          starlark.NewBuiltin("sum", pySum),
		"round":        starlark.NewBuiltin("round", pyRound),
		"isinstance":   isinstanceBuiltin,
		"int":          intBuiltin,
		"divmod":       starlark.NewBuiltin("divmod", pyDivmod),
		"pow":          starlark.NewBuiltin("pow", pyPow),
		"map":          starlark.NewBuiltin("map", pyMap),
		"filter":       starlark.NewBuiltin("filter", pyFilter),
		"enumerate":    starlark.NewBuiltin("enumerate", pyEnumerate),
		"max":          starlark.NewBuiltin("max", pyMinMax),
		"min":          starlark.NewBuiltin("min", pyMinMax),
	}
	if _, ok := starlark.Universe["abs"]; !ok {
		d["abs"] = starlark.NewBuiltin("abs", pyAbs)
	}
	return d
}

// ---- __fmt: Python's format-spec mini-language ----

// pyFmtBuiltin implements __fmt(value, spec, conv): the value of an
// f-string field {value!conv:spec}. A value with a strftime method (a
// date or time) formats the spec with it.
func pyFmtBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	var spec, conv string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 3, &v, &spec, &conv); err != nil {
		return nil, err
	}
	s, err := pyFormatField(thread, v, spec, conv)
	if err != nil {
		return nil, err
	}
	return starlark.String(s), nil
}

// pyFormatField formats a replacement field's value: its conversion conv
// ("", "r", "s" or "a"), then format(v, spec).
func pyFormatField(thread *starlark.Thread, v starlark.Value, spec, conv string) (string, error) {
	if conv == "" && spec != "" {
		// A date or time formats its spec with strftime, as in Python.
		if x, ok := v.(starlark.HasAttrs); ok {
			if m, err := x.Attr("strftime"); err == nil && m != nil {
				r, err := starlark.Call(thread, m, starlark.Tuple{starlark.String(spec)}, nil)
				if err != nil {
					return "", err
				}
				return pyStr(r), nil
			}
		}
	}
	switch conv {
	case "":
	case "r":
		v = starlark.String(pyRepr(v))
	case "a":
		v = starlark.String(pyASCII(pyRepr(v)))
	case "s":
		v = starlark.String(pyStr(v))
	default:
		return "", fmt.Errorf("ValueError: unknown conversion %q", conv)
	}
	return pyFormat(v, spec)
}

// pyFormat is Python's format(v, spec) for str, int, float and bool; other
// values take only an empty spec.
func pyFormat(v starlark.Value, spec string) (string, error) {
	if spec == "" {
		return pyStr(v), nil
	}
	sp, err := parsePySpec(spec, pyTypeName(v))
	if err != nil {
		return "", err
	}
	switch x := v.(type) {
	case starlark.String:
		return sp.formatStr(string(x))
	case starlark.Int:
		return sp.formatInt(x.BigInt())
	case starlark.Bool:
		n := int64(0)
		if x {
			n = 1
		}
		return sp.formatInt(big.NewInt(n))
	case starlark.Float:
		return sp.formatFloat(float64(x))
	}
	return "", fmt.Errorf("TypeError: unsupported format string passed to %s.__format__", pyTypeName(v))
}

type pySpec struct {
	spec    string
	vtype   string
	fill    rune
	fillSet bool
	align   byte
	sign    byte
	z, alt  bool
	zero    bool
	width   int
	group   byte
	prec    int
	typ     byte
}

func (sp *pySpec) errorf(format string, args ...any) error {
	return fmt.Errorf("ValueError: "+format, args...)
}

func parsePySpec(spec, vtype string) (*pySpec, error) {
	sp := &pySpec{spec: spec, vtype: vtype, fill: ' ', prec: -1}
	rs := []rune(spec)
	i := 0
	isAlign := func(r rune) bool { return r == '<' || r == '>' || r == '=' || r == '^' }
	switch {
	case len(rs) >= 2 && isAlign(rs[1]):
		sp.fill, sp.fillSet, sp.align = rs[0], true, byte(rs[1])
		i = 2
	case len(rs) >= 1 && isAlign(rs[0]):
		sp.align = byte(rs[0])
		i = 1
	}
	if i < len(rs) && (rs[i] == '+' || rs[i] == '-' || rs[i] == ' ') {
		sp.sign = byte(rs[i])
		i++
	}
	if i < len(rs) && rs[i] == 'z' {
		sp.z = true
		i++
	}
	if i < len(rs) && rs[i] == '#' {
		sp.alt = true
		i++
	}
	if i < len(rs) && rs[i] == '0' {
		sp.zero = true
		i++
	}
	digits := func() (int, bool) {
		n, start := 0, i
		for i < len(rs) && '0' <= rs[i] && rs[i] <= '9' {
			n = n*10 + int(rs[i]-'0')
			if n > 1<<20 {
				return 0, false
			}
			i++
		}
		return n, i > start
	}
	w, ok := digits()
	if !ok && w != 0 {
		return nil, sp.errorf("Too many decimal digits in format string")
	}
	sp.width = w
	if i < len(rs) && (rs[i] == ',' || rs[i] == '_') {
		sp.group = byte(rs[i])
		i++
	}
	if i < len(rs) && rs[i] == '.' {
		i++
		p, ok := digits()
		if !ok {
			return nil, sp.errorf("Format specifier missing precision")
		}
		sp.prec = p
	}
	if i < len(rs) && rs[i] < utf8.RuneSelf {
		sp.typ = byte(rs[i])
		i++
	}
	if i != len(rs) {
		return nil, sp.errorf("Invalid format specifier '%s' for object of type '%s'", spec, vtype)
	}
	return sp, nil
}

func (sp *pySpec) unknownType() error {
	return sp.errorf("Unknown format code '%c' for object of type '%s'", sp.typ, sp.vtype)
}

// pad pads body (after prefix, the sign and base prefix) to the width.
func (sp *pySpec) pad(prefix, body string, align byte, fill rune) string {
	n := utf8.RuneCountInString(prefix) + utf8.RuneCountInString(body)
	if n >= sp.width {
		return prefix + body
	}
	k := sp.width - n
	f := func(n int) string { return strings.Repeat(string(fill), n) }
	switch align {
	case '<':
		return prefix + body + f(k)
	case '^':
		return f(k/2) + prefix + body + f(k-k/2)
	case '=':
		return prefix + f(k) + body
	}
	return f(k) + prefix + body
}

func (sp *pySpec) formatStr(s string) (string, error) {
	switch {
	case sp.typ != 0 && sp.typ != 's':
		return "", sp.unknownType()
	case sp.sign != 0:
		return "", sp.errorf("Sign not allowed in string format specifier")
	case sp.alt:
		return "", sp.errorf("Alternate form (#) not allowed in string format specifier")
	case sp.group != 0:
		return "", sp.errorf("Cannot specify '%c' with 's'.", sp.group)
	case sp.align == '=':
		return "", sp.errorf("'=' alignment not allowed in string format specifier")
	}
	if sp.prec >= 0 {
		if rs := []rune(s); len(rs) > sp.prec {
			s = string(rs[:sp.prec])
		}
	}
	align, fill := sp.align, sp.fill
	if align == 0 {
		align = '<'
	}
	if sp.zero && !sp.fillSet {
		fill = '0'
	}
	return sp.pad("", s, align, fill), nil
}

// number lays out a number: its sign, base prefix, integer digits (which
// take the grouping) and the rest (fraction, exponent, %).
func (sp *pySpec) number(neg bool, prefix, intPart, rest string, every int) string {
	sign := ""
	switch {
	case neg:
		sign = "-"
	case sp.sign == '+':
		sign = "+"
	case sp.sign == ' ':
		sign = " "
	}
	align, fill := sp.align, sp.fill
	if sp.zero && !sp.fillSet {
		fill = '0'
		if align == 0 {
			align = '='
		}
	}
	if align == 0 {
		align = '>'
	}
	if sp.group != 0 && intPart != "" {
		if align == '=' && fill == '0' {
			w := sp.width - len(sign) - len(prefix) - utf8.RuneCountInString(rest)
			for len(pyGroup(intPart, sp.group, every)) < w {
				intPart = "0" + intPart
			}
		}
		intPart = pyGroup(intPart, sp.group, every)
	}
	return sp.pad(sign+prefix, intPart+rest, align, fill)
}

func pyGroup(digits string, sep byte, every int) string {
	if len(digits) <= every {
		return digits
	}
	var b strings.Builder
	first := len(digits) % every
	if first == 0 {
		first = every
	}
	b.WriteString(digits[:first])
	for i := first; i < len(digits); i += every {
		b.WriteByte(sep)
		b.WriteString(digits[i : i+every])
	}
	return b.String()
}

func (sp *pySpec) formatInt(x *big.Int) (string, error) {
	typ := sp.typ
	switch typ {
	case 'e', 'E', 'f', 'F', 'g', 'G', '%':
		f, _ := new(big.Float).SetInt(x).Float64()
		return sp.formatFloat(f)
	case 0, 'd', 'n':
		typ = 'd'
	case 'b', 'o', 'x', 'X', 'c':
	default:
		return "", sp.unknownType()
	}
	if sp.prec >= 0 {
		return "", sp.errorf("Precision not allowed in integer format specifier")
	}
	if sp.z {
		return "", sp.errorf("Negative zero coercion (z) not allowed in integer format specifier")
	}
	if sp.group == ',' && typ != 'd' {
		return "", sp.errorf("Cannot specify ',' with '%c'.", typ)
	}
	if typ == 'c' {
		if sp.sign != 0 {
			return "", sp.errorf("Sign not allowed with integer format specifier 'c'")
		}
		if !x.IsInt64() || x.Int64() < 0 || x.Int64() > unicode.MaxRune {
			return "", fmt.Errorf("OverflowError: %%c arg not in range(0x110000)")
		}
		return sp.number(false, "", string(rune(x.Int64())), "", 3), nil
	}
	base := map[byte]int{'d': 10, 'b': 2, 'o': 8, 'x': 16, 'X': 16}[typ]
	digits := new(big.Int).Abs(x).Text(base)
	if typ == 'X' {
		digits = strings.ToUpper(digits)
	}
	prefix := ""
	if sp.alt && typ != 'd' {
		prefix = "0" + string(typ)
	}
	every := 3
	if typ != 'd' {
		every = 4
	}
	return sp.number(x.Sign() < 0, prefix, digits, "", every), nil
}

func (sp *pySpec) formatFloat(f float64) (string, error) {
	typ := sp.typ
	switch typ {
	case 0, 'e', 'E', 'f', 'F', 'g', 'G', '%':
	case 'n':
		typ = 'g'
	default:
		return "", sp.unknownType()
	}
	neg := math.Signbit(f) && !math.IsNaN(f)
	a := math.Abs(f)
	prec := sp.prec
	if prec < 0 && typ != 0 {
		prec = 6
	}
	upper := typ == 'E' || typ == 'F' || typ == 'G'
	var body string
	switch {
	case math.IsInf(a, 0) || math.IsNaN(a):
		body = "inf"
		if math.IsNaN(a) {
			body = "nan"
		}
		if typ == '%' {
			body += "%"
		}
	case typ == 'f' || typ == 'F':
		body = strconv.FormatFloat(a, 'f', prec, 64)
		if sp.alt && prec == 0 {
			body += "."
		}
	case typ == '%':
		body = strconv.FormatFloat(a*100, 'f', prec, 64)
		if sp.alt && prec == 0 {
			body += "."
		}
		body += "%"
	case typ == 'e' || typ == 'E':
		body = strconv.FormatFloat(a, 'e', prec, 64)
		if sp.alt && prec == 0 {
			body = strings.Replace(body, "e", ".e", 1)
		}
	case typ == 'g' || typ == 'G':
		body = pyFormatG(a, prec, sp.alt, false)
	case prec < 0:
		body = pyFloatRepr(a)
	default:
		body = pyFormatG(a, prec, sp.alt, true)
	}
	if upper {
		body = strings.ToUpper(body)
	}
	if neg && sp.z && strings.Trim(body, "0.e+-%") == "" {
		neg = false
	}
	k := 0
	for k < len(body) && pyIsDigit(body[k]) {
		k++
	}
	return sp.number(neg, "", body[:k], body[k:], 3), nil
}

// pyFormatG is the 'g' presentation of a >= 0 with precision prec; repr
// is the format without a type, which keeps a digit after the point and
// switches to an exponent one digit sooner.
func pyFormatG(a float64, prec int, alt, repr bool) string {
	if prec == 0 {
		prec = 1
	}
	s := strconv.FormatFloat(a, 'e', prec-1, 64)
	e := strings.IndexByte(s, 'e')
	exp, _ := strconv.Atoi(s[e+1:])
	limit := prec
	if repr {
		limit = prec - 1
	}
	if exp < -4 || exp >= limit {
		if !alt {
			m := s[:e]
			if strings.Contains(m, ".") {
				m = strings.TrimRight(strings.TrimRight(m, "0"), ".")
			}
			s = m + s[e:]
		}
		return s
	}
	s = strconv.FormatFloat(a, 'f', prec-1-exp, 64)
	if !alt && strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if alt && !strings.Contains(s, ".") {
		s += "."
	}
	if repr && !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyFloatRepr is Python's repr of a float.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(s[strings.IndexByte(s, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return s
	}
	s = strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyStr is Python's str(v): strings as they are, other values as pyRepr.
func pyStr(v starlark.Value) string {
	if s, ok := v.(starlark.String); ok {
		return string(s)
	}
	return pyRepr(v)
}

// pyRepr is Python's repr(v) for the values JSON and Starlark share
// (strings in single quotes, True, None, ...); other values print as
// Starlark prints them.
func pyRepr(v starlark.Value) string {
	var b strings.Builder
	pyReprTo(&b, v, 0)
	return b.String()
}

func pyReprTo(b *strings.Builder, v starlark.Value, depth int) {
	if depth > 100 {
		b.WriteString("...")
		return
	}
	list := func(open, close string, xs []starlark.Value) {
		b.WriteString(open)
		for i, x := range xs {
			if i > 0 {
				b.WriteString(", ")
			}
			pyReprTo(b, x, depth+1)
		}
		b.WriteString(close)
	}
	switch x := v.(type) {
	case starlark.String:
		b.WriteString(pyQuote(string(x)))
	case starlark.Float:
		b.WriteString(pyFloatRepr(float64(x)))
	case starlark.Bytes:
		b.WriteString(pyBytesRepr(string(x)))
	case *starlark.List:
		xs := make([]starlark.Value, x.Len())
		for i := range xs {
			xs[i] = x.Index(i)
		}
		list("[", "]", xs)
	case starlark.Tuple:
		if len(x) == 1 {
			list("(", ",)", x)
		} else {
			list("(", ")", x)
		}
	case *starlark.Set:
		if x.Len() == 0 {
			b.WriteString("set()")
			return
		}
		var xs []starlark.Value
		it := x.Iterate()
		defer it.Done()
		var e starlark.Value
		for it.Next(&e) {
			xs = append(xs, e)
		}
		list("{", "}", xs)
	case *starlark.Dict:
		b.WriteString("{")
		for i, kv := range x.Items() {
			if i > 0 {
				b.WriteString(", ")
			}
			pyReprTo(b, kv[0], depth+1)
			b.WriteString(": ")
			pyReprTo(b, kv[1], depth+1)
		}
		b.WriteString("}")
	default:
		b.WriteString(v.String())
	}
}

// pyQuote is Python's repr of a string.
func pyQuote(s string) string {
	q := '\''
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteRune(q)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == q || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case !unicode.IsPrint(r):
			switch {
			case r < 0x100:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r < 0x10000:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\U%08x`, r)
			}
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteRune(q)
	return b.String()
}

// pyBytesRepr is Python's repr of bytes: b'...'.
func pyBytesRepr(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteString("b")
	b.WriteByte(q)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == q || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyASCII escapes the non-ASCII characters of a repr, as Python's ascii().
func pyASCII(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	return b.String()
}

// ---- helpers of the translation ----

// pyDictMerge implements the value of {**a, "k": v, **b}: a new dict with
// the items of each part in order. The translation calls it in one of two
// forms: flat, __dict_merge("*k*", a, "k", v, b), where the spec string
// says what follows ('*' a mapping, 'k' a key and its value), or with a
// list of mappings, __dict_merge([a, {"k": v}, b]), for literals with more
// parts than a call takes arguments.
func pyDictMerge(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 || len(args) == 0 {
		return nil, fmt.Errorf("%s: want a spec string and the parts, or a list of mappings", b.Name())
	}
	if spec, ok := args[0].(starlark.String); ok {
		return dictMergeFlat(string(spec), args[1:])
	}
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: want one list of mappings", b.Name())
	}
	parts, ok := args[0].(*starlark.List)
	if !ok {
		return nil, fmt.Errorf("%s: want a list of mappings, not %s", b.Name(), args[0].Type())
	}
	n := 0
	for i := range parts.Len() {
		m, ok := parts.Index(i).(starlark.IterableMapping)
		if !ok {
			return nil, notMapping(parts.Index(i))
		}
		n += mappingLen(m)
	}
	d := starlark.NewDict(n)
	for i := range parts.Len() {
		if err := mergeInto(d, parts.Index(i).(starlark.IterableMapping)); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// dictMergeFlat is the flat form of __dict_merge.
func dictMergeFlat(spec string, args starlark.Tuple) (starlark.Value, error) {
	n, i := 0, 0
	for _, c := range []byte(spec) {
		if i >= len(args) {
			return nil, fmt.Errorf("dict: the spec %q wants more arguments than %d", spec, len(args))
		}
		if c == '*' {
			m, ok := args[i].(starlark.IterableMapping)
			if !ok {
				return nil, notMapping(args[i])
			}
			n += mappingLen(m)
			i++
		} else {
			n++
			i += 2
		}
	}
	if i != len(args) {
		return nil, fmt.Errorf("dict: the spec %q does not match %d arguments", spec, len(args))
	}
	d := starlark.NewDict(n)
	i = 0
	for _, c := range []byte(spec) {
		if c == '*' {
			if err := mergeInto(d, args[i].(starlark.IterableMapping)); err != nil {
				return nil, err
			}
			i++
			continue
		}
		if err := d.SetKey(args[i], args[i+1]); err != nil {
			return nil, err
		}
		i += 2
	}
	return d, nil
}

func notMapping(x starlark.Value) error {
	return fmt.Errorf("TypeError: '%s' object is not a mapping", x.Type())
}

// mappingLen is the number of items of m, or 0 when it cannot say cheaply.
func mappingLen(m starlark.IterableMapping) int {
	if s, ok := m.(starlark.Sequence); ok {
		return s.Len()
	}
	return 0
}

// mergeInto sets the items of m in d; a dict's are walked in place.
func mergeInto(d *starlark.Dict, m starlark.IterableMapping) error {
	if src, ok := m.(*starlark.Dict); ok {
		for k, v := range src.Entries() {
			if err := d.SetKey(k, v); err != nil {
				return err
			}
		}
		return nil
	}
	for _, kv := range m.Items() {
		if err := d.SetKey(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// pyRaise implements __raise("SomeError", args...): it fails with a
// *RaisedError.
func pyRaise(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 0 {
		return nil, &RaisedError{Type: "Exception"}
	}
	e := &RaisedError{Type: pyStr(args[0])}
	switch rest := args[1:]; len(rest) {
	case 0:
	case 1:
		e.Message = pyStr(rest[0])
	default:
		e.Message = pyRepr(rest)
	}
	return nil, e
}

// ---- Python builtins Starlark lacks ----

func pySum(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var xs starlark.Iterable
	var acc starlark.Value = starlark.MakeInt(0)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "iterable", &xs, "start?", &acc); err != nil {
		return nil, err
	}
	if _, ok := acc.(starlark.String); ok {
		return nil, fmt.Errorf("TypeError: sum() can't sum strings [use ''.join(seq) instead]")
	}
	it := xs.Iterate()
	defer it.Done()
	var x starlark.Value
	for it.Next(&x) {
		var err error
		if acc, err = starlark.Binary(syntax.PLUS, acc, x); err != nil {
			return nil, fmt.Errorf("sum: %v", err)
		}
	}
	return acc, nil
}

// pyRound is Python's round: halves go to the even neighbour, and
// round(x, n) rounds the decimal value of x.
func pyRound(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value
	var nd starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "number", &x, "ndigits?", &nd); err != nil {
		return nil, err
	}
	n := 0
	if nd != starlark.None {
		var err error
		if n, err = starlark.AsInt32(nd); err != nil {
			return nil, fmt.Errorf("round: ndigits: %v", err)
		}
	}
	switch x := x.(type) {
	case starlark.Int:
		if n >= 0 {
			return x, nil
		}
		m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-n)), nil)
		q, r := new(big.Int).DivMod(x.BigInt(), m, new(big.Int))
		if c := new(big.Int).Lsh(r, 1).Cmp(m); c > 0 || c == 0 && q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
		return starlark.MakeBigInt(q.Mul(q, m)), nil
	case starlark.Float:
		f := float64(x)
		if nd == starlark.None {
			if math.IsNaN(f) {
				return nil, fmt.Errorf("ValueError: cannot convert float NaN to integer")
			}
			if math.IsInf(f, 0) {
				return nil, fmt.Errorf("OverflowError: cannot convert float infinity to integer")
			}
			i, _ := new(big.Float).SetFloat64(math.RoundToEven(f)).Int(nil)
			return starlark.MakeBigInt(i), nil
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || n > 330 {
			return x, nil
		}
		if n >= 0 {
			r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', n, 64), 64)
			return starlark.Float(r), nil
		}
		p := math.Pow(10, float64(-n))
		return starlark.Float(math.RoundToEven(f/p) * p), nil
	}
	return nil, fmt.Errorf("TypeError: type %s doesn't define __round__ method", x.Type())
}

// universeInt is Starlark's int.
var universeInt = starlark.Universe["int"].(*starlark.Builtin)

// pyInt is Starlark's int, with a short way for int(x) of an int or a float
// in int64's range (the builtin's argument unpacking costs two allocations
// a call, and int(x) is common in Python code), and Python's int() is 0
// (so defaultdict(int) and a table's default int still give 0).
func pyInt(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 0 && len(kwargs) == 0 {
		return starlark.MakeInt(0), nil
	}
	if len(args) == 1 && len(kwargs) == 0 {
		switch x := args[0].(type) {
		case starlark.Int:
			return args[0], nil
		case starlark.Float:
			// As Starlark converts: toward zero (NaN and infinities fail
			// below, with Starlark's own errors).
			if f := float64(x); math.MinInt64 <= f && f < math.MaxInt64+1 {
				return starlark.MakeInt64(int64(f)), nil
			}
		}
	}
	return universeInt.CallInternal(thread, args, kwargs)
}

// pyIsInstance implements isinstance(v, t) for t one of the builtins str,
// int, float, bool, list, dict, tuple, set, bytes, or a tuple of them. As
// in Python, a bool is an int.
func pyIsInstance(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 2 || len(kwargs) > 0 {
		// The error of the usual unpacking (which, given pointers, costs
		// two allocations a call: hence not on the way of a good call).
		var v, t starlark.Value
		return nil, starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &v, &t)
	}
	ok, err := pyIsType(args[0], args[1])
	return starlark.Bool(ok), err
}

func pyIsType(v, t starlark.Value) (bool, error) {
	switch t := t.(type) {
	case starlark.Tuple:
		for _, x := range t {
			if ok, err := pyIsType(v, x); ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	case *starlark.Builtin:
		var ok bool
		switch t.Name() {
		case "str":
			_, ok = v.(starlark.String)
		case "int":
			switch v.(type) {
			case starlark.Int, starlark.Bool:
				ok = true
			}
		case "float":
			_, ok = v.(starlark.Float)
		case "bool":
			_, ok = v.(starlark.Bool)
		case "list":
			_, ok = v.(*starlark.List)
		case "dict":
			_, ok = v.(*starlark.Dict)
		case "tuple":
			_, ok = v.(starlark.Tuple)
		case "set":
			_, ok = v.(*starlark.Set)
		case "bytes":
			_, ok = v.(starlark.Bytes)
		default:
			return false, fmt.Errorf("TypeError: isinstance() arg 2: %s is not a type weir knows (str, int, float, bool, list, dict, tuple, set, bytes)", t.Name())
		}
		return ok, nil
	}
	return false, fmt.Errorf("TypeError: isinstance() arg 2 must be a type or tuple of types, not %s", t.Type())
}

func pyDivmod(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, y starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
		return nil, err
	}
	q, err := starlark.Binary(syntax.SLASHSLASH, x, y)
	if err != nil {
		return nil, fmt.Errorf("divmod: %v", err)
	}
	r, err := starlark.Binary(syntax.PERCENT, x, y)
	if err != nil {
		return nil, fmt.Errorf("divmod: %v", err)
	}
	return starlark.Tuple{q, r}, nil
}

// pyMaxPowBits bounds the size of an int power, which no step budget
// counts.
const pyMaxPowBits = 1 << 22

// pyPow is Python's pow(base, exp[, mod]), the value of base ** exp.
func pyPow(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var base, exp starlark.Value
	var mod starlark.Value = starlark.None
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &base, &exp, &mod); err != nil {
		return nil, err
	}
	bi, bok := base.(starlark.Int)
	ei, eok := exp.(starlark.Int)
	if bok && eok {
		x, e := bi.BigInt(), ei.BigInt()
		if mod != starlark.None {
			mi, ok := mod.(starlark.Int)
			if !ok {
				return nil, fmt.Errorf("TypeError: pow() 3rd argument must be an int, not %s", mod.Type())
			}
			m := mi.BigInt()
			if m.Sign() == 0 {
				return nil, fmt.Errorf("ValueError: pow() 3rd argument cannot be 0")
			}
			if e.Sign() < 0 {
				return nil, fmt.Errorf("ValueError: pow() with a modulus takes no negative exponent in weir")
			}
			am := new(big.Int).Abs(m)
			r := new(big.Int).Exp(x, e, am)
			r.Mod(r, am)
			if m.Sign() < 0 && r.Sign() != 0 {
				r.Add(r, m)
			}
			return starlark.MakeBigInt(r), nil
		}
		if e.Sign() >= 0 {
			if bits := x.BitLen() - 1; bits > 0 && (!e.IsInt64() || e.Int64() > pyMaxPowBits/int64(bits)) {
				return nil, fmt.Errorf("OverflowError: pow() result too large")
			}
			return starlark.MakeBigInt(new(big.Int).Exp(x, e, nil)), nil
		}
	} else if mod != starlark.None {
		return nil, fmt.Errorf("TypeError: pow() 3rd argument not allowed unless all arguments are integers")
	}
	fx, ok1 := starlark.AsFloat(base)
	fe, ok2 := starlark.AsFloat(exp)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("TypeError: unsupported operand type(s) for ** or pow(): '%s' and '%s'", base.Type(), exp.Type())
	}
	switch {
	case fx == 0 && fe < 0:
		return nil, fmt.Errorf("ZeroDivisionError: 0.0 cannot be raised to a negative power")
	case fx < 0 && fe != math.Trunc(fe):
		return nil, fmt.Errorf("ValueError: a negative number cannot be raised to a fractional power")
	}
	r := math.Pow(fx, fe)
	if math.IsInf(r, 0) && !math.IsInf(fx, 0) && !math.IsInf(fe, 0) {
		return nil, fmt.Errorf("OverflowError: pow() result too large")
	}
	return starlark.Float(r), nil
}

// pyMap is map(fn, iterable, ...) as a list.
func pyMap(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 2 || len(kwargs) > 0 {
		return nil, fmt.Errorf("map: want a function and at least one iterable")
	}
	var its []starlark.Iterator
	for _, x := range args[1:] {
		it := starlark.Iterate(x)
		if it == nil {
			return nil, fmt.Errorf("TypeError: '%s' object is not iterable", x.Type())
		}
		defer it.Done()
		its = append(its, it)
	}
	var out []starlark.Value
	for {
		call := make(starlark.Tuple, len(its))
		for i, it := range its {
			if !it.Next(&call[i]) {
				return starlark.NewList(out), nil
			}
		}
		y, err := starlark.Call(thread, args[0], call, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, y)
	}
}

// pyFilter is filter(fn, iterable) as a list; fn None keeps true items.
func pyFilter(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fn starlark.Value
	var xs starlark.Iterable
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &fn, &xs); err != nil {
		return nil, err
	}
	it := xs.Iterate()
	defer it.Done()
	var out []starlark.Value
	var x starlark.Value
	for it.Next(&x) {
		keep := x
		if fn != starlark.None {
			var err error
			if keep, err = starlark.Call(thread, fn, starlark.Tuple{x}, nil); err != nil {
				return nil, err
			}
		}
		if keep.Truth() {
			out = append(out, x)
		}
	}
	return starlark.NewList(out), nil
}

func pyAbs(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
		return nil, err
	}
	switch x := x.(type) {
	case starlark.Int:
		if x.Sign() < 0 {
			return starlark.MakeBigInt(new(big.Int).Neg(x.BigInt())), nil
		}
		return x, nil
	case starlark.Float:
		return starlark.Float(math.Abs(float64(x))), nil
	}
	return nil, fmt.Errorf("TypeError: bad operand type for abs(): '%s'", x.Type())
}

// pyTypeName is Python's name of v's type, for error messages.
func pyTypeName(v starlark.Value) string {
	switch v.(type) {
	case starlark.NoneType:
		return "NoneType"
	case starlark.String:
		return "str"
	case *starlark.Function:
		return "function"
	case *starlark.Builtin:
		return "builtin_function_or_method"
	}
	return v.Type()
}

// pyCallMethod calls recv.name(args, kwargs): the helper of a method call
// the translation rewrote (X.format(...) is __str_format(X, ...)) when X
// is not the str or bytes the helper implements the method for.
func pyCallMethod(thread *starlark.Thread, recv starlark.Value, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	m, err := pyGetattr(recv, name)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("%s has no .%s field or method", recv.Type(), name)
	}
	return starlark.Call(thread, m, args, kwargs)
}

// pyGetattr is x.name, or nil if x has no such attribute.
func pyGetattr(x starlark.Value, name string) (starlark.Value, error) {
	h, ok := x.(starlark.HasAttrs)
	if !ok {
		return nil, nil
	}
	v, err := h.Attr(name)
	var nsa starlark.NoSuchAttrError
	if err != nil && errors.As(err, &nsa) {
		return nil, nil
	}
	return v, err
}

// pyImportName is name of module m (imported as mod): the value of
// from mod import name.
func pyImportName(m starlark.Value, mod, name string) (starlark.Value, error) {
	v, err := pyGetattr(m, name)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("ImportError: cannot import name '%s' from '%s'", name, mod)
	}
	return v, nil
}

// pyDel implements __del(x, k), the statement del x[k]: a dict's missing
// key is a KeyError and a list's missing index an IndexError, as in
// Python; other values (tables) delete with their pop method.
func pyDel(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, k starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &k); err != nil {
		return nil, err
	}
	switch x := x.(type) {
	case *starlark.Dict:
		_, found, err := x.Get(k)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("KeyError: %s", pyRepr(k))
		}
		_, _, err = x.Delete(k)
		return starlark.None, err
	case *starlark.List:
		if _, ok := k.(starlark.Int); !ok {
			return nil, fmt.Errorf("TypeError: list indices must be integers or slices, not %s", pyTypeName(k))
		}
		i, err := starlark.AsInt32(k)
		n := x.Len()
		if err == nil && i < 0 {
			i += n
		}
		if err != nil || i < 0 || i >= n {
			return nil, fmt.Errorf("IndexError: list assignment index out of range")
		}
		pop, err := x.Attr("pop")
		if err != nil {
			return nil, err
		}
		_, err = pop.(*starlark.Builtin).CallInternal(thread, starlark.Tuple{starlark.MakeInt(i)}, nil)
		return starlark.None, err
	}
	if h, ok := x.(starlark.HasAttrs); ok {
		if pop, err := h.Attr("pop"); err == nil && pop != nil {
			_, err := starlark.Call(thread, pop, starlark.Tuple{k}, nil)
			return starlark.None, err
		}
	}
	return nil, fmt.Errorf("TypeError: '%s' object doesn't support item deletion", pyTypeName(x))
}

// ---- str.encode and bytes.decode ----

// pyCodec is the codec an encoding names: utf-8, ascii or latin-1.
func pyCodec(encoding string) (string, error) {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(encoding)), "_", "-") {
	case "utf-8", "utf8", "u8", "utf", "cp65001":
		return "utf-8", nil
	case "ascii", "us-ascii", "646":
		return "ascii", nil
	case "latin-1", "latin1", "latin", "iso-8859-1", "iso8859-1", "8859", "cp819", "l1":
		return "latin-1", nil
	}
	return "", fmt.Errorf("LookupError: unknown encoding: %s", encoding)
}

// pyEncode implements __encode(s, encoding="utf-8", errors="strict"),
// s.encode(...): a str's bytes in UTF-8, ASCII or Latin-1.
func pyEncode(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%s: missing receiver", b.Name())
	}
	s, ok := args[0].(starlark.String)
	if !ok {
		if _, ok := args[0].(starlark.Bytes); ok {
			return nil, fmt.Errorf("AttributeError: 'bytes' object has no attribute 'encode'")
		}
		return pyCallMethod(thread, args[0], "encode", args[1:], kwargs)
	}
	encoding, handler := "utf-8", "strict"
	if err := starlark.UnpackArgs(b.Name(), args[1:], kwargs, "encoding?", &encoding, "errors?", &handler); err != nil {
		return nil, err
	}
	codec, err := pyCodec(encoding)
	if err != nil {
		return nil, err
	}
	if codec == "utf-8" {
		return starlark.Bytes(s), nil
	}
	limit := rune(0x80)
	if codec == "latin-1" {
		limit = 0x100
	}
	rs := []rune(string(s))
	var out strings.Builder
	for i := 0; i < len(rs); {
		if rs[i] < limit {
			out.WriteByte(byte(rs[i]))
			i++
			continue
		}
		j := i
		for j < len(rs) && rs[j] >= limit {
			j++
		}
		switch handler {
		case "strict":
			where := fmt.Sprintf("character '%s' in position %d", pyEscapeRune(rs[i]), i)
			if j-i > 1 {
				where = fmt.Sprintf("characters in position %d-%d", i, j-1)
			}
			return nil, fmt.Errorf("UnicodeEncodeError: '%s' codec can't encode %s: ordinal not in range(%d)", codec, where, limit)
		case "ignore":
		case "replace":
			out.WriteString(strings.Repeat("?", j-i))
		case "backslashreplace":
			for _, r := range rs[i:j] {
				out.WriteString(pyEscapeRune(r))
			}
		case "xmlcharrefreplace":
			for _, r := range rs[i:j] {
				fmt.Fprintf(&out, "&#%d;", r)
			}
		default:
			return nil, fmt.Errorf("LookupError: unknown error handler name '%s'", handler)
		}
		i = j
	}
	return starlark.Bytes(out.String()), nil
}

// pyEscapeRune is the backslash escape of r: \xe9, \u20ac, \U0001f600.
func pyEscapeRune(r rune) string {
	switch {
	case r < 0x100:
		return fmt.Sprintf(`\x%02x`, r)
	case r < 0x10000:
		return fmt.Sprintf(`\u%04x`, r)
	}
	return fmt.Sprintf(`\U%08x`, r)
}

// pyDecode implements __decode(b, encoding="utf-8", errors="strict"),
// b.decode(...): bytes as a str. Invalid UTF-8 fails as Python's
// UnicodeDecodeError, or becomes U+FFFD (errors="replace"), or goes
// (errors="ignore").
func pyDecode(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%s: missing receiver", b.Name())
	}
	bs, ok := args[0].(starlark.Bytes)
	if !ok {
		if _, ok := args[0].(starlark.String); ok {
			return nil, fmt.Errorf("AttributeError: 'str' object has no attribute 'decode'")
		}
		return pyCallMethod(thread, args[0], "decode", args[1:], kwargs)
	}
	encoding, handler := "utf-8", "strict"
	if err := starlark.UnpackArgs(b.Name(), args[1:], kwargs, "encoding?", &encoding, "errors?", &handler); err != nil {
		return nil, err
	}
	codec, err := pyCodec(encoding)
	if err != nil {
		return nil, err
	}
	s := string(bs)
	var out strings.Builder
	for i := 0; i < len(s); {
		var n int
		var reason string
		switch codec {
		case "latin-1":
			out.WriteRune(rune(s[i]))
			i++
			continue
		case "ascii":
			if s[i] < utf8.RuneSelf {
				out.WriteByte(s[i])
				i++
				continue
			}
			n, reason = 1, "ordinal not in range(128)"
		default:
			n, reason = pyUTF8Invalid(s, i)
			if n == 0 {
				_, size := utf8.DecodeRuneInString(s[i:])
				out.WriteString(s[i : i+size])
				i += size
				continue
			}
		}
		switch handler {
		case "strict":
			where := fmt.Sprintf("byte 0x%02x in position %d", s[i], i)
			if n > 1 {
				where = fmt.Sprintf("bytes in position %d-%d", i, i+n-1)
			}
			return nil, fmt.Errorf("UnicodeDecodeError: '%s' codec can't decode %s: %s", codec, where, reason)
		case "ignore":
		case "replace":
			out.WriteRune(utf8.RuneError)
		case "backslashreplace":
			for k := i; k < i+n; k++ {
				fmt.Fprintf(&out, `\x%02x`, s[k])
			}
		default:
			return nil, fmt.Errorf("LookupError: unknown error handler name '%s'", handler)
		}
		i += n
	}
	return starlark.String(out.String()), nil
}

// pyUTF8Invalid is the length of the invalid UTF-8 at s[i:] (the maximal
// invalid subpart, which Python reports and replaces as one), and why it
// is invalid; 0 if s[i:] starts with a valid character.
func pyUTF8Invalid(s string, i int) (int, string) {
	c := s[i]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c < 0x80:
		return 0, ""
	case c < 0xC2 || c > 0xF4:
		return 1, "invalid start byte"
	case c < 0xE0:
		need = 1
	case c < 0xF0:
		need = 2
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F
		}
	default:
		need = 3
		if c == 0xF0 {
			lo = 0x90
		} else if c == 0xF4 {
			hi = 0x8F
		}
	}
	for k := 1; k <= need; k++ {
		if i+k >= len(s) {
			return k, "unexpected end of data"
		}
		if d := s[i+k]; d < lo || d > hi {
			return k, "invalid continuation byte"
		}
		lo, hi = 0x80, 0xBF
	}
	return 0, ""
}

// ---- enumerate, max and min with Python's keywords ----

// pyEnumerate is Starlark's enumerate that also takes start=.
func pyEnumerate(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	u := starlark.Universe["enumerate"].(*starlark.Builtin)
	if len(args) == 1 && len(kwargs) == 1 && kwargs[0][0] == starlark.String("start") {
		args, kwargs = starlark.Tuple{args[0], kwargs[0][1]}, nil
	}
	return u.CallInternal(thread, args, kwargs)
}

// pyMinMax is Starlark's max (or min) that also takes Python's default=
// (the value for an empty iterable) and key=None.
func pyMinMax(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	u := starlark.Universe[b.Name()].(*starlark.Builtin)
	var rest []starlark.Tuple
	var deflt starlark.Value
	for _, kv := range kwargs {
		switch kv[0] {
		case starlark.String("default"):
			deflt = kv[1]
			continue
		case starlark.String("key"):
			if kv[1] == starlark.None {
				continue
			}
		}
		rest = append(rest, kv)
	}
	if deflt != nil {
		if len(args) != 1 {
			return nil, fmt.Errorf("TypeError: Cannot specify a default for %s() with multiple positional arguments", b.Name())
		}
		switch n := starlark.Len(args[0]); {
		case n == 0:
			return deflt, nil
		case n < 0:
			if it := starlark.Iterate(args[0]); it != nil {
				var items []starlark.Value
				var x starlark.Value
				for it.Next(&x) {
					items = append(items, x)
				}
				it.Done()
				if len(items) == 0 {
					return deflt, nil
				}
				args = starlark.Tuple{starlark.NewList(items)}
			}
		}
	}
	return u.CallInternal(thread, args, rest)
}

// ---- printf-style formatting: "%5.2f" % x ----

// pyPercentBuiltin implements __percent(x, y), the value of x % y where x
// is a string literal or a name bound to one: Python's printf-style
// formatting when x is a str, Starlark's % otherwise.
func pyPercentBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, y starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
		return nil, err
	}
	s, ok := x.(starlark.String)
	if !ok {
		return starlark.Binary(syntax.PERCENT, x, y)
	}
	out, err := pyPercent(string(s), y)
	if err != nil {
		return nil, err
	}
	return starlark.String(out), nil
}

// pyPercentFlags are a conversion's flags, width and precision.
type pyPercentFlags struct {
	left, plus, space, alt, zero bool
	width, prec                  int // prec -1 if none
}

// pyPercent is Python's format % arg (PyUnicode_Format): arg is a tuple of
// the values, or one value; a mapping (or list) also serves %(key)s.
func pyPercent(format string, arg starlark.Value) (string, error) {
	args := arg
	argLen, argIdx := -1, -2
	tuple, isTuple := arg.(starlark.Tuple)
	if isTuple {
		argLen, argIdx = len(tuple), 0
	}
	var dict starlark.Value
	switch arg.(type) {
	case starlark.Tuple, starlark.String, starlark.Bytes:
	case starlark.Mapping, starlark.Indexable:
		dict = arg
	}
	next := func() (starlark.Value, error) {
		if argIdx >= argLen {
			return nil, fmt.Errorf("TypeError: not enough arguments for format string")
		}
		argIdx++
		if argLen < 0 {
			return args, nil
		}
		return tuple[argIdx-1], nil
	}
	star := func() (int, error) {
		v, err := next()
		if err != nil {
			return 0, err
		}
		if _, ok := v.(starlark.Int); !ok {
			return 0, fmt.Errorf("TypeError: * wants int")
		}
		n, err := starlark.AsInt32(v)
		if err != nil || n > 1<<20 || n < -(1<<20) {
			return 0, fmt.Errorf("ValueError: width too big")
		}
		return n, nil
	}
	var b strings.Builder
	f := format
	for i := 0; i < len(f); {
		if f[i] != '%' {
			j := strings.IndexByte(f[i:], '%')
			if j < 0 {
				j = len(f) - i
			}
			b.WriteString(f[i : i+j])
			i += j
			continue
		}
		i++
		if i >= len(f) {
			return "", fmt.Errorf("ValueError: incomplete format")
		}
		if f[i] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		if f[i] == '(' {
			if dict == nil {
				return "", fmt.Errorf("TypeError: format requires a mapping")
			}
			depth, j := 1, i+1
			for ; j < len(f) && depth > 0; j++ {
				switch f[j] {
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			if depth > 0 {
				return "", fmt.Errorf("ValueError: incomplete format key")
			}
			key := starlark.String(f[i+1 : j-1])
			m, ok := dict.(starlark.Mapping)
			if !ok {
				return "", fmt.Errorf("TypeError: %s indices must be integers or slices, not str", pyTypeName(dict))
			}
			v, found, err := m.Get(key)
			if err != nil {
				return "", err
			}
			if !found {
				return "", fmt.Errorf("KeyError: %s", pyRepr(key))
			}
			args, argLen, argIdx = v, -1, -2
			i = j
		}
		fl := pyPercentFlags{prec: -1}
	flags:
		for ; i < len(f); i++ {
			switch f[i] {
			case '-':
				fl.left = true
			case '+':
				fl.plus = true
			case ' ':
				fl.space = true
			case '#':
				fl.alt = true
			case '0':
				fl.zero = true
			default:
				break flags
			}
		}
		digits := func() (int, error) {
			n := 0
			for ; i < len(f) && pyIsDigit(f[i]); i++ {
				n = n*10 + int(f[i]-'0')
				if n > 1<<20 {
					return 0, fmt.Errorf("ValueError: width too big")
				}
			}
			return n, nil
		}
		var err error
		if i < len(f) && f[i] == '*' {
			i++
			if fl.width, err = star(); err != nil {
				return "", err
			}
			if fl.width < 0 {
				fl.left, fl.width = true, -fl.width
			}
		} else if fl.width, err = digits(); err != nil {
			return "", err
		}
		if i < len(f) && f[i] == '.' {
			i++
			if i < len(f) && f[i] == '*' {
				i++
				if fl.prec, err = star(); err != nil {
					return "", err
				}
				fl.prec = max(fl.prec, 0)
			} else if fl.prec, err = digits(); err != nil {
				return "", err
			}
		}
		for i < len(f) && (f[i] == 'h' || f[i] == 'l' || f[i] == 'L') {
			i++
		}
		if i >= len(f) {
			return "", fmt.Errorf("ValueError: incomplete format")
		}
		v, err := next()
		if err != nil {
			return "", err
		}
		c, size := utf8.DecodeRuneInString(f[i:])
		s, err := fl.convert(c, v)
		if err != nil {
			if err == errPyUnsupported {
				shown := c
				if c < 32 || c >= 127 {
					shown = '?'
				}
				return "", fmt.Errorf("ValueError: unsupported format character '%c' (0x%x) at index %d", shown, c, utf8.RuneCountInString(f[:i]))
			}
			return "", err
		}
		b.WriteString(s)
		i += size
	}
	if argIdx < argLen && dict == nil {
		return "", fmt.Errorf("TypeError: not all arguments converted during string formatting")
	}
	return b.String(), nil
}

var errPyUnsupported = errors.New("unsupported format character")

// convert formats v for conversion c.
func (fl *pyPercentFlags) convert(c rune, v starlark.Value) (string, error) {
	switch c {
	case 's', 'r', 'a':
		var s string
		switch c {
		case 's':
			s = pyStr(v)
		case 'r':
			s = pyRepr(v)
		default:
			s = pyASCII(pyRepr(v))
		}
		if fl.prec >= 0 {
			if rs := []rune(s); len(rs) > fl.prec {
				s = string(rs[:fl.prec])
			}
		}
		return fl.pad("", s, false), nil
	case 'c':
		var s string
		switch x := v.(type) {
		case starlark.Int:
			n, ok := x.Int64()
			if !ok || n < 0 || n > unicode.MaxRune {
				return "", fmt.Errorf("OverflowError: %%c arg not in range(0x110000)")
			}
			s = string(rune(n))
		case starlark.String:
			if utf8.RuneCountInString(string(x)) != 1 {
				return "", fmt.Errorf("TypeError: %%c requires int or char")
			}
			s = string(x)
		default:
			return "", fmt.Errorf("TypeError: %%c requires int or char")
		}
		return fl.pad("", s, false), nil
	case 'd', 'i', 'u':
		var n *big.Int
		switch x := v.(type) {
		case starlark.Int:
			n = x.BigInt()
		case starlark.Bool:
			n = big.NewInt(0)
			if x {
				n.SetInt64(1)
			}
		case starlark.Float:
			f := float64(x)
			if math.IsNaN(f) {
				return "", fmt.Errorf("ValueError: cannot convert float NaN to integer")
			}
			if math.IsInf(f, 0) {
				return "", fmt.Errorf("OverflowError: cannot convert float infinity to integer")
			}
			n, _ = new(big.Float).SetFloat64(math.Trunc(f)).Int(nil)
		default:
			return "", fmt.Errorf("TypeError: %%%c format: a real number is required, not %s", c, pyTypeName(v))
		}
		return fl.integer(n, 10, ""), nil
	case 'o', 'x', 'X':
		var n *big.Int
		switch x := v.(type) {
		case starlark.Int:
			n = x.BigInt()
		case starlark.Bool:
			n = big.NewInt(0)
			if x {
				n.SetInt64(1)
			}
		default:
			return "", fmt.Errorf("TypeError: %%%c format: an integer is required, not %s", c, pyTypeName(v))
		}
		base := map[rune]int{'o': 8, 'x': 16, 'X': 16}[c]
		prefix := ""
		if fl.alt {
			prefix = "0" + string(c)
		}
		s := fl.integer(n, base, prefix)
		if c == 'X' {
			s = strings.ToUpper(s)
		}
		return s, nil
	case 'e', 'E', 'f', 'F', 'g', 'G':
		var f float64
		switch x := v.(type) {
		case starlark.Float:
			f = float64(x)
		case starlark.Int:
			f = float64(x.Float())
			if math.IsInf(f, 0) {
				return "", fmt.Errorf("OverflowError: int too large to convert to float")
			}
		case starlark.Bool:
			if x {
				f = 1
			}
		default:
			return "", fmt.Errorf("TypeError: must be real number, not %s", pyTypeName(v))
		}
		return fl.float(f, byte(c)), nil
	}
	return "", errPyUnsupported
}

// pad lays out sign and body in the width: left-justified, zero-filled
// after the sign (numbers only) or right-justified.
func (fl *pyPercentFlags) pad(sign, body string, number bool) string {
	n := utf8.RuneCountInString(sign) + utf8.RuneCountInString(body)
	if n >= fl.width {
		return sign + body
	}
	k := fl.width - n
	switch {
	case fl.left:
		return sign + body + strings.Repeat(" ", k)
	case fl.zero && number:
		return sign + strings.Repeat("0", k) + body
	}
	return strings.Repeat(" ", k) + sign + body
}

func (fl *pyPercentFlags) sign(neg bool) string {
	switch {
	case neg:
		return "-"
	case fl.plus:
		return "+"
	case fl.space:
		return " "
	}
	return ""
}

// integer formats n in base; a precision is the least number of digits.
func (fl *pyPercentFlags) integer(n *big.Int, base int, prefix string) string {
	digits := new(big.Int).Abs(n).Text(base)
	if fl.prec > len(digits) {
		digits = strings.Repeat("0", fl.prec-len(digits)) + digits
	}
	return fl.pad(fl.sign(n.Sign() < 0)+prefix, digits, true)
}

func (fl *pyPercentFlags) float(f float64, c byte) string {
	neg := math.Signbit(f) && !math.IsNaN(f)
	a := math.Abs(f)
	prec := fl.prec
	if prec < 0 {
		prec = 6
	}
	var body string
	switch {
	case math.IsNaN(a):
		body = "nan"
	case math.IsInf(a, 0):
		body = "inf"
	case c == 'f' || c == 'F':
		body = strconv.FormatFloat(a, 'f', prec, 64)
		if fl.alt && prec == 0 {
			body += "."
		}
	case c == 'e' || c == 'E':
		body = strconv.FormatFloat(a, 'e', prec, 64)
		if fl.alt && prec == 0 {
			body = strings.Replace(body, "e", ".e", 1)
		}
	default:
		body = pyFormatG(a, prec, fl.alt, false)
	}
	if c == 'E' || c == 'F' || c == 'G' {
		body = strings.ToUpper(body)
	}
	return fl.pad(fl.sign(neg), body, true)
}

// ---- str.format ----

// pyStrFormatBuiltin implements __str_format(s, args..., kwargs...), the
// value of s.format(...): Python's str.format when s is a str, s's own
// format method otherwise.
func pyStrFormatBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%s: missing receiver", b.Name())
	}
	s, ok := args[0].(starlark.String)
	if !ok {
		return pyCallMethod(thread, args[0], "format", args[1:], kwargs)
	}
	f := &pyFormatter{thread: thread, args: args[1:], kwargs: map[string]starlark.Value{}}
	for _, kv := range kwargs {
		f.kwargs[string(kv[0].(starlark.String))] = kv[1]
	}
	out, err := f.format(string(s), 2)
	if err != nil {
		return nil, err
	}
	return starlark.String(out), nil
}

// pyFormatter is one str.format call.
type pyFormatter struct {
	thread *starlark.Thread
	args   starlark.Tuple
	kwargs map[string]starlark.Value
	next   int // the next automatic field number
	mode   byte
}

const (
	pyAutoFields   = 'a'
	pyManualFields = 'm'
)

// format formats s; depth bounds the nesting of fields in specs.
func (f *pyFormatter) format(s string, depth int) (string, error) {
	if depth <= 0 {
		return "", fmt.Errorf("ValueError: Max string recursion exceeded")
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '{' && i+1 < len(s) && s[i+1] == '{', c == '}' && i+1 < len(s) && s[i+1] == '}':
			b.WriteByte(c)
			i += 2
		case c == '}':
			return "", fmt.Errorf("ValueError: Single '}' encountered in format string")
		case c == '{':
			if i+1 >= len(s) {
				return "", fmt.Errorf("ValueError: Single '{' encountered in format string")
			}
			name, conv, spec, next, err := pyParseField(s, i+1)
			if err != nil {
				return "", err
			}
			out, err := f.field(name, conv, spec, depth)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
			i = next
		default:
			j := strings.IndexAny(s[i:], "{}")
			if j < 0 {
				j = len(s) - i
			}
			b.WriteString(s[i : i+j])
			i += j
		}
	}
	return b.String(), nil
}

// pyParseField parses the replacement field that starts after the '{'
// at s[i-1] (as CPython does: a [key] may hold any character but ']', a
// spec may hold nested fields) and returns its parts and the offset
// after its '}'.
func pyParseField(s string, i int) (name, conv, spec string, next int, err error) {
	start := i
	for {
		if i >= len(s) {
			return "", "", "", 0, fmt.Errorf("ValueError: expected '}' before end of string")
		}
		c := s[i]
		if c == '}' || c == '!' || c == ':' {
			break
		}
		if c == '{' {
			return "", "", "", 0, fmt.Errorf("ValueError: unexpected '{' in field name")
		}
		i++
		if c == '[' {
			for i < len(s) && s[i] != ']' {
				i++
			}
			if i < len(s) {
				i++
			}
		}
	}
	name = s[start:i]
	c := s[i]
	i++
	if c == '!' {
		if i >= len(s) {
			return "", "", "", 0, fmt.Errorf("ValueError: end of string while looking for conversion specifier")
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		conv = string(r)
		i += size
		if i >= len(s) {
			return "", "", "", 0, fmt.Errorf("ValueError: unmatched '{' in format spec")
		}
		c = s[i]
		i++
		if c != ':' && c != '}' {
			return "", "", "", 0, fmt.Errorf("ValueError: expected ':' after conversion specifier")
		}
	}
	if c == ':' {
		level := 1
		for k := i; k < len(s); k++ {
			switch s[k] {
			case '{':
				level++
			case '}':
				if level--; level == 0 {
					return name, conv, s[i:k], k + 1, nil
				}
			}
		}
		return "", "", "", 0, fmt.Errorf("ValueError: unmatched '{' in format spec")
	}
	return name, conv, "", i, nil
}

// field formats the replacement field {name!conv:spec}.
func (f *pyFormatter) field(name, conv, spec string, depth int) (string, error) {
	v, err := f.value(name)
	if err != nil {
		return "", err
	}
	switch conv {
	case "", "r", "s", "a":
	default:
		return "", fmt.Errorf("ValueError: Unknown conversion specifier %s", conv)
	}
	if strings.ContainsAny(spec, "{}") {
		if spec, err = f.format(spec, depth-1); err != nil {
			return "", err
		}
	}
	return pyFormatField(f.thread, v, spec, conv)
}

// value is the value a field name names: an argument (by number, by
// order, by keyword), then .attribute and [key] lookups.
func (f *pyFormatter) value(name string) (starlark.Value, error) {
	e := strings.IndexAny(name, ".[")
	if e < 0 {
		e = len(name)
	}
	first, rest := name[:e], name[e:]
	var v starlark.Value
	index := -1
	switch {
	case first == "":
		if f.mode == pyManualFields {
			return nil, fmt.Errorf("ValueError: cannot switch from manual field specification to automatic field numbering")
		}
		f.mode, index = pyAutoFields, f.next
		f.next++
	case strings.Trim(first, "0123456789") == "":
		if f.mode == pyAutoFields {
			return nil, fmt.Errorf("ValueError: cannot switch from automatic field numbering to manual field specification")
		}
		n, err := strconv.Atoi(first)
		if err != nil {
			return nil, fmt.Errorf("ValueError: Too many decimal digits in format string")
		}
		f.mode, index = pyManualFields, n
	default:
		x, ok := f.kwargs[first]
		if !ok {
			return nil, fmt.Errorf("KeyError: %s", pyQuote(first))
		}
		v = x
	}
	if index >= 0 {
		if index >= len(f.args) {
			return nil, fmt.Errorf("IndexError: Replacement index %d out of range for positional args tuple", index)
		}
		v = f.args[index]
	}
	for rest != "" {
		switch rest[0] {
		case '.':
			e := strings.IndexAny(rest[1:], ".[")
			if e < 0 {
				e = len(rest) - 1
			}
			attr := rest[1 : 1+e]
			rest = rest[1+e:]
			if attr == "" {
				return nil, fmt.Errorf("ValueError: Empty attribute in format string")
			}
			x, err := pyGetattr(v, attr)
			if err != nil {
				return nil, err
			}
			if x == nil {
				return nil, fmt.Errorf("AttributeError: '%s' object has no attribute '%s'", pyTypeName(v), attr)
			}
			v = x
		case '[':
			e := strings.IndexByte(rest, ']')
			if e < 0 {
				return nil, fmt.Errorf("ValueError: Missing ']' in format string")
			}
			key := rest[1:e]
			rest = rest[e+1:]
			if key == "" {
				return nil, fmt.Errorf("ValueError: Empty attribute in format string")
			}
			if rest != "" && rest[0] != '.' && rest[0] != '[' {
				return nil, fmt.Errorf("ValueError: Only '.' or '[' may follow ']' in format field specifier")
			}
			var k starlark.Value = starlark.String(key)
			if n, err := strconv.Atoi(key); err == nil && strings.Trim(key, "0123456789") == "" {
				k = starlark.MakeInt(n)
			}
			x, err := pyGetItem(v, k)
			if err != nil {
				return nil, err
			}
			v = x
		default:
			return nil, fmt.Errorf("ValueError: Only '.' or '[' may follow ']' in format field specifier")
		}
	}
	return v, nil
}

// pyGetItem is Python's v[k] for a field's [key].
func pyGetItem(v, k starlark.Value) (starlark.Value, error) {
	switch x := v.(type) {
	case starlark.Mapping:
		r, found, err := x.Get(k)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("KeyError: %s", pyRepr(k))
		}
		return r, nil
	case starlark.Indexable:
		if _, ok := k.(starlark.Int); !ok {
			return nil, fmt.Errorf("TypeError: %s indices must be integers or slices, not %s", pyTypeName(v), pyTypeName(k))
		}
		i, err := starlark.AsInt32(k)
		if err != nil || i >= x.Len() {
			return nil, fmt.Errorf("IndexError: %s index out of range", pyTypeName(v))
		}
		return x.Index(i), nil
	}
	return nil, fmt.Errorf("TypeError: '%s' object is not subscriptable", pyTypeName(v))
}
