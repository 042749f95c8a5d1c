package lib

import (
	"fmt"
	"math"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// The datetime module: datetime, date, timedelta and timezone (fixed offsets only). Local time
// is UTC: naive datetimes made from the clock or a timestamp hold UTC wall time.

func newDatetime() starlark.Value {
	dateClass := &class{module: "datetime", name: "date", ctor: dateNew, attrs: starlark.StringDict{
		"min":        date{minDays},
		"max":        date{maxDays},
		"resolution": timedelta{usPerDay},
	}}
	dateClass.addFuncs(map[string]builtinFunc{
		"today":         dateToday,
		"fromtimestamp": dateFromTimestamp,
		"fromisoformat": dateFromISOFormat,
		"fromordinal":   dateFromOrdinal,
	})
	dtClass := &class{module: "datetime", name: "datetime", ctor: datetimeNew, attrs: starlark.StringDict{
		"min":        datetime{us: minUs},
		"max":        datetime{us: maxUs},
		"resolution": timedelta{1},
	}}
	dtClass.addFuncs(map[string]builtinFunc{
		"now":              datetimeNow,
		"utcnow":           datetimeUTCNow,
		"today":            datetimeUTCNow,
		"fromtimestamp":    datetimeFromTimestamp,
		"utcfromtimestamp": datetimeUTCFromTimestamp,
		"fromisoformat":    datetimeFromISOFormat,
		"strptime":         datetimeStrptime,
		"fromordinal":      datetimeFromOrdinal,
		"combine":          datetimeCombine,
	})
	tzClass := &class{module: "datetime", name: "timezone", ctor: timezoneNew, attrs: starlark.StringDict{
		"utc": utc,
		"min": &timezone{offset: -(24*usPerHour - usPerMin)},
		"max": &timezone{offset: 24*usPerHour - usPerMin},
	}}
	return &starlarkstruct.Module{Name: "datetime", Members: starlark.StringDict{
		"datetime":  dtClass,
		"date":      dateClass,
		"timedelta": newTimedeltaClass(),
		"timezone":  tzClass,
		"UTC":       utc,
		"MINYEAR":   starlark.MakeInt(minYear),
		"MAXYEAR":   starlark.MakeInt(maxYear),
	}}
}

// pyInt unpacks an int argument with Python's error for other types.
type pyInt int

func (p *pyInt) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case starlark.Int:
		i, ok := v.Int64()
		if !ok || i > math.MaxInt32 || i < math.MinInt32 {
			return fmt.Errorf("Python int too large to convert to C int")
		}
		*p = pyInt(i)
		return nil
	case starlark.Bool:
		*p = pyInt(b2i(bool(v)))
		return nil
	}
	return fmt.Errorf("'%s' object cannot be interpreted as an integer", pyTypeName(v))
}

// ---- timezone ----

// timezone is datetime.timezone: a fixed offset from UTC, optionally named.
type timezone struct {
	offset int64 // microseconds east of UTC
	name   string
	named  bool
}

var utc = &timezone{}

var (
	_ starlark.Comparable = (*timezone)(nil)
	_ starlark.HasAttrs   = (*timezone)(nil)
)

// tzArg accepts a timezone or None (nil).
func tzArg(v starlark.Value) (*timezone, error) {
	switch v := v.(type) {
	case nil, starlark.NoneType:
		return nil, nil
	case *timezone:
		return v, nil
	}
	return nil, fmt.Errorf("tzinfo argument must be None or of a tzinfo subclass, not type '%s'", pyTypeName(v))
}

func timezoneNew(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var off starlark.Value
	var name starlark.Value
	if err := starlark.UnpackArgs("timezone", args, kwargs, "offset", &off, "name?", &name); err != nil {
		return nil, err
	}
	td, ok := off.(timedelta)
	if !ok {
		return nil, fmt.Errorf("timezone() argument 1 must be datetime.timedelta, not %s", pyTypeName(off))
	}
	if td.us <= -24*usPerHour || td.us >= 24*usPerHour {
		return nil, fmt.Errorf("offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24), not %s", td)
	}
	tz := &timezone{offset: td.us}
	switch name := name.(type) {
	case nil:
		if td.us == 0 {
			return utc, nil
		}
	case starlark.String:
		tz.name, tz.named = string(name), true
	default:
		return nil, fmt.Errorf("timezone() argument 2 must be str, not %s", pyTypeName(name))
	}
	return tz, nil
}

