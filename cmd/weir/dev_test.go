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
	dev := startDev(t, ctx, "../../samples/enrich-and-route")
	defer dev.stop()
	addr, errOut := dev.addr, dev.errOut

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
	if code := dev.stop(); code != exitOK {
		t.Errorf("exit %d; stderr:\n%s", code, errOut.String())
	}
	if out := errOut.String(); !strings.Contains(out, "msg=stopped") {
		t.Errorf("no clean stop logged:\n%s", out)
	}
}

// devRun is a weir dev started by startDev.
type devRun struct {
	addr   string      // the embedded broker's
	errOut *syncWriter // its stderr so far
	lines  chan string // what it prints after the broker's address
	stop   func() int  // stops it and returns its exit code
}

// startDev runs weir dev (free web ports, no control API) with args and
// waits for the broker address it prints first.
func startDev(t *testing.T, ctx context.Context, args ...string) *devRun {
	t.Helper()
	runCtx, cancel := context.WithCancel(ctx)
	outR, outW := io.Pipe()
	d := &devRun{errOut: &syncWriter{b: &strings.Builder{}}, lines: make(chan string, 16)}
	exit := make(chan int, 1)
	go func() {
		code := runAppsContext(runCtx, "dev", append([]string{"--data-dir", t.TempDir(), "--web-port", "0", "--api-addr", "off"}, args...), outW, d.errOut, true)
		outW.Close()
		exit <- code
	}()
	var once sync.Once
	code := 0
	d.stop = func() int {
		once.Do(func() { cancel(); code = <-exit })
		return code
	}
	out := bufio.NewScanner(outR)
	if !out.Scan() {
		d.stop()
		t.Fatalf("no broker address printed; stderr:\n%s", d.errOut.String())
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(out.Text()), "weir dev: embedded broker at ")
	if !ok {
		d.stop()
		t.Fatalf("first line %q", out.Text())
	}
	d.addr = addr
	go func() {
		for out.Scan() {
			select {
			case d.lines <- out.Text():
			default: // nobody reads: drop
			}
		}
		io.Copy(io.Discard, outR)
	}()
	return d
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
