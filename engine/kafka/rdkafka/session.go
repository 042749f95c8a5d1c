package rdkafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	ck "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/weirstream/weir/engine/kafka"
)

const (
	// maxBatch and linger bound one Poll: it returns once it has maxBatch
	// records or linger has passed since the first one.
	maxBatch = 4096
	linger   = 10 * time.Millisecond
	// pollSlice bounds one blocking librdkafka poll, so that Poll sees its
	// ctx end promptly.
	pollSlice = 100 * time.Millisecond
	// txnTimeout bounds InitTransactions, and an abort that has no ctx of
	// its own (revocation, Close).
	txnTimeout = 30 * time.Second
)

var errRevoked = errors.New("rdkafka: the transaction was aborted because a rebalance took a partition it consumed; End rewinds")

type txnState int

const (
	txnNone    txnState = iota // no transaction (at-least-once: always)
	txnOpen                    // begun
	txnAborted                 // aborted by a revocation; End rewinds
)

// span is the offsets Poll returned for one partition since the last End.
type span struct{ first, last int64 }

// session is one group member: a consumer and a producer (transactional
// for exactly-once, idempotent for at-least-once).
//
// All fields but out are used from the engine's goroutine only: Begin, Poll,
// End and Close, and the rebalance callback, which librdkafka runs inside
// consumer.Poll (from Poll and from consumer.Close).
type session struct {
	cfg  kafka.SessionConfig
	eos  bool
	cons *ck.Consumer
	out  *sender
	log  *logSink

	ctx    context.Context // of the Poll running the rebalance callback
	txn    txnState
	polled map[kafka.TopicPartition]*span
	err    error // sticky: the session is unusable
	closed bool

	// The batch Poll is gathering.
	cur   []kafka.Fetch
	idx   map[kafka.TopicPartition]int
	count int
}

func newSession(cfg kafka.SessionConfig) (*session, error) {
	switch {
	case cfg.Group == "":
		return nil, errors.New("rdkafka: a session needs a group")
	case len(cfg.Topics)+len(cfg.Patterns) == 0:
		return nil, errors.New("rdkafka: a session needs topics or patterns to consume")
	case cfg.Guarantee == kafka.ExactlyOnce && cfg.TransactionalID == "":
		return nil, errors.New("rdkafka: an exactly-once session needs a transactional id")
	case cfg.Guarantee != kafka.ExactlyOnce && cfg.Guarantee != kafka.AtLeastOnce:
		return nil, fmt.Errorf("rdkafka: unknown guarantee %d", cfg.Guarantee)
	}
	cm, err := newConfigMap(cfg.Config, "session")
	if err != nil {
		return nil, err
	}
	s := &session{
		cfg:    cfg,
		eos:    cfg.Guarantee == kafka.ExactlyOnce,
		log:    cm.log,
		polled: map[kafka.TopicPartition]*span{},
		idx:    map[kafka.TopicPartition]int{},
	}

	cons := cm.finish(nil)
	cons["group.id"] = cfg.Group
	if cfg.InstanceID != "" {
		cons["group.instance.id"] = cfg.InstanceID
	}
	cons["partition.assignment.strategy"] = "cooperative-sticky"
	cons["isolation.level"] = "read_committed"
	cons["enable.auto.commit"] = false
	cons["enable.auto.offset.store"] = false
	cons["auto.offset.reset"] = "earliest"
	for k, v := range cfg.Extra {
		cons[k] = v
	}
	s.cons, err = ck.NewConsumer(&cons)
	if err != nil {
		s.log.close()
		return nil, fmt.Errorf("rdkafka: creating the consumer: %w", err)
	}

	prod := cm.finish(nil)
	producerProps(prod)
	if s.eos {
		prod["transactional.id"] = cfg.TransactionalID
	}
	for k, v := range cfg.Extra {
		prod[k] = v
	}
	s.out, err = newSender(prod, nil)
	if err != nil {
		_ = s.cons.Close()
		s.log.close()
		return nil, err
	}
	if s.eos {
		ctx, cancel := context.WithTimeout(context.Background(), txnTimeout)
		err := s.out.p.InitTransactions(ctx)
		cancel()
		if err != nil {
			s.release()
			return nil, fmt.Errorf("rdkafka: initializing transactions: %w", err)
		}
	}

	subs := append([]string(nil), cfg.Topics...)
	for _, p := range cfg.Patterns {
		subs = append(subs, patternSub(p))
	}
	if err := s.cons.SubscribeTopics(subs, s.rebalance); err != nil {
		s.release()
		return nil, fmt.Errorf("rdkafka: subscribing: %w", err)
	}
	return s, nil
}

