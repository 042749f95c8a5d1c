package control

import (
	"sync"
	"time"

	"github.com/weirstream/weir/engine"
)

// rateWindow is how many samples of the runtime's counters the rates are
// computed over (with a sample a second, the last ten seconds).
const rateWindow = 11

// figuresNote says which of the Coordinator's figures weir does not have.
const figuresNote = "eventRate and outRate are records per second over the last samples of the runtime's counters; bytesRate, latency (p50, p99) and consumer lag are not measured by weir yet, so they are left out"

// sampler keeps the last samples of every agent's counters, for rates.
type sampler struct {
	mu      sync.Mutex
	samples []sample // oldest first, at most rateWindow
}

type sample struct {
	at    time.Time
	stats map[agentKey]engine.AgentStats
}

type agentKey struct{ app, agent string }

// add records a sample of the counters taken at a time.
func (s *sampler) add(at time.Time, stats []engine.AgentStats) {
	m := make(map[agentKey]engine.AgentStats, len(stats))
	for _, st := range stats {
		m[agentKey{st.App, st.Agent}] = st
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples = append(s.samples, sample{at: at, stats: m})
	if len(s.samples) > rateWindow {
		s.samples = append(s.samples[:0], s.samples[len(s.samples)-rateWindow:]...)
	}
}

// rate is an agent's records per second in and out.
type rate struct {
	In, Out float64
	Known   bool // two samples hold the agent
}

// rate returns an agent's rates over the samples that hold it. Counters
// start again at zero when an app restarts: a sample whose counters are
// below the newest one's predecessor starts the window afresh.
func (s *sampler) rate(app, agent string) rate {
	k := agentKey{app, agent}
	s.mu.Lock()
	defer s.mu.Unlock()
	var first, last *sample
	var firstSt, lastSt engine.AgentStats
	for i := len(s.samples) - 1; i >= 0; i-- {
		st, ok := s.samples[i].stats[k]
		if !ok || (last != nil && (st.In > firstSt.In || st.Out > firstSt.Out)) {
			break
		}
		if last == nil {
			last, lastSt = &s.samples[i], st
		}
		first, firstSt = &s.samples[i], st
	}
	if first == nil || first == last {
		return rate{}
	}
	dt := last.at.Sub(first.at).Seconds()
	if dt <= 0 {
		return rate{}
	}
	return rate{In: float64(lastSt.In-firstSt.In) / dt, Out: float64(lastSt.Out-firstSt.Out) / dt, Known: true}
}

// lastAt is when the last sample was taken (zero before the first).
func (s *sampler) lastAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		return time.Time{}
	}
	return s.samples[len(s.samples)-1].at
}

// agentFigures are an agent's counters and rates, as the API shows them.
type agentFigures struct {
	Name        string   `json:"name"`
	RecordsIn   int64    `json:"recordsIn"`
	RecordsOut  int64    `json:"recordsOut"`
	DeadLetters int64    `json:"deadLetters"`
	EventRate   *float64 `json:"eventRate,omitempty"`
	OutRate     *float64 `json:"outRate,omitempty"`
}

// figures returns an app's agents' figures, and the sum of their event
// rates (nil while no rate is known).
func (s *Server) figures(app string) ([]agentFigures, *float64) {
	out := []agentFigures{}
	var total *float64
	for _, st := range s.rt().Stats() {
		if st.App != app {
			continue
		}
		f := agentFigures{Name: st.Agent, RecordsIn: st.In, RecordsOut: st.Out, DeadLetters: st.DeadLetters}
		if r := s.rates.rate(app, st.Agent); r.Known {
			in, o := round3(r.In), round3(r.Out)
			f.EventRate, f.OutRate = &in, &o
			if total == nil {
				total = new(float64)
			}
			*total += in
		}
		out = append(out, f)
	}
	if total != nil {
		*total = round3(*total)
	}
	return out, total
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
