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

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
)

// options are the conformance suite's and the Env's options for this client.
func options() []kafkatest.Option {
	return []kafkatest.Option{
		kafkatest.WithTimeout(45 * time.Second),
		// Members learn of a rebalance at their next heartbeat: keep
		// rebalances short.
		kafkatest.WithConfig(func(cfg *kafka.Config) {
			cfg.Extra = map[string]string{"heartbeat.interval.ms": "250"}
		}),
	}
}

// newEnv starts a broker for a test of this client.
func newEnv(t *testing.T) *kafkatest.Env {
	t.Helper()
	return kafkatest.NewEnv(t, func() kafka.Client { return New() }, options()...)
}

// seed produces n records key-i/value-i (i from start) round-robin.
func seed(t *testing.T, e *kafkatest.Env, topic string, start, n int) {
	t.Helper()
	cl := e.Franz(t, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	rs := make([]*kgo.Record, n)
	for i := range rs {
		rs[i] = &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "key-%d", start+i), Value: fmt.Appendf(nil, "value-%d", start+i)}
	}
	if err := cl.ProduceSync(e.Ctx(), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// passThrough produces every record to out, keyed alike.
func passThrough(s kafka.Session, out string, rs []*kafka.Record) {
	for _, r := range rs {
		s.Produce(&kafka.Record{Topic: out, Partition: -1, Key: r.Key, Value: r.Value}, nil)
	}
}

// A rebalance that takes a partition the open transaction consumed from
// aborts it before the partition goes; the partitions kept are rewound.
func TestRevokeAbortsTransaction(t *testing.T) {
	e := newEnv(t)
	ctx := e.Ctx()
	e.CreateTopic(t, e.Config(), "in", 4)
	e.CreateTopic(t, e.Config(), "out", 1)
	seed(t, e, "in", 0, 40)

	var revoked []kafka.TopicPartition
	cfg := kafka.SessionConfig{
		Config: e.Config(), Guarantee: kafka.ExactlyOnce,
		Group: "rev-app", TransactionalID: "rev-a", Topics: []string{"in"},
		OnRevoked: func(_ context.Context, ps []kafka.TopicPartition) { revoked = append(revoked, ps...) },
	}
	a := e.Session(t, cfg)
	if err := a.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	first := e.PollN(t, a, 40)
	passThrough(a, "out", first[:20])

	// b joins and takes two partitions: it commits what it consumes.
	cfg.TransactionalID, cfg.OnRevoked = "rev-b", nil
	bs := e.Session(t, cfg)
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
		res.vals = kafkatest.ValuesOf(rs)
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
	again := e.PollN(t, a, len(kept))
	got := kafkatest.ValuesOf(again)
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

	out := e.ReadCommitted(t, "out", 40)
	want := kafkatest.ValuesOf(first)
	if !slices.Equal(out, want) {
		t.Errorf("read_committed output %v, want each input once", out)
	}
	e.CommittedAtEnd(t, "rev-app", "in")
}

// Properties the client owns are refused; known ones pass through. (The
// conformance suite checks unknown ones.)
func TestProperties(t *testing.T) {
	e := newEnv(t)
	check := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one naming %s", what, err, want)
		}
	}
	owned := e.Config()
	owned.Extra = map[string]string{"enable.auto.commit": "true", "go.events.channel.enable": "true"}
	_, err := New().NewProducer(owned)
	check("reserved", err, "enable.auto.commit, go.events.channel.enable")

	// Known properties pass through.
	good := e.Config()
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
