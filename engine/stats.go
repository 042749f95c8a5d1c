package engine

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir/engine/kafka"
)

// The figures the runtime keeps for metrics, cheap enough for the
// per-record path: atomic counters and a fixed-bucket histogram.

// LatencyBuckets are the upper bounds, in seconds, of the processing-time
// histogram of an agent (a record's time through its pipeline and outputs).
var LatencyBuckets = []float64{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// histogram counts durations into LatencyBuckets.
type histogram struct {
	counts [18]atomic.Uint64 // len(LatencyBuckets) + the +Inf bucket
	sumNs  atomic.Int64
}

func (h *histogram) observe(d time.Duration) { h.observeN(d, 1) }

// observeN counts n observations of d.
func (h *histogram) observeN(d time.Duration, n uint64) {
	s := d.Seconds()
	i := 0
	for i < len(LatencyBuckets) && s > LatencyBuckets[i] {
		i++
	}
	h.counts[i].Add(n)
	h.sumNs.Add(int64(d) * int64(n))
}

// Histogram is a histogram's state: Counts[i] counts the observations at
// most Buckets[i] (cumulative), Count all of them.
type Histogram struct {
	Buckets []float64
	Counts  []uint64
	Count   uint64
	Sum     float64 // seconds
}

func (h *histogram) snapshot() Histogram {
	out := Histogram{Buckets: LatencyBuckets, Counts: make([]uint64, len(LatencyBuckets))}
	var cum uint64
	for i := range LatencyBuckets {
		cum += h.counts[i].Load()
		out.Counts[i] = cum
	}
	out.Count = cum + h.counts[len(LatencyBuckets)].Load()
	out.Sum = float64(h.sumNs.Load()) / float64(time.Second)
	return out
}

// codeFailure counts a failure of an agent's code: every *interp.Error,
// and among them the step-limit hits and timeouts.
func (ag *agentRun) codeFailure(msg string) {
	ag.codeErrors.Add(1)
	switch {
	case strings.Contains(msg, "(codeMaxSteps)"):
		ag.stepLimits.Add(1)
	case strings.Contains(msg, "(codeTimeout)"):
		ag.timeouts.Add(1)
	}
}

// lagTable is the lag of each partition an app consumes, as of its last
// fetch.
type lagTable struct {
	mu  sync.Mutex
	lag map[kafka.TopicPartition]int64
}

// note records a fetch's lag: the partition's end minus the offset after
// its last record.
func (l *lagTable) note(f *kafka.Fetch) {
	if f.HighWatermark < 0 || len(f.Records) == 0 {
		return
	}
	lag := max(f.HighWatermark-(f.Records[len(f.Records)-1].Offset+1), 0)
	l.mu.Lock()
	if l.lag == nil {
		l.lag = map[kafka.TopicPartition]int64{}
	}
	l.lag[kafka.TopicPartition{Topic: f.Topic, Partition: f.Partition}] = lag
	l.mu.Unlock()
}

// PartitionLag is a consumed partition's lag.
type PartitionLag struct {
	Topic     string
	Partition int32
	Lag       int64
}

// Lag returns the lag of every partition an app has consumed from, as of
// each one's last fetch; partitions no longer assigned are dropped when
// they are revoked.
func (r *Runtime) Lag(app string) []PartitionLag {
	a := r.app(app)
	if a == nil {
		return nil
	}
	a.lags.mu.Lock()
	defer a.lags.mu.Unlock()
	out := make([]PartitionLag, 0, len(a.lags.lag))
	for tp, n := range a.lags.lag {
		out = append(out, PartitionLag{tp.Topic, tp.Partition, n})
	}
	return out
}

// forget drops revoked partitions' lag.
func (l *lagTable) forget(parts []kafka.TopicPartition) {
	l.mu.Lock()
	for _, tp := range parts {
		delete(l.lag, tp)
	}
	l.mu.Unlock()
}
