package lib

import (
	"fmt"
	"math"
	"math/big"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// timedelta is datetime.timedelta: a duration in microseconds.
type timedelta struct{ us int64 }

var (
	_ starlark.TotallyOrdered = timedelta{}
	_ starlark.HasBinary      = timedelta{}
	_ starlark.HasUnary       = timedelta{}
	_ starlark.HasAttrs       = timedelta{}
)

var errTDRange = fmt.Errorf("timedelta out of range (weir allows days in ±%d)", maxTDDays)

func makeTimedelta(us int64) (timedelta, error) {
	if us < minTDus || us > maxTDus {
		return timedelta{}, errTDRange
	}
	return timedelta{us}, nil
}

// tdFromRat rounds a number of microseconds to the nearest, ties to even.
func tdFromRat(r *big.Rat) (timedelta, error) {
	q := roundRat(r)
	if !q.IsInt64() {
		return timedelta{}, errTDRange
	}
	return makeTimedelta(q.Int64())
}

// parts splits a timedelta as Python normalizes it: days, then 0 <= seconds < 86400 and
// 0 <= microseconds < 1e6.
func (td timedelta) parts() (days, seconds, micros int64) {
	days = floorDiv(td.us, usPerDay)
	rem := td.us - days*usPerDay
	return days, rem / usPerSec, rem % usPerSec
}

func (td timedelta) String() string {
	days, secs, us := td.parts()
	s := fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	if days != 0 {
		plural := "s"
		if days == 1 || days == -1 {
			plural = ""
		}
		s = fmt.Sprintf("%d day%s, %s", days, plural, s)
	}
	if us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s
}

func (td timedelta) Type() string          { return "timedelta" }
func (td timedelta) Freeze()               {}
func (td timedelta) Truth() starlark.Bool  { return td.us != 0 }
func (td timedelta) Hash() (uint32, error) { return hashInt64(td.us), nil }
func (td timedelta) Cmp(y starlark.Value, depth int) (int, error) {
	return cmpInt64(td.us, y.(timedelta).us), nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var timedeltaMethods = methods{
	"total_seconds": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		return starlark.Float(usToSeconds(b.Receiver().(timedelta).us)), nil
	},
}

func (td timedelta) Attr(name string) (starlark.Value, error) {
	days, secs, us := td.parts()
	switch name {
	case "days":
		return starlark.MakeInt64(days), nil
	case "seconds":
		return starlark.MakeInt64(secs), nil
	case "microseconds":
		return starlark.MakeInt64(us), nil
	}
	return timedeltaMethods.bind(td, name), nil
}

func (td timedelta) AttrNames() []string {
	return append([]string{"days", "microseconds", "seconds"}, timedeltaMethods.names()...)
}

func (td timedelta) Unary(op syntax.Token) (starlark.Value, error) {
	switch op {
	case syntax.MINUS:
		return makeTimedelta(-td.us)
	case syntax.PLUS:
		return td, nil
	}
	return nil, nil
}

func (td timedelta) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	x := td
	switch op {
	case syntax.PLUS, syntax.MINUS:
		other, ok := y.(timedelta)
		if !ok {
			return nil, nil
		}
		a, b := x.us, other.us
		if side == starlark.Right {
			a, b = b, a
		}
		if op == syntax.MINUS {
			b = -b
		}
		sum, ok := addInt64(a, b)
		if !ok {
			return nil, errTDRange
		}
		return makeTimedelta(sum)
	case syntax.STAR:
		switch n := y.(type) {
		case starlark.Int:
			p := new(big.Int).Mul(big.NewInt(x.us), n.BigInt())
			return tdFromRat(new(big.Rat).SetInt(p))
		case starlark.Float:
			r, err := floatRat(float64(n))
			if err != nil {
				return nil, err
			}
			return tdFromRat(r.Mul(r, new(big.Rat).SetInt64(x.us)))
		}
	case syntax.SLASH, syntax.SLASHSLASH, syntax.PERCENT:
		if side == starlark.Right {
			return nil, nil
		}
		switch n := y.(type) {
		case timedelta:
			if n.us == 0 {
				switch op {
				case syntax.SLASH:
					return nil, fmt.Errorf("division by zero")
				case syntax.PERCENT:
					return nil, fmt.Errorf("integer modulo by zero")
				}
				return nil, fmt.Errorf("integer division or modulo by zero")
			}
			switch op {
			case syntax.SLASH:
				f, _ := new(big.Rat).SetFrac(big.NewInt(x.us), big.NewInt(n.us)).Float64()
				return starlark.Float(f), nil
			case syntax.SLASHSLASH:
				return starlark.MakeInt64(floorDiv(x.us, n.us)), nil
			}
			return timedelta{floorMod(x.us, n.us)}, nil
		case starlark.Int:
			if op == syntax.PERCENT {
				return nil, nil
			}
			if n.Sign() == 0 {
				return nil, fmt.Errorf("integer division or modulo by zero")
			}
			if op == syntax.SLASHSLASH {
				q, r := new(big.Int).QuoRem(big.NewInt(x.us), n.BigInt(), new(big.Int))
				if r.Sign() != 0 && r.Sign() != n.Sign() {
					q.Sub(q, big.NewInt(1)) // floor, not truncation
				}
				return tdFromRat(new(big.Rat).SetInt(q))
			}
			return tdFromRat(new(big.Rat).SetFrac(big.NewInt(x.us), n.BigInt()))
		case starlark.Float:
			if op != syntax.SLASH {
				return nil, nil
			}
			r, err := floatRat(float64(n))
			if err != nil {
				return nil, err
			}
			if r.Sign() == 0 {
				return nil, fmt.Errorf("division by zero")
			}
			return tdFromRat(r.Quo(new(big.Rat).SetInt64(x.us), r))
		}
	}
	return nil, nil
}

