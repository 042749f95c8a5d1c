package lib

import (
	"errors"
	"fmt"
	"math"
	"math/big"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// The math module: Python's math functions with its domain and range errors, plus mod and
// round from go.starlark.net's lib/math. floor, ceil and trunc return int.

var (
	errDomain = errors.New("math domain error")
	errRange  = errors.New("math range error")
)

func newMath() starlark.Value {
	funcs := map[string]builtinFunc{
		"ceil":      mathRound(math.Ceil),
		"floor":     mathRound(math.Floor),
		"trunc":     mathRound(math.Trunc),
		"pow":       mathPow,
		"log":       mathLog,
		"log2":      mathLogBase(math.Log2),
		"log10":     mathLogBase(math.Log10),
		"isnan":     mathPredicate(math.IsNaN),
		"isinf":     mathPredicate(func(x float64) bool { return math.IsInf(x, 0) }),
		"isfinite":  mathPredicate(func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }),
		"isclose":   mathIsclose,
		"copysign":  mathBinary(math.Copysign),
		"atan2":     mathBinary(math.Atan2),
		"fmod":      mathBinary(pyFmod),
		"mod":       mathBinary(pyFmod),
		"remainder": mathBinary(pyRemainder),
		"hypot":     mathHypot,
		"dist":      mathDist,
		"ldexp":     mathLdexp,
		"frexp":     mathFrexp,
		"modf":      mathModf,
		"factorial": mathFactorial,
		"gcd":       mathGcd(false),
		"lcm":       mathGcd(true),
		"isqrt":     mathIsqrt,
		"comb":      mathComb,
		"perm":      mathPerm,
		"fsum":      mathFsum,
		"prod":      mathProd,
		"round": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var x number
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
				return nil, err
			}
			return starlark.Float(math.Round(float64(x))), nil
		},
	}
	for name, u := range map[string]struct {
		fn       func(float64) float64
		overflow bool // an infinite result from a finite argument is a range error, not a domain error
	}{
		"sqrt": {math.Sqrt, false}, "exp": {math.Exp, true}, "expm1": {math.Expm1, true},
		"log1p": {math.Log1p, false}, "fabs": {math.Abs, false},
		"sin": {math.Sin, false}, "cos": {math.Cos, false}, "tan": {math.Tan, false},
		"asin": {math.Asin, false}, "acos": {math.Acos, false}, "atan": {math.Atan, false},
		"sinh": {math.Sinh, true}, "cosh": {math.Cosh, true}, "tanh": {math.Tanh, false},
		"asinh": {math.Asinh, false}, "acosh": {math.Acosh, false}, "atanh": {math.Atanh, false},
		"erf": {math.Erf, false}, "erfc": {math.Erfc, false},
		"gamma": {pyGamma, true}, "lgamma": {pyLgamma, true},
		"degrees": {func(x float64) float64 { return x * (180 / math.Pi) }, true},
		"radians": {func(x float64) float64 { return x * (math.Pi / 180) }, true},
	} {
		funcs[name] = mathUnary(u.fn, u.overflow)
	}
	return module("math", funcs, starlark.StringDict{
		"pi":  starlark.Float(math.Pi),
		"e":   starlark.Float(math.E),
		"tau": starlark.Float(2 * math.Pi),
		"inf": starlark.Float(math.Inf(1)),
		"nan": starlark.Float(math.NaN()),
	})
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// checkResult applies CPython's rules for a result r computed from finite-or-not inputs.
func checkResult(r float64, inputsNaN, inputsFinite, canOverflow bool) error {
	if math.IsNaN(r) && !inputsNaN {
		return errDomain
	}
	if math.IsInf(r, 0) && inputsFinite {
		if canOverflow {
			return errRange
		}
		return errDomain
	}
	return nil
}

func mathUnary(fn func(float64) float64, canOverflow bool) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x number
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
			return nil, err
		}
		r := fn(float64(x))
		if err := checkResult(r, math.IsNaN(float64(x)), isFinite(float64(x)), canOverflow); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return starlark.Float(r), nil
	}
}

func mathBinary(fn func(x, y float64) float64) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x, y number
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
			return nil, err
		}
		r := fn(float64(x), float64(y))
		anyNaN := math.IsNaN(float64(x)) || math.IsNaN(float64(y))
		if err := checkResult(r, anyNaN, isFinite(float64(x)) && isFinite(float64(y)), true); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return starlark.Float(r), nil
	}
}

