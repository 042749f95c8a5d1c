package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka/kafkatest"
	"github.com/weirstream/weir/spec"
)

var runtimeClients = []string{spec.ClientFranz, spec.ClientRdkafka}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(&testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// compileForBroker points a loaded bundle's apps at the broker, with the
// given client, and compiles it.
func compileForBroker(t *testing.T, b *spec.Bundle, broker *kafkatest.Broker, client string) *Plan {
	t.Helper()
	return compileInstance(t, b, broker, client, "")
}

// compileInstance compiles as compileForBroker does, for one instance of
// the apps (its own instance id and data dir).
func compileInstance(t *testing.T, b *spec.Bundle, broker *kafkatest.Broker, client, instance string) *Plan {
	t.Helper()
	for _, a := range b.Apps {
		a.App.Spec.BootstrapServers = strings.Join(broker.Addrs(), ",")
		a.App.Spec.Config.KafkaClient = client
		a.App.Spec.Config.TopicReplicationFactor = 1
	}
	p, err := Compile(b, Options{Env: func(string) string { return "" }, DataDir: t.TempDir(), InstanceID: instance})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range p.Apps {
		for i := range a.Topics {
			a.Topics[i].ReplicationFactor = 1
		}
		// Keep the instance's transactional id, but not static membership:
		// a static member that stops holds its partitions until its session
		// times out, which tests would wait for.
		a.InstanceID = ""
		// Members learn of a rebalance at their next heartbeat.
		if a.Kafka.Extra == nil {
			a.Kafka.Extra = map[string]string{}
		}
		a.Kafka.Extra["heartbeat.interval.ms"] = "100"
	}
	return p
}

// startRuntime starts a runtime on the plan and stops it at the end of the
// test.
func startRuntime(t *testing.T, ctx context.Context, p *Plan) *Runtime {
	t.Helper()
	rt := NewRuntime(p, RuntimeOptions{Logger: testLogger(t), CommitInterval: 50 * time.Millisecond, Workers: 4})
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := rt.Stop(sctx); err != nil {
			t.Error("stop:", err)
		}
	})
	return rt
}

// startManifest runs one manifest on a new broker with the given client.
func startManifest(t *testing.T, ctx context.Context, client, name, src string) (*kafkatest.Broker, *Plan) {
	t.Helper()
	broker := kafkatest.New(t)
	b, err := spec.Parse(spec.File{Name: name, Data: []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	p := compileForBroker(t, b, broker, client)
	startRuntime(t, ctx, p)
	return broker, p
}

func kgoClient(t *testing.T, b *kafkatest.Broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addrs()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// readCommitted reads topics with a read_committed consumer until n records
// came, then until none more comes for a moment (to see duplicates).
func readCommitted(t *testing.T, ctx context.Context, b *kafkatest.Broker, n int, topics ...string) []*kgo.Record {
	t.Helper()
	cl := kgoClient(t, b, kgo.ConsumeTopics(topics...), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("got %d records of %d before the timeout", len(out), n)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	for {
		qctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := cl.PollFetches(qctx)
		cancel()
		got := 0
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r); got++ })
		if got == 0 {
			return out
		}
	}
}

func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

func TestRuntimeEnrichAndRoute(t *testing.T) {
	for _, client := range runtimeClients {
		t.Run(client, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			broker := kafkatest.New(t)
			b, err := spec.Load("../samples/enrich-and-route")
			if err != nil {
				t.Fatal(err)
			}
			p := compileForBroker(t, b, broker, client)
			startRuntime(t, ctx, p)

			// Each order's expected fate, by id.
			const n = 120
			type want struct{ topic, key, status string }
			wants := map[string]want{}
			dead := map[string]bool{}
			prod := kgoClient(t, broker)
			var recs []*kgo.Record
			for i := range n {
				id := fmt.Sprintf("o%03d", i)
				var value string
				switch {
				case i%10 == 0: // a test order: dropped
					value = fmt.Sprintf(`{"id":%q,"qty":1,"price":2,"test":true}`, id)
				case i%10 == 3: // invalid quantity
					value = fmt.Sprintf(`{"id":%q,"qty":-1,"price":2}`, id)
					wants[id] = want{"orders-errors", id, "invalid"}
				case i%10 == 7: // not an object: reported without an id
					value = fmt.Sprintf(`"raw-%s"`, id)
					wants["raw-"+id] = want{"orders-errors", "", "invalid"}
				case i%20 == 9: // not JSON: a dead letter
					value = "not json " + id
					dead[id] = true
				default:
					value = fmt.Sprintf(`{"id":%q,"qty":%d,"price":1.5}`, id, i%5+1)
					wants[id] = want{"orders-enriched", id, "ok"}
				}
				recs = append(recs, &kgo.Record{Topic: "orders-raw", Key: []byte(id), Value: []byte(value)})
			}
			if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}

			got := readCommitted(t, ctx, broker, len(wants), "orders-enriched", "orders-errors")
			seen := map[string]bool{}
			for _, r := range got {
				var v map[string]any
				if err := json.Unmarshal(r.Value, &v); err != nil {
					t.Fatalf("%s: %q: %v", r.Topic, r.Value, err)
				}
				id, _ := v["id"].(string)
				if raw, ok := v["raw"].(string); ok {
					id = raw
				}
				w, ok := wants[id]
				if !ok {
					t.Errorf("unexpected record %s %s=%s", r.Topic, r.Key, r.Value)
					continue
				}
				if seen[id] {
					t.Errorf("duplicate %s", id)
				}
				seen[id] = true
				if r.Topic != w.topic || string(r.Key) != w.key || v["status"] != w.status {
					t.Errorf("%s: got %s key %q status %v, want %s key %q status %s", id, r.Topic, r.Key, v["status"], w.topic, w.key, w.status)
				}
				if w.status == "ok" && (v["currency"] != "EUR" || v["total"] == nil) {
					t.Errorf("%s: not enriched: %s", id, r.Value)
				}
			}
			for id := range wants {
				if !seen[id] {
					t.Errorf("missing %s", id)
				}
			}

			dl := readCommitted(t, ctx, broker, len(dead), p.Apps[0].Agents[0].DeadLetterTopic)
			for _, r := range dl {
				if !dead[string(r.Key)] {
					t.Errorf("unexpected dead letter %s=%s", r.Key, r.Value)
				}
				delete(dead, string(r.Key))
				if op, _ := header(r, HeaderOperation); op != "spec.input.topic.valueSerializer" {
					t.Errorf("dead letter %s: operation %q", r.Key, op)
				}
			}
			if len(dead) > 0 {
				t.Errorf("missing dead letters: %v", dead)
			}
		})
	}
}

