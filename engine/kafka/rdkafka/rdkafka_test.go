package rdkafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
)

// testCtx bounds a test.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func config(b *kafkatest.Broker) kafka.Config {
	return kafka.Config{
		Brokers:  b.Addrs(),
		ClientID: "weir-test",
		// Members learn of a rebalance at their next heartbeat: keep
		// rebalances short.
		Extra: map[string]string{"heartbeat.interval.ms": "250"},
	}
}

// franz is an independent client for seeding and checking.
func franz(t *testing.T, b *kafkatest.Broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addrs()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func createTopic(t *testing.T, ctx context.Context, b *kafkatest.Broker, name string, partitions int32) {
	t.Helper()
	if _, err := kadm.NewClient(franz(t, b)).CreateTopic(ctx, partitions, 1, nil, name); err != nil {
		t.Fatalf("creating %s: %v", name, err)
	}
}

// seed produces n records key-i/value-i (i from start) round-robin.
func seed(t *testing.T, ctx context.Context, b *kafkatest.Broker, topic string, start, n int) {
	t.Helper()
	cl := franz(t, b, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	rs := make([]*kgo.Record, n)
	for i := range rs {
		rs[i] = &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "key-%d", start+i), Value: fmt.Appendf(nil, "value-%d", start+i)}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// readCommitted returns the values a read_committed reader sees in topic:
// at least want, then whatever else arrives within a short grace period.
func readCommitted(t *testing.T, ctx context.Context, b *kafkatest.Broker, topic string, want int, level kgo.IsolationLevel) []string {
	t.Helper()
	cl := franz(t, b, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(level),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	grace := time.Time{}
	for {
		pctx := ctx
		var cancel context.CancelFunc = func() {}
		if len(got) >= want {
			if grace.IsZero() {
				grace = time.Now().Add(300 * time.Millisecond)
			}
			pctx, cancel = context.WithDeadline(ctx, grace)
		}
		fs := cl.PollFetches(pctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
		if err := ctx.Err(); err != nil {
			t.Fatalf("reading %s: got %d of %d records: %v", topic, len(got), want, err)
		}
		if pctx.Err() != nil && len(got) >= want {
			return got
		}
	}
}

// committedEqualsEnd checks that group committed every partition of topic
// up to its end.
func committedEqualsEnd(t *testing.T, ctx context.Context, b *kafkatest.Broker, group, topic string) {
	t.Helper()
	adm := kadm.NewClient(franz(t, b))
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(e kadm.ListedOffset) {
		o, ok := offs.Lookup(e.Topic, e.Partition)
		if e.Offset == 0 {
			return
		}
		if !ok || o.At != e.Offset {
			t.Errorf("%s[%d]: committed %d, end %d", e.Topic, e.Partition, o.At, e.Offset)
		}
	})
}

// pollN polls until it has n records.
func pollN(t *testing.T, ctx context.Context, s kafka.Session, n int) []*kafka.Record {
	t.Helper()
	var got []*kafka.Record
	for len(got) < n {
		fs, err := s.Poll(ctx)
		if err != nil {
			t.Fatalf("poll: got %d of %d records: %v", len(got), n, err)
		}
		for _, f := range fs {
			for i, r := range f.Records {
				if r.Topic != f.Topic || r.Partition != f.Partition {
					t.Fatalf("record %s[%d] in fetch %s[%d]", r.Topic, r.Partition, f.Topic, f.Partition)
				}
				if i > 0 && r.Offset <= f.Records[i-1].Offset {
					t.Fatalf("%s[%d]: offsets out of order", f.Topic, f.Partition)
				}
			}
			got = append(got, f.Records...)
		}
	}
	if len(got) != n {
		t.Fatalf("polled %d records, want %d", len(got), n)
	}
	return got
}

func openSession(t *testing.T, cfg kafka.SessionConfig) kafka.Session {
	t.Helper()
	s, err := New().NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// passThrough produces every record to out, keyed alike.
func passThrough(s kafka.Session, out string, rs []*kafka.Record) {
	for _, r := range rs {
		s.Produce(&kafka.Record{Topic: out, Partition: -1, Key: r.Key, Value: r.Value}, nil)
	}
}

func values(rs []*kafka.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r.Value)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	ctx := testCtx(t)
	b := kafkatest.New(t)
	createTopic(t, ctx, b, "rt-in", 3)
	createTopic(t, ctx, b, "rt-other", 1)

	p, err := New().NewProducer(config(b))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ts := time.UnixMilli(1_700_000_000_123)
	keyed := kgo.StickyKeyPartitioner(nil).ForTopic("rt-in")
	var mu sync.Mutex
	acked := map[string]*kafka.Record{}
	for i := range 30 {
		r := &kafka.Record{
			Topic:     "rt-in",
			Partition: -1,
			Key:       fmt.Appendf(nil, "k%d", i),
			Value:     fmt.Appendf(nil, "v%d", i),
			Headers:   []kafka.Header{{Key: "h", Value: []byte("x")}, {Key: "n", Value: fmt.Appendf(nil, "%d", i)}},
			Timestamp: ts,
		}
		p.Produce(r, func(r *kafka.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if _, dup := acked[string(r.Value)]; dup {
				t.Errorf("done called twice for %s", r.Value)
			}
			acked[string(r.Value)] = r
		})
	}
	p.Produce(&kafka.Record{Topic: "rt-other", Partition: 0, Value: []byte("other")}, nil)
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(acked) != 30 {
		t.Fatalf("%d records acknowledged, want 30", len(acked))
	}
	for _, r := range acked {
		// Java's (and franz-go's) murmur2 placement.
		if want := int32(keyed.Partition(&kgo.Record{Key: r.Key}, 3)); r.Partition != want {
			t.Errorf("key %s went to partition %d, murmur2 says %d", r.Key, r.Partition, want)
		}
	}

	var assigned []kafka.TopicPartition
	s := openSession(t, kafka.SessionConfig{
		Config:          config(b),
		Guarantee:       kafka.ExactlyOnce,
		Group:           "rt-app",
		TransactionalID: "rt-app-0",
		Topics:          []string{"rt-in"},
		Patterns:        []string{"rt-oth.*"},
		OnAssigned:      func(_ context.Context, ps []kafka.TopicPartition) { assigned = append(assigned, ps...) },
	})
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	got := pollN(t, ctx, s, 31)
	if len(assigned) != 4 {
		t.Errorf("assigned %v, want 4 partitions", assigned)
	}
	for _, r := range got {
		if r.Topic == "rt-other" {
			if string(r.Value) != "other" || r.Key != nil {
				t.Errorf("rt-other: %q=%q", r.Key, r.Value)
			}
			continue
		}
		a := acked[string(r.Value)]
		if a == nil || a.Partition != r.Partition || a.Offset != r.Offset {
			t.Errorf("%s: consumed at %d/%d, acknowledged at %+v", r.Value, r.Partition, r.Offset, a)
			continue
		}
		if string(r.Key) != "k"+strings.TrimPrefix(string(r.Value), "v") || !r.Timestamp.Equal(ts) {
			t.Errorf("%s: key %q timestamp %v", r.Value, r.Key, r.Timestamp)
		}
		if len(r.Headers) != 2 || r.Headers[0].Key != "h" || string(r.Headers[0].Value) != "x" ||
			r.Headers[1].Key != "n" || "v"+string(r.Headers[1].Value) != string(r.Value) {
			t.Errorf("%s: headers %v", r.Value, r.Headers)
		}
	}
	if ok, err := s.End(ctx, true); !ok || err != nil {
		t.Fatalf("End: %v %v", ok, err)
	}
	committedEqualsEnd(t, ctx, b, "rt-app", "rt-in")
}

// A pattern matches whole topic names, as with the Java client.
func TestPatternsMatchWholeName(t *testing.T) {
	ctx := testCtx(t)
	b := kafkatest.New(t)
	topics := []string{"orders-eu", "my-orders-eu", "audit", "audit-old", "billing", "old-billing"}
	for _, topic := range topics {
		createTopic(t, ctx, b, topic, 1)
		seed(t, ctx, b, topic, 0, 1)
	}
	assigned := map[string]bool{}
	s := openSession(t, kafka.SessionConfig{
		Config: config(b), Guarantee: kafka.AtLeastOnce, Group: "whole",
		Patterns: []string{"orders-.*", "audit|billing"},
		// Called from Poll.
		OnAssigned: func(_ context.Context, ps []kafka.TopicPartition) {
			for _, p := range ps {
				assigned[p.Topic] = true
			}
		},
	})
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"audit", "billing", "orders-eu"}
	var got []string
	for _, r := range pollN(t, ctx, s, len(want)) {
		got = append(got, r.Topic)
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("consumed from %q, want %q", got, want)
	}
	for _, topic := range topics {
		if assigned[topic] != slices.Contains(want, topic) {
			t.Errorf("%s assigned: %v", topic, assigned[topic])
		}
	}
	if _, err := New().NewSession(kafka.SessionConfig{Config: config(b), Guarantee: kafka.AtLeastOnce, Group: "bad", Patterns: []string{"("}}); err == nil {
		t.Error("a bad pattern was accepted")
	}
}

func TestExactlyOnceCommit(t *testing.T) {
	ctx := testCtx(t)
	b := kafkatest.New(t)
	createTopic(t, ctx, b, "in", 4)
	createTopic(t, ctx, b, "out", 2)
	seed(t, ctx, b, "in", 0, 200)

	s := openSession(t, kafka.SessionConfig{
		Config: config(b), Guarantee: kafka.ExactlyOnce,
		Group: "eos-app", InstanceID: "eos-0", TransactionalID: "eos-app-0",
		Topics: []string{"in"},
	})
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	in := pollN(t, ctx, s, 200)
	var mu sync.Mutex
	var done int
	for _, r := range in {
		s.Produce(&kafka.Record{Topic: "out", Partition: -1, Key: r.Key, Value: r.Value}, func(r *kafka.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("produce: %v", err)
			}
			done++
		})
	}
	if ok, err := s.End(ctx, true); !ok || err != nil {
		t.Fatalf("End: %v %v", ok, err)
	}
	if done != 200 {
		t.Errorf("End returned with %d of 200 done calls", done)
	}
	got := readCommitted(t, ctx, b, "out", 200, kgo.ReadCommitted())
	sort.Strings(got)
	want := values(in)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("read_committed reader got %d records, want the 200 inputs", len(got))
	}
	committedEqualsEnd(t, ctx, b, "eos-app", "in")

	// The next transaction starts where the last one committed.
	seed(t, ctx, b, "in", 200, 10)
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	next := pollN(t, ctx, s, 10)
	for _, r := range next {
		if !strings.HasPrefix(string(r.Value), "value-20") {
			t.Errorf("polled %s again after the commit", r.Value)
		}
	}
	if ok, err := s.End(ctx, true); !ok || err != nil {
		t.Fatalf("End: %v %v", ok, err)
	}
}

