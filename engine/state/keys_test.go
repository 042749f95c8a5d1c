package state

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// name draws a name from bytes that would break a naive layout: the
// separators one might pick, 0x00 and 0xff, bytes that look like varint
// continuations, and a few letters, so that equal names and names that are
// prefixes of one another are common. Now and then a name is long enough to
// need a multi-byte length.
func name(r *rand.Rand) string {
	const alphabet = "\x00\x01\x7f\x80\xff/:.-ab"
	n := r.IntN(4)
	switch r.IntN(500) {
	case 0, 1, 2, 3, 4, 5, 6, 7, 8, 9:
		n = 128 + r.IntN(200) // a two-byte length
	case 10:
		n = 16384 + r.IntN(10) // a three-byte length
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func userKey(r *rand.Rand) []byte {
	const alphabet = "\x00\x01\xfe\xffab"
	b := make([]byte, r.IntN(5))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

func partition(r *rand.Rand) int32 {
	return []int32{0, 1, 2, 255, 256, 1 << 24, 1<<31 - 1}[r.IntN(7)]
}

type loc struct {
	app, table string
	partition  int32
}

func randLoc(r *rand.Rand) loc { return loc{name(r), name(r), partition(r)} }

func TestKeyRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		l, k := randLoc(r), userKey(r)
		enc := appendDataKey(nil, l.app, l.table, l.partition, k)
		if len(enc) != dataKeyLen(l.app, l.table, k) {
			t.Fatalf("dataKeyLen %d, encoded %d", dataKeyLen(l.app, l.table, k), len(enc))
		}
		d, err := decodeKey(enc)
		if err != nil {
			t.Fatal(err)
		}
		if d.app != l.app || d.table != l.table || d.partition != l.partition || d.kind != kindData || !bytes.Equal(d.rest, k) {
			t.Fatalf("%q/%q/%d/%q decoded as %q/%q/%d/%d/%q", l.app, l.table, l.partition, k, d.app, d.table, d.partition, d.kind, d.rest)
		}
		tp := TopicPartition{Topic: name(r), Partition: partition(r)}
		d, err = decodeKey(appendSourceKey(nil, l.app, l.table, l.partition, tp))
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeSource(d.rest[1:])
		if err != nil || got != tp || d.kind != kindMeta || d.rest[0] != metaSource {
			t.Fatalf("source %+v decoded as %+v (%v)", tp, got, err)
		}
	}
}

// TestKeyLayout checks on random pairs that a key lies in the span of an
// app, a table, a partition, a partition's data or a prefix exactly when it
// belongs there, and that keys of one partition sort as their user keys.
func TestKeyLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	in := func(k []byte, s span) bool {
		return bytes.Compare(k, s.lower) >= 0 && (s.upper == nil || bytes.Compare(k, s.upper) < 0)
	}
	for range 20000 {
		a, b := randLoc(r), randLoc(r)
		switch r.IntN(3) { // make near misses common
		case 0:
			b.app = a.app
		case 1:
			b.app, b.table = a.app, a.table
		}
		ka, kb := userKey(r), userKey(r)
		ea := appendDataKey(nil, a.app, a.table, a.partition, ka)
		eb := appendDataKey(nil, b.app, b.table, b.partition, kb)
		ma := appendChangelogKey(nil, a.app, a.table, a.partition)

		check := func(what string, got, want bool) {
			t.Helper()
			if got != want {
				t.Fatalf("%s: got %v, want %v\na=%q/%q/%d/%q\nb=%q/%q/%d/%q", what, got, want, a.app, a.table, a.partition, ka, b.app, b.table, b.partition, kb)
			}
		}
		check("app span", in(eb, appSpan(a.app)), a.app == b.app)
		check("table span", in(eb, tableSpan(a.app, a.table)), a.app == b.app && a.table == b.table)
		same := a == b
		check("partition span", in(eb, partitionSpan(a.app, a.table, a.partition)), same)
		check("data span", in(eb, dataSpan(a.app, a.table, a.partition, nil, nil)), same)
		check("meta in own partition", in(ma, partitionSpan(a.app, a.table, a.partition)), true)
		check("meta out of data", in(ma, dataSpan(a.app, a.table, a.partition, nil, nil)), false)
		check("meta out of prefix", in(ma, prefixSpan(a.app, a.table, a.partition, nil)), false)
		check("meta in meta span", in(ma, metaSpan(a.app, a.table, a.partition)), true)
		check("data out of meta span", in(ea, metaSpan(a.app, a.table, a.partition)), false)
		check("bounded span", in(eb, dataSpan(a.app, a.table, a.partition, ka, append(ka, 0))), same && bytes.Equal(ka, kb))
		p := userKey(r)
		check("prefix span", in(eb, prefixSpan(a.app, a.table, a.partition, p)), same && bytes.HasPrefix(kb, p))
		if same {
			check("order", bytes.Compare(ea, eb) < 0, bytes.Compare(ka, kb) < 0)
			lo, hi := userKey(r), userKey(r)
			check("range span", in(eb, dataSpan(a.app, a.table, a.partition, lo, hi)), bytes.Compare(kb, lo) >= 0 && bytes.Compare(kb, hi) < 0)
		}
	}
}

// TestNaiveSeparators pins the cases a separator-joined layout gets wrong.
func TestNaiveSeparators(t *testing.T) {
	pairs := [][2]loc{
		{{"a/b", "c", 0}, {"a", "b/c", 0}},
		{{"a", "b\x00c", 0}, {"a\x00b", "c", 0}},
		{{"a", "t", 0}, {"a", "t\x00\x00\x00\x00", 0}},
		{{"a", "", 1}, {"a\x00", "", 0}},
		{{"", "", 0}, {"\x00", "", 0}},
	}
	for _, p := range pairs {
		a, b := p[0], p[1]
		pa := appendPartition(nil, a.app, a.table, a.partition)
		pb := appendPartition(nil, b.app, b.table, b.partition)
		if bytes.HasPrefix(pa, pb) || bytes.HasPrefix(pb, pa) {
			t.Errorf("%q and %q share a prefix: %q, %q", a, b, pa, pb)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a", "b"}, {"a\xff", "b"}, {"a\xfe\xff", "a\xff"}, {"\xff\xff", ""}, {"", ""},
	} {
		got := prefixEnd([]byte(c.in))
		if string(got) != c.want || (c.want == "" && got != nil) {
			t.Errorf("prefixEnd(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzKeyLayout(f *testing.F) {
	f.Add("app", "table", uint32(3), []byte("key"))
	f.Add("a/b", "\x00", uint32(1<<31-1), []byte{0xff, 0xff})
	f.Add("", "", uint32(0), []byte{})
	f.Fuzz(func(t *testing.T, app, table string, p uint32, key []byte) {
		partition := int32(p & (1<<31 - 1))
		enc := appendDataKey(nil, app, table, partition, key)
		d, err := decodeKey(enc)
		if err != nil {
			t.Fatal(err)
		}
		if d.app != app || d.table != table || d.partition != partition || !bytes.Equal(d.rest, key) {
			t.Fatalf("round trip: %q", enc)
		}
		s := prefixSpan(app, table, partition, key)
		if bytes.Compare(enc, s.lower) < 0 || bytes.Compare(enc, s.upper) >= 0 {
			t.Fatalf("key outside its own prefix span")
		}
		if !bytes.HasPrefix(s.upper, appendPartition(nil, app, table, partition)) {
			t.Fatalf("prefix span ends outside the partition: %q", s.upper)
		}
		// Any bytes decode or fail, never panic.
		_, _ = decodeKey(key)
	})
}
