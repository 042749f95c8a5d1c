package state

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// The benchmarks write keys like those of a count-per-key table: 16-byte
// keys, 64-byte values, in one partition of one table. Run them with
//
//	go test -run '^$' -bench . -benchtime 3s ./engine/state/

const (
	benchApp   = "wordcount-app"
	benchTable = "counts"
	benchValue = 64
)

func benchKey(i int) []byte { return fmt.Appendf(nil, "key-%012d", i) }

// benchKeys are benchKey(0..n-1), made ahead so that the loops time the
// store and not fmt.
var benchKeys = sync.OnceValue(func() [][]byte {
	keys := make([][]byte, 1<<20)
	for i := range keys {
		keys[i] = benchKey(i)
	}
	return keys
})

var benchVal = make([]byte, benchValue)

// fill writes n keys into partition 0 in batches of 1000, and flushes.
func fill(b *testing.B, db *DB, n int) {
	b.Helper()
	for lo := 0; lo < n; lo += 1000 {
		batch := db.NewBatch()
		for i := lo; i < min(lo+1000, n); i++ {
			must(b, batch.Set(benchApp, benchTable, 0, benchKeys()[i], benchVal))
		}
		must(b, batch.Commit())
	}
	must(b, db.Flush())
}

func benchOpen(b *testing.B, opts Options) *DB {
	db, err := Open(b.TempDir(), opts)
	must(b, err)
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkCommit is one poll's worth of state: a batch of 1000 keys with
// the source and changelog offsets, committed at once. keys=random
// overwrites keys drawn from a 1M-key space (a count per key), keys=new
// appends ascending keys; sync=true fsyncs each commit.
func BenchmarkCommit(b *testing.B) {
	keys := benchKeys()
	for _, random := range []bool{true, false} {
		for _, sync := range []bool{false, true} {
			name := map[bool]string{true: "random", false: "new"}[random]
			b.Run(fmt.Sprintf("keys=%s/sync=%v", name, sync), func(b *testing.B) {
				db := benchOpen(b, Options{Sync: sync})
				r := rand.New(rand.NewPCG(1, 1))
				src := TopicPartition{Topic: "words", Partition: 0}
				b.SetBytes(1000 * (16 + benchValue))
				next := 0
				for i := 0; b.Loop(); i++ {
					batch := db.NewBatch()
					for range 1000 {
						k := next % len(keys)
						if random {
							k = r.IntN(len(keys))
						}
						next++
						must(b, batch.Set(benchApp, benchTable, 0, keys[k], benchVal))
					}
					must(b, batch.SetOffsets(benchApp, benchTable, 0, Offsets{
						Changelog: int64(i+1) * 1000,
						Sources:   map[TopicPartition]int64{src: int64(i+1) * 1000},
					}))
					must(b, batch.Commit())
				}
				b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "keys/s")
			})
		}
	}
}

// BenchmarkCountPerKey is the read-modify-write of t[k] += 1 through a
// batch: a Get and a Set per key, 1000 keys per batch, over a 100k-key
// partition. keys=uniform draws every key alike; keys=zipf draws them as
// words come (Zipf, s=1.1), so a batch often reads its own writes.
func BenchmarkCountPerKey(b *testing.B) {
	keys := benchKeys()
	for _, zipf := range []bool{false, true} {
		b.Run(map[bool]string{false: "keys=uniform", true: "keys=zipf"}[zipf], func(b *testing.B) {
			db := benchOpen(b, Options{})
			fill(b, db, 100_000)
			r := rand.New(rand.NewPCG(1, 1))
			z := rand.NewZipf(r, 1.1, 1, 100_000-1)
			for b.Loop() {
				batch := db.NewBatch()
				for range 1000 {
					i := r.IntN(100_000)
					if zipf {
						i = int(z.Uint64())
					}
					v, _, err := batch.Get(benchApp, benchTable, 0, keys[i])
					must(b, err)
					must(b, batch.Set(benchApp, benchTable, 0, keys[i], v))
				}
				must(b, batch.Commit())
			}
			b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "keys/s")
		})
	}
}

// BenchmarkGet reads random keys of a 100k-key partition (flushed to
// sstables, in the block cache).
func BenchmarkGet(b *testing.B) {
	db := benchOpen(b, Options{})
	fill(b, db, 100_000)
	r := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		_, ok, err := db.Get(benchApp, benchTable, 0, benchKeys()[r.IntN(100_000)])
		if !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
}

// BenchmarkGetMissing reads keys that are not there (the bloom filters'
// case).
func BenchmarkGetMissing(b *testing.B) {
	db := benchOpen(b, Options{})
	fill(b, db, 100_000)
	r := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		_, ok, err := db.Get(benchApp, benchTable, 0, benchKeys()[100_000+r.IntN(100_000)])
		if ok || err != nil {
			b.Fatal(ok, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
}

// BenchmarkPrefixScan scans 100 keys of a 100k-key partition by prefix.
func BenchmarkPrefixScan(b *testing.B) {
	db := benchOpen(b, Options{})
	fill(b, db, 100_000)
	r := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		prefix := fmt.Appendf(nil, "key-%010d", r.IntN(1000))
		n := 0
		must(b, db.PrefixScan(benchApp, benchTable, 0, prefix, func(_, _ []byte) bool { n++; return true }))
		if n != 100 {
			b.Fatalf("%d keys", n)
		}
	}
	b.ReportMetric(float64(b.N)*100/b.Elapsed().Seconds(), "keys/s")
}

// BenchmarkCount counts a 100k-key partition.
func BenchmarkCount(b *testing.B) {
	db := benchOpen(b, Options{})
	fill(b, db, 100_000)
	for b.Loop() {
		n, err := db.Count(benchApp, benchTable, 0)
		if n != 100_000 || err != nil {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(b.N)*100_000/b.Elapsed().Seconds(), "keys/s")
}

// BenchmarkApplyChangelog is recovery: fetches of 1000 changelog records
// (one in ten a tombstone) applied in bulk.
func BenchmarkApplyChangelog(b *testing.B) {
	db := benchOpen(b, Options{})
	r := rand.New(rand.NewPCG(1, 1))
	recs := make([]ChangelogRecord, 1000)
	b.SetBytes(1000 * (16 + benchValue))
	for i := 0; b.Loop(); i++ {
		for j := range recs {
			recs[j] = ChangelogRecord{Key: benchKeys()[r.IntN(1<<20)], Value: benchVal, Offset: int64(i*1000 + j)}
			if j%10 == 9 {
				recs[j].Value = nil
			}
		}
		must(b, db.ApplyChangelog(benchApp, benchTable, 0, recs))
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "records/s")
}
