package franz

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka"
)

// TestReaderToEnd reads a partition written by committed and aborted
// transactions up to its end: the aborted records never come, and Position
// reaches End although the log ends with a transaction marker.
func TestReaderToEnd(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(e.Ctx(), 30*time.Second)
	defer cancel()
	e.CreateTopic(t, e.Config(), "log", 2)
	txn := e.Franz(t, kgo.TransactionalID("writer"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	write := func(commit bool, from, n int) {
		t.Helper()
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := from; i < from+n; i++ {
			txn.Produce(ctx, &kgo.Record{Topic: "log", Partition: 0, Value: fmt.Appendf(nil, "%d", i)}, nil)
		}
		if err := txn.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := txn.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	write(true, 0, 5)
	write(false, 100, 3)
	write(true, 5, 5)

	r, err := NewReader(e.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ends, err := r.Ends(ctx, "log")
	if err != nil {
		t.Fatal(err)
	}
	p0 := kafka.TopicPartition{Topic: "log", Partition: 0}
	p1 := kafka.TopicPartition{Topic: "log", Partition: 1}
	if ends[p0] != 5+1+3+1+5+1 || ends[p1] != 0 {
		t.Fatalf("ends %v", ends)
	}
	r.Add(map[kafka.TopicPartition]int64{p0: 0})
	var got []string
	for r.Position(p0) < ends[p0] {
		fs, err := r.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			for _, rec := range f.Records {
				got = append(got, string(rec.Value))
			}
		}
	}
	if fmt.Sprint(got) != "[0 1 2 3 4 5 6 7 8 9]" {
		t.Fatalf("read %v", got)
	}
}
