package interp

// Go code blocks run on the yaegi interpreter. The user-facing reference is
// the comment at the top of golang_api.go.
//
// Concurrency: a yaegi function value can be called from many goroutines at
// once (a plain function passes -race), but a block's package variables
// would then be shared and racy, and the only way to stop a runaway call,
// which stops every call running in that interpreter, would stop the calls
// of other workers too. So each Thread gets its own interpreter, compiled
// lazily on its first call (a few milliseconds) and kept on the goFunc in a
// map keyed by a weak pointer to the Thread, so a Thread that is dropped
// takes its interpreter with it. The interpreter compiled at load (to report
// errors) serves the first Thread.
//
// Bounds: yaegi counts no steps and cannot be pre-empted, so each call runs
// on its own goroutine and the caller waits up to the Thread's timeout. At
// the deadline the call fails, its tables refuse further use, and the
// interpreter is stopped (yaegi's ExecuteWithContext cancellation, which
// ends every interpreted loop at its next step) and dropped; the Thread's
// next call compiles a new one. A call stuck in a library function
// (time.Sleep) cannot be stopped: its goroutine is abandoned and keeps
// running until that function returns.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"io/fs"
	"maps"
	"path"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"weak"

	yaegi "github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
	"go.starlark.net/starlark"

	"github.com/weirstream/weir/spec"
)

// goAllowed are the standard packages a go block may import, besides weir.
var goAllowed = []string{
	"bytes", "cmp", "crypto/md5", "crypto/sha256", "encoding/base64", "encoding/hex",
	"encoding/json", "errors", "fmt", "hash/fnv", "maps", "math", "math/big", "regexp",
	"slices", "sort", "strconv", "strings", "time", "unicode", "unicode/utf8",
}

// goGeneric are the packages yaegi compiles from source, which it does
// only when fmt is loaded too.
var goGeneric = []string{"cmp", "maps", "slices"}

// goShapes is what an entry point may look like, for messages.
const goShapes = "func(value any) any, func(value any) (any, error), " +
	"func(ctx *weir.Context, value any) any, func(ctx *weir.Context, value any) (any, error), " +
	"and with no value (tasks) func() any, func() (any, error), func(ctx *weir.Context) any, func(ctx *weir.Context) (any, error)"

// goStopWait is how long a timed-out call is given to end once its
// interpreter is stopped.
const goStopWait = 100 * time.Millisecond

// goFunc is a compiled go block.
type goFunc struct {
	f        *Func
	symbols  yaegi.Exports // the packages the block imports
	entryPos spec.Pos
	funcPos  map[string]spec.Pos // top-level funcs (and methods as T.M) by name
	value    bool                // the entry point takes a value
	ctx      bool                // the entry point takes a *weir.Context
	generic  bool                // the block imports cmp, maps or slices

	mu       sync.Mutex
	spare    *goInstance // compiled at load, for the first Thread
	byThread map[weak.Pointer[Thread]]*goInstance
}

// goInstance is one interpreter of a block, used by one Thread.
type goInstance struct {
	yi      *yaegi.Interpreter
	stopper *yaegi.Program // blocks until the interpreter is stopped
	fn      any            // the entry point, one of the shapes
	out     *goPrinter
	trace   *goTrace
	timer   *time.Timer
	done    chan goResult
}

type goResult struct {
	out      any
	err      error
	panicked bool
	panicVal any
}