// formatOffset formats an offset as Python's _format_offset: +HH<sep>MM[<sep>SS[.ffffff]].
func formatOffset(off int64, sep string) string {
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	s := fmt.Sprintf("%s%02d%s%02d", sign, off/usPerHour, sep, off/usPerMin%60)
	if rest := off % usPerMin; rest != 0 {
		s += fmt.Sprintf("%s%02d", sep, rest/usPerSec)
		if us := rest % usPerSec; us != 0 {
			s += fmt.Sprintf(".%06d", us)
		}
	}
	return s
}

func (tz *timezone) tzname() string {
	if tz.named {
		return tz.name
	}
	if tz.offset == 0 {
		return "UTC"
	}
	return "UTC" + formatOffset(tz.offset, ":")
}

func (tz *timezone) String() string        { return tz.tzname() }
func (tz *timezone) Type() string          { return "timezone" }
func (tz *timezone) Freeze()               {}
func (tz *timezone) Truth() starlark.Bool  { return true }
func (tz *timezone) Hash() (uint32, error) { return hashInt64(tz.offset), nil }
func (tz *timezone) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	eq := tz.offset == y.(*timezone).offset
	switch op {
	case syntax.EQL:
		return eq, nil
	case syntax.NEQ:
		return !eq, nil
	}
	return false, fmt.Errorf("'%s' not supported between instances of 'datetime.timezone' and 'datetime.timezone'", op)
}

var timezoneMethods = methods{
	"utcoffset": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var dt starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &dt); err != nil {
			return nil, err
		}
		return timedelta{b.Receiver().(*timezone).offset}, nil
	},
	"tzname": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var dt starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &dt); err != nil {
			return nil, err
		}
		return starlark.String(b.Receiver().(*timezone).tzname()), nil
	},
	"dst": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var dt starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &dt); err != nil {
			return nil, err
		}
		return starlark.None, nil
	},
}

func (tz *timezone) Attr(name string) (starlark.Value, error) {
	return timezoneMethods.bind(tz, name), nil
}
func (tz *timezone) AttrNames() []string { return timezoneMethods.names() }

// ---- date ----

// date is datetime.date, as days since 1970-01-01.
type date struct{ days int64 }

var (
	_ starlark.TotallyOrdered = date{}
	_ starlark.HasBinary      = date{}
	_ starlark.HasAttrs       = date{}
)

func makeDate(days int64) (date, error) {
	if days < minDays || days > maxDays {
		return date{}, fmt.Errorf("date value out of range")
	}
	return date{days}, nil
}

func (d date) ymd() (int, int, int) { return civilFromDays(d.days) }

func (d date) String() string {
	y, m, dd := d.ymd()
	return fmt.Sprintf("%04d-%02d-%02d", y, m, dd)
}
func (d date) Type() string          { return "date" }
func (d date) Freeze()               {}
func (d date) Truth() starlark.Bool  { return true }
func (d date) Hash() (uint32, error) { return hashInt64(d.days), nil }
func (d date) Cmp(y starlark.Value, depth int) (int, error) {
	return cmpInt64(d.days, y.(date).days), nil
}

func (d date) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	switch y := y.(type) {
	case timedelta:
		days := floorDiv(y.us, usPerDay)
		switch {
		case op == syntax.PLUS:
		case op == syntax.MINUS && side == starlark.Left:
			days = -days // Python subtracts td.days, ignoring the rest
		default:
			return nil, nil
		}
		if days < minDays-maxDays || days > maxDays-minDays {
			return nil, fmt.Errorf("date value out of range")
		}
		return makeDate(d.days + days)
	case date:
		if op == syntax.MINUS && side == starlark.Left {
			return timedelta{(d.days - y.days) * usPerDay}, nil
		}
	}
	return nil, nil
}

func (d date) tm() tmFields {
	y, m, dd := d.ymd()
	return tmFields{
		year: y, month: m, day: dd,
		wday: weekdayOf(d.days), yday: int(d.days-daysFromCivil(y, 1, 1)) + 1,
		unix: d.days * 86400, pyDirectives: true,
	}
}

func (d date) Attr(name string) (starlark.Value, error) {
	y, m, dd := d.ymd()
	switch name {
	case "year":
		return starlark.MakeInt(y), nil
	case "month":
		return starlark.MakeInt(m), nil
	case "day":
		return starlark.MakeInt(dd), nil
	}
	return dateMethods.bind(d, name), nil
}

func (d date) AttrNames() []string {
	return append([]string{"day", "month", "year"}, dateMethods.names()...)
}

