package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.starlark.net/starlark"
)

// takeApp batches numbers twice: an agent on a topic takes up to 5 (within
// 200ms) and sends each batch on; it also sends every number to a channel
// whose agent takes up to 3 (within 100ms).
const takeApp = `
apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: take
spec:
  bootstrapServers: localhost:9092
  config:
    topicPartitions: 2
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: fives
spec:
  input:
    topic: {name: numbers, keySerializer: string, valueSerializer: json, declare: true}
    take: {max: 5, within: 200ms}
  processors:
    pipeline: [batch, spread]
    operations:
      - name: batch
        map:
          entrypoint: batch
          python: |
            def batch(vs):
                return {"agent": "fives", "partition": context.event.partition, "values": vs}
      - name: spread
        topicSend:
          channel: each
          passThrough: true
          valueSelector:
            entrypoint: values
            python: |
              def values(b):
                  return b["values"]
  output:
    topics:
      - name: batches
        valueSerializer: json
        declare: true
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: threes
spec:
  input:
    channel: {name: each}
    take: {max: 3, within: 100ms}
  processors:
    pipeline: [flatten]
    operations:
      - name: flatten
        map:
          entrypoint: flatten
          python: |
            def flatten(lists):
                out = []
                for l in lists:
                    out.extend(l)
                return {"agent": "threes", "lists": len(lists), "values": out}
  output:
    topics:
      - name: batches
        valueSerializer: json
`

func TestRuntimeTake(t *testing.T) {
	for _, client := range runtimeClients {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			broker, _ := startManifest(t, ctx, client, "take.yaml", takeApp)
			prod := kgoClient(t, broker)
			const keys, per = 4, 12 // 48 numbers; key k carries k*100+i, i rising
			var recs []*kgo.Record
			for i := range per {
				for k := range keys {
					recs = append(recs, &kgo.Record{Topic: "numbers", Key: fmt.Appendf(nil, "k%d", k), Value: fmt.Appendf(nil, "%d", k*100+i)})
				}
			}
			if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}

			// Read until every number has come through both agents.
			cl := kgoClient(t, broker, kgo.ConsumeTopics("batches"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			type batch struct {
				Agent     string
				Partition int
				Lists     int
				Values    json.RawMessage
			}
			seen := map[string][]int{}
			var sizes = map[string][]int{}
			for len(seen["fives"]) < keys*per || len(seen["threes"]) < keys*per {
				fs := cl.PollFetches(ctx)
				if ctx.Err() != nil {
					t.Fatalf("timed out: fives saw %d, threes %d of %d", len(seen["fives"]), len(seen["threes"]), keys*per)
				}
				fs.EachRecord(func(r *kgo.Record) {
					var b batch
					if err := json.Unmarshal(r.Value, &b); err != nil {
						t.Fatalf("%s: %v", r.Value, err)
					}
					var vs []int
					if b.Agent == "threes" {
						var lists []int
						if err := json.Unmarshal(b.Values, &lists); err != nil {
							t.Fatalf("%s: %v", r.Value, err)
						}
						vs = lists
						sizes["threes"] = append(sizes["threes"], b.Lists)
						if b.Lists > 3 {
							t.Errorf("threes got a batch of %d lists, max is 3", b.Lists)
						}
					} else {
						if err := json.Unmarshal(b.Values, &vs); err != nil {
							t.Fatalf("%s: %v", r.Value, err)
						}
						sizes["fives"] = append(sizes["fives"], len(vs))
						if len(vs) > 5 || len(vs) == 0 {
							t.Errorf("fives got a batch of %d values, want 1 to 5", len(vs))
						}
						if !slices.IsSorted(byKey(vs)) {
							t.Errorf("batch %v is out of order within a key", vs)
						}
					}
					seen[b.Agent] = append(seen[b.Agent], vs...)
				})
			}
			for agent, vs := range seen {
				slices.Sort(vs)
				if len(slices.Compact(slices.Clone(vs))) != keys*per || len(vs) != keys*per {
					t.Errorf("%s saw %d values (%d distinct), want each of %d once", agent, len(vs), len(slices.Compact(slices.Clone(vs))), keys*per)
				}
			}
			if !slices.ContainsFunc(sizes["fives"], func(n int) bool { return n > 1 }) {
				t.Errorf("fives never batched more than one value: %v", sizes["fives"])
			}
			t.Logf("batch sizes: %v", sizes)
		})
	}
}

// byKey orders a batch's values by key (the hundreds), keeping their order
// within a key: sorted means each key's values rise.
func byKey(vs []int) []int {
	out := slices.Clone(vs)
	slices.SortStableFunc(out, func(a, b int) int { return a/100 - b/100 })
	return out
}

func TestChannelBackPressure(t *testing.T) {
	// A channel whose consumer is not running takes ChannelCapacity items;
	// the next send waits until there is room.
	a := &appRun{channels: map[string]*channelRun{}, stopping: make(chan struct{}), drained: make(chan struct{}, 1)}
	a.plan = &AppPlan{}
	c := newChannelRun(a, "c", nil)
	a.channels["c"] = c
	w := newWorker(a)
	d := &DestPlan{Channel: "c"}
	for i := range ChannelCapacity {
		if _, _, err := w.send(d, nil, interpInt(i)); err != nil {
			t.Fatal(err)
		}
	}
	sent := make(chan error, 1)
	go func() {
		_, _, err := w.send(d, nil, interpInt(-1))
		sent <- err
	}()
	select {
	case err := <-sent:
		t.Fatalf("a send to a full channel returned at once (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	<-c.q // room for one
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	// When the app stops for good, a waiting sender gives up.
	go func() {
		_, _, err := w.send(d, nil, interpInt(-2))
		sent <- err
	}()
	close(a.stopping)
	if err := <-sent; err == nil || !strings.Contains(err.Error(), "stopping") {
		t.Fatalf("send after stop: %v", err)
	}
}

func interpInt(i int) starlark.Value { return starlark.MakeInt(i) }
