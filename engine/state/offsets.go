package state

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// TopicPartition names a partition of a source topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Offsets are what one partition of a table has applied, each the offset
// of the next record to read (the last applied plus one), as Kafka commits
// offsets.
type Offsets struct {
	// Changelog is the next offset of the partition's changelog; -1 when
	// none is stored.
	Changelog int64
	// Sources holds the next offset of each source topic-partition whose
	// records have changed this partition.
	Sources map[TopicPartition]int64
}

// NoOffsets is the Offsets of a partition that has stored none.
func NoOffsets() Offsets { return Offsets{Changelog: -1, Sources: map[TopicPartition]int64{}} }

func offsets(r pebble.Reader, app, table string, partition int32) (o Offsets, err error) {
	if err := checkPartition(partition); err != nil {
		return o, err
	}
	o = NoOffsets()
	s := metaSpan(app, table, partition)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: s.lower, UpperBound: s.upper})
	if err != nil {
		return o, fmt.Errorf("read offsets of %s/%s partition %d: %w", app, table, partition, err)
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	for ok := it.First(); ok; ok = it.Next() {
		if err := o.decode(it.Key(), it.Value()); err != nil {
			return o, fmt.Errorf("read offsets of %s/%s partition %d: %w", app, table, partition, err)
		}
	}
	if err := it.Error(); err != nil {
		return o, fmt.Errorf("read offsets of %s/%s partition %d: %w", app, table, partition, err)
	}
	return o, nil
}

// decode adds one metadata entry to o.
func (o *Offsets) decode(k, v []byte) error {
	d, err := decodeKey(k)
	if err != nil {
		return err
	}
	if len(d.rest) == 0 || len(v) != 8 {
		return fmt.Errorf("bad offset entry %q = %q", k, v)
	}
	off := int64(binary.BigEndian.Uint64(v))
	switch d.rest[0] {
	case metaChangelog:
		o.Changelog = off
	case metaSource:
		tp, err := decodeSource(d.rest[1:])
		if err != nil {
			return fmt.Errorf("bad source offset key %q: %w", k, err)
		}
		o.Sources[tp] = off
	default:
		return fmt.Errorf("unknown offset entry %q", k)
	}
	return nil
}

func encodeOffset(off int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(off)) }
