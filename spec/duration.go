package spec

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Duration is a duration as written in a manifest: "10s", "5m", "1h", "1d",
// a sequence such as "1h30m", or a plain number of seconds. It is checked at
// load, so Value never fails on a loaded bundle.
type Duration string

// Value returns the duration, or 0 when it is empty or malformed.
func (d Duration) Value() time.Duration {
	v, _ := ParseDuration(string(d))
	return v
}

var durationUnits = map[string]time.Duration{
	"ms": time.Millisecond,
	"s":  time.Second,
	"m":  time.Minute,
	"h":  time.Hour,
	"d":  24 * time.Hour,
}

// errDurationSyntax marks a string that is not written as a duration at all;
// the schema's pattern reports those, so the loader does not repeat them.
var errDurationSyntax = errors.New("not a duration")

// ParseDuration reads a manifest duration.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration: %w", errDurationSyntax)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("%d seconds is out of range", n)
		}
		return time.Duration(n) * time.Second, nil
	}
	var total time.Duration
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		k := j
		for k < len(s) && (s[k] < '0' || s[k] > '9') {
			k++
		}
		unit, ok := durationUnits[s[j:k]]
		if j == i || !ok {
			return 0, fmt.Errorf("%q is %w such as \"10s\", \"5m\", \"1h\" or \"1d\"", s, errDurationSyntax)
		}
		n, err := strconv.ParseInt(s[i:j], 10, 64)
		if err != nil || n > math.MaxInt64/int64(unit) || total > math.MaxInt64-time.Duration(n)*unit {
			return 0, fmt.Errorf("%q is too long a duration", s)
		}
		total += time.Duration(n) * unit
		i = k
	}
	return total, nil
}
