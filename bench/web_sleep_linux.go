//go:build linux

package bench

import (
	"syscall"
	"time"
)

// sleepUntil blocks the calling thread in nanosleep(2) until t. The load
// generator sends a request every 250µs at 4000/s: time.Sleep wakes up to
// a millisecond late when the Go runtime has nothing else to run (its poller
// waits in milliseconds), which would be counted as latency.
func sleepUntil(t time.Time) {
	for {
		d := time.Until(t)
		if d <= 0 {
			return
		}
		ts := syscall.NsecToTimespec(int64(d))
		if syscall.Nanosleep(&ts, nil) == nil {
			return
		}
		// EINTR: sleep what is left.
	}
}
