package interp

import (
	"math"
	"math/big"
	"math/bits"

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
// names, if/elif/else, pass and return, over expressions made of the
// argument, local names, literals (dicts, lists and tuples too), constants
// among the init block's globals, None, True and False, subscripts and get
// of dicts, ==, !=, <, <=, >, >=, in, not in, arithmetic, not, and, or,
// conditional expressions, and calls of isinstance, str, len, int and the
// helper of {**m, ...}. Wherever the value at hand is not what the fast
// way handles (a subscript of a list, a missing key, an operation that
// fails, a name not assigned yet), it gives up and Call runs the Starlark
// function, which then also makes the error: the fast way changes no value
// it did not make itself, so nothing is done twice. It counts no steps (it
// has no loops and calls no code: its work is bounded by its size) and
// never reads context.

// fastFunc is a block's function compiled into Go closures.
type fastFunc struct {
	nlocals int // the argument and the names the body assigns
	body    fastStmt
}

// fastStmt runs statements: ret says a return ran, with v; ok false: give up.
type fastStmt func(locals []starlark.Value) (v starlark.Value, ret, ok bool)

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
	out, ret, ok := ff.body(locals)
	clear(locals) // keep no values alive
	t.fastLocals = t.fastLocals[:base]
	if ok && !ret {
		out = starlark.None // the end of the function
	}
	return out, ok
}

// The builtins every block sees that the fast way knows by identity.
var (
	isinstanceBuiltin = starlark.NewBuiltin("isinstance", pyIsInstance)
	intBuiltin        = starlark.NewBuiltin("int", pyInt)
	dictMergeBuiltin  = starlark.NewBuiltin("dict", pyDictMerge)
)

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
	c := &fastCompiler{top: top, predeclared: predeclared, slots: map[string]int{param.Name: 0}}
	// Every name the body assigns is local throughout the body (read
	// before it is assigned, it gives up); a name bound any other way is
	// beyond the fast way.
	if !c.bindings(def.Body) {
		return nil
	}
	body := c.stmts(def.Body)
	if body == nil {
		return nil
	}
	return &fastFunc{nlocals: len(c.slots), body: body}
}

