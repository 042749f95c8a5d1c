package state

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Options tune a DB. The zero value is what weir runs with.
type Options struct {
	// Sync makes every commit wait for the write-ahead log to reach the
	// disk. Off by default: the changelog is the durable truth (see the
	// package doc).
	Sync bool
	// CacheSize is the block cache in bytes; 0 means 64 MiB.
	CacheSize int64
	// MemTableSize is the size of one memtable in bytes; 0 means 32 MiB.
	// Writes stall when two are full and unflushed.
	MemTableSize uint64
	// Logger receives Pebble's messages (informational ones at debug
	// level); nil means slog.Default().
	Logger *slog.Logger

	// fs replaces the file system, for the crash tests.
	fs vfs.FS
}

// DB is the process's table store. Its methods are safe for concurrent use
// and must not be called after Close.
type DB struct {
	d  *pebble.DB
	wo *pebble.WriteOptions

	mu     sync.Mutex
	closed bool
}

// Open opens (creating if need be) the store in dir. Pebble locks the
// directory: a second Open of the same dir, in this process or another,
// fails until the first is closed.
func Open(dir string, opts Options) (*DB, error) {
	if opts.CacheSize <= 0 {
		opts.CacheSize = 64 << 20
	}
	if opts.MemTableSize == 0 {
		opts.MemTableSize = 32 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	po := &pebble.Options{
		CacheSize:          opts.CacheSize,
		MemTableSize:       opts.MemTableSize,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             pebbleLogger{opts.Logger.With("component", "pebble", "dir", dir)},
		FS:                 opts.fs,
	}
	for i := range po.Levels {
		// Point reads (t[k]) are the common read: a bloom filter lets
		// them skip the sstables that do not hold the key.
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		po.Levels[i].FilterType = pebble.TableFilter
	}
	d, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("open state store %s: %w", dir, err)
	}
	db := &DB{d: d, wo: pebble.NoSync}
	if opts.Sync {
		db.wo = pebble.Sync
	}
	if err := db.checkLayout(); err != nil {
		return nil, errors.Join(fmt.Errorf("open state store %s: %w", dir, err), d.Close())
	}
	return db, nil
}

// checkLayout records the layout version in a new DB and refuses a DB
// written with another.
func (db *DB) checkLayout() error {
	v, closer, err := db.d.Get(layoutKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		return db.d.Set(layoutKey, []byte(layoutVersion), pebble.Sync)
	case err != nil:
		return err
	}
	defer closer.Close()
	if string(v) != layoutVersion {
		return fmt.Errorf("the store has key layout %q and this weir reads %q; remove the directory and weir rebuilds the tables from their changelogs", v, layoutVersion)
	}
	return nil
}

// Close flushes the memtables, so that the next Open replays no log, and
// closes the DB. A second Close returns an error.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return errors.New("state store already closed")
	}
	db.closed = true
	ferr := db.d.Flush()
	if ferr != nil {
		ferr = fmt.Errorf("flush state store: %w", ferr)
	}
	return errors.Join(ferr, db.d.Close())
}

// Flush writes the memtables to sstables (durably).
func (db *DB) Flush() error { return db.d.Flush() }

// Sync makes every commit made so far durable.
func (db *DB) Sync() error { return db.d.LogData(nil, pebble.Sync) }

// Get returns a copy of the value of key in one partition of a table, and
// whether it is present.
func (db *DB) Get(app, table string, partition int32, key []byte) ([]byte, bool, error) {
	return get(db.d, app, table, partition, key)
}

// Iterate calls fn for every key of one partition of a table in
// [lower, upper) (a nil bound is open), in key order, until fn returns
// false. The slices passed to fn are valid only during the call. The
// iteration sees one point in time.
func (db *DB) Iterate(app, table string, partition int32, lower, upper []byte, fn func(key, value []byte) bool) error {
	return iterate(db.d, app, table, partition, dataSpan(app, table, partition, lower, upper), fn)
}

// PrefixScan calls fn for every key of one partition of a table that
// starts with prefix, in key order, until fn returns false. The slices
// passed to fn are valid only during the call.
func (db *DB) PrefixScan(app, table string, partition int32, prefix []byte, fn func(key, value []byte) bool) error {
	return iterate(db.d, app, table, partition, prefixSpan(app, table, partition, prefix), fn)
}

