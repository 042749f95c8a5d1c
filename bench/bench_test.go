package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/spec"
)

// TestMain lets this test binary stand in for weir as the harness's child:
// Run starts os.Executable() with "bench --child SPEC".
func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == "bench" && os.Args[2] == ChildFlag {
		os.Exit(RunChild(os.Args[3], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestRecords(t *testing.T) {
	now := time.Now()
	for i := range 40 {
		key := orderKey(i)
		v := order(key, i, now)
		if len(v) != RecordBytes {
			t.Fatalf("record %d: %d bytes, want %d: %s", i, len(v), RecordBytes, v)
		}
		var o map[string]any
		if err := json.Unmarshal(v, &o); err != nil {
			t.Fatalf("record %d: %v: %s", i, err, v)
		}
		if o["id"] != string(key) || (o["test"] == true) != isTestOrder(i) || (o["qty"] == 0.0) != isInvalid(i) {
			t.Errorf("record %d: %s", i, v)
		}
		ts, ok := producedAt(v)
		if !ok || ts.UnixMicro() != now.UnixMicro() {
			t.Errorf("record %d: ts %v %v, want %v", i, ts, ok, now)
		}
	}
	if ts, ok := producedAt([]byte(`{"a": 1, "ts": 1700000000000001}`)); !ok || ts.UnixMicro() != 1700000000000001 {
		t.Errorf("spaced ts: %v %v", ts, ok)
	}
	for n, want := range map[int]int{1: 1, 7: 7, 8: 7, 20: 19, 28: 26, 300000: 285000} {
		if got := expectedOutputs(n); got != want {
			t.Errorf("expectedOutputs(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestParseCases(t *testing.T) {
	cs, err := ParseCases(DefaultCases)
	want := []Case{{KindPassthrough, spec.ClientFranz}, {KindApp, spec.ClientFranz}, {KindApp, spec.ClientRdkafka}, {KindCount, spec.ClientFranz}}
	if err != nil || len(cs) != len(want) {
		t.Fatalf("%v %v", cs, err)
	}
	for i := range want {
		if cs[i] != want[i] {
			t.Errorf("case %d: %v, want %v", i, cs[i], want[i])
		}
	}
	for _, bad := range []string{"", "nope", "app:kafka"} {
		if _, err := ParseCases(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestRun runs the harness end to end with a handful of records: the
// passthrough and the sample app with the default client, each in a child
// process.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var progress bytes.Buffer
	rep, err := Run(ctx, Config{
		Records:    60,
		Partitions: 2,
		Cases:      []Case{{KindPassthrough, spec.ClientFranz}, {KindApp, spec.ClientFranz}},
		App:        "../" + DefaultApp,
		Timeout:    30 * time.Second,
		Progress:   &progress,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if len(rep.Results) != 2 {
		t.Fatalf("%d results", len(rep.Results))
	}
	pass, app := rep.Results[0], rep.Results[1]
	if pass.Outputs != 60 || app.Outputs != expectedOutputs(60) {
		t.Errorf("outputs: passthrough %d, app %d", pass.Outputs, app.Outputs)
	}
	// 3 of 60 are invalid: they go to the errors topic.
	for topic, n := range app.OutputsByTopic {
		if strings.Contains(topic, "errors") && n != 3 {
			t.Errorf("%s: %d records, want 3", topic, n)
		}
	}
	for _, r := range rep.Results {
		if r.RecordsPerSecond <= 0 || r.PeakRSSBytes <= 0 || r.LatencyP99Ms < r.LatencyP50Ms || r.LatencyP50Ms <= 0 {
			t.Errorf("%+v", r)
		}
	}
	if app.Ratio <= 0 || app.RatioOf != "passthrough/franz" {
		t.Errorf("ratio %v of %q", app.Ratio, app.RatioOf)
	}
	var table, js bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "passthrough  franz") || !strings.Contains(table.String(), "target: app/franz") {
		t.Errorf("table:\n%s", table.String())
	}
	if err := rep.WriteJSON(&js); err != nil || !json.Valid(js.Bytes()) {
		t.Errorf("json: %v\n%s", err, js.String())
	}
	if testing.Verbose() {
		t.Logf("\n%s\n%s", progress.String(), table.String())
	}
}
