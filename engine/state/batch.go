package state

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// Batch gathers state changes and the offsets they belong to, and commits
// them at once. Its reads see the committed state with the batch's own
// writes on top, so code that reads a key it has just written in the same
// batch (t[k] += 1 twice) sees its write. A Batch belongs to one goroutine.
//
// A Batch keeps the last write of each key in a map: a point read of a key
// the batch has written costs a map lookup, one it has not written is a DB
// read, and Commit writes each key once, in key order (a key counted a
// hundred times in one poll is one write, and ordered inserts are cheaper
// for Pebble's memtable). The first scan of a batch (Iterate, PrefixScan,
// Count, Offsets) builds an indexed Pebble batch from the map, which the
// batch's later writes then keep up to date, and scans merge it with the
// DB.
type Batch struct {
	db   *DB
	done bool

	writes  map[string]write // by encoded key
	vals    []byte           // the values of writes
	dropped []span           // deleted ranges, applied before the writes
	size    int
	view    *pebble.Batch // indexed; nil until the first scan
	key     []byte        // scratch
}

// write is the batch's last write of a key: a value in Batch.vals, or a
// deletion.
type write struct {
	off, len int
	deleted  bool
}

// NewBatch starts a batch.
func (db *DB) NewBatch() *Batch {
	return &Batch{db: db, writes: map[string]write{}}
}

var errBatchDone = errors.New("batch already committed or closed")

// put records the write of an encoded key.
func (b *Batch) put(k, v []byte, deleted bool) error {
	w := write{deleted: deleted}
	if !deleted {
		w.off, w.len = len(b.vals), len(v)
		b.vals = append(b.vals, v...)
	}
	b.writes[string(k)] = w
	b.size += len(k) + len(v)
	if b.view == nil {
		return nil
	}
	if deleted {
		return b.view.Delete(k, nil)
	}
	return b.view.Set(k, v, nil)
}

