package interp

import (
	"math/big"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Blocks such as an output's predicate or key selector are often a single
// expression over the value: return order["status"] == "ok". A Starlark
// call of one costs more than the expression (a frame, its stack, the
// interpreter loop, and for each builtin call a copy of its arguments and
// a bound method), and the engine makes a few such calls per record. So a
// block whose function is simple enough is also compiled into a fastFunc,
// a tree of Go closures, which Call tries first.
//
// A fastFunc only ever answers with what the Starlark function would
// return. It takes one positional argument; its body is assignments of
// names and a return, of expressions made of the argument, those names,
// literals, constants among the init block's globals, None, True and
// False, subscripts and get of dicts, ==, !=, <, <=, >, >=, in, not in,
// arithmetic, not, and, or, conditional expressions, and calls of
// isinstance, str and len. Wherever the value at hand is not what the
// fast way handles (a subscript of a list, a missing key, an operation
// that fails), it gives up and Call runs the Starlark function, which
// then also makes the error: the expressions have no effects, so nothing
// is done twice. It counts no steps (its work is bounded by its size) and
// never reads context.

// fastFunc is a block's function compiled into Go closures.
type fastFunc struct {
	nlocals int          // the argument and the assigned names
	assigns []fastAssign // in order
	result  fastExpr
}

type fastAssign struct {
	slot int
	expr fastExpr
}

// fastExpr evaluates an expression over the frame's locals; false: give up.
type fastExpr func(locals []starlark.Value) (starlark.Value, bool)

// call evaluates the function for the argument v; false: run Starlark.
func (ff *fastFunc) call(t *Thread, v starlark.Value) (starlark.Value, bool) {
	// The locals are a stack on the thread, should an operation on a
	// value (a comparison of some module's type) ever call back into code.
	base := len(t.fastLocals)
	t.fastLocals = append(t.fastLocals, make([]starlark.Value, ff.nlocals)...)
	locals := t.fastLocals[base : base+ff.nlocals : base+ff.nlocals]
	locals[0] = v
	out, ok := ff.eval(locals)
	clear(locals) // keep no values alive
	t.fastLocals = t.fastLocals[:base]
	return out, ok
}

func (ff *fastFunc) eval(locals []starlark.Value) (starlark.Value, bool) {
	for _, a := range ff.assigns {
		v, ok := a.expr(locals)
		if !ok {
			return nil, false
		}
		locals[a.slot] = v
	}
	return ff.result(locals)
}

// isinstanceBuiltin is the isinstance every block sees (the fast way knows
// it by identity).
var isinstanceBuiltin = starlark.NewBuiltin("isinstance", pyIsInstance)

// compileFast returns the fast form of the block's entry point def, or nil
// when its function is not simple enough. predeclared is what the block's
// code sees besides Starlark's universe.
func compileFast(file *syntax.File, def *syntax.DefStmt, predeclared starlark.StringDict) *fastFunc {
	if def == nil || len(def.Params) != 1 {
		return nil
	}
	param, ok := def.Params[0].(*syntax.Ident)
	if !ok {
		return nil
	}
	// The file holds functions only (and a docstring): its top level
	// does nothing that a thread's first call would have to run.
	top := map[string]bool{}
	for _, s := range file.Stmts {
		switch s := s.(type) {
		case *syntax.DefStmt:
			top[s.Name.Name] = true
		case *syntax.ExprStmt:
			if !isStringLiteral(s.X) {
				return nil
			}
		default:
			return nil
		}
	}
	c := &fastCompiler{top: top, predeclared: predeclared, slots: map[string]int{param.Name: 0}, bound: map[string]bool{param.Name: true}}
	// Every name the body binds is local throughout the body: one bound
	// by anything but a plain assignment, or assigned twice, is beyond
	// the fast way.
	for _, s := range def.Body {
		if a, ok := s.(*syntax.AssignStmt); ok {
			id, ok := a.LHS.(*syntax.Ident)
			if !ok || a.Op != syntax.EQ || c.bound[id.Name] {
				return nil
			}
			c.bound[id.Name] = true
		}
	}
	ff := &fastFunc{}
	for i, s := range def.Body {
		switch s := s.(type) {
		case *syntax.AssignStmt:
			e := c.expr(s.RHS)
			if e == nil {
				return nil
			}
			name := s.LHS.(*syntax.Ident).Name
			slot := len(c.slots)
			c.slots[name] = slot
			ff.assigns = append(ff.assigns, fastAssign{slot, e})
		case *syntax.ExprStmt:
			if i > 0 || !isStringLiteral(s.X) { // a docstring only
				return nil
			}
		case *syntax.ReturnStmt:
			if i != len(def.Body)-1 {
				return nil
			}
			if s.Result == nil {
				ff.result = constExpr(starlark.None)
			} else if ff.result = c.expr(s.Result); ff.result == nil {
				return nil
			}
		default:
			return nil
		}
	}
	if ff.result == nil {
		return nil // no return at the end
	}
	ff.nlocals = len(c.slots)
	return ff
}

func isStringLiteral(e syntax.Expr) bool {
	l, ok := e.(*syntax.Literal)
	return ok && l.Token == syntax.STRING
}

type fastCompiler struct {
	top         map[string]bool // names the file binds at its top level
	predeclared starlark.StringDict
	slots       map[string]int  // locals assigned so far (and the argument)
	bound       map[string]bool // names the body binds
}

func constExpr(v starlark.Value) fastExpr {
	return func([]starlark.Value) (starlark.Value, bool) { return v, true }
}

// global is the value a name that the function does not bind refers to,
// as Starlark resolves it: the file's top level (nil: beyond the fast
// way), the predeclared names, the universe.
func (c *fastCompiler) global(name string) starlark.Value {
	if c.top[name] {
		return nil
	}
	if v, ok := c.predeclared[name]; ok {
		return v
	}
	return starlark.Universe[name]
}

// constant is the value of an expression that is the same at every call,
// or nil.
func (c *fastCompiler) constant(e syntax.Expr) starlark.Value {
	switch e := e.(type) {
	case *syntax.Literal:
		switch v := e.Value.(type) {
		case string:
			if e.Token == syntax.BYTES {
				return starlark.Bytes(v)
			}
			return starlark.String(v)
		case int64:
			return starlark.MakeInt64(v)
		case *big.Int:
			return starlark.MakeBigInt(v)
		case float64:
			return starlark.Float(v)
		}
	case *syntax.Ident:
		if c.bound[e.Name] {
			return nil
		}
		switch v := c.global(e.Name).(type) {
		case starlark.NoneType, starlark.Bool, starlark.String, starlark.Int, starlark.Float, starlark.Bytes:
			return v
		case *starlark.Builtin:
			// Types, for isinstance: builtins are immutable.
			return v
		}
	case *syntax.ParenExpr:
		return c.constant(e.X)
	case *syntax.TupleExpr:
		t := make(starlark.Tuple, len(e.List))
		for i, x := range e.List {
			if t[i] = c.constant(x); t[i] == nil {
				return nil
			}
		}
		return t
	}
	return nil
}

// expr compiles an expression, or returns nil.
func (c *fastCompiler) expr(e syntax.Expr) fastExpr {
	if v := c.constant(e); v != nil {
		if _, ok := v.(*starlark.Builtin); ok {
			return nil // a function as a value: not for the fast way
		}
		return constExpr(v)
	}
	switch e := e.(type) {
	case *syntax.Ident:
		slot, ok := c.slots[e.Name]
		if !ok {
			return nil // a global that is no constant, or a local not yet assigned
		}
		return func(l []starlark.Value) (starlark.Value, bool) { return l[slot], true }
	case *syntax.ParenExpr:
		return c.expr(e.X)
	case *syntax.IndexExpr:
		x, y := c.expr(e.X), c.expr(e.Y)
		if x == nil || y == nil {
			return nil
		}
		return func(l []starlark.Value) (starlark.Value, bool) {
			xv, ok := x(l)
			if !ok {
				return nil, false
			}
			d, ok := xv.(*starlark.Dict)
			if !ok {
				return nil, false
			}
			k, ok := y(l)
			if !ok {
				return nil, false
			}
			v, found, err := d.Get(k)
			return v, found && err == nil
		}
	case *syntax.UnaryExpr:
		x := c.expr(e.X)
		if x == nil {
			return nil
		}
		switch e.Op {
		case syntax.NOT:
			return func(l []starlark.Value) (starlark.Value, bool) {
				v, ok := x(l)
				if !ok {
					return nil, false
				}
				return !v.Truth(), true
			}
		case syntax.MINUS, syntax.PLUS, syntax.TILDE:
			op := e.Op
			return func(l []starlark.Value) (starlark.Value, bool) {
				v, ok := x(l)
				if !ok {
					return nil, false
				}
				z, err := starlark.Unary(op, v)
				return z, err == nil
			}
		}
	case *syntax.BinaryExpr:
		return c.binary(e)
	case *syntax.CondExpr:
		cond, t, f := c.expr(e.Cond), c.expr(e.True), c.expr(e.False)
		if cond == nil || t == nil || f == nil {
			return nil
		}
		return func(l []starlark.Value) (starlark.Value, bool) {
			v, ok := cond(l)
			if !ok {
				return nil, false
			}
			if v.Truth() {
				return t(l)
			}
			return f(l)
		}
	case *syntax.CallExpr:
		return c.call(e)
	}
	return nil
}

func (c *fastCompiler) binary(e *syntax.BinaryExpr) fastExpr {
	x, y := c.expr(e.X), c.expr(e.Y)
	if x == nil || y == nil {
		return nil
	}
	op := e.Op
	switch op {
	case syntax.AND, syntax.OR:
		and := op == syntax.AND
		return func(l []starlark.Value) (starlark.Value, bool) {
			v, ok := x(l)
			if !ok {
				return nil, false
			}
			if bool(v.Truth()) != and {
				return v, true // false and ..., true or ...
			}
			return y(l)
		}
	case syntax.EQL, syntax.NEQ, syntax.LT, syntax.LE, syntax.GT, syntax.GE:
		return func(l []starlark.Value) (starlark.Value, bool) {
			xv, ok := x(l)
			if !ok {
				return nil, false
			}
			yv, ok := y(l)
			if !ok {
				return nil, false
			}
			b, err := starlark.Compare(op, xv, yv)
			return starlark.Bool(b), err == nil
		}
	case syntax.NOT_IN:
		return func(l []starlark.Value) (starlark.Value, bool) {
			xv, ok := x(l)
			if !ok {
				return nil, false
			}
			yv, ok := y(l)
			if !ok {
				return nil, false
			}
			z, err := starlark.Binary(syntax.IN, xv, yv)
			if err != nil {
				return nil, false
			}
			return !z.Truth(), true
		}
	case syntax.IN, syntax.PLUS, syntax.MINUS, syntax.STAR, syntax.SLASH, syntax.SLASHSLASH,
		syntax.PERCENT, syntax.AMP, syntax.PIPE, syntax.CIRCUMFLEX, syntax.LTLT, syntax.GTGT:
		return func(l []starlark.Value) (starlark.Value, bool) {
			xv, ok := x(l)
			if !ok {
				return nil, false
			}
			yv, ok := y(l)
			if !ok {
				return nil, false
			}
			z, err := starlark.Binary(op, xv, yv)
			return z, err == nil
		}
	}
	return nil
}

// call compiles x.get(k[, default]), isinstance(x, types), str(x) and
// len(x); other calls are beyond the fast way.
func (c *fastCompiler) call(e *syntax.CallExpr) fastExpr {
	args := make([]fastExpr, len(e.Args))
	for i, a := range e.Args {
		switch a := a.(type) {
		case *syntax.BinaryExpr:
			if a.Op == syntax.EQ {
				return nil // a keyword argument
			}
		case *syntax.UnaryExpr:
			if a.Op == syntax.STAR || a.Op == syntax.STARSTAR {
				return nil
			}
		}
		if i == 1 {
			// isinstance's types are constants (a builtin or a tuple of
			// them), which expr does not take.
			if t := c.constant(a); t != nil {
				args[i] = func([]starlark.Value) (starlark.Value, bool) { return t, true }
				continue
			}
		}
		if args[i] = c.expr(a); args[i] == nil {
			return nil
		}
	}
	if dot, ok := e.Fn.(*syntax.DotExpr); ok {
		if dot.Name.Name != "get" || len(args) < 1 || len(args) > 2 {
			return nil
		}
		recv := c.expr(dot.X)
		if recv == nil {
			return nil
		}
		return func(l []starlark.Value) (starlark.Value, bool) {
			rv, ok := recv(l)
			if !ok {
				return nil, false
			}
			d, ok := rv.(*starlark.Dict)
			if !ok {
				return nil, false
			}
			k, ok := args[0](l)
			if !ok {
				return nil, false
			}
			v, found, err := d.Get(k)
			if err != nil {
				return nil, false
			}
			if found {
				return v, true
			}
			if len(args) == 2 {
				return args[1](l)
			}
			return starlark.None, true
		}
	}
	id, ok := e.Fn.(*syntax.Ident)
	if !ok || c.bound[id.Name] {
		return nil
	}
	fn := c.global(id.Name)
	switch {
	case fn == isinstanceBuiltin && len(args) == 2:
		return func(l []starlark.Value) (starlark.Value, bool) {
			v, ok := args[0](l)
			if !ok {
				return nil, false
			}
			t, ok := args[1](l)
			if !ok {
				return nil, false
			}
			is, err := pyIsType(v, t)
			return starlark.Bool(is), err == nil
		}
	case fn == starlark.Universe["str"] && len(args) == 1:
		return func(l []starlark.Value) (starlark.Value, bool) {
			v, ok := args[0](l)
			if !ok {
				return nil, false
			}
			switch v.(type) {
			case starlark.String:
				return v, true
			case starlark.Bytes:
				return nil, false // str transcodes bytes
			}
			return starlark.String(v.String()), true
		}
	case fn == starlark.Universe["len"] && len(args) == 1:
		return func(l []starlark.Value) (starlark.Value, bool) {
			v, ok := args[0](l)
			if !ok {
				return nil, false
			}
			n := starlark.Len(v)
			return starlark.MakeInt(n), n >= 0
		}
	}
	return nil
}
