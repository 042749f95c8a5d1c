package lib

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Parsing for the datetime module: fromisoformat (CPython 3.11's grammar, ported from
// Lib/datetime.py) and strptime (CPython's _strptime: a regular expression per directive).

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// atoiDigits parses a run of ASCII digits.
func atoiDigits(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("invalid literal for int(): %q", s)
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, fmt.Errorf("invalid literal for int(): %q", s)
		}
	}
	return strconv.Atoi(s)
}

// isoSeparator finds where the date ends in a datetime string (_find_isoformat_datetime_separator).
func isoSeparator(s string) (int, error) {
	n := len(s)
	if n == 7 {
		return 7, nil
	}
	if s[4] == '-' {
		if s[5] == 'W' {
			if n < 8 {
				return 0, fmt.Errorf("invalid ISO string")
			}
			if n > 8 && s[8] == '-' {
				if n == 9 {
					return 0, fmt.Errorf("invalid ISO string")
				}
				if n > 10 && isDigit(s[10]) {
					return 8, nil
				}
				return 10, nil
			}
			return 8, nil
		}
		return 10, nil
	}
	if s[4] == 'W' {
		idx := 7
		for idx < n && isDigit(s[idx]) {
			idx++
		}
		if idx < 9 {
			return idx, nil
		}
		if idx%2 == 0 {
			return 7, nil
		}
		return 8, nil
	}
	return 8, nil
}

// parseISODate parses YYYY-MM-DD, YYYYMMDD, YYYY-Www[-D] or YYYYWww[D] to days since the epoch.
func parseISODate(s string) (int64, error) {
	if len(s) < 7 {
		return 0, fmt.Errorf("invalid date")
	}
	year, err := atoiDigits(s[0:4])
	if err != nil {
		return 0, err
	}
	hasSep := s[4] == '-'
	pos := 4
	if hasSep {
		pos++
	}
	sep := 0
	if hasSep {
		sep = 1
	}
	if pos < len(s) && s[pos] == 'W' {
		pos++
		if pos+2 > len(s) {
			return 0, fmt.Errorf("invalid week")
		}
		week, err := atoiDigits(s[pos : pos+2])
		if err != nil {
			return 0, err
		}
		pos += 2
		day := 1
		if len(s) > pos {
			if (s[pos] == '-') != hasSep {
				return 0, fmt.Errorf("Inconsistent use of dash separator")
			}
			pos += sep
			if day, err = atoiDigits(s[pos:min(pos+1, len(s))]); err != nil {
				return 0, err
			}
			if pos+1 != len(s) {
				return 0, fmt.Errorf("invalid date")
			}
		}
		return isoWeekToDays(year, week, day)
	}
	if pos+2 > len(s) {
		return 0, fmt.Errorf("invalid date")
	}
	month, err := atoiDigits(s[pos : pos+2])
	if err != nil {
		return 0, err
	}
	pos += 2
	if (pos < len(s) && s[pos] == '-') != hasSep {
		return 0, fmt.Errorf("Inconsistent use of dash separator")
	}
	pos += sep
	if pos+2 != len(s) {
		return 0, fmt.Errorf("invalid date")
	}
	day, err := atoiDigits(s[pos : pos+2])
	if err != nil {
		return 0, err
	}
	if err := checkDate(year, month, day); err != nil {
		return 0, rangeError{err}
	}
	return daysFromCivil(year, month, day), nil
}

// rangeError is a well-formed field out of range: fromisoformat reports it as is, and any
// other failure as "Invalid isoformat string".
type rangeError struct{ error }

func isoError(err error, s string) error {
	if re, ok := err.(rangeError); ok {
		return re.error
	}
	return fmt.Errorf("Invalid isoformat string: %s", pyQuote(s))
}

