package lib

import (
	"fmt"
	"math"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// The time module: clocks, struct_time conversions and strftime/strptime. Nothing here
// blocks: there is no sleep. The local zone is UTC.

// processStart anchors monotonic() and perf_counter(), which have an arbitrary origin.
var processStart = time.Now()

func newTime() starlark.Value {
	return module("time", map[string]builtinFunc{
		"time": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := noArgs(b, args, kwargs); err != nil {
				return nil, err
			}
			return starlark.Float(float64(time.Now().UnixNano()) / 1e9), nil
		},
		"time_ns": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := noArgs(b, args, kwargs); err != nil {
				return nil, err
			}
			return starlark.MakeInt64(time.Now().UnixNano()), nil
		},
		"monotonic":       monotonic(false),
		"perf_counter":    monotonic(false),
		"monotonic_ns":    monotonic(true),
		"perf_counter_ns": monotonic(true),
		"gmtime":          timeGmtime("GMT"),
		"localtime":       timeGmtime("UTC"),
		"mktime":          timeMktime,
		"strftime":        timeStrftime,
		"strptime":        timeStrptime,
		"asctime":         timeAsctime,
		"ctime":           timeCtime,
	}, starlark.StringDict{
		"timezone": starlark.MakeInt(0),
		"altzone":  starlark.MakeInt(0),
		"daylight": starlark.MakeInt(0),
		"tzname":   starlark.Tuple{starlark.String("UTC"), starlark.String("UTC")},
	})
}

func monotonic(ns bool) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		d := time.Since(processStart)
		if ns {
			return starlark.MakeInt64(int64(d)), nil
		}
		return starlark.Float(d.Seconds()), nil
	}
}

// structTime is time.struct_time: a 9-tuple with tm_* attributes.
type structTime struct {
	fields [9]int // year, mon, mday, hour, min, sec, wday, yday, isdst
	zone   string // tm_zone
	gmtoff starlark.Value
}

var (
	_ starlark.Indexable  = (*structTime)(nil)
	_ starlark.Iterable   = (*structTime)(nil)
	_ starlark.HasAttrs   = (*structTime)(nil)
	_ starlark.Comparable = (*structTime)(nil)
)

var structTimeNames = [9]string{"tm_year", "tm_mon", "tm_mday", "tm_hour", "tm_min", "tm_sec", "tm_wday", "tm_yday", "tm_isdst"}

func structTimeOf(tm tmFields, isdst int, zone string, gmtoff starlark.Value) *structTime {
	if gmtoff == nil {
		gmtoff = starlark.None
	}
	return &structTime{
		fields: [9]int{tm.year, tm.month, tm.day, tm.hour, tm.minute, tm.second, tm.wday, tm.yday, isdst},
		zone:   zone, gmtoff: gmtoff,
	}
}

func (st *structTime) String() string {
	var sb strings.Builder
	sb.WriteString("time.struct_time(")
	for i, n := range structTimeNames {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%s=%d", n, st.fields[i])
	}
	sb.WriteString(")")
	return sb.String()
}
func (st *structTime) Type() string         { return "struct_time" }
func (st *structTime) Freeze()              {}
func (st *structTime) Truth() starlark.Bool { return true }
func (st *structTime) Hash() (uint32, error) {
	return st.tuple().Hash()
}
func (st *structTime) Len() int                   { return 9 }
func (st *structTime) Index(i int) starlark.Value { return starlark.MakeInt(st.fields[i]) }
func (st *structTime) Iterate() starlark.Iterator { return st.tuple().Iterate() }
func (st *structTime) tuple() starlark.Tuple {
	t := make(starlark.Tuple, 9)
	for i := range t {
		t[i] = st.Index(i)
	}
	return t
}
func (st *structTime) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	return starlark.CompareDepth(op, st.tuple(), y.(*structTime).tuple(), depth)
}
func (st *structTime) Attr(name string) (starlark.Value, error) {
	for i, n := range structTimeNames {
		if n == name {
			return st.Index(i), nil
		}
	}
	switch name {
	case "tm_zone":
		if st.zone == "" {
			return starlark.None, nil
		}
		return starlark.String(st.zone), nil
	case "tm_gmtoff":
		return st.gmtoff, nil
	}
	return nil, nil
}
func (st *structTime) AttrNames() []string {
	return append(structTimeNames[:], "tm_gmtoff", "tm_zone")
}

// secondsArg reads an optional seconds-since-epoch argument (None or absent: now), floored.
func secondsArg(v starlark.Value) (int64, error) {
	switch v := v.(type) {
	case nil, starlark.NoneType:
		return time.Now().Unix(), nil
	case starlark.Int:
		s, ok := v.Int64()
		if !ok {
			return 0, fmt.Errorf("timestamp out of range for platform time_t")
		}
		return s, nil
	case starlark.Float:
		if math.IsNaN(float64(v)) {
			return 0, fmt.Errorf("Invalid value NaN (not a number)")
		}
		f := math.Floor(float64(v))
		if f > 1<<62 || f < -(1<<62) {
			return 0, fmt.Errorf("timestamp out of range for platform time_t")
		}
		return int64(f), nil
	}
	return 0, fmt.Errorf("'%s' object cannot be interpreted as an integer", pyTypeName(v))
}

