//go:build linux

package main

// Helpers of the end-to-end tests that run the weir binary as a
// subprocess (crash_test.go, interop_test.go): the binary is built once, an
// app is a folder of manifests pointed at the test's broker, and a running
// weir can be stopped cleanly (SIGTERM) or killed (SIGKILL).
//
// They are Linux-only: a weir started by a test dies with the test process
// (Pdeathsig), so that a test that times out leaves no weir running.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// weirBuild is the binary the end-to-end tests run, built at most once per
// test process, when a test first needs it.
var weirBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if weirBuild.dir != "" {
		os.RemoveAll(weirBuild.dir)
	}
	os.Exit(code)
}

// weirBinary builds weir (without the race detector, and without debug
// information, which halves the link) and returns its path.
func weirBinary(t testing.TB) string {
	t.Helper()
	weirBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "weir-e2e-")
		if err != nil {
			weirBuild.err = err
			return
		}
		weirBuild.dir = dir
		goCmd, err := exec.LookPath("go")
		if err != nil {
			weirBuild.err = fmt.Errorf("no go command on PATH to build weir: %w", err)
			return
		}
		path := filepath.Join(dir, "weir")
		cmd := exec.Command(goCmd, "build", "-ldflags=-s -w", "-o", path, ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			weirBuild.err = fmt.Errorf("go build -o %s .: %v\n%s", path, err, out)
			return
		}
		weirBuild.path = path
	})
	if weirBuild.err != nil {
		t.Fatal(weirBuild.err)
	}
	return weirBuild.path
}

// writeApp writes a folder with one manifest file, app.yaml.
func writeApp(t testing.TB, manifest string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// weirProc is a running `weir run`.
type weirProc struct {
	t    testing.TB
	name string // for messages: "weir #2"
	cmd  *exec.Cmd
	log  *logLines
	done chan struct{} // closed when the process has exited
	err  error         // Wait's error, once done is closed
}

// startWeir starts `weir run --data-dir DATA --log-format json
// --instance-id ID APPDIR` and waits until it logs that its app runs. It is
// killed at the end of the test if still running.
func startWeir(t testing.TB, name, appDir, dataDir, instanceID string) *weirProc {
	t.Helper()
	bin := weirBinary(t)
	cmd := exec.Command(bin, "run", "--data-dir", dataDir, "--log-format", "json", "--instance-id", instanceID, "--web-port", "0", "--api-addr", "off", appDir)
	cmd.Env = withoutWeirEnv(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &weirProc{t: t, name: name, cmd: cmd, log: newLogLines(), done: make(chan struct{})}
	cmd.Stderr = p.log
	cmd.Stdout = p.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s's log (last lines):\n%s", name, p.log.tail(40))
		}
	})
	if !p.waitLog("app running", 30*time.Second) {
		t.Fatalf("%s did not log \"app running\" within 30s; its log:\n%s", name, p.log.tail(40))
	}
	return p
}

// withoutWeirEnv drops weir's own settings from an environment, so that the
// flags the tests pass are what the subprocess runs with.
func withoutWeirEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "WEIR_") {
			out = append(out, kv)
		}
	}
	return out
}

// waitLog waits until the process logs a JSON line whose msg is msg; false
// when it exits or the time is up first.
func (p *weirProc) waitLog(msg string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		changed := p.log.changed()
		if p.log.hasMsg(msg) {
			return true
		}
		select {
		case <-changed:
		case <-p.done:
			return p.log.hasMsg(msg)
		case <-deadline:
			return false
		}
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (p *weirProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and checks that weir finishes its work, logs that it
// stopped and exits 0.
func (p *weirProc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("signalling %s: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(45 * time.Second):
		p.kill()
		p.t.Fatalf("%s did not exit within 45s of SIGTERM; its log:\n%s", p.name, p.log.tail(40))
	}
	if p.err != nil {
		p.t.Fatalf("%s exited with %v after SIGTERM; its log:\n%s", p.name, p.err, p.log.tail(40))
	}
	if !p.log.hasMsg("stopped") {
		p.t.Errorf("%s exited 0 but did not log a clean stop; its log:\n%s", p.name, p.log.tail(40))
	}
}

// errorLines returns the lines logged at level ERROR.
func (p *weirProc) errorLines() []string {
	var out []string
	for _, l := range p.log.all() {
		var m struct{ Level string }
		if json.Unmarshal([]byte(l), &m) == nil && m.Level == "ERROR" {
			out = append(out, l)
		}
	}
	return out
}

// logLines collects a process's output line by line.
type logLines struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	msgs    map[string]bool // the msg of every JSON line
	notify  chan struct{}   // closed and replaced at each new line
}

func newLogLines() *logLines {
	return &logLines{msgs: map[string]bool{}, notify: make(chan struct{})}
}

func (l *logLines) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, b...)
	added := false
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		l.lines = append(l.lines, line)
		var m struct{ Msg string }
		if json.Unmarshal([]byte(line), &m) == nil && m.Msg != "" {
			l.msgs[m.Msg] = true
		}
		added = true
	}
	if added {
		close(l.notify)
		l.notify = make(chan struct{})
	}
	return len(b), nil
}

func (l *logLines) changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.notify
}

func (l *logLines) hasMsg(msg string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.msgs[msg]
}

