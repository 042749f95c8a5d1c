package webview

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
)

// readTopic reads a topic read_committed until n records came, then until
// none more comes for a moment (to see duplicates).
func readTopic(t *testing.T, ctx context.Context, broker *kafkatest.Broker, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := kgoClient(t, broker, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: read %d records of %d", topic, len(out), n)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	qctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	cl.PollFetches(qctx).EachRecord(func(r *kgo.Record) { out = append(out, r) })
	return out
}

// TestSends checks a web view's sends: to a channel an agent consumes, and
// to a topic with its key, headers and acknowledgement.
func TestSends(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	broker := kafkatest.New(t)
	p := compile(t, load(t, "testdata/relay"), broker, "")
	rt := startRuntime(t, ctx, p)
	s := startServer(t, rt, p.Apps[0], Options{})

	r := do(t, http.MethodPost, s.root()+"/queue", nil, []byte(`{"n": 1}`))
	if r.status != http.StatusAccepted || !sameBody(string(r.body), `{"channel": "queue"}`) {
		t.Errorf("POST /queue: %s", r)
	}
	recs := readTopic(t, ctx, broker, "relayed", 1)
	if len(recs) != 1 || !sameBody(string(recs[0].Value), `{"item": {"n": 1}, "relayed": true}`) {
		t.Errorf("relayed holds %d records, the first %q", len(recs), recs[0].Value)
	}

	r = do(t, http.MethodPost, s.root()+"/direct/u7", nil, []byte(`{"x": [1]}`))
	var meta struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
		Offset    int64  `json:"offset"`
	}
	r.decode(t, &meta)
	if r.status != http.StatusCreated || meta.Topic != "direct" || meta.Offset != 0 {
		t.Errorf("POST /direct/u7: %s", r)
	}
	recs = readTopic(t, ctx, broker, "direct", 1)
	if len(recs) != 1 {
		t.Fatalf("direct holds %d records, want 1", len(recs))
	}
	rec := recs[0]
	if string(rec.Key) != `"u7"` || !sameBody(string(rec.Value), `{"user": "u7", "body": {"x": [1]}}`) ||
		rec.Partition != meta.Partition || len(rec.Headers) != 1 || rec.Headers[0].Key != "source" || string(rec.Headers[0].Value) != "web" {
		t.Errorf("direct holds %+v", rec)
	}
}

// TestWebViewOnlyApp runs an app the runtime does not run: its server
// declares its topic and sends the body, as it is, once.
func TestWebViewOnlyApp(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	broker := kafkatest.New(t)
	p := compile(t, load(t, "testdata/ingest-only"), broker, "")
	rt := startRuntime(t, ctx, p)
	s := startServer(t, rt, p.Apps[0], Options{})
	body := []byte("not \xff UTF-8")
	r := do(t, http.MethodPost, s.root()+"/raw", nil, body)
	if r.status != http.StatusAccepted || !sameBody(string(r.body), `{"topic": "raw-in", "partition": 0, "offset": 0}`) {
		t.Errorf("POST /raw: %s", r)
	}
	recs := readTopic(t, ctx, broker, "raw-in", 1)
	if len(recs) != 1 || !bytes.Equal(recs[0].Value, body) {
		t.Errorf("raw-in holds %d records, the first %q", len(recs), recs[0].Value)
	}
	if r := get(t, s.root()+"/readyz"); r.status != http.StatusOK {
		t.Errorf("GET /readyz: %s", r)
	}
}

// TestSafeDefaults: a handler that outlives its deadline answers 503, CORS
// is off, and a runtime that does not run answers 503 at /readyz with
// the reason.
func TestSafeDefaults(t *testing.T) {
	t.Parallel()
	p := compile(t, load(t, "testdata/slow"), nil, "")
	rt := engine.NewRuntime(p, engine.RuntimeOptions{Logger: testLogger(t)})
	s := startServer(t, rt, p.Apps[0], Options{HandlerTimeout: 20 * time.Millisecond})
	r := do(t, http.MethodGet, s.root()+"/spin", http.Header{"Origin": {"http://example.com"}}, nil)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("GET /spin: %s, want 503 with Retry-After", r)
	}
	if h := r.header.Get("Access-Control-Allow-Origin"); h != "" {
		t.Errorf("Access-Control-Allow-Origin %q with CORS off", h)
	}
	r = get(t, s.root()+"/readyz")
	var ready struct {
		Ready   bool     `json:"ready"`
		Reasons []string `json:"reasons"`
	}
	r.decode(t, &ready)
	if r.status != http.StatusServiceUnavailable || ready.Ready || len(ready.Reasons) != 1 || ready.Reasons[0] != "not running" {
		t.Errorf("GET /readyz of a runtime that does not run: %s", r)
	}
	if r := get(t, s.root()+"/healthz"); r.status != http.StatusOK {
		t.Errorf("GET /healthz: %s", r)
	}
}