// Count returns the number of keys in one partition of a table. It is
// exact, and costs an iteration over the partition's keys (not their
// values).
func (db *DB) Count(app, table string, partition int32) (int, error) {
	return count(db.d, app, table, partition)
}

// Offsets returns the offsets stored for one partition of a table.
func (db *DB) Offsets(app, table string, partition int32) (Offsets, error) {
	return offsets(db.d, app, table, partition)
}

// DropPartition removes one partition of a table: its data and its
// offsets.
func (db *DB) DropPartition(app, table string, partition int32) error {
	if err := checkPartition(partition); err != nil {
		return err
	}
	s := partitionSpan(app, table, partition)
	if err := db.d.DeleteRange(s.lower, s.upper, db.wo); err != nil {
		return fmt.Errorf("drop %s/%s partition %d: %w", app, table, partition, err)
	}
	return nil
}

// DeleteRange removes the keys of one partition of a table in
// [lower, upper) (a nil bound is open); offsets stay.
func (db *DB) DeleteRange(app, table string, partition int32, lower, upper []byte) error {
	if err := checkPartition(partition); err != nil {
		return err
	}
	s := dataSpan(app, table, partition, lower, upper)
	if bytes.Compare(s.lower, s.upper) >= 0 {
		return nil
	}
	if err := db.d.DeleteRange(s.lower, s.upper, db.wo); err != nil {
		return fmt.Errorf("delete a range of %s/%s partition %d: %w", app, table, partition, err)
	}
	return nil
}

// DropTable removes every partition of a table.
func (db *DB) DropTable(app, table string) error {
	s := tableSpan(app, table)
	if err := db.d.DeleteRange(s.lower, s.upper, db.wo); err != nil {
		return fmt.Errorf("drop table %s/%s: %w", app, table, err)
	}
	return nil
}

// DropApp removes every table of an app.
func (db *DB) DropApp(app string) error {
	s := appSpan(app)
	if err := db.d.DeleteRange(s.lower, s.upper, db.wo); err != nil {
		return fmt.Errorf("drop app %s: %w", app, err)
	}
	return nil
}

// Partitions returns, in ascending order, the partitions of a table that
// hold anything locally: data or offsets. The cost is one seek per
// partition, not a pass over the data.
func (db *DB) Partitions(app, table string) ([]int32, error) {
	var out []int32
	err := skipScan(db.d, tableSpan(app, table), func(d decodedKey) span {
		out = append(out, d.partition)
		return partitionSpan(app, table, d.partition)
	})
	if err != nil {
		return nil, fmt.Errorf("list partitions of %s/%s: %w", app, table, err)
	}
	return out, nil
}

// Tables returns, in byte order, the tables of an app that hold anything
// locally.
func (db *DB) Tables(app string) ([]string, error) {
	var out []string
	err := skipScan(db.d, appSpan(app), func(d decodedKey) span {
		out = append(out, d.table)
		return tableSpan(app, d.table)
	})
	if err != nil {
		return nil, fmt.Errorf("list tables of %s: %w", app, err)
	}
	slices.Sort(out) // the layout orders names by length first
	return out, nil
}

// Apps returns, in byte order, the apps that hold anything locally.
func (db *DB) Apps() ([]string, error) {
	var out []string
	err := skipScan(db.d, span{[]byte{spaceTable}, []byte{spaceTable + 1}}, func(d decodedKey) span {
		out = append(out, d.app)
		return appSpan(d.app)
	})
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	slices.Sort(out) // the layout orders names by length first
	return out, nil
}

// skipScan visits the first key of every group in s: fn takes the key
// apart and returns the span of its group, which the scan then skips.
func skipScan(r pebble.Reader, s span, fn func(decodedKey) span) (err error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: s.lower, UpperBound: s.upper})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	for ok := it.First(); ok; {
		d, err := decodeKey(it.Key())
		if err != nil {
			return err
		}
		group := fn(d)
		if group.upper == nil {
			break
		}
		ok = it.SeekGE(group.upper)
	}
	return it.Error()
}

// pebbleLogger hands Pebble's messages to slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) { p.l.Debug(fmt.Sprintf(format, args...)) }

func (p pebbleLogger) Errorf(format string, args ...any) { p.l.Error(fmt.Sprintf(format, args...)) }

// Fatalf is called on an unrecoverable error (corruption): Pebble expects
// it not to return.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg)
	panic("state store: " + msg)
}
