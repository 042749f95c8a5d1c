package interp

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/weirstream/weir/spec"
)

// Options bound and label every call of a program's code.
type Options struct {
	// App is the app's name, context.app.name.
	App string
	// MaxSteps is the Starlark step budget of one call.
	MaxSteps uint64
	// Timeout is the wall-clock budget of one call.
	Timeout time.Duration
	// Print receives what print() writes; nil drops it.
	Print func(pos spec.Pos, msg string)
}

// The budgets when an app sets none (the schema's defaults).
const (
	DefaultMaxSteps = 1_000_000
	DefaultTimeout  = time.Second
)

// OptionsFor returns the options an app's config sets.
func OptionsFor(app *spec.KasprApp) Options {
	cfg := &app.Spec.Config
	return Options{App: app.Name(), MaxSteps: uint64(cfg.CodeMaxSteps), Timeout: cfg.CodeTimeout.Value()}
}

func (o *Options) fill() {
	if o.MaxSteps == 0 {
		o.MaxSteps = DefaultMaxSteps
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
}

// fileOptions are the Starlark dialect weir runs: while loops, sets,
// recursion, top-level if/for and reassigned globals, as Python allows.
var fileOptions = &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}

// Program is the compiled code of one resource: its init block, run once
// at compile, and a Func for every other code block.
type Program struct {
	opts    Options
	globals starlark.StringDict // frozen globals of the init block
	funcs   map[string]*Func    // by field path
	blocks  map[string]*Func    // by Starlark file name, for backtraces
}

// Func is one compiled code block: call it with Call.
type Func struct {
	prog  *Program
	path  string
	code  *spec.Code
	entry string
	name  string // the Starlark file name of the block

	star  *starlark.Program
	lines []int           // Starlark line -> block line, for python blocks (nil: the same)
	exact []bool          // Starlark line is the block line unchanged, so columns hold
	def   *syntax.DefStmt // the entry point's definition, when it is a def
	fast  *fastFunc       // the entry point as Go closures, when simple enough (see fast.go)
	goFn  goBlock
}

var blockIDs atomic.Int64

var identifierRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Compile compiles every code block of a resource once: it runs the init
// block and checks that each block defines its entry point. Errors are
// spec.Errors with the YAML file, line and column of the offending line.
func Compile(r spec.Resource, opts Options) (*Program, error) {
	opts.fill()
	p := &Program{opts: opts, funcs: map[string]*Func{}, blocks: map[string]*Func{}}
	var errs spec.Errors
	blocks := spec.CodeBlocks(r)
	for _, cb := range blocks {
		if strings.HasSuffix(cb.Path, ".init") {
			f, err := p.compile(cb, nil, true)
			if err == nil {
				p.globals, err = f.runInit()
			}
			if err != nil {
				errs = append(errs, asSpecErrors(err)...)
				return nil, errs
			}
		}
	}
	for _, cb := range blocks {
		if strings.HasSuffix(cb.Path, ".init") {
			continue
		}
		f, err := p.compile(cb, p.globals, false)
		if err != nil {
			errs = append(errs, asSpecErrors(err)...)
			continue
		}
		p.funcs[cb.Path] = f
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if errs := checkRoles(r, p); len(errs) > 0 {
		return nil, errs.Sorted()
	}
	return p, nil
}

// CheckBundle compiles the code of every resource of a bundle and returns
// every error, as `weir validate` reports them.
func CheckBundle(b *spec.Bundle) error {
	var errs spec.Errors
	for _, app := range b.Apps {
		opts := OptionsFor(app.App)
		for _, r := range app.Resources() {
			if _, err := Compile(r, opts); err != nil {
				errs = append(errs, asSpecErrors(err)...)
			}
		}
	}
	if len(errs) > 0 {
		return errs.Sorted()
	}
	return nil
}

func asSpecErrors(err error) spec.Errors {
	var es spec.Errors
	if errors.As(err, &es) {
		return es
	}
	var e *Error
	if errors.As(err, &e) {
		return spec.Errors{&spec.Error{Pos: e.Pos, Path: e.Path, Message: e.Message}}
	}
	return spec.Errors{&spec.Error{Message: err.Error()}}
}

// Func returns the compiled block at a field path such as
// "spec.processors.operations[0].map", or nil.
func (p *Program) Func(path string) *Func { return p.funcs[path] }

// Path is the block's field path.
func (f *Func) Path() string { return f.path }

// Entry is the name of the function the block calls.
func (f *Func) Entry() string { return f.entry }

// Pos is where the block's source begins in its manifest.
func (f *Func) Pos() spec.Pos { return f.code.Pos }

func (p *Program) compile(cb spec.CodeBlock, globals starlark.StringDict, isInit bool) (*Func, error) {
	f := &Func{
		prog: p,
		path: cb.Path,
		code: cb.Code,
		name: fmt.Sprintf("weir-block-%d", blockIDs.Add(1)),
	}
	p.blocks[f.name] = f
	if cb.Code.Language() == spec.LangGo {
		f.entry = cb.Code.Entrypoint
		g, err := compileGo(f)
		if err != nil {
			return nil, err
		}
		f.goFn = g
		return f, nil
	}
	src := cb.Code.Source()
	if cb.Code.Language() == spec.LangPython {
		out, lines, err := translatePython(src)
		if err != nil {
			var ce *CompatError
			if errors.As(err, &ce) {
				msg, _ := strings.CutPrefix(ce.Error(), fmt.Sprintf("line %d: ", ce.Line))
				return nil, f.errAt(ce.Line, ce.Column, msg)
			}
			return nil, f.errAt(1, 0, err.Error())
		}
		f.lines = lines
		f.exact = sameLines(src, out, lines)
		src = out
	}
	file, err := fileOptions.Parse(f.name, src, 0)
	if err != nil {
		var se syntax.Error
		if errors.As(err, &se) {
			return nil, f.errAtPos(se.Pos, "syntax error: "+se.Msg)
		}
		return nil, f.errAt(1, 0, err.Error())
	}
	predeclared := p.predeclared(globals, nil)
	prog, err := starlark.FileProgram(file, predeclared.Has)
	if err != nil {
		var el resolve.ErrorList
		if errors.As(err, &el) && len(el) > 0 {
			var errs spec.Errors
			for _, e := range el {
				errs = append(errs, asSpecErrors(f.errAtPos(e.Pos, resolveMessage(e.Msg)))...)
			}
			return nil, errs
		}
		return nil, f.errAt(1, 0, err.Error())
	}
	f.star = prog
	entry, err := f.entryPoint(file)
	if err != nil {
		return nil, err
	}
	f.entry = entry
	f.def = findDef(file, entry)
	if !isInit {
		f.fast = compileFast(file, f.def, predeclared)
	}
	// Run the top level once now, so that its errors are load errors.
	if !isInit {
		if _, err := f.instantiate(newThread(p.opts)); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// entryPoint finds the function the block calls: the entrypoint field, or
// the first function the block defines.
func (f *Func) entryPoint(file *syntax.File) (string, error) {
	if strings.HasSuffix(f.path, ".init") && f.code.Entrypoint == "" {
		return "", nil // init runs its top level; it needs no function
	}
	var first string
	defined := map[string]bool{}
	for _, stmt := range file.Stmts {
		switch s := stmt.(type) {
		case *syntax.DefStmt:
			if first == "" {
				first = s.Name.Name
			}
			defined[s.Name.Name] = true
		case *syntax.AssignStmt:
			if id, ok := s.LHS.(*syntax.Ident); ok {
				defined[id.Name] = true
			}
		}
	}
	if e := f.code.Entrypoint; e != "" {
		if !defined[e] {
			hint := ""
			if first != "" {
				hint = fmt.Sprintf(" (it defines %q)", first)
			}
			return "", f.errAt(1, 0, fmt.Sprintf("entrypoint %q is not defined in the block%s", e, hint))
		}
		return e, nil
	}
	if first == "" {
		return "", f.errAt(1, 0, "the block defines no function to call: define one with def, or name it with entrypoint")
	}
	return first, nil
}

// predeclared is what every block sees besides Starlark's builtins.
func (p *Program) predeclared(globals starlark.StringDict, ctx *contextValue) starlark.StringDict {
	d := starlark.StringDict{}
	for k, v := range compatBuiltins(importModule) {
		d[k] = v
	}
	d["fanout"] = fanoutBuiltin
	d["range"] = p.rangeBuiltin()
	if ctx == nil {
		ctx = &contextValue{app: &appValue{name: p.opts.App}}
	}
	d["context"] = ctx
	for k, v := range globals {
		d[k] = v
	}
	return d
}

// rangeBuiltin is Starlark's range, refusing ranges longer than the step
// budget: builtins walk them without counting steps (list(range(10**12))).
func (p *Program) rangeBuiltin() *starlark.Builtin {
	universal := starlark.Universe["range"].(*starlark.Builtin)
	limit := p.opts.MaxSteps
	return starlark.NewBuiltin("range", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (Value, error) {
		r, err := starlark.Call(th, universal, args, kwargs)
		if err != nil {
			return nil, err
		}
		if n := starlark.Len(r); n < 0 || uint64(n) > limit {
			return nil, fmt.Errorf("range of more than %d items: longer than a call may take (codeMaxSteps)", limit)
		}
		return r, nil
	})
}

func resolveMessage(msg string) string {
	if name, ok := strings.CutPrefix(msg, "undefined: "); ok {
		return fmt.Sprintf("undefined: %s (not a builtin, an imported name, a global of init, or defined before use)", name)
	}
	return msg
}

// runInit runs an init block's top level on its own thread and returns its
// frozen globals. An init block that names an entrypoint has it called once,
// with no arguments, after its top level; a dict it returns adds its
// entries to the globals.
func (f *Func) runInit() (starlark.StringDict, error) {
	t := newThread(f.prog.opts)
	globals, err := f.run(t, func() (starlark.StringDict, error) {
		globals, err := f.star.Init(t.th, f.prog.predeclared(nil, t.ctx))
		if err != nil || f.entry == "" {
			return globals, err
		}
		fn, ok := globals[f.entry].(starlark.Callable)
		if !ok {
			return nil, fmt.Errorf("entrypoint %q is a %s, not a function", f.entry, globals[f.entry].Type())
		}
		out, err := starlark.Call(t.th, fn, nil, nil)
		if err != nil {
			return nil, err
		}
		if d, ok := out.(*starlark.Dict); ok {
			for k, v := range d.Entries() {
				name, ok := k.(starlark.String)
				if !ok || !identifierRE.MatchString(string(name)) {
					return nil, fmt.Errorf("init's %s returned a dict with key %s, which cannot name a global", f.entry, k)
				}
				globals[string(name)] = v
			}
		}
		return globals, nil
	})
	if err != nil {
		return nil, err
	}
	globals.Freeze()
	return globals, nil
}

// Thread runs calls: one per goroutine (each worker has its own). A Thread
// is not safe for concurrent use.
type Thread struct {
	th        *starlark.Thread
	ctx       *contextValue
	opts      Options
	instances map[*Func]starlark.Callable
	deadline  time.Time
	stepLimit uint64
	timedOut  bool
	lastTick  syntax.Position // where the innermost call stood at the last budget check
	current   *Program        // the program running, for print()'s position
	depth     int             // calls in progress: a table's default runs inside an operation

	fastLocals []starlark.Value // the locals of a fastFunc call
	noFast     bool             // run every call in Starlark (tests compare the two ways)
}

// NewThread returns a thread for calls of programs compiled with opts.
func NewThread(opts Options) *Thread {
	opts.fill()
	return newThread(opts)
}

// checkSteps is how many steps run between two looks at the clock.
const checkSteps = 10_000

func newThread(opts Options) *Thread {
	t := &Thread{
		ctx:       &contextValue{app: &appValue{name: opts.App}},
		opts:      opts,
		instances: map[*Func]starlark.Callable{},
	}
	t.th = &starlark.Thread{
		Name: "weir",
		Print: func(th *starlark.Thread, msg string) {
			if opts.Print != nil {
				opts.Print(t.callerPos(th), msg)
			}
		},
		OnMaxSteps: t.onMaxSteps,
	}
	return t
}

// onMaxSteps enforces both budgets: it runs every checkSteps steps.
func (t *Thread) onMaxSteps(th *starlark.Thread) {
	switch {
	case th.ExecutionSteps() >= t.stepLimit:
		th.Cancel(fmt.Sprintf("the call took more than %d steps (codeMaxSteps)", t.opts.MaxSteps))
	case time.Now().After(t.deadline):
		t.timedOut = true
		th.Cancel(fmt.Sprintf("the call ran longer than %s (codeTimeout)", t.opts.Timeout))
	default:
		t.lastTick = th.CallFrame(0).Pos
		th.SetMaxExecutionSteps(min(t.stepLimit, th.ExecutionSteps()+checkSteps))
	}
}

// run runs fn within the thread's budgets.
func (f *Func) run(t *Thread, fn func() (starlark.StringDict, error)) (starlark.StringDict, error) {
	t.current = f.prog
	t.begin()
	out, err := fn()
	t.end()
	if err != nil {
		return nil, f.callError(err, t.lastTick)
	}
	return out, nil
}

func (t *Thread) begin() {
	t.lastTick = syntax.Position{}
	t.deadline = time.Now().Add(t.opts.Timeout)
	t.stepLimit = t.th.ExecutionSteps() + t.opts.MaxSteps
	t.th.SetMaxExecutionSteps(min(t.stepLimit, t.th.ExecutionSteps()+checkSteps))
}

func (t *Thread) end() {
	t.th.Uncancel()
	t.timedOut = false
}

// instantiate runs the block's top level for this thread (once) and returns
// its entry point.
func (f *Func) instantiate(t *Thread) (starlark.Callable, error) {
	if fn, ok := t.instances[f]; ok {
		return fn, nil
	}
	globals, err := f.run(t, func() (starlark.StringDict, error) {
		return f.star.Init(t.th, f.prog.predeclared(f.prog.globals, t.ctx))
	})
	if err != nil {
		return nil, err
	}
	fn, ok := globals[f.entry].(starlark.Callable)
	if !ok {
		return nil, f.errAt(1, 0, fmt.Sprintf("entrypoint %q is a %s, not a function", f.entry, globals[f.entry].Type()))
	}
	t.instances[f] = fn
	return fn, nil
}

// Call calls the block's function with args and keyword args (tables, and
// path parameters in web views) while ev is context.event (nil: none). It
// never runs longer than the budgets; an error is an *Error that names the
// YAML line of the failing code line.
func (f *Func) Call(t *Thread, ev *Event, args starlark.Tuple, kwargs []starlark.Tuple) (Value, error) {
	if f.goFn != nil {
		return f.goFn.call(t, ev, args, kwargs)
	}
	if f.fast != nil && len(args) == 1 && len(kwargs) == 0 && !t.noFast {
		if v, ok := f.fast.call(t, args[0]); ok {
			return v, nil
		}
	}
	fn, err := f.instantiate(t)
	if err != nil {
		return nil, err
	}
	if t.depth > 0 {
		// A call made from code that is running (a table's default for
		// t[k]): it shares the running call's event and budgets.
		prev := t.current
		t.current = f.prog
		t.depth++
		v, err := starlark.Call(t.th, fn, args, kwargs)
		t.depth--
		t.current = prev
		return v, err
	}
	t.ctx.event.ev = ev
	t.current = f.prog
	t.depth++
	t.begin()
	v, err := starlark.Call(t.th, fn, args, kwargs)
	t.end()
	t.depth--
	t.ctx.event.ev = nil
	if err != nil {
		return nil, f.callError(err, t.lastTick)
	}
	return v, nil
}

// goBlock is a compiled go code block (see golang.go).
type goBlock interface {
	call(t *Thread, ev *Event, args starlark.Tuple, kwargs []starlark.Tuple) (Value, error)
}