// patternSub is the subscription for a topic pattern: librdkafka takes one
// starting with ^ as a regular expression, and the anchors make it match
// whole topic names, as the Java client does. The group is a capturing one
// because librdkafka's expressions are POSIX extended, without (?:...).
func patternSub(p string) string { return "^(" + p + ")$" }

// release destroys the clients.
func (s *session) release() {
	_ = s.cons.Close()
	s.out.close(10 * time.Second)
	s.log.close()
}

func (s *session) Begin(ctx context.Context) error {
	if s.closed {
		return errClosed
	}
	if s.err != nil {
		return s.err
	}
	if !s.eos {
		return nil
	}
	if s.txn != txnNone {
		return errors.New("rdkafka: Begin with a transaction open")
	}
	if err := s.out.p.BeginTransaction(); err != nil {
		if isFatal(err) {
			s.err = fmt.Errorf("rdkafka: beginning a transaction: %w", err)
			return s.err
		}
		return fmt.Errorf("rdkafka: beginning a transaction: %w", err)
	}
	s.txn = txnOpen
	s.out.refuse.Store(nil)
	return nil
}

func (s *session) Produce(r *kafka.Record, done func(*kafka.Record, error)) {
	s.out.produce(r, done)
}

func (s *session) Poll(ctx context.Context) ([]kafka.Fetch, error) {
	if s.closed {
		return nil, kafka.ErrClosed
	}
	if s.err != nil {
		return nil, s.err
	}
	s.ctx = ctx
	defer func() { s.ctx = nil }()
	s.cur, s.count = nil, 0
	clear(s.idx)
	var lingerEnd time.Time
	for {
		var timeout time.Duration
		if s.count == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			timeout = pollSlice
			if dl, ok := ctx.Deadline(); ok {
				timeout = min(timeout, time.Until(dl))
			}
		} else {
			timeout = time.Until(lingerEnd)
			if ctx.Err() != nil {
				break
			}
		}
		ms := 0
		if timeout > 0 {
			ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
		}
		ev := s.cons.Poll(ms)
		if s.err != nil {
			return nil, s.err
		}
		switch e := ev.(type) {
		case *ck.Message:
			if err := e.TopicPartition.Error; err != nil {
				if err := s.consumeError(err); err != nil {
					return nil, err
				}
				continue
			}
			if s.add(e) == 1 {
				lingerEnd = time.Now().Add(linger)
			}
		case ck.Error:
			if err := s.consumeError(e); err != nil {
				return nil, err
			}
		case nil:
			if s.count > 0 && ms == 0 {
				return s.finishBatch(), nil
			}
		}
		if s.count >= maxBatch {
			break
		}
	}
	return s.finishBatch(), nil
}

// consumeError logs a consumer error, or returns it if the session cannot
// go on.
func (s *session) consumeError(err error) error {
	if isFatal(err) || hasCode(err, ck.ErrTopicAuthorizationFailed, ck.ErrGroupAuthorizationFailed,
		ck.ErrSaslAuthenticationFailed, ck.ErrAuthentication) {
		return fmt.Errorf("rdkafka: consuming: %w", err)
	}
	lvl := slog.LevelWarn
	if hasCode(err, ck.ErrUnknownTopicOrPart, ck.ErrTransport, ck.ErrAllBrokersDown) {
		lvl = slog.LevelDebug
	}
	slog.Default().Log(context.Background(), lvl, "consumer error", "client", "librdkafka", "err", err)
	return nil
}

// add appends a message to the batch and returns the batch's size.
func (s *session) add(m *ck.Message) int {
	tp := kafka.TopicPartition{Topic: *m.TopicPartition.Topic, Partition: m.TopicPartition.Partition}
	r := &kafka.Record{
		Topic:     tp.Topic,
		Partition: tp.Partition,
		Offset:    int64(m.TopicPartition.Offset),
		Key:       m.Key,
		Value:     m.Value,
		Timestamp: m.Timestamp,
	}
	if len(m.Headers) > 0 {
		r.Headers = make([]kafka.Header, len(m.Headers))
		for i, h := range m.Headers {
			r.Headers[i] = kafka.Header{Key: h.Key, Value: h.Value}
		}
	}
	i, ok := s.idx[tp]
	if !ok {
		i = len(s.cur)
		s.idx[tp] = i
		s.cur = append(s.cur, kafka.Fetch{Topic: tp.Topic, Partition: tp.Partition, HighWatermark: -1})
	}
	s.cur[i].Records = append(s.cur[i].Records, r)
	s.count++
	return s.count
}

