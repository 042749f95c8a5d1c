package state

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Reader reads tables: a DB reads the committed state, a Batch reads the
// committed state with its own writes on top.
type Reader interface {
	Get(app, table string, partition int32, key []byte) ([]byte, bool, error)
	Iterate(app, table string, partition int32, lower, upper []byte, fn func(key, value []byte) bool) error
	PrefixScan(app, table string, partition int32, prefix []byte, fn func(key, value []byte) bool) error
	Count(app, table string, partition int32) (int, error)
	Offsets(app, table string, partition int32) (Offsets, error)
}

var (
	_ Reader = (*DB)(nil)
	_ Reader = (*Batch)(nil)
)

func get(r pebble.Reader, app, table string, partition int32, key []byte) ([]byte, bool, error) {
	if err := checkPartition(partition); err != nil {
		return nil, false, err
	}
	return getKey(r, app, table, partition, appendDataKey(make([]byte, 0, dataKeyLen(app, table, key)), app, table, partition, key))
}

// getKey is get of an encoded key.
func getKey(r pebble.Reader, app, table string, partition int32, k []byte) ([]byte, bool, error) {
	v, closer, err := r.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get from %s/%s partition %d: %w", app, table, partition, err)
	}
	out := make([]byte, len(v)) // never nil: a present empty value is not a missing one
	copy(out, v)
	return out, true, closer.Close()
}

// iterate runs fn over the data keys in s, handing it the user's keys.
func iterate(r pebble.Reader, app, table string, partition int32, s span, fn func(key, value []byte) bool) (err error) {
	if err := checkPartition(partition); err != nil {
		return err
	}
	skip := len(appendPartition(nil, app, table, partition)) + 1
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: s.lower, UpperBound: s.upper})
	if err != nil {
		return fmt.Errorf("scan %s/%s partition %d: %w", app, table, partition, err)
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("scan %s/%s partition %d: %w", app, table, partition, err)
		}
		if !fn(it.Key()[skip:], v) {
			break
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("scan %s/%s partition %d: %w", app, table, partition, err)
	}
	return nil
}

func count(r pebble.Reader, app, table string, partition int32) (n int, err error) {
	if err := checkPartition(partition); err != nil {
		return 0, err
	}
	s := dataSpan(app, table, partition, nil, nil)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: s.lower, UpperBound: s.upper})
	if err != nil {
		return 0, fmt.Errorf("count %s/%s partition %d: %w", app, table, partition, err)
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	if err := it.Error(); err != nil {
		return 0, fmt.Errorf("count %s/%s partition %d: %w", app, table, partition, err)
	}
	return n, nil
}