// Set stores value under key in one partition of a table.
func (b *Batch) Set(app, table string, partition int32, key, value []byte) error {
	if b.done {
		return errBatchDone
	}
	if err := checkPartition(partition); err != nil {
		return err
	}
	b.key = appendDataKey(b.key[:0], app, table, partition, key)
	return b.put(b.key, value, false)
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
	b.key = appendDataKey(b.key[:0], app, table, partition, key)
	return b.put(b.key, nil, true)
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
	for tp, off := range o.Sources {
		if off < 0 || tp.Partition < 0 {
			return fmt.Errorf("source offset %d of %s partition %d: neither may be negative", off, tp.Topic, tp.Partition)
		}
	}
	if o.Changelog >= 0 {
		b.key = appendChangelogKey(b.key[:0], app, table, partition)
		if err := b.put(b.key, encodeOffset(o.Changelog), false); err != nil {
			return err
		}
	}
	for tp, off := range o.Sources {
		b.key = appendSourceKey(b.key[:0], app, table, partition, tp)
		if err := b.put(b.key, encodeOffset(off), false); err != nil {
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
	return b.deleteSpan(partitionSpan(app, table, partition))
}

// DeleteRange removes the keys of one partition of a table in
// [lower, upper) (a nil bound is open) when the batch commits; offsets
// stay. The batch's reads no longer see those keys; its later writes to
// them survive. With keys that start with a window's start, it removes
// expired windows.
func (b *Batch) DeleteRange(app, table string, partition int32, lower, upper []byte) error {
	if b.done {
		return errBatchDone
	}
	if err := checkPartition(partition); err != nil {
		return err
	}
	return b.deleteSpan(dataSpan(app, table, partition, lower, upper))
}

func (b *Batch) deleteSpan(s span) error {
	if bytes.Compare(s.lower, s.upper) >= 0 {
		return nil
	}
	for k := range b.writes {
		if s.contains([]byte(k)) {
			delete(b.writes, k)
		}
	}
	if !slices.ContainsFunc(b.dropped, s.equal) {
		b.dropped = append(b.dropped, s)
	}
	b.size += len(s.lower) + len(s.upper)
	if b.view == nil {
		return nil
	}
	return b.view.DeleteRange(s.lower, s.upper, nil)
}

// Empty says whether the batch holds no change.
func (b *Batch) Empty() bool { return len(b.writes) == 0 && len(b.dropped) == 0 }

// Size returns the bytes of keys and values written to the batch so far,
// overwrites included: a measure for bounding a batch.
func (b *Batch) Size() int { return b.size }

// Commit applies the batch's changes and offsets atomically (durably only
// with Options.Sync; see the package doc) and releases the batch.
func (b *Batch) Commit() error {
	if b.done {
		return errBatchDone
	}
	err := b.commit()
	return errors.Join(err, b.Close())
}

func (b *Batch) commit() error {
	if b.Empty() {
		return nil
	}
	keys := make([]string, 0, len(b.writes))
	size := 64
	for k, w := range b.writes {
		keys = append(keys, k)
		size += len(k) + w.len + 8
	}
	for _, s := range b.dropped {
		size += len(s.lower) + len(s.upper) + 8
	}
	slices.Sort(keys)
	pb := b.db.d.NewBatchWithSize(size)
	defer pb.Close()
	for _, s := range b.dropped {
		if err := pb.DeleteRange(s.lower, s.upper, nil); err != nil {
			return fmt.Errorf("commit state batch: %w", err)
		}
	}
	for _, k := range keys {
		w := b.writes[k]
		var err error
		if w.deleted {
			op := pb.DeleteDeferred(len(k))
			copy(op.Key, k)
			err = op.Finish()
		} else {
			op := pb.SetDeferred(len(k), w.len)
			copy(op.Key, k)
			copy(op.Value, b.vals[w.off:w.off+w.len])
			err = op.Finish()
		}
		if err != nil {
			return fmt.Errorf("commit state batch: %w", err)
		}
	}
	if err := pb.Commit(b.db.wo); err != nil {
		return fmt.Errorf("commit state batch: %w", err)
	}
	return nil
}

// Close discards the batch unless it has committed. Calling it after
// Commit, or twice, does nothing, so `defer b.Close()` is always right.
func (b *Batch) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	b.writes, b.vals, b.dropped = nil, nil, nil
	if b.view != nil {
		return b.view.Close()
	}
	return nil
}

// Get returns a copy of the value of key, the batch's writes included.
func (b *Batch) Get(app, table string, partition int32, key []byte) ([]byte, bool, error) {
	if b.done {
		return nil, false, errBatchDone
	}
	if err := checkPartition(partition); err != nil {
		return nil, false, err
	}
	b.key = appendDataKey(b.key[:0], app, table, partition, key)
	if w, ok := b.writes[string(b.key)]; ok {
		if w.deleted {
			return nil, false, nil
		}
		v := make([]byte, w.len) // never nil, as get
		copy(v, b.vals[w.off:])
		return v, true, nil
	}
	for _, s := range b.dropped {
		if s.contains(b.key) {
			return nil, false, nil
		}
	}
	return getKey(b.db.d, app, table, partition, b.key)
}

// reader returns the indexed batch that scans read, building it at the
// first call.
func (b *Batch) reader() (pebble.Reader, error) {
	if b.done {
		return nil, errBatchDone
	}
	if b.view != nil {
		return b.view, nil
	}
	v := b.db.d.NewIndexedBatch()
	for _, s := range b.dropped {
		if err := v.DeleteRange(s.lower, s.upper, nil); err != nil {
			return nil, errors.Join(err, v.Close())
		}
	}
	for k, w := range b.writes {
		var err error
		if w.deleted {
			err = v.Delete([]byte(k), nil)
		} else {
			err = v.Set([]byte(k), b.vals[w.off:w.off+w.len], nil)
		}
		if err != nil {
			return nil, errors.Join(err, v.Close())
		}
	}
	b.view = v
	return v, nil
}

// Iterate is DB.Iterate with the batch's writes included. The batch must
// not be written from fn.
func (b *Batch) Iterate(app, table string, partition int32, lower, upper []byte, fn func(key, value []byte) bool) error {
	r, err := b.reader()
	if err != nil {
		return err
	}
	return iterate(r, app, table, partition, dataSpan(app, table, partition, lower, upper), fn)
}

// PrefixScan is DB.PrefixScan with the batch's writes included. The batch
// must not be written from fn.
func (b *Batch) PrefixScan(app, table string, partition int32, prefix []byte, fn func(key, value []byte) bool) error {
	r, err := b.reader()
	if err != nil {
		return err
	}
	return iterate(r, app, table, partition, prefixSpan(app, table, partition, prefix), fn)
}

// Count is DB.Count with the batch's writes included.
func (b *Batch) Count(app, table string, partition int32) (int, error) {
	r, err := b.reader()
	if err != nil {
		return 0, err
	}
	return count(r, app, table, partition)
}

// Offsets is DB.Offsets with the batch's SetOffsets included.
func (b *Batch) Offsets(app, table string, partition int32) (Offsets, error) {
	r, err := b.reader()
	if err != nil {
		return Offsets{}, err
	}
	return offsets(r, app, table, partition)
}
