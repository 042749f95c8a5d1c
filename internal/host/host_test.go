package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
	"github.com/weirstream/weir/spec"
)

const app = `apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: NAME
spec:
  bootstrapServers: localhost:9092
  config:
    topicPartitions: 1
    webPort: PORT
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: NAME-agent
  labels:
    kaspr.io/app: NAME
spec:
  input:
    topic: {name: NAME-in, valueSerializer: json, declare: true}
  processors:
    pipeline: [tag]
    operations:
      - name: tag
        map:
          entrypoint: tag
          python: |
            def tag(v):
                return {"v": v, "tag": "TAG"}
  output:
    topics:
      - {name: NAME-out, valueSerializer: json, declare: true}
`

func manifest(name, tag string) string {
	// Not served in this test: the ports only need to differ.
	port := map[string]string{"a": "16001", "b": "16002"}[name]
	return strings.NewReplacer("NAME", name, "TAG", tag, "PORT", port).Replace(app)
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// roundTrip sends a value to an app and returns the tag of its output.
func roundTrip(t *testing.T, ctx context.Context, cl *kgo.Client, name string, i int) string {
	t.Helper()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: name + "-in", Value: fmt.Appendf(nil, "%d", i)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"v":%d,`, i)
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("no output for %d", i)
		}
		var tag string
		fs.EachRecord(func(r *kgo.Record) {
			if strings.HasPrefix(string(r.Value), want) {
				tag = strings.TrimSuffix(strings.SplitN(string(r.Value), `"tag":"`, 2)[1], `"}`)
			}
		})
		if tag != "" {
			return tag
		}
	}
}

func TestReload(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	broker := kafkatest.New(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yaml"), manifest("a", "one"))
	h := New(Options{
		Paths:   []string{dir},
		Compile: engine.Options{DataDir: t.TempDir(), Env: func(string) string { return "" }},
		Adjust: func(b *spec.Bundle) {
			for _, a := range b.Apps {
				a.App.Spec.BootstrapServers = strings.Join(broker.Addrs(), ",")
			}
		},
		AdjustPlan: OneBroker,
	})
	rt, err := h.Start(ctx, engine.RuntimeOptions{CommitInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rt.Stop(context.Background()) }()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...), kgo.ConsumeTopics("a-out", "b-out"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if tag := roundTrip(t, ctx, cl, "a", 1); tag != "one" {
		t.Fatalf("tag %q", tag)
	}

	// An edit of the code: swapped in.
	write(t, filepath.Join(dir, "a.yaml"), manifest("a", "two"))
	if err := h.Reload(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if tag := roundTrip(t, ctx, cl, "a", 2); tag != "two" {
		t.Fatalf("after the edit: tag %q", tag)
	}
	gen, _ := rt.Generation()

	// A broken edit: refused with its position, the app goes on.
	write(t, filepath.Join(dir, "a.yaml"), strings.Replace(manifest("a", "three"), "return {", "return {{", 1))
	err = h.Reload(ctx, "test")
	if err == nil || !strings.Contains(err.Error(), "a.yaml:") {
		t.Fatalf("broken edit: %v; want an error at a.yaml:line", err)
	}
	if h.LastError() == nil || h.Failures() != 1 {
		t.Fatalf("last error %v, failures %d", h.LastError(), h.Failures())
	}
	if last, n := rt.ReloadStatus(); !strings.Contains(last, "a.yaml:") || n != 1 {
		t.Fatalf("the runtime's reload status: %q, %d failures", last, n)
	}
	if g, _ := rt.Generation(); g != gen {
		t.Fatalf("generation %d after a refused edit, want %d", g, gen)
	}
	if tag := roundTrip(t, ctx, cl, "a", 3); tag != "two" {
		t.Fatalf("after the broken edit: tag %q, want the old code's", tag)
	}

	// Fixed, plus a new app in a new file: started.
	write(t, filepath.Join(dir, "a.yaml"), manifest("a", "three"))
	write(t, filepath.Join(dir, "b.yaml"), manifest("b", "bee"))
	if err := h.Reload(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if h.LastError() != nil {
		t.Fatal("the last error stays after a good reload")
	}
	if last, n := rt.ReloadStatus(); last != "" || n != 1 {
		t.Fatalf("after a good reload the runtime's reload status is %q, %d failures", last, n)
	}
	if tag := roundTrip(t, ctx, cl, "b", 4); tag != "bee" {
		t.Fatalf("new app: tag %q", tag)
	}
	if tag := roundTrip(t, ctx, cl, "a", 5); tag != "three" {
		t.Fatalf("after the fix: tag %q", tag)
	}

	// The new app's file removed: stopped.
	if err := os.Remove(filepath.Join(dir, "b.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := h.Reload(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if rt.Running("b") || !rt.Running("a") {
		t.Fatalf("after removing b.yaml: b running %v, a running %v", rt.Running("b"), rt.Running("a"))
	}
}
