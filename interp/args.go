package interp

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.starlark.net/syntax"

	"github.com/weirstream/weir/spec"
)

// findDef returns the top-level def of name, or nil.
func findDef(file *syntax.File, name string) *syntax.DefStmt {
	for _, stmt := range file.Stmts {
		if d, ok := stmt.(*syntax.DefStmt); ok && d.Name.Name == name {
			return d
		}
	}
	return nil
}

// Accepts reports whether the entry point takes a keyword argument of that
// name (or **kwargs). A web view passes its path parameters only to a
// function that takes them: Kaspr's functions read request.params instead.
func (f *Func) Accepts(name string) bool {
	if f.def == nil {
		return f.goFn == nil
	}
	for _, p := range f.def.Params {
		switch p := p.(type) {
		case *syntax.Ident:
			if p.Name == name {
				return true
			}
		case *syntax.BinaryExpr:
			if id, ok := p.X.(*syntax.Ident); ok && id.Name == name {
				return true
			}
		case *syntax.UnaryExpr:
			if p.Op == syntax.STARSTAR {
				return true
			}
		}
	}
	return false
}

// CheckArgs checks, before any call, that the entry point accepts what weir
// will pass: positional values (the value of a map or filter, the request of
// a web view; none for a task's first operation) and keyword arguments (the
// tables, by paramName). optional names are passed only to a function that
// takes them (a web view's path parameters). what describes the arguments
// for the message, such as "the value and the table counts". A block whose
// entry point is not a plain def (a lambda, a go block) is checked at call
// time only.
func (f *Func) CheckArgs(positional int, keywords, optional []string, what string) error {
	d := f.def
	if d == nil {
		return nil
	}
	var names []string // parameters that can take a positional argument
	var required []string
	hasArgs, hasKwargs := false, false
	params := map[string]bool{}
	starSeen := false
	for _, p := range d.Params {
		switch p := p.(type) {
		case *syntax.Ident:
			params[p.Name] = true
			if !starSeen {
				names = append(names, p.Name)
			}
			required = append(required, p.Name)
		case *syntax.BinaryExpr: // name=default
			if id, ok := p.X.(*syntax.Ident); ok {
				params[id.Name] = true
				if !starSeen {
					names = append(names, id.Name)
				}
			}
		case *syntax.UnaryExpr:
			switch {
			case p.Op == syntax.STAR && p.X != nil:
				hasArgs, starSeen = true, true
			case p.Op == syntax.STAR:
				starSeen = true
			case p.Op == syntax.STARSTAR:
				hasKwargs = true
			}
		}
	}
	sig := f.signature()
	if positional > len(names) && !hasArgs {
		return f.defError(fmt.Sprintf("%s cannot take %s: weir passes %s", sig, plural(positional, "argument"), what))
	}
	filled := map[string]bool{}
	for i := 0; i < positional && i < len(names); i++ {
		filled[names[i]] = true
	}
	for _, k := range keywords {
		if filled[k] {
			return f.defError(fmt.Sprintf("%s takes %s as a positional argument, which weir fills with the value; weir also passes %s by that name: rename the parameter", sig, k, k))
		}
		if !params[k] && !hasKwargs {
			return f.defError(fmt.Sprintf("%s has no parameter %s: weir passes %s (add %s, or **kwargs)", sig, k, what, k))
		}
		filled[k] = true
	}
	for _, k := range optional {
		filled[k] = true
	}
	for _, r := range required {
		if !filled[r] {
			return f.defError(fmt.Sprintf("%s needs %s, which weir does not pass: weir passes %s (give %s a default, or remove it)", sig, r, what, r))
		}
	}
	return nil
}

func (f *Func) signature() string {
	var b strings.Builder
	b.WriteString(f.def.Name.Name + "(")
	for i, p := range f.def.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(paramText(p))
	}
	b.WriteString(")")
	return b.String()
}

func paramText(p syntax.Expr) string {
	switch p := p.(type) {
	case *syntax.Ident:
		return p.Name
	case *syntax.BinaryExpr:
		if id, ok := p.X.(*syntax.Ident); ok {
			return id.Name + "=..."
		}
	case *syntax.UnaryExpr:
		if p.X == nil {
			return "*"
		}
		if id, ok := p.X.(*syntax.Ident); ok {
			return p.Op.String() + id.Name
		}
	}
	return "?"
}

func (f *Func) defError(msg string) error {
	return f.errAtPos(f.def.Def, msg)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

var operationPath = regexp.MustCompile(`^spec\.processors\.operations\[(\d+)\]\.(map|filter)$`)

// checkRoles checks every block of a resource against what weir passes to
// it, by the block's place in the resource.
func checkRoles(r spec.Resource, p *Program) spec.Errors {
	var errs spec.Errors
	for path, f := range p.funcs {
		positional, keywords, optional, what := roleArgs(r, path)
		if positional < 0 {
			continue
		}
		if err := f.CheckArgs(positional, keywords, optional, what); err != nil {
			errs = append(errs, asSpecErrors(err)...)
		}
	}
	return errs
}

// roleArgs says what weir passes to the block at path: the number of
// positional arguments (-1: not known here), the keyword names, the names
// passed only when taken, and a description.
func roleArgs(r spec.Resource, path string) (int, []string, []string, string) {
	m := operationPath.FindStringSubmatch(path)
	if m == nil {
		switch {
		case strings.HasSuffix(path, ".defaultSelector"):
			return 0, nil, nil, "no arguments"
		case strings.HasSuffix(path, ".init"):
			return -1, nil, nil, ""
		}
		return 1, nil, nil, "one argument, the value"
	}
	var procs *spec.Processors
	switch x := r.(type) {
	case *spec.KasprAgent:
		procs = x.Spec.Processors
	case *spec.KasprTask:
		procs = x.Spec.Processors
	case *spec.KasprWebView:
		procs = x.Spec.Processors
	}
	i, _ := strconv.Atoi(m[1])
	if procs == nil || i >= len(procs.Operations) {
		return -1, nil, nil, ""
	}
	op := procs.Operations[i]
	first := len(procs.Pipeline) > 0 && procs.Pipeline[0] == op.Name
	var keywords []string
	for _, t := range op.Tables {
		keywords = append(keywords, t.ParamName)
	}
	positional, what := 1, "the value"
	var optional []string
	switch x := r.(type) {
	case *spec.KasprTask:
		if first {
			positional, what = 0, "no value (the first operation of a task)"
		}
	case *spec.KasprWebView:
		if first {
			what = "the request"
			optional = x.Spec.Request.PathParams()
		}
	}
	if len(op.Tables) > 0 {
		names := make([]string, len(op.Tables))
		for i, t := range op.Tables {
			names[i] = t.ParamName
		}
		word := " and the table "
		if len(names) > 1 {
			word = " and the tables "
		}
		what += word + strings.Join(names, ", ") + " by name"
	}
	return positional, keywords, optional, what
}
