package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
	"github.com/weirstream/weir/internal/host"
	"github.com/weirstream/weir/spec"
)

// env is a running weir as weir run makes it: a host over a folder, its
// runtime, and the control API on a free loopback port.
type env struct {
	t       *testing.T
	ctx     context.Context
	broker  *kafkatest.Broker
	folder  string // the watched folder ("": none)
	dataDir string
	token   string
	h       *host.Host
	rt      *engine.Runtime
	s       *Server
	logs    *Logs
	url     string
}

type envOptions struct {
	folder  string // the watched folder (tests do not change it)
	dataDir string // "": a new one
	token   string
	broker  *kafkatest.Broker // nil: a new one
}

// start starts a host, its runtime and the control API; they stop at
// the end of the test (or at stop).
func start(t *testing.T, ctx context.Context, o envOptions) *env {
	t.Helper()
	e := &env{t: t, ctx: ctx, broker: o.broker, dataDir: o.dataDir, token: o.token}
	if e.broker == nil {
		e.broker = kafkatest.New(t)
	}
	if e.dataDir == "" {
		e.dataDir = t.TempDir()
	}
	var paths []string
	if o.folder != "" {
		e.folder = o.folder
		paths = []string{e.folder}
	}
	e.logs = NewLogs(0)
	log := slog.New(e.logs.Handler(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})))
	addrs := strings.Join(e.broker.Addrs(), ",")
	e.h = host.New(host.Options{
		Paths:      paths,
		AllowEmpty: true,
		Logger:     log,
		Compile: engine.Options{DataDir: e.dataDir, Env: func(string) string { return "" },
			Print: func(app string, pos spec.Pos, msg string) { log.Info(msg, "app", app, "at", pos.String()) }},
		Adjust: func(b *spec.Bundle) {
			for _, a := range b.Apps {
				a.App.Spec.BootstrapServers = addrs
			}
		},
		AdjustPlan: host.OneBroker,
	})
	s, err := New(e.h, Options{Addr: "127.0.0.1:0", Token: o.token, DataDir: e.dataDir, Logs: e.logs, Logger: log, SampleInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	rt, err := e.h.Start(ctx, engine.RuntimeOptions{Logger: log, CommitInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.rt = rt
	if err := s.Start(ctx); err != nil {
		_ = rt.Stop(context.Background())
		t.Fatal(err)
	}
	e.url = s.URL()
	t.Cleanup(e.stop)
	return e
}

// stop stops the API and the runtime, as weir run does: the API first.
func (e *env) stop() {
	if e.s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.s.Stop(ctx); err != nil {
		e.t.Errorf("stopping the control API: %v", err)
	}
	if err := e.rt.Stop(ctx); err != nil {
		e.t.Errorf("stopping the runtime: %v", err)
	}
	e.s = nil
}

// tally is the API test app, its output tagged with tag.
func tally(t *testing.T, tag string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/tally.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "TAG", tag)
}

// reply is an HTTP answer, read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (a reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d %s: not JSON: %v", a.status, a.body, err)
	}
}

// do sends a request with the env's token, if any.
func (e *env) do(method, path, contentType string, body []byte) reply {
	e.t.Helper()
	return e.doWith(method, path, contentType, body, e.token)
}

func (e *env) doWith(method, path, contentType string, body []byte, token string) reply {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

// must sends a request and fails the test unless the status is want.
func (e *env) must(want int, method, path, contentType string, body []byte) reply {
	e.t.Helper()
	a := e.do(method, path, contentType, body)
	if a.status != want {
		e.t.Fatalf("%s %s: %d %s; want %d", method, path, a.status, a.body, want)
	}
	return a
}

// waitState polls an app's state until it is want.
func (e *env) waitState(id, want string) {
	e.t.Helper()
	for {
		a := e.do("GET", "/api/v1/apps/"+id+"/status", "", nil)
		var st appStatus
		if a.status == http.StatusOK {
			a.json(e.t, &st)
			if st.State == want {
				return
			}
		}
		select {
		case <-e.ctx.Done():
			e.t.Fatalf("app %s: never %s; last answer %d %s", id, want, a.status, a.body)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// client is a franz client reading committed output.
func (e *env) client(topics ...string) *kgo.Client {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.broker.Addrs()...), kgo.ConsumeTopics(topics...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(cl.Close)
	return cl
}

// roundTrip sends v to topic in and returns the first output of out whose
// "v" is v, decoded.
func (e *env) roundTrip(cl *kgo.Client, in string, v string) map[string]any {
	e.t.Helper()
	return e.roundTripTo(cl, in, v, func(map[string]any) bool { return true })
}

// roundTripTo is roundTrip for the first output of v that ok accepts.
func (e *env) roundTripTo(cl *kgo.Client, in string, v string, ok func(map[string]any) bool) map[string]any {
	e.t.Helper()
	if err := cl.ProduceSync(e.ctx, &kgo.Record{Topic: in, Value: []byte(`"` + v + `"`)}).FirstErr(); err != nil {
		e.t.Fatal(err)
	}
	for {
		fs := cl.PollFetches(e.ctx)
		if e.ctx.Err() != nil {
			e.t.Fatalf("no output for %s", v)
		}
		var out map[string]any
		fs.EachRecord(func(r *kgo.Record) {
			var m map[string]any
			if out == nil && json.Unmarshal(r.Value, &m) == nil && m["v"] == v && ok(m) {
				out = m
			}
		})
		if out != nil {
			return out
		}
	}
}

// sse reads Server-Sent Events.
type sse struct {
	resp *http.Response
	r    *bufio.Reader
}

type event struct {
	id, name, data string
}

func (e *env) follow(path string) *sse {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, "GET", e.url+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		e.t.Fatalf("GET %s: %d %s %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return &sse{resp: resp, r: bufio.NewReader(resp.Body)}
}

// next reads the next event (comments skipped).
func (s *sse) next() (event, error) {
	var ev event
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if ev.data != "" || ev.name != "" {
				return ev, nil
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			if ev.data != "" {
				ev.data += "\n"
			}
			ev.data += line[6:]
		default:
			return ev, fmt.Errorf("not an event line: %q", line)
		}
	}
}

// until reads events until one's data holds want.
func (s *sse) until(t *testing.T, want string) event {
	t.Helper()
	for {
		ev, err := s.next()
		if err != nil {
			t.Fatalf("waiting for an event with %q: %v", want, err)
		}
		if strings.Contains(ev.data, want) {
			return ev
		}
	}
}