func noArgs(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) error {
	return starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0)
}

// calendarMethods are the methods date and datetime share; each gets the receiver's date.
func calendarMethods(day func(recv starlark.Value) date) methods {
	return methods{
		"weekday": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := noArgs(b, args, kwargs); err != nil {
				return nil, err
			}
			return starlark.MakeInt(weekdayOf(day(b.Receiver()).days)), nil
		},
		"isoweekday": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := noArgs(b, args, kwargs); err != nil {
				return nil, err
			}
			return starlark.MakeInt(weekdayOf(day(b.Receiver()).days) + 1), nil
		},
		"isocalendar": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := noArgs(b, args, kwargs); err != nil {
				return nil, err
			}
			d := day(b.Receiver())
			y, w := d.tm().isoWeek()
			return starlark.Tuple{starlark.MakeInt(y), starlark.MakeInt(w), starlark.MakeInt(weekdayOf(d.days) + 1)}, nil
		},
		"toordinal": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := noArgs(b, args, kwargs); err != nil {
				return nil, err
			}
			return starlark.MakeInt64(day(b.Receiver()).days + ordinalOffset), nil
		},
	}
}

var dateMethods = methods{
	"isoformat": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		return starlark.String(b.Receiver().(date).String()), nil
	},
	"strftime": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var format string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "format", &format); err != nil {
			return nil, err
		}
		return starlark.String(strftime(format, b.Receiver().(date).tm())), nil
	},
	"ctime": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		return starlark.String(strftime("%a %b %e %H:%M:%S %Y", b.Receiver().(date).tm())), nil
	},
	"timetuple": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		return structTimeOf(b.Receiver().(date).tm(), -1, "", nil), nil
	},
	"replace": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		y, m, d := b.Receiver().(date).ymd()
		py, pm, pd := pyInt(y), pyInt(m), pyInt(d)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "year?", &py, "month?", &pm, "day?", &pd); err != nil {
			return nil, err
		}
		if err := checkDate(int(py), int(pm), int(pd)); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return date{daysFromCivil(int(py), int(pm), int(pd))}, nil
	},
}

func init() {
	for k, v := range calendarMethods(func(recv starlark.Value) date { return recv.(date) }) {
		dateMethods[k] = v
	}
	for k, v := range calendarMethods(func(recv starlark.Value) date { return recv.(datetime).date() }) {
		datetimeMethods[k] = v
	}
}

func dateNew(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var y, m, d pyInt
	if err := starlark.UnpackArgs("date", args, kwargs, "year", &y, "month", &m, "day", &d); err != nil {
		return nil, err
	}
	if err := checkDate(int(y), int(m), int(d)); err != nil {
		return nil, fmt.Errorf("date: %w", err)
	}
	return date{daysFromCivil(int(y), int(m), int(d))}, nil
}

func dateToday(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := noArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	return date{floorDiv(time.Now().UnixMicro(), usPerDay)}, nil
}

func dateFromTimestamp(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ts starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &ts); err != nil {
		return nil, err
	}
	us, err := timestampToUs(ts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return date{floorDiv(us, usPerDay)}, nil
}

func dateFromOrdinal(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var n pyInt
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &n); err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, fmt.Errorf("%s: ordinal must be >= 1", b.Name())
	}
	d, err := makeDate(int64(n) - ordinalOffset)
	if err != nil {
		return nil, fmt.Errorf("%s: year is out of range", b.Name())
	}
	return d, nil
}

// ---- datetime ----

// datetime is datetime.datetime: wall-clock microseconds since 1970-01-01 00:00 in the
// datetime's own zone, and that zone (nil when naive).
type datetime struct {
	us int64
	tz *timezone
}

var (
	_ starlark.Comparable = datetime{}
	_ starlark.HasBinary  = datetime{}
	_ starlark.HasAttrs   = datetime{}
)

func makeDatetime(us int64, tz *timezone) (datetime, error) {
	if us < minUs || us > maxUs {
		return datetime{}, fmt.Errorf("date value out of range")
	}
	return datetime{us, tz}, nil
}

// utcUs returns the UTC instant of an aware datetime, or the wall time of a naive one.
func (dt datetime) utcUs() int64 {
	if dt.tz == nil {
		return dt.us
	}
	return dt.us - dt.tz.offset
}

func (dt datetime) date() date { return date{floorDiv(dt.us, usPerDay)} }

func (dt datetime) clock() (h, m, s, us int) {
	rem := floorMod(dt.us, usPerDay)
	return int(rem / usPerHour), int(rem / usPerMin % 60), int(rem / usPerSec % 60), int(rem % usPerSec)
}

func (dt datetime) isoformat(sep, timespec string) (string, error) {
	h, m, s, us := dt.clock()
	var t string
	switch timespec {
	case "auto":
		t = fmt.Sprintf("%02d:%02d:%02d", h, m, s)
		if us != 0 {
			t += fmt.Sprintf(".%06d", us)
		}
	case "hours":
		t = fmt.Sprintf("%02d", h)
	case "minutes":
		t = fmt.Sprintf("%02d:%02d", h, m)
	case "seconds":
		t = fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	case "milliseconds":
		t = fmt.Sprintf("%02d:%02d:%02d.%03d", h, m, s, us/1000)
	case "microseconds":
		t = fmt.Sprintf("%02d:%02d:%02d.%06d", h, m, s, us)
	default:
		return "", fmt.Errorf("Unknown timespec value")
	}
	if dt.tz != nil {
		t += formatOffset(dt.tz.offset, ":")
	}
	return dt.date().String() + sep + t, nil
}

func (dt datetime) String() string {
	s, _ := dt.isoformat(" ", "auto")
	return s
}
func (dt datetime) Type() string          { return "datetime" }
func (dt datetime) Freeze()               {}
func (dt datetime) Truth() starlark.Bool  { return true }
func (dt datetime) Hash() (uint32, error) { return hashInt64(dt.utcUs()), nil }

func (dt datetime) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	other := y.(datetime)
	if (dt.tz == nil) != (other.tz == nil) {
		switch op {
		case syntax.EQL:
			return false, nil
		case syntax.NEQ:
			return true, nil
		}
		return false, fmt.Errorf("can't compare offset-naive and offset-aware datetimes")
	}
	c := cmpInt64(dt.utcUs(), other.utcUs())
	switch op {
	case syntax.EQL:
		return c == 0, nil
	case syntax.NEQ:
		return c != 0, nil
	case syntax.LT:
		return c < 0, nil
	case syntax.LE:
		return c <= 0, nil
	case syntax.GT:
		return c > 0, nil
	}
	return c >= 0, nil
}

func (dt datetime) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	switch y := y.(type) {
	case timedelta:
		d := y.us
		switch {
		case op == syntax.PLUS:
		case op == syntax.MINUS && side == starlark.Left:
			d = -d
		default:
			return nil, nil
		}
		us, ok := addInt64(dt.us, d)
		if !ok {
			return nil, fmt.Errorf("date value out of range")
		}
		return makeDatetime(us, dt.tz)
	case datetime:
		if op != syntax.MINUS || side != starlark.Left {
			return nil, nil
		}
		if (dt.tz == nil) != (y.tz == nil) {
			return nil, fmt.Errorf("can't subtract offset-naive and offset-aware datetimes")
		}
		return timedelta{dt.utcUs() - y.utcUs()}, nil
	}
	return nil, nil
}

func (dt datetime) tm() tmFields {
	tm := dt.date().tm()
	tm.hour, tm.minute, tm.second, tm.micro = dt.clock()
	tm.unix = floorDiv(dt.us, usPerSec)
	if dt.tz != nil {
		tm.offset = formatOffset(dt.tz.offset, "")
		tm.zone = dt.tz.tzname()
	}
	return tm
}

func (dt datetime) Attr(name string) (starlark.Value, error) {
	y, mo, d := dt.date().ymd()
	h, mi, s, us := dt.clock()
	switch name {
	case "year":
		return starlark.MakeInt(y), nil
	case "month":
		return starlark.MakeInt(mo), nil
	case "day":
		return starlark.MakeInt(d), nil
	case "hour":
		return starlark.MakeInt(h), nil
	case "minute":
		return starlark.MakeInt(mi), nil
	case "second":
		return starlark.MakeInt(s), nil
	case "microsecond":
		return starlark.MakeInt(us), nil
	case "fold":
		return starlark.MakeInt(0), nil
	case "tzinfo":
		if dt.tz == nil {
			return starlark.None, nil
		}
		return dt.tz, nil
	}
	return datetimeMethods.bind(dt, name), nil
}

func (dt datetime) AttrNames() []string {
	return append([]string{"day", "fold", "hour", "microsecond", "minute", "month", "second", "tzinfo", "year"},
		datetimeMethods.names()...)
}

