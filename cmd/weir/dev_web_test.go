package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestDevServesWordCount runs samples/word-count on weir dev with a free
// web port, feeds it sentences and asks its web view over HTTP.
func TestDevServesWordCount(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	outR, outW := io.Pipe()
	var stderr strings.Builder
	errOut := &syncWriter{b: &stderr}
	exit := make(chan int, 1)
	go func() {
		code := runAppsContext(runCtx, "dev", []string{"--data-dir", t.TempDir(), "--web-port", "0", "--api-addr", "off", "../../samples/word-count"}, outW, errOut, true)
		outW.Close()
		exit <- code
	}()
	out := bufio.NewReader(outR)
	line, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("no broker address printed (%v); stderr:\n%s", err, errOut.String())
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "weir dev: embedded broker at ")
	if !ok {
		t.Fatalf("first line %q", line)
	}
	line, err = out.ReadString('\n')
	if err != nil {
		t.Fatalf("no web server printed (%v); stderr:\n%s", err, errOut.String())
	}
	web, ok := strings.CutPrefix(strings.TrimSpace(line), "weir dev: app word-count serves ")
	if !ok {
		t.Fatalf("second line %q", line)
	}
	go io.Copy(io.Discard, outR)

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, s := range []string{"The quick brown fox", "the lazy dog, the END!"} {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "sentences", Value: []byte(s)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	type count struct {
		Word  string `json:"word"`
		Count int    `json:"count"`
	}
	var got count
	for got.Count != 3 {
		if ctx.Err() != nil {
			t.Fatalf("GET /count/THE answered %+v, want 3; stderr:\n%s", got, errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
		resp, err := http.Get(web + "/count/THE")
		if err != nil {
			t.Fatal(err)
		}
		status := resp.StatusCode
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		switch {
		case status == http.StatusServiceUnavailable:
			continue // its partition is being recovered
		case status != http.StatusOK || err != nil:
			t.Fatalf("GET /count/THE: %d %v", status, err)
		}
		if got.Word != "the" {
			t.Fatalf("GET /count/THE answered %+v", got)
		}
	}
	if resp, err := http.Get(web + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	stop()
	if code := <-exit; code != exitOK {
		t.Errorf("exit %d; stderr:\n%s", code, errOut.String())
	}
	if out := errOut.String(); !strings.Contains(out, "msg=stopped") {
		t.Errorf("no clean stop logged:\n%s", out)
	}
}
