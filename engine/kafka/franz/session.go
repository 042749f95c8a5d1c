package franz

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirstream/weir/engine/kafka"
)

// closeAbortTimeout bounds the abort of an open transaction in Close.
const closeAbortTimeout = 10 * time.Second

// session is both guarantees: with eos, txn is a GroupTransactSession over
// cl; without, cl is a plain group consumer with autocommit off.
type session struct {
	cfg     kafka.SessionConfig
	eos     bool
	cl      *kgo.Client
	txn     *kgo.GroupTransactSession // eos only
	maxPoll int                       // PollRecords limit, 0 for none

	flight flight // Produce since Begin

	// Used by the engine's loop goroutine only.
	inTxn   bool  // eos: Begin succeeded and End has not run
	pending error // a fetch error polled together with records, for the next Poll

	// starts holds, for each partition polled since the last commit, the
	// first offset polled: where to rewind a partition the group has no
	// committed offset for (see rewind). Written by Poll and End, pruned by
	// the rebalance callbacks, hence the lock.
	mu     sync.Mutex
	starts map[kafka.TopicPartition]kgo.EpochOffset

	closed atomic.Bool
}

func newSession(cfg kafka.SessionConfig) (*session, error) {
	ex, err := parseExtras(cfg.Extra)
	if err != nil {
		return nil, err
	}
	if cfg.Group == "" {
		return nil, errors.New("kafka: a session needs a consumer group")
	}
	if len(cfg.Topics) == 0 && len(cfg.Patterns) == 0 {
		return nil, errors.New("kafka: a session needs topics or patterns to consume")
	}
	s := &session{
		cfg:     cfg,
		maxPoll: ex.maxPollRecords,
		starts:  make(map[kafka.TopicPartition]kgo.EpochOffset),
	}
	switch cfg.Guarantee {
	case kafka.ExactlyOnce:
		s.eos = true
		if cfg.TransactionalID == "" {
			return nil, errors.New("kafka: an exactly-once session needs a transactional ID")
		}
		if ex.isolation != nil && *ex.isolation != "read_committed" {
			return nil, fmt.Errorf("kafka: isolation.level=%s: exactly-once reads read_committed", *ex.isolation)
		}
	case kafka.AtLeastOnce:
	default:
		return nil, fmt.Errorf("kafka: unknown delivery guarantee %d", cfg.Guarantee)
	}

	opts, err := baseOpts(cfg.Config, ex)
	if err != nil {
		return nil, err
	}
	consume, err := consumeOpts(cfg.Topics, cfg.Patterns)
	if err != nil {
		return nil, err
	}
	opts = append(opts, consume...)
	opts = append(opts,
		kgo.ConsumerGroup(cfg.Group),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RecordPartitioner(newPartitioner()),
		kgo.OnPartitionsAssigned(s.onAssigned),
		kgo.OnPartitionsRevoked(s.onRevoked),
		kgo.OnPartitionsLost(s.onRevoked),
	)
	// RequireStableFetchOffsets is always on in this franz-go (the option is
	// a deprecated no-op): a member's OffsetFetch waits for the group's
	// pending transactional offsets.
	if ex.autoCreate {
		opts = append(opts, kgo.AllowAutoTopicCreation())
	}
	if cfg.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(cfg.InstanceID))
	}
	if s.eos || ex.isolation != nil && *ex.isolation == "read_committed" {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	if s.eos {
		opts = append(opts, kgo.TransactionalID(cfg.TransactionalID))
	} else {
		opts = append(opts, kgo.DisableAutoCommit())
	}
	opts = append(opts, ex.consumer...)
	opts = append(opts, ex.producer...)

	if s.eos {
		s.txn, err = kgo.NewGroupTransactSession(opts...)
		if err != nil {
			return nil, fmt.Errorf("kafka: %w", err)
		}
		s.cl = s.txn.Client()
	} else {
		s.cl, err = kgo.NewClient(opts...)
		if err != nil {
			return nil, fmt.Errorf("kafka: %w", err)
		}
	}
	return s, nil
}

