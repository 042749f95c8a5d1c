package lib

import (
	"fmt"
	"regexp"
	resyntax "regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// The re module on Go's regexp (RE2). Python syntax is translated: (?P<name>...), \Z, \uXXXX,
// {,n}, VERBOSE and leading global flags work; constructs RE2 cannot run (lookarounds,
// backreferences, atomic groups, possessive quantifiers, conditionals) are rejected with an
// error naming the construct. Matching follows Python's rules for searching from a position
// and for empty matches, so findall, finditer, sub and split give Python's results. Positions
// are byte offsets, as Starlark string indices are.

// Python's flag values.
const (
	reIgnoreCase = 2
	reLocale     = 4
	reMultiline  = 8
	reDotAll     = 16
	reUnicode    = 32
	reVerbose    = 64
	reASCII      = 256
)

func newRe() starlark.Value {
	flags := starlark.StringDict{}
	for _, f := range []struct {
		short, long string
		v           int
	}{
		{"I", "IGNORECASE", reIgnoreCase}, {"L", "LOCALE", reLocale}, {"M", "MULTILINE", reMultiline},
		{"S", "DOTALL", reDotAll}, {"U", "UNICODE", reUnicode}, {"X", "VERBOSE", reVerbose}, {"A", "ASCII", reASCII},
	} {
		flags[f.short] = starlark.MakeInt(f.v)
		flags[f.long] = starlark.MakeInt(f.v)
	}
	flags["NOFLAG"] = starlark.MakeInt(0)
	funcs := map[string]builtinFunc{
		"compile": reCompile,
		"escape":  reEscape,
		"purge": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return starlark.None, noArgs(b, args, kwargs)
		},
	}
	for name, fn := range patternMethods {
		funcs[name] = reModuleFunc(name, fn)
	}
	return module("re", funcs, flags)
}

// ---- translation from Python syntax to RE2 ----

type reSyntaxError struct {
	msg string
	pos int
}

func (e *reSyntaxError) Error() string {
	return fmt.Sprintf("%s at position %d", e.msg, e.pos)
}

func unsupported(construct string, pos int) error {
	return &reSyntaxError{construct + " is not supported (weir uses Go's RE2 regular expressions)", pos}
}

const reGlobalFlagChars = "aiLmsux"

