package state

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkTmpBatchGet(b *testing.B) {
	keys := benchKeys()
	db := benchOpen(b, Options{})
	fill(b, db, 100_000)
	batch := db.NewBatch()
	defer batch.Close()
	for i := range 1000 {
		must(b, batch.Set(benchApp, benchTable, 0, keys[200_000+i], benchVal))
	}
	r := rand.New(rand.NewPCG(1, 1))
	b.Run("batch", func(b *testing.B) {
		for b.Loop() {
			_, ok, err := batch.Get(benchApp, benchTable, 0, keys[r.IntN(100_000)])
			if !ok || err != nil {
				b.Fatal()
			}
		}
	})
	b.Run("db", func(b *testing.B) {
		for b.Loop() {
			_, ok, err := db.Get(benchApp, benchTable, 0, keys[r.IntN(100_000)])
			if !ok || err != nil {
				b.Fatal()
			}
		}
	})
	b.Run("batch-hit", func(b *testing.B) {
		for b.Loop() {
			_, ok, err := batch.Get(benchApp, benchTable, 0, keys[200_000+r.IntN(1000)])
			if !ok || err != nil {
				b.Fatal()
			}
		}
	})
}
