package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// The key layout. Every key of the DB starts with a space byte:
//
//	spaceDB    0x00 name                    the DB's own metadata (layout version)
//	spaceTable 0x01 app table partition ... the tables
//
// A table key continues with
//
//	uvarint(len(app)) app uvarint(len(table)) table be32(partition) kind rest
//
// where kind is kindMeta (rest names an offset) or kindData (rest is the
// user's key, verbatim). The names are length-prefixed, so no byte of a
// name can be mistaken for a separator: the encoding is prefix-free, and the
// keys that start with the encoding of (app), of (app, table) or of (app,
// table, partition) are exactly the keys of that app, table or partition. A
// partition is one contiguous key range; within it the data keys sort by
// the user's key bytes.
const (
	spaceDB    byte = 0x00
	spaceTable byte = 0x01

	kindMeta byte = 0x00
	kindData byte = 0x01

	// Offsets under kindMeta.
	metaChangelog byte = 'c' // be64 offset
	metaSource    byte = 's' // + uvarint(len(topic)) topic be32(partition) -> be64 offset
)

// layoutKey holds layoutVersion: a DB written with another layout is
// refused rather than misread.
var layoutKey = []byte{spaceDB, 'l', 'a', 'y', 'o', 'u', 't'}

const layoutVersion = "1"

// errNegativePartition is returned for a partition below zero.
var errNegativePartition = errors.New("a partition is never negative")

// appendApp appends the prefix of every key of app.
func appendApp(dst []byte, app string) []byte {
	dst = append(dst, spaceTable)
	dst = binary.AppendUvarint(dst, uint64(len(app)))
	return append(dst, app...)
}

// appendTable appends the prefix of every key of one table of app.
func appendTable(dst []byte, app, table string) []byte {
	dst = appendApp(dst, app)
	dst = binary.AppendUvarint(dst, uint64(len(table)))
	return append(dst, table...)
}

// appendPartition appends the prefix of every key (data and metadata) of
// one partition of a table.
func appendPartition(dst []byte, app, table string, partition int32) []byte {
	dst = appendTable(dst, app, table)
	return binary.BigEndian.AppendUint32(dst, uint32(partition))
}

// appendDataKey appends the key under which a table stores the user's key.
func appendDataKey(dst []byte, app, table string, partition int32, key []byte) []byte {
	dst = appendPartition(dst, app, table, partition)
	dst = append(dst, kindData)
	return append(dst, key...)
}

// dataKeyLen is the length of appendDataKey's output.
func dataKeyLen(app, table string, key []byte) int {
	return 1 + uvarintLen(len(app)) + len(app) + uvarintLen(len(table)) + len(table) + 4 + 1 + len(key)
}

func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// appendChangelogKey appends the key of a partition's changelog offset.
func appendChangelogKey(dst []byte, app, table string, partition int32) []byte {
	dst = appendPartition(dst, app, table, partition)
	return append(dst, kindMeta, metaChangelog)
}

// appendSourceKey appends the key of a partition's offset in one source
// topic-partition.
func appendSourceKey(dst []byte, app, table string, partition int32, src TopicPartition) []byte {
	dst = appendPartition(dst, app, table, partition)
	dst = append(dst, kindMeta, metaSource)
	dst = binary.AppendUvarint(dst, uint64(len(src.Topic)))
	dst = append(dst, src.Topic...)
	return binary.BigEndian.AppendUint32(dst, uint32(src.Partition))
}

// decodedKey is a table key taken apart.
type decodedKey struct {
	app, table string
	partition  int32
	kind       byte
	rest       []byte // aliases the key
}

// decodeKey takes a table key apart.
func decodeKey(k []byte) (decodedKey, error) {
	var d decodedKey
	if len(k) == 0 || k[0] != spaceTable {
		return d, fmt.Errorf("not a table key: %q", k)
	}
	rest := k[1:]
	var err error
	if d.app, rest, err = decodeName(rest); err != nil {
		return d, fmt.Errorf("app of key %q: %w", k, err)
	}
	if d.table, rest, err = decodeName(rest); err != nil {
		return d, fmt.Errorf("table of key %q: %w", k, err)
	}
	if len(rest) < 5 {
		return d, fmt.Errorf("key %q ends before its partition and kind", k)
	}
	d.partition = int32(binary.BigEndian.Uint32(rest))
	d.kind = rest[4]
	d.rest = rest[5:]
	return d, nil
}

// decodeName reads a length-prefixed name.
func decodeName(b []byte) (string, []byte, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 {
		return "", nil, errors.New("bad length")
	}
	b = b[w:]
	if n > uint64(len(b)) {
		return "", nil, errors.New("name longer than the key")
	}
	return string(b[:n]), b[n:], nil
}

// decodeSource reads the topic-partition of a source offset key's rest
// (after metaSource).
func decodeSource(b []byte) (TopicPartition, error) {
	topic, b, err := decodeName(b)
	if err != nil {
		return TopicPartition{}, err
	}
	if len(b) != 4 {
		return TopicPartition{}, errors.New("bad source partition")
	}
	return TopicPartition{Topic: topic, Partition: int32(binary.BigEndian.Uint32(b))}, nil
}

// prefixEnd returns the smallest key greater than every key that starts
// with prefix, or nil when there is none (prefix is all 0xff). It does not
// change prefix.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// span is a key range [lower, upper).
type span struct{ lower, upper []byte }

func (s span) contains(k []byte) bool {
	return bytes.Compare(k, s.lower) >= 0 && bytes.Compare(k, s.upper) < 0
}

func (s span) equal(o span) bool {
	return bytes.Equal(s.lower, o.lower) && bytes.Equal(s.upper, o.upper)
}

// appSpan is every key of app.
func appSpan(app string) span {
	p := appendApp(nil, app)
	return span{p, prefixEnd(p)}
}

// tableSpan is every key of a table.
func tableSpan(app, table string) span {
	p := appendTable(nil, app, table)
	return span{p, prefixEnd(p)}
}

// partitionSpan is every key, data and metadata, of one partition.
func partitionSpan(app, table string, partition int32) span {
	p := appendPartition(nil, app, table, partition)
	return span{p, prefixEnd(p)}
}

// dataSpan is the data keys of one partition whose user key is in
// [lower, upper); a nil bound is open.
func dataSpan(app, table string, partition int32, lower, upper []byte) span {
	p := appendPartition(nil, app, table, partition)
	p = append(p, kindData)
	s := span{lower: append(p[:len(p):len(p)], lower...)}
	if upper != nil {
		s.upper = append(p[:len(p):len(p)], upper...)
	} else {
		s.upper = append(p[:len(p)-1:len(p)-1], kindData+1)
	}
	return s
}

// prefixSpan is the data keys of one partition whose user key starts with
// prefix.
func prefixSpan(app, table string, partition int32, prefix []byte) span {
	s := dataSpan(app, table, partition, prefix, nil)
	// Never nil: kindData is below 0xff, so an all-0xff prefix ends where
	// the partition's data ends.
	s.upper = prefixEnd(s.lower)
	return s
}

// metaSpan is the metadata keys of one partition.
func metaSpan(app, table string, partition int32) span {
	p := appendPartition(nil, app, table, partition)
	return span{append(p[:len(p):len(p)], kindMeta), append(p[:len(p):len(p)], kindMeta+1)}
}

// checkPartition refuses a negative partition.
func checkPartition(partition int32) error {
	if partition < 0 {
		return fmt.Errorf("partition %d: %w", partition, errNegativePartition)
	}
	return nil
}
