package state

import "fmt"

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
	b := db.d.NewBatchWithSize(size)
	defer b.Close()
	last := int64(-1)
	for i := range recs {
		r := &recs[i]
		if r.Offset < 0 {
			return fmt.Errorf("apply changelog of %s/%s partition %d: negative offset %d", app, table, partition, r.Offset)
		}
		last = max(last, r.Offset)
		if r.Value == nil {
			op := b.DeleteDeferred(dataKeyLen(app, table, r.Key))
			appendDataKey(op.Key[:0], app, table, partition, r.Key)
			if err := op.Finish(); err != nil {
				return err
			}
			continue
		}
		op := b.SetDeferred(dataKeyLen(app, table, r.Key), len(r.Value))
		appendDataKey(op.Key[:0], app, table, partition, r.Key)
		copy(op.Value, r.Value)
		if err := op.Finish(); err != nil {
			return err
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
