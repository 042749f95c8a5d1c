package lib

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Parsing for the datetime module: fromisoformat (a port of CPython 3.11's C parser in
// Modules/_datetimemodule.c, quirks included) and strptime (CPython's _strptime: a regular
// expression per directive).

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// charAt returns s[i], or 0 past the end, as C reads its NUL-terminated string.
func charAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// parseDigits reads exactly n digits at s[p:] (parse_digits).
func parseDigits(s string, p, n int) (val, next int, ok bool) {
	for i := 0; i < n; i++ {
		c := charAt(s, p+i)
		if !isDigit(c) {
			return 0, 0, false
		}
		val = val*10 + int(c-'0')
	}
	return val, p + n, true
}

// isoSeparator finds where the date ends in a datetime string
// (_find_isoformat_datetime_separator).
func isoSeparator(s string) int {
	n := len(s)
	if n == 7 {
		return 7
	}
	if s[4] == '-' {
		if s[5] != 'W' {
			return 10
		}
		if n < 8 {
			return -1
		}
		if n > 8 && s[8] == '-' {
			if n == 9 {
				return -1
			}
			if n > 10 && isDigit(s[10]) {
				return 8
			}
			return 10
		}
		return 8
	}
	if s[4] == 'W' {
		idx := 7
		for idx < n && isDigit(s[idx]) {
			idx++
		}
		if idx < 9 {
			return idx
		}
		if idx%2 == 0 {
			return 7
		}
		return 8
	}
	return 8
}

var errISO = errors.New("invalid isoformat string")

// parseISODate parses the date in s[:n]: YYYY-MM-DD, YYYYMMDD, YYYY-Www[-D] or YYYYWww[D]
// (parse_isoformat_date). Fields are not range-checked.
func parseISODate(s string, n int) (y, m, d int, err error) {
	y, p, ok := parseDigits(s, 0, 4)
	if !ok {
		return 0, 0, 0, errISO
	}
	usesSep := charAt(s, p) == '-'
	if usesSep {
		p++
	}
	if charAt(s, p) == 'W' {
		week, day := 0, 1
		if week, p, ok = parseDigits(s, p+1, 2); !ok {
			return 0, 0, 0, errISO
		}
		if p < n {
			if usesSep {
				if charAt(s, p) != '-' {
					return 0, 0, 0, errISO
				}
				p++
			}
			if day, _, ok = parseDigits(s, p, 1); !ok {
				return 0, 0, 0, errISO
			}
		}
		days, err := isoWeekToDays(y, week, day)
		if err != nil {
			return 0, 0, 0, errISO
		}
		y, m, d = civilFromDays(days)
		return y, m, d, nil
	}
	if m, p, ok = parseDigits(s, p, 2); !ok {
		return 0, 0, 0, errISO
	}
	if usesSep {
		if charAt(s, p) != '-' {
			return 0, 0, 0, errISO
		}
		p++
	}
	if d, _, ok = parseDigits(s, p, 2); !ok {
		return 0, 0, 0, errISO
	}
	return y, m, d, nil
}

// parseHHMMSSFF parses HH[:?MM[:?SS[{.,}ffffff]]] from s[p:end] (parse_hh_mm_ss_ff). rv is
// negative on failure, 1 if something other than the end of s follows, else 0.
func parseHHMMSSFF(s string, p, end int) (vals [4]int, rv int) {
	hasSep := true
	for i := 0; i < 3; i++ {
		v, next, ok := parseDigits(s, p, 2)
		if !ok {
			return vals, -3
		}
		vals[i], p = v, next
		c := charAt(s, p)
		p++
		if i == 0 {
			hasSep = c == ':'
		}
		if p >= end {
			return vals, b2i(c != 0)
		}
		if hasSep && c == ':' {
			continue
		}
		if c == '.' || c == ',' {
			break
		}
		if !hasSep {
			p--
			continue
		}
		return vals, -4
	}
	toParse := min(end-p, 6)
	us, next, ok := parseDigits(s, p, toParse)
	if !ok {
		return vals, -3
	}
	for i := toParse; i < 6; i++ {
		us *= 10
	}
	vals[3], p = us, next
	for isDigit(charAt(s, p)) {
		p++
	}
	return vals, b2i(charAt(s, p) != 0)
}

// parseISOTime parses the time in s[p:] with an optional Z or ±HH[:MM[:SS[.ffffff]]] offset
// (parse_isoformat_time). hasTZ reports an offset, in microseconds.
func parseISOTime(s string, p int) (vals [4]int, hasTZ bool, offset int64, err error) {
	tzPos := p
	for tzPos < len(s) && s[tzPos] != 'Z' && s[tzPos] != '+' && s[tzPos] != '-' {
		tzPos++
	}
	vals, rv := parseHHMMSSFF(s, p, tzPos)
	if rv < 0 {
		return vals, false, 0, errISO
	}
	if tzPos >= len(s) {
		if rv == 1 {
			return vals, false, 0, errISO
		}
		return vals, false, 0, nil
	}
	if s[tzPos] == 'Z' {
		if tzPos+1 != len(s) {
			return vals, false, 0, errISO
		}
		return vals, true, 0, nil
	}
	sign := int64(1)
	if s[tzPos] == '-' {
		sign = -1
	}
	tz, rv := parseHHMMSSFF(s, tzPos+1, len(s))
	if rv != 0 {
		return vals, false, 0, errISO
	}
	offset = sign * (int64(tz[0])*usPerHour + int64(tz[1])*usPerMin + int64(tz[2])*usPerSec + int64(tz[3]))
	return vals, true, offset, nil
}

func invalidISO(s string) error {
	return fmt.Errorf("Invalid isoformat string: %s", pyQuote(s))
}

// parseISODatetime is datetime.fromisoformat: malformed text is "Invalid isoformat string",
// while well-formed fields out of range fail as the datetime constructor does.
func parseISODatetime(s string) (datetime, error) {
	if len(s) < 7 {
		return datetime{}, invalidISO(s)
	}
	sepAt := isoSeparator(s)
	if sepAt < 0 {
		return datetime{}, invalidISO(s)
	}
	y, mo, d, err := parseISODate(s, sepAt)
	if err != nil {
		return datetime{}, invalidISO(s)
	}
	var vals [4]int
	var hasTZ bool
	var offset int64
	if len(s) > sepAt {
		// The separator is any one character.
		_, size := utf8.DecodeRuneInString(s[sepAt:])
		if vals, hasTZ, offset, err = parseISOTime(s, sepAt+size); err != nil {
			return datetime{}, invalidISO(s)
		}
	}
	if err := checkDate(y, mo, d); err != nil {
		return datetime{}, err
	}
	if err := checkTime(vals[0], vals[1], vals[2], vals[3]); err != nil {
		return datetime{}, err
	}
	var tz *timezone
	if hasTZ {
		switch {
		case offset == 0:
			tz = utc
		case offset <= -24*usPerHour || offset >= 24*usPerHour:
			return datetime{}, fmt.Errorf("offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24), not %s", timedelta{offset})
		default:
			tz = &timezone{offset: offset}
		}
	}
	return datetime{daysFromCivil(y, mo, d)*usPerDay + int64(vals[0])*usPerHour + int64(vals[1])*usPerMin +
		int64(vals[2])*usPerSec + int64(vals[3]), tz}, nil
}

// parseISODateOnly is date.fromisoformat.
func parseISODateOnly(s string) (date, error) {
	if n := len(s); n != 7 && n != 8 && n != 10 {
		return date{}, invalidISO(s)
	}
	y, m, d, err := parseISODate(s, len(s))
	if err != nil {
		return date{}, invalidISO(s)
	}
	if err := checkDate(y, m, d); err != nil {
		return date{}, err
	}
	return date{daysFromCivil(y, m, d)}, nil
}

// ---- strptime ----

var strptimeRE = map[byte]string{
	'd': `(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])`,
	'f': `(?P<f>[0-9]{1,6})`,
	'H': `(?P<H>2[0-3]|[0-1]\d|\d)`,
	'I': `(?P<I>1[0-2]|0[1-9]|[1-9])`,
	'G': `(?P<G>\d\d\d\d)`,
	'j': `(?P<j>36[0-6]|3[0-5]\d|[1-2]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])`,
	'm': `(?P<m>1[0-2]|0[1-9]|[1-9])`,
	'M': `(?P<M>[0-5]\d|\d)`,
	'S': `(?P<S>6[0-1]|[0-5]\d|\d)`,
	'U': `(?P<U>5[0-3]|[0-4]\d|\d)`,
	'W': `(?P<W>5[0-3]|[0-4]\d|\d)`,
	'w': `(?P<w>[0-6])`,
	'u': `(?P<u>[1-7])`,
	'V': `(?P<V>5[0-3]|0[1-9]|[1-4]\d|\d)`,
	'y': `(?P<y>\d\d)`,
	'Y': `(?P<Y>\d\d\d\d)`,
	'z': `(?P<z>[+-]\d\d:?[0-5]\d(:?[0-5]\d(\.\d{1,6})?)?|(?-i:Z))`,
	'A': `(?P<A>wednesday|thursday|saturday|tuesday|sunday|monday|friday)`,
	'a': `(?P<a>mon|tue|wed|thu|fri|sat|sun)`,
	'B': `(?P<B>september|february|november|december|january|october|august|march|april|july|june|may)`,
	'b': `(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)`,
	'p': `(?P<p>am|pm)`,
	'Z': `(?P<Z>utc|gmt)`,
	'%': `%`,
}

// strptimeMacros are the C locale's %c, %x and %X, as Python's _strptime expands them.
var strptimeMacros = map[byte]string{
	'c': "%a %b %d %H:%M:%S %Y",
	'x': "%m/%d/%y",
	'X': "%H:%M:%S",
}

var (
	strptimeCacheMu sync.Mutex
	strptimeCache   = map[string]*regexp.Regexp{}
)

func strptimeRegexp(format string) (*regexp.Regexp, error) {
	strptimeCacheMu.Lock()
	re, ok := strptimeCache[format]
	strptimeCacheMu.Unlock()
	if ok {
		return re, nil
	}
	var pat strings.Builder
	pat.WriteString(`(?i)\A`)
	seen := map[byte]bool{} // Python's regular expression rejects a repeated directive
	var expand func(f string, outer string) error
	expand = func(f string, outer string) error {
		for i := 0; i < len(f); i++ {
			c := f[i]
			switch {
			case c == '%':
				if i+1 >= len(f) {
					return fmt.Errorf("stray %% in format %s", pyQuote(outer))
				}
				i++
				d := f[i]
				if m, ok := strptimeMacros[d]; ok {
					if err := expand(m, outer); err != nil {
						return err
					}
					continue
				}
				r, ok := strptimeRE[d]
				if !ok {
					return fmt.Errorf("%s is a bad directive in format %s", pyQuote(string(d)), pyQuote(outer))
				}
				if d != '%' {
					if seen[d] {
						return fmt.Errorf("redefinition of group name %s in format %s", pyQuote(string(d)), pyQuote(outer))
					}
					seen[d] = true
				}
				pat.WriteString(r)
			case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
				for i+1 < len(f) && strings.IndexByte(" \t\n\r\f\v", f[i+1]) >= 0 {
					i++
				}
				pat.WriteString(`\s+`)
			default:
				pat.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		return nil
	}
	if err := expand(format, format); err != nil {
		return nil, err
	}
	re, err := regexp.Compile(pat.String())
	if err != nil {
		return nil, fmt.Errorf("format %s: %v", pyQuote(format), err)
	}
	strptimeCacheMu.Lock()
	if len(strptimeCache) > 256 {
		strptimeCache = map[string]*regexp.Regexp{}
	}
	strptimeCache[format] = re
	strptimeCacheMu.Unlock()
	return re, nil
}

type strptimeResult struct {
	year, month, day, hour, minute, second, micro int
	wday, yday                                    int
	hasOffset                                     bool
	offset                                        int64 // microseconds
	zone                                          string
}

func lookupName(names []string, s string, n int) int {
	for i, name := range names {
		if strings.EqualFold(name[:min(n, len(name))], s) {
			return i
		}
	}
	return -1
}

// strptime parses s as CPython's _strptime._strptime does.
func strptime(s, format string) (*strptimeResult, error) {
	re, err := strptimeRegexp(format)
	if err != nil {
		return nil, err
	}
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		return nil, fmt.Errorf("time data %s does not match format %s", pyQuote(s), pyQuote(format))
	}
	if m[1] != len(s) {
		return nil, fmt.Errorf("unconverted data remains: %s", s[m[1]:])
	}
	// The groups found, in the format's order (a later one wins, as in Python).
	var order []string
	found := map[string]string{}
	for i, name := range re.SubexpNames() {
		if name != "" && m[2*i] >= 0 {
			order = append(order, name)
			found[name] = s[m[2*i]:m[2*i+1]]
		}
	}
	r := &strptimeResult{month: 1, day: 1}
	year, weekday, julian, weekOfYear, isoYear, isoWeek := -1, -1, -1, -1, -1, -1
	weekStartsMon := false
	atoi := func(k string) int { n, _ := strconv.Atoi(strings.TrimSpace(found[k])); return n }
	weekdays := weekdayNames[:]
	months := monthNames[1:]
	for _, k := range order {
		v := found[k]
		switch k {
		case "y":
			year = atoi(k)
			if year <= 68 {
				year += 2000
			} else {
				year += 1900
			}
		case "Y":
			year = atoi(k)
		case "G":
			isoYear = atoi(k)
		case "m":
			r.month = atoi(k)
		case "B":
			r.month = lookupName(months, v, 99) + 1
		case "b":
			r.month = lookupName(months, v, 3) + 1
		case "d":
			r.day = atoi(k)
		case "H":
			r.hour = atoi(k)
		case "I":
			r.hour = atoi(k)
			switch strings.ToLower(found["p"]) {
			case "", "am":
				if r.hour == 12 {
					r.hour = 0
				}
			case "pm":
				if r.hour != 12 {
					r.hour += 12
				}
			}
		case "M":
			r.minute = atoi(k)
		case "S":
			r.second = atoi(k)
		case "f":
			r.micro, _ = strconv.Atoi(v + strings.Repeat("0", 6-len(v)))
		case "A":
			weekday = lookupName(weekdays, v, 99)
		case "a":
			weekday = lookupName(weekdays, v, 3)
		case "w":
			weekday = (atoi(k) + 6) % 7
		case "u":
			weekday = atoi(k) - 1
		case "j":
			julian = atoi(k)
		case "U", "W":
			weekOfYear = atoi(k)
			weekStartsMon = k == "W"
		case "V":
			isoWeek = atoi(k)
		case "z":
			r.hasOffset = true
			if v == "Z" || v == "z" {
				break
			}
			z := v
			if z[3] == ':' {
				z = z[:3] + z[4:]
				if len(z) > 5 {
					if z[5] != ':' {
						return nil, fmt.Errorf("Inconsistent use of : in %s", v)
					}
					z = z[:5] + z[6:]
				}
			}
			hh, _ := strconv.Atoi(z[1:3])
			mm, _ := strconv.Atoi(z[3:5])
			ss := 0
			if len(z) >= 7 {
				ss, _ = strconv.Atoi(z[5:7])
			}
			frac := 0
			if len(z) > 8 {
				frac, _ = strconv.Atoi(z[8:] + strings.Repeat("0", 6-len(z[8:])))
			}
			r.offset = int64(hh)*usPerHour + int64(mm)*usPerMin + int64(ss)*usPerSec + int64(frac)
			if z[0] == '-' {
				r.offset = -r.offset
			}
		case "Z":
			r.zone = v
		}
	}
	if !r.hasOffset {
		r.zone = "" // %Z alone only matches UTC or GMT and leaves the result naive
	}
	if year < 0 && isoYear >= 0 {
		if isoWeek < 0 || weekday < 0 {
			return nil, fmt.Errorf("ISO year directive '%%G' must be used with the ISO week directive '%%V' and a weekday directive ('%%A', '%%a', '%%w', or '%%u').")
		}
		if julian >= 0 {
			return nil, fmt.Errorf("Day of the year directive '%%j' is not compatible with ISO year directive '%%G'. Use '%%Y' instead.")
		}
	} else if weekOfYear < 0 && isoWeek >= 0 {
		if weekday < 0 {
			return nil, fmt.Errorf("ISO week directive '%%V' must be used with the ISO year directive '%%G' and a weekday directive ('%%A', '%%a', '%%w', or '%%u').")
		}
		return nil, fmt.Errorf("ISO week directive '%%V' is incompatible with the year directive '%%Y'. Use the ISO year '%%G' instead.")
	}
	leapFix := false
	if year < 0 {
		year = 1900
		if r.month == 2 && r.day == 29 {
			year, leapFix = 1904, true
		}
	}
	var days int64
	computed := false
	switch {
	case julian < 0 && weekday >= 0 && weekOfYear >= 0:
		julian, computed = julianFromUW(year, weekOfYear, weekday, weekStartsMon), true
	case julian < 0 && weekday >= 0 && isoYear >= 0 && isoWeek >= 0:
		d, err := isoWeekToDays(isoYear, isoWeek, weekday+1)
		if err != nil {
			return nil, err
		}
		year, _, _ = civilFromDays(d)
		julian, computed = int(d-daysFromCivil(year, 1, 1))+1, true
	}
	if computed && julian <= 0 {
		year--
		julian += 365 + b2i(isLeap(year))
	}
	if julian < 0 {
		if err := checkDate(year, r.month, r.day); err != nil {
			return nil, err
		}
		days = daysFromCivil(year, r.month, r.day)
	} else {
		days = daysFromCivil(year, 1, 1) + int64(julian) - 1
		year, r.month, r.day = civilFromDays(days)
	}
	if leapFix {
		year = 1900
	}
	if err := checkTime(r.hour, r.minute, r.second, r.micro); err != nil {
		return nil, err
	}
	r.year = year
	r.wday = weekdayOf(days)
	r.yday = int(days-daysFromCivil(year, 1, 1)) + 1
	return r, nil
}

func julianFromUW(year, week, weekday int, weekStartsMon bool) int {
	first := weekdayOf(daysFromCivil(year, 1, 1))
	if !weekStartsMon {
		first = (first + 1) % 7
		weekday = (weekday + 1) % 7
	}
	week0 := (7 - first) % 7
	if week == 0 {
		return 1 + weekday - first
	}
	return 1 + week0 + 7*(week-1) + weekday
}
