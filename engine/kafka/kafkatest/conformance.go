package kafkatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka"
)

// Option adjusts the conformance suite to a client.
type Option func(*options)

type options struct {
	configure func(*kafka.Config)
	timeout   time.Duration
}

// WithConfig sets a hook that adjusts every kafka.Config the suite makes
// before the client sees it, for the client-specific properties the tests
// need (say, a short heartbeat.interval.ms in Extra, so that members notice
// rebalances quickly). The config's Extra is nil when the hook is called.
func WithConfig(configure func(*kafka.Config)) Option {
	return func(o *options) { o.configure = configure }
}

// WithTimeout bounds each test of the suite, or the test of an Env
// (default 30s).
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

func newOptions(opts []Option) options {
	o := options{timeout: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Conformance runs the behaviour tests that are the contract of
// kafka.Client against the client newClient makes, each test with its own
// in-process broker. Every client runs it, so that they behave alike.
func Conformance(t *testing.T, newClient func() kafka.Client, opts ...Option) {
	o := newOptions(opts)
	for _, c := range []struct {
		name string
		test func(t *testing.T, e *Env)
	}{
		{"RoundTrip", testRoundTrip},
		{"Partitioning", testPartitioning},
		{"ExactlyOnceCommit", testExactlyOnceCommit},
		{"ExactlyOnceAbort", testExactlyOnceAbort},
		{"ExactlyOnceFailedProduceAborts", testExactlyOnceFailedProduceAborts},
		{"AtLeastOnce", testAtLeastOnce},
		{"PollEnds", testPollEnds},
		{"TwoSessionsShare", testTwoSessionsShare},
		{"Patterns", testPatterns},
		{"Admin", testAdmin},
		{"UnknownProperty", testUnknownProperty},
		{"TLS", testTLS},
		{"MutualTLS", testMutualTLS},
		{"TLSBadPEM", testTLSBadPEM},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, &Env{o: o, newClient: newClient}) })
	}
	t.Run("SASL", func(t *testing.T) {
		for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"} {
			t.Run(mech, func(t *testing.T) {
				t.Parallel() // a refused login may be retried for a while
				testSASL(t, &Env{o: o, newClient: newClient}, mech)
			})
		}
	})
}

// Env is what one test works with: a client, a broker and a context that
// bounds the test. Its methods fail the test on errors.
type Env struct {
	o         options
	newClient func() kafka.Client
	ctx       context.Context
	broker    *Broker
	cfg       kafka.Config
}

// NewEnv starts a broker for a test of the client newClient makes, and
// bounds the test (30s unless WithTimeout says otherwise). Configs are
// adjusted by the WithConfig hook as in Conformance.
func NewEnv(t *testing.T, newClient func() kafka.Client, opts ...Option) *Env {
	t.Helper()
	e := &Env{o: newOptions(opts), newClient: newClient}
	e.start(t)
	return e
}

// Ctx is the context that bounds the test.
func (e *Env) Ctx() context.Context { return e.ctx }

// Broker is the test's broker.
func (e *Env) Broker() *Broker { return e.broker }

// Config is the client's config for the test's broker, after the
// WithConfig hook. Its Extra is the caller's own.
func (e *Env) Config() kafka.Config {
	cfg := e.cfg
	cfg.Extra = cloneMap(cfg.Extra)
	return cfg
}

// start starts the test's broker and bounds the test.
func (e *Env) start(t *testing.T, opts ...kfake.Opt) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e.o.timeout)
	t.Cleanup(cancel)
	e.ctx = ctx
	e.broker = New(t, opts...)
	e.cfg = e.configFor(e.broker.Addrs())
}

