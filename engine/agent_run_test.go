package engine

import (
	"testing"

	"github.com/weirstream/weir/engine/kafka"
)

// TestPartitionWorkerSpread checks how partitions are given pool workers:
// one each while the pool may grow (to twice its configured size), then
// the worker with the fewest; a partition keeps its worker.
func TestPartitionWorkerSpread(t *testing.T) {
	a := &appRun{
		rt:        &Runtime{opts: RuntimeOptions{Workers: 2}},
		plan:      &AppPlan{},
		lanes:     map[kafka.TopicPartition]*worker{},
		laneCount: map[*worker]int{},
	}
	a.workers = []*worker{newWorker(a), newWorker(a)}
	defer func() {
		for _, w := range a.workers {
			close(w.in)
		}
	}()
	tp := func(topic string, p int32) kafka.TopicPartition {
		return kafka.TopicPartition{Topic: topic, Partition: p}
	}

	// Three partitions on a pool of two: three workers.
	seen := map[*worker]bool{}
	for p := range int32(3) {
		seen[a.partitionWorker(tp("in", p))] = true
	}
	if len(seen) != 3 || len(a.workers) != 3 {
		t.Fatalf("3 partitions: %d workers used, pool of %d; want 3 and 3", len(seen), len(a.workers))
	}
	if a.workers[0] != a.partitionWorker(tp("in", 0)) || a.workers[2] != a.partitionWorker(tp("in", 2)) {
		t.Error("a partition changed workers")
	}
	// The pool stops at four; then the worker with the fewest partitions.
	for p := range int32(5) {
		a.partitionWorker(tp("other", p))
	}
	if len(a.workers) != 4 {
		t.Fatalf("pool of %d, want 4", len(a.workers))
	}
	for _, w := range a.workers {
		if n := a.laneCount[w]; n != 2 {
			t.Errorf("a worker has %d of 8 partitions, want 2", n)
		}
	}
}
