package state

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

func open(t testing.TB, dir string) *DB {
	t.Helper()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func openTemp(t testing.TB) (*DB, string) {
	t.Helper()
	dir := t.TempDir()
	db := open(t, dir)
	t.Cleanup(func() { db.Close() })
	return db, dir
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// commit writes kv (a nil value deletes) and offsets in one batch.
func commit(t testing.TB, db *DB, app, table string, p int32, kv map[string][]byte, o *Offsets) {
	t.Helper()
	b := db.NewBatch()
	defer b.Close()
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		if kv[k] == nil {
			must(t, b.Delete(app, table, p, []byte(k)))
		} else {
			must(t, b.Set(app, table, p, []byte(k), kv[k]))
		}
	}
	if o != nil {
		must(t, b.SetOffsets(app, table, p, *o))
	}
	must(t, b.Commit())
}

// dump returns every key and value of a partition, in scan order, as
// "k=v" strings.
func dump(t testing.TB, r Reader, app, table string, p int32) []string {
	t.Helper()
	var out []string
	must(t, r.Iterate(app, table, p, nil, nil, func(k, v []byte) bool {
		out = append(out, fmt.Sprintf("%q=%q", k, v))
		return true
	}))
	return out
}

func scan(t testing.TB, r Reader, app, table string, p int32, prefix string) []string {
	t.Helper()
	var out []string
	must(t, r.PrefixScan(app, table, p, []byte(prefix), func(k, v []byte) bool {
		out = append(out, string(k))
		return true
	}))
	return out
}

func TestGetSetDeleteReopen(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	if _, ok, err := db.Get("app", "t", 0, []byte("k")); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	commit(t, db, "app", "t", 0, map[string][]byte{"k": []byte("v"), "empty": {}, "gone": []byte("x")}, nil)
	commit(t, db, "app", "t", 0, map[string][]byte{"gone": nil}, &Offsets{Changelog: 7, Sources: map[TopicPartition]int64{{"in", 0}: 42}})
	must(t, db.Close())
	if err := db.Close(); err == nil {
		t.Error("second Close: no error")
	}

	db = open(t, dir)
	defer db.Close()
	if v, ok, err := db.Get("app", "t", 0, []byte("k")); string(v) != "v" || !ok || err != nil {
		t.Errorf("k = %q %v %v", v, ok, err)
	}
	if v, ok, err := db.Get("app", "t", 0, []byte("empty")); v == nil || len(v) != 0 || !ok || err != nil {
		t.Errorf("an empty value must read back as present and empty: %q %v %v", v, ok, err)
	}
	if _, ok, _ := db.Get("app", "t", 0, []byte("gone")); ok {
		t.Error("deleted key is back")
	}
	o, err := db.Offsets("app", "t", 0)
	must(t, err)
	if o.Changelog != 7 || len(o.Sources) != 1 || o.Sources[TopicPartition{"in", 0}] != 42 {
		t.Errorf("offsets after reopen: %+v", o)
	}
	if n, err := db.Count("app", "t", 0); n != 2 || err != nil {
		t.Errorf("count %d %v", n, err)
	}
}

func TestOpenLocksDir(t *testing.T) {
	db, dir := openTemp(t)
	if db2, err := Open(dir, Options{}); err == nil {
		db2.Close()
		t.Fatal("a second Open of a dir in use succeeded")
	}
	must(t, db.Close())
	db2 := open(t, dir)
	must(t, db2.Close())
}

func TestLayoutVersionRefused(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	must(t, db.d.Set(layoutKey, []byte("0"), nil))
	must(t, db.Close())
	_, err := Open(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "layout") {
		t.Fatalf("want a layout error, got %v", err)
	}
	db = open(t, t.TempDir()) // the lock was released on the failed open
	must(t, db.Close())
	db, err = Open(dir, Options{})
	if err == nil {
		db.Close()
		t.Fatal("second open of a wrong layout succeeded")
	}
}

func TestNegativePartition(t *testing.T) {
	db, _ := openTemp(t)
	b := db.NewBatch()
	defer b.Close()
	for _, err := range []error{
		b.Set("a", "t", -1, []byte("k"), nil),
		b.Delete("a", "t", -1, []byte("k")),
		b.SetOffsets("a", "t", -1, NoOffsets()),
		db.DropPartition("a", "t", -1),
		db.ApplyChangelog("a", "t", -1, []ChangelogRecord{{Key: []byte("k")}}),
		func() error { _, _, err := db.Get("a", "t", -1, nil); return err }(),
	} {
		if !errors.Is(err, errNegativePartition) {
			t.Errorf("got %v", err)
		}
	}
}

// TestNoBleed writes the same keys into neighbouring apps, tables and
// partitions whose names would collide under a naive layout, and checks
// that each partition's scans, counts and reads see its own keys only.
func TestNoBleed(t *testing.T) {
	db, _ := openTemp(t)
	locs := []loc{
		{"a", "t", 0}, {"a", "t", 1}, {"a", "t", 256}, {"a", "t", 1<<31 - 1},
		{"a", "t\x00", 0}, {"a", "t1", 0}, {"a", "", 0}, {"a\x00", "t", 0},
		{"a/t", "", 0}, {"a", "/t", 0}, {"", "", 0}, {"\xff", "\xff", 0}, {"ab", "t", 0},
	}
	keys := []string{"", "\x00", "a", "a\x00", "ab", "b", "\xff", "\xff\xff"}
	want := map[loc][]string{}
	for i, l := range locs {
		kv := map[string][]byte{}
		for _, k := range keys {
			kv[k] = fmt.Appendf(nil, "%d", i)
			want[l] = append(want[l], fmt.Sprintf("%q=%q", k, kv[k]))
		}
		commit(t, db, l.app, l.table, l.partition, kv, &Offsets{Changelog: int64(i), Sources: map[TopicPartition]int64{{"src", l.partition}: int64(i)}})
	}
	for i, l := range locs {
		if got := dump(t, db, l.app, l.table, l.partition); !slices.Equal(got, want[l]) {
			t.Errorf("%q: got %v, want %v", l, got, want[l])
		}
		if got := scan(t, db, l.app, l.table, l.partition, ""); !slices.Equal(got, keys) {
			t.Errorf("%q: prefix scan \"\" got %q", l, got)
		}
		if got := scan(t, db, l.app, l.table, l.partition, "a"); !slices.Equal(got, []string{"a", "a\x00", "ab"}) {
			t.Errorf("%q: prefix scan a got %q", l, got)
		}
		if got := scan(t, db, l.app, l.table, l.partition, "\xff"); !slices.Equal(got, []string{"\xff", "\xff\xff"}) {
			t.Errorf("%q: prefix scan \\xff got %q", l, got)
		}
		if n, err := db.Count(l.app, l.table, l.partition); n != len(keys) || err != nil {
			t.Errorf("%q: count %d %v", l, n, err)
		}
		o, err := db.Offsets(l.app, l.table, l.partition)
		must(t, err)
		if o.Changelog != int64(i) || len(o.Sources) != 1 || o.Sources[TopicPartition{"src", l.partition}] != int64(i) {
			t.Errorf("%q: offsets %+v", l, o)
		}
	}
	if got := scan(t, db, "a", "t", 2, ""); got != nil {
		t.Errorf("an unwritten partition scans %q", got)
	}
}

func TestIterateBounds(t *testing.T) {
	db, _ := openTemp(t)
	kv := map[string][]byte{}
	for _, k := range []string{"a", "b", "c", "d"} {
		kv[k] = []byte(k)
	}
	commit(t, db, "a", "t", 0, kv, nil)
	for _, c := range []struct {
		lower, upper []byte
		want         string
	}{
		{nil, nil, "abcd"},
		{[]byte("b"), nil, "bcd"},
		{nil, []byte("c"), "ab"},
		{[]byte("b"), []byte("d"), "bc"},
		{[]byte("bb"), []byte("c\x00"), "c"},
		{[]byte("x"), nil, ""},
	} {
		var got string
		must(t, db.Iterate("a", "t", 0, c.lower, c.upper, func(k, _ []byte) bool {
			got += string(k)
			return true
		}))
		if got != c.want {
			t.Errorf("[%q, %q): got %q, want %q", c.lower, c.upper, got, c.want)
		}
	}
	var got string
	must(t, db.Iterate("a", "t", 0, nil, nil, func(k, _ []byte) bool {
		got += string(k)
		return len(got) < 2
	}))
	if got != "ab" {
		t.Errorf("stopping early: got %q", got)
	}
}

func TestReadYourWrites(t *testing.T) {
	db, _ := openTemp(t)
	commit(t, db, "a", "t", 0, map[string][]byte{"n": []byte("0"), "old": []byte("x")}, &Offsets{Changelog: 1})

	b := db.NewBatch()
	defer b.Close()
	incr := func() {
		v, ok, err := b.Get("a", "t", 0, []byte("n"))
		must(t, err)
		if !ok {
			t.Fatal("n missing in batch")
		}
		var n int
		fmt.Sscan(string(v), &n)
		must(t, b.Set("a", "t", 0, []byte("n"), fmt.Append(nil, n+1)))
	}
	incr()
	incr()
	must(t, b.Set("a", "t", 0, []byte("new"), []byte("y")))
	must(t, b.Delete("a", "t", 0, []byte("old")))
	must(t, b.SetOffsets("a", "t", 0, Offsets{Changelog: 5, Sources: map[TopicPartition]int64{{"in", 0}: 9}}))

	if got := dump(t, b, "a", "t", 0); !slices.Equal(got, []string{`"n"="2"`, `"new"="y"`}) {
		t.Errorf("batch view: %v", got)
	}
	if n, _ := b.Count("a", "t", 0); n != 2 {
		t.Errorf("batch count %d", n)
	}
	if o, _ := b.Offsets("a", "t", 0); o.Changelog != 5 || o.Sources[TopicPartition{"in", 0}] != 9 {
		t.Errorf("batch offsets %+v", o)
	}
	// Nothing is visible outside before the commit.
	if got := dump(t, db, "a", "t", 0); !slices.Equal(got, []string{`"n"="0"`, `"old"="x"`}) {
		t.Errorf("db view before commit: %v", got)
	}
	if o, _ := db.Offsets("a", "t", 0); o.Changelog != 1 || len(o.Sources) != 0 {
		t.Errorf("db offsets before commit: %+v", o)
	}
	must(t, b.Commit())
	if got := dump(t, db, "a", "t", 0); !slices.Equal(got, []string{`"n"="2"`, `"new"="y"`}) {
		t.Errorf("db view after commit: %v", got)
	}
	if err := b.Set("a", "t", 0, []byte("k"), nil); !errors.Is(err, errBatchDone) {
		t.Errorf("Set after Commit: %v", err)
	}
	if err := b.Commit(); !errors.Is(err, errBatchDone) {
		t.Errorf("second Commit: %v", err)
	}
	must(t, b.Close())
}

// TestUncommittedBatchInvisible is the crash before a commit: a batch
// written but never committed leaves nothing behind, in this process or
// after a reopen.
func TestUncommittedBatchInvisible(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	commit(t, db, "a", "t", 0, map[string][]byte{"k": []byte("1")}, &Offsets{Changelog: 1})

	discarded := db.NewBatch()
	must(t, discarded.Set("a", "t", 0, []byte("k"), []byte("2")))
	must(t, discarded.SetOffsets("a", "t", 0, Offsets{Changelog: 2}))
	must(t, discarded.Close())

	abandoned := db.NewBatch() // never committed nor closed: the process dies
	must(t, abandoned.Set("a", "t", 0, []byte("k"), []byte("3")))
	must(t, abandoned.Set("a", "t", 0, []byte("other"), []byte("3")))
	must(t, abandoned.SetOffsets("a", "t", 0, Offsets{Changelog: 3}))
	must(t, db.Close())

	db = open(t, dir)
	defer db.Close()
	if got := dump(t, db, "a", "t", 0); !slices.Equal(got, []string{`"k"="1"`}) {
		t.Errorf("after reopen: %v", got)
	}
	if o, _ := db.Offsets("a", "t", 0); o.Changelog != 1 {
		t.Errorf("offsets after reopen: %+v", o)
	}
}

// TestCrashKeepsBatchesWhole commits batches without fsync on a file
// system that can lose whatever was not synced, and checks many possible
// crash states: each must hold a prefix of the batches, whole, with the
// offsets of exactly the last batch it holds.
func TestCrashKeepsBatchesWhole(t *testing.T) {
	fs := vfs.NewCrashableMem()
	db, err := Open("/db", Options{fs: fs})
	must(t, err)
	defer db.Close()
	const keys = 50
	r := rand.New(rand.NewPCG(5, 6))
	for gen := int64(1); gen <= 40; gen++ {
		kv := map[string][]byte{}
		for k := range keys {
			kv[fmt.Sprint(k)] = fmt.Append(nil, gen)
		}
		commit(t, db, "a", "t", 0, kv, &Offsets{Changelog: gen, Sources: map[TopicPartition]int64{{"in", 0}: gen * 10}})
		if gen%10 == 0 {
			must(t, db.Sync()) // a durability point: a crash keeps at least this
		}
		for range 3 {
			crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: r.IntN(101), RNG: r})
			checkCrashState(t, crashed, gen/10*10, gen)
		}
	}
}