func compileGo(f *Func) (goBlock, error) {
	src := f.code.Go
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, f.name+".go", src, parser.DeclarationErrors|parser.SkipObjectResolution)
	if err != nil {
		var el scanner.ErrorList
		if errors.As(err, &el) && len(el) > 0 {
			return nil, f.errAt(el[0].Pos.Line, el[0].Pos.Column, "syntax error: "+el[0].Msg)
		}
		return nil, f.errAt(1, 0, "syntax error: "+err.Error())
	}
	g := &goFunc{f: f, byThread: map[weak.Pointer[Thread]]*goInstance{}}
	if err := g.check(fset, file); err != nil {
		return nil, err
	}
	decl, err := g.entryDecl(fset, file)
	if err != nil {
		return nil, err
	}
	at := fset.Position(decl.Pos())
	g.entryPos = f.yamlPos(at.Line, at.Column)
	g.funcPos = map[string]spec.Pos{}
	for _, d := range file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			name := fd.Name.Name
			if fd.Recv != nil && len(fd.Recv.List) == 1 {
				name = receiverName(fd.Recv.List[0].Type) + "." + name
			}
			p := fset.Position(fd.Pos())
			g.funcPos[name] = f.yamlPos(p.Line, p.Column)
		}
	}
	if pos, msg := goUnsupportedRange(fset, file); msg != "" {
		return nil, f.errAt(pos.Line, pos.Column, msg)
	}
	inst, err := g.build(f.prog.opts)
	if err != nil {
		return nil, err
	}
	switch inst.fn.(type) {
	case func(any) any, func(any) (any, error), func(*GoContext, any) any, func(*GoContext, any) (any, error):
		g.value = true
	}
	switch inst.fn.(type) {
	case func(*GoContext, any) any, func(*GoContext, any) (any, error), func(*GoContext) any, func(*GoContext) (any, error):
		g.ctx = true
	case func(any) any, func(any) (any, error), func() any, func() (any, error):
	default:
		start, end := fset.Position(decl.Type.Params.Pos()).Offset, fset.Position(decl.Type.End()).Offset
		sig := "func" + src[start:end]
		return nil, f.errAt(at.Line, at.Column, fmt.Sprintf("entrypoint %s is %s: it must have one of these shapes: %s", decl.Name.Name, sig, goShapes))
	}
	g.spare = inst
	return g, nil
}

// check enforces package main, the allowed imports, no go statements and
// no func main.
func (g *goFunc) check(fset *token.FileSet, file *ast.File) error {
	f := g.f
	var errs spec.Errors
	add := func(pos token.Pos, msg string) {
		p := fset.Position(pos)
		errs = append(errs, asSpecErrors(f.errAt(p.Line, p.Column, msg))...)
	}
	if file.Name.Name != "main" {
		add(file.Name.Pos(), fmt.Sprintf("a go block must be package main, not package %s", file.Name.Name))
	}
	g.symbols = yaegi.Exports{".": stdlib.Symbols["."]}
	for k, v := range goExports {
		g.symbols[k] = v
	}
	for _, imp := range file.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil || p == "weir" {
			continue
		}
		if !slices.Contains(goAllowed, p) {
			add(imp.Path.Pos(), fmt.Sprintf("package %q is not available to go code blocks (allowed: weir, %s)", p, strings.Join(goAllowed, ", ")))
			continue
		}
		g.addPackage(p)
		if slices.Contains(goGeneric, p) {
			g.addPackage("fmt")
			g.generic = true
		}
	}
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			add(n.Pos(), "go statements are not allowed in go code blocks: a call must finish within codeTimeout")
		case *ast.FuncDecl:
			if n.Recv == nil && n.Name.Name == "main" {
				add(n.Pos(), "a go block has no func main: weir calls its entrypoint (use func init for setup)")
			}
		}
		return true
	})
	if pos, msg := goRecursion(file); msg != "" {
		add(pos, msg)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// goRecursion finds a top-level function that calls itself, directly or
// through others. Compiled Go cannot bound its stack: deep recursion would
// end the whole process, so a go block may not recurse.
func goRecursion(file *ast.File) (token.Pos, string) {
	decls := map[string]*ast.FuncDecl{}
	for _, d := range file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Body != nil {
			decls[fd.Name.Name] = fd
		}
	}
	calls := map[string][]string{}
	for name, fd := range decls {
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if id, ok := c.Fun.(*ast.Ident); ok && decls[id.Name] != nil {
					calls[name] = append(calls[name], id.Name)
				}
			}
			return true
		})
	}
	names := make([]string, 0, len(decls))
	for name := range decls {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, start := range names {
		// Look for a path of calls from start back to start.
		seen := map[string]bool{}
		var path []string
		var walk func(fn string) bool
		walk = func(fn string) bool {
			for _, callee := range calls[fn] {
				if callee == start {
					path = append(path, fn)
					return true
				}
				if !seen[callee] {
					seen[callee] = true
					if walk(callee) {
						path = append(path, fn)
						return true
					}
				}
			}
			return false
		}
		if walk(start) {
			slices.Reverse(path)
			chain := strings.Join(append(path, start), " calls ")
			return decls[start].Pos(), fmt.Sprintf("recursion (%s) is not allowed in go code blocks: the depth of a Go call cannot be bounded, and a stack overflow would end the process; use a loop, or a python block", chain)
		}
	}
	return token.NoPos, ""
}