// configFor is the client's config for brokers, after the hook.
func (e *Env) configFor(brokers []string) kafka.Config {
	cfg := kafka.Config{Brokers: brokers, ClientID: "weir-test"}
	if e.o.configure != nil {
		e.o.configure(&cfg)
	}
	cfg.Extra = cloneMap(cfg.Extra)
	return cfg
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Admin makes an admin of the client with cfg, closed when the test ends.
func (e *Env) Admin(t *testing.T, cfg kafka.Config) kafka.Admin {
	t.Helper()
	a, err := e.newClient().NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// Producer makes a producer of the client with cfg, closed when the test
// ends.
func (e *Env) Producer(t *testing.T, cfg kafka.Config) kafka.Producer {
	t.Helper()
	p, err := e.newClient().NewProducer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// Session makes a session of the client with cfg, closed when the test
// ends.
func (e *Env) Session(t *testing.T, cfg kafka.SessionConfig) kafka.Session {
	t.Helper()
	s, err := e.newClient().NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// CreateTopic creates a topic with the client's admin.
func (e *Env) CreateTopic(t *testing.T, cfg kafka.Config, name string, partitions int32) {
	t.Helper()
	errs, err := e.Admin(t, cfg).CreateTopics(e.ctx, []kafka.TopicSpec{{Name: name, Partitions: partitions, ReplicationFactor: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := errs[name]; err != nil {
		t.Fatal(err)
	}
}

// ProduceAll produces the records and waits for their acknowledgements.
func (e *Env) ProduceAll(t *testing.T, p kafka.Producer, recs ...*kafka.Record) {
	t.Helper()
	var mu sync.Mutex
	var errs []error
	for _, r := range recs {
		p.Produce(r, func(r *kafka.Record, err error) {
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s[%d] %q: %w", r.Topic, r.Partition, r.Value, err))
				mu.Unlock()
			}
		})
	}
	if err := p.Flush(e.ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
}

// Begin begins the session's transaction or interval.
func (e *Env) Begin(t *testing.T, s kafka.Session) {
	t.Helper()
	if err := s.Begin(e.ctx); err != nil {
		t.Fatal(err)
	}
}

// End ends the session's transaction or interval and checks whether it
// committed.
func (e *Env) End(t *testing.T, s kafka.Session, commit, wantCommitted bool) {
	t.Helper()
	committed, err := s.End(e.ctx, commit)
	if err != nil || committed != wantCommitted {
		t.Fatalf("End(%v) = %v, %v; want %v", commit, committed, err, wantCommitted)
	}
}

// PollN polls until it has n records (or more, which fails the test), and
// checks that each partition's records come in offset order.
func (e *Env) PollN(t *testing.T, s kafka.Session, n int) []*kafka.Record {
	t.Helper()
	var out []*kafka.Record
	last := map[kafka.TopicPartition]int64{}
	for len(out) < n {
		fs, err := s.Poll(e.ctx)
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

// Franz is an independent client (franz-go's kgo) for seeding and checking.
func (e *Env) Franz(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.broker.Addrs()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Read returns the values an independent reader at level sees in topic: at
// least want, then whatever else arrives within a short grace period.
func (e *Env) Read(t *testing.T, topic string, want int, level kgo.IsolationLevel) []string {
	t.Helper()
	cl := e.Franz(t, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(level),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	var grace time.Time
	for {
		pctx, cancel := e.ctx, context.CancelFunc(func() {})
		if len(got) >= want {
			if grace.IsZero() {
				grace = time.Now().Add(300 * time.Millisecond)
			}
			pctx, cancel = context.WithDeadline(e.ctx, grace)
		}
		fs := cl.PollFetches(pctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
		if err := e.ctx.Err(); err != nil {
			t.Fatalf("reading %s: got %d of %d records: %v", topic, len(got), want, err)
		}
		if pctx.Err() != nil && len(got) >= want {
			return got
		}
	}
}

// ReadCommitted is Read with read_committed, sorted.
func (e *Env) ReadCommitted(t *testing.T, topic string, want int) []string {
	t.Helper()
	got := e.Read(t, topic, want, kgo.ReadCommitted())
	slices.Sort(got)
	return got
}

// GroupOffsets returns the group's committed offsets for a topic.
func (e *Env) GroupOffsets(t *testing.T, group, topic string) map[int32]int64 {
	t.Helper()
	resps, err := kadm.NewClient(e.Franz(t)).FetchOffsets(e.ctx, group)
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

// CommittedAtEnd checks that group committed every non-empty partition of
// topic up to its end.
func (e *Env) CommittedAtEnd(t *testing.T, group, topic string) {
	t.Helper()
	adm := kadm.NewClient(e.Franz(t))
	ends, err := adm.ListEndOffsets(e.ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	offs, err := adm.FetchOffsets(e.ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(end kadm.ListedOffset) {
		if end.Offset == 0 {
			return
		}
		if o, ok := offs.Lookup(end.Topic, end.Partition); !ok || o.At != end.Offset {
			t.Errorf("%s[%d]: committed %d, end %d", end.Topic, end.Partition, o.At, end.Offset)
		}
	})
}

// connects reports whether an admin with cfg can describe a topic.
func (e *Env) connects(t *testing.T, cfg kafka.Config) bool {
	t.Helper()
	actx, cancel := context.WithTimeout(e.ctx, 3*time.Second)
	defer cancel()
	_, err := e.Admin(t, cfg).DescribeTopics(actx, []string{"sec"})
	return err == nil
}

// roundTripVia creates a topic, produces to it and consumes it in an
// exactly-once session, all with cfg.
func (e *Env) roundTripVia(t *testing.T, cfg kafka.Config) {
	t.Helper()
	e.CreateTopic(t, cfg, "sec", 1)
	e.ProduceAll(t, e.Producer(t, cfg), Values("sec", 0, "v", 5)...)
	s := e.Session(t, kafka.SessionConfig{Config: cfg, Guarantee: kafka.ExactlyOnce, Group: "sec-app", TransactionalID: "sec-app-0", Topics: []string{"sec"}})
	e.Begin(t, s)
	if got := e.PollN(t, s, 5); string(got[0].Value) != "v0" {
		t.Fatalf("consumed %q first", got[0].Value)
	}
	e.End(t, s, true, true)
}

// Values makes n records prefix0, prefix1, ... for a partition.
func Values(topic string, partition int32, prefix string, n int) []*kafka.Record {
	recs := make([]*kafka.Record, n)
	for i := range recs {
		recs[i] = &kafka.Record{Topic: topic, Partition: partition, Value: fmt.Appendf(nil, "%s%d", prefix, i)}
	}
	return recs
}

// ValuesOf is the records' values, sorted.
func ValuesOf(recs []*kafka.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Value)
	}
	slices.Sort(out)
	return out
}

// OffsetKey is where a record is.
type OffsetKey struct {
	tp     kafka.TopicPartition
	offset int64
}

// OffsetsOf is where the records are, sorted.
func OffsetsOf(recs []*kafka.Record) []OffsetKey {
	out := make([]OffsetKey, len(recs))
	for i, r := range recs {
		out[i] = OffsetKey{kafka.TopicPartition{Topic: r.Topic, Partition: r.Partition}, r.Offset}
	}
	slices.SortFunc(out, func(a, b OffsetKey) int {
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

// ProduceFrom produces one output per input record in the session and
// returns how many were acknowledged (read after End).
func ProduceFrom(s kafka.Session, in []*kafka.Record, topic, prefix string) *atomic.Int64 {
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

// Records keep their key, value, headers and timestamp, and are consumed
// where they were acknowledged.
func testRoundTrip(t *testing.T, e *Env) {
	e.start(t)
	e.CreateTopic(t, e.cfg, "in", 3)
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
	e.ProduceAll(t, e.Producer(t, e.cfg), sent...)
	for _, r := range sent {
		if r.Partition < 0 || r.Partition > 2 || r.Offset < 0 {
			t.Fatalf("acknowledged record %q at %d/%d", r.Value, r.Partition, r.Offset)
		}
	}
	if sent[2].Partition != 2 {
		t.Fatalf("record for partition 2 went to %d", sent[2].Partition)
	}

	s := e.Session(t, kafka.SessionConfig{Config: e.cfg, Guarantee: kafka.AtLeastOnce, Group: "rt", Topics: []string{"in"}})
	e.Begin(t, s)
	byValue := map[string]*kafka.Record{}
	for _, r := range e.PollN(t, s, len(sent)) {
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
	e.End(t, s, true, true)
	e.CommittedAtEnd(t, "rt", "in")
}

// javaMurmur2 is org.apache.kafka.common.utils.Utils.murmur2, written from
// the Java source, independent of the clients'.
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

// KeyPartitionMatchesJava checks kafka.KeyPartition against the Java
// client's partitioner as written here.
func KeyPartitionMatchesJava(t *testing.T) {
	for i := range 2000 {
		key := make([]byte, i%37)
		for j := range key {
			key[j] = byte(i*31 + j*7)
		}
		for _, n := range []int32{1, 3, 7, 12} {
			if got, want := kafka.KeyPartition(key, n), javaPartition(key, n); got != want {
				t.Fatalf("KeyPartition(%x, %d) = %d, want %d", key, n, got, want)
			}
		}
	}
}

// Keyed records go where the Java client puts them; keyless ones anywhere;
// a chosen partition is kept, a missing one fails the record.
func testPartitioning(t *testing.T, e *Env) {
	e.start(t)
	const n = 7
	e.CreateTopic(t, e.cfg, "parts", n)
	p := e.Producer(t, e.cfg)

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
	e.ProduceAll(t, p, slices.Concat(keyed, keyless, chosen)...)

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

	done := make(chan error, 1)
	p.Produce(&kafka.Record{Topic: "parts", Partition: n, Value: []byte("x")}, func(_ *kafka.Record, err error) { done <- err })
	select {
	case err := <-done:
		if err == nil {
			t.Error("a record for a missing partition was acknowledged")
		}
	case <-e.ctx.Done():
		t.Fatal(e.ctx.Err())
	}
}

// A committed transaction's records are visible to read_committed readers,
// its offsets are committed with them, and a new member starts after them.
func testExactlyOnceCommit(t *testing.T, e *Env) {
	e.start(t)
	e.CreateTopic(t, e.cfg, "in", 2)
	e.CreateTopic(t, e.cfg, "out", 1)
	p := e.Producer(t, e.cfg)
	e.ProduceAll(t, p, slices.Concat(Values("in", 0, "a", 6), Values("in", 1, "b", 4))...)

	s := e.Session(t, kafka.SessionConfig{Config: e.cfg, Guarantee: kafka.ExactlyOnce, Group: "eos", TransactionalID: "eos-1", Topics: []string{"in"}})
	e.Begin(t, s)
	in := e.PollN(t, s, 10)
	acked := ProduceFrom(s, in, "out", "")
	e.End(t, s, true, true)
	if acked.Load() != 10 {
		t.Fatalf("%d of 10 outputs acknowledged when End returned", acked.Load())
	}
	want := []string{"a0", "a1", "a2", "a3", "a4", "a5", "b0", "b1", "b2", "b3"}
	if got := e.ReadCommitted(t, "out", 10); !slices.Equal(got, want) {
		t.Fatalf("read_committed sees %q, want %q", got, want)
	}
	if off := e.GroupOffsets(t, "eos", "in"); off[0] != 6 || off[1] != 4 {
		t.Fatalf("committed offsets %v, want 0:6 1:4", off)
	}

	// The next transaction starts where the last one committed.
	e.ProduceAll(t, p, Values("in", 0, "c", 2)...)
	e.Begin(t, s)
	for _, r := range e.PollN(t, s, 2) {
		if !strings.HasPrefix(string(r.Value), "c") {
			t.Errorf("polled %q at %d/%d again", r.Value, r.Partition, r.Offset)
		}
	}
	e.End(t, s, true, true)

	// A new member of the group starts after the committed offsets.
	s.Close()
	e.ProduceAll(t, p, Values("in", 1, "d", 2)...)
	s2 := e.Session(t, kafka.SessionConfig{Config: e.cfg, Guarantee: kafka.ExactlyOnce, Group: "eos", TransactionalID: "eos-2", Topics: []string{"in"}})
	e.Begin(t, s2)
	for _, r := range e.PollN(t, s2, 2) {
		if !strings.HasPrefix(string(r.Value), "d") {
			t.Errorf("the new session polled %q at %d/%d again", r.Value, r.Partition, r.Offset)
		}
	}
	e.End(t, s2, true, true)
}

// An aborted transaction's records are invisible to read_committed readers
// and its input is polled again.
func testExactlyOnceAbort(t *testing.T, e *Env) {
	e.start(t)
	e.CreateTopic(t, e.cfg, "in", 2)
	e.CreateTopic(t, e.cfg, "out", 1)
	e.ProduceAll(t, e.Producer(t, e.cfg), slices.Concat(Values("in", 0, "a", 6), Values("in", 1, "b", 4))...)

	s := e.Session(t, kafka.SessionConfig{Config: e.cfg, Guarantee: kafka.ExactlyOnce, Group: "abort", TransactionalID: "abort-1", Topics: []string{"in"}})
	e.Begin(t, s)
	first := e.PollN(t, s, 10)
	ProduceFrom(s, first, "out", "aborted-")
	e.End(t, s, false, false)

	e.Begin(t, s)
	again := e.PollN(t, s, 10)
	if !slices.Equal(OffsetsOf(first), OffsetsOf(again)) {
		t.Fatalf("after the abort Poll returned %v, want %v", OffsetsOf(again), OffsetsOf(first))
	}
	ProduceFrom(s, again, "out", "")
	e.End(t, s, true, true)

	if got, want := e.ReadCommitted(t, "out", 10), ValuesOf(first); !slices.Equal(got, want) {
		t.Errorf("read_committed sees %q, want %q", got, want)
	}
	e.CommittedAtEnd(t, "abort", "in")
}

// A produce that fails turns End(true) into an abort, with the rewind.
func testExactlyOnceFailedProduceAborts(t *testing.T, e *Env) {
	e.start(t)
	e.CreateTopic(t, e.cfg, "in", 1)
	e.CreateTopic(t, e.cfg, "out", 1)
	e.ProduceAll(t, e.Producer(t, e.cfg), Values("in", 0, "x", 3)...)

	s := e.Session(t, kafka.SessionConfig{Config: e.cfg, Guarantee: kafka.ExactlyOnce, Group: "fail", TransactionalID: "fail-1", Topics: []string{"in"}})
	e.Begin(t, s)
	first := e.PollN(t, s, 3)
	ProduceFrom(s, first, "out", "lost-")
	var failed atomic.Bool
	s.Produce(&kafka.Record{Topic: "out", Partition: 9, Value: []byte("nowhere")}, func(_ *kafka.Record, err error) { failed.Store(err != nil) })
	e.End(t, s, true, false)
	if !failed.Load() {
		t.Fatal("the produce to a missing partition did not fail")
	}
	e.Begin(t, s)
	again := e.PollN(t, s, 3)
	if !slices.Equal(OffsetsOf(first), OffsetsOf(again)) {
		t.Fatalf("after the abort Poll returned %v, want %v", OffsetsOf(again), OffsetsOf(first))
	}
	ProduceFrom(s, again, "out", "")
	e.End(t, s, true, true)
	if got, want := e.ReadCommitted(t, "out", 3), ValuesOf(first); !slices.Equal(got, want) {
		t.Fatalf("read_committed sees %q, want %q", got, want)
	}
}

// At-least-once commits offsets after the outputs are acknowledged; End(false)
// and a failed produce commit nothing and rewind.
func testAtLeastOnce(t *testing.T, e *Env) {
	e.start(t)
	e.CreateTopic(t, e.cfg, "in", 2)
	e.CreateTopic(t, e.cfg, "out", 1)
	p := e.Producer(t, e.cfg)
	e.ProduceAll(t, p, slices.Concat(Values("in", 0, "a", 5), Values("in", 1, "b", 5))...)

	scfg := kafka.SessionConfig{Config: e.cfg, Guarantee: kafka.AtLeastOnce, Group: "alo", Topics: []string{"in"}}
	s := e.Session(t, scfg)
	e.Begin(t, s)
	acked := ProduceFrom(s, e.PollN(t, s, 10), "out", "")
	e.End(t, s, true, true)
	if acked.Load() != 10 {
		t.Fatalf("%d of 10 outputs acknowledged when End returned", acked.Load())
	}
	if off := e.GroupOffsets(t, "alo", "in"); off[0] != 5 || off[1] != 5 {
		t.Fatalf("committed offsets %v, want 0:5 1:5", off)
	}

	// End(false): nothing committed, the records come back.
	e.ProduceAll(t, p, Values("in", 1, "c", 3)...)
	e.Begin(t, s)
	first := e.PollN(t, s, 3)
	ProduceFrom(s, first, "out", "")
	e.End(t, s, false, false)
	if off := e.GroupOffsets(t, "alo", "in"); off[1] != 5 {
		t.Fatalf("End(false) committed: offsets %v", off)
	}
	e.Begin(t, s)
	again := e.PollN(t, s, 3)
	if !slices.Equal(OffsetsOf(first), OffsetsOf(again)) {
		t.Fatalf("after End(false) Poll returned %v, want %v", OffsetsOf(again), OffsetsOf(first))
	}

	// A failed produce: no commit, the records come back.
	ProduceFrom(s, again, "out", "")
	s.Produce(&kafka.Record{Topic: "out", Partition: 9, Value: []byte("nowhere")}, nil)
	e.End(t, s, true, false)
	if off := e.GroupOffsets(t, "alo", "in"); off[1] != 5 {
		t.Fatalf("a failed produce committed: offsets %v", off)
	}
	e.Begin(t, s)
	third := e.PollN(t, s, 3)
	if !slices.Equal(OffsetsOf(first), OffsetsOf(third)) {
		t.Fatalf("after a failed produce Poll returned %v, want %v", OffsetsOf(third), OffsetsOf(first))
	}
	ProduceFrom(s, third, "out", "")
	e.End(t, s, true, true)
	if off := e.GroupOffsets(t, "alo", "in"); off[0] != 5 || off[1] != 8 {
		t.Fatalf("committed offsets %v, want 0:5 1:8", off)
	}
	// At-least-once: every round's outputs are there.
	if got := e.Read(t, "out", 19, kgo.ReadCommitted()); len(got) != 19 {
		t.Errorf("%d outputs, want 19", len(got))
	}

	// A new member of the group starts after the committed offsets.
	s.Close()
	e.ProduceAll(t, p, Values("in", 0, "d", 2)...)
	s2 := e.Session(t, scfg)
	e.Begin(t, s2)
	for _, r := range e.PollN(t, s2, 2) {
		if !strings.HasPrefix(string(r.Value), "d") {
			t.Errorf("the new member polled %q", r.Value)
		}
	}
}

// Poll ends with its context; End needs a Begin; Close aborts the open
// transaction, and Poll after it fails.
func testPollEnds(t *testing.T, e *Env) {
	e.start(t)
	e.CreateTopic(t, e.cfg, "quiet", 1)
	e.CreateTopic(t, e.cfg, "quiet-out", 1)
	s, err := e.newClient().NewSession(kafka.SessionConfig{Config: e.cfg, Guarantee: kafka.ExactlyOnce, Group: "q", TransactionalID: "q", Topics: []string{"quiet"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.End(e.ctx, true); err == nil {
		t.Error("End without Begin succeeded")
	}
	pctx, cancel := context.WithTimeout(e.ctx, 100*time.Millisecond)
	fs, err := s.Poll(pctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || len(fs) != 0 {
		t.Fatalf("Poll on a quiet topic = %v, %v; want the context's error", fs, err)
	}
	e.Begin(t, s)
	acked := make(chan error, 1)
	s.Produce(&kafka.Record{Topic: "quiet-out", Partition: 0, Value: []byte("open")}, func(_ *kafka.Record, err error) { acked <- err })
	select {
	case err := <-acked:
		if err != nil {
			t.Fatal(err)
		}
	case <-e.ctx.Done():
		t.Fatal(e.ctx.Err())
	}
	s.Close() // aborts the open transaction
	s.Close()
	if _, err := s.Poll(e.ctx); !errors.Is(err, kafka.ErrClosed) {
		t.Fatalf("Poll after Close = %v, want ErrClosed", err)
	}
	// An open transaction would hold read_committed readers back until it
	// timed out; an aborted one is invisible.
	e.ProduceAll(t, e.Producer(t, e.cfg), &kafka.Record{Topic: "quiet-out", Partition: 0, Value: []byte("after")})
	if got := e.ReadCommitted(t, "quiet-out", 1); !slices.Equal(got, []string{"after"}) {
		t.Fatalf("read_committed sees %q", got)
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

func (m *member) config(cfg kafka.Config) kafka.SessionConfig {
	m.owned = map[kafka.TopicPartition]bool{}
	return kafka.SessionConfig{
		Config: cfg, Guarantee: kafka.ExactlyOnce,
		Group: "share", TransactionalID: "share-" + m.name, Topics: []string{"in"},
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
			for _, r := range f.Records {
				s.Produce(&kafka.Record{Topic: "out", Partition: -1, Key: r.Key, Value: r.Value}, nil)
			}
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

// Two exactly-once members share the partitions under load, each told what
// it gains and loses, and every input is in the output once.
func testTwoSessionsShare(t *testing.T, e *Env) {
	e.start(t)
	e.CreateTopic(t, e.cfg, "in", 4)
	e.CreateTopic(t, e.cfg, "out", 2)

	runCtx, stop := context.WithCancel(e.ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	start := func(m *member) {
		s, err := e.newClient().NewSession(m.config(e.cfg))
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
			if e.ctx.Err() != nil {
				t.Fatalf("waiting for %s: %v", what, e.ctx.Err())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	a, b := &member{name: "a"}, &member{name: "b"}
	start(a)
	waitFor("a to own 4 partitions", func() bool { o, _, _ := a.snapshot(); return len(o) == 4 })

	// Steady load while b joins, so that the rebalance finds a's
	// transactions busy with the partitions it loses.
	seeder := e.Franz(t, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	loadCtx, stopLoad := context.WithCancel(e.ctx)
	defer stopLoad()
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
			if err = seeder.ProduceSync(e.ctx, rs...).FirstErr(); err != nil {
				return
			}
			total += len(rs)
			time.Sleep(20 * time.Millisecond)
		}
	}()

	start(b)
	waitFor("the partitions to be shared", func() bool {
		oa, _, ra := a.snapshot()
		ob, _, _ := b.snapshot()
		return len(ob) > 0 && ra > 0 && len(oa)+len(ob) == 4
	})
	time.Sleep(100 * time.Millisecond) // some load on the shared assignment
	stopLoad()
	if err := <-loadDone; err != nil {
		t.Fatal(err)
	}

	got := e.Read(t, "out", total, kgo.ReadCommitted())
	ownedA, _, revokedA := a.snapshot()
	ownedB, assignedB, _ := b.snapshot()
	stop()
	wg.Wait()
	for _, m := range []*member{a, b} {
		if m.err != nil {
			t.Errorf("member %s: %v", m.name, m.err)
		}
	}
	t.Logf("%d inputs; a: owned %d, revoked %d, %d commits, %d aborts; b: owned %d, assigned %d, %d commits, %d aborts",
		total, len(ownedA), revokedA, a.commits, a.aborts, len(ownedB), assignedB, b.commits, b.aborts)
	if len(ownedA)+len(ownedB) != 4 {
		t.Errorf("a owns %v, b owns %v", ownedA, ownedB)
	}
	for _, p := range ownedB {
		if slices.Contains(ownedA, p) {
			t.Errorf("%v owned by both", p)
		}
	}
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
	e.CommittedAtEnd(t, "share", "in")
}

// Topics are consumed by name and by patterns, which match whole topic
// names, as with the Java client; a bad pattern is an error.
func testPatterns(t *testing.T, e *Env) {
	e.start(t)
	topics := []string{"orders-eu", "my-orders-eu", "audit", "audit-old", "billing", "old-billing", "named"}
	p := e.Producer(t, e.cfg)
	for _, topic := range topics {
		e.CreateTopic(t, e.cfg, topic, 1)
		e.ProduceAll(t, p, &kafka.Record{Topic: topic, Partition: 0, Value: []byte(topic)})
	}
	var mu sync.Mutex
	assigned := map[string]bool{}
	s := e.Session(t, kafka.SessionConfig{Config: e.cfg, Guarantee: kafka.AtLeastOnce, Group: "whole",
		Topics:   []string{"named"},
		Patterns: []string{"orders-.*", "audit|billing"},
		OnAssigned: func(_ context.Context, parts []kafka.TopicPartition) {
			mu.Lock()
			defer mu.Unlock()
			for _, tp := range parts {
				assigned[tp.Topic] = true
			}
		}})
	e.Begin(t, s)
	want := []string{"audit", "billing", "named", "orders-eu"}
	if got := ValuesOf(e.PollN(t, s, len(want))); !slices.Equal(got, want) {
		t.Fatalf("consumed %q, want %q", got, want)
	}
	mu.Lock()
	for _, topic := range topics {
		if assigned[topic] != slices.Contains(want, topic) {
			t.Errorf("%s assigned: %v", topic, assigned[topic])
		}
	}
	mu.Unlock()
	if _, err := e.newClient().NewSession(kafka.SessionConfig{Config: e.cfg, Guarantee: kafka.AtLeastOnce, Group: "bad", Patterns: []string{"("}}); err == nil {
		t.Error("a bad pattern was accepted")
	}
}

// Topics are created (an existing one is no error, a topic's own error is
// its own), described and deleted.
func testAdmin(t *testing.T, e *Env) {
	e.start(t)
	a := e.Admin(t, e.cfg)
	specs := []kafka.TopicSpec{
		{Name: "orders", Partitions: 3, ReplicationFactor: 1, Config: map[string]string{"cleanup.policy": "compact", "retention.ms": "3600000"}},
		{Name: "events", Partitions: 1},
	}
	for range 2 { // the second time they exist: not an error
		errs, err := a.CreateTopics(e.ctx, specs)
		if err != nil {
			t.Fatal(err)
		}
		if len(errs) != 2 || errs["orders"] != nil || errs["events"] != nil {
			t.Fatalf("CreateTopics: %v", errs)
		}
	}
	errs, err := a.CreateTopics(e.ctx, []kafka.TopicSpec{{Name: "bad", Partitions: 1, ReplicationFactor: 3}, {Name: "good", Partitions: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if errs["bad"] == nil || errs["good"] != nil {
		t.Errorf("replication factor 3 on one broker: %v", errs)
	}

	infos, err := a.DescribeTopics(e.ctx, []string{"orders", "events", "missing", "good"})
	if err != nil {
		t.Fatal(err)
	}
	if g := infos["good"]; g.Partitions != 2 {
		t.Errorf("good: %+v", g)
	}
	delete(infos, "good")
	if len(infos) != 2 {
		t.Fatalf("DescribeTopics: %+v", infos)
	}
	if o := infos["orders"]; o.Name != "orders" || o.Partitions != 3 || o.Config["cleanup.policy"] != "compact" || o.Config["retention.ms"] != "3600000" {
		t.Errorf("orders: %+v", o)
	}
	if ev := infos["events"]; ev.Name != "events" || ev.Partitions != 1 {
		t.Errorf("events: %+v", ev)
	}
	// Describing a missing topic does not create it.
	if infos, err := a.DescribeTopics(e.ctx, []string{"missing"}); err != nil || len(infos) != 0 {
		t.Fatalf("DescribeTopics(missing) = %v, %v", infos, err)
	}

	if err := a.DeleteTopics(e.ctx, []string{"orders", "never-was"}); err != nil {
		t.Fatal(err)
	}
	infos, err = a.DescribeTopics(e.ctx, []string{"orders", "events"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := infos["orders"]; ok || len(infos) != 1 {
		t.Fatalf("after deleting orders: %+v", infos)
	}
}

// A property in Extra that the client does not know fails every kind of
// client, with an error naming it.
func testUnknownProperty(t *testing.T, e *Env) {
	cfg := e.configFor([]string{"127.0.0.1:1"})
	cfg.Extra["no.such.property"] = "1"
	cfg.Extra["linger.ms"] = "5"
	check := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "no.such.property") || strings.Contains(err.Error(), "linger.ms") {
			t.Errorf("%s: error %v, want one naming no.such.property alone", what, err)
		}
	}
	_, err := e.newClient().NewProducer(cfg)
	check("producer", err)
	_, err = e.newClient().NewAdmin(cfg)
	check("admin", err)
	_, err = e.newClient().NewSession(kafka.SessionConfig{Config: cfg, Guarantee: kafka.AtLeastOnce, Group: "g", Topics: []string{"t"}})
	check("session", err)
}

// A SASL user with the right password gets in; a wrong password or none
// does not.
func testSASL(t *testing.T, e *Env, mech string) {
	e.start(t, kfake.EnableSASL(), kfake.Superuser(mech, "weir", "s3cret"))
	good := e.cfg
	good.SASL = &kafka.SASL{Mechanism: mech, User: "weir", Password: "s3cret"}
	e.roundTripVia(t, good)
	for _, bad := range []*kafka.SASL{
		{Mechanism: mech, User: "weir", Password: "wrong"},
		nil, // no authentication at all
	} {
		c := e.cfg
		c.SASL = bad
		if e.connects(t, c) {
			t.Errorf("SASL %+v: DescribeTopics succeeded", bad)
		}
	}
}

// A client trusting the broker's CA works; one trusting another CA fails,
// unless it verifies nothing.
func testTLS(t *testing.T, e *Env) {
	ca, other := NewCA(t), NewCA(t)
	e.start(t, kfake.TLS(ca.ServerTLS(t, false)))
	good := e.cfg
	good.TLS = &kafka.TLS{CAPEM: ca.PEM()}
	e.roundTripVia(t, good)

	untrusting := e.cfg
	untrusting.TLS = &kafka.TLS{CAPEM: other.PEM()}
	if e.connects(t, untrusting) {
		t.Error("a client that does not trust the broker's CA connected")
	}
	untrusting.TLS = &kafka.TLS{CAPEM: other.PEM(), InsecureSkipVerify: true}
	if !e.connects(t, untrusting) {
		t.Error("a client skipping verification did not connect")
	}
}

// A client with a certificate gets into a broker requiring one; a client
// without does not.
func testMutualTLS(t *testing.T, e *Env) {
	ca := NewCA(t)
	certPEM, keyPEM := ca.Issue(t, "weir", false)
	e.start(t, kfake.TLS(ca.ServerTLS(t, true)))
	good := e.cfg
	good.TLS = &kafka.TLS{CAPEM: ca.PEM(), CertPEM: certPEM, KeyPEM: keyPEM}
	e.roundTripVia(t, good)

	anonymous := e.cfg
	anonymous.TLS = &kafka.TLS{CAPEM: ca.PEM()}
	if e.connects(t, anonymous) {
		t.Error("a client without a certificate connected to a broker requiring one")
	}
}

// Bad PEM fails the client's creation with an error naming the part.
func testTLSBadPEM(t *testing.T, e *Env) {
	ca := NewCA(t)
	certPEM, keyPEM := ca.Issue(t, "weir", false)
	_, otherKey := ca.Issue(t, "other", false)
	corrupt := pemBlock("CERTIFICATE", []byte("not DER"))
	for _, c := range []struct {
		name string
		tls  kafka.TLS
		want string
	}{
		{"CA not PEM", kafka.TLS{CAPEM: []byte("not PEM")}, "TLS CA: no PEM certificate"},
		{"CA empty", kafka.TLS{CAPEM: []byte{}}, "TLS CA: no PEM certificate"},
		{"CA not a certificate", kafka.TLS{CAPEM: keyPEM}, "TLS CA: no PEM certificate"},
		{"CA corrupt", kafka.TLS{CAPEM: bytes.Join([][]byte{ca.PEM(), corrupt}, nil)}, "TLS CA: certificate 2"},
		{"certificate not PEM", kafka.TLS{CertPEM: []byte("not PEM"), KeyPEM: keyPEM}, "TLS client certificate: no PEM certificate"},
		{"certificate corrupt", kafka.TLS{CertPEM: corrupt, KeyPEM: keyPEM}, "TLS client certificate: certificate 1"},
		{"key not PEM", kafka.TLS{CertPEM: certPEM, KeyPEM: []byte("not PEM")}, "TLS client key"},
		{"key is a certificate", kafka.TLS{CertPEM: certPEM, KeyPEM: certPEM}, "TLS client key"},
		{"key of another certificate", kafka.TLS{CertPEM: certPEM, KeyPEM: otherKey}, "TLS client key"},
		{"certificate without key", kafka.TLS{CertPEM: certPEM}, "TLS client certificate without its key"},
		{"key without certificate", kafka.TLS{KeyPEM: keyPEM}, "TLS client key without its certificate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := e.configFor([]string{"127.0.0.1:1"})
			cfg.TLS = &c.tls
			check := func(what string, err error) {
				t.Helper()
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: error %v, want one containing %q", what, err, c.want)
				}
			}
			_, err := e.newClient().NewAdmin(cfg)
			check("admin", err)
			_, err = e.newClient().NewProducer(cfg)
			check("producer", err)
			_, err = e.newClient().NewSession(kafka.SessionConfig{Config: cfg, Guarantee: kafka.ExactlyOnce, Group: "g", TransactionalID: "t", Topics: []string{"t"}})
			check("session", err)
		})
	}

	// A certificate and key in one file, given as both, is fine.
	both := bytes.Join([][]byte{certPEM, keyPEM}, nil)
	cfg := e.configFor([]string{"127.0.0.1:1"})
	cfg.TLS = &kafka.TLS{CAPEM: ca.PEM(), CertPEM: both, KeyPEM: both}
	a, err := e.newClient().NewAdmin(cfg)
	if err != nil {
		t.Fatalf("certificate and key in one PEM: %v", err)
	}
	a.Close()
}
