package rdkafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
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

// Properties the client owns are refused; known ones pass through. (The
// conformance suite checks unknown ones.)
func TestProperties(t *testing.T) {
	b := kafkatest.New(t)
	check := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one naming %s", what, err, want)
		}
	}
	owned := config(b)
	owned.Extra = map[string]string{"enable.auto.commit": "true", "go.events.channel.enable": "true"}
	_, err := New().NewProducer(owned)
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