func checkCrashState(t *testing.T, fs vfs.FS, synced, committed int64) {
	t.Helper()
	db, err := Open("/db", Options{fs: fs})
	must(t, err)
	defer db.Close()
	o, err := db.Offsets("a", "t", 0)
	must(t, err)
	gen := max(o.Changelog, 0)
	if gen < synced || gen > committed {
		t.Fatalf("after a crash the changelog offset is %d, want between %d and %d", gen, synced, committed)
	}
	if o.Sources[TopicPartition{"in", 0}] != gen*10 {
		t.Fatalf("changelog offset %d with source offset %d: not from one batch", gen, o.Sources[TopicPartition{"in", 0}])
	}
	n := 0
	must(t, db.Iterate("a", "t", 0, nil, nil, func(k, v []byte) bool {
		n++
		if string(v) != fmt.Sprint(gen) {
			t.Errorf("key %s = %s beside offset %d: a torn batch", k, v, gen)
			return false
		}
		return true
	}))
	if gen > 0 && n != 50 {
		t.Fatalf("%d keys at generation %d", n, gen)
	}
}

func TestSetOffsetsMerges(t *testing.T) {
	db, _ := openTemp(t)
	if o, _ := db.Offsets("a", "t", 0); o.Changelog != -1 || o.Sources == nil || len(o.Sources) != 0 {
		t.Errorf("no offsets: %+v", o)
	}
	commit(t, db, "a", "t", 0, nil, &Offsets{Changelog: 3, Sources: map[TopicPartition]int64{{"x", 0}: 1, {"y", 0}: 2}})
	commit(t, db, "a", "t", 0, nil, &Offsets{Changelog: -1, Sources: map[TopicPartition]int64{{"y", 0}: 5, {"y", 1}: 6}})
	o, err := db.Offsets("a", "t", 0)
	must(t, err)
	want := map[TopicPartition]int64{{"x", 0}: 1, {"y", 0}: 5, {"y", 1}: 6}
	if o.Changelog != 3 || !maps.Equal(o.Sources, want) {
		t.Errorf("got %+v", o)
	}
	b := db.NewBatch()
	defer b.Close()
	if err := b.SetOffsets("a", "t", 0, Offsets{Changelog: -1, Sources: map[TopicPartition]int64{{"x", 0}: -2}}); err == nil {
		t.Error("a negative source offset was accepted")
	}
}