// bindings gives a slot to each name the statements assign; false when
// they bind or do what the fast way does not take.
func (c *fastCompiler) bindings(stmts []syntax.Stmt) bool {
	for _, s := range stmts {
		switch s := s.(type) {
		case *syntax.AssignStmt:
			id, ok := s.LHS.(*syntax.Ident)
			if !ok || s.Op != syntax.EQ {
				return false
			}
			if _, ok := c.slots[id.Name]; !ok {
				c.slots[id.Name] = len(c.slots)
			}
		case *syntax.IfStmt:
			if !c.bindings(s.True) || !c.bindings(s.False) {
				return false
			}
		case *syntax.ReturnStmt, *syntax.ExprStmt:
		case *syntax.BranchStmt:
			if s.Token != syntax.PASS {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// stmts compiles statements, or returns nil.
func (c *fastCompiler) stmts(stmts []syntax.Stmt) fastStmt {
	var run []fastStmt
	for _, s := range stmts {
		var f fastStmt
		switch s := s.(type) {
		case *syntax.AssignStmt:
			e := c.expr(s.RHS)
			if e == nil {
				return nil
			}
			slot := c.slots[s.LHS.(*syntax.Ident).Name]
			f = func(l []starlark.Value) (starlark.Value, bool, bool) {
				v, ok := e(l)
				l[slot] = v
				return nil, false, ok
			}
		case *syntax.IfStmt:
			cond, t, e := c.expr(s.Cond), c.stmts(s.True), c.stmts(s.False)
			if cond == nil || t == nil || e == nil {
				return nil
			}
			f = func(l []starlark.Value) (starlark.Value, bool, bool) {
				v, ok := cond(l)
				if !ok {
					return nil, false, false
				}
				if v.Truth() {
					return t(l)
				}
				return e(l)
			}
		case *syntax.ReturnStmt:
			if s.Result == nil {
				f = func([]starlark.Value) (starlark.Value, bool, bool) { return starlark.None, true, true }
				break
			}
			e := c.expr(s.Result)
			if e == nil {
				return nil
			}
			f = func(l []starlark.Value) (starlark.Value, bool, bool) {
				v, ok := e(l)
				return v, true, ok
			}
		case *syntax.ExprStmt:
			if _, ok := s.X.(*syntax.Literal); !ok {
				return nil // a docstring, or nothing
			}
			continue
		case *syntax.BranchStmt: // pass
			continue
		default:
			return nil
		}
		run = append(run, f)
	}
	switch len(run) {
	case 0:
		return func([]starlark.Value) (starlark.Value, bool, bool) { return nil, false, true }
	case 1:
		return run[0]
	}
	return func(l []starlark.Value) (starlark.Value, bool, bool) {
		for _, f := range run {
			if v, ret, ok := f(l); ret || !ok {
				return v, ret, ok
			}
		}
		return nil, false, true
	}
}

func isStringLiteral(e syntax.Expr) bool {
	l, ok := e.(*syntax.Literal)
	return ok && l.Token == syntax.STRING
}

type fastCompiler struct {
	top         map[string]bool // names the file binds at its top level
	predeclared starlark.StringDict
	slots       map[string]int // the argument and the names the body assigns
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
		if _, local := c.slots[e.Name]; local {
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
			return nil // a global that is no constant
		}
		return func(l []starlark.Value) (starlark.Value, bool) {
			v := l[slot]
			return v, v != nil // nil: not assigned yet
		}
	case *syntax.DictExpr:
		return c.dict(e)
	case *syntax.ListExpr:
		elems := c.exprs(e.List)
		if elems == nil {
			return nil
		}
		return func(l []starlark.Value) (starlark.Value, bool) {
			vs := make([]starlark.Value, len(elems))
			for i, e := range elems {
				var ok bool
				if vs[i], ok = e(l); !ok {
					return nil, false
				}
			}
			return starlark.NewList(vs), true
		}
	case *syntax.TupleExpr:
		elems := c.exprs(e.List)
		if elems == nil {
			return nil
		}
		return func(l []starlark.Value) (starlark.Value, bool) {
			t := make(starlark.Tuple, len(elems))
			for i, e := range elems {
				var ok bool
				if t[i], ok = e(l); !ok {
					return nil, false
				}
			}
			return t, true
		}
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
			if n := c.numeric(e); n != nil {
				return boxed(n)
			}
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
		if n := c.numeric(e); n != nil {
			return boxed(n)
		}
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

// exprs compiles expressions, or returns nil (not for an empty list).
func (c *fastCompiler) exprs(es []syntax.Expr) []fastExpr {
	out := make([]fastExpr, len(es))
	for i, e := range es {
		if out[i] = c.expr(e); out[i] == nil {
			return nil
		}
	}
	return out
}

// dict compiles a dict literal: a new dict, keys in order, each once.
func (c *fastCompiler) dict(e *syntax.DictExpr) fastExpr {
	keys := make([]fastExpr, len(e.List))
	vals := make([]fastExpr, len(e.List))
	for i, x := range e.List {
		entry := x.(*syntax.DictEntry)
		if keys[i], vals[i] = c.expr(entry.Key), c.expr(entry.Value); keys[i] == nil || vals[i] == nil {
			return nil
		}
	}
	return func(l []starlark.Value) (starlark.Value, bool) {
		d := starlark.NewDict(len(keys))
		for i := range keys {
			k, ok := keys[i](l)
			if !ok {
				return nil, false
			}
			v, ok := vals[i](l)
			if !ok {
				return nil, false
			}
			n := d.Len()
			if err := d.SetKey(k, v); err != nil || d.Len() == n {
				return nil, false // unhashable, or a duplicate key
			}
		}
		return d, true
	}
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
			b, err := compare(op, xv, yv)
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

// call compiles x.get(k[, default]), isinstance(x, types), str(x),
// len(x), int(x) and the helper of {**m, ...}; other calls are beyond the
// fast way.
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
	if !ok {
		return nil
	}
	if _, local := c.slots[id.Name]; local {
		return nil
	}
	fn := c.global(id.Name)
	switch {
	case fn == dictMergeBuiltin && len(args) > 0:
		return func(l []starlark.Value) (starlark.Value, bool) {
			vs := make(starlark.Tuple, len(args))
			for i, a := range args {
				var ok bool
				if vs[i], ok = a(l); !ok {
					return nil, false
				}
			}
			d, err := pyDictMerge(nil, dictMergeBuiltin, vs, nil)
			return d, err == nil
		}
	case fn == intBuiltin && len(args) == 1:
		if n := c.numeric(e); n != nil {
			return boxed(n)
		}
		return func(l []starlark.Value) (starlark.Value, bool) {
			v, ok := args[0](l)
			if !ok {
				return nil, false
			}
			switch x := v.(type) {
			case starlark.Int:
				return v, true
			case starlark.Float:
				if f := float64(x); math.MinInt64 <= f && f < math.MaxInt64+1 {
					return starlark.MakeInt64(int64(f)), true
				}
			}
			return nil, false
		}
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

// compare is starlark.Compare, but for a float and an int of at most 2^53
// in magnitude: Starlark compares those exactly through big rationals (a
// few allocations), which comparing the int as a float does too, since
// such an int is a float exactly. A NaN is greater than any int, as
// Starlark has it. Strings are tested for equality directly.
func compare(op syntax.Token, x, y starlark.Value) (bool, error) {
	var xf, yf float64
	switch x := x.(type) {
	case starlark.String:
		// The most common test of a predicate: status == "ok".
		if y, ok := y.(starlark.String); ok && (op == syntax.EQL || op == syntax.NEQ) {
			return (x == y) == (op == syntax.EQL), nil
		}
		return starlark.Compare(op, x, y)
	case starlark.Float:
		n, ok := y.(starlark.Int)
		if !ok || !smallInt(n) {
			return starlark.Compare(op, x, y)
		}
		xf, yf = float64(x), float64(n.Float())
		if xf != xf {
			return threeway(op, +1), nil
		}
	case starlark.Int:
		f, ok := y.(starlark.Float)
		if !ok || !smallInt(x) {
			return starlark.Compare(op, x, y)
		}
		xf, yf = float64(x.Float()), float64(f)
		if yf != yf {
			return threeway(op, -1), nil
		}
	default:
		return starlark.Compare(op, x, y)
	}
	switch {
	case xf < yf:
		return threeway(op, -1), nil
	case xf > yf:
		return threeway(op, +1), nil
	}
	return threeway(op, 0), nil
}

// smallInt reports whether n is at most 2^53 in magnitude.
func smallInt(n starlark.Int) bool {
	i, ok := n.Int64()
	return ok && -1<<53 <= i && i <= 1<<53
}

// threeway is what a three-way comparison says of x op y.
func threeway(op syntax.Token, cmp int) bool {
	switch op {
	case syntax.EQL:
		return cmp == 0
	case syntax.NEQ:
		return cmp != 0
	case syntax.LE:
		return cmp <= 0
	case syntax.LT:
		return cmp < 0
	case syntax.GE:
		return cmp >= 0
	}
	return cmp > 0 // GT
}

// Arithmetic on the fast way keeps numbers unboxed from one operation to
// the next (a float result put in a Value is an allocation) and boxes the
// result once: int(qty * price * 100 + 0.5) / 100 makes one Value, not
// five. It computes what Starlark computes: int64 sums, differences and
// products (on overflow Starlark's own big ints take over), true division
// of floats, an int converted to float where it meets one; an operand that
// is not a number (a string, an int beyond int64) goes Starlark's way
// through starlark.Binary.

// num is a number on the fast way, unboxed: an int64, or a float64.
type num struct {
	i       int64
	f       float64
	isFloat bool
}

// numExpr evaluates an arithmetic expression: a number, or (v not nil) the
// value Starlark's way made; false: give up.
type numExpr func(l []starlark.Value) (n num, v starlark.Value, ok bool)

// numeric compiles an arithmetic expression (+, -, * and / of operands of
// any kind, unary -, int(x) and number literals) or returns nil.
func (c *fastCompiler) numeric(e syntax.Expr) numExpr {
	switch e := e.(type) {
	case *syntax.ParenExpr:
		return c.numeric(e.X)
	case *syntax.Literal:
		switch v := e.Value.(type) {
		case int64:
			n := num{i: v}
			return func([]starlark.Value) (num, starlark.Value, bool) { return n, nil, true }
		case float64:
			n := num{f: v, isFloat: true}
			return func([]starlark.Value) (num, starlark.Value, bool) { return n, nil, true }
		}
	case *syntax.BinaryExpr:
		switch e.Op {
		case syntax.PLUS, syntax.MINUS, syntax.STAR, syntax.SLASH:
		default:
			return nil
		}
		x, y := c.operand(e.X), c.operand(e.Y)
		if x == nil || y == nil {
			return nil
		}
		op := e.Op
		return func(l []starlark.Value) (num, starlark.Value, bool) {
			xn, xv, ok := x(l)
			if !ok {
				return num{}, nil, false
			}
			yn, yv, ok := y(l)
			if !ok {
				return num{}, nil, false
			}
			if xv == nil && yv == nil {
				if z, ok := arith(op, xn, yn); ok {
					return z, nil, true
				}
			}
			if xv == nil {
				xv = box(xn)
			}
			if yv == nil {
				yv = box(yn)
			}
			z, err := starlark.Binary(op, xv, yv)
			if err != nil {
				return num{}, nil, false
			}
			return unboxed(z)
		}
	case *syntax.UnaryExpr:
		if e.Op != syntax.MINUS {
			return nil
		}
		x := c.operand(e.X)
		if x == nil {
			return nil
		}
		return func(l []starlark.Value) (num, starlark.Value, bool) {
			n, v, ok := x(l)
			switch {
			case !ok:
				return num{}, nil, false
			case v == nil && n.isFloat:
				return num{f: -n.f, isFloat: true}, nil, true
			case v == nil && n.i != math.MinInt64:
				return num{i: -n.i}, nil, true
			case v == nil:
				v = box(n)
			}
			z, err := starlark.Unary(syntax.MINUS, v)
			if err != nil {
				return num{}, nil, false
			}
			return unboxed(z)
		}
	case *syntax.CallExpr:
		id, ok := e.Fn.(*syntax.Ident)
		if !ok || len(e.Args) != 1 {
			return nil
		}
		if _, local := c.slots[id.Name]; local || c.global(id.Name) != intBuiltin {
			return nil
		}
		if _, ok := e.Args[0].(*syntax.BinaryExpr); ok && e.Args[0].(*syntax.BinaryExpr).Op == syntax.EQ {
			return nil // int(x=...)
		}
		x := c.operand(e.Args[0])
		if x == nil {
			return nil
		}
		return func(l []starlark.Value) (num, starlark.Value, bool) {
			n, v, ok := x(l)
			if !ok {
				return num{}, nil, false
			}
			if v != nil {
				if _, isInt := v.(starlark.Int); isInt {
					return num{}, v, true // a big int
				}
				return num{}, nil, false // int() of anything else: Starlark's
			}
			if !n.isFloat {
				return n, nil, true
			}
			// As Starlark converts: toward zero (NaN, infinities and
			// floats beyond int64 are Starlark's to convert or refuse).
			if f := n.f; math.MinInt64 <= f && f < math.MaxInt64+1 {
				return num{i: int64(f)}, nil, true
			}
			return num{}, nil, false
		}
	}
	return nil
}

// operand compiles an operand of arithmetic: numerically when it is
// arithmetic itself, else as an expression whose value is looked at when
// it comes.
func (c *fastCompiler) operand(e syntax.Expr) numExpr {
	if n := c.numeric(e); n != nil {
		return n
	}
	x := c.expr(e)
	if x == nil {
		return nil
	}
	return func(l []starlark.Value) (num, starlark.Value, bool) {
		v, ok := x(l)
		if !ok {
			return num{}, nil, false
		}
		return unboxed(v)
	}
}

// unboxed takes the number out of a value, if it is an int64 or a float.
func unboxed(v starlark.Value) (num, starlark.Value, bool) {
	switch x := v.(type) {
	case starlark.Int:
		if i, ok := x.Int64(); ok {
			return num{i: i}, nil, true
		}
	case starlark.Float:
		return num{f: float64(x), isFloat: true}, nil, true
	}
	return num{}, v, true
}

func box(n num) starlark.Value {
	if n.isFloat {
		return starlark.Float(n.f)
	}
	return starlark.MakeInt64(n.i)
}

// boxed makes an arithmetic expression an expression.
func boxed(n numExpr) fastExpr {
	return func(l []starlark.Value) (starlark.Value, bool) {
		x, v, ok := n(l)
		if v == nil && ok {
			v = box(x)
		}
		return v, ok
	}
}

// arith computes x op y as Starlark does for ints and floats; false on an
// int64 overflow (Starlark's big ints take over) or a division by zero
// (Starlark fails).
func arith(op syntax.Token, x, y num) (num, bool) {
	if !x.isFloat && !y.isFloat {
		a, b := x.i, y.i
		switch op {
		case syntax.PLUS:
			s := a + b
			return num{i: s}, (s > a) == (b > 0)
		case syntax.MINUS:
			d := a - b
			return num{i: d}, (d < a) == (b > 0)
		case syntax.STAR:
			hi, lo := bits.Mul64(uint64(abs64(a)), uint64(abs64(b)))
			if hi != 0 || lo > math.MaxInt64 || a == math.MinInt64 || b == math.MinInt64 {
				return num{}, false
			}
			p := int64(lo)
			if (a < 0) != (b < 0) {
				p = -p
			}
			return num{i: p}, true
		}
	}
	a, b := x.f, y.f
	if !x.isFloat {
		a = float64(x.i)
	}
	if !y.isFloat {
		b = float64(y.i)
	}
	switch op {
	case syntax.PLUS:
		return num{f: a + b, isFloat: true}, true
	case syntax.MINUS:
		return num{f: a - b, isFloat: true}, true
	case syntax.STAR:
		return num{f: a * b, isFloat: true}, true
	}
	// SLASH
	if b == 0 {
		return num{}, false
	}
	return num{f: a / b, isFloat: true}, true
}

func abs64(a int64) int64 {
	if a < 0 {
		return -a
	}
	return a
}
