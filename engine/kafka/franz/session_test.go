package franz

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka"
)

// produceFrom produces one output per input record in the session and
// returns how many were acknowledged (read after End).
func produceFrom(s kafka.Session, in []*kafka.Record, topic, prefix string) *atomic.Int64 {
	var acked atomic.Int64
	for _, r := range in {
		s.Produce(&kafka.Record{Topic: topic, Partition: 0, Value: fmt.Appendf(nil, "%s%s", prefix, r.Value)},
			func(_ *kafka.Record, err error) {
				if err == nil {
					acked.Add(1)
				}
			})
	}
	return &acked
}

// groupOffsets returns the group's committed offsets for a topic.
func groupOffsets(t *testing.T, ctx context.Context, cfg kafka.Config, group, topic string) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	resps, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for p, r := range resps[topic] {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		out[p] = r.At
	}
	return out
}

func TestExactlyOnce(t *testing.T) {
	ctx := testCtx(t)
	_, cfg := broker(t)
	createTopic(t, ctx, cfg, "eos-in", 2)
	createTopic(t, ctx, cfg, "eos-out", 1)
	p := newProducerT(t, cfg)
	produceAll(t, ctx, p, slices.Concat(values("eos-in", 0, "a", 6), values("eos-in", 1, "b", 4))...)

	scfg := kafka.SessionConfig{Config: cfg, Guarantee: kafka.ExactlyOnce, Group: "eos", TransactionalID: "eos-1", Topics: []string{"eos-in"}}
	s := newSessionT(t, scfg)

	// An aborted transaction: nothing it produced is visible, and its
	// input comes back.
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	first := pollN(t, ctx, s, 10)
	produceFrom(s, first, "eos-out", "aborted-")
	if committed, err := s.End(ctx, false); err != nil || committed {
		t.Fatalf("End(false) = %v, %v", committed, err)
	}
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	again := pollN(t, ctx, s, 10)
	if !slices.Equal(offsetsOf(first), offsetsOf(again)) {
		t.Fatalf("after the abort Poll returned %v, want %v", offsetsOf(again), offsetsOf(first))
	}

	// A committed transaction: its records are visible and the offsets
	// are committed with them.
	acked := produceFrom(s, again, "eos-out", "")
	if committed, err := s.End(ctx, true); err != nil || !committed {
		t.Fatalf("End(true) = %v, %v", committed, err)
	}
	if acked.Load() != 10 {
		t.Fatalf("%d of 10 outputs acknowledged when End returned", acked.Load())
	}
	got := readCommitted(t, ctx, cfg, "eos-out")
	slices.Sort(got)
	want := []string{"a0", "a1", "a2", "a3", "a4", "a5", "b0", "b1", "b2", "b3"}
	if !slices.Equal(got, want) {
		t.Fatalf("read_committed sees %q, want %q", got, want)
	}
	if off := groupOffsets(t, ctx, cfg, "eos", "eos-in"); off[0] != 6 || off[1] != 4 {
		t.Fatalf("committed offsets %v, want 0:6 1:4", off)
	}

	// A new member of the group starts after the committed offsets.
	s.Close()
	produceAll(t, ctx, p, values("eos-in", 1, "c", 2)...)
	s2 := newSessionT(t, kafka.SessionConfig{Config: cfg, Guarantee: kafka.ExactlyOnce, Group: "eos", TransactionalID: "eos-2", Topics: []string{"eos-in"}})
	if err := s2.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	next := pollN(t, ctx, s2, 2)
	for _, r := range next {
		if !strings.HasPrefix(string(r.Value), "c") {
			t.Errorf("the new session polled %q at %d/%d again", r.Value, r.Partition, r.Offset)
		}
	}
	if committed, err := s2.End(ctx, true); err != nil || !committed {
		t.Fatalf("End(true) = %v, %v", committed, err)
	}
}

