package control

import (
	"testing"
	"time"

	"github.com/weirstream/weir/engine"
)

// Rates are counted over the window of samples, from the sample after the
// last restart of the app's counters.
func TestSamplerRates(t *testing.T) {
	var s sampler
	t0 := time.Unix(1000, 0)
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	st := func(in, out int64) []engine.AgentStats {
		return []engine.AgentStats{{App: "a", Agent: "x", In: in, Out: out}}
	}
	if r := s.rate("a", "x"); r.Known {
		t.Fatalf("a rate without samples: %+v", r)
	}
	s.add(at(0), st(0, 0))
	if r := s.rate("a", "x"); r.Known {
		t.Fatalf("a rate of one sample: %+v", r)
	}
	s.add(at(1), st(100, 50))
	s.add(at(2), st(300, 150))
	if r := s.rate("a", "x"); !r.Known || r.In != 150 || r.Out != 75 {
		t.Fatalf("rate over two seconds: %+v", r)
	}
	// The app restarted: its counters start again.
	s.add(at(3), st(10, 0))
	s.add(at(5), st(50, 20))
	if r := s.rate("a", "x"); !r.Known || r.In != 20 || r.Out != 10 {
		t.Fatalf("rate after a restart: %+v", r)
	}
	// The window keeps the last samples only.
	for i := range 2 * rateWindow {
		s.add(at(10+i), st(int64(1000+10*i), 0))
	}
	if r := s.rate("a", "x"); r.In != 10 || len(s.samples) != rateWindow {
		t.Fatalf("rate over the window: %+v, %d samples", r, len(s.samples))
	}
	if r := s.rate("a", "other"); r.Known {
		t.Fatalf("an unknown agent: %+v", r)
	}
}