// parseHHMMSSFF parses HH[:?MM[:?SS[{.,}fff[fff]]]] (_parse_hh_mm_ss_ff).
func parseHHMMSSFF(s string) ([4]int, error) {
	var comps [4]int
	pos, hasSep := 0, false
	for comp := 0; comp < 3; comp++ {
		if len(s)-pos < 2 {
			return comps, fmt.Errorf("Incomplete time component")
		}
		v, err := atoiDigits(s[pos : pos+2])
		if err != nil {
			return comps, err
		}
		comps[comp] = v
		pos += 2
		if comp == 0 {
			hasSep = pos < len(s) && s[pos] == ':'
		}
		if pos >= len(s) || comp >= 2 {
			break
		}
		if hasSep {
			if s[pos] != ':' {
				return comps, fmt.Errorf("Invalid time separator: %c", s[pos])
			}
			pos++
		}
	}
	if pos < len(s) {
		if s[pos] != '.' && s[pos] != ',' {
			return comps, fmt.Errorf("Invalid microsecond component")
		}
		pos++
		rest := s[pos:]
		n := min(len(rest), 6)
		v, err := atoiDigits(rest[:n])
		if err != nil {
			return comps, err
		}
		for i := n; i < 6; i++ {
			v *= 10
		}
		comps[3] = v
		for i := n; i < len(rest); i++ {
			if !isDigit(rest[i]) {
				return comps, fmt.Errorf("Non-digit values in unparsed fraction")
			}
		}
	}
	return comps, nil
}

// parseISOTime parses the time part, with an optional Z or ±HH[:MM[:SS[.ffffff]]] offset.
func parseISOTime(s string) (comps [4]int, tz *timezone, err error) {
	if len(s) < 2 {
		return comps, nil, fmt.Errorf("Isoformat time too short")
	}
	tzPos := strings.IndexByte(s, '-') + 1
	if tzPos == 0 {
		tzPos = strings.IndexByte(s, '+') + 1
	}
	if tzPos == 0 {
		tzPos = strings.IndexByte(s, 'Z') + 1
	}
	timeStr := s
	if tzPos > 0 {
		timeStr = s[:tzPos-1]
	}
	if comps, err = parseHHMMSSFF(timeStr); err != nil {
		return comps, nil, err
	}
	switch {
	case tzPos == len(s) && s[len(s)-1] == 'Z':
		tz = utc
	case tzPos > 0:
		tzStr := s[tzPos:]
		if n := len(tzStr); n == 0 || n == 1 || n == 3 {
			return comps, nil, fmt.Errorf("Malformed time zone string")
		}
		tc, err := parseHHMMSSFF(tzStr)
		if err != nil {
			return comps, nil, err
		}
		off := int64(tc[0])*usPerHour + int64(tc[1])*usPerMin + int64(tc[2])*usPerSec + int64(tc[3])
		if s[tzPos-1] == '-' {
			off = -off
		}
		switch {
		case off == 0:
			tz = utc
		case off <= -24*usPerHour || off >= 24*usPerHour:
			return comps, nil, fmt.Errorf("offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24)")
		default:
			tz = &timezone{offset: off}
		}
	}
	return comps, tz, nil
}

func parseISODatetime(s string) (datetime, error) {
	invalid := fmt.Errorf("Invalid isoformat string: %s", pyQuote(s))
	if len(s) < 7 {
		return datetime{}, invalid
	}
	sepAt, err := isoSeparator(s)
	if err != nil || sepAt > len(s) {
		return datetime{}, invalid
	}
	days, err := parseISODate(s[:sepAt])
	if err != nil {
		return datetime{}, isoError(err, s)
	}
	var comps [4]int
	var tz *timezone
	if sepAt < len(s) {
		// The separator is any one character.
		_, size := firstRune(s[sepAt:])
		if tstr := s[sepAt+size:]; tstr != "" {
			if comps, tz, err = parseISOTime(tstr); err != nil {
				return datetime{}, invalid
			}
		}
	}
	if err := checkTime(comps[0], comps[1], comps[2], comps[3]); err != nil {
		return datetime{}, err
	}
	return makeDatetime(days*usPerDay+int64(comps[0])*usPerHour+int64(comps[1])*usPerMin+
		int64(comps[2])*usPerSec+int64(comps[3]), tz)
}

func firstRune(s string) (rune, int) {
	for i, r := range s {
		if i > 0 {
			return r, i
		}
	}
	return 0, len(s)
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
	if isoYear >= 0 {
		if julian >= 0 {
			return nil, fmt.Errorf("Day of the year directive '%%j' is not compatible with ISO year directive '%%G'. Use '%%Y' instead.")
		}
		if isoWeek < 0 || weekday < 0 {
			return nil, fmt.Errorf("ISO year directive '%%G' must be used with the ISO week directive '%%V' and a weekday directive ('%%A', '%%a', '%%w', or '%%u').")
		}
	} else if isoWeek >= 0 {
		if year < 0 || weekday < 0 {
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
