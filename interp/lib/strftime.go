package lib

import (
	"strconv"
	"strings"
	"time"
)

// strftime formatting shared by time.strftime and datetime's strftime methods. It follows
// glibc in the C locale, which is what CPython calls on Linux, including the '-', '_', '0' and
// '^' flags and field widths (%-d, %_H, %5Y).

var (
	weekdayNames = [7]string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	monthNames   = [13]string{"", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

// tmFields is a broken-down time to format.
type tmFields struct {
	year, month, day, hour, minute, second, micro int
	wday                                          int // Monday is 0, as in Python
	yday                                          int // 1-based
	offset                                        string
	zone                                          string
	unix                                          int64 // for %s
	pyDirectives                                  bool  // %f is datetime's microseconds, not glibc's unknown directive
}

func strftime(format string, tm tmFields) string {
	var out strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 >= len(format) {
			out.WriteByte(c)
			continue
		}
		start := i
		i++
		flag := byte(0)
		if strings.IndexByte("-_0^#", format[i]) >= 0 {
			flag = format[i]
			i++
		}
		width := -1
		for i < len(format) && '0' <= format[i] && format[i] <= '9' {
			if width < 0 {
				width = 0
			}
			width = width*10 + int(format[i]-'0')
			i++
		}
		if i < len(format) && (format[i] == 'E' || format[i] == 'O') {
			i++
		}
		if i >= len(format) {
			out.WriteString(format[start:])
			break
		}
		s, ok := tm.directive(format[i], flag, width)
		if !ok {
			out.WriteString(format[start : i+1])
			continue
		}
		out.WriteString(s)
	}
	return out.String()
}

// directive formats one conversion; ok is false for one glibc does not know.
func (tm tmFields) directive(c, flag byte, width int) (s string, ok bool) {
	num := func(n, w int, pad byte) string {
		switch flag {
		case '-':
			return strconv.Itoa(n)
		case '_':
			pad = ' '
		case '0':
			pad = '0'
		}
		if width >= 0 {
			w = width
		}
		s := strconv.Itoa(n)
		neg := n < 0
		if neg {
			s = s[1:]
			w--
		}
		if len(s) < w {
			s = strings.Repeat(string(pad), w-len(s)) + s
		}
		if neg {
			s = "-" + s
		}
		return s
	}
	text := func(s string) string {
		if flag == '^' {
			s = strings.ToUpper(s)
		}
		if width > len(s) {
			s = strings.Repeat(" ", width-len(s)) + s
		}
		return s
	}
	hour12 := tm.hour % 12
	if hour12 == 0 {
		hour12 = 12
	}
	sundayWday := (tm.wday + 1) % 7
	switch c {
	case 'a':
		return text(weekdayNames[tm.wday][:3]), true
	case 'A':
		return text(weekdayNames[tm.wday]), true
	case 'b', 'h':
		return text(monthNames[tm.month][:3]), true
	case 'B':
		return text(monthNames[tm.month]), true
	case 'c':
		return text(tm.sub("%a %b %e %H:%M:%S %Y")), true
	case 'C':
		return num(tm.year/100, 1, '0'), true
	case 'd':
		return num(tm.day, 2, '0'), true
	case 'D', 'x':
		return text(tm.sub("%m/%d/%y")), true
	case 'e':
		return num(tm.day, 2, ' '), true
	case 'f':
		if !tm.pyDirectives {
			return "", false
		}
		return num(tm.micro, 6, '0'), true
	case 'F':
		return text(tm.sub("%Y-%m-%d")), true
	case 'g':
		y, _ := tm.isoWeek()
		return num(y%100, 2, '0'), true
	case 'G':
		y, _ := tm.isoWeek()
		return num(y, 1, '0'), true
	case 'H':
		return num(tm.hour, 2, '0'), true
	case 'I':
		return num(hour12, 2, '0'), true
	case 'j':
		return num(tm.yday, 3, '0'), true
	case 'k':
		return num(tm.hour, 2, ' '), true
	case 'l':
		return num(hour12, 2, ' '), true
	case 'm':
		return num(tm.month, 2, '0'), true
	case 'M':
		return num(tm.minute, 2, '0'), true
	case 'n':
		return "\n", true
	case 'p', 'P':
		s := "AM"
		if tm.hour >= 12 {
			s = "PM"
		}
		if c == 'P' || flag == '#' {
			s = strings.ToLower(s)
		}
		return text(s), true
	case 'r':
		return text(tm.sub("%I:%M:%S %p")), true
	case 'R':
		return text(tm.sub("%H:%M")), true
	case 's':
		return strconv.FormatInt(tm.unix, 10), true
	case 'S':
		return num(tm.second, 2, '0'), true
	case 't':
		return "\t", true
	case 'T', 'X':
		return text(tm.sub("%H:%M:%S")), true
	case 'u':
		return num(tm.wday+1, 1, '0'), true
	case 'U':
		return num((tm.yday-1-sundayWday+7)/7, 2, '0'), true
	case 'V':
		_, w := tm.isoWeek()
		return num(w, 2, '0'), true
	case 'w':
		return num(sundayWday, 1, '0'), true
	case 'W':
		return num((tm.yday-1-tm.wday+7)/7, 2, '0'), true
	case 'y':
		return num(tm.year%100, 2, '0'), true
	case 'Y':
		return num(tm.year, 1, '0'), true
	case 'z':
		return tm.offset, true
	case 'Z':
		return text(tm.zone), true
	case '%':
		return "%", true
	}
	return "", false
}

func (tm tmFields) sub(format string) string {
	tm.pyDirectives = false
	return strftime(format, tm)
}

func (tm tmFields) isoWeek() (year, week int) {
	return time.Date(tm.year, time.Month(tm.month), tm.day, 12, 0, 0, 0, time.UTC).ISOWeek()
}
