// Package state is the local store of weir's tables: one Pebble DB per
// process (a directory under the data dir), holding every partition of
// every table of every app that the process runs, together with the
// offsets each partition has reached. It owns the key layout, the batches
// that write state and offsets together, the reads (point, ordered scans,
// read-your-writes inside a batch), the bulk apply that replays a
// changelog, the removal of a key range, a partition, a table or an app,
// and the listing of what is held locally.
//
// It knows nothing of Kafka clients, Starlark values, serializers, windows,
// transactions, rebalances or when to recover: keys and values are bytes,
// offsets are numbers the engine hands in. The engine (tables, recovery,
// the grace-period and window cleaners) builds on it.
//
// # Layout
//
// A key is (app, table, partition, user key). App and table are
// length-prefixed (uvarint length, then the bytes) and the partition is a
// big-endian uint32, so any byte may appear in a name without two tables
// ever sharing a key, and one partition's keys are one contiguous range:
// removing a partition is one DeleteRange. Within a partition the keys sort
// by the user's key bytes, so a prefix scan is an ordered iteration. Beside
// the data, under the same partition prefix, sit the partition's offsets:
// the changelog offset and one offset per source topic-partition. The DB
// also records the layout version, and Open refuses a DB written with
// another one (the remedy is to remove the directory: the changelogs
// rebuild it).
//
// # Offsets and atomicity
//
// A Batch carries state changes and the offsets they belong to; Commit
// applies both at once or neither, and a batch never committed leaves
// nothing. Offsets follow Kafka's convention: the stored number is the
// offset of the next record to read (the last applied plus one).
// ApplyChangelog stores the highest replayed offset plus one as the
// changelog offset, in the same commit as the records.
//
// # Durability
//
// The write-ahead log is on, but by default a commit does not wait for an
// fsync (Options.Sync is false). The changelog topic in Kafka is the
// durable truth: a commit is atomic whether or not it reached the disk, a
// crash loses at most a suffix of the commits (the WAL replays whole
// batches, in order), and a partition whose local copy lost that suffix has
// an older changelog offset, so recovery replays the changelog from there
// and catches up. What must never happen is local state ahead of the
// committed changelog, so the engine commits a Batch only after the Kafka
// transaction that carries its changelog records has committed. Close
// flushes the memtables to sstables (a clean restart replays no WAL); Sync
// makes every earlier commit durable on demand. Options.Sync = true fsyncs
// every commit, for a deployment that wants a restart after a power loss
// to read only the changelog's tail.
//
// # Reads and costs
//
// Get returns a copy of the value; Iterate and PrefixScan hand their
// callback slices that are valid only during the call. Count is exact and
// walks the partition's keys (millions per second, but not free: cache it
// for a hot len()). A Batch keeps the last write of each key in a map: a
// point read of a key the batch wrote is a map lookup, other keys are read
// from the DB, and Commit writes each key once in key order. Scans of a
// batch build an indexed Pebble batch at the first scan and merge it with
// the DB.
//
// # Concurrency
//
// A DB is safe for concurrent use: readers see the latest committed state,
// and each Iterate or PrefixScan sees one consistent point in time. A Batch
// belongs to one goroutine. Batches are not transactions: two batches that
// write the same key do not conflict, the later commit wins; the engine
// writes a partition from one worker at a time.
package state
