package engine

import (
	"testing"
	"time"

	"github.com/weirstream/weir/engine/kafka"
)

func TestHistogram(t *testing.T) {
	var h histogram
	for _, d := range []time.Duration{5 * time.Microsecond, 30 * time.Microsecond, 10 * time.Second} {
		h.observe(d)
	}
	h.observeN(time.Millisecond, 2) // two records of a fetch that took 2 ms
	h.observeN(time.Millisecond, 0)
	s := h.snapshot()
	if s.Count != 5 || s.Counts[0] != 1 || s.Counts[len(s.Counts)-1] != 4 {
		t.Fatalf("snapshot %+v", s)
	}
	// 30µs falls in the 50µs bucket, the two of 1 ms in the 1 ms one.
	at := func(le float64) uint64 {
		for i, b := range s.Buckets {
			if b == le {
				return s.Counts[i]
			}
		}
		t.Fatalf("no bucket %v", le)
		return 0
	}
	if at(0.000025) != 1 || at(0.00005) != 2 || at(0.0005) != 2 || at(0.001) != 4 || at(0.0025) != 4 {
		t.Fatalf("cumulative counts %v", s.Counts)
	}
	if s.Sum < 10.002 || s.Sum > 10.003 {
		t.Fatalf("sum %v", s.Sum)
	}
}

func TestCodeFailureKinds(t *testing.T) {
	ag := &agentRun{}
	ag.codeFailure("x.yaml:3:5: map: the call took more than 1000 steps (codeMaxSteps)")
	ag.codeFailure("x.yaml:3:5: map: the call ran longer than 1s (codeTimeout)")
	ag.codeFailure("x.yaml:3:5: map: division by zero")
	if ag.codeErrors.Load() != 3 || ag.stepLimits.Load() != 1 || ag.timeouts.Load() != 1 {
		t.Fatalf("errors %d, step limits %d, timeouts %d", ag.codeErrors.Load(), ag.stepLimits.Load(), ag.timeouts.Load())
	}
}

func TestLagTable(t *testing.T) {
	var l lagTable
	l.note(&kafka.Fetch{Topic: "t", Partition: 1, HighWatermark: 10, Records: []*kafka.Record{{Offset: 3}, {Offset: 4}}})
	l.note(&kafka.Fetch{Topic: "t", Partition: 2, HighWatermark: -1, Records: []*kafka.Record{{Offset: 3}}})
	if got := l.lag[kafka.TopicPartition{Topic: "t", Partition: 1}]; got != 5 || len(l.lag) != 1 {
		t.Fatalf("lag %v", l.lag)
	}
	l.forget([]kafka.TopicPartition{{Topic: "t", Partition: 1}})
	if len(l.lag) != 0 {
		t.Fatalf("after forget: %v", l.lag)
	}
}
