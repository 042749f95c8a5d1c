package state

import (
	"bytes"
	"fmt"
	"slices"
)

// ChangelogRecord is one record of a table's changelog topic.
type ChangelogRecord struct {
	Key []byte
	// Value is the new value; nil is a tombstone (Kafka's null value)
	// and removes the key, while an empty non-nil value is stored.
	Value  []byte
	Offset int64
}

// ApplyChangelog applies changelog records of one partition of a table, in
// the order given, and stores the highest offset plus one as the
// partition's changelog offset, all in one commit. Recovery calls it with
// each fetch of the changelog.
func (db *DB) ApplyChangelog(app, table string, partition int32, recs []ChangelogRecord) error {
	if err := checkPartition(partition); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	size := 16
	for i := range recs {
		size += dataKeyLen(app, table, recs[i].Key) + len(recs[i].Value) + 8
	}
	// Encode every key once into one buffer, then write the last record
	// of each key in key order: ordered inserts are cheaper for Pebble's
	// memtable, and a key repeated in one fetch is written once.
	type rec struct {
		key []byte
		i   int
	}
	keys := make([]byte, 0, size)
	order := make([]rec, len(recs))
	last := int64(-1)
	for i := range recs {
		r := &recs[i]
		if r.Offset < 0 {
			return fmt.Errorf("apply changelog of %s/%s partition %d: negative offset %d", app, table, partition, r.Offset)
		}
		last = max(last, r.Offset)
		start := len(keys)
		keys = appendDataKey(keys, app, table, partition, r.Key)
		order[i] = rec{keys[start:len(keys):len(keys)], i}
	}
	slices.SortStableFunc(order, func(a, b rec) int { return bytes.Compare(a.key, b.key) })
	b := db.d.NewBatchWithSize(size)
	defer b.Close()
	for j, o := range order {
		if j+1 < len(order) && bytes.Equal(order[j+1].key, o.key) {
			continue // a later record of the same key wins
		}
		var err error
		if v := recs[o.i].Value; v == nil {
			err = b.Delete(o.key, nil)
		} else {
			err = b.Set(o.key, v, nil)
		}
		if err != nil {
			return fmt.Errorf("apply changelog of %s/%s partition %d: %w", app, table, partition, err)
		}
	}
	if err := b.Set(appendChangelogKey(nil, app, table, partition), encodeOffset(last+1), nil); err != nil {
		return err
	}
	if err := b.Commit(db.wo); err != nil {
		return fmt.Errorf("apply changelog of %s/%s partition %d: %w", app, table, partition, err)
	}
	return nil
}