func (g *goFunc) addPackage(p string) {
	key := p + "/" + path.Base(p)
	syms, ok := stdlib.Symbols[key]
	if !ok {
		return
	}
	if p == "time" {
		// AfterFunc would run block code on a goroutine of its own, after
		// the call and outside its bounds.
		syms = maps.Clone(syms)
		delete(syms, "AfterFunc")
	}
	g.symbols[key] = syms
}

// entryDecl finds the entry point's declaration.
func (g *goFunc) entryDecl(fset *token.FileSet, file *ast.File) (*ast.FuncDecl, error) {
	f := g.f
	var funcs []string
	for _, d := range file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name != "init" {
			funcs = append(funcs, fd.Name.Name)
		}
	}
	if f.entry == "" {
		hint := ""
		if len(funcs) > 0 {
			hint = fmt.Sprintf(" (it defines %s)", strings.Join(funcs, ", "))
		}
		return nil, f.errAt(1, 0, "a go block needs an entrypoint: the name of the func to call"+hint+"; it must have one of these shapes: "+goShapes)
	}
	for _, d := range file.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Name.Name != f.entry {
				continue
			}
			p := fset.Position(d.Pos())
			if d.Recv != nil {
				return nil, f.errAt(p.Line, p.Column, fmt.Sprintf("entrypoint %s is a method: it must be a top-level func", f.entry))
			}
			if d.Type.TypeParams != nil {
				return nil, f.errAt(p.Line, p.Column, fmt.Sprintf("entrypoint %s has type parameters: it must be one of these shapes: %s", f.entry, goShapes))
			}
			return d, nil
		case *ast.GenDecl:
			for _, s := range d.Specs {
				var names []*ast.Ident
				switch s := s.(type) {
				case *ast.ValueSpec:
					names = s.Names
				case *ast.TypeSpec:
					names = []*ast.Ident{s.Name}
				}
				for _, n := range names {
					if n.Name == f.entry {
						p := fset.Position(n.Pos())
						return nil, f.errAt(p.Line, p.Column, fmt.Sprintf("entrypoint %s must be a top-level func, not a %s", f.entry, d.Tok))
					}
				}
			}
		}
	}
	hint := ""
	if len(funcs) > 0 {
		hint = fmt.Sprintf(" (it defines %s)", strings.Join(funcs, ", "))
	}
	return nil, f.errAt(1, 0, fmt.Sprintf("entrypoint %q is not defined in the block%s", f.entry, hint))
}

func receiverName(x ast.Expr) string {
	switch t := x.(type) {
	case *ast.StarExpr:
		return receiverName(t.X)
	case *ast.Ident:
		return t.Name
	case *ast.IndexExpr:
		return receiverName(t.X)
	case *ast.IndexListExpr:
		return receiverName(t.X)
	}
	return ""
}

// fixBoolReturns works around a yaegi bug: `return a > b` (or `return !x`)
// from a func whose result is an interface panics at run time ("call of
// reflect.Value.SetBool on interface Value"), while `return bool(a > b)`
// works. It wraps such results in bool(...).
func fixBoolReturns(file *ast.File) {
	var results []*ast.FieldList // of the enclosing funcs, innermost last
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Body != nil {
				results = append(results, n.Type.Results)
				ast.Inspect(n.Body, visit)
				results = results[:len(results)-1]
			}
			return false
		case *ast.FuncLit:
			results = append(results, n.Type.Results)
			ast.Inspect(n.Body, visit)
			results = results[:len(results)-1]
			return false
		case *ast.ReturnStmt:
			if len(results) == 0 {
				return true
			}
			types := resultTypes(results[len(results)-1])
			if len(types) != len(n.Results) {
				return true
			}
			for i, r := range n.Results {
				if isInterfaceExpr(types[i]) && isBoolExpr(r) {
					n.Results[i] = &ast.CallExpr{Fun: &ast.Ident{NamePos: r.Pos(), Name: "bool"}, Lparen: r.Pos(), Args: []ast.Expr{r}, Rparen: r.End()}
				}
			}
		}
		return true
	}
	ast.Inspect(file, visit)
}