func TestDrop(t *testing.T) {
	db, dir := openTemp(t)
	locs := []loc{
		{"a", "t", 0}, {"a", "t", 1}, {"a", "t", 2}, {"a", "t1", 1}, {"a", "u", 1},
		{"a\x00", "t", 1}, {"ab", "t", 1}, {"b", "t", 1},
	}
	for _, l := range locs {
		commit(t, db, l.app, l.table, l.partition, map[string][]byte{"k": []byte("v"), "\xff": []byte("v")}, &Offsets{Changelog: 1})
	}
	// Offsets alone also count as local data.
	commit(t, db, "a", "t", 7, nil, &Offsets{Changelog: 9})

	listP := func(app, table string) []int32 {
		p, err := db.Partitions(app, table)
		must(t, err)
		return p
	}
	listT := func(app string) []string {
		ts, err := db.Tables(app)
		must(t, err)
		return ts
	}
	listA := func() []string {
		as, err := db.Apps()
		must(t, err)
		return as
	}
	if got := listP("a", "t"); !slices.Equal(got, []int32{0, 1, 2, 7}) {
		t.Errorf("partitions %v", got)
	}
	if got := listT("a"); !slices.Equal(got, []string{"t", "t1", "u"}) {
		t.Errorf("tables %q", got)
	}
	if got := listA(); !slices.Equal(got, []string{"a", "a\x00", "ab", "b"}) {
		t.Errorf("apps %q", got)
	}

	present := func(l loc) bool {
		n, err := db.Count(l.app, l.table, l.partition)
		must(t, err)
		o, err := db.Offsets(l.app, l.table, l.partition)
		must(t, err)
		if (n == 0) != (o.Changelog == -1) {
			t.Errorf("%q: %d keys but offsets %+v", l, n, o)
		}
		return n > 0
	}
	expect := func(gone ...loc) {
		t.Helper()
		for _, l := range locs {
			if present(l) == slices.Contains(gone, l) {
				t.Errorf("%q: present=%v", l, present(l))
			}
		}
	}

	must(t, db.DropPartition("a", "t", 1))
	expect(loc{"a", "t", 1})
	if got := listP("a", "t"); !slices.Equal(got, []int32{0, 2, 7}) {
		t.Errorf("partitions after drop %v", got)
	}
	must(t, db.DropTable("a", "t"))
	expect(loc{"a", "t", 0}, loc{"a", "t", 1}, loc{"a", "t", 2})
	if got := listP("a", "t"); got != nil {
		t.Errorf("partitions after table drop %v", got)
	}
	must(t, db.DropApp("a"))
	expect(loc{"a", "t", 0}, loc{"a", "t", 1}, loc{"a", "t", 2}, loc{"a", "t1", 1}, loc{"a", "u", 1})
	if got := listA(); !slices.Equal(got, []string{"a\x00", "ab", "b"}) {
		t.Errorf("apps after app drop %q", got)
	}

	// Drops persist, and a dropped partition can be written anew.
	must(t, db.Close())
	db = open(t, dir)
	defer db.Close()
	expect(loc{"a", "t", 0}, loc{"a", "t", 1}, loc{"a", "t", 2}, loc{"a", "t1", 1}, loc{"a", "u", 1})
	commit(t, db, "a", "t", 1, map[string][]byte{"new": []byte("1")}, nil)
	if got := dump(t, db, "a", "t", 1); !slices.Equal(got, []string{`"new"="1"`}) {
		t.Errorf("rewritten partition %v", got)
	}
}

