//go:build !linux

package bench

import "time"

// sleepUntil sleeps until t (see web_sleep_linux.go).
func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }
