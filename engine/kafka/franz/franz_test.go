package franz

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

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

// readCommitted reads a one-partition topic with an independent
// read_committed consumer up to a sentinel record it produces last, and
// returns the values before it.
func readCommitted(t *testing.T, ctx context.Context, cfg kafka.Config, topic string) []string {
	t.Helper()
	produceAll(t, ctx, newProducerT(t, cfg), &kafka.Record{Topic: topic, Partition: 0, Value: []byte("sentinel")})
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []string
	for {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("reading %s: %v (read %q)", topic, err, out)
		}
		for _, r := range fs.Records() {
			if string(r.Value) == "sentinel" {
				return out
			}
			out = append(out, string(r.Value))
		}
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := testCtx(t)
	_, cfg := broker(t)
	createTopic(t, ctx, cfg, "in", 3)

	ts := time.UnixMilli(1_700_000_000_123)
	var sent []*kafka.Record
	for i := range 30 {
		r := &kafka.Record{
			Topic:     "in",
			Partition: -1,
			Key:       fmt.Appendf(nil, "key-%d", i%7),
			Value:     fmt.Appendf(nil, "value-%d", i),
			Headers:   []kafka.Header{{Key: "n", Value: fmt.Appendf(nil, "%d", i)}, {Key: "empty"}},
			Timestamp: ts.Add(time.Duration(i) * time.Millisecond),
		}
		switch i {
		case 0:
			r.Key = nil // keyless
		case 1:
			r.Headers = nil
		case 2:
			r.Partition = 2
		}
		sent = append(sent, r)
	}
	produceAll(t, ctx, newProducerT(t, cfg), sent...)
	for _, r := range sent {
		if r.Partition < 0 || r.Partition > 2 || r.Offset < 0 {
			t.Fatalf("acknowledged record %q at %d/%d", r.Value, r.Partition, r.Offset)
		}
	}
	if sent[2].Partition != 2 {
		t.Fatalf("record for partition 2 went to %d", sent[2].Partition)
	}

	s := newSessionT(t, kafka.SessionConfig{Config: cfg, Guarantee: kafka.AtLeastOnce, Group: "rt", Topics: []string{"in"}})
	if err := s.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	got := pollN(t, ctx, s, len(sent))
	byValue := map[string]*kafka.Record{}
	for _, r := range got {
		byValue[string(r.Value)] = r
	}
	for _, w := range sent {
		g := byValue[string(w.Value)]
		if g == nil {
			t.Fatalf("record %q not consumed", w.Value)
		}
		if g.Topic != w.Topic || g.Partition != w.Partition || g.Offset != w.Offset {
			t.Errorf("%q: consumed at %s/%d/%d, produced at %s/%d/%d", w.Value, g.Topic, g.Partition, g.Offset, w.Topic, w.Partition, w.Offset)
		}
		if !bytes.Equal(g.Key, w.Key) || (g.Key == nil) != (w.Key == nil) {
			t.Errorf("%q: key %q, want %q", w.Value, g.Key, w.Key)
		}
		if !g.Timestamp.Equal(w.Timestamp) {
			t.Errorf("%q: timestamp %v, want %v", w.Value, g.Timestamp, w.Timestamp)
		}
		if len(g.Headers) != len(w.Headers) {
			t.Fatalf("%q: headers %v, want %v", w.Value, g.Headers, w.Headers)
		}
		for i := range w.Headers {
			if g.Headers[i].Key != w.Headers[i].Key || !bytes.Equal(g.Headers[i].Value, w.Headers[i].Value) {
				t.Errorf("%q: header %d is %v, want %v", w.Value, i, g.Headers[i], w.Headers[i])
			}
		}
	}
	if committed, err := s.End(ctx, true); err != nil || !committed {
		t.Fatalf("End = %v, %v", committed, err)
	}
}

// javaMurmur2 is org.apache.kafka.common.utils.Utils.murmur2, written from
// the Java source, independent of kgo's.
func javaMurmur2(data []byte) int32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	length := len(data)
	h := seed ^ uint32(length)
	for i := 0; i < length/4; i++ {
		i4 := i * 4
		k := uint32(data[i4]) | uint32(data[i4+1])<<8 | uint32(data[i4+2])<<16 | uint32(data[i4+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := length &^ 3
	switch length % 4 {
	case 3:
		h ^= uint32(data[tail+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[tail+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[tail])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// javaPartition is the Java client's BuiltInPartitioner for a keyed record:
// Utils.toPositive(Utils.murmur2(key)) % numPartitions.
func javaPartition(key []byte, n int32) int32 {
	return (javaMurmur2(key) & 0x7fffffff) % n
}

func TestJavaMurmur2Vectors(t *testing.T) {
	// Kafka's UtilsTest.testMurmur2.
	for in, want := range map[string]int32{
		"21":                         -973932308,
		"foobar":                     -790332482,
		"a-little-bit-long-string":   -985981536,
		"a-little-bit-longer-string": -1486304829,
		"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
	} {
		if got := javaMurmur2([]byte(in)); got != want {
			t.Errorf("murmur2(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestPartitioning(t *testing.T) {
	ctx := testCtx(t)
	_, cfg := broker(t)
	const n = 7
	createTopic(t, ctx, cfg, "parts", n)
	p := newProducerT(t, cfg)

	var keyed []*kafka.Record
	for i := range 200 {
		keyed = append(keyed, &kafka.Record{Topic: "parts", Partition: -1, Key: fmt.Appendf(nil, "user-%d", i), Value: []byte("v")})
	}
	keyed = append(keyed, &kafka.Record{Topic: "parts", Partition: -1, Key: []byte{}, Value: []byte("empty key")})
	var keyless, chosen []*kafka.Record
	for range 50 {
		keyless = append(keyless, &kafka.Record{Topic: "parts", Partition: -1, Value: []byte("no key")})
		chosen = append(chosen, &kafka.Record{Topic: "parts", Partition: 5, Key: []byte("user-1"), Value: []byte("chosen")})
	}
	produceAll(t, ctx, p, slices.Concat(keyed, keyless, chosen)...)

	used := map[int32]bool{}
	for _, r := range keyed {
		used[r.Partition] = true
		if want := javaPartition(r.Key, n); r.Partition != want {
			t.Errorf("key %q went to partition %d, the Java client puts it on %d", r.Key, r.Partition, want)
		}
	}
	if len(used) != n {
		t.Errorf("200 keys used partitions %v of %d", used, n)
	}
	for _, r := range keyless {
		if r.Partition < 0 || r.Partition >= n {
			t.Errorf("keyless record on partition %d", r.Partition)
		}
	}
	for _, r := range chosen {
		if r.Partition != 5 {
			t.Errorf("record for partition 5 went to %d", r.Partition)
		}
	}

	// A partition that does not exist fails the record.
	done := make(chan error, 1)
	p.Produce(&kafka.Record{Topic: "parts", Partition: n, Value: []byte("x")}, func(_ *kafka.Record, err error) { done <- err })
	select {
	case err := <-done:
		if err == nil {
			t.Error("a record for a missing partition was acknowledged")
		}
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
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