func TestBatchDropPartition(t *testing.T) {
	db, _ := openTemp(t)
	commit(t, db, "a", "t", 0, map[string][]byte{"old": []byte("1")}, &Offsets{Changelog: 4})
	commit(t, db, "a", "t", 1, map[string][]byte{"keep": []byte("1")}, nil)
	b := db.NewBatch()
	defer b.Close()
	must(t, b.DropPartition("a", "t", 0))
	must(t, b.Set("a", "t", 0, []byte("new"), []byte("2")))
	if got := dump(t, b, "a", "t", 0); !slices.Equal(got, []string{`"new"="2"`}) {
		t.Errorf("batch view after drop: %v", got)
	}
	if _, ok, _ := b.Get("a", "t", 0, []byte("old")); ok {
		t.Error("batch Get sees a dropped key")
	}
	must(t, b.Commit())
	if got := dump(t, db, "a", "t", 0); !slices.Equal(got, []string{`"new"="2"`}) {
		t.Errorf("after commit: %v", got)
	}
	if o, _ := db.Offsets("a", "t", 0); o.Changelog != -1 {
		t.Errorf("offsets survived the drop: %+v", o)
	}
	if got := dump(t, db, "a", "t", 1); len(got) != 1 {
		t.Errorf("neighbour: %v", got)
	}
}