func pyFmod(x, y float64) float64 {
	if math.IsInf(y, 0) && isFinite(x) {
		return x
	}
	return math.Mod(x, y)
}

func pyRemainder(x, y float64) float64 { return math.Remainder(x, y) }

func pyGamma(x float64) float64 {
	if x <= 0 && x == math.Trunc(x) {
		return math.NaN() // a pole: domain error
	}
	return math.Gamma(x)
}

func pyLgamma(x float64) float64 {
	if x <= 0 && x == math.Trunc(x) {
		return math.NaN()
	}
	r, _ := math.Lgamma(x)
	return r
}

func mathPredicate(fn func(float64) bool) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x number
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
			return nil, err
		}
		return starlark.Bool(fn(float64(x))), nil
	}
}

// mathRound implements floor, ceil and trunc, which return int.
func mathRound(fn func(float64) float64) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
			return nil, err
		}
		switch x := x.(type) {
		case starlark.Int:
			return x, nil
		case starlark.Bool:
			return starlark.MakeInt(b2i(bool(x))), nil
		case starlark.Float:
			return floatToInt(b.Name(), fn(float64(x)))
		}
		return nil, fmt.Errorf("%s: must be real number, not %s", b.Name(), pyTypeName(x))
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func floatToInt(name string, f float64) (starlark.Value, error) {
	switch {
	case math.IsNaN(f):
		return nil, fmt.Errorf("%s: cannot convert float NaN to integer", name)
	case math.IsInf(f, 0):
		return nil, fmt.Errorf("%s: cannot convert float infinity to integer", name)
	}
	return starlark.NumberToInt(starlark.Float(f))
}

func mathPow(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, y number
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
		return nil, err
	}
	fx, fy := float64(x), float64(y)
	r := math.Pow(fx, fy)
	if isFinite(fx) && isFinite(fy) {
		switch {
		case math.IsNaN(r):
			return nil, fmt.Errorf("%s: %w", b.Name(), errDomain)
		case math.IsInf(r, 0) && fx == 0:
			return nil, fmt.Errorf("%s: %w", b.Name(), errDomain)
		case math.IsInf(r, 0):
			return nil, fmt.Errorf("%s: %w", b.Name(), errRange)
		}
	}
	return starlark.Float(r), nil
}

// logOf applies fn (math.Log, Log2 or Log10) to an int or float, as CPython's loghelper
// does: an int too large for a float is split as m * 2**e, giving fn(m) + fn(2)*e.
func logOf(v starlark.Value, fn func(float64) float64) (float64, error) {
	if i, ok := v.(starlark.Int); ok {
		if i.Sign() <= 0 {
			return 0, errDomain
		}
		if f := i.Float(); !math.IsInf(float64(f), 0) {
			return fn(float64(f)), nil
		}
		bi := i.BigInt()
		e := bi.BitLen()
		m, _ := new(big.Float).SetMantExp(new(big.Float).SetInt(bi), -e).Float64()
		return fn(m) + fn(2)*float64(e), nil
	}
	x, err := toFloat(v)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(x) || math.IsInf(x, 1) {
		return x, nil
	}
	if x <= 0 {
		return 0, errDomain
	}
	return fn(x), nil
}

func mathLog(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, base starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x, &base); err != nil {
		return nil, err
	}
	lx, err := logOf(x, math.Log)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	if base == nil {
		return starlark.Float(lx), nil
	}
	lb, err := logOf(base, math.Log)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	if lb == 0 {
		return nil, fmt.Errorf("%s: float division by zero", b.Name())
	}
	return starlark.Float(lx / lb), nil
}

func mathLogBase(fn func(float64) float64) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
			return nil, err
		}
		r, err := logOf(x, fn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return starlark.Float(r), nil
	}
}

func mathIsclose(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var a, c number
	relTol, absTol := number(1e-9), number(0)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &a, "b", &c, "rel_tol?", &relTol, "abs_tol?", &absTol); err != nil {
		return nil, err
	}
	if len(args) > 2 {
		return nil, fmt.Errorf("%s: takes 2 positional arguments but %d were given", b.Name(), len(args))
	}
	if relTol < 0 || absTol < 0 {
		return nil, fmt.Errorf("%s: tolerances must be non-negative", b.Name())
	}
	x, y := float64(a), float64(c)
	if x == y {
		return starlark.True, nil
	}
	if math.IsInf(x, 0) || math.IsInf(y, 0) {
		return starlark.False, nil
	}
	diff := math.Abs(y - x)
	rt := float64(relTol)
	return starlark.Bool(diff <= math.Abs(rt*y) || diff <= math.Abs(rt*x) || diff <= float64(absTol)), nil
}