// floatRat is float.as_integer_ratio().
func floatRat(f float64) (*big.Rat, error) {
	switch {
	case math.IsNaN(f):
		return nil, fmt.Errorf("cannot convert NaN to integer ratio")
	case math.IsInf(f, 0):
		return nil, fmt.Errorf("cannot convert Infinity to integer ratio")
	}
	return new(big.Rat).SetFloat64(f), nil
}

// timedeltaNew is timedelta(days=0, seconds=0, microseconds=0, milliseconds=0, minutes=0,
// hours=0, weeks=0); each may be int or float, and the sum is rounded to microseconds.
func timedeltaNew(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var vals [7]starlark.Value
	if err := starlark.UnpackArgs("timedelta", args, kwargs,
		"days?", &vals[0], "seconds?", &vals[1], "microseconds?", &vals[2], "milliseconds?", &vals[3],
		"minutes?", &vals[4], "hours?", &vals[5], "weeks?", &vals[6]); err != nil {
		return nil, err
	}
	factors := [7]int64{usPerDay, usPerSec, 1, 1000, usPerMin, usPerHour, 7 * usPerDay}
	total := new(big.Rat)
	for i, v := range vals {
		var r *big.Rat
		switch v := v.(type) {
		case nil:
			continue
		case starlark.Int:
			r = new(big.Rat).SetInt(v.BigInt())
		case starlark.Bool:
			r = big.NewRat(int64(b2i(bool(v))), 1)
		case starlark.Float:
			var err error
			if r, err = floatRat(float64(v)); err != nil {
				return nil, fmt.Errorf("timedelta: %w", err)
			}
		default:
			return nil, fmt.Errorf("timedelta: unsupported type for timedelta component: %s", v.Type())
		}
		total.Add(total, r.Mul(r, new(big.Rat).SetInt64(factors[i])))
	}
	td, err := tdFromRat(total)
	if err != nil {
		return nil, fmt.Errorf("timedelta: %w", err)
	}
	return td, nil
}

func newTimedeltaClass() *class {
	return &class{module: "datetime", name: "timedelta", ctor: timedeltaNew, attrs: starlark.StringDict{
		"min":        timedelta{minTDus},
		"max":        timedelta{maxTDus},
		"resolution": timedelta{1},
	}}
}