func (l *logLines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func (l *logLines) tail(n int) string {
	lines := l.all()
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... %d lines before", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// waitFor polls cond every 20ms until it returns true; past timeout it
// fails the test with what, and the last error cond returned.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			if last != nil {
				t.Fatalf("%s: not done within %v (last error: %v)", what, timeout, last)
			}
			t.Fatalf("%s: not done within %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// topicOffsets are the per-partition end offsets of a topic: newest (the
// high watermark) and committed (the last stable offset: the first offset
// of the oldest open transaction, or the high watermark when none is open).
type topicOffsets struct {
	newest, committed map[int32]int64
}

func listOffsets(ctx context.Context, adm *kadm.Client, topic string) (topicOffsets, error) {
	out := topicOffsets{newest: map[int32]int64{}, committed: map[int32]int64{}}
	newest, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return out, err
	}
	committed, err := adm.ListCommittedOffsets(ctx, topic)
	if err != nil {
		return out, err
	}
	for dst, src := range map[*map[int32]int64]kadm.ListedOffsets{&out.newest: newest, &out.committed: committed} {
		var errs []error
		src.Each(func(o kadm.ListedOffset) {
			if o.Err != nil {
				errs = append(errs, fmt.Errorf("%s[%d]: %w", o.Topic, o.Partition, o.Err))
				return
			}
			(*dst)[o.Partition] = o.Offset
		})
		if err := errors.Join(errs...); err != nil {
			return out, err
		}
	}
	return out, nil
}

// sum adds up offsets.
func sum(m map[int32]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// openTransactions returns the partitions whose last stable offset is
// behind their high watermark: those with a transaction open.
func (o topicOffsets) openTransactions() []int32 {
	var out []int32
	for p, hw := range o.newest {
		if o.committed[p] < hw {
			out = append(out, p)
		}
	}
	return out
}

// groupCaughtUp reports whether a consumer group's committed offsets on
// topic have reached the topic's end.
func groupCaughtUp(ctx context.Context, adm *kadm.Client, group, topic string) (bool, error) {
	end, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return false, err
	}
	got, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return false, err
	}
	caught := true
	end.Each(func(o kadm.ListedOffset) {
		c, ok := got.Lookup(topic, o.Partition)
		if !ok || c.Err != nil || c.At < o.Offset {
			caught = false
		}
	})
	return caught, nil
}

// endMarker is the header of the records markEnd appends.
const endMarker = "weir-test-end"

// markEnd appends one marker record to every partition of topic, so that
// a reader knows it has read all that came before: once nothing writes the
// topic any more and no transaction is open, a read_committed reader sees
// every committed record of a partition before its marker.
func markEnd(t testing.TB, ctx context.Context, addrs []string, topic string, partitions int32) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for p := range partitions {
		r := &kgo.Record{Topic: topic, Partition: p, Headers: []kgo.RecordHeader{{Key: endMarker}}}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("appending the end marker to %s[%d]: %v", topic, p, err)
		}
	}
}

// readToEnd reads topic from its start at an isolation level until it has
// seen markEnd's marker in every partition, and returns the records before
// the markers.
func readToEnd(t testing.TB, ctx context.Context, addrs []string, topic string, partitions int32, level kgo.IsolationLevel) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(level), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	ended := map[int32]bool{}
	for int32(len(ended)) < partitions {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("reading %s: reached the end of %d of %d partitions (%d records) before the test's time was up; a transaction left open?", topic, len(ended), partitions, len(out))
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Logf("reading %s[%d]: %v", topic, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			if len(r.Headers) == 1 && r.Headers[0].Key == endMarker {
				ended[r.Partition] = true
				return
			}
			if ended[r.Partition] {
				t.Errorf("%s[%d]: record at offset %d after the end marker", topic, r.Partition, r.Offset)
			}
			out = append(out, r)
		})
	}
	return out
}

// pacedLoad is a load fed at weir's pace: n records, made by record, sent
// in batches with a pause after each, and held back while more than window
// of them wait for weir's group to commit them.
type pacedLoad struct {
	n, batch  int
	window    int64
	pause     time.Duration
	committed func() int64
	record    func(i int) *kgo.Record
}

// feedPaced sends a paced load, so that weir has work in flight until the
// load ends, however fast or slow it runs.
func feedPaced(ctx context.Context, cl *kgo.Client, l pacedLoad) error {
	var (
		mu    sync.Mutex
		first error
	)
	done := func(_ *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			if first == nil {
				first = err
			}
			mu.Unlock()
		}
	}
	pause := func(d time.Duration) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}
	for start := 0; start < l.n; start += l.batch {
		for int64(start)-l.committed() > l.window {
			if err := pause(10 * time.Millisecond); err != nil {
				return err
			}
		}
		for i := start; i < min(start+l.batch, l.n); i++ {
			cl.Produce(ctx, l.record(i), done)
		}
		if err := cl.Flush(ctx); err != nil {
			return err
		}
		mu.Lock()
		err := first
		mu.Unlock()
		if err != nil {
			return err
		}
		if err := pause(l.pause); err != nil {
			return err
		}
	}
	return nil
}

// groupCommitted is how many records of topic a group has committed (0
// when it cannot be told).
func groupCommitted(ctx context.Context, adm *kadm.Client, group, topic string) int64 {
	got, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return 0
	}
	var n int64
	got.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil && o.At > 0 {
			n += o.At
		}
	})
	return n
}
