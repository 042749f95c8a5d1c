package webview

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
	"github.com/weirstream/weir/spec"
)

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(&testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t testing.TB }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// load loads manifests from a folder.
func load(t testing.TB, dir string) *spec.Bundle {
	t.Helper()
	b, err := spec.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compile compiles a bundle for one instance of its apps on a broker (nil:
// none; the apps then must not touch Kafka).
func compile(t testing.TB, b *spec.Bundle, broker *kafkatest.Broker, instance string) *engine.Plan {
	t.Helper()
	for _, a := range b.Apps {
		if broker != nil {
			a.App.Spec.BootstrapServers = strings.Join(broker.Addrs(), ",")
		}
		a.App.Spec.Config.TopicReplicationFactor = 1
	}
	p, err := engine.Compile(b, engine.Options{Env: func(string) string { return "" }, DataDir: t.TempDir(), InstanceID: instance})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range p.Apps {
		for i := range a.Topics {
			a.Topics[i].ReplicationFactor = 1
		}
		// Keep the transactional id, but not static membership: a static
		// member that stops holds its partitions until its session times
		// out, which tests would wait for.
		a.InstanceID = ""
		if a.Kafka.Extra == nil {
			a.Kafka.Extra = map[string]string{}
		}
		a.Kafka.Extra["heartbeat.interval.ms"] = "100"
	}
	return p
}

// startRuntime starts a runtime and stops it at the end of the test.
func startRuntime(t testing.TB, ctx context.Context, p *engine.Plan) *engine.Runtime {
	t.Helper()
	rt := engine.NewRuntime(p, engine.RuntimeOptions{Logger: testLogger(t), CommitInterval: 50 * time.Millisecond, Workers: 4})
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := rt.Stop(sctx); err != nil {
			t.Error("stopping the runtime:", err)
		}
	})
	return rt
}

// startServer starts an app's server on a free loopback port and stops it
// at the end of the test (before the runtime, started earlier, stops).
func startServer(t *testing.T, rt *engine.Runtime, app *engine.AppPlan, opts Options) *Server {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	if opts.MembersInterval == 0 {
		opts.MembersInterval = 50 * time.Millisecond
	}
	s, err := New(rt, app, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopServer(t, s) })
	return s
}

func stopServer(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Error("stopping the web server:", err)
	}
}

// root is the server's root URL.
func (s *Server) root() string { return "http://" + s.Addr().String() }

// reply is an HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) String() string {
	return http.StatusText(r.status) + " " + strings.TrimSpace(string(r.body))
}

// do sends a request and reads the answer.
func do(t *testing.T, method, url string, header http.Header, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func get(t *testing.T, url string) reply { t.Helper(); return do(t, http.MethodGet, url, nil, nil) }

// decode parses a JSON answer.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %s is not JSON: %v", r, err)
	}
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if ctx.Err() != nil {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func kgoClient(t *testing.T, b *kafkatest.Broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addrs()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}