func TestExactlyOnceAbortRewinds(t *testing.T) {
	ctx := testCtx(t)
	b := kafkatest.New(t)
	createTopic(t, ctx, b, "in", 2)
	createTopic(t, ctx, b, "out", 1)
	seed(t, ctx, b, "in", 0, 50)

	s := openSession(t, kafka.SessionConfig{
		Config: config(b), Guarantee: kafka.ExactlyOnce,
		Group: "abort-app", TransactionalID: "abort-app-0", Topics: []string{"in"},
	})
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	first := pollN(t, ctx, s, 50)
	passThrough(s, "out", first)
	if ok, err := s.End(ctx, false); ok || err != nil {
		t.Fatalf("End(abort): %v %v", ok, err)
	}

	// The same records again, then a commit.
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	again := pollN(t, ctx, s, 50)
	pos := func(rs []*kafka.Record) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = fmt.Sprintf("%d/%d/%s", r.Partition, r.Offset, r.Value)
		}
		sort.Strings(out)
		return out
	}
	if !slices.Equal(pos(first), pos(again)) {
		t.Fatalf("after the abort Poll returned other records")
	}
	passThrough(s, "out", again)
	if ok, err := s.End(ctx, true); !ok || err != nil {
		t.Fatalf("End: %v %v", ok, err)
	}

	// The aborted records are in the log but invisible to read_committed.
	if got := readCommitted(t, ctx, b, "out", 50, kgo.ReadCommitted()); len(got) != 50 {
		t.Errorf("read_committed reader got %d records, want 50", len(got))
	}
	if got := readCommitted(t, ctx, b, "out", 100, kgo.ReadUncommitted()); len(got) != 100 {
		t.Errorf("read_uncommitted reader got %d records, want 100 (50 aborted)", len(got))
	}
	committedEqualsEnd(t, ctx, b, "abort-app", "in")
}