func recvDT(b *starlark.Builtin) datetime { return b.Receiver().(datetime) }

var datetimeMethods = methods{
	"isoformat": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		sep, timespec := "T", "auto"
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "sep?", &sep, "timespec?", &timespec); err != nil {
			return nil, err
		}
		if n := len([]rune(sep)); n != 1 {
			return nil, fmt.Errorf("%s: isoformat() argument 1 must be a unicode character, not str", b.Name())
		}
		s, err := recvDT(b).isoformat(sep, timespec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return starlark.String(s), nil
	},
	"strftime": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var format string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "format", &format); err != nil {
			return nil, err
		}
		return starlark.String(strftime(format, recvDT(b).tm())), nil
	},
	"ctime": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		return starlark.String(strftime("%a %b %e %H:%M:%S %Y", recvDT(b).tm())), nil
	},
	"timestamp": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		return starlark.Float(usToSeconds(recvDT(b).utcUs())), nil
	},
	"date": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		return recvDT(b).date(), nil
	},
	"utcoffset": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		if dt := recvDT(b); dt.tz != nil {
			return timedelta{dt.tz.offset}, nil
		}
		return starlark.None, nil
	},
	"tzname": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		if dt := recvDT(b); dt.tz != nil {
			return starlark.String(dt.tz.tzname()), nil
		}
		return starlark.None, nil
	},
	"dst": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		return starlark.None, nil
	},
	"astimezone": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var tzv starlark.Value
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "tz?", &tzv); err != nil {
			return nil, err
		}
		tz, err := tzArg(tzv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		if tz == nil {
			tz = utc // the local zone is UTC
		}
		dt, err := makeDatetime(recvDT(b).utcUs()+tz.offset, tz)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return dt, nil
	},
	"replace": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		dt := recvDT(b)
		y, mo, d := dt.date().ymd()
		h, mi, s, us := dt.clock()
		f := [7]pyInt{pyInt(y), pyInt(mo), pyInt(d), pyInt(h), pyInt(mi), pyInt(s), pyInt(us)}
		var tzv starlark.Value = starlark.None
		if dt.tz != nil {
			tzv = dt.tz
		}
		var fold pyInt
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "year?", &f[0], "month?", &f[1], "day?", &f[2],
			"hour?", &f[3], "minute?", &f[4], "second?", &f[5], "microsecond?", &f[6], "tzinfo?", &tzv, "fold?", &fold); err != nil {
			return nil, err
		}
		r, err := buildDatetime(f, tzv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return r, nil
	},
	"timetuple": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		return structTimeOf(recvDT(b).tm(), -1, "", nil), nil
	},
	"utctimetuple": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		dt := recvDT(b)
		return structTimeOf(datetime{us: dt.utcUs()}.tm(), 0, "", nil), nil
	},
}

func buildDatetime(f [7]pyInt, tzv starlark.Value) (datetime, error) {
	if err := checkDate(int(f[0]), int(f[1]), int(f[2])); err != nil {
		return datetime{}, err
	}
	if err := checkTime(int(f[3]), int(f[4]), int(f[5]), int(f[6])); err != nil {
		return datetime{}, err
	}
	tz, err := tzArg(tzv)
	if err != nil {
		return datetime{}, err
	}
	us := daysFromCivil(int(f[0]), int(f[1]), int(f[2]))*usPerDay +
		int64(f[3])*usPerHour + int64(f[4])*usPerMin + int64(f[5])*usPerSec + int64(f[6])
	return datetime{us, tz}, nil
}

func datetimeNew(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var f [7]pyInt
	var tzv starlark.Value
	var fold pyInt
	if err := starlark.UnpackArgs("datetime", args, kwargs, "year", &f[0], "month", &f[1], "day", &f[2],
		"hour?", &f[3], "minute?", &f[4], "second?", &f[5], "microsecond?", &f[6], "tzinfo?", &tzv, "fold?", &fold); err != nil {
		return nil, err
	}
	dt, err := buildDatetime(f, tzv)
	if err != nil {
		return nil, fmt.Errorf("datetime: %w", err)
	}
	return dt, nil
}

// fromUTC makes the datetime of a UTC instant in zone tz, or naive UTC wall time if tz is nil.
func fromUTC(us int64, tz *timezone) (datetime, error) {
	if tz != nil {
		us += tz.offset
	}
	return makeDatetime(us, tz)
}

