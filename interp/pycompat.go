package interp

// The Python compatibility layer, part one: a source pre-pass that rewrites
// the Python of a code block into the Starlark go.starlark.net runs. It works
// on tokens (see pyLex), groups them into statements by indentation, rewrites
// tokens in place (each token keeps its text, may get a replacement and
// text to put before and after it), and prints the tokens back with the
// whitespace between them taken from the source, so an output line is its
// source line wherever a rewrite allows. Part two, the helpers the rewritten
// code calls, is pycompat_builtins.go.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CompatError is Python source that weir's Python cannot run: a construct
// Starlark lacks (Construct names it, Hint says what to write instead), or
// source that is not Python at all (Construct is empty, Hint is the
// problem). Line and Column (from 1) are the construct's place in the source.
type CompatError struct {
	Line, Column int
	Construct    string
	Hint         string
}

func (e *CompatError) Error() string {
	if e.Construct == "" {
		return fmt.Sprintf("line %d: syntax error: %s", e.Line, e.Hint)
	}
	msg := fmt.Sprintf("line %d: %s are not supported in weir's Python", e.Line, e.Construct)
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg
}

// translatePython rewrites Python source into Starlark source for the file
// options weir uses (set, while, top-level control, global reassignment,
// recursion). lines[i] is the line of src that line i+1 of out comes from.
// The error, if any, is a *CompatError.
func translatePython(src string) (out string, lines []int, err error) {
	f := newPyFile(src)
	toks, cerr := f.lex(0, len(src), false)
	if cerr != nil {
		return "", nil, cerr
	}
	t := &pyTr{f: f, toks: toks}
	t.strNames, t.modNames = t.boundNames()
	stmts, end, cerr := t.parseBlock(0)
	if cerr != nil {
		return "", nil, cerr
	}
	if t.toks[end].kind != pyEOF {
		return "", nil, f.syntaxErr(t.toks[end].start, "unindent does not match any outer indentation level")
	}
	t.tokenPass()
	t.walk(stmts, nil)
	t.checkYields()
	if e := f.firstErr(); e != nil {
		return "", nil, e
	}
	o := &pyOut{}
	t.render(o, 0, len(t.toks), 0, false)
	return o.finish()
}

// ---- source positions and errors ----

type pyFile struct {
	src        string
	lineStarts []int
	errs       []*CompatError
}

func newPyFile(src string) *pyFile {
	f := &pyFile{src: src, lineStarts: []int{0}}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			f.lineStarts = append(f.lineStarts, i+1)
		}
	}
	return f
}

