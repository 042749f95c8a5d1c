package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka/kafkatest"
	"github.com/weirstream/weir/spec"
)

// wordCount loads the word-count sample without its web view (served by
// package webview) for one instance.
func wordCount(t *testing.T, broker *kafkatest.Broker, client, instance string) *Plan {
	t.Helper()
	b, err := spec.Load("../samples/word-count")
	if err != nil {
		t.Fatal(err)
	}
	p := compileInstance(t, b, broker, client, instance)
	for _, a := range p.Apps {
		a.WebViews = nil
	}
	return p
}

// sentences produces n sentences of words from a small vocabulary and adds
// their words to counts.
func sentences(t *testing.T, ctx context.Context, cl *kgo.Client, rng *rand.Rand, n int, counts map[string]int) {
	t.Helper()
	vocab := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega")
	var recs []*kgo.Record
	for i := range n {
		words := make([]string, 1+rng.IntN(6))
		for j := range words {
			words[j] = vocab[rng.IntN(len(vocab))]
			counts[words[j]]++
		}
		s := strings.Join(words, " ")
		if i%3 == 0 {
			s = strings.ToUpper(s[:1]) + s[1:] + "." // case and punctuation are the sample's to undo
		}
		recs = append(recs, &kgo.Record{Topic: "sentences", Key: fmt.Appendf(nil, "s%d", rng.IntN(1000)), Value: []byte(s)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// changelogCounts reads a word-count changelog to its end (read_committed)
// and returns the last value of each word, and how many records it holds.
func changelogCounts(t *testing.T, ctx context.Context, broker *kafkatest.Broker, topic string) (map[string]int, int) {
	t.Helper()
	cl := kgoClient(t, broker, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	out := map[string]int{}
	n := 0
	for {
		qctx, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
		fs := cl.PollFetches(qctx)
		cancel()
		got := 0
		fs.EachRecord(func(r *kgo.Record) {
			got++
			var w string
			if err := json.Unmarshal(r.Key, &w); err != nil {
				t.Fatalf("changelog key %q: %v", r.Key, err)
			}
			var c int
			if err := json.Unmarshal(r.Value, &c); err != nil {
				t.Fatalf("changelog value %q: %v", r.Value, err)
			}
			out[w] = c
		})
		n += got
		if got == 0 {
			return out, n
		}
	}
}

// waitCounts waits until the changelog holds the expected counts.
func waitCounts(t *testing.T, ctx context.Context, broker *kafkatest.Broker, want map[string]int) int {
	t.Helper()
	for {
		got, n := changelogCounts(t, ctx, broker, "word-count-app-word-counts-changelog")
		if maps.Equal(got, want) {
			return n
		}
		if ctx.Err() != nil {
			var diffs []string
			for w, c := range want {
				if got[w] != c {
					diffs = append(diffs, fmt.Sprintf("%s: %d, want %d", w, got[w], c))
				}
			}
			t.Fatalf("counts never matched: %s", strings.Join(diffs, "; "))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func stopRuntime(t *testing.T, rt *Runtime) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rt.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestTablesRebalance counts words with two runtimes: the second joins in
// the middle and the first leaves later; the counts stay exact.
func TestTablesRebalance(t *testing.T) {
	for _, client := range runtimeClients {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			broker := kafkatest.New(t)
			rng := rand.New(rand.NewPCG(1, 2))
			want := map[string]int{}
			prod := kgoClient(t, broker)

			a := startRuntime(t, ctx, wordCount(t, broker, client, "a"))
			sentences(t, ctx, prod, rng, 200, want)
			waitCounts(t, ctx, broker, want)

			b := startRuntime(t, ctx, wordCount(t, broker, client, "b"))
			for range 5 {
				sentences(t, ctx, prod, rng, 60, want)
				time.Sleep(50 * time.Millisecond)
			}
			waitCounts(t, ctx, broker, want)

			// The first leaves: the second holds every table partition,
			// recovered from the changelog, and the counts go on exactly.
			stopRuntime(t, a)
			sentences(t, ctx, prod, rng, 200, want)
			waitCounts(t, ctx, broker, want)
			if ps := b.Tables(); len(ps) != 3 {
				t.Errorf("the second runtime holds table partitions %v, want all 3", ps)
			}
		})
	}
}

// TestTablesRecovery checks what a start replays: everything from an empty
// data dir, nothing when the local copy is current, only the tail another
// instance wrote meanwhile.
func TestTablesRecovery(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	broker := kafkatest.New(t)
	rng := rand.New(rand.NewPCG(3, 4))
	want := map[string]int{}
	prod := kgoClient(t, broker)

	planA := wordCount(t, broker, spec.ClientFranz, "a")
	a := startRuntime(t, ctx, planA)
	sentences(t, ctx, prod, rng, 150, want)
	waitCounts(t, ctx, broker, want)
	stopRuntime(t, a)

	// The same data dir: nothing to replay.
	a = startRuntime(t, ctx, planA)
	sentences(t, ctx, prod, rng, 10, want)
	total := waitCounts(t, ctx, broker, want)
	if n := a.Replayed(); n != 0 {
		t.Errorf("a restart with current local state replayed %d records, want 0", n)
	}
	stopRuntime(t, a)

	// Another instance with an empty data dir replays everything, then
	// writes more.
	b := startRuntime(t, ctx, wordCount(t, broker, spec.ClientFranz, "b"))
	sentences(t, ctx, prod, rng, 50, want)
	after := waitCounts(t, ctx, broker, want)
	if n := b.Replayed(); n != int64(total) {
		t.Errorf("an empty data dir replayed %d records, want all %d", n, total)
	}
	stopRuntime(t, b)

	// The first instance again: only what b wrote.
	a = startRuntime(t, ctx, planA)
	waitFor(t, ctx, "a to recover its partitions", func() bool {
		ps := a.Tables()
		return len(ps) == 3 && !ps[0].Recovering && !ps[1].Recovering && !ps[2].Recovering
	})
	if n := a.Replayed(); n != int64(after-total) {
		t.Errorf("a restart replayed %d records, want the %d written since", n, after-total)
	}
	sentences(t, ctx, prod, rng, 20, want)
	waitCounts(t, ctx, broker, want)
}

const globalApp = `
apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: shop
spec:
  bootstrapServers: localhost:9092
  config:
    topicPartitions: 3
---
apiVersion: kaspr.io/v1alpha1
kind: KasprTable
metadata:
  name: customers
spec:
  name: customers
  global: true
  keySerializer: json
  valueSerializer: json
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: register
spec:
  input:
    topic: {name: customers, keySerializer: json, valueSerializer: json, declare: true}
  processors:
    pipeline: [store]
    operations:
      - name: store
        tables: [{name: customers, paramName: customers}]
        filter:
          entrypoint: store
          python: |
            def store(c, customers):
                customers[context.event.key] = c["name"]
                return False
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: enrich
spec:
  input:
    topic: {name: orders, keySerializer: json, valueSerializer: json, declare: true}
  processors:
    pipeline: [enrich]
    operations:
      - name: enrich
        tables: [{name: customers, paramName: customers}]
        map:
          entrypoint: enrich
          python: |
            def enrich(o, customers):
                return {"order": o["id"], "customer": customers.get(o["customer"], "?")}
  output:
    topics:
      - name: enriched
        valueSerializer: json
        declare: true
`

// TestTablesGlobal: a global table written through one topic is read in
// full by both runtimes, whatever partitions they hold.
func TestTablesGlobal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	broker := kafkatest.New(t)
	b, err := spec.Parse(spec.File{Name: "shop.yaml", Data: []byte(globalApp)})
	if err != nil {
		t.Fatal(err)
	}
	rts := []*Runtime{
		startRuntime(t, ctx, compileInstance(t, b, broker, spec.ClientFranz, "a")),
		startRuntime(t, ctx, compileInstance(t, b, broker, spec.ClientFranz, "b")),
	}
	prod := kgoClient(t, broker)
	const customers = 12
	for i := range customers {
		r := &kgo.Record{Topic: "customers", Key: fmt.Appendf(nil, `"c%d"`, i), Value: fmt.Appendf(nil, `{"name": "name-%d"}`, i)}
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	for i, rt := range rts {
		waitFor(t, ctx, fmt.Sprintf("runtime %d to hold every customer", i), func() bool {
			tbl, err := rt.WebTable("shop", "customers")
			if err != nil {
				t.Fatal(err)
			}
			n, err := tbl.Len()
			return err == nil && n == customers
		})
	}
	var recs []*kgo.Record
	for i := range 60 {
		recs = append(recs, &kgo.Record{Topic: "orders", Key: fmt.Appendf(nil, `"o%d"`, i), Value: fmt.Appendf(nil, `{"id": %d, "customer": "c%d"}`, i, i%customers)})
	}
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for _, r := range readCommitted(t, ctx, broker, 60, "enriched") {
		var v struct {
			Order    int
			Customer string
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("name-%d", v.Order%customers); v.Customer != want {
			t.Errorf("order %d: customer %q, want %q", v.Order, v.Customer, want)
		}
	}
	for i, rt := range rts {
		if len(rt.Stats()) == 0 {
			t.Errorf("runtime %d: no agent figures", i)
		}
	}
}
