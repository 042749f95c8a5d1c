package control

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A follower of an app's logs (SSE) gets the recent lines, then the new
// ones as the app logs them; /logs gives the recent lines as text; a
// follower that reconnects with Last-Event-ID gets only what it missed;
// the stream ends when the app is deleted.
func TestFollowLogs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	e := start(t, ctx, envOptions{})
	e.must(http.StatusCreated, "POST", "/api/v1/apps", "application/yaml", []byte(tally(t, "one")))
	cl := e.client("tally-out")
	e.roundTrip(cl, "tally-in", "first")

	f := e.follow("/api/v1/apps/tally/logs?follow=true")
	seen := f.until(t, "counted first 1")

	// A new line, logged after the follower came.
	e.roundTrip(cl, "tally-in", "second")
	ev := f.until(t, "counted second 1")
	if n, _ := strconv.Atoi(ev.id); n <= 0 {
		t.Fatalf("event id %q", ev.id)
	}

	text := e.must(http.StatusOK, "GET", "/api/v1/apps/tally/logs", "", nil)
	if !strings.Contains(string(text.body), "counted first 1") || !strings.Contains(string(text.body), "counted second 1") {
		t.Fatalf("/logs:\n%s", text.body)
	}
	last := e.must(http.StatusOK, "GET", "/api/v1/apps/tally/logs?tail=1", "", nil)
	if strings.Count(string(last.body), "\n") != 1 {
		t.Fatalf("/logs?tail=1:\n%s", last.body)
	}

	// Reconnected after the first line: the second comes, the first not.
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/api/v1/apps/tally/logs", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Last-Event-ID", seen.id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	again := &sse{resp: resp, r: bufio.NewReader(resp.Body)}
	ev, err = again.next()
	if err != nil || strings.Contains(ev.data, "counted first") {
		t.Fatalf("after Last-Event-ID %s: %+v %v", seen.id, ev, err)
	}

	// Deleted: the stream ends with an end event.
	e.must(http.StatusOK, "DELETE", "/api/v1/apps/tally", "", nil)
	for {
		ev, err := f.next()
		if err != nil {
			t.Fatalf("the stream after the delete: %v", err)
		}
		if ev.name == "end" {
			break
		}
	}
}

// The handler keeps lines by the "app" attribute, given to the record or
// through With, and passes everything on.
func TestLogsHandler(t *testing.T) {
	l := NewLogs(3)
	var out strings.Builder
	log := slog.New(l.Handler(slog.NewTextHandler(&out, nil)))
	log.Info("no app")
	log.Info("one", "app", "a", "n", 1)
	log.With("app", "b").WithGroup("g").Info("two words", "k", "v w")
	log.With("x", 1).Warn("three", "app", "a", "err", errors.New("boom"))
	log.WithGroup("g").Info("not an app's", "app", "c")
	if got := strings.Count(out.String(), "\n"); got != 5 {
		t.Fatalf("passed on %d records, want 5:\n%s", got, out.String())
	}
	lines := func(app string) []string {
		var s []string
		for _, ln := range l.Recent(app, 0, 0) {
			_, rest, _ := strings.Cut(ln.Text, " ") // the time
			s = append(s, rest)
		}
		return s
	}
	if got := lines("a"); len(got) != 2 || got[0] != "INFO one n=1" || got[1] != "WARN three x=1 err=boom" {
		t.Fatalf("app a: %q", got)
	}
	if got := lines("b"); len(got) != 1 || got[0] != `INFO "two words" g.k="v w"` {
		t.Fatalf("app b: %q", got)
	}
	if got := lines("c"); got != nil {
		t.Fatalf("an app attribute in a group counted: %q", got)
	}
	for i := range 5 {
		log.Info("more", "app", "a", "i", i)
	}
	got := l.Recent("a", 0, 0)
	if len(got) != 3 || got[0].Seq != 5 || got[2].Seq != 7 {
		t.Fatalf("the ring of 3 after 7 lines: %+v", got)
	}
	if got := l.Recent("a", 6, 0); len(got) != 1 || got[0].Seq != 7 {
		t.Fatalf("after 6: %+v", got)
	}
	// A follower that does not read is dropped, not waited for.
	_, f, cancel := l.Follow("a", 0, 0)
	defer cancel()
	for i := range followerBuffer + 1 {
		log.Info("flood", "app", "a", "i", i)
	}
	for range f.ch {
	}
	if overflow, _ := l.reason(f); !overflow {
		t.Fatal("the slow follower was not dropped")
	}
}
