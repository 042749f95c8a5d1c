package franz

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
)

// testCtx bounds a test.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fast makes group changes quick on the test broker: members learn of a
// rebalance at their next heartbeat.
func fast() map[string]string {
	return map[string]string{"heartbeat.interval.ms": "100", "fetch.wait.max.ms": "100"}
}

func broker(t *testing.T, opts ...kfake.Opt) (*kafkatest.Broker, kafka.Config) {
	t.Helper()
	b := kafkatest.New(t, opts...)
	return b, kafka.Config{Brokers: b.Addrs(), ClientID: "weir-test", Extra: fast()}
}

func newAdminT(t *testing.T, cfg kafka.Config) kafka.Admin {
	t.Helper()
	a, err := New().NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func newProducerT(t *testing.T, cfg kafka.Config) kafka.Producer {
	t.Helper()
	p, err := New().NewProducer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func newSessionT(t *testing.T, cfg kafka.SessionConfig) kafka.Session {
	t.Helper()
	s, err := New().NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func createTopic(t *testing.T, ctx context.Context, cfg kafka.Config, name string, partitions int32) {
	t.Helper()
	a := newAdminT(t, cfg)
	errs, err := a.CreateTopics(ctx, []kafka.TopicSpec{{Name: name, Partitions: partitions, ReplicationFactor: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := errs[name]; err != nil {
		t.Fatal(err)
	}
}

// produceAll produces the records and waits for their acknowledgements.
func produceAll(t *testing.T, ctx context.Context, p kafka.Producer, recs ...*kafka.Record) {
	t.Helper()
	var mu sync.Mutex
	var errs []error
	for _, r := range recs {
		p.Produce(r, func(r *kafka.Record, err error) {
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
}

func values(topic string, partition int32, prefix string, n int) []*kafka.Record {
	recs := make([]*kafka.Record, n)
	for i := range recs {
		recs[i] = &kafka.Record{Topic: topic, Partition: partition, Value: fmt.Appendf(nil, "%s%d", prefix, i)}
	}
	return recs
}

// pollN polls until it has n records (or more, which fails the test), and
// checks that each partition's records come in offset order.
func pollN(t *testing.T, ctx context.Context, s kafka.Session, n int) []*kafka.Record {
	t.Helper()
	var out []*kafka.Record
	last := map[kafka.TopicPartition]int64{}
	for len(out) < n {
		fs, err := s.Poll(ctx)
		if err != nil {
			t.Fatalf("poll after %d of %d records: %v", len(out), n, err)
		}
		for _, f := range fs {
			tp := kafka.TopicPartition{Topic: f.Topic, Partition: f.Partition}
			for _, r := range f.Records {
				if r.Topic != f.Topic || r.Partition != f.Partition {
					t.Fatalf("record %s[%d] in the fetch of %s[%d]", r.Topic, r.Partition, f.Topic, f.Partition)
				}
				if prev, ok := last[tp]; ok && r.Offset <= prev {
					t.Fatalf("%v: offset %d after %d", tp, r.Offset, prev)
				}
				last[tp] = r.Offset
				out = append(out, r)
			}
		}
	}
	if len(out) > n {
		t.Fatalf("polled %d records, want %d", len(out), n)
	}
	return out
}

type offsetKey struct {
	tp     kafka.TopicPartition
	offset int64
}

func offsetsOf(recs []*kafka.Record) []offsetKey {
	out := make([]offsetKey, len(recs))
	for i, r := range recs {
		out[i] = offsetKey{kafka.TopicPartition{Topic: r.Topic, Partition: r.Partition}, r.Offset}
	}
	slices.SortFunc(out, func(a, b offsetKey) int {
		if c := strings.Compare(a.tp.Topic, b.tp.Topic); c != 0 {
			return c
		}
		if a.tp.Partition != b.tp.Partition {
			return int(a.tp.Partition - b.tp.Partition)
		}
		return int(a.offset - b.offset)
	})
	return out
}

func TestExtraProperties(t *testing.T) {
	cfg := kafka.Config{Brokers: []string{"127.0.0.1:1"}, Extra: map[string]string{
		"linger.ms":       "5",
		"bogus.property":  "1",
		"fetch.max.bytes": "1048576",
		"another.unknown": "x",
	}}
	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error for unknown properties", what)
		}
		msg := err.Error()
		if !strings.Contains(msg, "another.unknown, bogus.property") || strings.Contains(msg, "linger.ms") {
			t.Errorf("%s: error %q should name exactly the unknown properties", what, msg)
		}
	}
	_, err := New().NewProducer(cfg)
	check("producer", err)
	_, err = New().NewAdmin(cfg)
	check("admin", err)
	_, err = New().NewSession(kafka.SessionConfig{Config: cfg, Guarantee: kafka.AtLeastOnce, Group: "g", Topics: []string{"t"}})
	check("session", err)

	// Bad values are named too.
	for name, v := range map[string]string{"linger.ms": "soon", "acks": "1", "compression.type": "brotli", "enable.idempotence": "false"} {
		_, err := New().NewProducer(kafka.Config{Brokers: cfg.Brokers, Extra: map[string]string{name: v}})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: error %v", name, v, err)
		}
	}
	_, err = New().NewSession(kafka.SessionConfig{Config: kafka.Config{Brokers: cfg.Brokers, Extra: map[string]string{"isolation.level": "read_uncommitted"}},
		Guarantee: kafka.ExactlyOnce, Group: "g", TransactionalID: "x", Topics: []string{"t"}})
	if err == nil {
		t.Error("exactly-once with read_uncommitted was accepted")
	}

	// Every supported property with a sensible value is accepted by
	// every kind of client.
	all := map[string]string{}
	for _, name := range SupportedProperties() {
		all[name] = map[string]string{
			"client.id": "me", "enable.metrics.push": "false", "allow.auto.create.topics": "true",
			"compression.type": "zstd", "compression.codec": "lz4", "acks": "all", "request.required.acks": "-1",
			"enable.idempotence": "true", "auto.offset.reset": "earliest", "isolation.level": "read_committed",
			"partition.assignment.strategy": "cooperative-sticky", "enable.auto.commit": "false",
		}[name]
		if all[name] == "" {
			all[name] = "60000"
		}
	}
	ok := kafka.Config{Brokers: cfg.Brokers, Extra: all}
	p, err := New().NewProducer(ok)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	a, err := New().NewAdmin(ok)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, err := parseExtras(all); err != nil {
		t.Fatal(err)
	}
}

func TestSASLMechanismUnknown(t *testing.T) {
	if _, err := New().NewAdmin(kafka.Config{Brokers: []string{"127.0.0.1:1"}, SASL: &kafka.SASL{Mechanism: "GSSAPI"}}); err == nil {
		t.Error("SASL GSSAPI was accepted")
	}
}