func resultTypes(fl *ast.FieldList) []ast.Expr {
	if fl == nil {
		return nil
	}
	var out []ast.Expr
	for _, f := range fl.List {
		n := max(len(f.Names), 1)
		for range n {
			out = append(out, f.Type)
		}
	}
	return out
}

func isInterfaceExpr(x ast.Expr) bool {
	switch t := x.(type) {
	case *ast.Ident:
		return t.Name == "any"
	case *ast.InterfaceType:
		return true
	}
	return false
}

func isBoolExpr(x ast.Expr) bool {
	switch e := x.(type) {
	case *ast.ParenExpr:
		return isBoolExpr(e.X)
	case *ast.UnaryExpr:
		return e.Op == token.NOT
	case *ast.BinaryExpr:
		switch e.Op {
		case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
			return true
		}
	}
	return false
}

// goUnsupportedRange finds a range over an int or a func, which yaegi
// v0.16.1 does not support (it panics while compiling). The block is type
// checked without its imports: only what it declares itself is typed.
func goUnsupportedRange(fset *token.FileSet, file *ast.File) (token.Position, string) {
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{Importer: noImporter{}, Error: func(error) {}}
	_, _ = conf.Check("main", fset, []*ast.File{file}, info)
	var pos token.Position
	var msg string
	ast.Inspect(file, func(n ast.Node) bool {
		rs, ok := n.(*ast.RangeStmt)
		if !ok || msg != "" {
			return msg == ""
		}
		tv, ok := info.Types[rs.X]
		if !ok || tv.Type == nil {
			return true
		}
		switch u := tv.Type.Underlying().(type) {
		case *types.Basic:
			if u.Info()&types.IsInteger != 0 {
				pos, msg = fset.Position(rs.Pos()), "range over an int is not supported by the Go interpreter (yaegi): write for i := 0; i < n; i++"
			}
		case *types.Signature:
			pos, msg = fset.Position(rs.Pos()), "range over a function is not supported by the Go interpreter (yaegi): call the function with a callback instead"
		}
		return msg == ""
	})
	return pos, msg
}

type noImporter struct{}

func (noImporter) Import(p string) (*types.Package, error) {
	return nil, fmt.Errorf("not type checked: %s", p)
}

// noFS is the interpreter's source file system: empty, so that no import
// can load code from disk.
type noFS struct{}

func (noFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// build compiles a new interpreter of the block and runs its package
// initialization within the timeout.
func (g *goFunc) build(opts Options) (inst *goInstance, err error) {
	f := g.f
	defer func() {
		if r := recover(); r != nil {
			inst, err = nil, g.compilePanic(r)
		}
	}()
	inst = &goInstance{
		out:   &goPrinter{print: opts.Print, pos: f.code.Pos},
		trace: &goTrace{},
		done:  make(chan goResult, 1),
	}
	inst.yi = yaegi.New(yaegi.Options{
		Stdin:                strings.NewReader(""),
		Stdout:               inst.out,
		Stderr:               inst.trace,
		Args:                 []string{},
		SourcecodeFilesystem: noFS{},
	})
	if err := inst.yi.Use(g.symbols); err != nil {
		return nil, f.errAt(1, 0, "go interpreter: "+err.Error())
	}
	file, err := parser.ParseFile(inst.yi.FileSet(), f.name+".go", f.code.Go, parser.DeclarationErrors)
	if err != nil {
		return nil, g.yaegiError(err)
	}
	fixBoolReturns(file)
	prog, err := inst.yi.CompileAST(file)
	if err != nil {
		return nil, g.yaegiError(err)
	}
	// Compiled before the block runs, so that stopping changes no memory
	// a running call reads.
	if inst.stopper, err = inst.yi.Compile("<-make(chan struct{})"); err != nil {
		return nil, f.errAt(1, 0, "go interpreter: "+err.Error())
	}
	inst.timer = time.NewTimer(time.Hour)
	inst.timer.Stop()
	type executed struct {
		fn  reflect.Value
		err error
	}
	ran := make(chan executed, 1)
	go func() {
		var x executed
		defer func() {
			if r := recover(); r != nil {
				x.err = yaegi.Panic{Value: r}
			}
			ran <- x
		}()
		if _, x.err = inst.yi.Execute(prog); x.err == nil {
			x.fn, x.err = inst.yi.Eval("main." + f.entry)
		}
	}()
	inst.timer.Reset(opts.Timeout)
	select {
	case x := <-ran:
		inst.timer.Stop()
		if x.err != nil {
			var p yaegi.Panic
			if errors.As(x.err, &p) {
				return nil, g.panicError(inst, p.Value, "package initialization panicked: ")
			}
			return nil, g.yaegiError(x.err)
		}
		inst.fn = x.fn.Interface()
		return inst, nil
	case <-inst.timer.C:
		stopped := stop(inst, ran)
		msg := fmt.Sprintf("package initialization (func init, package variables) ran longer than %s (codeTimeout)", opts.Timeout)
		if !stopped {
			msg += "; it cannot be stopped and keeps running in the background"
		}
		return nil, f.errAt(1, 0, msg)
	}
}

// stop stops every call running in the interpreter and reports whether
// the one that reports on ended reports within goStopWait.
func stop[T any](inst *goInstance, ended <-chan T) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = inst.yi.ExecuteWithContext(ctx, inst.stopper)
	t := time.NewTimer(goStopWait)
	defer t.Stop()
	select {
	case <-ended:
		return true
	case <-t.C:
		return false
	}
}