func datetimeNow(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var tzv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "tz?", &tzv); err != nil {
		return nil, err
	}
	tz, err := tzArg(tzv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return fromUTC(time.Now().UnixMicro(), tz)
}

func datetimeUTCNow(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := noArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	return datetime{us: time.Now().UnixMicro()}, nil
}

// timestampToUs converts a POSIX timestamp (int or float seconds) to microseconds, rounding
// as CPython does (the fraction to the nearest microsecond, ties to even).
func timestampToUs(v starlark.Value) (int64, error) {
	const limit = 1 << 40 // seconds; far beyond year 9999
	var secs, frac float64
	switch v := v.(type) {
	case starlark.Int:
		s, ok := v.Int64()
		if !ok || s > limit || s < -limit {
			return 0, fmt.Errorf("timestamp out of range for platform time_t")
		}
		return rangeCheckUs(s * usPerSec)
	case starlark.Float:
		f := float64(v)
		if math.IsNaN(f) {
			return 0, fmt.Errorf("Invalid value NaN (not a number)")
		}
		if math.IsInf(f, 0) || f > limit || f < -limit {
			return 0, fmt.Errorf("timestamp out of range for platform time_t")
		}
		secs, frac = math.Modf(f)
	default:
		return 0, fmt.Errorf("'%s' object cannot be interpreted as an integer", pyTypeName(v))
	}
	us := int64(roundHalfEven(frac * 1e6))
	return rangeCheckUs(int64(secs)*usPerSec + us)
}

func rangeCheckUs(us int64) (int64, error) {
	if us < minUs || us > maxUs {
		y, _, _ := civilFromDays(floorDiv(us, usPerDay))
		return 0, fmt.Errorf("year %d is out of range", y)
	}
	return us, nil
}

func datetimeFromTimestamp(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ts, tzv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "timestamp", &ts, "tz?", &tzv); err != nil {
		return nil, err
	}
	tz, err := tzArg(tzv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	us, err := timestampToUs(ts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	dt, err := fromUTC(us, tz)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return dt, nil
}

func datetimeUTCFromTimestamp(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ts starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &ts); err != nil {
		return nil, err
	}
	us, err := timestampToUs(ts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return datetime{us: us}, nil
}

func datetimeFromOrdinal(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	d, err := dateFromOrdinal(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return datetime{us: d.(date).days * usPerDay}, nil
}

// datetimeCombine is datetime.combine(date, time, tzinfo): weir has no time class, so time
// is a datetime whose clock (and zone) is taken.
func datetimeCombine(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var d, t, tzv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "date", &d, "time", &t, "tzinfo?", &tzv); err != nil {
		return nil, err
	}
	var day date
	switch d := d.(type) {
	case date:
		day = d
	case datetime:
		day = d.date()
	default:
		return nil, fmt.Errorf("%s: combine() argument 1 must be datetime.date, not %s", b.Name(), pyTypeName(d))
	}
	clock, ok := t.(datetime)
	if !ok {
		return nil, fmt.Errorf("%s: combine() argument 2 must be a datetime (weir has no time class), not %s", b.Name(), pyTypeName(t))
	}
	tz := clock.tz
	if tzv != nil {
		var err error
		if tz, err = tzArg(tzv); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
	}
	return datetime{day.days*usPerDay + floorMod(clock.us, usPerDay), tz}, nil
}

func datetimeFromISOFormat(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
		return nil, err
	}
	dt, err := parseISODatetime(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return dt, nil
}

func dateFromISOFormat(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
		return nil, err
	}
	d, err := parseISODateOnly(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return d, nil
}

func datetimeStrptime(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s, format string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &s, &format); err != nil {
		return nil, err
	}
	r, err := strptime(s, format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	var tz *timezone
	if r.hasOffset {
		if r.offset <= -24*usPerHour || r.offset >= 24*usPerHour {
			return nil, fmt.Errorf("%s: offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24), not %s", b.Name(), timedelta{r.offset})
		}
		tz = &timezone{offset: r.offset}
		if r.zone != "" {
			tz.name, tz.named = r.zone, true
		} else if r.offset == 0 {
			tz = utc
		}
	}
	if err := checkDate(r.year, r.month, r.day); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return datetime{daysFromCivil(r.year, r.month, r.day)*usPerDay + int64(r.hour)*usPerHour +
		int64(r.minute)*usPerMin + int64(r.second)*usPerSec + int64(r.micro), tz}, nil
}

// pyQuote quotes s as Python's repr(str) does for plain text.
func pyQuote(s string) string {
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