// consumeOpts consumes topics by name, or, with patterns, everything by
// regular expression: names become quoted expressions and patterns are
// anchored, as the Java client matches a whole topic name.
func consumeOpts(topics, patterns []string) ([]kgo.Opt, error) {
	if len(patterns) == 0 {
		return []kgo.Opt{kgo.ConsumeTopics(topics...)}, nil
	}
	res := make([]string, 0, len(topics)+len(patterns))
	for _, t := range topics {
		res = append(res, "^"+regexp.QuoteMeta(t)+"$")
	}
	for _, p := range patterns {
		re := "^(?:" + p + ")$"
		if _, err := regexp.Compile(re); err != nil {
			return nil, fmt.Errorf("kafka: topic pattern %q: %w", p, err)
		}
		res = append(res, re)
	}
	return []kgo.Opt{kgo.ConsumeRegex(), kgo.ConsumeTopics(res...)}, nil
}

func (s *session) onAssigned(ctx context.Context, _ *kgo.Client, m map[string][]int32) {
	parts := toParts(m)
	s.forget(parts)
	if s.cfg.OnAssigned != nil && len(parts) > 0 {
		s.cfg.OnAssigned(ctx, parts)
	}
}

// onRevoked serves revocations and losses. With exactly-once the
// GroupTransactSession has already marked the transaction to abort.
func (s *session) onRevoked(ctx context.Context, _ *kgo.Client, m map[string][]int32) {
	parts := toParts(m)
	s.forget(parts)
	if s.cfg.OnRevoked != nil && len(parts) > 0 {
		s.cfg.OnRevoked(ctx, parts)
	}
}

func (s *session) forget(parts []kafka.TopicPartition) {
	s.mu.Lock()
	for _, tp := range parts {
		delete(s.starts, tp)
	}
	s.mu.Unlock()
}

func (s *session) Begin(context.Context) error {
	s.flight.failed.Store(false)
	if !s.eos {
		return nil
	}
	if err := s.txn.Begin(); err != nil {
		return fmt.Errorf("kafka: begin transaction: %w", err)
	}
	s.inTxn = true
	return nil
}

func (s *session) Poll(ctx context.Context) ([]kafka.Fetch, error) {
	if err := s.pending; err != nil {
		s.pending = nil
		return nil, err
	}
	for {
		fs := s.cl.PollRecords(ctx, s.maxPoll)
		out, err := convert(fs)
		if len(out) > 0 {
			s.track(out)
			// The records are returned now (their offsets are already
			// the client's position); the error waits for the next Poll.
			s.pending = err
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// track remembers the first offset polled of each partition new since the
// last commit.
func (s *session) track(out []kafka.Fetch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range out {
		tp := kafka.TopicPartition{Topic: f.Topic, Partition: f.Partition}
		if _, ok := s.starts[tp]; !ok {
			s.starts[tp] = kgo.EpochOffset{Epoch: -1, Offset: f.Records[0].Offset}
		}
	}
}

func (s *session) Produce(r *kafka.Record, done func(*kafka.Record, error)) {
	s.flight.produce(s.cl, r, done)
}

func (s *session) End(ctx context.Context, commit bool) (bool, error) {
	if s.eos {
		return s.endTxn(ctx, commit)
	}
	return s.endAtLeastOnce(ctx, commit)
}

// endTxn ends the transaction. A produce that failed since Begin turns a
// commit into an abort (a transaction must not commit without all its
// records). GroupTransactSession.End aborts too if the group rebalanced
// since Begin or the offsets could not be committed; after any abort it
// rewinds the consumer to the last committed offsets (setOffsets to
// CommittedOffsets) and, after a commit, moves them to what was polled.
func (s *session) endTxn(ctx context.Context, commit bool) (bool, error) {
	if !s.inTxn {
		return false, errors.New("kafka: End without Begin")
	}
	if commit {
		if err := s.cl.Flush(ctx); err != nil {
			return false, err
		}
		if err := s.flight.wait(ctx); err != nil {
			return false, err
		}
	}
	try := kgo.TransactionEndTry(commit && !s.flight.failed.Load())
	committed, err := s.txn.End(ctx, try)
	if err == nil {
		s.inTxn = false // else Close tries an abort again
		if !commit {
			// The abort failed what was still buffered; their
			// callbacks run before End returns.
			err = s.flight.wait(ctx)
		}
	}
	if committed {
		s.clearStarts()
	} else {
		s.rewindUncommitted()
	}
	if err != nil {
		return committed, fmt.Errorf("kafka: end transaction: %w", err)
	}
	return committed, nil
}

// endAtLeastOnce flushes and waits for every record produced since Begin,
// then commits the offsets polled since Begin if all were acknowledged.
func (s *session) endAtLeastOnce(ctx context.Context, commit bool) (bool, error) {
	if err := s.cl.Flush(ctx); err != nil {
		return false, err
	}
	if err := s.flight.wait(ctx); err != nil {
		return false, err
	}
	if !commit || s.flight.failed.Load() {
		s.rewind()
		return false, nil
	}
	if err := commitOffsets(ctx, s.cl, s.cl.UncommittedOffsets()); err != nil {
		s.rewind()
		if rebalanced(err) {
			return false, nil
		}
		return false, fmt.Errorf("kafka: commit offsets: %w", err)
	}
	s.clearStarts()
	return true, nil
}

func commitOffsets(ctx context.Context, cl *kgo.Client, offsets map[string]map[int32]kgo.EpochOffset) error {
	if len(offsets) == 0 {
		return nil
	}
	var rerr error
	cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			rerr = err
			return
		}
		var errs []error
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					errs = append(errs, fmt.Errorf("%s[%d]: %w", t.Topic, p.Partition, err))
				}
			}
		}
		rerr = errors.Join(errs...)
	})
	return rerr
}