func floats(name string, args starlark.Tuple) ([]float64, error) {
	out := make([]float64, len(args))
	for i, a := range args {
		f, err := toFloat(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[i] = f
	}
	return out, nil
}

// norm is the Euclidean norm of xs, scaled to avoid overflow.
func norm(name string, xs []float64) (starlark.Value, error) {
	maxAbs, anyNaN := 0.0, false
	for _, x := range xs {
		if math.IsInf(x, 0) {
			return starlark.Float(math.Inf(1)), nil
		}
		anyNaN = anyNaN || math.IsNaN(x)
		maxAbs = math.Max(maxAbs, math.Abs(x))
	}
	if anyNaN {
		return starlark.Float(math.NaN()), nil
	}
	if maxAbs == 0 {
		return starlark.Float(0), nil
	}
	if len(xs) == 2 {
		return starlark.Float(math.Hypot(xs[0], xs[1])), nil
	}
	sum := 0.0
	for _, x := range xs {
		sum += (x / maxAbs) * (x / maxAbs)
	}
	r := maxAbs * math.Sqrt(sum)
	if math.IsInf(r, 0) {
		return nil, fmt.Errorf("%s: %w", name, errRange)
	}
	return starlark.Float(r), nil
}

func mathHypot(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := noKwargs(b.Name(), kwargs); err != nil {
		return nil, err
	}
	xs, err := floats(b.Name(), args)
	if err != nil {
		return nil, err
	}
	return norm(b.Name(), xs)
}

func mathDist(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p, q starlark.Indexable
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &p, &q); err != nil {
		return nil, err
	}
	if p.Len() != q.Len() {
		return nil, fmt.Errorf("%s: both points must have the same number of dimensions", b.Name())
	}
	diffs := make([]float64, p.Len())
	for i := range diffs {
		x, err := toFloat(p.Index(i))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		y, err := toFloat(q.Index(i))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		diffs[i] = x - y
	}
	return norm(b.Name(), diffs)
}

func mathLdexp(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x number
	var e int
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &e); err != nil {
		return nil, err
	}
	r := math.Ldexp(float64(x), e)
	if math.IsInf(r, 0) && isFinite(float64(x)) {
		return nil, fmt.Errorf("%s: %w", b.Name(), errRange)
	}
	return starlark.Float(r), nil
}

func mathFrexp(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x number
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
		return nil, err
	}
	m, e := math.Frexp(float64(x))
	return starlark.Tuple{starlark.Float(m), starlark.MakeInt(e)}, nil
}

func mathModf(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x number
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
		return nil, err
	}
	ip, frac := math.Modf(float64(x))
	if math.IsInf(float64(x), 0) {
		frac = math.Copysign(0, float64(x))
	}
	return starlark.Tuple{starlark.Float(frac), starlark.Float(ip)}, nil
}

// maxCombinatoric bounds factorial, comb and perm arguments so one call cannot run for long.
const maxCombinatoric = 100_000

func intArg(name string, v starlark.Value) (*big.Int, error) {
	switch v := v.(type) {
	case starlark.Int:
		return v.BigInt(), nil
	case starlark.Bool:
		return big.NewInt(int64(b2i(bool(v)))), nil
	}
	return nil, fmt.Errorf("%s: '%s' object cannot be interpreted as an integer", name, pyTypeName(v))
}

func smallIntArg(name string, v starlark.Value) (int64, error) {
	n, err := intArg(name, v)
	if err != nil {
		return 0, err
	}
	if !n.IsInt64() || n.Int64() > maxCombinatoric {
		return 0, fmt.Errorf("%s: argument too large (weir limit %d)", name, maxCombinatoric)
	}
	return n.Int64(), nil
}

func mathFactorial(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
		return nil, err
	}
	n, err := smallIntArg(b.Name(), x)
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("%s: factorial() not defined for negative values", b.Name())
	}
	return starlark.MakeBigInt(new(big.Int).MulRange(1, n)), nil
}

