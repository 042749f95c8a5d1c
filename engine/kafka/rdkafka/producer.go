package rdkafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	ck "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/weirstream/weir/engine/kafka"
)

var errClosed = errors.New("rdkafka: client closed")

// producerProps are set on every producer.
func producerProps(m ck.ConfigMap) {
	m["enable.idempotence"] = true
	// Place keyed records as the Java client does (murmur2 of the key).
	m["partitioner"] = "murmur2_random"
	// Delivery reports carry what done needs (partition, offset,
	// timestamp, opaque); not copies of key and value.
	m["go.delivery.report.fields"] = "none"
	// The Go binding's defaults allocate channels of a million entries.
	m["go.events.channel.size"] = 10000
	m["go.produce.channel.size"] = 1
}

// delivery is one record in flight.
type delivery struct {
	rec  *kafka.Record
	done func(*kafka.Record, error)
}

// sender produces records and calls their done functions from its delivery
// report loop. It counts the records in flight, so that flush can wait for
// every done to have been called, and the failures since reset.
type sender struct {
	p   *ck.Producer
	log *logSink

	mu     sync.RWMutex // shared by produce and flush, exclusive for close
	closed bool

	// refuse, when set, fails produce at once (a transaction aborted by
	// a rebalance: the records would go nowhere).
	refuse atomic.Pointer[error]

	pending inflight
	failed  atomic.Int64

	fatalMu sync.Mutex
	fatal   error

	loopDone chan struct{}
}

func newSender(m ck.ConfigMap, sink *logSink) (*sender, error) {
	p, err := ck.NewProducer(&m)
	if err != nil {
		return nil, fmt.Errorf("rdkafka: creating the producer: %w", err)
	}
	s := &sender{p: p, log: sink, loopDone: make(chan struct{})}
	go s.loop()
	return s, nil
}

func (s *sender) loop() {
	defer close(s.loopDone)
	log := slog.Default().With("client", "librdkafka")
	for ev := range s.p.Events() {
		switch e := ev.(type) {
		case *ck.Message:
			d, ok := e.Opaque.(*delivery)
			if !ok {
				continue
			}
			err := e.TopicPartition.Error
			if err == nil {
				d.rec.Partition = e.TopicPartition.Partition
				d.rec.Offset = int64(e.TopicPartition.Offset)
				if d.rec.Timestamp.IsZero() {
					d.rec.Timestamp = e.Timestamp
				}
			} else {
				s.failed.Add(1)
				err = fmt.Errorf("rdkafka: producing to %s: %w", d.rec.Topic, err)
			}
			d.done(d.rec, err)
			s.pending.done()
		case ck.Error:
			if e.IsFatal() {
				s.fatalMu.Lock()
				if s.fatal == nil {
					s.fatal = fmt.Errorf("rdkafka: producer: %w", e)
				}
				s.fatalMu.Unlock()
				log.Error("fatal producer error", "err", e)
			} else {
				log.Debug("producer error", "err", e)
			}
		}
	}
}

// fatalErr is the producer's fatal error, if it had one: it cannot be used
// any more.
func (s *sender) fatalErr() error {
	s.fatalMu.Lock()
	defer s.fatalMu.Unlock()
	return s.fatal
}

func (s *sender) produce(r *kafka.Record, done func(*kafka.Record, error)) {
	if done == nil {
		done = func(*kafka.Record, error) {}
	}
	msg := &ck.Message{
		TopicPartition: ck.TopicPartition{Topic: &r.Topic, Partition: r.Partition},
		Key:            r.Key,
		Value:          r.Value,
		Timestamp:      r.Timestamp,
		Opaque:         &delivery{rec: r, done: done},
	}
	if len(r.Headers) > 0 {
		msg.Headers = make([]ck.Header, len(r.Headers))
		for i, h := range r.Headers {
			msg.Headers[i] = ck.Header{Key: h.Key, Value: h.Value}
		}
	}
	fail := func(err error) {
		s.failed.Add(1)
		done(r, err)
	}
	backoff := time.Millisecond
	for {
		s.mu.RLock()
		if s.closed {
			s.mu.RUnlock()
			fail(errClosed)
			return
		}
		if e := s.refuse.Load(); e != nil {
			s.mu.RUnlock()
			fail(*e)
			return
		}
		s.pending.add()
		err := s.p.Produce(msg, nil)
		s.mu.RUnlock()
		if err == nil {
			return
		}
		s.pending.done()
		if !hasCode(err, ck.ErrQueueFull) {
			fail(fmt.Errorf("rdkafka: producing to %s: %w", r.Topic, err))
			return
		}
		// The local queue is full: wait for deliveries (back-pressure).
		time.Sleep(backoff)
		backoff = min(2*backoff, 50*time.Millisecond)
	}
}

// flush sends what is queued at once and waits until every record produced
// so far has had its done called, or ctx ends.
func (s *sender) flush(ctx context.Context) error {
	for !s.pending.zero() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.p.Flush(50) == 0 {
			break
		}
	}
	return s.pending.wait(ctx)
}

// close waits a while for the records in flight, fails those left, and
// destroys the producer.
func (s *sender) close(drain time.Duration) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	err := s.flush(ctx)
	cancel()
	if err != nil {
		// Purged records get delivery reports with an error: every done
		// is still called once.
		_ = s.p.Purge(ck.PurgeQueue | ck.PurgeInFlight)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.flush(ctx)
		cancel()
	}
	s.p.Close()
	<-s.loopDone
	if s.log != nil {
		s.log.close()
	}
}

// inflight counts records whose done has not been called yet.
type inflight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0
}

func (f *inflight) add() {
	f.mu.Lock()
	if f.n == 0 {
		f.idle = make(chan struct{})
	}
	f.n++
	f.mu.Unlock()
}

func (f *inflight) done() {
	f.mu.Lock()
	f.n--
	if f.n == 0 {
		close(f.idle)
	}
	f.mu.Unlock()
}

func (f *inflight) zero() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n == 0
}

func (f *inflight) wait(ctx context.Context) error {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return nil
	}
	ch := f.idle
	f.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// producer is the standalone idempotent producer.
type producer struct {
	s *sender
}

func newProducer(cfg kafka.Config) (*producer, error) {
	cm, err := newConfigMap(cfg, "producer")
	if err != nil {
		return nil, err
	}
	producerProps(cm.m)
	s, err := newSender(cm.finish(cfg.Extra), cm.log)
	if err != nil {
		cm.log.close()
		return nil, err
	}
	return &producer{s: s}, nil
}

func (p *producer) Produce(r *kafka.Record, done func(*kafka.Record, error)) {
	p.s.produce(r, done)
}

func (p *producer) Flush(ctx context.Context) error {
	p.s.mu.RLock()
	defer p.s.mu.RUnlock()
	if p.s.closed {
		return errClosed
	}
	if err := p.s.flush(ctx); err != nil {
		return err
	}
	return p.s.fatalErr()
}

func (p *producer) Close() { p.s.close(10 * time.Second) }