func TestAtLeastOnceRewind(t *testing.T) {
	ctx := testCtx(t)
	b := kafkatest.New(t)
	createTopic(t, ctx, b, "in", 3)
	createTopic(t, ctx, b, "out", 1)
	seed(t, ctx, b, "in", 0, 60)

	cfg := kafka.SessionConfig{
		Config: config(b), Guarantee: kafka.AtLeastOnce,
		Group: "alo-app", Topics: []string{"in"},
	}
	s := openSession(t, cfg)
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	first := pollN(t, ctx, s, 60)
	passThrough(s, "out", first)
	if ok, err := s.End(ctx, false); ok || err != nil {
		t.Fatalf("End(rewind): %v %v", ok, err)
	}
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	again := pollN(t, ctx, s, 60)
	a, c := values(first), values(again)
	sort.Strings(a)
	sort.Strings(c)
	if !slices.Equal(a, c) {
		t.Fatal("after the rewind Poll returned other records")
	}
	passThrough(s, "out", again)
	if ok, err := s.End(ctx, true); !ok || err != nil {
		t.Fatalf("End: %v %v", ok, err)
	}
	committedEqualsEnd(t, ctx, b, "alo-app", "in")
	// At-least-once: both rounds' outputs are there.
	if got := readCommitted(t, ctx, b, "out", 120, kgo.ReadCommitted()); len(got) != 120 {
		t.Errorf("got %d outputs, want 120", len(got))
	}
	s.Close()

	// A new member of the group starts after the committed offsets.
	seed(t, ctx, b, "in", 60, 3)
	s2 := openSession(t, cfg)
	got := pollN(t, ctx, s2, 3)
	for _, r := range got {
		if !strings.HasPrefix(string(r.Value), "value-6") {
			t.Errorf("new member polled %s", r.Value)
		}
	}
}

