package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestDevRunsASample is the quickstart: weir dev starts its broker, runs the
// enrich-and-route sample on it, and stops cleanly when told to.
func TestDevRunsASample(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	outR, outW := io.Pipe()
	var stderr strings.Builder
	errOut := &syncWriter{b: &stderr}
	exit := make(chan int, 1)
	go func() {
		code := runAppsContext(runCtx, "dev", []string{"--data-dir", t.TempDir(), "--web-port", "0", "--api-addr", "off", "../../samples/enrich-and-route"}, outW, errOut, true)
		outW.Close()
		exit <- code
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("no broker address printed (%v); stderr:\n%s", err, errOut.String())
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "weir dev: embedded broker at ")
	if !ok {
		t.Fatalf("first line %q", line)
	}
	go io.Copy(io.Discard, outR)

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("orders-enriched"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const n = 20
	for i := range n {
		order := fmt.Sprintf(`{"id": "o-%d", "customer": "c", "qty": 2, "price": 1.5}`, i)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders-raw", Value: []byte(order)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for len(seen) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("saw %d of %d enriched orders; stderr:\n%s", len(seen), n, errOut.String())
		}
		fs.EachRecord(func(r *kgo.Record) {
			var v struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			}
			if err := json.Unmarshal(r.Value, &v); err != nil || v.Status != "ok" {
				t.Errorf("enriched record %s: %v", r.Value, err)
			}
			if seen[v.ID] {
				t.Errorf("%s seen twice", v.ID)
			}
			seen[v.ID] = true
		})
	}
	stop()
	if code := <-exit; code != exitOK {
		t.Errorf("exit %d; stderr:\n%s", code, errOut.String())
	}
	if out := errOut.String(); !strings.Contains(out, "msg=stopped") {
		t.Errorf("no clean stop logged:\n%s", out)
	}
}

// syncWriter lets the runtime's goroutines log into one builder.
type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
