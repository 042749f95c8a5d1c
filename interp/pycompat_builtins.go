package interp

// The Python compatibility layer, part two: the helpers the translated code
// calls (__import, __fmt, __dict_merge, __raise) and the Python builtins
// Starlark lacks that code blocks commonly use.

import (
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
		"__fmt":        starlark.NewBuiltin("format", pyFmtBuiltin),
		"__dict_merge": starlark.NewBuiltin("dict", pyDictMerge),
		"__raise":      starlark.NewBuiltin("raise", pyRaise),
		"sum":          starlark.NewBuiltin("sum", pySum),
		"round":        starlark.NewBuiltin("round", pyRound),
		"isinstance":   starlark.NewBuiltin("isinstance", pyIsInstance),
		"divmod":       starlark.NewBuiltin("divmod", pyDivmod),
		"pow":          starlark.NewBuiltin("pow", pyPow),
		"map":          starlark.NewBuiltin("map", pyMap),
		"filter":       starlark.NewBuiltin("filter", pyFilter),
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
	if conv == "" && spec != "" {
		// A date or time formats its spec with strftime, as in Python.
		if x, ok := v.(starlark.HasAttrs); ok {
			if m, err := x.Attr("strftime"); err == nil && m != nil {
				return starlark.Call(thread, m, starlark.Tuple{starlark.String(spec)}, nil)
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
		return nil, fmt.Errorf("ValueError: unknown conversion %q", conv)
	}
	s, err := pyFormat(v, spec)
	if err != nil {
		return nil, err
	}
	return starlark.String(s), nil
}

// pyFormat is Python's format(v, spec) for str, int, float and bool; other
// values take only an empty spec.
func pyFormat(v starlark.Value, spec string) (string, error) {
	if spec == "" {
		return pyStr(v), nil
	}
	sp, err := parsePySpec(spec, v.Type())
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
	return "", fmt.Errorf("TypeError: unsupported format string passed to %s.__format__", v.Type())
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

// pyDictMerge implements __dict_merge([a, b, ...]), the value of
// {**a, "k": v, **b}: a new dict with the items of each mapping in order.
func pyDictMerge(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var parts starlark.Iterable
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &parts); err != nil {
		return nil, err
	}
	d := starlark.NewDict(0)
	it := parts.Iterate()
	defer it.Done()
	var x starlark.Value
	for it.Next(&x) {
		m, ok := x.(starlark.IterableMapping)
		if !ok {
			return nil, fmt.Errorf("TypeError: '%s' object is not a mapping", x.Type())
		}
		for _, kv := range m.Items() {
			if err := d.SetKey(kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
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

// pyIsInstance implements isinstance(v, t) for t one of the builtins str,
// int, float, bool, list, dict, tuple, set, bytes, or a tuple of them. As
// in Python, a bool is an int.
func pyIsInstance(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v, t starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &v, &t); err != nil {
		return nil, err
	}
	ok, err := pyIsType(v, t)
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