// member runs a session as the engine does until ctx ends, passing every
// input through to out.
type member struct {
	name     string
	mu       sync.Mutex
	owned    map[kafka.TopicPartition]bool
	assigned int
	revoked  int
	commits  int
	aborts   int
	err      error
}

func (m *member) config(b *kafkatest.Broker) kafka.SessionConfig {
	return kafka.SessionConfig{
		Config: config(b), Guarantee: kafka.ExactlyOnce,
		Group: "share-app", TransactionalID: "share-app-" + m.name, Topics: []string{"in"},
		OnAssigned: func(_ context.Context, ps []kafka.TopicPartition) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range ps {
				m.owned[p] = true
			}
			m.assigned += len(ps)
		},
		OnRevoked: func(_ context.Context, ps []kafka.TopicPartition) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range ps {
				delete(m.owned, p)
			}
			m.revoked += len(ps)
		},
	}
}

func (m *member) run(ctx context.Context, s kafka.Session) {
	fail := func(err error) {
		m.mu.Lock()
		m.err = errors.Join(m.err, err)
		m.mu.Unlock()
	}
	for ctx.Err() == nil {
		if err := s.Begin(ctx); err != nil {
			fail(err)
			return
		}
		pctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		fs, err := s.Poll(pctx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			fail(err)
			return
		}
		for _, f := range fs {
			passThrough(s, "out", f.Records)
		}
		ectx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		ok, err := s.End(ectx, true)
		cancel()
		if err != nil {
			fail(err)
			return
		}
		m.mu.Lock()
		if ok {
			m.commits++
		} else {
			m.aborts++
		}
		m.mu.Unlock()
	}
}