func timeGmtime(zone string) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var secs starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &secs); err != nil {
			return nil, err
		}
		s, err := secondsArg(secs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		if s < minUs/usPerSec || s > maxUs/usPerSec {
			return nil, fmt.Errorf("%s: year is out of range", b.Name())
		}
		return structTimeOf(datetime{us: s * usPerSec}.tm(), 0, zone, starlark.MakeInt(0)), nil
	}
}

// tupleTime reads a struct_time or a 9-tuple.
func tupleTime(name string, v starlark.Value) (tmFields, string, error) {
	if st, ok := v.(*structTime); ok {
		f := st.fields
		return tmFields{year: f[0], month: f[1], day: f[2], hour: f[3], minute: f[4], second: f[5], wday: f[6], yday: f[7]}, st.zone, nil
	}
	t, ok := v.(starlark.Tuple)
	if !ok || len(t) != 9 {
		return tmFields{}, "", fmt.Errorf("%s: illegal time tuple argument", name)
	}
	var f [9]int
	for i, x := range t {
		n, err := toInt64(x)
		if err != nil {
			return tmFields{}, "", fmt.Errorf("%s: %w", name, err)
		}
		f[i] = int(n)
	}
	return tmFields{year: f[0], month: f[1], day: f[2], hour: f[3], minute: f[4], second: f[5], wday: f[6], yday: f[7]}, "", nil
}

func timeMktime(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var t starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &t); err != nil {
		return nil, err
	}
	tm, _, err := tupleTime(b.Name(), t)
	if err != nil {
		return nil, err
	}
	// mktime normalizes out-of-range fields, as Go's time.Date does.
	secs := time.Date(tm.year, time.Month(tm.month), tm.day, tm.hour, tm.minute, tm.second, 0, time.UTC).Unix()
	return starlark.Float(secs), nil
}

func timeStrftime(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var format string
	var t starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &format, &t); err != nil {
		return nil, err
	}
	var tm tmFields
	zone := "UTC"
	if t == nil {
		tm = datetime{us: time.Now().UnixMicro()}.tm()
	} else {
		var err error
		var z string
		if tm, z, err = tupleTime(b.Name(), t); err != nil {
			return nil, err
		}
		if z != "" {
			zone = z
		}
		if err := checkTimeTuple(b.Name(), &tm); err != nil {
			return nil, err
		}
	}
	tm.micro, tm.pyDirectives = 0, false
	tm.offset, tm.zone = "+0000", zone
	tm.unix = time.Date(tm.year, time.Month(tm.month), tm.day, tm.hour, tm.minute, tm.second, 0, time.UTC).Unix()
	return starlark.String(strftime(format, tm)), nil
}

// checkTimeTuple validates a time tuple as CPython's strftime does, taking 0 as the first
// month, day of month and day of year.
func checkTimeTuple(name string, tm *tmFields) error {
	if tm.month == 0 {
		tm.month = 1
	}
	if tm.day == 0 {
		tm.day = 1
	}
	if tm.yday == 0 {
		tm.yday = 1
	}
	switch {
	case tm.month < 1 || tm.month > 12:
		return fmt.Errorf("%s: month out of range", name)
	case tm.day < 1 || tm.day > 31:
		return fmt.Errorf("%s: day of month out of range", name)
	case tm.hour < 0 || tm.hour > 23:
		return fmt.Errorf("%s: hour out of range", name)
	case tm.minute < 0 || tm.minute > 59:
		return fmt.Errorf("%s: minute out of range", name)
	case tm.second < 0 || tm.second > 61:
		return fmt.Errorf("%s: seconds out of range", name)
	case tm.wday < 0 || tm.wday > 6:
		return fmt.Errorf("%s: day of week out of range", name)
	case tm.yday < 1 || tm.yday > 366:
		return fmt.Errorf("%s: day of year out of range", name)
	}
	return nil
}

func timeStrptime(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, format := "", "%a %b %d %H:%M:%S %Y"
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s, &format); err != nil {
		return nil, err
	}
	r, err := strptime(s, format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	tm := tmFields{year: r.year, month: r.month, day: r.day, hour: r.hour, minute: r.minute, second: r.second, wday: r.wday, yday: r.yday}
	var gmtoff starlark.Value = starlark.None
	if r.hasOffset {
		gmtoff = starlark.MakeInt64(r.offset / usPerSec)
	}
	return structTimeOf(tm, -1, r.zone, gmtoff), nil
}

func timeAsctime(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var t starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &t); err != nil {
		return nil, err
	}
	var tm tmFields
	if t == nil {
		tm = datetime{us: time.Now().UnixMicro()}.tm()
	} else {
		var err error
		if tm, _, err = tupleTime(b.Name(), t); err != nil {
			return nil, err
		}
		if err := checkTimeTuple(b.Name(), &tm); err != nil {
			return nil, err
		}
	}
	return starlark.String(strftime("%a %b %e %H:%M:%S %Y", tm)), nil
}

func timeCtime(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var secs starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &secs); err != nil {
		return nil, err
	}
	s, err := secondsArg(secs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	if s < minUs/usPerSec || s > maxUs/usPerSec {
		return nil, fmt.Errorf("%s: year is out of range", b.Name())
	}
	return starlark.String(strftime("%a %b %e %H:%M:%S %Y", datetime{us: s * usPerSec}.tm())), nil
}
