package lib

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// builtinFunc is the signature of a Starlark built-in's implementation.
type builtinFunc = func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)

// module makes a module whose members are the given built-ins, named "<module>.<member>",
// plus the given constants.
func module(name string, funcs map[string]builtinFunc, consts starlark.StringDict) *starlarkstruct.Module {
	members := make(starlark.StringDict, len(funcs)+len(consts))
	for k, fn := range funcs {
		members[k] = starlark.NewBuiltin(name+"."+k, fn)
	}
	for k, v := range consts {
		members[k] = v
	}
	return &starlarkstruct.Module{Name: name, Members: members}
}

// methods is a table of methods of a Go-defined Starlark type; an implementation finds its
// receiver with b.Receiver().
type methods map[string]builtinFunc

// bind returns the method name bound to recv, or nil if there is none (Attr's "no such field").
func (ms methods) bind(recv starlark.Value, name string) starlark.Value {
	fn, ok := ms[name]
	if !ok {
		return nil
	}
	return starlark.NewBuiltin(name, fn).BindReceiver(recv)
}

func (ms methods) names() []string {
	names := make([]string, 0, len(ms))
	for k := range ms {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// class is a Python class: callable to construct an instance, with class attributes such as
// datetime.now or timezone.utc.
type class struct {
	module, name string
	ctor         builtinFunc
	attrs        starlark.StringDict
}

var (
	_ starlark.Callable = (*class)(nil)
	_ starlark.HasAttrs = (*class)(nil)
)

func (c *class) String() string        { return fmt.Sprintf("<class '%s.%s'>", c.module, c.name) }
func (c *class) Type() string          { return "type" }
func (c *class) Freeze()               { c.attrs.Freeze() }
func (c *class) Truth() starlark.Bool  { return true }
func (c *class) Hash() (uint32, error) { return hashString(c.module + "." + c.name), nil }
func (c *class) Name() string          { return c.name }
func (c *class) AttrNames() []string   { return c.attrs.Keys() }
func (c *class) Attr(name string) (starlark.Value, error) {
	return c.attrs[name], nil
}
func (c *class) CallInternal(thread *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return c.ctor(thread, starlark.NewBuiltin(c.name, c.ctor), args, kwargs)
}

// classMethods adds built-ins named "<class>.<name>" to a class's attributes.
func (c *class) addFuncs(funcs map[string]builtinFunc) {
	if c.attrs == nil {
		c.attrs = make(starlark.StringDict)
	}
	for k, fn := range funcs {
		c.attrs[k] = starlark.NewBuiltin(c.name+"."+k, fn)
	}
}

func hashString(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

func hashInt64(x int64) uint32 {
	u := uint64(x)
	return uint32(u) ^ uint32(u>>32)*16777619
}

// pyFloatRepr formats f as Python's repr(float) does: the shortest string that round-trips,
// in fixed notation when the decimal exponent is in [-4, 16), otherwise in scientific notation
// with a two-digit (at least) exponent.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±dd
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if -4 <= exp && exp < 16 {
		if exp >= 0 {
			if len(digits) <= exp+1 {
				out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
			} else {
				out = digits[:exp+1] + "." + digits[exp+1:]
			}
		} else {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		}
	} else {
		out = digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		out += fmt.Sprintf("e%s%02d", sign, exp)
	}
	if neg {
		out = "-" + out
	}
	return out
}

// toFloat converts an int, float or bool to float64, as Python's float() does for numbers.
func toFloat(v starlark.Value) (float64, error) {
	switch v := v.(type) {
	case starlark.Float:
		return float64(v), nil
	case starlark.Int:
		f := v.Float()
		if math.IsInf(float64(f), 0) {
			return 0, fmt.Errorf("int too large to convert to float")
		}
		return float64(f), nil
	case starlark.Bool:
		if v {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("must be real number, not %s", pyTypeName(v))
}

// number unpacks an int, float or bool argument as float64.
type number float64

func (n *number) Unpack(v starlark.Value) error {
	f, err := toFloat(v)
	if err != nil {
		return err
	}
	*n = number(f)
	return nil
}

// toInt64 converts an int (or bool) to int64.
func toInt64(v starlark.Value) (int64, error) {
	switch v := v.(type) {
	case starlark.Int:
		i, ok := v.Int64()
		if !ok {
			return 0, fmt.Errorf("int too large")
		}
		return i, nil
	case starlark.Bool:
		if v {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("an integer is required (got type %s)", v.Type())
}

// bytesOrString unpacks bytes or str (str as its UTF-8 bytes).
type bytesOrString string

func (b *bytesOrString) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case starlark.Bytes:
		*b = bytesOrString(v)
	case starlark.String:
		*b = bytesOrString(v)
	default:
		return fmt.Errorf("a bytes-like object is required, not '%s'", pyTypeName(v))
	}
	return nil
}

// noKwargs reports an error if kwargs is not empty.
func noKwargs(name string, kwargs []starlark.Tuple) error {
	if len(kwargs) > 0 {
		return fmt.Errorf("%s: unexpected keyword argument %s", name, kwargs[0][0])
	}
	return nil
}

// freshThread returns a thread for calling a Starlark function from a place that has none
// (such as Mapping.Get), bounded so it cannot run away.
func freshThread(name string) *starlark.Thread {
	t := &starlark.Thread{Name: name}
	t.SetMaxExecutionSteps(100_000)
	return t
}

// pyTypeName is the Python name of a value's type, for error messages.
func pyTypeName(v starlark.Value) string {
	switch v.(type) {
	case starlark.String:
		return "str"
	case *starlark.List:
		return "list"
	case starlark.Tuple:
		return "tuple"
	case *starlark.Dict:
		return "dict"
	}
	return v.Type()
}