func (m *member) snapshot() (owned []kafka.TopicPartition, assigned, revoked int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := range m.owned {
		owned = append(owned, p)
	}
	return owned, m.assigned, m.revoked
}

func TestTwoSessionsShare(t *testing.T) {
	ctx := testCtx(t)
	b := kafkatest.New(t)
	createTopic(t, ctx, b, "in", 4)
	createTopic(t, ctx, b, "out", 2)

	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	start := func(m *member) {
		s, err := New().NewSession(m.config(b))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			defer s.Close()
			m.run(runCtx, s)
		})
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if ctx.Err() != nil {
				stop()
				wg.Wait()
				t.Fatalf("waiting for %s: %v", what, ctx.Err())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	a := &member{name: "a", owned: map[kafka.TopicPartition]bool{}}
	bm := &member{name: "b", owned: map[kafka.TopicPartition]bool{}}
	start(a)
	waitFor("a to own 4 partitions", func() bool { o, _, _ := a.snapshot(); return len(o) == 4 })

	// Steady load while b joins, so that the rebalance finds a's
	// transactions busy with the partitions it loses.
	seeder := franz(t, b, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	loadCtx, stopLoad := context.WithCancel(ctx)
	var total int
	loadDone := make(chan error, 1)
	go func() {
		var err error
		defer func() { loadDone <- err }()
		for loadCtx.Err() == nil {
			rs := make([]*kgo.Record, 20)
			for i := range rs {
				rs[i] = &kgo.Record{Topic: "in", Value: fmt.Appendf(nil, "value-%d", total+i)}
			}
			if err = seeder.ProduceSync(ctx, rs...).FirstErr(); err != nil {
				return
			}
			total += len(rs)
			time.Sleep(20 * time.Millisecond)
		}
	}()

	start(bm)
	waitFor("the partitions to be shared", func() bool {
		oa, _, ra := a.snapshot()
		ob, _, _ := bm.snapshot()
		return len(ob) > 0 && ra > 0 && len(oa)+len(ob) == 4
	})
	time.Sleep(100 * time.Millisecond) // some load on the shared assignment
	stopLoad()
	if err := <-loadDone; err != nil {
		t.Fatal(err)
	}

	got := readCommitted(t, ctx, b, "out", total, kgo.ReadCommitted())
	ownedA, _, revokedA := a.snapshot()
	ownedB, assignedB, _ := bm.snapshot()
	stop()
	wg.Wait()
	for _, m := range []*member{a, bm} {
		if m.err != nil {
			t.Errorf("member %s: %v", m.name, m.err)
		}
	}
	t.Logf("%d inputs; a: owned %d, revoked %d, %d commits, %d aborts; b: owned %d, assigned %d, %d commits, %d aborts",
		total, len(ownedA), revokedA, a.commits, a.aborts, len(ownedB), assignedB, bm.commits, bm.aborts)
	if len(ownedA)+len(ownedB) != 4 {
		t.Errorf("a owns %v, b owns %v", ownedA, ownedB)
	}
	for _, p := range ownedB {
		if slices.Contains(ownedA, p) {
			t.Errorf("%v owned by both", p)
		}
	}
	// Exactly once: every input once in the output.
	seen := map[string]int{}
	for _, v := range got {
		seen[v]++
	}
	for i := range total {
		if n := seen[fmt.Sprintf("value-%d", i)]; n != 1 {
			t.Errorf("value-%d is in the output %d times", i, n)
		}
	}
	if len(got) != total {
		t.Errorf("%d outputs, want %d", len(got), total)
	}
	committedEqualsEnd(t, ctx, b, "share-app", "in")
}

// A rebalance that takes a partition the open transaction consumed from
// aborts it before the partition goes; the partitions kept are rewound.
func TestRevokeAbortsTransaction(t *testing.T) {
	ctx := testCtx(t)
	b := kafkatest.New(t)
	createTopic(t, ctx, b, "in", 4)
	createTopic(t, ctx, b, "out", 1)
	seed(t, ctx, b, "in", 0, 40)

	var revoked []kafka.TopicPartition
	cfg := kafka.SessionConfig{
		Config: config(b), Guarantee: kafka.ExactlyOnce,
		Group: "rev-app", TransactionalID: "rev-a", Topics: []string{"in"},
		OnRevoked: func(_ context.Context, ps []kafka.TopicPartition) { revoked = append(revoked, ps...) },
	}
	a := openSession(t, cfg)
	if err := a.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	first := pollN(t, ctx, a, 40)
	passThrough(a, "out", first[:20])

	// b joins and takes two partitions: it commits what it consumes.
	cfg.TransactionalID, cfg.OnRevoked = "rev-b", nil
	bs := openSession(t, cfg)
	type result struct {
		vals []string
		err  error
	}
	bDone := make(chan result, 1)
	go func() {
		var res result
		defer func() { bDone <- res }()
		if res.err = bs.Begin(ctx); res.err != nil {
			return
		}
		var rs []*kafka.Record
		for len(rs) < 20 {
			fs, err := bs.Poll(ctx)
			if err != nil {
				res.err = err
				return
			}
			for _, f := range fs {
				rs = append(rs, f.Records...)
			}
		}
		passThrough(bs, "out", rs)
		ok, err := bs.End(ctx, true)
		if !ok || err != nil {
			res.err = fmt.Errorf("b's End: %v %v", ok, err)
		}
		res.vals = values(rs)
	}()

	// a polls (nothing new) until the rebalance takes two partitions.
	for len(revoked) == 0 {
		pctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		fs, err := a.Poll(pctx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
		if len(fs) > 0 {
			t.Fatalf("polled %d more partitions", len(fs))
		}
	}
	if len(revoked) != 2 {
		t.Errorf("revoked %v, want 2 partitions", revoked)
	}
	var perr error
	a.Produce(&kafka.Record{Topic: "out", Partition: 0, Value: []byte("late")}, func(_ *kafka.Record, err error) { perr = err })
	if perr == nil {
		t.Error("produce after the revocation did not fail")
	}
	if ok, err := a.End(ctx, true); ok || err != nil {
		t.Fatalf("End after the revocation: %v %v, want an abort", ok, err)
	}

	// The partitions a kept are rewound: their records come again.
	var kept []string
	for _, r := range first {
		if !slices.Contains(revoked, kafka.TopicPartition{Topic: r.Topic, Partition: r.Partition}) {
			kept = append(kept, string(r.Value))
		}
	}
	if err := a.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	again := pollN(t, ctx, a, len(kept))
	got := values(again)
	sort.Strings(got)
	sort.Strings(kept)
	if !slices.Equal(got, kept) {
		t.Errorf("after the abort a polled %v, want %v", got, kept)
	}
	passThrough(a, "out", again)
	if ok, err := a.End(ctx, true); !ok || err != nil {
		t.Fatalf("End: %v %v", ok, err)
	}
	res := <-bDone
	if res.err != nil {
		t.Fatal(res.err)
	}

	out := readCommitted(t, ctx, b, "out", 40, kgo.ReadCommitted())
	sort.Strings(out)
	want := values(first)
	sort.Strings(want)
	if !slices.Equal(out, want) {
		t.Errorf("read_committed output %v, want each input once", out)
	}
	committedEqualsEnd(t, ctx, b, "rev-app", "in")
}

func TestAdmin(t *testing.T) {
	ctx := testCtx(t)
	b := kafkatest.New(t)
	adm, err := New().NewAdmin(config(b))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	specs := []kafka.TopicSpec{
		{Name: "a", Partitions: 3, ReplicationFactor: 1, Config: map[string]string{"retention.ms": "12345", "cleanup.policy": "compact"}},
		{Name: "b", Partitions: 1},
	}
	res, err := adm.CreateTopics(ctx, specs)
	if err != nil || len(res) != 2 || res["a"] != nil || res["b"] != nil {
		t.Fatalf("CreateTopics: %v %v", res, err)
	}
	// Existing topics are not an error.
	res, err = adm.CreateTopics(ctx, specs)
	if err != nil || len(res) != 2 || res["a"] != nil || res["b"] != nil {
		t.Fatalf("CreateTopics again: %v %v", res, err)
	}
	info, err := adm.DescribeTopics(ctx, []string{"a", "b", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(info) != 2 || info["a"].Partitions != 3 || info["b"].Partitions != 1 {
		t.Fatalf("DescribeTopics: %+v", info)
	}
	if c := info["a"].Config; c["retention.ms"] != "12345" || c["cleanup.policy"] != "compact" {
		t.Errorf("config of a: %v", c)
	}
	if err := adm.DeleteTopics(ctx, []string{"a", "missing"}); err != nil {
		t.Fatal(err)
	}
	info, err = adm.DescribeTopics(ctx, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := info["a"]; ok || len(info) != 1 {
		t.Errorf("after deleting a: %+v", info)
	}
}

func TestSASL(t *testing.T) {
	for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"} {
		t.Run(mech, func(t *testing.T) {
			ctx := testCtx(t)
			b := kafkatest.New(t, kfake.EnableSASL(), kfake.Superuser(mech, "weir", "s3cret"))
			cfg := config(b)
			cfg.SASL = &kafka.SASL{Mechanism: mech, User: "weir", Password: "s3cret"}
			roundTripVia(t, ctx, cfg)

			// A wrong password does not get in.
			cfg.SASL.Password = "wrong"
			adm, err := New().NewAdmin(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer adm.Close()
			actx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			if _, err := adm.DescribeTopics(actx, []string{"sasl"}); err == nil {
				t.Error("describing with a wrong password worked")
			}
		})
	}
}

// roundTripVia creates a topic, produces to it and consumes it with cfg.
func roundTripVia(t *testing.T, ctx context.Context, cfg kafka.Config) {
	t.Helper()
	adm, err := New().NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if res, err := adm.CreateTopics(ctx, []kafka.TopicSpec{{Name: "sec", Partitions: 1}}); err != nil || res["sec"] != nil {
		t.Fatalf("CreateTopics: %v %v", res, err)
	}
	p, err := New().NewProducer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 5 {
		p.Produce(&kafka.Record{Topic: "sec", Partition: -1, Value: fmt.Appendf(nil, "v%d", i)}, func(_ *kafka.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s := openSession(t, kafka.SessionConfig{
		Config: cfg, Guarantee: kafka.ExactlyOnce,
		Group: "sec-app", TransactionalID: "sec-app-0", Topics: []string{"sec"},
	})
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	pollN(t, ctx, s, 5)
	if ok, err := s.End(ctx, true); !ok || err != nil {
		t.Fatalf("End: %v %v", ok, err)
	}
}

func TestProperties(t *testing.T) {
	b := kafkatest.New(t)
	bad := config(b)
	bad.Extra = map[string]string{"linger.ms": "2", "no.such.property": "1"}
	check := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one naming %s", what, err, want)
		}
	}
	_, err := New().NewProducer(bad)
	check("producer", err, "no.such.property")
	_, err = New().NewAdmin(bad)
	check("admin", err, "no.such.property")
	_, err = New().NewSession(kafka.SessionConfig{Config: bad, Guarantee: kafka.AtLeastOnce, Group: "g", Topics: []string{"t"}})
	check("session", err, "no.such.property")

	owned := config(b)
	owned.Extra = map[string]string{"enable.auto.commit": "true", "go.events.channel.enable": "true"}
	_, err = New().NewProducer(owned)
	check("reserved", err, "enable.auto.commit, go.events.channel.enable")

	// Known properties pass through.
	good := config(b)
	good.Extra = map[string]string{"linger.ms": "2", "fetch.wait.max.ms": "50", "auto.offset.reset": "latest"}
	p, err := New().NewProducer(good)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	s, err := New().NewSession(kafka.SessionConfig{Config: good, Guarantee: kafka.AtLeastOnce, Group: "g", Topics: []string{"t"}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}