func mathGcd(lcm bool) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noKwargs(b.Name(), kwargs); err != nil {
			return nil, err
		}
		acc := big.NewInt(0)
		if lcm {
			acc.SetInt64(1)
		}
		for _, a := range args {
			n, err := intArg(b.Name(), a)
			if err != nil {
				return nil, err
			}
			n = new(big.Int).Abs(n)
			if !lcm {
				acc.GCD(nil, nil, acc, n)
				continue
			}
			if n.Sign() == 0 || acc.Sign() == 0 {
				acc.SetInt64(0)
				continue
			}
			g := new(big.Int).GCD(nil, nil, acc, n)
			acc.Mul(acc, new(big.Int).Quo(n, g))
		}
		return starlark.MakeBigInt(acc), nil
	}
}

func mathIsqrt(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
		return nil, err
	}
	n, err := intArg(b.Name(), x)
	if err != nil {
		return nil, err
	}
	if n.Sign() < 0 {
		return nil, fmt.Errorf("%s: isqrt() argument must be nonnegative", b.Name())
	}
	return starlark.MakeBigInt(new(big.Int).Sqrt(n)), nil
}

func combArgs(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, kOptional bool) (n, k int64, err error) {
	var nv, kv starlark.Value
	min := 2
	if kOptional {
		min = 1
	}
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, min, &nv, &kv); err != nil {
		return 0, 0, err
	}
	if n, err = smallIntArg(b.Name(), nv); err != nil {
		return 0, 0, err
	}
	k = n
	if kv != nil && kv != starlark.None {
		if k, err = smallIntArg(b.Name(), kv); err != nil {
			return 0, 0, err
		}
	}
	if n < 0 {
		return 0, 0, fmt.Errorf("%s: n must be a non-negative integer", b.Name())
	}
	if k < 0 {
		return 0, 0, fmt.Errorf("%s: k must be a non-negative integer", b.Name())
	}
	return n, k, nil
}

func mathComb(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	n, k, err := combArgs(b, args, kwargs, false)
	if err != nil {
		return nil, err
	}
	if k > n {
		return starlark.MakeInt(0), nil
	}
	return starlark.MakeBigInt(new(big.Int).Binomial(n, k)), nil
}

func mathPerm(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	n, k, err := combArgs(b, args, kwargs, true)
	if err != nil {
		return nil, err
	}
	if k > n {
		return starlark.MakeInt(0), nil
	}
	if k == 0 {
		return starlark.MakeInt(1), nil
	}
	return starlark.MakeBigInt(new(big.Int).MulRange(n-k+1, n)), nil
}

// mathFsum is CPython's fsum: Shewchuk's exact partial sums, correctly rounded.
func mathFsum(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var seq starlark.Iterable
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &seq); err != nil {
		return nil, err
	}
	var partials []float64
	special, infSum := 0.0, 0.0
	it := seq.Iterate()
	defer it.Done()
	var v starlark.Value
	for it.Next(&v) {
		x, err := toFloat(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		xsave := x
		i := 0
		for _, y := range partials {
			if math.Abs(x) < math.Abs(y) {
				x, y = y, x
			}
			hi := x + y
			lo := y - (hi - x)
			if lo != 0 {
				partials[i] = lo
				i++
			}
			x = hi
		}
		if !isFinite(x) {
			if isFinite(xsave) {
				return nil, fmt.Errorf("%s: intermediate overflow in fsum", b.Name())
			}
			if math.IsInf(xsave, 0) {
				infSum += xsave
			}
			special += xsave
			partials = partials[:0]
			continue
		}
		partials = append(partials[:i], x)
	}
	if special != 0 || math.IsNaN(special) {
		if math.IsNaN(infSum) {
			return nil, fmt.Errorf("%s: -inf + inf in fsum", b.Name())
		}
		return starlark.Float(special), nil
	}
	hi := 0.0
	if n := len(partials); n > 0 {
		n--
		hi = partials[n]
		lo := 0.0
		for n > 0 {
			x := hi
			n--
			y := partials[n]
			hi = x + y
			yr := hi - x
			lo = y - yr
			if lo != 0 {
				break
			}
		}
		if n > 0 && (lo < 0 && partials[n-1] < 0 || lo > 0 && partials[n-1] > 0) {
			y := lo * 2
			x := hi + y
			if y == x-hi {
				hi = x
			}
		}
	}
	return starlark.Float(hi), nil
}

func mathProd(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var seq starlark.Iterable
	var start starlark.Value = starlark.MakeInt(1)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "iterable", &seq, "start?", &start); err != nil {
		return nil, err
	}
	acc := start
	it := seq.Iterate()
	defer it.Done()
	var v starlark.Value
	for it.Next(&v) {
		r, err := starlark.Binary(syntax.STAR, acc, v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		acc = r
	}
	return acc, nil
}
