package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const reloadManifest = `apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: hot
spec:
  bootstrapServers: localhost:9092
  config:
    topicPartitions: 1
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: tag
spec:
  input:
    topic: {name: hot-in, valueSerializer: json, declare: true}
  processors:
    pipeline: [tag]
    operations:
      - name: tag
        map:
          entrypoint: tag
          python: |
            def tag(v):
                return "TAG-%d" % v
  output:
    topics:
      - {name: hot-out, valueSerializer: string, declare: true}
`

// configMap lays a folder out as the kubelet mounts a ConfigMap: the
// files in a timestamped folder, ..data a symlink to it, and the visible
// names symlinks through ..data. update swaps ..data atomically.
type configMap struct {
	dir string
	n   int
}

func (c *configMap) update(t *testing.T, files map[string]string) {
	t.Helper()
	c.n++
	ts := fmt.Sprintf("..2026_11_22_00_00_%02d.%d", c.n, c.n)
	if err := os.Mkdir(filepath.Join(c.dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(c.dir, ts, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(c.dir, name)
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
				t.Fatal(err)
			}
		}
	}
	old, _ := os.Readlink(filepath.Join(c.dir, "..data"))
	tmp := filepath.Join(c.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if old != "" {
		if err := os.RemoveAll(filepath.Join(c.dir, old)); err != nil {
			t.Fatal(err)
		}
	}
}

// tagOf sends i and returns what the app made of it.
func tagOf(t *testing.T, ctx context.Context, cl *kgo.Client, i int, errOut *syncWriter) string {
	t.Helper()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "hot-in", Value: fmt.Appendf(nil, "%d", i)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	suffix := fmt.Sprintf("-%d", i)
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("no output for %d; stderr:\n%s", i, errOut.String())
		}
		var got string
		fs.EachRecord(func(r *kgo.Record) {
			if strings.HasSuffix(string(r.Value), suffix) {
				got = strings.TrimSuffix(string(r.Value), suffix)
			}
		})
		if got != "" {
			return got
		}
	}
}

// waitTag sends values until the app's output carries want.
func waitTag(t *testing.T, ctx context.Context, cl *kgo.Client, start int, want string, errOut *syncWriter) int {
	t.Helper()
	for i := start; ; i++ {
		if tagOf(t, ctx, cl, i, errOut) == want {
			return i + 1
		}
		if ctx.Err() != nil {
			t.Fatalf("never saw %s; stderr:\n%s", want, errOut.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDevReloadsAConfigMap: weir dev watches a ConfigMap-style folder;
// a swap with new code is picked up, a broken one is refused with its
// position and the app keeps its code, and a fix is picked up again.
func TestDevReloadsAConfigMap(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cm := &configMap{dir: t.TempDir()}
	cm.update(t, map[string]string{"app.yaml": strings.ReplaceAll(reloadManifest, "TAG", "one")})
	dev := startDev(t, ctx, cm.dir)
	addr, errOut, stop := dev.addr, dev.errOut, dev.stop
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("hot-out"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	i := waitTag(t, ctx, cl, 0, "one", errOut)

	cm.update(t, map[string]string{"app.yaml": strings.ReplaceAll(reloadManifest, "TAG", "two")})
	i = waitTag(t, ctx, cl, i, "two", errOut)

	broken := strings.Replace(strings.ReplaceAll(reloadManifest, "TAG", "three"), `return "`, `return ("`, 1)
	cm.update(t, map[string]string{"app.yaml": broken})
	for !strings.Contains(errOut.String(), "reload refused") {
		if ctx.Err() != nil {
			t.Fatalf("the broken edit was not reported; stderr:\n%s", errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out := errOut.String(); !strings.Contains(out, "app.yaml:") {
		t.Errorf("the refusal does not say where:\n%s", out)
	}
	if got := tagOf(t, ctx, cl, i, errOut); got != "two" {
		t.Errorf("after a broken edit the app runs %q, want the old code's two", got)
	}
	cm.update(t, map[string]string{"app.yaml": strings.ReplaceAll(reloadManifest, "TAG", "four")})
	waitTag(t, ctx, cl, i+1, "four", errOut)
	if code := stop(); code != exitOK {
		t.Errorf("exit %d; stderr:\n%s", code, errOut.String())
	}
}

// TestDevReloadsByPolling: with --watch poll an edit of a plain file is
// picked up.
func TestDevReloadsByPolling(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	file := filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(reloadManifest, "TAG", "one")), 0o644); err != nil {
		t.Fatal(err)
	}
	dev := startDev(t, ctx, "--watch", "poll", "--poll-interval", "100ms", dir)
	addr, errOut, stop := dev.addr, dev.errOut, dev.stop
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("hot-out"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	i := waitTag(t, ctx, cl, 0, "one", errOut)
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(reloadManifest, "TAG", "two")), 0o644); err != nil {
		t.Fatal(err)
	}
	waitTag(t, ctx, cl, i, "two", errOut)
	if code := stop(); code != exitOK {
		t.Errorf("exit %d; stderr:\n%s", code, errOut.String())
	}
}