// translateRe rewrites a Python pattern as an RE2 pattern, returning it and the flags
// gathered from leading (?flags) groups.
func translateRe(pat string, flags int) (string, int, error) {
	var out strings.Builder
	i := 0
	// Leading global flags, as Python 3.11 requires them.
	for strings.HasPrefix(pat[i:], "(?") {
		j := i + 2
		for j < len(pat) && strings.IndexByte(reGlobalFlagChars, pat[j]) >= 0 {
			j++
		}
		if j == i+2 || j >= len(pat) || pat[j] != ')' {
			break
		}
		for _, c := range pat[i+2 : j] {
			flags |= map[rune]int{'a': reASCII, 'i': reIgnoreCase, 'L': reLocale, 'm': reMultiline, 's': reDotAll, 'u': reUnicode, 'x': reVerbose}[c]
		}
		i = j + 1
	}
	verbose := flags&reVerbose != 0
	afterQuantifier := false
	for i < len(pat) {
		c := pat[i]
		quant := false
		switch {
		case verbose && strings.IndexByte(" \t\n\r\f\v", c) >= 0:
			i++
			continue
		case verbose && c == '#':
			for i < len(pat) && pat[i] != '\n' {
				i++
			}
			continue
		case c == '\\':
			s, n, err := translateEscape(pat, i, false)
			if err != nil {
				return "", 0, err
			}
			out.WriteString(s)
			i += n
			afterQuantifier = false
			continue
		case c == '[':
			s, n, err := translateClass(pat, i)
			if err != nil {
				return "", 0, err
			}
			out.WriteString(s)
			i += n
			afterQuantifier = false
			continue
		case c == '(' && strings.HasPrefix(pat[i:], "(?"):
			rest := pat[i+2:]
			switch {
			case strings.HasPrefix(rest, "#"):
				end := strings.IndexByte(rest, ')')
				if end < 0 {
					return "", 0, &reSyntaxError{"missing ), unterminated comment", i}
				}
				i += 2 + end + 1
				continue
			case strings.HasPrefix(rest, "="):
				return "", 0, unsupported("look-ahead (?=...)", i)
			case strings.HasPrefix(rest, "!"):
				return "", 0, unsupported("negative look-ahead (?!...)", i)
			case strings.HasPrefix(rest, "<="):
				return "", 0, unsupported("look-behind (?<=...)", i)
			case strings.HasPrefix(rest, "<!"):
				return "", 0, unsupported("negative look-behind (?<!...)", i)
			case strings.HasPrefix(rest, "P="):
				return "", 0, unsupported("backreference (?P=name)", i)
			case strings.HasPrefix(rest, ">"):
				return "", 0, unsupported("atomic group (?>...)", i)
			case strings.HasPrefix(rest, "("):
				return "", 0, unsupported("conditional group (?(...)...)", i)
			case strings.HasPrefix(rest, "P<"), strings.HasPrefix(rest, ":"):
				out.WriteString("(?")
				i += 2
				continue
			}
			// Scoped flags (?imsx-imsx:...): drop a, L and u, which RE2 lacks.
			j := 0
			for j < len(rest) && strings.IndexByte(reGlobalFlagChars+"-", rest[j]) >= 0 {
				j++
			}
			if j < len(rest) && (rest[j] == ':' || rest[j] == ')') {
				fl := rest[:j]
				if strings.ContainsRune(fl, 'x') {
					return "", 0, unsupported("scoped verbose flag (?x:...)", i)
				}
				fl = strings.NewReplacer("a", "", "L", "", "u", "").Replace(fl)
				if fl == "" || fl == "-" {
					if rest[j] == ')' {
						i += 2 + j + 1
						continue
					}
					out.WriteString("(?:")
				} else {
					out.WriteString("(?" + strings.TrimSuffix(fl, "-") + string(rest[j]))
				}
				i += 2 + j + 1
				continue
			}
			out.WriteString("(?")
			i += 2
			continue
		case c == '{':
			// {,n} means {0,n} in Python.
			if strings.HasPrefix(pat[i:], "{,") {
				j := i + 2
				for j < len(pat) && isDigit(pat[j]) {
					j++
				}
				if j > i+2 && j < len(pat) && pat[j] == '}' {
					out.WriteString("{0," + pat[i+2:j] + "}")
					i = j + 1
					afterQuantifier = true
					continue
				}
			}
			if j := strings.IndexByte(pat[i:], '}'); j > 0 && isRepeat(pat[i+1:i+j]) {
				out.WriteString(pat[i : i+j+1])
				i += j + 1
				afterQuantifier = true
				continue
			}
		case c == '*' || c == '?':
			quant = true
		case c == '+':
			if afterQuantifier {
				return "", 0, unsupported("possessive quantifier", i)
			}
			quant = true
		}
		if afterQuantifier && c == '?' {
			quant = false // lazy suffix
		}
		out.WriteByte(c)
		i++
		afterQuantifier = quant
	}
	return out.String(), flags, nil
}

func isRepeat(s string) bool {
	lo, hi, found := strings.Cut(s, ",")
	if lo == "" && !found {
		return false
	}
	for _, part := range []string{lo, hi} {
		for k := 0; k < len(part); k++ {
			if !isDigit(part[k]) {
				return false
			}
		}
	}
	return true
}