func TestApplyChangelog(t *testing.T) {
	db, dir := openTemp(t)
	commit(t, db, "a", "t", 0, map[string][]byte{"stale": []byte("x")}, nil)
	must(t, db.ApplyChangelog("a", "t", 0, nil)) // nothing to do
	if o, _ := db.Offsets("a", "t", 0); o.Changelog != -1 {
		t.Errorf("empty apply stored %+v", o)
	}
	must(t, db.ApplyChangelog("a", "t", 0, []ChangelogRecord{
		{Key: []byte("a"), Value: []byte("1"), Offset: 10},
		{Key: []byte("b"), Value: []byte("1"), Offset: 11},
		{Key: []byte("a"), Value: []byte("2"), Offset: 13}, // a gap: compaction or a commit marker
		{Key: []byte("stale"), Value: nil, Offset: 14},
		{Key: []byte("e"), Value: []byte{}, Offset: 15},
		{Key: []byte("f"), Value: []byte("1"), Offset: 15},
		{Key: []byte("f"), Value: nil, Offset: 15}, // set then removed in one fetch
		{Key: []byte("g"), Value: nil, Offset: 15},
		{Key: []byte("g"), Value: []byte("4"), Offset: 15}, // removed then set
	}))
	must(t, db.ApplyChangelog("a", "t", 0, []ChangelogRecord{
		{Key: []byte("b"), Value: nil, Offset: 16},
		{Key: []byte("c"), Value: []byte("3"), Offset: 17},
	}))
	want := []string{`"a"="2"`, `"c"="3"`, `"e"=""`, `"g"="4"`}
	if got := dump(t, db, "a", "t", 0); !slices.Equal(got, want) {
		t.Errorf("got %v", got)
	}
	if o, _ := db.Offsets("a", "t", 0); o.Changelog != 18 {
		t.Errorf("changelog offset %d, want 18", o.Changelog)
	}
	if err := db.ApplyChangelog("a", "t", 0, []ChangelogRecord{{Key: []byte("z"), Value: []byte("1"), Offset: 19}, {Key: []byte("y"), Offset: -1}}); err == nil {
		t.Error("a negative offset was accepted")
	}
	if _, ok, _ := db.Get("a", "t", 0, []byte("z")); ok {
		t.Error("a refused apply wrote a record")
	}
	must(t, db.Close())
	db = open(t, dir)
	defer db.Close()
	if got := dump(t, db, "a", "t", 0); !slices.Equal(got, want) {
		t.Errorf("after reopen %v", got)
	}
}

