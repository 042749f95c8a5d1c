package franz

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
)

// With no committed offset and auto.offset.reset=latest, an abort rewinds
// to the first record polled, not to the start of the partition (kgo's
// GroupTransactSession alone would re-read the partition from offset 0).
func TestAbortRewindsWithoutCommittedOffsets(t *testing.T) {
	for _, g := range []kafka.Guarantee{kafka.ExactlyOnce, kafka.AtLeastOnce} {
		t.Run(guaranteeName(g), func(t *testing.T) {
			e := newEnv(t)
			ctx, cfg := e.Ctx(), e.Config()
			e.CreateTopic(t, cfg, "late", 1)
			p := e.Producer(t, cfg)
			e.ProduceAll(t, p, kafkatest.Values("late", 0, "old", 5)...)

			scfg := kafka.SessionConfig{Config: cfg, Guarantee: g, Group: "late", TransactionalID: "late-1", Topics: []string{"late"}}
			scfg.Extra = map[string]string{"auto.offset.reset": "latest", "heartbeat.interval.ms": "100", "fetch.wait.max.ms": "100"}
			s := e.Session(t, scfg)
			if err := s.Begin(ctx); err != nil {
				t.Fatal(err)
			}
			// Produce new records until the session, which starts at the
			// end, sees one.
			var first []*kafka.Record
			for i := 0; len(first) == 0; i++ {
				e.ProduceAll(t, p, &kafka.Record{Topic: "late", Partition: 0, Value: fmt.Appendf(nil, "new%d", i)})
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
			again := e.PollN(t, s, 1)
			if again[0].Offset != first[0].Offset {
				t.Fatalf("after the abort Poll starts at offset %d (%q), want %d", again[0].Offset, again[0].Value, first[0].Offset)
			}
		})
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
			e := newEnv(t)
			ctx, cfg := e.Ctx(), e.Config()
			e.CreateTopic(t, cfg, "split", 4)
			var recs []*kafka.Record
			for p := range int32(4) {
				recs = append(recs, kafkatest.Values("split", p, fmt.Sprintf("p%d-", p), 2)...)
			}
			e.ProduceAll(t, e.Producer(t, cfg), recs...)

			var a, b owner
			acfg := kafka.SessionConfig{Config: cfg, Guarantee: g, Group: "split", TransactionalID: "split-a", Topics: []string{"split"}}
			a.callbacks(&acfg)
			sa := e.Session(t, acfg)
			waitFor(t, ctx, "a to own 4 partitions", func() bool { owned, _, _ := a.state(); return len(owned) == 4 })
			if err := sa.Begin(ctx); err != nil {
				t.Fatal(err)
			}
			first := e.PollN(t, sa, 8)

			bcfg := acfg
			bcfg.TransactionalID = "split-b"
			b.callbacks(&bcfg)
			sb := e.Session(t, bcfg)
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
				again := e.PollN(t, sa, 4)
				if want := of(first, ao); !slices.Equal(kafkatest.OffsetsOf(again), kafkatest.OffsetsOf(want)) {
					t.Fatalf("a polled %v after the abort, want %v", kafkatest.OffsetsOf(again), kafkatest.OffsetsOf(want))
				}
			} else {
				off := e.GroupOffsets(t, "split", "split")
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
			if got, want := e.PollN(t, sb, 4), of(first, bo); !slices.Equal(kafkatest.OffsetsOf(got), kafkatest.OffsetsOf(want)) {
				t.Fatalf("b polled %v, want %v", kafkatest.OffsetsOf(got), kafkatest.OffsetsOf(want))
			}
		})
	}
}

func TestStaticMembership(t *testing.T) {
	e := newEnv(t)
	ctx, cfg := e.Ctx(), e.Config()
	e.CreateTopic(t, cfg, "static", 1)
	var o owner
	scfg := kafka.SessionConfig{Config: cfg, Guarantee: kafka.ExactlyOnce, Group: "static", InstanceID: "weir-0",
		TransactionalID: "static-0", Topics: []string{"static"}}
	o.callbacks(&scfg)
	e.Session(t, scfg)
	waitFor(t, ctx, "an assignment", func() bool { owned, _, _ := o.state(); return len(owned) == 1 })

	groups, err := kadm.NewClient(e.Franz(t)).DescribeGroups(ctx, "static")
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