// A produce that fails turns End(true) into an abort, with the rewind.
func TestExactlyOnceFailedProduceAborts(t *testing.T) {
	ctx := testCtx(t)
	_, cfg := broker(t)
	createTopic(t, ctx, cfg, "fail-in", 1)
	createTopic(t, ctx, cfg, "fail-out", 1)
	produceAll(t, ctx, newProducerT(t, cfg), values("fail-in", 0, "x", 3)...)

	s := newSessionT(t, kafka.SessionConfig{Config: cfg, Guarantee: kafka.ExactlyOnce, Group: "fail", TransactionalID: "fail-1", Topics: []string{"fail-in"}})
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	first := pollN(t, ctx, s, 3)
	produceFrom(s, first, "fail-out", "lost-")
	var failed atomic.Bool
	s.Produce(&kafka.Record{Topic: "fail-out", Partition: 9, Value: []byte("nowhere")}, func(_ *kafka.Record, err error) { failed.Store(err != nil) })
	if committed, err := s.End(ctx, true); err != nil || committed {
		t.Fatalf("End(true) after a failed produce = %v, %v", committed, err)
	}
	if !failed.Load() {
		t.Fatal("the produce to a missing partition did not fail")
	}
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	if again := pollN(t, ctx, s, 3); !slices.Equal(offsetsOf(first), offsetsOf(again)) {
		t.Fatalf("after the abort Poll returned %v, want %v", offsetsOf(again), offsetsOf(first))
	}
	if committed, err := s.End(ctx, true); err != nil || !committed {
		t.Fatalf("End(true) = %v, %v", committed, err)
	}
	if got := readCommitted(t, ctx, cfg, "fail-out"); len(got) != 0 {
		t.Fatalf("read_committed sees %q from the aborted transaction", got)
	}
}

// With no committed offset and auto.offset.reset=latest, an abort rewinds
// to the first record polled, not to the start of the partition (kgo's
// GroupTransactSession alone would re-read the partition from offset 0).
func TestAbortRewindsWithoutCommittedOffsets(t *testing.T) {
	for _, g := range []kafka.Guarantee{kafka.ExactlyOnce, kafka.AtLeastOnce} {
		t.Run(guaranteeName(g), func(t *testing.T) {
			ctx := testCtx(t)
			_, cfg := broker(t)
			createTopic(t, ctx, cfg, "late", 1)
			p := newProducerT(t, cfg)
			produceAll(t, ctx, p, values("late", 0, "old", 5)...)

			scfg := kafka.SessionConfig{Config: cfg, Guarantee: g, Group: "late", TransactionalID: "late-1", Topics: []string{"late"}}
			scfg.Extra = map[string]string{"auto.offset.reset": "latest", "heartbeat.interval.ms": "100", "fetch.wait.max.ms": "100"}
			s := newSessionT(t, scfg)
			if err := s.Begin(ctx); err != nil {
				t.Fatal(err)
			}
			// Produce new records until the session, which starts at the
			// end, sees one.
			var first []*kafka.Record
			for i := 0; len(first) == 0; i++ {
				produceAll(t, ctx, p, &kafka.Record{Topic: "late", Partition: 0, Value: fmt.Appendf(nil, "new%d", i)})
				pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
				fs, err := s.Poll(pctx)
				cancel()
				if err != nil && ctx.Err() != nil {
					t.Fatal(err)
				}
				for _, f := range fs {
					first = append(first, f.Records...)
				}
			}
			for _, r := range first {
				if strings.HasPrefix(string(r.Value), "old") {
					t.Fatalf("latest reset polled %q", r.Value)
				}
			}
			if committed, err := s.End(ctx, false); err != nil || committed {
				t.Fatalf("End(false) = %v, %v", committed, err)
			}
			if err := s.Begin(ctx); err != nil {
				t.Fatal(err)
			}
			again := pollN(t, ctx, s, 1)
			if again[0].Offset != first[0].Offset {
				t.Fatalf("after the abort Poll starts at offset %d (%q), want %d", again[0].Offset, again[0].Value, first[0].Offset)
			}
		})
	}
}