// finishBatch records the offsets returned and hands the batch over.
func (s *session) finishBatch() []kafka.Fetch {
	for i := range s.cur {
		// librdkafka's cached watermarks: no request to the broker.
		if _, high, err := s.cons.GetWatermarkOffsets(s.cur[i].Topic, s.cur[i].Partition); err == nil && high >= 0 {
			s.cur[i].HighWatermark = high
		}
	}
	for _, f := range s.cur {
		tp := kafka.TopicPartition{Topic: f.Topic, Partition: f.Partition}
		first, last := f.Records[0].Offset, f.Records[len(f.Records)-1].Offset
		if sp, ok := s.polled[tp]; ok {
			sp.last = last
		} else {
			s.polled[tp] = &span{first: first, last: last}
		}
	}
	out := s.cur
	s.cur, s.count = nil, 0
	clear(s.idx)
	return out
}

// rebalance is the consumer's rebalance callback (cooperative: it gets the
// partitions gained or lost, only those).
func (s *session) rebalance(c *ck.Consumer, ev ck.Event) error {
	ctx := s.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	switch e := ev.(type) {
	case ck.AssignedPartitions:
		if parts := toTPs(e.Partitions); len(parts) > 0 && s.cfg.OnAssigned != nil {
			s.cfg.OnAssigned(ctx, parts)
		}
		if err := c.IncrementalAssign(e.Partitions); err != nil {
			s.err = fmt.Errorf("rdkafka: assigning partitions: %w", err)
		}
	case ck.RevokedPartitions:
		parts := toTPs(e.Partitions)
		s.revoke(ctx, parts, c.AssignmentLost())
		if len(parts) > 0 && s.cfg.OnRevoked != nil {
			s.cfg.OnRevoked(ctx, parts)
		}
		if err := c.IncrementalUnassign(e.Partitions); err != nil {
			s.err = fmt.Errorf("rdkafka: unassigning partitions: %w", err)
		}
	}
	return nil
}

// revoke forgets the partitions that go and, if the open transaction
// consumed from one of them, aborts it now, before they go: its offsets
// cannot be committed (the records polled from them may not all have been
// processed yet) and another member will consume them from the last
// committed offset. A transaction that did not touch them goes on.
func (s *session) revoke(ctx context.Context, parts []kafka.TopicPartition, lost bool) {
	touched := false
	drop := false
	for _, tp := range parts {
		if _, ok := s.polled[tp]; ok {
			touched = true
			delete(s.polled, tp)
		}
		if _, ok := s.idx[tp]; ok {
			drop = true
		}
	}
	if drop {
		// Records gathered by the Poll in progress: not returned, not ours.
		cur := s.cur[:0]
		s.count = 0
		clear(s.idx)
		for _, f := range s.cur {
			tp := kafka.TopicPartition{Topic: f.Topic, Partition: f.Partition}
			if containsTP(parts, tp) {
				continue
			}
			s.idx[tp] = len(cur)
			cur = append(cur, f)
			s.count += len(f.Records)
		}
		s.cur = cur
	}
	if lost {
		slog.Default().Warn("partitions lost (the group moved on without this member)", "client", "librdkafka", "partitions", len(parts))
	}
	if !s.eos || !touched || s.txn != txnOpen {
		return
	}
	s.out.refuse.Store(&errRevoked)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), txnTimeout)
	defer cancel()
	if err := s.abort(actx); err != nil {
		// End tries again; the broker aborts it at the latest when the
		// transaction times out or the next InitTransactions fences it.
		slog.Default().Warn("aborting the transaction on revocation", "client", "librdkafka", "err", err)
		return
	}
	s.txn = txnAborted
}

func containsTP(parts []kafka.TopicPartition, tp kafka.TopicPartition) bool {
	for _, p := range parts {
		if p == tp {
			return true
		}
	}
	return false
}

func (s *session) End(ctx context.Context, commit bool) (bool, error) {
	if s.closed {
		return false, errClosed
	}
	if s.err != nil {
		return false, s.err
	}
	if err := s.out.fatalErr(); err != nil {
		s.err = err
		return false, err
	}
	if s.eos && s.txn == txnNone {
		return false, errors.New("rdkafka: End without Begin")
	}
	if err := s.out.flush(ctx); err != nil {
		// The records produced were not all acknowledged in time.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), txnTimeout)
		defer cancel()
		return false, errors.Join(fmt.Errorf("rdkafka: flushing: %w", err), s.abortAndRewind(actx))
	}
	if commit && s.out.failed.Load() == 0 && (!s.eos || s.txn == txnOpen) {
		var committed bool
		var err error
		if s.eos {
			committed, err = s.commitTxn(ctx)
		} else {
			committed, err = s.commitOffsets()
		}
		if err != nil {
			s.err = err
			return false, err
		}
		if committed {
			s.reset()
			return true, nil
		}
	}
	return false, s.abortAndRewind(ctx)
}

