package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka/kafkatest"
	"github.com/weirstream/weir/spec"
)

func TestTaskSchedule(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC) // the night Paris moves to summer time
	cases := []struct {
		sched SchedulePlan
		want  time.Time
	}{
		{SchedulePlan{Interval: 90 * time.Second}, from.Add(90 * time.Second)},
		{SchedulePlan{Cron: "0 3 * * *", Location: paris}, time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)},
		{SchedulePlan{Cron: "0 3 * * *", Location: time.UTC}, time.Date(2026, 3, 29, 3, 0, 0, 0, time.UTC)},
		{SchedulePlan{Cron: "@hourly", Location: time.UTC}, time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)},
		{SchedulePlan{Cron: "*/15 * * * *", Location: paris}, time.Date(2026, 3, 28, 23, 45, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		tr, err := newTaskRun(&appRun{plan: &AppPlan{}, log: testLogger(t)}, &TaskPlan{Name: "t", Schedule: &c.sched})
		if err != nil {
			t.Fatal(err)
		}
		if got := tr.next(from); !got.Equal(c.want) {
			t.Errorf("%+v: next after %s = %s, want %s", c.sched, from, got.UTC(), c.want)
		}
	}
}

// leaderApp has an onLeader task that says every 100ms which replica runs
// it; REPLICA is replaced per runtime.
const leaderApp = `
apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: lead
spec:
  bootstrapServers: localhost:9092
  config:
    topicPartitions: 1
---
apiVersion: kaspr.io/v1alpha1
kind: KasprTask
metadata:
  name: beat
spec:
  name: beat
  onLeader: true
  schedule:
    interval: 100ms
  processors:
    pipeline: [beat, send]
    operations:
      - name: beat
        map:
          entrypoint: beat
          python: |
            def beat():
                return {"replica": "REPLICA"}
      - name: send
        topicSend:
          name: beats
          valueSerializer: json
          declare: true
`

func TestTaskOnLeader(t *testing.T) {
	for _, client := range runtimeClients {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			broker := kafkatest.New(t)
			start := func(replica string) *Runtime {
				b, err := spec.Parse(spec.File{Name: replica + ".yaml", Data: []byte(strings.ReplaceAll(leaderApp, "REPLICA", replica))})
				if err != nil {
					t.Fatal(err)
				}
				return startRuntime(t, ctx, compileForBroker(t, b, broker, client))
			}
			a := start("a")
			b := start("b")

			cl := kgoClient(t, broker, kgo.ConsumeTopics("beats"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			// next returns the replica of the next beat.
			next := func() string {
				for {
					fs := cl.PollRecords(ctx, 1)
					if ctx.Err() != nil {
						t.Fatal("timed out waiting for a beat")
					}
					var r string
					fs.EachRecord(func(rec *kgo.Record) {
						var v struct{ Replica string }
						if err := json.Unmarshal(rec.Value, &v); err != nil {
							t.Fatal(err)
						}
						r = v.Replica
					})
					if r != "" {
						return r
					}
				}
			}
			// Let the group settle (until both have joined, the first may
			// lead alone), then every beat comes from one replica.
			leader := next()
			for settle := time.Now().Add(2 * time.Second); time.Now().Before(settle); {
				leader = next()
			}
			counts := map[string]int{}
			for range 10 {
				counts[next()]++
			}
			if len(counts) != 1 {
				t.Fatalf("beats from more than one replica: %v", counts)
			}
			for r := range counts {
				leader = r
			}
			// Stop the leader: the other takes over.
			stopped, other := a, "b"
			if leader == "b" {
				stopped, other = b, "a"
			}
			sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
			if err := stopped.Stop(sctx); err != nil {
				t.Fatal(err)
			}
			scancel()
			for next() != other {
			}
			for range 5 {
				if r := next(); r != other {
					t.Fatalf("a beat from %s after %s took over", r, other)
				}
			}
		})
	}
}

const taskTableApp = `
apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: tt
spec:
  bootstrapServers: localhost:9092
  config:
    topicPartitions: 1
---
apiVersion: kaspr.io/v1alpha1
kind: KasprTable
metadata:
  name: counts
spec:
  name: counts
  defaultSelector: {entrypoint: zero, python: "def zero():\n    return 0\n"}
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: count
spec:
  input:
    topic: {name: words, keySerializer: string, valueSerializer: string, declare: true}
  processors:
    pipeline: [count]
    operations:
      - name: count
        tables: [{name: counts, paramName: counts}]
        filter:
          entrypoint: count
          python: |
            def count(w, counts):
                counts[w] += 1
                return False
---
apiVersion: kaspr.io/v1alpha1
kind: KasprTask
metadata:
  name: tick
spec:
  name: tick
  schedule: {interval: 100ms}
  processors:
    pipeline: [tick, send]
    operations:
      - name: tick
        tables: [{name: counts, paramName: counts}]
        map:
          entrypoint: tick
          python: |
            def tick(counts):
                counts["tick"] += 1
                return {"tick": counts["tick"], "words": len(counts) - 1, "a": counts.get("a", 0)}
      - name: send
        topicSend: {name: ticks, valueSerializer: json, declare: true}
`

// TestTaskTables: a task that uses a table runs in the app's transaction:
// its writes reach the changelog once each and it reads what the agent
// wrote.
func TestTaskTables(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	broker, _ := startManifest(t, ctx, spec.ClientFranz, "tt.yaml", taskTableApp)
	prod := kgoClient(t, broker)
	for _, w := range []string{"a", "b", "a"} {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "words", Value: []byte(w)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl := kgoClient(t, broker, kgo.ConsumeTopics("ticks"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	last := 0
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("the task never saw the agent's counts")
		}
		done := false
		fs.EachRecord(func(r *kgo.Record) {
			var v struct{ Tick, Words, A int }
			if err := json.Unmarshal(r.Value, &v); err != nil {
				t.Fatal(err)
			}
			if v.Tick != last+1 {
				t.Fatalf("tick %d after %d: a task's write went missing or twice", v.Tick, last)
			}
			last = v.Tick
			done = done || (v.Words == 2 && v.A == 2)
		})
		if done && last >= 5 {
			return
		}
	}
}