// translateEscape translates the escape at pat[i] ('\\'), returning RE2 text and its length.
func translateEscape(pat string, i int, inClass bool) (string, int, error) {
	if i+1 >= len(pat) {
		return "", 0, &reSyntaxError{"bad escape (end of pattern)", i}
	}
	c := pat[i+1]
	switch {
	case c == '0' || (inClass && '1' <= c && c <= '7'):
		j, v := i+1, 0
		for j < len(pat) && j < i+4 && '0' <= pat[j] && pat[j] <= '7' {
			v = v*8 + int(pat[j]-'0')
			j++
		}
		return fmt.Sprintf(`\x{%x}`, v), j - i, nil
	case '1' <= c && c <= '9':
		// Three octal digits are a character; anything else is a group reference.
		if i+3 < len(pat) && c <= '7' && '0' <= pat[i+2] && pat[i+2] <= '7' && '0' <= pat[i+3] && pat[i+3] <= '7' {
			v, _ := strconv.ParseInt(pat[i+1:i+4], 8, 32)
			return fmt.Sprintf(`\x{%x}`, v), 4, nil
		}
		if inClass {
			return "", 0, &reSyntaxError{fmt.Sprintf(`bad escape \%c`, c), i}
		}
		n := 2
		if i+2 < len(pat) && isDigit(pat[i+2]) {
			n = 3
		}
		return "", 0, unsupported(fmt.Sprintf("backreference %s", pat[i:i+n]), i)
	case c == 'x' || c == 'u' || c == 'U':
		n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
		hex := pat[i+2 : min(i+2+n, len(pat))]
		v, err := strconv.ParseUint(hex, 16, 32)
		if len(hex) != n || err != nil || v > utf8.MaxRune {
			return "", 0, &reSyntaxError{fmt.Sprintf(`incomplete escape \%c%s`, c, hex), i}
		}
		return fmt.Sprintf(`\x{%x}`, v), 2 + n, nil
	case c == 'b' && inClass:
		return `\x{8}`, 2, nil
	case c == 'Z':
		if inClass {
			return "", 0, &reSyntaxError{`bad escape \Z`, i}
		}
		return `\z`, 2, nil
	case c == 'N':
		return "", 0, unsupported(`named character escape \N{...}`, i)
	case strings.IndexByte("AbBdDsSwW", c) >= 0:
		if inClass && strings.IndexByte("AbB", c) >= 0 {
			return "", 0, &reSyntaxError{fmt.Sprintf(`bad escape \%c`, c), i}
		}
		return pat[i : i+2], 2, nil
	case strings.IndexByte("afnrtv", c) >= 0:
		return pat[i : i+2], 2, nil
	case c < utf8.RuneSelf && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'):
		return "", 0, &reSyntaxError{fmt.Sprintf(`bad escape \%c`, c), i}
	case c < utf8.RuneSelf:
		return `\` + string(c), 2, nil
	}
	r, size := utf8.DecodeRuneInString(pat[i+1:])
	return regexp.QuoteMeta(string(r)), 1 + size, nil
}

// translateClass translates the character class starting at pat[i] ('[').
func translateClass(pat string, i int) (string, int, error) {
	var out strings.Builder
	out.WriteByte('[')
	j := i + 1
	if j < len(pat) && pat[j] == '^' {
		out.WriteByte('^')
		j++
	}
	first := true
	for {
		if j >= len(pat) {
			return "", 0, &reSyntaxError{"unterminated character set", i}
		}
		c := pat[j]
		switch {
		case c == ']' && !first:
			out.WriteByte(']')
			return out.String(), j + 1 - i, nil
		case c == ']' || c == '[':
			out.WriteString(`\` + string(c))
			j++
		case c == '\\':
			s, n, err := translateEscape(pat, j, true)
			if err != nil {
				return "", 0, err
			}
			out.WriteString(s)
			j += n
		default:
			out.WriteByte(c)
			j++
		}
		first = false
	}
}

// ---- compiled patterns ----

// rePattern is a compiled pattern (Python's re.Pattern). It holds RE2 programs for searching
// and anchored matching at the start of a string, and variants that take one leading
// character of context for searching from a later position.
type rePattern struct {
	pattern  string
	flags    int
	search   *regexp.Regexp // P
	anchored *regexp.Regexp // \A(?:P)
	full     *regexp.Regexp // \A(?:P)\z
	groups   int
	names    []string // names[i] is group i's name or ""

	// A pattern with ^, \A, \b or \B needs the character before a later starting position;
	// these variants take one leading character of context, compiled on first use.
	needsContext bool
	goPat        string // the translated pattern, flags included
	ctxOnce      sync.Once
	ctx          [3]*regexp.Regexp // \A(?s:.)(?s:.*?)(P), \A(?s:.)(P), \A(?s:.)(P)\z; P's groups shifted by one
	ctxErr       error
}

type reKey struct {
	pattern string
	flags   int
}

var (
	reCacheMu sync.Mutex
	reCache   = map[reKey]*rePattern{}
)

const reCacheMax = 512

func compilePattern(pat string, flags int) (*rePattern, error) {
	key := reKey{pat, flags}
	reCacheMu.Lock()
	p, ok := reCache[key]
	reCacheMu.Unlock()
	if ok {
		return p, nil
	}
	goPat, allFlags, err := translateRe(pat, flags)
	if err != nil {
		return nil, err
	}
	prefix := ""
	if allFlags&reIgnoreCase != 0 {
		prefix += "i"
	}
	if allFlags&reMultiline != 0 {
		prefix += "m"
	}
	if allFlags&reDotAll != 0 {
		prefix += "s"
	}
	if prefix != "" {
		prefix = "(?" + prefix + ")"
	}
	p = &rePattern{pattern: pat, flags: flags | allFlags}
	if p.flags&(reASCII|reLocale) == 0 {
		p.flags |= reUnicode // as Python reports str patterns
	}
	for _, v := range []struct {
		dst  **regexp.Regexp
		expr string
	}{
		{&p.search, prefix + goPat},
		{&p.anchored, prefix + `\A(?:` + goPat + `)`},
		{&p.full, prefix + `\A(?:` + goPat + `)\z`},
	} {
		re, err := regexp.Compile(v.expr)
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
			return nil, fmt.Errorf("%s (in pattern %s)", msg, pyQuote(pat))
		}
		*v.dst = re
	}
	p.groups = p.search.NumSubexp()
	p.names = p.search.SubexpNames()
	p.goPat = prefix + goPat
	if tree, err := resyntax.Parse(p.goPat, resyntax.Perl); err == nil {
		p.needsContext = usesContext(tree)
	} else {
		p.needsContext = true
	}
	reCacheMu.Lock()
	if len(reCache) >= reCacheMax {
		reCache = map[reKey]*rePattern{}
	}
	reCache[key] = p
	reCacheMu.Unlock()
	return p, nil
}

type matchMode int

const (
	modeSearch matchMode = iota
	modeMatch
	modeFull
)

// at finds a match of p in s starting the search at pos, with s[:pos] as context for ^, \b
// and \B. It returns Python-style group offsets (2*(groups+1), -1 for unmatched) or nil.
func (p *rePattern) at(s string, pos int, mode matchMode) []int {
	if pos == 0 {
		re := [...]*regexp.Regexp{p.search, p.anchored, p.full}[mode]
		return re.FindStringSubmatchIndex(s)
	}
	if !p.needsContext {
		re := [...]*regexp.Regexp{p.search, p.anchored, p.full}[mode]
		m := re.FindStringSubmatchIndex(s[pos:])
		for i := range m {
			if m[i] >= 0 {
				m[i] += pos
			}
		}
		return m
	}
	p.ctxOnce.Do(func() {
		for i, expr := range []string{`\A(?s:.)(?s:.*?)(`, `\A(?s:.)(`, `\A(?s:.)(`} {
			expr += p.goPat + ")"
			if i == 2 {
				expr += `\z`
			}
			if p.ctx[i], p.ctxErr = regexp.Compile(expr); p.ctxErr != nil {
				return
			}
		}
	})
	if p.ctxErr != nil {
		return nil // not expected: the pattern itself compiled
	}
	re := p.ctx[mode]
	_, k := utf8.DecodeLastRuneInString(s[:pos])
	base := pos - k
	m := re.FindStringSubmatchIndex(s[base:])
	if m == nil {
		return nil
	}
	out := m[2:]
	for i := range out {
		if out[i] >= 0 {
			out[i] += base
		}
	}
	return out
}

// each calls fn on successive matches in s[pos:] as Python's finditer finds them: after an
// empty match the next match may not be empty at the same place. limit > 0 caps the count.
func (p *rePattern) each(s string, pos, limit int, fn func(m []int) error) error {
	mustAdvance := false
	for n := 0; pos <= len(s) && (limit <= 0 || n < limit); n++ {
		m := p.at(s, pos, modeSearch)
		if m == nil {
			return nil
		}
		if mustAdvance && m[0] == pos && m[1] == pos {
			if pos >= len(s) {
				return nil
			}
			_, k := utf8.DecodeRuneInString(s[pos:])
			if m = p.at(s, pos+k, modeSearch); m == nil {
				return nil
			}
		}
		if err := fn(m); err != nil {
			return err
		}
		mustAdvance = m[0] == m[1]
		pos = m[1]
	}
	return nil
}

// usesContext reports whether a parsed pattern looks at the text before where it starts.
func usesContext(re *resyntax.Regexp) bool {
	switch re.Op {
	case resyntax.OpBeginLine, resyntax.OpBeginText, resyntax.OpWordBoundary, resyntax.OpNoWordBoundary:
		return true
	}
	for _, sub := range re.Sub {
		if usesContext(sub) {
			return true
		}
	}
	return false
}

var _ starlark.HasAttrs = (*rePattern)(nil)

func (p *rePattern) String() string {
	return fmt.Sprintf("re.compile(%s)", pyQuote(p.pattern))
}
func (p *rePattern) Type() string          { return "re.Pattern" }
func (p *rePattern) Freeze()               {}
func (p *rePattern) Truth() starlark.Bool  { return true }
func (p *rePattern) Hash() (uint32, error) { return hashString(p.pattern) ^ uint32(p.flags), nil }

func (p *rePattern) groupIndex() *starlark.Dict {
	d := new(starlark.Dict)
	for i, n := range p.names {
		if n != "" {
			_ = d.SetKey(starlark.String(n), starlark.MakeInt(i))
		}
	}
	return d
}

func (p *rePattern) Attr(name string) (starlark.Value, error) {
	switch name {
	case "pattern":
		return starlark.String(p.pattern), nil
	case "flags":
		return starlark.MakeInt(p.flags), nil
	case "groups":
		return starlark.MakeInt(p.groups), nil
	case "groupindex":
		d := p.groupIndex()
		d.Freeze()
		return d, nil
	}
	return patternMethods.bind(p, name), nil
}

func (p *rePattern) AttrNames() []string {
	return append([]string{"flags", "groupindex", "groups", "pattern"}, patternMethods.names()...)
}

// patternArg accepts a str pattern or a compiled one.
func patternArg(v starlark.Value, flags int) (*rePattern, error) {
	switch v := v.(type) {
	case starlark.String:
		return compilePattern(string(v), flags)
	case *rePattern:
		if flags != 0 {
			return nil, fmt.Errorf("cannot process flags argument with a compiled pattern")
		}
		return v, nil
	}
	return nil, fmt.Errorf("first argument must be string or compiled pattern, not %s", pyTypeName(v))
}

func reCompile(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pat starlark.Value
	var flags int
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pat, "flags?", &flags); err != nil {
		return nil, err
	}
	p, err := patternArg(pat, flags)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return p, nil
}

func reEscape(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &s); err != nil {
		return nil, err
	}
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte("()[]{}?*+-|^$\\.&~# \t\n\r\v\f", s[i]) >= 0 {
			out.WriteByte('\\')
		}
		out.WriteByte(s[i])
	}
	return starlark.String(out.String()), nil
}

// reModuleFunc makes re.<name>(pattern, ..., flags=0) from the Pattern method of that name.
func reModuleFunc(name string, method builtinFunc) builtinFunc {
	// The module function's parameters after the pattern, in order.
	params := map[string][]string{
		"match": {"string"}, "search": {"string"}, "fullmatch": {"string"},
		"findall": {"string"}, "finditer": {"string"}, "split": {"string", "maxsplit"},
		"sub": {"repl", "string", "count"}, "subn": {"repl", "string", "count"},
	}[name]
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var pat starlark.Value
		vals := make([]starlark.Value, len(params))
		var flags int
		pairs := []any{"pattern", &pat}
		for i, p := range params {
			if (name == "split" && p == "maxsplit") || p == "count" {
				p += "?"
			}
			pairs = append(pairs, p, &vals[i])
		}
		pairs = append(pairs, "flags?", &flags)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, pairs...); err != nil {
			return nil, err
		}
		p, err := patternArg(pat, flags)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		var margs starlark.Tuple
		for _, v := range vals {
			if v != nil {
				margs = append(margs, v)
			}
		}
		return method(thread, starlark.NewBuiltin(b.Name(), method).BindReceiver(p), margs, nil)
	}
}

// stringRange unpacks (string, pos=0, endpos=None) and applies endpos to the string.
func stringRange(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (full, s string, pos int, err error) {
	var endpos starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "string", &full, "pos?", &pos, "endpos?", &endpos); err != nil {
		return "", "", 0, err
	}
	s = full
	if endpos != nil && endpos != starlark.None {
		var e int
		if err := starlark.AsInt(endpos, &e); err != nil {
			return "", "", 0, fmt.Errorf("%s: endpos: %w", b.Name(), err)
		}
		s = s[:max(0, min(e, len(s)))]
	}
	pos = max(0, min(pos, len(s)))
	return full, s, pos, nil
}

func matchMethod(mode matchMode) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		p := b.Receiver().(*rePattern)
		full, s, pos, err := stringRange(b, args, kwargs)
		if err != nil {
			return nil, err
		}
		m := p.at(s, pos, mode)
		if m == nil {
			return starlark.None, nil
		}
		return &reMatch{p: p, s: full, idx: m, pos: pos, endpos: len(s)}, nil
	}
}

var patternMethods = methods{
	"match":     matchMethod(modeMatch),
	"search":    matchMethod(modeSearch),
	"fullmatch": matchMethod(modeFull),
	"findall": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		p := b.Receiver().(*rePattern)
		_, s, pos, err := stringRange(b, args, kwargs)
		if err != nil {
			return nil, err
		}
		var out []starlark.Value
		_ = p.each(s, pos, 0, func(m []int) error {
			group := func(i int) starlark.Value {
				if m[2*i] < 0 {
					return starlark.String("")
				}
				return starlark.String(s[m[2*i]:m[2*i+1]])
			}
			switch p.groups {
			case 0:
				out = append(out, group(0))
			case 1:
				out = append(out, group(1))
			default:
				t := make(starlark.Tuple, p.groups)
				for i := range t {
					t[i] = group(i + 1)
				}
				out = append(out, t)
			}
			return nil
		})
		return starlark.NewList(out), nil
	},
	"finditer": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		p := b.Receiver().(*rePattern)
		full, s, pos, err := stringRange(b, args, kwargs)
		if err != nil {
			return nil, err
		}
		var out []starlark.Value
		_ = p.each(s, pos, 0, func(m []int) error {
			out = append(out, &reMatch{p: p, s: full, idx: m, pos: pos, endpos: len(s)})
			return nil
		})
		return starlark.NewList(out), nil
	},
	"split": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		p := b.Receiver().(*rePattern)
		var s string
		var maxsplit int
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "string", &s, "maxsplit?", &maxsplit); err != nil {
			return nil, err
		}
		if maxsplit < 0 {
			return starlark.NewList([]starlark.Value{starlark.String(s)}), nil
		}
		var out []starlark.Value
		last := 0
		_ = p.each(s, 0, maxsplit, func(m []int) error {
			out = append(out, starlark.String(s[last:m[0]]))
			for i := 1; i <= p.groups; i++ {
				if m[2*i] < 0 {
					out = append(out, starlark.None)
				} else {
					out = append(out, starlark.String(s[m[2*i]:m[2*i+1]]))
				}
			}
			last = m[1]
			return nil
		})
		out = append(out, starlark.String(s[last:]))
		return starlark.NewList(out), nil
	},
	"sub": func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		s, _, err := reSub(thread, b, args, kwargs)
		if err != nil {
			return nil, err
		}
		return starlark.String(s), nil
	},
	"subn": func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		s, n, err := reSub(thread, b, args, kwargs)
		if err != nil {
			return nil, err
		}
		return starlark.Tuple{starlark.String(s), starlark.MakeInt(n)}, nil
	},
}

func reSub(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (string, int, error) {
	p := b.Receiver().(*rePattern)
	var repl starlark.Value
	var s string
	var count int
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "repl", &repl, "string", &s, "count?", &count); err != nil {
		return "", 0, err
	}
	var template []templatePart
	fn, isFunc := repl.(starlark.Callable)
	if !isFunc {
		rs, ok := repl.(starlark.String)
		if !ok {
			return "", 0, fmt.Errorf("%s: repl must be str or callable, not %s", b.Name(), pyTypeName(repl))
		}
		var err error
		if template, err = parseTemplate(string(rs), p); err != nil {
			return "", 0, fmt.Errorf("%s: %w", b.Name(), err)
		}
	}
	if count < 0 {
		return s, 0, nil
	}
	var out strings.Builder
	last, n := 0, 0
	err := p.each(s, 0, count, func(m []int) error {
		out.WriteString(s[last:m[0]])
		if isFunc {
			r, err := starlark.Call(thread, fn, starlark.Tuple{&reMatch{p: p, s: s, idx: m, endpos: len(s)}}, nil)
			if err != nil {
				return err
			}
			rs, ok := r.(starlark.String)
			if !ok {
				return fmt.Errorf("%s: expected str instance, %s found", b.Name(), r.Type())
			}
			out.WriteString(string(rs))
		} else {
			expandTemplate(&out, template, s, m)
		}
		last = m[1]
		n++
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	out.WriteString(s[last:])
	return out.String(), n, nil
}

// templatePart is literal text, or a group reference when group >= 0.
type templatePart struct {
	text  string
	group int
}

// parseTemplate parses a replacement string as Python's re does: \1..\99, \g<n>, \g<name>,
// the escapes \a \b \f \n \r \t \v \\, and octal \0oo.
func parseTemplate(t string, p *rePattern) ([]templatePart, error) {
	var parts []templatePart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, templatePart{text: lit.String(), group: -1})
			lit.Reset()
		}
	}
	ref := func(g int) error {
		if g > p.groups {
			return fmt.Errorf("invalid group reference %d", g)
		}
		flush()
		parts = append(parts, templatePart{group: g})
		return nil
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c != '\\' {
			lit.WriteByte(c)
			continue
		}
		if i+1 >= len(t) {
			return nil, fmt.Errorf("bad escape (end of pattern) at position %d", i)
		}
		c = t[i+1]
		switch {
		case c == 'g':
			if i+2 >= len(t) || t[i+2] != '<' {
				return nil, fmt.Errorf("missing < at position %d", i+2)
			}
			end := strings.IndexByte(t[i+3:], '>')
			if end < 0 {
				return nil, fmt.Errorf("missing >, unterminated name at position %d", i+3)
			}
			name := t[i+3 : i+3+end]
			if name == "" {
				return nil, fmt.Errorf("missing group name at position %d", i+3)
			}
			if g, _, ok := parseDigits(name, 0, len(name)); ok && len(name) <= 9 {
				if err := ref(g); err != nil {
					return nil, err
				}
			} else {
				g := -1
				for k, n := range p.names {
					if n == name && n != "" {
						g = k
					}
				}
				if g < 0 {
					return nil, fmt.Errorf("unknown group name '%s'", name)
				}
				if err := ref(g); err != nil {
					return nil, err
				}
			}
			i += 3 + end
		case c == '0':
			j, v := i+2, 0
			for j < len(t) && j < i+4 && '0' <= t[j] && t[j] <= '7' {
				v = v*8 + int(t[j]-'0')
				j++
			}
			lit.WriteRune(rune(v))
			i = j - 1
		case isDigit(c):
			if i+3 < len(t) && c <= '7' && '0' <= t[i+2] && t[i+2] <= '7' && '0' <= t[i+3] && t[i+3] <= '7' {
				v, _ := strconv.ParseInt(t[i+1:i+4], 8, 32)
				if v > 0o377 {
					return nil, fmt.Errorf(`octal escape value \%s outside of range 0-0o377 at position %d`, t[i+1:i+4], i)
				}
				lit.WriteRune(rune(v))
				i += 3
				continue
			}
			g := int(c - '0')
			i++
			if i+1 < len(t) && isDigit(t[i+1]) {
				g = g*10 + int(t[i+1]-'0')
				i++
			}
			if err := ref(g); err != nil {
				return nil, err
			}
		default:
			if e, ok := map[byte]byte{'a': 7, 'b': 8, 'f': 12, 'n': 10, 'r': 13, 't': 9, 'v': 11, '\\': '\\'}[c]; ok {
				lit.WriteByte(e)
			} else if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
				return nil, fmt.Errorf(`bad escape \%c at position %d`, c, i)
			} else {
				lit.WriteByte('\\')
				lit.WriteByte(c)
			}
			i++
		}
	}
	flush()
	return parts, nil
}

func expandTemplate(out *strings.Builder, parts []templatePart, s string, m []int) {
	for _, part := range parts {
		if part.group < 0 {
			out.WriteString(part.text)
		} else if a := m[2*part.group]; a >= 0 {
			out.WriteString(s[a:m[2*part.group+1]])
		}
	}
}

// ---- match objects ----

// reMatch is Python's re.Match.
type reMatch struct {
	p           *rePattern
	s           string
	idx         []int
	pos, endpos int
}

var (
	_ starlark.Mapping  = (*reMatch)(nil)
	_ starlark.HasAttrs = (*reMatch)(nil)
)

func (m *reMatch) String() string {
	return fmt.Sprintf("<re.Match object; span=(%d, %d), match=%s>", m.idx[0], m.idx[1], pyQuote(m.s[m.idx[0]:m.idx[1]]))
}
func (m *reMatch) Type() string         { return "re.Match" }
func (m *reMatch) Freeze()              {}
func (m *reMatch) Truth() starlark.Bool { return true }
func (m *reMatch) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: 're.Match'")
}

// groupNum resolves a group given by number or name.
func (m *reMatch) groupNum(v starlark.Value) (int, error) {
	switch v := v.(type) {
	case starlark.Int:
		if g, ok := v.Int64(); ok && g >= 0 && int(g) <= m.p.groups {
			return int(g), nil
		}
	case starlark.String:
		for i, n := range m.p.names {
			if n != "" && n == string(v) {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("no such group")
}

func (m *reMatch) group(g int, dflt starlark.Value) starlark.Value {
	if m.idx[2*g] < 0 {
		return dflt
	}
	return starlark.String(m.s[m.idx[2*g]:m.idx[2*g+1]])
}

func (m *reMatch) Get(k starlark.Value) (starlark.Value, bool, error) {
	g, err := m.groupNum(k)
	if err != nil {
		return nil, false, err
	}
	return m.group(g, starlark.None), true, nil
}

func (m *reMatch) Attr(name string) (starlark.Value, error) {
	switch name {
	case "string":
		return starlark.String(m.s), nil
	case "re":
		return m.p, nil
	case "pos":
		return starlark.MakeInt(m.pos), nil
	case "endpos":
		return starlark.MakeInt(m.endpos), nil
	case "lastindex", "lastgroup":
		// The last group to close is the matched group that ends last, the outermost on ties.
		last := -1
		for g := 1; g <= m.p.groups; g++ {
			if m.idx[2*g] >= 0 && (last < 0 || m.idx[2*g+1] > m.idx[2*last+1]) {
				last = g
			}
		}
		if last < 0 {
			return starlark.None, nil
		}
		if name == "lastindex" {
			return starlark.MakeInt(last), nil
		}
		if n := m.p.names[last]; n != "" {
			return starlark.String(n), nil
		}
		return starlark.None, nil
	}
	return matchMethods.bind(m, name), nil
}

func (m *reMatch) AttrNames() []string {
	names := append([]string{"endpos", "lastgroup", "lastindex", "pos", "re", "string"}, matchMethods.names()...)
	sort.Strings(names)
	return names
}

func groupArg(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (*reMatch, int, error) {
	m := b.Receiver().(*reMatch)
	var gv starlark.Value = starlark.MakeInt(0)
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &gv); err != nil {
		return nil, 0, err
	}
	g, err := m.groupNum(gv)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return m, g, nil
}

var matchMethods = methods{
	"group": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		m := b.Receiver().(*reMatch)
		if err := noKwargs(b.Name(), kwargs); err != nil {
			return nil, err
		}
		if len(args) == 0 {
			return m.group(0, starlark.None), nil
		}
		out := make(starlark.Tuple, len(args))
		for i, a := range args {
			g, err := m.groupNum(a)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			out[i] = m.group(g, starlark.None)
		}
		if len(out) == 1 {
			return out[0], nil
		}
		return out, nil
	},
	"groups": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		m := b.Receiver().(*reMatch)
		var dflt starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "default?", &dflt); err != nil {
			return nil, err
		}
		out := make(starlark.Tuple, m.p.groups)
		for i := range out {
			out[i] = m.group(i+1, dflt)
		}
		return out, nil
	},
	"groupdict": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		m := b.Receiver().(*reMatch)
		var dflt starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "default?", &dflt); err != nil {
			return nil, err
		}
		d := new(starlark.Dict)
		for i, n := range m.p.names {
			if n != "" {
				_ = d.SetKey(starlark.String(n), m.group(i, dflt))
			}
		}
		return d, nil
	},
	"start": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		m, g, err := groupArg(b, args, kwargs)
		if err != nil {
			return nil, err
		}
		return starlark.MakeInt(m.idx[2*g]), nil
	},
	"end": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		m, g, err := groupArg(b, args, kwargs)
		if err != nil {
			return nil, err
		}
		return starlark.MakeInt(m.idx[2*g+1]), nil
	},
	"span": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		m, g, err := groupArg(b, args, kwargs)
		if err != nil {
			return nil, err
		}
		return starlark.Tuple{starlark.MakeInt(m.idx[2*g]), starlark.MakeInt(m.idx[2*g+1])}, nil
	},
	"expand": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		m := b.Receiver().(*reMatch)
		var t string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "template", &t); err != nil {
			return nil, err
		}
		parts, err := parseTemplate(t, m.p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		var out strings.Builder
		expandTemplate(&out, parts, m.s, m.idx)
		return starlark.String(out.String()), nil
	},
}