// offsets are the positions to commit: one past the last record polled
// from each partition since the last End.
func (s *session) offsets() []ck.TopicPartition {
	out := make([]ck.TopicPartition, 0, len(s.polled))
	for tp, sp := range s.polled {
		topic := tp.Topic
		out = append(out, ck.TopicPartition{Topic: &topic, Partition: tp.Partition, Offset: ck.Offset(sp.last + 1)})
	}
	return out
}

// commitTxn sends the offsets to the transaction and commits it. It returns
// false and no error when the transaction must be aborted instead, and an
// error when the producer cannot go on.
func (s *session) commitTxn(ctx context.Context) (bool, error) {
	p := s.out.p
	if offsets := s.offsets(); len(offsets) > 0 {
		md, err := s.cons.GetConsumerGroupMetadata()
		if err != nil {
			slog.Default().Warn("no consumer group metadata: aborting", "client", "librdkafka", "err", err)
			return false, nil
		}
		for {
			err := p.SendOffsetsToTransaction(ctx, offsets, md)
			if err == nil {
				break
			}
			if isFatal(err) || ctx.Err() != nil {
				return false, fmt.Errorf("rdkafka: sending offsets to the transaction: %w", err)
			}
			if isRetriable(err) {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			slog.Default().Info("sending offsets to the transaction failed: aborting", "client", "librdkafka", "err", err)
			return false, nil
		}
	}
	for {
		err := p.CommitTransaction(ctx)
		if err == nil {
			return true, nil
		}
		if isFatal(err) || ctx.Err() != nil {
			return false, fmt.Errorf("rdkafka: committing the transaction: %w", err)
		}
		if isRetriable(err) {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		slog.Default().Info("committing the transaction failed: aborting", "client", "librdkafka", "err", err)
		return false, nil
	}
}

// commitOffsets commits the positions polled (at-least-once, after the
// records produced were acknowledged). It returns false and no error when
// the group would not take them (a rebalance).
func (s *session) commitOffsets() (bool, error) {
	offsets := s.offsets()
	if len(offsets) == 0 {
		return true, nil
	}
	_, err := s.cons.CommitOffsets(offsets)
	if err == nil {
		return true, nil
	}
	if isFatal(err) {
		return false, fmt.Errorf("rdkafka: committing offsets: %w", err)
	}
	slog.Default().Info("committing offsets failed: rewinding", "client", "librdkafka", "err", err)
	return false, nil
}

// abort aborts the open transaction.
func (s *session) abort(ctx context.Context) error {
	for {
		err := s.out.p.AbortTransaction(ctx)
		if err == nil {
			return nil
		}
		if isFatal(err) || ctx.Err() != nil || !isRetriable(err) {
			return fmt.Errorf("rdkafka: aborting the transaction: %w", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// abortAndRewind ends the transaction (if open) with an abort and seeks
// every partition polled since the last End back to the first record
// polled, so that Poll returns those records again.
func (s *session) abortAndRewind(ctx context.Context) error {
	if s.eos && s.txn == txnOpen {
		if err := s.abort(ctx); err != nil {
			s.err = err
			return err
		}
	}
	var err error
	if len(s.polled) > 0 {
		tps := make([]ck.TopicPartition, 0, len(s.polled))
		for tp, sp := range s.polled {
			topic := tp.Topic
			tps = append(tps, ck.TopicPartition{Topic: &topic, Partition: tp.Partition, Offset: ck.Offset(sp.first)})
		}
		var res []ck.TopicPartition
		res, err = s.cons.SeekPartitions(tps)
		if err == nil {
			for _, r := range res {
				if r.Error != nil {
					err = errors.Join(err, fmt.Errorf("%s[%d]: %w", *r.Topic, r.Partition, r.Error))
				}
			}
		}
		if err != nil {
			// Without the rewind, records would be skipped.
			err = fmt.Errorf("rdkafka: rewinding: %w", err)
			s.err = err
		}
	}
	s.reset()
	return err
}

// reset starts a new interval.
func (s *session) reset() {
	clear(s.polled)
	s.txn = txnNone
	s.out.failed.Store(0)
	if s.eos {
		// Until Begin, librdkafka refuses records itself.
		s.out.refuse.Store(nil)
	}
}

func (s *session) Close() {
	if s.closed {
		return
	}
	s.closed = true
	if s.eos && s.txn == txnOpen {
		ctx, cancel := context.WithTimeout(context.Background(), txnTimeout)
		if err := s.abort(ctx); err != nil {
			slog.Default().Warn("aborting the transaction on close", "client", "librdkafka", "err", err)
		}
		cancel()
		s.txn = txnNone
	}
	// Closing the consumer revokes what it holds through the rebalance
	// callback (OnRevoked) and leaves the group, unless it is a static
	// member.
	if err := s.cons.Close(); err != nil {
		slog.Default().Warn("closing the consumer", "client", "librdkafka", "err", err)
	}
	s.out.close(10 * time.Second)
	s.log.close()
}