// yaegiError maps the position in a yaegi error ("weir-block-7.go:3:9:
// undefined: y") to the YAML file.
func (g *goFunc) yaegiError(err error) error {
	msg := err.Error()
	var el scanner.ErrorList
	if errors.As(err, &el) && len(el) > 0 {
		return g.f.errAt(el[0].Pos.Line, el[0].Pos.Column, el[0].Msg)
	}
	if line, col, rest, ok := g.cutPos(msg); ok {
		return g.f.errAt(line, col, rest)
	}
	if g.generic && genericPos.MatchString(msg) {
		return g.f.errAt(1, 0, "the Go interpreter (yaegi) cannot instantiate a generic function of cmp, maps or slices that this block calls ("+msg+"): it supports few of them (slices.Contains, ContainsFunc, Index, IndexFunc, cmp.Compare, cmp.Less, maps.DeleteFunc); use sort and loops")
	}
	return g.f.errAt(1, 0, msg)
}

// genericPos is the position of an error in the source of yaegi's
// generic packages, which has no file name.
var genericPos = regexp.MustCompile(`^\d+:\d+: `)

// cutPos finds "<file>:line:col: " of the block in s.
func (g *goFunc) cutPos(s string) (line, col int, rest string, ok bool) {
	prefix := g.f.name + ".go:"
	i := strings.Index(s, prefix)
	if i < 0 {
		return 0, 0, s, false
	}
	parts := strings.SplitN(s[i+len(prefix):], ":", 3)
	if len(parts) < 3 {
		return 0, 0, s, false
	}
	line, err1 := strconv.Atoi(parts[0])
	col, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return 0, 0, s, false
	}
	return line, col, strings.TrimSpace(parts[2]), true
}

// compilePanic reports yaegi panicking while compiling the block.
func (g *goFunc) compilePanic(r any) error {
	msg := fmt.Sprint(r)
	if line, col, rest, ok := g.cutPos(msg); ok {
		return g.f.errAt(line, col, "the Go interpreter (yaegi) cannot compile this: "+rest)
	}
	return g.f.errAt(1, 0, "the Go interpreter (yaegi) cannot compile this block ("+msg+"); it does not support range over an int or a function, among others")
}

// panicError reports a panic in the block. yaegi's panic trace names the
// functions the panic unwound but not the lines (it gives the first
// statement of each function), so the frames point at the functions'
// declarations; a panic message that carries a position (a failed type
// assertion) gives the line.
func (g *goFunc) panicError(inst *goInstance, v any, prefix string) error {
	var msg string
	if ge, ok := v.(*GoError); ok {
		msg = ge.Message
	} else {
		msg = fmt.Sprint(v)
	}
	e := &Error{Pos: g.entryPos, Path: g.f.path}
	lines := strings.Split(inst.trace.String(), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		line, col, rest, ok := g.cutPos(lines[i])
		if !ok {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(rest, "panic: "), "(...)")
		name = strings.TrimPrefix(name, "main.")
		pos, known := g.funcPos[name]
		if !known {
			pos = g.f.yamlPos(line, col)
		}
		e.Frames = append(e.Frames, Frame{Func: name, Pos: pos})
	}
	if n := len(e.Frames); n > 0 {
		e.Pos = e.Frames[n-1].Pos
	}
	if line, col, rest, ok := g.cutPos(msg); ok {
		e.Pos, msg = g.f.yamlPos(line, col), rest
		if n := len(e.Frames); n > 0 {
			e.Frames[n-1].Pos = e.Pos
		}
	}
	if _, ok := v.(*GoError); ok {
		e.Message = msg
	} else {
		e.Message = prefix + "panic: " + msg
	}
	if n := len(e.Frames); n > 0 && !strings.Contains(e.Message, "\n") {
		e.Message += " (in func " + e.Frames[n-1].Func + ")"
	}
	return e
}