func TestAtLeastOnce(t *testing.T) {
	ctx := testCtx(t)
	_, cfg := broker(t)
	createTopic(t, ctx, cfg, "alo-in", 2)
	createTopic(t, ctx, cfg, "alo-out", 1)
	p := newProducerT(t, cfg)
	produceAll(t, ctx, p, slices.Concat(values("alo-in", 0, "a", 5), values("alo-in", 1, "b", 5))...)

	s := newSessionT(t, kafka.SessionConfig{Config: cfg, Guarantee: kafka.AtLeastOnce, Group: "alo", Topics: []string{"alo-in"}})
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	in := pollN(t, ctx, s, 10)
	acked := produceFrom(s, in, "alo-out", "")
	if committed, err := s.End(ctx, true); err != nil || !committed {
		t.Fatalf("End(true) = %v, %v", committed, err)
	}
	// The commit came after the acknowledgements.
	if acked.Load() != 10 {
		t.Fatalf("%d of 10 outputs acknowledged when End returned", acked.Load())
	}
	if off := groupOffsets(t, ctx, cfg, "alo", "alo-in"); off[0] != 5 || off[1] != 5 {
		t.Fatalf("committed offsets %v, want 0:5 1:5", off)
	}

	// End(false): nothing committed, the records come back.
	produceAll(t, ctx, p, values("alo-in", 1, "c", 3)...)
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	first := pollN(t, ctx, s, 3)
	produceFrom(s, first, "alo-out", "")
	if committed, err := s.End(ctx, false); err != nil || committed {
		t.Fatalf("End(false) = %v, %v", committed, err)
	}
	if off := groupOffsets(t, ctx, cfg, "alo", "alo-in"); off[1] != 5 {
		t.Fatalf("End(false) committed: offsets %v", off)
	}
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	again := pollN(t, ctx, s, 3)
	if !slices.Equal(offsetsOf(first), offsetsOf(again)) {
		t.Fatalf("after End(false) Poll returned %v, want %v", offsetsOf(again), offsetsOf(first))
	}

	// A failed produce: no commit, the records come back.
	produceFrom(s, again, "alo-out", "")
	s.Produce(&kafka.Record{Topic: "alo-out", Partition: 9, Value: []byte("nowhere")}, nil)
	if committed, err := s.End(ctx, true); err != nil || committed {
		t.Fatalf("End(true) after a failed produce = %v, %v", committed, err)
	}
	if off := groupOffsets(t, ctx, cfg, "alo", "alo-in"); off[1] != 5 {
		t.Fatalf("a failed produce committed: offsets %v", off)
	}
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	third := pollN(t, ctx, s, 3)
	if !slices.Equal(offsetsOf(first), offsetsOf(third)) {
		t.Fatalf("after a failed produce Poll returned %v, want %v", offsetsOf(third), offsetsOf(first))
	}
	produceFrom(s, third, "alo-out", "")
	if committed, err := s.End(ctx, true); err != nil || !committed {
		t.Fatalf("End(true) = %v, %v", committed, err)
	}
	if off := groupOffsets(t, ctx, cfg, "alo", "alo-in"); off[0] != 5 || off[1] != 8 {
		t.Fatalf("committed offsets %v, want 0:5 1:8", off)
	}
}

func TestPatterns(t *testing.T) {
	ctx := testCtx(t)
	_, cfg := broker(t)
	for _, topic := range []string{"pat-a", "pat-b", "xpat-c", "named"} {
		createTopic(t, ctx, cfg, topic, 1)
		produceAll(t, ctx, newProducerT(t, cfg), &kafka.Record{Topic: topic, Partition: 0, Value: []byte(topic)})
	}
	s := newSessionT(t, kafka.SessionConfig{Config: cfg, Guarantee: kafka.AtLeastOnce, Group: "pat",
		Topics: []string{"named"}, Patterns: []string{"pat-.*"}})
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range pollN(t, ctx, s, 3) {
		got = append(got, string(r.Value))
	}
	slices.Sort(got)
	if want := []string{"named", "pat-a", "pat-b"}; !slices.Equal(got, want) {
		t.Fatalf("consumed %q, want %q", got, want)
	}
	if _, err := New().NewSession(kafka.SessionConfig{Config: cfg, Guarantee: kafka.AtLeastOnce, Group: "pat", Patterns: []string{"("}}); err == nil {
		t.Error("a bad pattern was accepted")
	}
}