// rebalanced reports a commit refused because the member's generation moved
// on: the records come again (here or at the partitions' new owner).
func rebalanced(err error) bool {
	return errors.Is(err, kerr.IllegalGeneration) ||
		errors.Is(err, kerr.UnknownMemberID) ||
		errors.Is(err, kerr.RebalanceInProgress) ||
		errors.Is(err, kerr.StaleMemberEpoch)
}

func (s *session) clearStarts() {
	s.mu.Lock()
	clear(s.starts)
	s.mu.Unlock()
}

// rewind sets every partition consumed to its last committed offset, so
// that Poll returns what was polled since then again (at-least-once; the
// GroupTransactSession does the same itself after an abort).
func (s *session) rewind() {
	committed := s.cl.CommittedOffsets()
	s.mu.Lock()
	for t, ps := range committed {
		for p, eo := range ps {
			if st, ok := s.starts[kafka.TopicPartition{Topic: t, Partition: p}]; ok && uninitialized(eo) {
				ps[p] = st
			}
		}
	}
	s.mu.Unlock()
	s.cl.SetOffsets(committed)
}

// rewindUncommitted corrects the GroupTransactSession's rewind for the
// partitions with no committed offset. kgo records those as committed at
// offset 0 (epoch -1) and rewinds them there, which re-reads the partition
// from its start even when the group began at its end (auto.offset.reset
// latest) or the log no longer starts at 0; the right place is the first
// offset polled from the partition since the last commit.
func (s *session) rewindUncommitted() {
	committed := s.cl.CommittedOffsets()
	set := make(map[string]map[int32]kgo.EpochOffset)
	s.mu.Lock()
	for t, ps := range committed {
		for p, eo := range ps {
			st, ok := s.starts[kafka.TopicPartition{Topic: t, Partition: p}]
			if !ok || !uninitialized(eo) {
				continue
			}
			if set[t] == nil {
				set[t] = make(map[int32]kgo.EpochOffset)
			}
			set[t][p] = st
		}
	}
	s.mu.Unlock()
	if len(set) > 0 {
		s.cl.SetOffsets(set)
	}
}

// uninitialized is kgo's committed offset of a partition the group has not
// committed: {-1, 0}. (A real commit of offset 0 looks the same; rewinding
// it to the first offset polled since is equivalent.)
func uninitialized(eo kgo.EpochOffset) bool {
	return eo.Epoch < 0 && eo.Offset <= 0
}

func (s *session) Close() {
	if s.closed.Swap(true) {
		return
	}
	if s.eos && s.inTxn {
		ctx, cancel := context.WithTimeout(context.Background(), closeAbortTimeout)
		_, _ = s.txn.End(ctx, kgo.TryAbort)
		cancel()
		s.inTxn = false
	}
	s.cl.Close()
}