// pos is the line and column (both from 1, the column in characters) of
// byte offset off.
func (f *pyFile) pos(off int) (line, col int) {
	i := sort.Search(len(f.lineStarts), func(i int) bool { return f.lineStarts[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	if off > len(f.src) {
		off = len(f.src)
	}
	return i + 1, utf8.RuneCountInString(f.src[f.lineStarts[i]:off]) + 1
}

func (f *pyFile) lineAt(off int) int {
	l, _ := f.pos(off)
	return l
}

func (f *pyFile) syntaxErr(off int, msg string) *CompatError {
	l, c := f.pos(off)
	return &CompatError{Line: l, Column: c, Hint: msg}
}

// unsupported records a construct weir cannot run; translation goes on to
// find the first one in the source.
func (f *pyFile) unsupported(off int, construct, hint string) {
	l, c := f.pos(off)
	f.errs = append(f.errs, &CompatError{Line: l, Column: c, Construct: construct, Hint: hint})
}

func (f *pyFile) firstErr() *CompatError {
	var first *CompatError
	for _, e := range f.errs {
		if first == nil || e.Line < first.Line || e.Line == first.Line && e.Column < first.Column {
			first = e
		}
	}
	return first
}

// ---- tokens ----

type pyKind uint8

const (
	pyName pyKind = iota + 1
	pyNumber
	pyString
	pyOp
	pyNewline
	pyIndent
	pyDedent
	pyEOF
)

type pyTok struct {
	kind       pyKind
	text       string
	start, end int // byte offsets in the source
	match      int // brackets: index of the other bracket
	str        *pyStrLit

	// The rewrite: pre + (out if repl, else text) + post, with the
	// whitespace before the token kept unless noGap (horizontal whitespace
	// only) or drop (the token and all but line breaks before it go).
	out       string
	repl      bool
	pre, post string
	noGap     bool
	drop      bool
	ok        bool // a yield the statement pass has rewritten
}

// pyStrLit is a string literal: its prefix (lower case), its quote (one
// or three quote characters), and for an f-string its parts.
type pyStrLit struct {
	prefix  string
	quote   string
	bodyLo  int
	bodyHi  int
	fstring bool
	parts   []pyFPart
}

// pyFPart is a piece of an f-string: literal text (as written, with {{ and
// }} already single), or a replacement field.
type pyFPart struct {
	lit            string
	field          bool
	exprLo, exprHi int // the field's expression in the source
	selfDoc        string
	conv           byte
	hasSpec        bool
	spec           []pyFPart
}

var pyKeywords = map[string]bool{
	"False": true, "None": true, "True": true, "and": true, "as": true, "assert": true,
	"async": true, "await": true, "break": true, "class": true, "continue": true, "def": true,
	"del": true, "elif": true, "else": true, "except": true, "finally": true, "for": true,
	"from": true, "global": true, "if": true, "import": true, "in": true, "is": true,
	"lambda": true, "nonlocal": true, "not": true, "or": true, "pass": true, "raise": true,
	"return": true, "try": true, "while": true, "with": true, "yield": true,
}

var pyOps3 = []string{"**=", "//=", ">>=", "<<=", "..."}
var pyOps2 = []string{"**", "//", "==", "!=", "<=", ">=", "<<", ">>", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", "->", ":="}

const pyOps1 = "+-*/%@&|^~<>()[]{},:.;=!"

func pyIsIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func pyIsIdent(r rune) bool      { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
func pyIsDigit(c byte) bool      { return '0' <= c && c <= '9' }

func pyIsStrPrefix(s string) bool {
	switch strings.ToLower(s) {
	case "r", "u", "b", "f", "br", "rb", "fr", "rf":
		return true
	}
	return false
}

// lex tokenizes src[lo:hi]. A file (expr false) gets NEWLINE, INDENT and
// DEDENT tokens and ends with EOF; an expression (the inside of an f-string
// field) is one bracketed line.
func (f *pyFile) lex(lo, hi int, expr bool) ([]pyTok, *CompatError) {
	src := f.src
	var toks []pyTok
	var stack []int
	indents := []string{""}
	atLineStart, lineHasTok := !expr, false
	add := func(k pyKind, a, b int) {
		toks = append(toks, pyTok{kind: k, text: src[a:b], start: a, end: b, match: -1})
	}
	i := lo
	for i < hi {
		if atLineStart {
			j := i
			for j < hi && (src[j] == ' ' || src[j] == '\t' || src[j] == '\f') {
				j++
			}
			if j >= hi {
				i = j
				break
			}
			if c := src[j]; c == '#' || c == '\n' || c == '\r' {
				for j < hi && src[j] != '\n' {
					j++
				}
				i = j + 1
				continue
			}
			ind, top := src[i:j], indents[len(indents)-1]
			switch {
			case ind == top:
			case strings.HasPrefix(ind, top):
				indents = append(indents, ind)
				add(pyIndent, j, j)
			default:
				for len(indents) > 1 && len(indents[len(indents)-1]) > len(ind) {
					indents = indents[:len(indents)-1]
					add(pyDedent, j, j)
				}
				if indents[len(indents)-1] != ind {
					return nil, f.syntaxErr(j, "unindent does not match any outer indentation level")
				}
			}
			atLineStart = false
			i = j
			continue
		}
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\f' || c == '\r':
			i++
		case c == '#':
			for i < hi && src[i] != '\n' {
				i++
			}
		case c == '\\':
			switch {
			case i+1 < hi && src[i+1] == '\n':
				i += 2
			case i+2 < hi && src[i+1] == '\r' && src[i+2] == '\n':
				i += 3
			default:
				return nil, f.syntaxErr(i, "unexpected character after line continuation character")
			}
		case c == '\n':
			if len(stack) == 0 && !expr {
				if lineHasTok {
					add(pyNewline, i, i+1)
				}
				atLineStart, lineHasTok = true, false
			}
			i++
		default:
			lineHasTok = true
			r, size := utf8.DecodeRuneInString(src[i:hi])
			switch {
			case c == '"' || c == '\'':
				end, lit, err := f.scanString(i, i, hi)
				if err != nil {
					return nil, err
				}
				add(pyString, i, end)
				toks[len(toks)-1].str = lit
				i = end
			case pyIsIdentStart(r):
				j := i + size
				for j < hi {
					r, size := utf8.DecodeRuneInString(src[j:hi])
					if !pyIsIdent(r) {
						break
					}
					j += size
				}
				if j < hi && (src[j] == '"' || src[j] == '\'') && pyIsStrPrefix(src[i:j]) {
					end, lit, err := f.scanString(i, j, hi)
					if err != nil {
						return nil, err
					}
					add(pyString, i, end)
					toks[len(toks)-1].str = lit
					i = end
					continue
				}
				add(pyName, i, j)
				i = j
			case pyIsDigit(c) || c == '.' && i+1 < hi && pyIsDigit(src[i+1]):
				j := f.scanNumber(i, hi)
				add(pyNumber, i, j)
				i = j
			default:
				n := 0
				for _, op := range pyOps3 {
					if strings.HasPrefix(src[i:hi], op) {
						n = 3
						break
					}
				}
				if n == 0 {
					for _, op := range pyOps2 {
						if strings.HasPrefix(src[i:hi], op) {
							n = 2
							break
						}
					}
				}
				if n == 0 && strings.IndexByte(pyOps1, c) >= 0 {
					n = 1
				}
				if n == 0 {
					return nil, f.syntaxErr(i, fmt.Sprintf("invalid character %q", r))
				}
				add(pyOp, i, i+n)
				k := len(toks) - 1
				switch c {
				case '(', '[', '{':
					if n == 1 {
						stack = append(stack, k)
					}
				case ')', ']', '}':
					open := map[byte]string{')': "(", ']': "[", '}': "{"}[c]
					if len(stack) == 0 || toks[stack[len(stack)-1]].text != open {
						return nil, f.syntaxErr(i, fmt.Sprintf("unmatched '%c'", c))
					}
					o := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					toks[o].match, toks[k].match = k, o
				}
				i += n
			}
		}
	}
	if len(stack) > 0 {
		return nil, f.syntaxErr(toks[stack[len(stack)-1]].start, fmt.Sprintf("'%s' was never closed", toks[stack[len(stack)-1]].text))
	}
	if expr {
		return toks, nil
	}
	if lineHasTok {
		end := hi
		if len(toks) > 0 {
			end = toks[len(toks)-1].end
		}
		add(pyNewline, end, end)
	}
	for len(indents) > 1 {
		indents = indents[:len(indents)-1]
		add(pyDedent, hi, hi)
	}
	add(pyEOF, hi, hi)
	return toks, nil
}

func (f *pyFile) scanNumber(i, hi int) int {
	src := f.src
	j := i
	if src[j] == '0' && j+1 < hi && strings.IndexByte("xXoObB", src[j+1]) >= 0 {
		j += 2
		for j < hi && (strings.IndexByte("0123456789abcdefABCDEF_", src[j]) >= 0) {
			j++
		}
		return j
	}
	for j < hi && (pyIsDigit(src[j]) || src[j] == '_') {
		j++
	}
	if j < hi && src[j] == '.' {
		j++
		for j < hi && (pyIsDigit(src[j]) || src[j] == '_') {
			j++
		}
	}
	if j < hi && (src[j] == 'e' || src[j] == 'E') {
		k := j + 1
		if k < hi && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if k < hi && pyIsDigit(src[k]) {
			j = k
			for j < hi && (pyIsDigit(src[j]) || src[j] == '_') {
				j++
			}
		}
	}
	if j < hi && (src[j] == 'j' || src[j] == 'J') {
		j++
	}
	return j
}

// scanString scans the string literal whose prefix starts at lo and whose
// opening quote is at q, and returns the offset after it.
func (f *pyFile) scanString(lo, q, hi int) (int, *pyStrLit, *CompatError) {
	src := f.src
	lit := &pyStrLit{prefix: strings.ToLower(src[lo:q])}
	quote := src[q : q+1]
	if strings.HasPrefix(src[q:hi], strings.Repeat(quote, 3)) {
		quote = strings.Repeat(quote, 3)
	}
	lit.quote = quote
	lit.bodyLo = q + len(quote)
	raw := strings.Contains(lit.prefix, "r")
	if strings.Contains(lit.prefix, "f") {
		lit.fstring = true
		parts, bodyHi, err := f.scanFBody(lit.bodyLo, hi, quote, raw)
		if err != nil {
			return 0, nil, err
		}
		lit.parts, lit.bodyHi = parts, bodyHi
		return bodyHi + len(quote), lit, nil
	}
	j := lit.bodyLo
	for {
		if j >= hi || src[j] == '\n' && len(quote) == 1 {
			return 0, nil, f.syntaxErr(lo, "unterminated string literal")
		}
		switch {
		case src[j] == '\\':
			j += 2
		case strings.HasPrefix(src[j:hi], quote):
			lit.bodyHi = j
			return j + len(quote), lit, nil
		default:
			j++
		}
	}
}

// scanFBody scans the body of an f-string from j to its closing quote and
// returns its parts and the offset of the closing quote. Strings inside a
// field may use the f-string's own quote (Python 3.12).
func (f *pyFile) scanFBody(j, hi int, quote string, raw bool) ([]pyFPart, int, *CompatError) {
	src := f.src
	var parts []pyFPart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, pyFPart{lit: lit.String()})
			lit.Reset()
		}
	}
	start := j
	for {
		if j >= hi || src[j] == '\n' && len(quote) == 1 {
			return nil, 0, f.syntaxErr(start, "unterminated f-string literal")
		}
		c := src[j]
		switch {
		case strings.HasPrefix(src[j:hi], quote):
			flush()
			return parts, j, nil
		case c == '\\':
			if j+1 < hi && (src[j+1] == '{' || src[j+1] == '}') {
				lit.WriteByte('\\')
				j++
				continue
			}
			if !raw && j+2 < hi && src[j+1] == 'N' && src[j+2] == '{' {
				k := strings.IndexByte(src[j:hi], '}')
				if k < 0 {
					return nil, 0, f.syntaxErr(j, "malformed \\N character escape")
				}
				lit.WriteString(src[j : j+k+1])
				j += k + 1
				continue
			}
			end := min(j+2, hi)
			lit.WriteString(src[j:end])
			j = end
		case c == '{':
			if j+1 < hi && src[j+1] == '{' {
				lit.WriteByte('{')
				j += 2
				continue
			}
			flush()
			p, next, err := f.scanFField(j, hi, quote)
			if err != nil {
				return nil, 0, err
			}
			parts = append(parts, p)
			j = next
		case c == '}':
			if j+1 < hi && src[j+1] == '}' {
				lit.WriteByte('}')
				j += 2
				continue
			}
			return nil, 0, f.syntaxErr(j, "f-string: single '}' is not allowed")
		default:
			lit.WriteByte(c)
			j++
		}
	}
}

// scanFField scans a replacement field starting at its '{' and returns it
// and the offset after its '}'.
func (f *pyFile) scanFField(j, hi int, quote string) (pyFPart, int, *CompatError) {
	src := f.src
	p := pyFPart{field: true, exprLo: j + 1}
	k := j + 1
	depth := 0
	closeErr := func() (pyFPart, int, *CompatError) {
		return pyFPart{}, 0, f.syntaxErr(j, "f-string: expecting '}'")
	}
	exprDone := false
	for !exprDone {
		if k >= hi {
			return closeErr()
		}
		c := src[k]
		r, size := utf8.DecodeRuneInString(src[k:hi])
		switch {
		case c == '"' || c == '\'':
			end, _, err := f.scanString(k, k, hi)
			if err != nil {
				return closeErr()
			}
			k = end
		case pyIsIdentStart(r):
			e := k + size
			for e < hi {
				r, size := utf8.DecodeRuneInString(src[e:hi])
				if !pyIsIdent(r) {
					break
				}
				e += size
			}
			if e < hi && (src[e] == '"' || src[e] == '\'') && pyIsStrPrefix(src[k:e]) {
				end, _, err := f.scanString(k, e, hi)
				if err != nil {
					return pyFPart{}, 0, err
				}
				e = end
			}
			k = e
		case c == '(' || c == '[' || c == '{':
			depth++
			k++
		case c == ')' || c == ']':
			depth--
			k++
		case c == '}':
			if depth == 0 {
				p.exprHi = k
				exprDone = true
				continue
			}
			depth--
			k++
		case depth == 0 && c == '!' && (k+1 >= hi || src[k+1] != '='):
			p.exprHi = k
			exprDone = true
		case depth == 0 && c == ':':
			p.exprHi = k
			exprDone = true
		case depth == 0 && c == '=' && k > p.exprLo && strings.IndexByte("=!<>", src[k-1]) < 0 && (k+1 >= hi || src[k+1] != '='):
			e := k + 1
			for e < hi && (src[e] == ' ' || src[e] == '\t') {
				e++
			}
			if e < hi && (src[e] == '}' || src[e] == '!' || src[e] == ':') {
				p.selfDoc = src[p.exprLo:e]
				p.exprHi = k
				k = e
				exprDone = true
				continue
			}
			k++
		case c == '#':
			return pyFPart{}, 0, f.syntaxErr(k, "f-string expression part cannot include '#'")
		case c == '\n' && len(quote) == 1:
			return closeErr()
		default:
			k += size
		}
	}
	if strings.TrimSpace(src[p.exprLo:p.exprHi]) == "" {
		return pyFPart{}, 0, f.syntaxErr(j, "f-string: valid expression required before '}'")
	}
	if k < hi && src[k] == '!' {
		if k+1 >= hi || strings.IndexByte("rsa", src[k+1]) < 0 {
			return pyFPart{}, 0, f.syntaxErr(k, "f-string: invalid conversion character: expected 's', 'r', or 'a'")
		}
		p.conv = src[k+1]
		k += 2
	}
	if k < hi && src[k] == ':' {
		p.hasSpec = true
		k++
		var lit strings.Builder
		for {
			if k >= hi || strings.HasPrefix(src[k:hi], quote) || src[k] == '\n' && len(quote) == 1 {
				return closeErr()
			}
			if src[k] == '}' {
				break
			}
			if src[k] == '{' {
				if lit.Len() > 0 {
					p.spec = append(p.spec, pyFPart{lit: lit.String()})
					lit.Reset()
				}
				q, next, err := f.scanFField(k, hi, quote)
				if err != nil {
					return pyFPart{}, 0, err
				}
				p.spec = append(p.spec, q)
				k = next
				continue
			}
			lit.WriteByte(src[k])
			k++
		}
		if lit.Len() > 0 {
			p.spec = append(p.spec, pyFPart{lit: lit.String()})
		}
	}
	if k >= hi || src[k] != '}' {
		return closeErr()
	}
	return p, k + 1, nil
}

// ---- statements ----

// pyStmt is a statement: a simple one is tokens [a, b) (without its ';' or
// NEWLINE); a compound one has its header [a, colon] and its body, inline
// (on the header's line) or an indented block that ends at the DEDENT end.
type pyStmt struct {
	a, b   int
	nl     int // the NEWLINE ending the (header) line
	colon  int // -1 for a simple statement
	kw     string
	body   []*pyStmt
	inline bool
	end    int
}

var pyCompound = map[string]bool{
	"if": true, "elif": true, "else": true, "for": true, "while": true, "def": true, "class": true,
	"with": true, "try": true, "except": true, "finally": true, "async": true,
}

type pyTr struct {
	f    *pyFile
	toks []pyTok
	// strNames are the names some statement binds to a string literal
	// (NAME = "..."): NAME % x may be string formatting. modNames are
	// the names import statements bind: m.decode(x) is the module's.
	strNames, modNames map[string]bool
}

func (t *pyTr) tok(i int) *pyTok { return &t.toks[i] }

func (t *pyTr) isOp(i int, ops ...string) bool {
	if i < 0 || i >= len(t.toks) || t.toks[i].kind != pyOp {
		return false
	}
	for _, op := range ops {
		if t.toks[i].text == op {
			return true
		}
	}
	return false
}

func (t *pyTr) isName(i int, names ...string) bool {
	if i < 0 || i >= len(t.toks) || t.toks[i].kind != pyName {
		return false
	}
	for _, n := range names {
		if t.toks[i].text == n {
			return true
		}
	}
	return false
}

func (t *pyTr) isOpen(i int) bool { return t.isOp(i, "(", "[", "{") && t.toks[i].match > i }

// skip returns the index after the token at i, or after the group it opens.
func (t *pyTr) skip(i int) int {
	if t.isOpen(i) {
		return t.toks[i].match + 1
	}
	return i + 1
}

// parseBlock parses statements from i up to the DEDENT or EOF that ends
// the block, and returns them and that token's index.
func (t *pyTr) parseBlock(i int) ([]*pyStmt, int, *CompatError) {
	var out []*pyStmt
	for {
		tk := t.tok(i)
		switch tk.kind {
		case pyEOF, pyDedent:
			return out, i, nil
		case pyIndent:
			return nil, i, t.f.syntaxErr(tk.start, "unexpected indent")
		case pyNewline:
			i++
			continue
		}
		nl := i
		for t.toks[nl].kind != pyNewline {
			nl++
		}
		if t.isName(i, "match", "case") && t.isOp(nl-1, ":") && !t.isOp(i+1, "=", ".", ",", ")") {
			t.f.unsupported(tk.start, "match statements", "use an if/elif chain")
			i = t.skipBlock(nl + 1)
			continue
		}
		if tk.kind != pyName || !pyCompound[tk.text] {
			out = append(out, t.splitSimple(i, nl)...)
			i = nl + 1
			continue
		}
		colon := t.headerColon(i, nl)
		if colon < 0 {
			return nil, i, t.f.syntaxErr(t.toks[nl].start, "expected ':'")
		}
		st := &pyStmt{a: i, b: colon + 1, nl: nl, colon: colon, kw: tk.text}
		out = append(out, st)
		if colon+1 < nl {
			st.inline = true
			st.body = t.splitSimple(colon+1, nl)
			i = nl + 1
			continue
		}
		if t.toks[nl+1].kind != pyIndent {
			return nil, i, t.f.syntaxErr(t.toks[nl+1].start, "expected an indented block")
		}
		body, end, err := t.parseBlock(nl + 2)
		if err != nil {
			return nil, i, err
		}
		if t.toks[end].kind != pyDedent {
			return nil, i, t.f.syntaxErr(t.toks[end].start, "unexpected end of block")
		}
		st.body, st.end = body, end
		i = end + 1
	}
}

// skipBlock skips the indented block (if any) that starts at i.
func (t *pyTr) skipBlock(i int) int {
	if t.toks[i].kind != pyIndent {
		return i
	}
	depth := 0
	for ; t.toks[i].kind != pyEOF; i++ {
		switch t.toks[i].kind {
		case pyIndent:
			depth++
		case pyDedent:
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return i
}

// headerColon is the ':' ending a compound statement's header in [a, nl).
func (t *pyTr) headerColon(a, nl int) int { return t.colon(a, nl) }

// colon is the first ':' in [a, b) at this bracket depth that is not a
// lambda's, or -1: a compound statement's header end, or a dict element's
// key: value separator.
func (t *pyTr) colon(a, b int) int {
	lambdas := 0
	for k := a; k < b; k = t.skip(k) {
		switch {
		case t.isName(k, "lambda"):
			lambdas++
		case t.isOp(k, ":"):
			if lambdas == 0 {
				return k
			}
			lambdas--
		}
	}
	return -1
}

// splitSimple splits [a, nl) into the simple statements between ';'.
func (t *pyTr) splitSimple(a, nl int) []*pyStmt {
	var out []*pyStmt
	for _, r := range t.splitLevel(a, nl, ";") {
		out = append(out, &pyStmt{a: r[0], b: r[1], nl: nl, colon: -1})
	}
	return out
}

// splitLevel splits [a, b) at the sep operators outside brackets and
// returns the non-empty pieces.
func (t *pyTr) splitLevel(a, b int, sep string) [][2]int {
	var out [][2]int
	s := a
	for k := a; k < b; k = t.skip(k) {
		if t.isOp(k, sep) {
			if k > s {
				out = append(out, [2]int{s, k})
			}
			s = k + 1
		}
	}
	if b > s {
		out = append(out, [2]int{s, b})
	}
	return out
}

// findLevel is the first token in [a, b) outside brackets that is the
// operator or name s, or -1.
func (t *pyTr) findLevel(a, b int, s string) int {
	for k := a; k < b; k = t.skip(k) {
		if (t.toks[k].kind == pyOp || t.toks[k].kind == pyName) && t.toks[k].text == s {
			return k
		}
	}
	return -1
}

// ---- rewriting helpers ----

func (t *pyTr) setOut(i int, s string) {
	t.toks[i].out, t.toks[i].repl = s, true
}

// wrap puts before in front of token i and after behind token j. Rewrites
// run inside out, so what is added later encloses what is there.
func (t *pyTr) wrap(i int, before string, j int, after string) {
	t.toks[i].pre = before + t.toks[i].pre
	t.toks[j].post += after
}

func (t *pyTr) dropRange(a, b int) {
	for k := a; k < b; k++ {
		t.toks[k].drop = true
	}
}

// isOperandEnd reports whether token i can end an operand (so a following
// '(' or '[' is a call or subscript, and a following '**' is a power).
func (t *pyTr) isOperandEnd(i int) bool {
	if i < 0 || i >= len(t.toks) {
		return false
	}
	tk := &t.toks[i]
	switch tk.kind {
	case pyName:
		return !pyKeywords[tk.text] || tk.text == "True" || tk.text == "False" || tk.text == "None"
	case pyNumber, pyString:
		return true
	case pyOp:
		return (tk.text == ")" || tk.text == "]" || tk.text == "}") && tk.match >= 0
	}
	return false
}

// groupStart is the first token of the atom that ends at i.
func (t *pyTr) groupStart(i int) int {
	if t.isOp(i, ")", "]", "}") && t.toks[i].match >= 0 {
		return t.toks[i].match
	}
	return i
}

// ---- the token pass: strings, numbers, is, and constructs Starlark lacks ----

func (t *pyTr) tokenPass() {
	for i := 0; i < len(t.toks); i++ {
		tk := t.tok(i)
		switch tk.kind {
		case pyString:
			j := i
			for j+1 < len(t.toks) && t.toks[j+1].kind == pyString {
				j++
			}
			for k := i; k <= j; k++ {
				t.stringOut(k)
				if k > i {
					t.toks[k].pre = "+ " + t.toks[k].pre
				}
			}
			if j > i {
				t.wrap(i, "(", j, ")")
			}
			i = j
		case pyNumber:
			s := tk.text
			if strings.ContainsAny(s, "jJ") && !strings.HasPrefix(strings.ToLower(s), "0x") {
				t.f.unsupported(tk.start, "complex numbers", "use floats")
				continue
			}
			if strings.Contains(s, "_") {
				t.setOut(i, strings.ReplaceAll(s, "_", ""))
			}
		case pyName:
			switch tk.text {
			case "is":
				if t.isName(i+1, "not") {
					t.setOut(i, "!=")
					t.setOut(i+1, "")
					t.toks[i+1].noGap = true
				} else {
					t.setOut(i, "==")
				}
			case "async", "await":
				t.f.unsupported(tk.start, "async functions and await", "define plain functions: weir calls each one synchronously, once per record")
			}
		case pyOp:
			switch tk.text {
			case ":=":
				t.f.unsupported(tk.start, "assignment expressions (:=)", "assign the value on a line of its own first")
			case "@", "@=":
				if i == 0 || t.toks[i-1].kind == pyNewline || t.toks[i-1].kind == pyIndent || t.toks[i-1].kind == pyDedent {
					t.f.unsupported(tk.start, "decorators", "call the wrapping function yourself: f = wrap(f)")
				} else {
					t.f.unsupported(tk.start, "@ operators (matrix multiplication)", "call a function that multiplies the matrices")
				}
			}
		}
	}
}

// stringOut rewrites string token i into a Starlark literal (prefix,
// escapes) or, for an f-string, a concatenation.
func (t *pyTr) stringOut(i int) {
	tk := t.tok(i)
	lit := tk.str
	if lit.fstring {
		t.setOut(i, t.fstringExpr(lit))
		return
	}
	prefix := ""
	if strings.Contains(lit.prefix, "r") {
		prefix += "r"
	}
	if strings.Contains(lit.prefix, "b") {
		prefix += "b"
	}
	body := t.f.src[lit.bodyLo:lit.bodyHi]
	if !strings.Contains(prefix, "r") {
		body = t.fixEscapes(body, lit.bodyLo, strings.Contains(prefix, "b"))
	}
	if s := prefix + lit.quote + body + lit.quote; s != tk.text {
		t.setOut(i, s)
	}
}

// fixEscapes rewrites the escapes of a non-raw string body that Starlark
// reads differently: unknown escapes (Python keeps the backslash), and
// \x and octal escapes above 127 in text strings.
func (t *pyTr) fixEscapes(body string, off int, isBytes bool) string {
	if !strings.Contains(body, `\`) {
		return body
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(body) {
			b.WriteString(`\\`)
			continue
		}
		n := body[i+1]
		switch {
		case strings.IndexByte("\n\r\\'\"abfnrtv", n) >= 0:
			b.WriteString(body[i : i+2])
			i++
		case '0' <= n && n <= '7':
			j := i + 1
			v := 0
			for j < len(body) && j < i+4 && '0' <= body[j] && body[j] <= '7' {
				v = v*8 + int(body[j]-'0')
				j++
			}
			if !isBytes && v > 127 {
				fmt.Fprintf(&b, `\u%04x`, v)
			} else {
				b.WriteString(body[i:j])
			}
			i = j - 1
		case n == 'x':
			v, err := strconv.ParseUint(body[i+2:min(i+4, len(body))], 16, 8)
			if err == nil && i+4 <= len(body) && !isBytes && v > 127 {
				fmt.Fprintf(&b, `\u%04x`, v)
				i += 3
			} else {
				b.WriteString(`\x`)
				i++
			}
		case (n == 'u' || n == 'U') && !isBytes:
			b.WriteString(body[i : i+2])
			i++
		case n == 'N' && !isBytes:
			t.f.unsupported(off+i, `\N{...} escapes`, `write the character itself or a \u escape`)
			b.WriteString(body[i : i+2])
			i++
		default:
			b.WriteString(`\\`)
		}
	}
	return b.String()
}

// fstringExpr is the Starlark expression for an f-string.
func (t *pyTr) fstringExpr(lit *pyStrLit) string {
	terms := t.fstringTerms(lit.parts, lit)
	switch len(terms) {
	case 0:
		return lit.quote + lit.quote
	case 1:
		return terms[0]
	}
	return "(" + strings.Join(terms, " + ") + ")"
}

// fstringTerms are the terms of the concatenation for parts. lit is the
// f-string, for the quotes of literal parts; nil for a format spec.
func (t *pyTr) fstringTerms(parts []pyFPart, lit *pyStrLit) []string {
	var terms []string
	for _, p := range parts {
		if !p.field {
			if lit == nil {
				terms = append(terms, strconv.Quote(p.lit))
			} else {
				terms = append(terms, t.fstringLit(p.lit, lit))
			}
			continue
		}
		if p.selfDoc != "" {
			terms = append(terms, strconv.Quote(p.selfDoc))
		}
		expr := t.translateExpr(p.exprLo, p.exprHi)
		conv := p.conv
		if p.selfDoc != "" && conv == 0 && !p.hasSpec {
			conv = 'r'
		}
		if conv == 0 && !p.hasSpec {
			terms = append(terms, "str("+expr+")")
			continue
		}
		spec := `""`
		if st := t.fstringTerms(p.spec, nil); len(st) == 1 {
			spec = st[0]
		} else if len(st) > 1 {
			spec = "(" + strings.Join(st, " + ") + ")"
		}
		cs := ""
		if conv != 0 {
			cs = string(conv)
		}
		terms = append(terms, fmt.Sprintf("__fmt(%s, %s, %q)", expr, spec, cs))
	}
	return terms
}

// fstringLit is a Starlark literal for literal text s of f-string lit, in
// the f-string's quotes (so the lines of a triple-quoted one stay).
func (t *pyTr) fstringLit(s string, lit *pyStrLit) string {
	if strings.Contains(lit.prefix, "r") {
		s = strings.ReplaceAll(s, `\`, `\\`)
	} else {
		s = t.fixEscapes(s, lit.bodyLo, false)
	}
	q := lit.quote[:1]
	if len(lit.quote) == 3 && strings.HasSuffix(s, q) {
		n := 0
		for k := len(s) - 2; k >= 0 && s[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			s = s[:len(s)-1] + `\` + q
		}
	}
	return lit.quote + s + lit.quote
}

// translateExpr translates the expression src[lo:hi] of an f-string field.
func (t *pyTr) translateExpr(lo, hi int) string {
	toks, err := t.f.lex(lo, hi, true)
	if err != nil {
		t.f.errs = append(t.f.errs, err)
		return "None"
	}
	if len(toks) == 0 {
		return "None"
	}
	sub := &pyTr{f: t.f, toks: toks, strNames: t.strNames, modNames: t.modNames}
	sub.tokenPass()
	sub.processSpan(0, len(toks))
	sub.checkYields()
	o := &pyOut{}
	sub.render(o, 0, len(toks), toks[0].start, false)
	return o.b.String()
}

// ---- expressions ----

// processSpan rewrites the expression tokens [a, b): inner groups first,
// then method calls, powers, %-formatting and chained comparisons.
func (t *pyTr) processSpan(a, b int) {
	for i := a; i < b; i = t.skip(i) {
		if t.isOpen(i) {
			m := t.toks[i].match
			if m >= b {
				continue
			}
			t.processSpan(i+1, m)
			t.groupRewrite(i, m)
		}
	}
	t.methodRewrite(a, b)
	t.powRewrite(a, b)
	t.percentRewrite(a, b)
	t.compareRewrite(a, b)
}

// pyMethodHelpers are the methods of str and bytes Starlark lacks, and the
// helper a call of each becomes: X.m(args) is helper(X, args). The helper
// calls X's own method when X is not a str (or bytes).
var pyMethodHelpers = map[string]string{
	"encode": "__encode",
	"decode": "__decode",
	"format": "__str_format",
}

// methodRewrite turns X.encode(args), X.decode(args) and X.format(args) in
// [a, b) into __encode(X, args) and so on; X is the primary before the
// dot.
func (t *pyTr) methodRewrite(a, b int) {
	for i := a; i < b; i = t.skip(i) {
		if !t.isOp(i, ".") || i == a || !t.isOperandEnd(i-1) || i+2 >= b || t.toks[i+1].kind != pyName {
			continue
		}
		helper, ok := pyMethodHelpers[t.toks[i+1].text]
		if !ok || !t.isOp(i+2, "(") || !t.isOpen(i+2) {
			continue
		}
		open, close := i+2, t.toks[i+2].match
		ls := t.primaryStart(a, i-1)
		if ls == i-1 && t.toks[ls].kind == pyName && t.modNames[t.toks[ls].text] {
			continue
		}
		t.toks[ls].pre = helper + "(" + t.toks[ls].pre
		for k := i; k <= open; k++ {
			t.setOut(k, "")
			t.toks[k].noGap = true
		}
		if close > open+1 {
			t.setOut(open, ", ")
			if t.f.lineAt(t.toks[open+1].start) != t.f.lineAt(t.toks[open].start) {
				t.setOut(open, ",")
			}
			t.toks[open+1].noGap = true
		}
	}
}

// percentRewrite turns S % x in [a, b), where S is a string literal or a
// name in strNames, into __percent(S, x): Python's printf-style
// formatting, which has widths and precisions Starlark's % lacks. The
// right operand is what ** would take; S % x % y nests.
func (t *pyTr) percentRewrite(a, b int) {
	prevStart, prevEnd := -1, -1
	for i := a; i < b; i = t.skip(i) {
		if !t.isOp(i, "%") || i == a {
			continue
		}
		ls := -1
		switch {
		case i == prevEnd:
			ls = prevStart
		case t.toks[i-1].kind == pyString:
			ls = i - 1
			for ls > a && t.toks[ls-1].kind == pyString {
				ls--
			}
			if strings.Contains(t.toks[ls].str.prefix, "b") || t.isOp(ls-1, ".") {
				continue
			}
		case t.toks[i-1].kind == pyName && t.strNames[t.toks[i-1].text] && !pyKeywords[t.toks[i-1].text]:
			ls = i - 1
			if t.isOp(ls-1, ".") {
				continue
			}
		default:
			continue
		}
		if ls > a && t.bindsTighter(ls-1) {
			continue
		}
		re := t.powerEnd(i+1, b)
		if re < 0 {
			continue
		}
		t.toks[ls].pre = "__percent(" + t.toks[ls].pre
		t.toks[re-1].post += ")"
		t.setOut(i, ",")
		t.toks[i].noGap = true
		if t.toks[i+1].start == t.toks[i].end {
			t.setOut(i, ", ")
		}
		prevStart, prevEnd = ls, re
		i = re - 1
	}
}

// bindsTighter reports whether the token before an operand of % (at i)
// takes that operand first: a multiplicative operator (left-associative,
// as % is), **, or a unary operator.
func (t *pyTr) bindsTighter(i int) bool {
	switch {
	case t.isOp(i, "*", "/", "//", "%", "@", "**", "~"):
		return true
	case t.isOp(i, "-", "+"):
		return !t.isOperandEnd(i - 1)
	}
	return false
}

// boundNames are the names a simple statement NAME = "literal" binds
// (one such statement anywhere in the file is enough: __percent formats
// only a string and leaves any other left operand to Starlark's %), and
// the names import statements bind.
func (t *pyTr) boundNames() (strs, mods map[string]bool) {
	names, mods := map[string]bool{}, map[string]bool{}
	for k := 0; k+1 < len(t.toks); k++ {
		if t.isName(k, "import") && !t.isName(k-2, "from") {
			for _, r := range t.splitLevel(k+1, t.stmtEnd(k), ",") {
				if t.toks[r[1]-1].kind == pyName {
					mods[t.toks[r[1]-1].text] = true
				}
			}
		}
	}
	for k := 0; k+2 < len(t.toks); k++ {
		if t.toks[k].kind != pyName || pyKeywords[t.toks[k].text] || !t.isOp(k+1, "=") || t.toks[k+2].kind != pyString {
			continue
		}
		if k > 0 {
			switch p := t.toks[k-1]; {
			case p.kind == pyNewline || p.kind == pyIndent || p.kind == pyDedent:
			case p.kind == pyOp && (p.text == ";" || p.text == ":"):
			default:
				continue
			}
		}
		m := k + 2
		for m < len(t.toks) && t.toks[m].kind == pyString {
			m++
		}
		if strings.Contains(t.toks[k+2].str.prefix, "b") {
			continue
		}
		if end := t.toks[m]; end.kind == pyNewline || end.kind == pyEOF || end.kind == pyOp && end.text == ";" {
			names[t.toks[k].text] = true
		}
	}
	return names, mods
}

// stmtEnd is the NEWLINE or ';' that ends the statement token k is in.
func (t *pyTr) stmtEnd(k int) int {
	for k < len(t.toks) && t.toks[k].kind != pyNewline && t.toks[k].kind != pyEOF && !t.isOp(k, ";") {
		k = t.skip(k)
	}
	return k
}

// groupRewrite rewrites the bracket pair open..close: generator
// expressions, sets, dict unpacking, print(file=).
func (t *pyTr) groupRewrite(open, close int) {
	switch t.toks[open].text {
	case "(":
		if t.isName(open-1, "print") && !t.isOp(open-2, ".") {
			for _, r := range t.splitLevel(open+1, close, ",") {
				if t.isName(r[0], "file") && t.isOp(r[0]+1, "=") {
					t.f.unsupported(t.toks[r[0]].start, "print(..., file=...) calls", "print without file=: weir writes print output to its log")
				}
			}
		}
		if t.findLevel(open+1, close, "for") < 0 {
			return
		}
		if t.isOperandEnd(open - 1) {
			if t.findLevel(open+1, close, ",") < 0 {
				t.toks[open].post += "["
				t.toks[close].pre = "]" + t.toks[close].pre
			}
			return
		}
		t.setOut(open, "[")
		t.setOut(close, "]")
	case "{":
		elems := t.splitLevel(open+1, close, ",")
		if len(elems) == 0 {
			return
		}
		unpack := false
		for _, e := range elems {
			if t.isOp(e[0], "**") {
				unpack = true
			}
		}
		if !unpack {
			if t.dictColon(elems[0][0], elems[0][1]) < 0 {
				t.setOut(open, "set([")
				t.setOut(close, "])")
			}
			return
		}
		// The flat form passes the parts as arguments: a mapping for each
		// **m, a key and its value for each k: v, as the spec string (its
		// first argument) says, '*' and 'k' a part. It makes no list and no
		// dict per k: v run, only the result. Starlark calls take at most
		// 255 positional arguments: longer literals use the list form.
		if nargs := 1 + 2*len(elems); nargs <= 255 {
			spec := make([]byte, 0, len(elems))
			colons := make([]int, len(elems))
			for i, e := range elems {
				if t.isOp(e[0], "**") {
					spec = append(spec, '*')
					continue
				}
				c := t.dictColon(e[0], e[1])
				if c < 0 {
					// {**a, b}: not a dict; leave it to the list form.
					spec = nil
					break
				}
				colons[i] = c
				spec = append(spec, 'k')
			}
			if spec != nil {
				sep := " "
				if strings.Contains(t.f.src[t.toks[open].end:t.toks[open+1].start], "\n") {
					sep = "" // the line break follows
				}
				t.setOut(open, "__dict_merge(\""+string(spec)+"\","+sep)
				t.setOut(close, ")")
				for i, e := range elems {
					if spec[i] == '*' {
						t.setOut(e[0], "")
						t.toks[e[0]+1].noGap = true
						continue
					}
					t.setOut(colons[i], ",")
				}
				return
			}
		}
		t.setOut(open, "__dict_merge([")
		t.setOut(close, "])")
		for k := 0; k < len(elems); k++ {
			e := elems[k]
			if t.isOp(e[0], "**") {
				t.setOut(e[0], "")
				t.toks[e[0]+1].noGap = true
				continue
			}
			last := k
			for last+1 < len(elems) && !t.isOp(elems[last+1][0], "**") {
				last++
			}
			t.wrap(e[0], "{", elems[last][1]-1, "}")
			k = last
		}
	}
}

// dictColon is the ':' of a key: value element in [a, b), or -1.
func (t *pyTr) dictColon(a, b int) int { return t.colon(a, b) }

// powRewrite turns a ** b in [a, b) into pow(a, b).
func (t *pyTr) powRewrite(a, b int) {
	for i := a; i < b; i = t.skip(i) {
		if !t.isOp(i, "**") || i == a || !t.isOperandEnd(i-1) {
			continue
		}
		ls := t.primaryStart(a, i-1)
		re := t.powerEnd(i+1, b)
		if re < 0 {
			continue
		}
		t.powRewrite(i+1, re)
		t.toks[ls].pre = "pow(" + t.toks[ls].pre
		t.toks[re-1].post += ")"
		t.setOut(i, ",")
		t.toks[i].noGap = true
		if t.toks[i+1].start == t.toks[i].end {
			t.setOut(i, ", ")
		}
		i = re - 1
	}
}

// primaryStart is the first token of the primary (an atom with its
// attributes, calls and subscripts) that ends at e, not before a.
func (t *pyTr) primaryStart(a, e int) int {
	s := t.groupStart(e)
	for {
		switch {
		case s-2 >= a && t.isOp(s-1, ".") && t.isOperandEnd(s-2):
			s = t.groupStart(s - 2)
		case s-1 >= a && t.isOp(s, "(", "[") && t.isOperandEnd(s-1):
			s = t.groupStart(s - 1)
		case s-1 >= a && t.toks[s].kind == pyString && t.toks[s-1].kind == pyString:
			s--
		default:
			return s
		}
	}
}

// powerEnd is the end (exclusive) of the right operand of ** starting at
// k: unary operators, a primary, and a further ** (right-associative).
func (t *pyTr) powerEnd(k, b int) int {
	for k < b && t.isOp(k, "-", "+", "~") {
		k++
	}
	if k >= b || !(t.isOperandEnd(k) || t.isOpen(k)) || t.isOp(k, ")", "]", "}") {
		return -1
	}
	if t.toks[k].kind == pyString {
		for k+1 < b && t.toks[k+1].kind == pyString {
			k++
		}
	}
	k = t.skip(k)
	for k < b {
		switch {
		case t.isOp(k, ".") && k+1 < b && t.toks[k+1].kind == pyName:
			k += 2
		case t.isOp(k, "(", "[") && t.isOpen(k):
			k = t.skip(k)
		default:
			goto done
		}
	}
done:
	if k < b && t.isOp(k, "**") {
		return t.powerEnd(k+1, b)
	}
	return k
}

var pyBoundaryNames = map[string]bool{
	"and": true, "or": true, "not": true, "if": true, "else": true, "for": true, "lambda": true,
	"return": true, "yield": true, "from": true, "del": true, "raise": true, "assert": true,
	"import": true, "as": true, "while": true, "elif": true, "def": true, "with": true,
	"await": true, "async": true, "global": true, "nonlocal": true, "class": true, "except": true,
}

// cmpWidth is the number of tokens of the comparison operator at i, or 0.
func (t *pyTr) cmpWidth(i int) int {
	tk := &t.toks[i]
	switch tk.kind {
	case pyOp:
		switch tk.text {
		case "<", ">", "==", ">=", "<=", "!=":
			return 1
		}
	case pyName:
		switch tk.text {
		case "in":
			return 1
		case "is":
			if t.isName(i+1, "not") {
				return 2
			}
			return 1
		case "not":
			if t.isName(i+1, "in") {
				return 2
			}
		}
	}
	return 0
}

// compareRewrite turns chained comparisons a < b < c in [a, b) into
// (a < b and b < c).
func (t *pyTr) compareRewrite(a, b int) {
	start := a
	var ops [][2]int
	forIn := false
	flush := func(end int) {
		if len(ops) >= 2 {
			t.chain(start, ops, end)
		}
		ops = nil
	}
	for i := a; i < b; {
		next := t.skip(i)
		tk := &t.toks[i]
		boundary := false
		switch tk.kind {
		case pyOp:
			switch tk.text {
			case ",", ":", "=", ";", "->", ":=":
				boundary = true
			default:
				boundary = len(tk.text) >= 2 && strings.HasSuffix(tk.text, "=") && t.cmpWidth(i) == 0
			}
		case pyName:
			switch {
			case tk.text == "for":
				forIn, boundary = true, true
			case tk.text == "in" && forIn:
				forIn, boundary = false, true
			case tk.text == "not" && t.isName(i+1, "in"):
			default:
				boundary = pyBoundaryNames[tk.text]
			}
		}
		if boundary {
			flush(i)
			start = next
			i = next
			continue
		}
		if w := t.cmpWidth(i); w > 0 {
			ops = append(ops, [2]int{i, i + w})
			i += w
			continue
		}
		i = next
	}
	flush(b)
}

// chain rewrites the comparison chain from start to end with operators
// ops; the middle operands are repeated (and evaluated twice).
func (t *pyTr) chain(start int, ops [][2]int, end int) {
	n := len(ops)
	lo := make([]int, n+1)
	hi := make([]int, n+1)
	lo[0] = start
	for k, op := range ops {
		hi[k] = op[0]
		lo[k+1] = op[1]
	}
	hi[n] = end
	for k := range lo {
		if lo[k] >= hi[k] {
			return
		}
	}
	copies := make([]string, n)
	for k := 1; k < n; k++ {
		o := &pyOut{}
		t.render(o, lo[k], hi[k], t.toks[lo[k]].start, true)
		copies[k] = o.b.String()
	}
	for k := 1; k < n; k++ {
		t.toks[hi[k]-1].post += " and " + copies[k]
	}
	t.wrap(lo[0], "(", hi[n]-1, ")")
}

// ---- statements ----

// pyFunc is the function whose body the statement pass is in.
type pyFunc struct {
	gen     bool
	returns []*pyStmt
}

func (t *pyTr) walk(stmts []*pyStmt, fn *pyFunc) {
	for idx, st := range stmts {
		if st.colon < 0 {
			t.simple(st, fn)
			continue
		}
		tk := t.tok(st.a)
		switch st.kw {
		case "def":
			t.def(st)
			continue
		case "class":
			t.f.unsupported(tk.start, "class definitions", "define functions instead, and keep data in dicts")
			continue
		case "try", "except", "finally":
			if st.kw == "try" {
				t.f.unsupported(tk.start, "try/except statements", "let the error propagate: weir sends the record to the dead-letter topic with the error in its headers")
			}
			continue
		case "with":
			t.f.unsupported(tk.start, "with statements", "weir code has no files or connections to manage: call the code directly")
			continue
		case "async":
			continue // reported by the token pass
		case "else":
			if idx > 0 && (stmts[idx-1].kw == "for" || stmts[idx-1].kw == "while") {
				t.f.unsupported(tk.start, "else clauses on loops", "set a flag before break and test it after the loop")
			}
		}
		t.processSpan(st.a, st.colon)
		t.walk(st.body, fn)
	}
}

func (t *pyTr) simple(st *pyStmt, fn *pyFunc) {
	a, b := st.a, st.b
	tk := t.tok(a)
	if tk.kind != pyName {
		t.processSpan(a, b)
		return
	}
	switch tk.text {
	case "import":
		t.importStmt(st)
	case "from":
		t.fromImport(st)
	case "global", "nonlocal":
		t.f.unsupported(tk.start, "global and nonlocal statements", "return the new value from the function instead, or keep state in a table")
	case "del":
		t.processSpan(a+1, b)
		t.delStmt(st)
	case "raise":
		t.processSpan(a+1, b)
		t.raiseStmt(st)
	case "assert":
		t.processSpan(a+1, b)
		t.assertStmt(st)
	case "yield":
		t.processSpan(a+1, b)
		t.yieldStmt(st, fn)
	case "return":
		t.processSpan(a+1, b)
		if fn != nil {
			fn.returns = append(fn.returns, st)
		}
	default:
		if c := t.dictColon(a, b); c >= 0 {
			t.annotation(st, c)
		}
		t.processSpan(a, b)
		if k := t.findLevel(a, b, "**="); k > a {
			t.powAssign(a, k, b)
		}
	}
}

// powAssign turns x **= y (the operator at k, the statement [a, b)) into
// x = pow(x, y); the target is evaluated twice.
func (t *pyTr) powAssign(a, k, b int) {
	o := &pyOut{}
	t.render(o, a, k, t.toks[a].start, true)
	sep := ","
	if k+1 < b && t.toks[k+1].start == t.toks[k].end {
		sep = ", "
	}
	eq := "= pow("
	if t.toks[k].start == t.toks[k-1].end {
		eq = " " + eq
	}
	t.setOut(k, eq+o.b.String()+sep)
	t.toks[t.lastLive(a, b)].post += ")"
}

// annotation drops the type annotation of x: T = v; x: T alone becomes pass.
func (t *pyTr) annotation(st *pyStmt, colon int) {
	eq := t.findLevel(colon, st.b, "=")
	if eq < 0 {
		t.setOut(st.a, "pass")
		t.dropRange(st.a+1, st.b)
		return
	}
	t.dropRange(colon, eq)
}

func (t *pyTr) importStmt(st *pyStmt) {
	var assigns []string
	k := st.a + 1
	for k < st.b {
		if t.toks[k].kind != pyName {
			t.f.errs = append(t.f.errs, t.f.syntaxErr(t.toks[k].start, "invalid import"))
			return
		}
		name, bind := t.toks[k].text, t.toks[k].text
		k++
		if t.isOp(k, ".") {
			t.f.unsupported(t.toks[st.a].start, "dotted imports", "import the top-level module: weir's modules are json, math, time, datetime, re, random, base64, hashlib, uuid, collections, os")
			return
		}
		if t.isName(k, "as") && k+1 < st.b {
			bind = t.toks[k+1].text
			k += 2
		}
		assigns = append(assigns, fmt.Sprintf("%s = __import(%q)", bind, name))
		if !t.isOp(k, ",") {
			break
		}
		k++
	}
	if k != st.b || len(assigns) == 0 {
		t.f.errs = append(t.f.errs, t.f.syntaxErr(t.toks[st.a].start, "invalid import"))
		return
	}
	t.setOut(st.a, strings.Join(assigns, "; "))
	t.dropRange(st.a+1, st.b)
}

func (t *pyTr) fromImport(st *pyStmt) {
	a, b := st.a, st.b
	bad := func() { t.f.errs = append(t.f.errs, t.f.syntaxErr(t.toks[a].start, "invalid import")) }
	if t.isOp(a+1, ".", "...") || t.isOp(a+2, ".") {
		t.f.unsupported(t.toks[a].start, "relative and dotted imports", "import from the top-level module: weir's modules are json, math, time, datetime, re, random, base64, hashlib, uuid, collections, os")
		return
	}
	if a+2 >= b || t.toks[a+1].kind != pyName || !t.isName(a+2, "import") {
		bad()
		return
	}
	mod := t.toks[a+1].text
	lo, hi := a+3, b
	if t.isOp(lo, "*") {
		t.f.unsupported(t.toks[a].start, "star imports (from m import *)", fmt.Sprintf("import the names you use: from %s import a, b", mod))
		return
	}
	if t.isOpen(lo) && t.toks[lo].text == "(" && t.toks[lo].match == b-1 {
		lo, hi = lo+1, b-1
	}
	var assigns []string
	for _, r := range t.splitLevel(lo, hi, ",") {
		name, bind := t.toks[r[0]], t.toks[r[0]]
		switch {
		case r[1]-r[0] == 1 && name.kind == pyName:
		case r[1]-r[0] == 3 && name.kind == pyName && t.isName(r[0]+1, "as") && t.toks[r[0]+2].kind == pyName:
			bind = t.toks[r[0]+2]
		default:
			bad()
			return
		}
		assigns = append(assigns, fmt.Sprintf("%s = __import_name(%q, %q)", bind.text, mod, name.text))
	}
	if len(assigns) == 0 {
		bad()
		return
	}
	t.setOut(a, strings.Join(assigns, "; "))
	t.dropRange(a+1, b)
}

// delStmt turns del d[k] (and del d[k1], e[k2]) into __del(d, k), which
// fails with Python's KeyError (or IndexError) when there is nothing to
// delete.
func (t *pyTr) delStmt(st *pyStmt) {
	targets := t.splitLevel(st.a+1, st.b, ",")
	if len(targets) == 0 {
		t.f.errs = append(t.f.errs, t.f.syntaxErr(t.toks[st.a].start, "del needs a target"))
		return
	}
	for _, r := range targets {
		close := r[1] - 1
		open := t.groupStart(close)
		if !t.isOp(close, "]") || open <= r[0] || !t.isOperandEnd(open-1) {
			t.f.unsupported(t.toks[r[0]].start, "del statements on names and attributes", "only del d[key] is supported; rebind the name instead")
			continue
		}
		if t.dictColon(open+1, close) >= 0 {
			t.f.unsupported(t.toks[r[0]].start, "del statements on slices", "build the list you want: xs = xs[:i] + xs[j:]")
			continue
		}
		t.toks[r[0]].pre = "__del(" + t.toks[r[0]].pre
		t.toks[open].noGap = true
		t.toks[open+1].noGap = true
		if t.findLevel(open+1, close, ",") >= 0 {
			t.setOut(open, ", (")
			t.setOut(close, "))")
		} else {
			t.setOut(open, ", ")
			t.setOut(close, ")")
		}
	}
	t.setOut(st.a, "")
	t.toks[st.a+1].noGap = true
	for k := st.a + 1; k < st.b; k = t.skip(k) {
		if t.isOp(k, ",") {
			t.setOut(k, ";")
		}
	}
}

// raiseStmt turns raise E("msg") into __raise("E", "msg").
func (t *pyTr) raiseStmt(st *pyStmt) {
	a, b := st.a, st.b
	if b == a+1 {
		t.f.unsupported(t.toks[a].start, "bare raise statements", `raise an exception by name: raise ValueError("message")`)
		return
	}
	if k := t.findLevel(a+1, b, "from"); k >= 0 {
		t.f.unsupported(t.toks[k].start, "raise ... from clauses", `raise the exception without from: raise ValueError("message")`)
		return
	}
	k := a + 1
	for k < b && t.toks[k].kind == pyName && !pyKeywords[t.toks[k].text] {
		k++
		if !t.isOp(k, ".") {
			break
		}
		k++
	}
	nameEnd := k
	call := k < b && t.isOp(k, "(") && t.toks[k].match == b-1
	if nameEnd == a+1 || t.isOp(nameEnd-1, ".") || !(k == b || call) {
		t.f.unsupported(t.toks[a+1].start, "raise statements without an exception name", `raise an exception by name: raise ValueError("message")`)
		return
	}
	t.setOut(a, "__raise(")
	t.setOut(a+1, strconv.Quote(t.toks[nameEnd-1].text))
	t.toks[a+1].noGap = true
	for j := a + 2; j < nameEnd; j++ {
		t.setOut(j, "")
		t.toks[j].noGap = true
	}
	if !call {
		t.toks[nameEnd-1].post += ")"
		return
	}
	t.toks[k].noGap = true
	if t.toks[k].match == k+1 {
		t.setOut(k, "")
	} else {
		t.setOut(k, ", ")
		t.toks[k+1].noGap = true
	}
}

// assertStmt turns assert c, msg into (c) or __raise("AssertionError", msg).
func (t *pyTr) assertStmt(st *pyStmt) {
	a, b := st.a, st.b
	if b == a+1 {
		t.f.errs = append(t.f.errs, t.f.syntaxErr(t.toks[a].start, "assert needs a condition"))
		return
	}
	t.setOut(a, "(")
	t.toks[a+1].noGap = true
	if c := t.findLevel(a+1, b, ","); c >= 0 && c+1 < b {
		t.setOut(c, `) or __raise("AssertionError",`)
		t.toks[c].noGap = true
		t.toks[b-1].post += ")"
		return
	}
	t.toks[b-1].post += `) or __raise("AssertionError")`
}

func (t *pyTr) yieldStmt(st *pyStmt, fn *pyFunc) {
	a, b := st.a, st.b
	t.toks[a].ok = true
	if fn == nil {
		t.f.errs = append(t.f.errs, t.f.syntaxErr(t.toks[a].start, "'yield' outside function"))
		return
	}
	fn.gen = true
	switch {
	case b == a+1:
		t.setOut(a, "__out.append(None)")
	case t.isName(a+1, "from"):
		t.setOut(a, "__out.extend(")
		t.setOut(a+1, "")
		t.toks[a+1].noGap = true
		if a+2 < b {
			t.toks[a+2].noGap = true
		}
		t.toks[b-1].post += ")"
	default:
		t.setOut(a, "__out.append(")
		t.toks[a+1].noGap = true
		if t.findLevel(a+1, b, ",") >= 0 {
			t.wrap(a+1, "(", b-1, "))")
		} else {
			t.toks[b-1].post += ")"
		}
	}
}

// checkYields reports the yields no statement rewrite took (yield used as
// an expression).
func (t *pyTr) checkYields() {
	for i := range t.toks {
		if t.isName(i, "yield") && !t.toks[i].ok {
			t.f.unsupported(t.toks[i].start, "yield expressions", "use yield as a statement of its own: yield value")
		}
	}
}

// def handles a function definition: annotations, defaults, its body, and
// the generator rewrite when its own body yields.
func (t *pyTr) def(st *pyStmt) {
	a, colon := st.a, st.colon
	if open := a + 2; t.isOp(open, "(") && t.isOpen(open) {
		close := t.toks[open].match
		for _, r := range t.splitLevel(open+1, close, ",") {
			c, eq := t.findLevel(r[0], r[1], ":"), t.findLevel(r[0], r[1], "=")
			if c >= 0 && (eq < 0 || c < eq) {
				if eq < 0 {
					eq = r[1]
				}
				t.dropRange(c, eq)
			}
		}
		if t.isOp(close+1, "->") {
			t.dropRange(close+1, colon)
		}
	}
	t.processSpan(a, colon)
	fn := &pyFunc{}
	t.walk(st.body, fn)
	if fn.gen {
		t.generator(st, fn)
	}
}

const (
	pyGenInit = "__out = []"
	pyGenDone = "return fanout(__out)"
)

// generator collects what the function yields into __out and returns
// fanout(__out) wherever it returns.
func (t *pyTr) generator(st *pyStmt, fn *pyFunc) {
	for _, r := range fn.returns {
		t.toks[r.a].post += " fanout(__out)"
		t.dropRange(r.a+1, r.b)
	}
	body := st.body
	first, last := body[0], body[len(body)-1]
	endsInReturn := last.colon < 0 && t.isName(last.a, "return", "raise")
	if st.inline || first.colon < 0 {
		t.toks[first.a].pre = pyGenInit + "; " + t.toks[first.a].pre
	} else {
		t.toks[st.nl].post += t.indentOf(first.a) + pyGenInit + "\n"
	}
	switch {
	case endsInReturn:
	case st.inline || last.colon < 0:
		t.toks[t.lastLive(last.a, last.b)].post += "; " + pyGenDone
	default:
		nl := st.end - 1
		for nl > 0 && t.toks[nl].kind != pyNewline {
			nl--
		}
		line := t.indentOf(first.a) + pyGenDone + "\n"
		if t.toks[nl].text == "" {
			line = "\n" + strings.TrimSuffix(line, "\n")
		}
		t.toks[nl].post += line
	}
}

// lastLive is the last token in [a, b) that is not dropped.
func (t *pyTr) lastLive(a, b int) int {
	k := b - 1
	for k > a && t.toks[k].drop {
		k--
	}
	return k
}

// indentOf is the whitespace before token i on its line.
func (t *pyTr) indentOf(i int) string {
	l := t.f.lineAt(t.toks[i].start)
	return t.f.src[t.f.lineStarts[l-1]:t.toks[i].start]
}

// ---- output ----

// pyOut collects the output and the source line of each output line.
type pyOut struct {
	b     strings.Builder
	lines []int
	cur   int // source line of the current output line, 0 if none yet
}

// emit writes s, whose first character comes from source line line; if
// advance, each line break in s moves to the next source line (s is
// source text), else all of s maps to line.
func (o *pyOut) emit(s string, line int, advance bool) {
	for s != "" {
		if o.cur == 0 {
			o.cur = line
		}
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			o.b.WriteString(s)
			return
		}
		o.b.WriteString(s[:i+1])
		o.lines = append(o.lines, o.cur)
		o.cur = 0
		if advance {
			line++
		}
		s = s[i+1:]
	}
}

func (o *pyOut) finish() (string, []int, error) {
	if o.cur != 0 {
		o.lines = append(o.lines, o.cur)
	}
	return o.b.String(), o.lines, nil
}

// render prints tokens [from, to) with the source text between them from
// gapStart on. compact (for a repeated operand) puts the tokens on one
// line without comments.
func (t *pyTr) render(o *pyOut, from, to, gapStart int, compact bool) {
	src := t.f.src
	prev := gapStart
	for i := from; i < to; i++ {
		tk := &t.toks[i]
		if tk.kind == pyIndent || tk.kind == pyDedent {
			continue
		}
		gap := ""
		if prev <= tk.start {
			gap = src[prev:tk.start]
		}
		switch {
		case compact && (i == from || tk.drop):
			gap = ""
		case compact && strings.ContainsAny(gap, "\n#\\"):
			gap = " "
		case tk.drop:
			gap = strings.Repeat("\n", strings.Count(gap, "\n"))
		case tk.noGap && strings.Trim(gap, " \t") == "":
			gap = ""
		}
		o.emit(gap, t.f.lineAt(prev), true)
		prev = tk.end
		if tk.kind == pyEOF {
			break
		}
		if tk.drop {
			continue
		}
		line := t.f.lineAt(tk.start)
		o.emit(tk.pre, line, false)
		text := tk.text
		if tk.repl {
			text = tk.out
		}
		o.emit(text, line, strings.Count(text, "\n") == strings.Count(tk.text, "\n"))
		o.emit(tk.post, t.f.lineAt(max(tk.start, tk.end-1)), false)
	}
}
