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

// Quantiles interpolate within the bucket they fall in; the window's
// latency is what was observed in it.
func TestLatencyQuantiles(t *testing.T) {
	h := engine.Histogram{Buckets: []float64{1, 2, 4}, Counts: []uint64{0, 10, 20}, Count: 20, Sum: 45}
	for _, c := range []struct{ q, want float64 }{{0.5, 2}, {0.25, 1.5}, {0.75, 3}, {1, 4}} {
		if got, ok := quantile(h, c.q); !ok || got != c.want {
			t.Errorf("quantile %v: %v, want %v", c.q, got, c.want)
		}
	}
	if _, ok := quantile(engine.Histogram{}, 0.5); ok {
		t.Error("a quantile of nothing")
	}
	beyond := engine.Histogram{Buckets: []float64{1, 2}, Counts: []uint64{0, 0}, Count: 3}
	if got, _ := quantile(beyond, 0.5); got != 2 {
		t.Errorf("beyond the last bound: %v", got)
	}
	var s sampler
	t0 := time.Unix(1000, 0)
	s.add(t0, []engine.AgentStats{{App: "a", Agent: "x", In: 10, Latency: engine.Histogram{Buckets: []float64{1, 2}, Counts: []uint64{10, 10}, Count: 10}}})
	s.add(t0.Add(time.Second), []engine.AgentStats{{App: "a", Agent: "x", In: 20, Latency: engine.Histogram{Buckets: []float64{1, 2}, Counts: []uint64{10, 20}, Count: 20}}})
	r := s.rate("a", "x")
	if r.Latency.Count != 10 || r.Latency.Counts[0] != 0 {
		t.Fatalf("the window's latency: %+v", r.Latency)
	}
	if p50, _ := quantile(r.Latency, 0.5); p50 != 1.5 {
		t.Fatalf("p50 of the window: %v", p50)
	}
}