// instance returns the Thread's interpreter, compiling one on its first
// call.
func (g *goFunc) instance(t *Thread) (*goInstance, error) {
	key := weak.Make(t)
	g.mu.Lock()
	inst, known := g.byThread[key]
	if inst == nil && g.spare != nil {
		inst, g.spare = g.spare, nil
		g.byThread[key] = inst
	}
	g.mu.Unlock()
	if inst == nil {
		var err error
		if inst, err = g.build(t.opts); err != nil {
			return nil, err
		}
		g.mu.Lock()
		g.byThread[key] = inst
		g.mu.Unlock()
	}
	if !known {
		runtime.AddCleanup(t, g.forget, key)
	}
	return inst, nil
}

func (g *goFunc) forget(key weak.Pointer[Thread]) {
	g.mu.Lock()
	delete(g.byThread, key)
	g.mu.Unlock()
}

// drop discards the Thread's interpreter after a timeout.
func (g *goFunc) drop(t *Thread) {
	g.mu.Lock()
	g.byThread[weak.Make(t)] = nil
	g.mu.Unlock()
}

func (g *goFunc) call(t *Thread, ev *Event, args starlark.Tuple, kwargs []starlark.Tuple) (Value, error) {
	f := g.f
	if len(args) > 1 || len(args) == 1 && !g.value {
		want := "a value"
		if !g.value {
			want = "no value"
		}
		return nil, &Error{Pos: g.entryPos, Path: f.path, Message: fmt.Sprintf("entrypoint %s takes %s but was called with %d", f.entry, want, len(args))}
	}
	inst, err := g.instance(t)
	if err != nil {
		return nil, err
	}
	cs := &callState{}
	var value any
	if len(args) == 1 {
		if value, err = toGo(args[0], 0, cs); err != nil {
			return nil, &Error{Pos: g.entryPos, Path: f.path, Message: err.Error()}
		}
	}
	var ctx *GoContext
	if g.ctx {
		if ctx, err = g.context(t, ev, args, value, kwargs, cs); err != nil {
			return nil, &Error{Pos: g.entryPos, Path: f.path, Message: err.Error()}
		}
	}

	inst.trace.reset()
	go func() { inst.done <- inst.invoke(value, ctx) }()
	inst.timer.Reset(t.opts.Timeout)
	var r goResult
	select {
	case r = <-inst.done:
		inst.timer.Stop()
		inst.out.flush()
	case <-inst.timer.C:
		cs.expired.Store(true)
		g.drop(t)
		msg := fmt.Sprintf("the go call ran longer than %s (codeTimeout) and was stopped", t.opts.Timeout)
		if !stop(inst, inst.done) {
			msg = fmt.Sprintf("the go call ran longer than %s (codeTimeout); it cannot be stopped and keeps running in the background", t.opts.Timeout)
		}
		return nil, &Error{Pos: f.code.Pos, Path: f.path, Message: msg}
	}
	switch {
	case r.panicked:
		return nil, g.panicError(inst, r.panicVal, "")
	case r.err != nil:
		return nil, &Error{Pos: g.entryPos, Path: f.path, Message: r.err.Error()}
	}
	out, err := FromGo(r.out)
	if err != nil {
		return nil, &Error{Pos: g.entryPos, Path: f.path, Message: fmt.Sprintf("entrypoint %s returned a value weir cannot use: %v", f.entry, err)}
	}
	return out, nil
}