// A pattern matches whole topic names, as with the Java client.
func TestPatternsMatchWholeName(t *testing.T) {
	ctx := testCtx(t)
	_, cfg := broker(t)
	topics := []string{"orders-eu", "my-orders-eu", "audit", "audit-old", "billing", "old-billing"}
	for _, topic := range topics {
		createTopic(t, ctx, cfg, topic, 1)
		produceAll(t, ctx, newProducerT(t, cfg), &kafka.Record{Topic: topic, Partition: 0, Value: []byte(topic)})
	}
	var mu sync.Mutex
	assigned := map[string]bool{}
	s := newSessionT(t, kafka.SessionConfig{Config: cfg, Guarantee: kafka.AtLeastOnce, Group: "whole",
		Patterns: []string{"orders-.*", "audit|billing"},
		OnAssigned: func(_ context.Context, parts []kafka.TopicPartition) {
			mu.Lock()
			defer mu.Unlock()
			for _, tp := range parts {
				assigned[tp.Topic] = true
			}
		}})
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"audit", "billing", "orders-eu"}
	var got []string
	for _, r := range pollN(t, ctx, s, len(want)) {
		got = append(got, string(r.Value))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("consumed %q, want %q", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, topic := range topics {
		if assigned[topic] != slices.Contains(want, topic) {
			t.Errorf("%s assigned: %v", topic, assigned[topic])
		}
	}
}

// owner tracks one member's partitions through its callbacks.
type owner struct {
	mu       sync.Mutex
	owned    map[kafka.TopicPartition]bool
	assigned int
	revoked  int
}

func (o *owner) callbacks(cfg *kafka.SessionConfig) {
	o.owned = map[kafka.TopicPartition]bool{}
	cfg.OnAssigned = func(_ context.Context, parts []kafka.TopicPartition) {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.assigned++
		for _, tp := range parts {
			o.owned[tp] = true
		}
	}
	cfg.OnRevoked = func(_ context.Context, parts []kafka.TopicPartition) {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.revoked++
		for _, tp := range parts {
			delete(o.owned, tp)
		}
	}
}

func (o *owner) state() (owned []kafka.TopicPartition, assigned, revoked int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for tp := range o.owned {
		owned = append(owned, tp)
	}
	slices.SortFunc(owned, func(a, b kafka.TopicPartition) int { return int(a.Partition - b.Partition) })
	return owned, o.assigned, o.revoked
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Two members split the partitions cooperatively: the first gives up only
// what the second gets. A transaction in flight across the rebalance cannot
// commit (exactly-once) and rewinds; at-least-once commits what it kept.
func TestGroupSplitsPartitions(t *testing.T) {
	for _, g := range []kafka.Guarantee{kafka.ExactlyOnce, kafka.AtLeastOnce} {
		t.Run(guaranteeName(g), func(t *testing.T) {
			ctx := testCtx(t)
			_, cfg := broker(t)
			createTopic(t, ctx, cfg, "split", 4)
			var recs []*kafka.Record
			for p := range int32(4) {
				recs = append(recs, values("split", p, fmt.Sprintf("p%d-", p), 2)...)
			}
			produceAll(t, ctx, newProducerT(t, cfg), recs...)

			var a, b owner
			acfg := kafka.SessionConfig{Config: cfg, Guarantee: g, Group: "split", TransactionalID: "split-a", Topics: []string{"split"}}
			a.callbacks(&acfg)
			sa := newSessionT(t, acfg)
			waitFor(t, ctx, "a to own 4 partitions", func() bool { owned, _, _ := a.state(); return len(owned) == 4 })
			if err := sa.Begin(ctx); err != nil {
				t.Fatal(err)
			}
			first := pollN(t, ctx, sa, 8)

			bcfg := acfg
			bcfg.TransactionalID = "split-b"
			b.callbacks(&bcfg)
			sb := newSessionT(t, bcfg)
			waitFor(t, ctx, "a and b to own 2 partitions each", func() bool {
				ao, _, _ := a.state()
				bo, _, _ := b.state()
				return len(ao) == 2 && len(bo) == 2
			})
			ao, aAssigned, aRevoked := a.state()
			bo, _, bRevoked := b.state()
			if aRevoked == 0 || aAssigned != 1 {
				t.Errorf("a: assigned %d times, revoked %d times; cooperative: assigned once, revoked once", aAssigned, aRevoked)
			}
			if bRevoked != 0 {
				t.Errorf("b had partitions revoked")
			}
			if overlap := slices.ContainsFunc(ao, func(tp kafka.TopicPartition) bool { return slices.Contains(bo, tp) }); overlap {
				t.Errorf("a owns %v and b owns %v", ao, bo)
			}
			of := func(recs []*kafka.Record, parts []kafka.TopicPartition) []*kafka.Record {
				var out []*kafka.Record
				for _, r := range recs {
					if slices.Contains(parts, kafka.TopicPartition{Topic: r.Topic, Partition: r.Partition}) {
						out = append(out, r)
					}
				}
				return out
			}

			committed, err := sa.End(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			if committed != (g == kafka.AtLeastOnce) {
				t.Fatalf("a's End(true) across the rebalance committed = %v", committed)
			}
			if g == kafka.ExactlyOnce {
				// The abort rewound a's remaining partitions.
				if err := sa.Begin(ctx); err != nil {
					t.Fatal(err)
				}
				again := pollN(t, ctx, sa, 4)
				if want := of(first, ao); !slices.Equal(offsetsOf(again), offsetsOf(want)) {
					t.Fatalf("a polled %v after the abort, want %v", offsetsOf(again), offsetsOf(want))
				}
			} else {
				off := groupOffsets(t, ctx, cfg, "split", "split")
				for _, tp := range ao {
					if off[tp.Partition] != 2 {
						t.Fatalf("a committed %v, want 2 for each of %v", off, ao)
					}
				}
			}
			// b starts its partitions where nothing was committed: at 0.
			if err := sb.Begin(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := pollN(t, ctx, sb, 4), of(first, bo); !slices.Equal(offsetsOf(got), offsetsOf(want)) {
				t.Fatalf("b polled %v, want %v", offsetsOf(got), offsetsOf(want))
			}
		})
	}
}

func TestStaticMembership(t *testing.T) {
	ctx := testCtx(t)
	_, cfg := broker(t)
	createTopic(t, ctx, cfg, "static", 1)
	var o owner
	scfg := kafka.SessionConfig{Config: cfg, Guarantee: kafka.ExactlyOnce, Group: "static", InstanceID: "weir-0",
		TransactionalID: "static-0", Topics: []string{"static"}}
	o.callbacks(&scfg)
	newSessionT(t, scfg)
	waitFor(t, ctx, "an assignment", func() bool { owned, _, _ := o.state(); return len(owned) == 1 })

	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	groups, err := kadm.NewClient(cl).DescribeGroups(ctx, "static")
	if err != nil {
		t.Fatal(err)
	}
	members := groups["static"].Members
	if len(members) != 1 || members[0].InstanceID == nil || *members[0].InstanceID != "weir-0" {
		t.Fatalf("group members %+v, want one with instance ID weir-0", members)
	}
}

func guaranteeName(g kafka.Guarantee) string {
	if g == kafka.ExactlyOnce {
		return "exactly-once"
	}
	return "at-least-once"
}

func TestPollEnds(t *testing.T) {
	ctx := testCtx(t)
	_, cfg := broker(t)
	createTopic(t, ctx, cfg, "quiet", 1)
	createTopic(t, ctx, cfg, "quiet-out", 1)
	s, err := New().NewSession(kafka.SessionConfig{Config: cfg, Guarantee: kafka.ExactlyOnce, Group: "q", TransactionalID: "q", Topics: []string{"quiet"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.End(ctx, true); err == nil {
		t.Error("End without Begin succeeded")
	}
	pctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	fs, err := s.Poll(pctx)
	cancel()
	if err != context.DeadlineExceeded || len(fs) != 0 {
		t.Fatalf("Poll on a quiet topic = %v, %v; want the context's error", fs, err)
	}
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	acked := make(chan error, 1)
	s.Produce(&kafka.Record{Topic: "quiet-out", Partition: 0, Value: []byte("open")}, func(_ *kafka.Record, err error) { acked <- err })
	if err := <-acked; err != nil {
		t.Fatal(err)
	}
	s.Close() // aborts the open transaction
	s.Close()
	if _, err := s.Poll(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("Poll after Close = %v", err)
	}
	// An open transaction would hold read_committed readers back until it
	// timed out; an aborted one is invisible.
	if got := readCommitted(t, ctx, cfg, "quiet-out"); len(got) != 0 {
		t.Fatalf("read_committed sees %q", got)
	}
}
