package franz

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka"
)

// Reader reads chosen partitions without a consumer group, from chosen
// offsets, as a read_committed reader: the engine replays table changelogs
// and follows global tables with it. Whatever client an app uses, its
// tables are replayed with franz-go, which reads about ten times faster
// than librdkafka's per-message Poll; both speak to the same cluster with
// the same TLS and SASL settings.
//
// Position accounts for the records a read_committed reader never returns
// (transaction markers, aborted records): a partition is read up to its
// end when its Position reaches End.
type Reader struct {
	cl  *kgo.Client
	adm *kadm.Client

	mu  sync.Mutex
	pos map[kafka.TopicPartition]int64
}

// NewReader returns a reader of no partitions; Add gives it some. Extra
// client properties are not applied: they are the app's client's.
func NewReader(cfg kafka.Config) (*Reader, error) {
	cfg.Extra = nil
	opts, err := baseOpts(cfg, &extras{})
	if err != nil {
		return nil, err
	}
	opts = append(opts,
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(64<<20),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	return &Reader{cl: cl, adm: kadm.NewClient(cl), pos: map[kafka.TopicPartition]int64{}}, nil
}

// OffsetStart reads a partition from the start of its log.
const OffsetStart int64 = -2

// Add starts reading partitions, each from its offset (OffsetStart: from
// the log's start; an offset past the log's end or before its start reads
// from the start).
func (r *Reader) Add(parts map[kafka.TopicPartition]int64) {
	add := map[string]map[int32]kgo.Offset{}
	r.mu.Lock()
	for tp, off := range parts {
		o := kgo.NewOffset().AtStart()
		if off >= 0 {
			o = kgo.NewOffset().At(off)
		}
		if add[tp.Topic] == nil {
			add[tp.Topic] = map[int32]kgo.Offset{}
		}
		add[tp.Topic][tp.Partition] = o
		r.pos[tp] = off
	}
	r.mu.Unlock()
	r.cl.AddConsumePartitions(add)
}

// Remove stops reading partitions.
func (r *Reader) Remove(parts []kafka.TopicPartition) {
	rm := map[string][]int32{}
	r.mu.Lock()
	for _, tp := range parts {
		rm[tp.Topic] = append(rm[tp.Topic], tp.Partition)
		delete(r.pos, tp)
	}
	r.mu.Unlock()
	r.cl.RemoveConsumePartitions(rm)
}

// Poll returns the next committed records, grouped by partition, waiting
// until some come or ctx ends (then it returns ctx's error with what it
// has). A poll that returned only markers returns no fetches and no error.
func (r *Reader) Poll(ctx context.Context) ([]kafka.Fetch, error) {
	fs := r.cl.PollFetches(ctx)
	var errs []error
	var out []kafka.Fetch
	r.mu.Lock()
	defer r.mu.Unlock()
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		if p.Err != nil {
			if !errors.Is(p.Err, context.Canceled) && !errors.Is(p.Err, context.DeadlineExceeded) {
				errs = append(errs, fmt.Errorf("reading %s[%d]: %w", p.Topic, p.Partition, p.Err))
			}
			return
		}
		tp := kafka.TopicPartition{Topic: p.Topic, Partition: p.Partition}
		if _, ok := r.pos[tp]; !ok || len(p.Records) == 0 {
			return // removed since
		}
		data := p.Records[:0:0]
		for _, kr := range p.Records {
			if !kr.Attrs.IsControl() {
				data = append(data, kr)
			}
		}
		r.pos[tp] = p.Records[len(p.Records)-1].Offset + 1
		if len(data) > 0 {
			out = append(out, kafka.Fetch{Topic: p.Topic, Partition: p.Partition, Records: convertRecords(data), HighWatermark: p.LastStableOffset})
		}
	})
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, errors.Join(errs...)
}

// Position returns the offset after the last record (data or marker) Poll
// has returned for a partition; before any, the offset it was added with.
func (r *Reader) Position(tp kafka.TopicPartition) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pos[tp]
}

// Ends returns the end of each partition of the topics for a
// read_committed reader: the last stable offset.
func (r *Reader) Ends(ctx context.Context, topics ...string) (map[kafka.TopicPartition]int64, error) {
	lo, err := r.adm.ListCommittedOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("kafka: listing the end offsets of %v: %w", topics, err)
	}
	out := map[kafka.TopicPartition]int64{}
	var errs []error
	lo.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: %w", o.Topic, o.Partition, o.Err))
			return
		}
		out[kafka.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.Offset
	})
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("kafka: listing end offsets: %w", err)
	}
	return out, nil
}

// Starts returns the start of each partition's log.
func (r *Reader) Starts(ctx context.Context, topics ...string) (map[kafka.TopicPartition]int64, error) {
	lo, err := r.adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("kafka: listing the start offsets of %v: %w", topics, err)
	}
	out := map[kafka.TopicPartition]int64{}
	lo.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			out[kafka.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.Offset
		}
	})
	return out, nil
}

// Close releases the client.
func (r *Reader) Close() { r.cl.Close() }