// TestConcurrentReadersAndWriter runs readers beside a writer (under -race
// in CI). Every batch sets all keys of a partition to its generation with
// the matching offsets, so a reader must never see two generations in one
// scan, and generations never go back.
func TestConcurrentReadersAndWriter(t *testing.T) {
	db, _ := openTemp(t)
	const keys, gens = 100, 200
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for gen := 1; gen <= gens; gen++ {
			b := db.NewBatch()
			for k := range keys {
				if err := b.Set("a", "t", 0, fmt.Appendf(nil, "%03d", k), fmt.Appendf(nil, "%04d", gen)); err != nil {
					t.Error(err)
				}
			}
			if err := b.SetOffsets("a", "t", 0, Offsets{Changelog: int64(gen)}); err != nil {
				t.Error(err)
			}
			if err := b.Commit(); err != nil {
				t.Error(err)
			}
		}
	}()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := ""
			for {
				select {
				case <-done:
					return
				default:
				}
				var first []byte
				n := 0
				err := db.Iterate("a", "t", 0, nil, nil, func(k, v []byte) bool {
					if first == nil {
						first = bytes.Clone(v)
					} else if !bytes.Equal(first, v) {
						t.Errorf("one scan saw generations %s and %s", first, v)
						return false
					}
					n++
					return true
				})
				if err != nil {
					t.Error(err)
					return
				}
				if n != 0 && n != keys {
					t.Errorf("a scan saw %d keys", n)
				}
				if string(first) < last {
					t.Errorf("generation went back from %s to %s", last, first)
				}
				last = string(first)
				if _, _, err := db.Get("a", "t", 0, []byte("050")); err != nil {
					t.Error(err)
				}
				if _, err := db.Offsets("a", "t", 0); err != nil {
					t.Error(err)
				}
				if _, err := db.Partitions("a", "t"); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if o, _ := db.Offsets("a", "t", 0); o.Changelog != gens {
		t.Errorf("final offset %d", o.Changelog)
	}
}

