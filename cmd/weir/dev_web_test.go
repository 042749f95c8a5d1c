package main

import (
	"context"
	"encoding/json"
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
	dev := startDev(t, ctx, "../../samples/word-count")
	defer dev.stop()
	addr, errOut := dev.addr, dev.errOut
	var line string
	select {
	case line = <-dev.lines:
	case <-ctx.Done():
		t.Fatalf("no web server printed; stderr:\n%s", errOut.String())
	}
	web, ok := strings.CutPrefix(strings.TrimSpace(line), "weir dev: app word-count serves ")
	if !ok {
		t.Fatalf("second line %q", line)
	}

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
	if code := dev.stop(); code != exitOK {
		t.Errorf("exit %d; stderr:\n%s", code, errOut.String())
	}
	if out := errOut.String(); !strings.Contains(out, "msg=stopped") {
		t.Errorf("no clean stop logged:\n%s", out)
	}
}