// invoke calls the entry point.
func (inst *goInstance) invoke(value any, ctx *GoContext) (r goResult) {
	defer func() {
		if p := recover(); p != nil {
			r = goResult{panicked: true, panicVal: p}
		}
	}()
	switch fn := inst.fn.(type) {
	case func(any) any:
		r.out = fn(value)
	case func(any) (any, error):
		r.out, r.err = fn(value)
	case func(*GoContext, any) any:
		r.out = fn(ctx, value)
	case func(*GoContext, any) (any, error):
		r.out, r.err = fn(ctx, value)
	case func() any:
		r.out = fn()
	case func() (any, error):
		r.out, r.err = fn()
	case func(*GoContext) any:
		r.out = fn(ctx)
	case func(*GoContext) (any, error):
		r.out, r.err = fn(ctx)
	}
	return r
}

// context builds weir.Context: the event, the tables among the keyword
// arguments and the other keyword arguments as Params.
func (g *goFunc) context(t *Thread, ev *Event, args starlark.Tuple, value any, kwargs []starlark.Tuple, cs *callState) (*GoContext, error) {
	ctx := &GoContext{App: t.opts.App}
	if ev != nil {
		e := &GoEvent{Topic: ev.Topic, Partition: ev.Partition, Offset: ev.Offset, Timestamp: ev.Timestamp}
		var err error
		if len(args) == 1 && sameObject(ev.Value, args[0]) {
			e.Value = value
		} else if e.Value, err = toGo(ev.Value, 0, cs); err != nil {
			return nil, fmt.Errorf("event value: %v", err)
		}
		if e.Key, err = toGo(ev.Key, 0, cs); err != nil {
			return nil, fmt.Errorf("event key: %v", err)
		}
		if len(ev.Headers) > 0 {
			e.Headers = make(map[string][]byte, len(ev.Headers))
			for _, h := range ev.Headers {
				e.Headers[h.Key] = bytes.Clone(h.Value)
			}
		}
		ctx.Event = e
	}
	for _, kv := range kwargs {
		name, _ := starlark.AsString(kv[0])
		if tv, ok := kv[1].(*TableValue); ok {
			if ctx.Tables == nil {
				ctx.Tables = map[string]GoTable{}
			}
			ctx.Tables[name] = &goTable{tv: tv, call: cs}
			continue
		}
		v, err := toGo(kv[1], 0, cs)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %v", name, err)
		}
		if ctx.Params == nil {
			ctx.Params = map[string]any{}
		}
		ctx.Params[name] = v
	}
	return ctx, nil
}

// sameObject reports whether a and b are the same dict or list, so that
// the event's value is converted once when it is also the argument.
func sameObject(a, b Value) bool {
	switch x := a.(type) {
	case *starlark.Dict:
		y, ok := b.(*starlark.Dict)
		return ok && x == y
	case *starlark.List:
		y, ok := b.(*starlark.List)
		return ok && x == y
	}
	return false
}

// goPrinter passes what the block prints (fmt.Print, println) to
// Options.Print, a line at a time.
type goPrinter struct {
	mu    sync.Mutex
	print func(pos spec.Pos, msg string)
	pos   spec.Pos
	buf   []byte
}

func (p *goPrinter) Write(b []byte) (int, error) {
	if p.print == nil {
		return len(b), nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		p.print(p.pos, string(p.buf[:i]))
		p.buf = p.buf[i+1:]
	}
	if len(p.buf) > 4096 { // a long line without a newline
		p.print(p.pos, string(p.buf))
		p.buf = p.buf[:0]
	}
	return len(b), nil
}

// flush passes on a last line without a newline.
func (p *goPrinter) flush() {
	if p.print == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		p.print(p.pos, string(p.buf))
		p.buf = p.buf[:0]
	}
}

// goTrace keeps what yaegi writes to stderr: the lines it prints while a
// panic unwinds ("weir-block-7.go:3:6: panic: main.g(...)"), innermost
// first.
type goTrace struct {
	mu  sync.Mutex
	buf []byte
}

const goTraceMax = 16 << 10

func (w *goTrace) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := goTraceMax - len(w.buf); room > 0 {
		w.buf = append(w.buf, b[:min(len(b), room)]...)
	}
	return len(b), nil
}

func (w *goTrace) reset() {
	w.mu.Lock()
	w.buf = w.buf[:0]
	w.mu.Unlock()
}

func (w *goTrace) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
