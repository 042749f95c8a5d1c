package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka/kafkatest"
	"github.com/weirstream/weir/spec"
)

// reloadApp's code stamps each value with VERSION; its output goes to
// OUTPUT.
const reloadApp = `
apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: rl
spec:
  bootstrapServers: localhost:9092
  config:
    topicPartitions: 3
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: stamp
spec:
  input:
    topic: {name: in, keySerializer: string, valueSerializer: json, declare: true}
  processors:
    pipeline: [stamp]
    operations:
      - name: stamp
        map:
          entrypoint: stamp
          python: |
            def stamp(n):
                return {"n": n, "version": VERSION}
  output:
    topics:
      - name: OUTPUT
        valueSerializer: json
        declare: true
`

func reloadPlan(t *testing.T, broker *kafkatest.Broker, client string, version int, output string, dataDir string) *Plan {
	t.Helper()
	src := strings.ReplaceAll(strings.ReplaceAll(reloadApp, "VERSION", fmt.Sprint(version)), "OUTPUT", output)
	b, err := spec.Parse(spec.File{Name: "rl.yaml", Data: []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	p := compileInstance(t, b, broker, client, "")
	for _, a := range p.Apps {
		a.DataDir = dataDir
	}
	return p
}

// feed produces n numbered records to "in", a few at a time, until done;
// it returns how many it produced.
func feed(t *testing.T, ctx context.Context, broker *kafkatest.Broker, n int, produced *atomic.Int64) chan struct{} {
	done := make(chan struct{})
	cl := kgoClient(t, broker)
	go func() {
		defer close(done)
		for i := 0; i < n; i += 20 {
			var recs []*kgo.Record
			for j := i; j < min(i+20, n); j++ {
				recs = append(recs, &kgo.Record{Topic: "in", Key: fmt.Appendf(nil, "k%d", j%7), Value: fmt.Appendf(nil, "%d", j)})
			}
			if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Error(err)
				return
			}
			produced.Add(int64(len(recs)))
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return done
}

type stamped struct {
	N, Version int
}

// TestReloadCodeSwaps applies 20 code edits under steady exactly-once
// load: each input has exactly one output, by the old or the new code,
// and a partition never goes back to older code.
func TestReloadCodeSwaps(t *testing.T) {
	for _, client := range runtimeClients {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			broker := kafkatest.New(t)
			dir := t.TempDir()
			rt := startRuntime(t, ctx, reloadPlan(t, broker, client, 0, "out", dir))
			const n = 4000
			var produced atomic.Int64
			done := feed(t, ctx, broker, n, &produced)
			for v := 1; v <= 20; v++ {
				for produced.Load() < int64(v*n/25) {
					time.Sleep(5 * time.Millisecond)
				}
				rep, err := rt.Apply(ctx, reloadPlan(t, broker, client, v, "out", dir), fmt.Sprint(v))
				if err != nil {
					t.Fatalf("edit %d: %v", v, err)
				}
				if len(rep.Swapped) != 1 || len(rep.Restarted) != 0 {
					t.Fatalf("edit %d: %s; want the code swapped in place", v, rep)
				}
			}
			<-done
			if g, h := rt.Generation(); g != 21 || h != "20" {
				t.Errorf("generation %d hash %q, want 21 and 20", g, h)
			}
			seen := map[int]int{}
			last := map[int32]int{}
			versions := map[int]bool{}
			out := readCommitted(t, ctx, broker, n, "out")
			t.Logf("longest gap between outputs across 20 code swaps under load: %s", longestGap(out))
			for _, r := range out {
				var s stamped
				if err := json.Unmarshal(r.Value, &s); err != nil {
					t.Fatal(err)
				}
				seen[s.N]++
				versions[s.Version] = true
				if s.Version < last[r.Partition] {
					t.Errorf("partition %d went back from version %d to %d", r.Partition, last[r.Partition], s.Version)
				}
				last[r.Partition] = s.Version
			}
			for i := range n {
				if seen[i] != 1 {
					t.Fatalf("input %d has %d outputs", i, seen[i])
				}
			}
			if len(versions) < 10 {
				t.Errorf("outputs of only %d versions: the edits did not take", len(versions))
			}
		})
	}
}

// TestReloadTopology changes the output topic under load: the app
// restarts, and every input has exactly one output, in the old topic or
// the new.
func TestReloadTopology(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	broker := kafkatest.New(t)
	dir := t.TempDir()
	rt := startRuntime(t, ctx, reloadPlan(t, broker, spec.ClientFranz, 1, "out-a", dir))
	const n = 3000
	var produced atomic.Int64
	done := feed(t, ctx, broker, n, &produced)
	for produced.Load() < n/2 {
		time.Sleep(5 * time.Millisecond)
	}
	rep, err := rt.Apply(ctx, reloadPlan(t, broker, spec.ClientFranz, 2, "out-b", dir), "b")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Restarted) != 1 {
		t.Fatalf("%s; want the app restarted", rep)
	}
	<-done
	// Both topics together hold each input once.
	got := readCommitted(t, ctx, broker, n, "out-a", "out-b")
	t.Logf("longest gap between outputs across a topology restart under load: %s", longestGap(got))
	seen := map[int]int{}
	for _, r := range got {
		var s stamped
		if err := json.Unmarshal(r.Value, &s); err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"out-a": 1, "out-b": 2}[r.Topic]; s.Version != want {
			t.Errorf("%s holds version %d", r.Topic, s.Version)
		}
		seen[s.N]++
	}
	for i := range n {
		if seen[i] != 1 {
			t.Fatalf("input %d has %d outputs", i, seen[i])
		}
	}
}

// longestGap is the longest time between two consecutive output records
// (by their timestamps, set when they were produced).
func longestGap(recs []*kgo.Record) time.Duration {
	ts := make([]time.Time, len(recs))
	for i, r := range recs {
		ts[i] = r.Timestamp
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	var gap time.Duration
	for i := 1; i < len(ts); i++ {
		gap = max(gap, ts[i].Sub(ts[i-1]))
	}
	return gap
}
