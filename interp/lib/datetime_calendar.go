package lib

import (
	"fmt"
	"math"
	"math/big"
)

// Calendar arithmetic for the datetime module: the proleptic Gregorian calendar, with dates
// as days since 1970-01-01 and times as microseconds.

const (
	usPerSec  = 1_000_000
	usPerMin  = 60 * usPerSec
	usPerHour = 60 * usPerMin
	usPerDay  = 24 * usPerHour

	minYear = 1
	maxYear = 9999

	// maxTDDays bounds a timedelta's days so its microseconds fit in an int64.
	maxTDDays = 106_751_990
	minTDus   = -maxTDDays * usPerDay
	maxTDus   = (maxTDDays+1)*usPerDay - 1

	// ordinalOffset turns days since 1970-01-01 into Python's date.toordinal().
	ordinalOffset = 719163
)

var (
	minDays = daysFromCivil(minYear, 1, 1)
	maxDays = daysFromCivil(maxYear, 12, 31)
	minUs   = minDays * usPerDay
	maxUs   = (maxDays+1)*usPerDay - 1
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// daysFromCivil returns the days since 1970-01-01 of y-m-d (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	yy := int64(y)
	if m <= 2 {
		yy--
	}
	era := floorDiv(yy, 400)
	yoe := yy - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysInMonth(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// weekdayOf returns Python's weekday() (Monday is 0) of days since 1970-01-01, a Thursday.
func weekdayOf(days int64) int { return int(floorMod(days+3, 7)) }

func checkDate(y, m, d int) error {
	if y < minYear || y > maxYear {
		return fmt.Errorf("year %d is out of range", y)
	}
	if m < 1 || m > 12 {
		return fmt.Errorf("month must be in 1..12")
	}
	if d < 1 || d > daysInMonth(y, m) {
		return fmt.Errorf("day is out of range for month")
	}
	return nil
}

func checkTime(h, mi, s, us int) error {
	switch {
	case h < 0 || h > 23:
		return fmt.Errorf("hour must be in 0..23")
	case mi < 0 || mi > 59:
		return fmt.Errorf("minute must be in 0..59")
	case s < 0 || s > 59:
		return fmt.Errorf("second must be in 0..59")
	case us < 0 || us > 999999:
		return fmt.Errorf("microsecond must be in 0..999999")
	}
	return nil
}

// isoWeekToDays returns the date of ISO year, week and weekday (1..7), as CPython's
// _isoweek_to_gregorian does.
func isoWeekToDays(year, week, day int) (int64, error) {
	if year < minYear || year > maxYear {
		return 0, fmt.Errorf("Year is out of range: %d", year)
	}
	if week <= 0 || week >= 53 {
		ok := false
		if week == 53 {
			first := weekdayOf(daysFromCivil(year, 1, 1))
			ok = first == 3 || first == 2 && isLeap(year)
		}
		if !ok {
			return 0, fmt.Errorf("Invalid week: %d", week)
		}
	}
	if day <= 0 || day >= 8 {
		return 0, fmt.Errorf("Invalid weekday: %d (range is [1, 7])", day)
	}
	return isoWeek1Monday(year) + int64((week-1)*7+(day-1)), nil
}

func isoWeek1Monday(year int) int64 {
	first := daysFromCivil(year, 1, 1)
	wd := weekdayOf(first)
	monday := first - int64(wd)
	if wd > 3 {
		monday += 7
	}
	return monday
}

// addInt64 adds with an overflow check.
func addInt64(a, b int64) (int64, bool) {
	c := a + b
	if (c > a) != (b > 0) {
		return 0, false
	}
	return c, true
}

// roundRat rounds r to an integer, ties to even, as Python's round() does.
func roundRat(r *big.Rat) *big.Int {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	m2 := new(big.Int).Abs(m)
	m2.Lsh(m2, 1)
	if c := m2.Cmp(r.Denom()); c > 0 || c == 0 && q.Bit(0) == 1 {
		if r.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// usToSeconds returns us/1e6 correctly rounded, as Python's int/int true division.
func usToSeconds(us int64) float64 {
	if -(1<<53) < us && us < 1<<53 {
		return float64(us) / usPerSec
	}
	f, _ := new(big.Rat).SetFrac(big.NewInt(us), big.NewInt(usPerSec)).Float64()
	return f
}

// roundHalfEven rounds f to an integer, ties to even.
func roundHalfEven(f float64) float64 { return math.RoundToEven(f) }
