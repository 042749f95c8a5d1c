package webview

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
)

// waitAnswer asks url until it answers want (compared as JSON). Meanwhile
// it may only answer 200 with a count still behind, or 503 while its
// partition is being recovered: never another status.
func waitAnswer(t *testing.T, ctx context.Context, url, want string) {
	t.Helper()
	var last reply
	for {
		last = get(t, url)
		if last.status == http.StatusOK && sameBody(string(last.body), want) {
			return
		}
		if last.status != http.StatusOK && last.status != http.StatusServiceUnavailable {
			t.Fatalf("GET %s: %s while waiting for %s", url, last, want)
		}
		if last.status == http.StatusServiceUnavailable && last.header.Get("Retry-After") == "" {
			t.Fatalf("GET %s: 503 without Retry-After", url)
		}
		if ctx.Err() != nil {
			t.Fatalf("GET %s: %s, want %s", url, last, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWordCountSample runs samples/word-count and asks its web view, then
// checks the endpoints every app serves.
func TestWordCountSample(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	broker := kafkatest.New(t)
	p := compile(t, load(t, "../samples/word-count"), broker, "")
	rt := startRuntime(t, ctx, p)
	s := startServer(t, rt, p.Apps[0], Options{})

	prod := kgoClient(t, broker)
	for _, line := range []string{"The quick brown fox", "the lazy dog, the END!"} {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "sentences", Value: []byte(line)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	waitAnswer(t, ctx, s.root()+"/count/the", `{"word": "the", "count": 3}`)
	waitAnswer(t, ctx, s.root()+"/count/Fox", `{"word": "fox", "count": 1}`)
	waitAnswer(t, ctx, s.root()+"/count/zebra", `{"word": "zebra", "count": 0}`)

	t.Run("metrics", func(t *testing.T) {
		r := get(t, s.root()+"/metrics")
		if r.status != http.StatusOK {
			t.Fatalf("GET /metrics: %s", r)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(bytes.NewReader(r.body))
		if err != nil {
			t.Fatalf("the metrics page does not parse: %v\n%s", err, r.body)
		}
		for _, name := range []string{
			"weir_agent_records_in_total", "weir_agent_records_out_total", "weir_agent_dead_letters_total",
			"weir_table_keys", "weir_table_recovery_applied_offset", "weir_table_recovery_target_offset", "weir_table_recovering",
			"weir_app_ready", "weir_app_leader", "weir_app_held_partitions",
			"weir_config_generation", "weir_config_info", "weir_reload_failures_total",
			"weir_code_errors_total", "weir_code_step_limit_hits_total", "weir_code_timeouts_total",
			"weir_agent_processing_seconds", "weir_partition_lag",
			"weir_webview_request_duration_seconds", "go_goroutines", "process_cpu_seconds_total",
		} {
			if fams[name] == nil {
				t.Errorf("no metric %s", name)
			}
		}
		in := map[string]float64{}
		for _, m := range fams["weir_agent_records_in_total"].GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["app"] != "word-count" {
				t.Errorf("records in of app %q", labels["app"])
			}
			in[labels["agent"]] = m.GetCounter().GetValue()
		}
		if in["split-sentences"] < 2 || in["count-words"] < 9 {
			t.Errorf("records in: %v, want at least 2 sentences and 9 words", in)
		}
		keys := 0.0
		for _, m := range fams["weir_table_keys"].GetMetric() {
			keys += m.GetGauge().GetValue()
		}
		if keys != 7 {
			t.Errorf("the table holds %v keys, want the 7 distinct words", keys)
		}
		found := false
		for _, m := range fams["weir_webview_request_duration_seconds"].GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == "/count/:word" && labels["code"] == "200" && labels["method"] == "GET" {
				found = m.GetHistogram().GetSampleCount() >= 3
			}
		}
		if !found {
			t.Errorf("no request durations of GET /count/:word 200")
		}
	})

	t.Run("status", func(t *testing.T) {
		var st status
		get(t, s.root()+"/status/").decode(t, &st)
		if st.App != "word-count" || st.ID != "word-count-app" || !st.Running || !st.Leader || st.Recovering {
			t.Errorf("status %+v", st)
		}
		if fmt.Sprint(st.Assignment.Partitions) != "[0 1 2]" {
			t.Errorf("assignment %v, want [0 1 2]", st.Assignment.Partitions)
		}
		if len(st.Tables) != 1 || st.Tables[0].Name != "word-counts" || len(st.Tables[0].Recovery) != 3 {
			t.Errorf("tables %+v", st.Tables)
		}
		if st.Config.Generation != 1 || !strings.HasPrefix(st.Config.Hash, "sha256:") {
			t.Errorf("config %+v", st.Config)
		}
		if len(st.Members) != 1 || !st.Members[0].Self || st.Members[0].URL != s.URL() {
			t.Errorf("members %+v", st.Members)
		}
	})

	t.Run("health", func(t *testing.T) {
		if r := get(t, s.root()+"/healthz"); r.status != http.StatusOK {
			t.Errorf("GET /healthz: %s", r)
		}
		waitFor(t, ctx, "/readyz to answer 200", func() bool { return get(t, s.root()+"/readyz").status == http.StatusOK })
		// A rebalance on request: the member leaves and joins again, and
		// the app is ready again once it holds its partitions.
		if r := do(t, http.MethodPost, s.root()+"/signal/rebalance", nil, nil); r.status != http.StatusAccepted {
			t.Errorf("POST /signal/rebalance: %s", r)
		}
		waitFor(t, ctx, "the member to leave and join again", func() bool { return rt.Rejoins("word-count") == 1 })
		waitFor(t, ctx, "/readyz to answer 200 after the rebalance", func() bool { return get(t, s.root()+"/readyz").status == http.StatusOK })
	})
}

// TestHTTPIngestSample posts events to samples/http-ingest: each lands on
// the topic exactly once, where the answer says, and is counted.
func TestHTTPIngestSample(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	broker := kafkatest.New(t)
	p := compile(t, load(t, "../samples/http-ingest"), broker, "")
	rt := startRuntime(t, ctx, p)
	s := startServer(t, rt, p.Apps[0], Options{MaxBodyBytes: 4096})

	type accepted struct {
		Accepted  bool  `json:"accepted"`
		Partition int32 `json:"partition"`
		Offset    int64 `json:"offset"`
	}
	sent := map[string]string{} // "partition/offset" -> event
	types := []string{"click", "view", "click", "click", "view", "click", "view", "click", "click", "view"}
	for i, typ := range types {
		ev := fmt.Sprintf(`{"type": %q, "n": %d}`, typ, i)
		r := do(t, http.MethodPost, s.root()+"/events", http.Header{"Content-Type": {"application/json"}}, []byte(ev))
		if r.status != http.StatusAccepted {
			t.Fatalf("POST /events %s: %s", ev, r)
		}
		var a accepted
		r.decode(t, &a)
		key, _ := json.Marshal(typ)
		if !a.Accepted || a.Partition != kafka.KeyPartition(key, 3) {
			t.Errorf("POST /events %s: %s, want the partition of key %s", ev, r, key)
		}
		sent[fmt.Sprintf("%d/%d", a.Partition, a.Offset)] = ev
	}
	for _, c := range []struct{ body, want string }{
		{`{"user": "u1"}`, `{"error": "field 'type' must be a non-empty string"}`},
		{`[1]`, `{"error": "body must be a JSON object"}`},
		{`not json`, `{"error": "the request body is not JSON: invalid JSON at byte 0: unexpected 'n'"}`},
	} {
		r := do(t, http.MethodPost, s.root()+"/events", nil, []byte(c.body))
		if r.status != http.StatusBadRequest || !sameBody(string(r.body), c.want) {
			t.Errorf("POST /events %s: %s, want 400 %s", c.body, r, c.want)
		}
	}
	if r := do(t, http.MethodPost, s.root()+"/events", nil, bytes.Repeat([]byte(" "), 4097)); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("POST /events with a body over the limit: %s, want 413", r)
	}

	// The topic holds each accepted event once, read read_committed.
	cl := kgoClient(t, broker, kgo.ConsumeTopics("events"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := map[string]string{}
	n := 0
	for n < len(types) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d events", n, len(types))
		}
		fs.EachRecord(func(r *kgo.Record) {
			n++
			got[fmt.Sprintf("%d/%d", r.Partition, r.Offset)] = string(r.Value)
		})
	}
	qctx, qcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	cl.PollFetches(qctx).EachRecord(func(*kgo.Record) { n++ })
	qcancel()
	if n != len(types) {
		t.Errorf("the topic holds %d events, want the %d accepted", n, len(types))
	}
	for at, ev := range sent {
		var a, b any
		_ = json.Unmarshal([]byte(ev), &a)
		if err := json.Unmarshal([]byte(got[at]), &b); err != nil || fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("at %s the topic holds %q, want %s", at, got[at], ev)
		}
	}

	waitAnswer(t, ctx, s.root()+"/events/click/count", `{"type": "click", "count": 6}`)
	waitAnswer(t, ctx, s.root()+"/events/view/count", `{"type": "view", "count": 4}`)
	waitAnswer(t, ctx, s.root()+"/events/none/count", `{"type": "none", "count": 0}`)
}