const failingApp = `
apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: fail
spec:
  bootstrapServers: localhost:9092
  config:
    topicPartitions: 2
    topicReplicationFactor: 1
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: divide
  labels:
    kaspr.io/app: fail
spec:
  input:
    topic:
      name: numbers
      keySerializer: string
      valueSerializer: json
      declare: true
  processors:
    pipeline: [divide]
    operations:
      - name: divide
        map:
          entrypoint: divide
          python: |
            def divide(v):
                return {"n": v["n"], "q": 100 // (v["n"] % 3)}
  output:
    topics:
      - name: quotients
        keySerializer: string
        valueSerializer: json
        declare: true
`

func TestRuntimeDeadLetters(t *testing.T) {
	for _, client := range runtimeClients {
		t.Run(client, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			broker, p := startManifest(t, ctx, client, "fail.yaml", failingApp)

			const n = 30
			prod := kgoClient(t, broker)
			var recs []*kgo.Record
			for i := range n {
				recs = append(recs, &kgo.Record{
					Topic: "numbers", Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf(`{"n":%d}`, i)),
					Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("test")}},
				})
			}
			if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			failing := n / 3
			out := readCommitted(t, ctx, broker, n-failing, "quotients")
			seen := map[string]bool{}
			for _, r := range out {
				var v struct{ N, Q int }
				if err := json.Unmarshal(r.Value, &v); err != nil {
					t.Fatal(err)
				}
				if v.N%3 == 0 || seen[string(r.Key)] || string(r.Key) != fmt.Sprint(v.N) || v.Q != 100/(v.N%3) {
					t.Errorf("unexpected output %s=%s", r.Key, r.Value)
				}
				seen[string(r.Key)] = true
			}
			if len(seen) != n-failing {
				t.Errorf("got %d outputs, want %d", len(seen), n-failing)
			}

			dlt := p.Apps[0].Agents[0].DeadLetterTopic
			if dlt != "fail-app-divide-dead-letters" {
				t.Errorf("dead-letter topic %q", dlt)
			}
			dl := readCommitted(t, ctx, broker, failing, dlt)
			dseen := map[string]bool{}
			for _, r := range dl {
				var v struct{ N int }
				if err := json.Unmarshal(r.Value, &v); err != nil || v.N%3 != 0 || string(r.Key) != fmt.Sprint(v.N) || dseen[string(r.Key)] {
					t.Errorf("unexpected dead letter %s=%s", r.Key, r.Value)
					continue
				}
				dseen[string(r.Key)] = true
				if o, _ := header(r, "origin"); o != "test" {
					t.Errorf("%s: the input's headers are lost", r.Key)
				}
				if e, _ := header(r, HeaderError); !strings.Contains(e, "division by zero") && !strings.Contains(e, "zero") {
					t.Errorf("%s: weir-error %q", r.Key, e)
				}
				if op, _ := header(r, HeaderOperation); op != "divide" {
					t.Errorf("%s: weir-operation %q", r.Key, op)
				}
				if st, _ := header(r, HeaderSourceTopic); st != "numbers" {
					t.Errorf("%s: weir-source-topic %q", r.Key, st)
				}
				sp, ok1 := header(r, HeaderSourcePartition)
				so, ok2 := header(r, HeaderSourceOffset)
				if !ok1 || !ok2 || (sp != "0" && sp != "1") || so == "" {
					t.Errorf("%s: source partition %q offset %q", r.Key, sp, so)
				}
			}
			if len(dseen) != failing {
				t.Errorf("got %d dead letters, want %d", len(dseen), failing)
			}
		})
	}
}

func TestRuntimeRefusesUnsupported(t *testing.T) {
	p := &Plan{Apps: []*AppPlan{{
		Name:   "x",
		Tables: []*TablePlan{{Name: "counts"}},
		Joins:  []*JoinPlan{{Name: "j"}},
		Tasks:  []*TaskPlan{{Name: "tick", Ops: []OpPlan{{Name: "count", Tables: []TableArg{{Name: "counts"}}}}}},
	}}}
	rt := NewRuntime(p, RuntimeOptions{Logger: testLogger(t)})
	err := rt.Start(context.Background())
	if err == nil {
		t.Fatal("Start accepted a plan with tables and joins")
	}
	for _, s := range []string{"not yet supported", "join j", "task tick: operation count uses tables"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}
