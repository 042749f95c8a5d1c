package franz

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka"
)

// produced is one record in flight: the kgo record, the caller's record and
// its callback, in one allocation.
type produced struct {
	kr   kgo.Record
	r    *kafka.Record
	done func(*kafka.Record, error)
	f    *flight
}

// flight counts the records in flight and whether one failed, so that End
// and Flush can wait for every callback and know how they went.
type flight struct {
	failed atomic.Bool

	mu   sync.Mutex
	n    int           // records in flight
	idle chan struct{} // closed when n drops to 0
}

// produce converts r and hands it to kgo; done is called exactly once.
func (f *flight) produce(cl *kgo.Client, r *kafka.Record, done func(*kafka.Record, error)) {
	p := &produced{r: r, done: done, f: f}
	p.kr = kgo.Record{
		Topic:     r.Topic,
		Partition: r.Partition,
		Key:       r.Key,
		Value:     r.Value,
		Timestamp: r.Timestamp, // zero: kgo stamps the current time
	}
	if len(r.Headers) > 0 {
		hs := make([]kgo.RecordHeader, len(r.Headers))
		for i, h := range r.Headers {
			hs[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
		}
		p.kr.Headers = hs
	}
	f.mu.Lock()
	if f.n == 0 {
		f.idle = make(chan struct{})
	}
	f.n++
	f.mu.Unlock()
	cl.Produce(context.Background(), &p.kr, p.promise)
}

func (p *produced) promise(kr *kgo.Record, err error) {
	if err != nil {
		p.f.failed.Store(true)
	} else {
		p.r.Partition = kr.Partition
		p.r.Offset = kr.Offset
		p.r.Timestamp = kr.Timestamp
	}
	if p.done != nil {
		p.done(p.r, err)
	}
	f := p.f
	f.mu.Lock()
	f.n--
	if f.n == 0 {
		close(f.idle)
	}
	f.mu.Unlock()
}

// wait waits until every record produced so far is settled, or ctx ends.
func (f *flight) wait(ctx context.Context) error {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return nil
	}
	idle := f.idle
	f.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// convert turns kgo fetches into one kafka.Fetch per partition, records in
// offset order, and collects the partition errors that matter: not the
// injected context errors (Poll reports ctx.Err itself).
func convert(fs kgo.Fetches) ([]kafka.Fetch, error) {
	var out []kafka.Fetch
	var errs []error
	var index map[kafka.TopicPartition]int // only when a partition may repeat
	if len(fs) > 1 {
		index = make(map[kafka.TopicPartition]int)
	}
	for _, f := range fs {
		for ti := range f.Topics {
			t := &f.Topics[ti]
			for pi := range t.Partitions {
				p := &t.Partitions[pi]
				if p.Err != nil {
					if err := partitionErr(t.Topic, p.Partition, p.Err); err != nil {
						errs = append(errs, err)
					}
				}
				if len(p.Records) == 0 {
					continue
				}
				recs := convertRecords(p.Records)
				if index != nil {
					tp := kafka.TopicPartition{Topic: t.Topic, Partition: p.Partition}
					if i, ok := index[tp]; ok {
						out[i].Records = append(out[i].Records, recs...)
						continue
					}
					index[tp] = len(out)
				}
				hwm := p.LastStableOffset
				if hwm < 0 {
					hwm = p.HighWatermark
				}
				out = append(out, kafka.Fetch{Topic: t.Topic, Partition: p.Partition, Records: recs, HighWatermark: hwm})
			}
		}
	}
	var err error
	if len(errs) > 0 {
		err = errors.Join(errs...)
	}
	return out, err
}

func partitionErr(topic string, partition int32, err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil
	case errors.Is(err, kgo.ErrClientClosed):
		return kafka.ErrClosed
	case topic == "":
		return fmt.Errorf("kafka: %w", err)
	}
	return fmt.Errorf("kafka: %s[%d]: %w", topic, partition, err)
}

// convertRecords converts one partition's records with three allocations:
// the records, the pointers to them and all their headers.
func convertRecords(krs []*kgo.Record) []*kafka.Record {
	recs := make([]kafka.Record, len(krs))
	ptrs := make([]*kafka.Record, len(krs))
	nh := 0
	for _, kr := range krs {
		nh += len(kr.Headers)
	}
	var hs []kafka.Header
	if nh > 0 {
		hs = make([]kafka.Header, 0, nh)
	}
	for i, kr := range krs {
		r := &recs[i]
		r.Topic = kr.Topic
		r.Partition = kr.Partition
		r.Offset = kr.Offset
		r.Key = kr.Key
		r.Value = kr.Value
		r.Timestamp = kr.Timestamp
		if len(kr.Headers) > 0 {
			start := len(hs)
			for _, h := range kr.Headers {
				hs = append(hs, kafka.Header{Key: h.Key, Value: h.Value})
			}
			r.Headers = slices.Clip(hs[start:])
		}
		ptrs[i] = r
	}
	return ptrs
}

// toParts converts a kgo partition map, sorted by topic and partition.
func toParts(m map[string][]int32) []kafka.TopicPartition {
	var parts []kafka.TopicPartition
	for t, ps := range m {
		for _, p := range ps {
			parts = append(parts, kafka.TopicPartition{Topic: t, Partition: p})
		}
	}
	slices.SortFunc(parts, func(a, b kafka.TopicPartition) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition) - int(b.Partition)
	})
	return parts
}
