package control

import (
	"math"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/weirstream/weir/engine"
)

// rateWindow is how many samples of the runtime's counters the rates are
// computed over (with a sample a second, the last ten seconds).
const rateWindow = 11

// figuresNote says how the figures are made, and which of the
// Coordinator's weir does not have.
const figuresNote = "eventRate and outRate (records per second) and latency (a record's time through the agent's pipeline and outputs; p50 and p99 estimated from its histogram, in ms) are over the last samples of the runtime's counters, about ten seconds (latency: since the app started when no record came in them); lag counts the records of the agent's partitions not yet read, as of their last fetch; bytesRate is not measured by weir yet, so it is left out"

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

// rate is an agent's records per second in and out, and the latency of
// the records of the window.
type rate struct {
	In, Out float64
	Known   bool // two samples hold the agent
	// Latency counts the window's records (since the start when there is
	// no window, or no record in it).
	Latency engine.Histogram
}

// rate returns an agent's rates over the samples that hold it. Counters
// start again at zero when an app restarts: a sample whose counters are
// above those of the sample after it starts the window afresh.
func (s *sampler) rate(app, agent string) rate {
	k := agentKey{app, agent}
	s.mu.Lock()
	defer s.mu.Unlock()
	var first, last *sample
	var firstSt, lastSt engine.AgentStats
	for i := len(s.samples) - 1; i >= 0; i-- {
		st, ok := s.samples[i].stats[k]
		if !ok || (last != nil && (st.In > firstSt.In || st.Out > firstSt.Out || st.Latency.Count > firstSt.Latency.Count)) {
			break
		}
		if last == nil {
			last, lastSt = &s.samples[i], st
		}
		first, firstSt = &s.samples[i], st
	}
	if first == nil {
		return rate{}
	}
	r := rate{Latency: lastSt.Latency}
	dt := last.at.Sub(first.at).Seconds()
	if first == last || dt <= 0 {
		return r
	}
	r.In, r.Out, r.Known = float64(lastSt.In-firstSt.In)/dt, float64(lastSt.Out-firstSt.Out)/dt, true
	if d := histogramDelta(firstSt.Latency, lastSt.Latency); d.Count > 0 {
		r.Latency = d
	}
	return r
}

// histogramDelta is what was observed between two states of a histogram.
func histogramDelta(old, cur engine.Histogram) engine.Histogram {
	if len(old.Counts) != len(cur.Counts) {
		return cur
	}
	d := engine.Histogram{Buckets: cur.Buckets, Counts: make([]uint64, len(cur.Counts)), Count: cur.Count - old.Count, Sum: cur.Sum - old.Sum}
	for i := range cur.Counts {
		d.Counts[i] = cur.Counts[i] - old.Counts[i]
	}
	return d
}

// quantile estimates a quantile of a histogram in seconds, interpolating
// within the bucket it falls in (as Prometheus's histogram_quantile
// does); false when the histogram is empty.
func quantile(h engine.Histogram, q float64) (float64, bool) {
	if h.Count == 0 || len(h.Buckets) == 0 {
		return 0, false
	}
	rank := q * float64(h.Count)
	for i, c := range h.Counts {
		if float64(c) < rank {
			continue
		}
		lo, below := 0.0, 0.0
		if i > 0 {
			lo, below = h.Buckets[i-1], float64(h.Counts[i-1])
		}
		in := float64(c) - below
		if in <= 0 {
			return h.Buckets[i], true
		}
		return lo + (h.Buckets[i]-lo)*(rank-below)/in, true
	}
	return h.Buckets[len(h.Buckets)-1], true // beyond the last bound
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
	CodeErrors  int64    `json:"codeErrors"`
	EventRate   *float64 `json:"eventRate,omitempty"`
	OutRate     *float64 `json:"outRate,omitempty"`
	// LatencyP50 and LatencyP99 are in milliseconds.
	LatencyP50 *float64 `json:"latencyP50Ms,omitempty"`
	LatencyP99 *float64 `json:"latencyP99Ms,omitempty"`
	Lag        *int64   `json:"lag,omitempty"`
}

// appFigures are an app's figures over its agents.
type appFigures struct {
	EventRate   *float64 `json:"eventRate,omitempty"`
	LatencyMean *float64 `json:"latencyMeanMs,omitempty"`
	Lag         *int64   `json:"lag,omitempty"`
	RecordsIn   int64    `json:"recordsIn"`
	RecordsOut  int64    `json:"recordsOut"`
	DeadLetters int64    `json:"deadLetters"`
}

// figures returns an app's agents' figures and their sums.
func (s *Server) figures(app string) ([]agentFigures, appFigures) {
	rt := s.rt()
	out := []agentFigures{}
	var sum appFigures
	var latSum float64
	var latCount uint64
	lags := rt.Lag(app)
	ap := rt.Plan().App(app)
	for _, st := range rt.Stats() {
		if st.App != app {
			continue
		}
		f := agentFigures{Name: st.Agent, RecordsIn: st.In, RecordsOut: st.Out, DeadLetters: st.DeadLetters, CodeErrors: st.CodeErrors}
		r := s.rates.rate(app, st.Agent)
		if r.Known {
			in, o := round3(r.In), round3(r.Out)
			f.EventRate, f.OutRate = &in, &o
			if sum.EventRate == nil {
				sum.EventRate = new(float64)
			}
			*sum.EventRate += in
		}
		if p50, ok := quantile(r.Latency, 0.5); ok {
			p99, _ := quantile(r.Latency, 0.99)
			p50, p99 = round3(p50*1000), round3(p99*1000)
			f.LatencyP50, f.LatencyP99 = &p50, &p99
			latSum += r.Latency.Sum
			latCount += r.Latency.Count
		}
		if ap != nil {
			if ag := ap.Agent(st.Agent); ag != nil {
				f.Lag = agentLag(ag, lags)
			}
		}
		if f.Lag != nil {
			if sum.Lag == nil {
				sum.Lag = new(int64)
			}
			*sum.Lag += *f.Lag
		}
		sum.RecordsIn += f.RecordsIn
		sum.RecordsOut += f.RecordsOut
		sum.DeadLetters += f.DeadLetters
		out = append(out, f)
	}
	if sum.EventRate != nil {
		*sum.EventRate = round3(*sum.EventRate)
	}
	if latCount > 0 {
		mean := round3(latSum / float64(latCount) * 1000)
		sum.LatencyMean = &mean
	}
	return out, sum
}

// agentLag sums the lag of the partitions an agent consumes; nil for an
// agent of a channel, or before its first fetch.
func agentLag(ag *engine.AgentPlan, lags []engine.PartitionLag) *int64 {
	var re *regexp.Regexp
	if ag.Input.Pattern != "" {
		re, _ = regexp.Compile("^(?:" + ag.Input.Pattern + ")$")
	}
	var n int64
	found := false
	for _, l := range lags {
		if slices.Contains(ag.Input.Topics, l.Topic) || (re != nil && re.MatchString(l.Topic)) {
			n += l.Lag
			found = true
		}
	}
	if !found {
		return nil
	}
	return &n
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