// TestBatchModel runs random writes, drops, reads and commits through
// batches against a map, checking every read of the batch (point and scan)
// and of the DB.
func TestBatchModel(t *testing.T) {
	db, _ := openTemp(t)
	r := rand.New(rand.NewPCG(7, 8))
	type pk struct {
		p int32
		k string
	}
	committed := map[pk]string{}
	keys := []string{"", "a", "ab", "b", "\xff"}
	parts := []int32{0, 1}
	vals := []string{"", "1", "22"}
	check := func(rd Reader, model map[pk]string, what string, scans bool) {
		t.Helper()
		for _, p := range parts {
			var want []string
			for _, k := range keys {
				v, ok := model[pk{p, k}]
				got, gotOK, err := rd.Get("a", "t", p, []byte(k))
				must(t, err)
				if ok != gotOK || string(got) != v || (ok && got == nil) {
					t.Fatalf("%s: get %d/%q = %q,%v; want %q,%v", what, p, k, got, gotOK, v, ok)
				}
				if ok {
					want = append(want, fmt.Sprintf("%q=%q", k, v))
				}
			}
			if !scans {
				continue
			}
			if got := dump(t, rd, "a", "t", p); !slices.Equal(got, want) {
				t.Fatalf("%s: scan %d = %v, want %v", what, p, got, want)
			}
			if n, err := rd.Count("a", "t", p); n != len(want) || err != nil {
				t.Fatalf("%s: count %d = %d, want %d (%v)", what, p, n, len(want), err)
			}
		}
	}
	for range 300 {
		b := db.NewBatch()
		model := maps.Clone(committed)
		for range r.IntN(8) {
			p, k := parts[r.IntN(len(parts))], keys[r.IntN(len(keys))]
			switch r.IntN(11) {
			case 10:
				var lo, hi []byte
				if r.IntN(3) > 0 {
					lo = []byte(keys[r.IntN(len(keys))])
				}
				if r.IntN(3) > 0 {
					hi = []byte(keys[r.IntN(len(keys))])
				}
				must(t, b.DeleteRange("a", "t", p, lo, hi))
				for mk := range model {
					if mk.p == p && mk.k >= string(lo) && (hi == nil || mk.k < string(hi)) {
						delete(model, mk)
					}
				}
			case 0:
				must(t, b.DropPartition("a", "t", p))
				for mk := range model {
					if mk.p == p {
						delete(model, mk)
					}
				}
			case 1, 2, 3:
				must(t, b.Delete("a", "t", p, []byte(k)))
				delete(model, pk{p, k})
			default:
				v := vals[r.IntN(len(vals))]
				must(t, b.Set("a", "t", p, []byte(k), []byte(v)))
				model[pk{p, k}] = v
			}
			// The first scan builds the batch's indexed view: scan at
			// random points, so that it is built after drops and
			// overwrites as well as kept up to date by them.
			check(b, model, "batch", r.IntN(3) == 0)
		}
		if r.IntN(4) == 0 {
			must(t, b.Close())
		} else {
			must(t, b.Commit())
			committed = model
		}
		check(db, committed, "db", true)
	}
}

func TestDeleteRange(t *testing.T) {
	db, _ := openTemp(t)
	kv := map[string][]byte{}
	for _, k := range []string{"", "a", "b", "c", "d", "\xff"} {
		kv[k] = []byte("v")
	}
	for _, p := range []int32{0, 1} {
		commit(t, db, "a", "t", p, kv, &Offsets{Changelog: 3})
	}
	commit(t, db, "a", "t1", 0, kv, nil)
	keysOf := func(p int32) string {
		var out string
		must(t, db.Iterate("a", "t", p, nil, nil, func(k, _ []byte) bool { out += string(k) + ","; return true }))
		return out
	}
	must(t, db.DeleteRange("a", "t", 0, []byte("b"), []byte("d")))
	if got := keysOf(0); got != ",a,d,\xff," {
		t.Errorf("after [b, d): %q", got)
	}
	must(t, db.DeleteRange("a", "t", 0, []byte("d"), []byte("a"))) // empty
	must(t, db.DeleteRange("a", "t", 0, []byte("d"), nil))
	if got := keysOf(0); got != ",a," {
		t.Errorf("after [d, end): %q", got)
	}
	must(t, db.DeleteRange("a", "t", 0, nil, nil))
	if got := keysOf(0); got != "" {
		t.Errorf("after everything: %q", got)
	}
	if o, _ := db.Offsets("a", "t", 0); o.Changelog != 3 {
		t.Errorf("DeleteRange removed the offsets: %+v", o)
	}
	if got := keysOf(1); got != ",a,b,c,d,\xff," {
		t.Errorf("partition 1: %q", got)
	}
	if n, _ := db.Count("a", "t1", 0); n != 6 {
		t.Errorf("table t1: %d keys", n)
	}
}
