package state

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Batch gathers state changes and the offsets they belong to, and commits
// them at once. Its reads see the committed state with the batch's own
// writes on top, so code that reads a key it has just written in the same
// batch (t[k] += 1 twice) sees its write. A Batch belongs to one goroutine.
type Batch struct {
	db   *DB
	b    *pebble.Batch
	done bool
}

// NewBatch starts a batch.
func (db *DB) NewBatch() *Batch {
	return &Batch{db: db, b: db.d.NewIndexedBatch()}
}

var errBatchDone = errors.New("batch already committed or closed")

// Set stores value under key in one partition of a table.
func (b *Batch) Set(app, table string, partition int32, key, value []byte) error {
	if b.done {
		return errBatchDone
	}
	if err := checkPartition(partition); err != nil {
		return err
	}
	op := b.b.SetDeferred(dataKeyLen(app, table, key), len(value))
	appendDataKey(op.Key[:0], app, table, partition, key)
	copy(op.Value, value)
	return op.Finish()
}

// Delete removes key from one partition of a table; a missing key is no
// error.
func (b *Batch) Delete(app, table string, partition int32, key []byte) error {
	if b.done {
		return errBatchDone
	}
	if err := checkPartition(partition); err != nil {
		return err
	}
	op := b.b.DeleteDeferred(dataKeyLen(app, table, key))
	appendDataKey(op.Key[:0], app, table, partition, key)
	return op.Finish()
}

// SetOffsets stores the offsets of one partition of a table: o.Changelog
// unless it is negative, and every entry of o.Sources. Offsets it does not
// name keep their stored value.
func (b *Batch) SetOffsets(app, table string, partition int32, o Offsets) error {
	if b.done {
		return errBatchDone
	}
	if err := checkPartition(partition); err != nil {
		return err
	}
	if o.Changelog >= 0 {
		k := appendChangelogKey(nil, app, table, partition)
		if err := b.b.Set(k, encodeOffset(o.Changelog), nil); err != nil {
			return err
		}
	}
	for tp, off := range o.Sources {
		if off < 0 || tp.Partition < 0 {
			return fmt.Errorf("source offset %d of %s partition %d: neither may be negative", off, tp.Topic, tp.Partition)
		}
		k := appendSourceKey(nil, app, table, partition, tp)
		if err := b.b.Set(k, encodeOffset(off), nil); err != nil {
			return err
		}
	}
	return nil
}

// DropPartition removes one partition of a table, data and offsets, when
// the batch commits. The batch's reads no longer see the partition's
// earlier keys; its later writes to it survive.
func (b *Batch) DropPartition(app, table string, partition int32) error {
	if b.done {
		return errBatchDone
	}
	if err := checkPartition(partition); err != nil {
		return err
	}
	s := partitionSpan(app, table, partition)
	return b.b.DeleteRange(s.lower, s.upper, nil)
}

// Empty says whether the batch holds no change.
func (b *Batch) Empty() bool { return b.b.Empty() }

// Size returns the batch's size in bytes.
func (b *Batch) Size() int { return b.b.Len() }

// Commit applies the batch's changes and offsets atomically (durably only
// with Options.Sync; see the package doc) and releases the batch.
func (b *Batch) Commit() error {
	if b.done {
		return errBatchDone
	}
	b.done = true
	err := b.b.Commit(b.db.wo)
	if err != nil {
		err = fmt.Errorf("commit state batch: %w", err)
	}
	return errors.Join(err, b.b.Close())
}

// Close discards the batch unless it has committed. Calling it after
// Commit, or twice, does nothing, so `defer b.Close()` is always right.
func (b *Batch) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	return b.b.Close()
}

// Get returns a copy of the value of key, the batch's writes included.
func (b *Batch) Get(app, table string, partition int32, key []byte) ([]byte, bool, error) {
	if b.done {
		return nil, false, errBatchDone
	}
	return get(b.b, app, table, partition, key)
}

// Iterate is DB.Iterate with the batch's writes included. The batch must
// not be written from fn.
func (b *Batch) Iterate(app, table string, partition int32, lower, upper []byte, fn func(key, value []byte) bool) error {
	if b.done {
		return errBatchDone
	}
	return iterate(b.b, app, table, partition, dataSpan(app, table, partition, lower, upper), fn)
}

// PrefixScan is DB.PrefixScan with the batch's writes included. The batch
// must not be written from fn.
func (b *Batch) PrefixScan(app, table string, partition int32, prefix []byte, fn func(key, value []byte) bool) error {
	if b.done {
		return errBatchDone
	}
	return iterate(b.b, app, table, partition, prefixSpan(app, table, partition, prefix), fn)
}

// Count is DB.Count with the batch's writes included.
func (b *Batch) Count(app, table string, partition int32) (int, error) {
	if b.done {
		return 0, errBatchDone
	}
	return count(b.b, app, table, partition)
}

// Offsets is DB.Offsets with the batch's SetOffsets included.
func (b *Batch) Offsets(app, table string, partition int32) (Offsets, error) {
	if b.done {
		return Offsets{}, errBatchDone
	}
	return offsets(b.b, app, table, partition)
}
