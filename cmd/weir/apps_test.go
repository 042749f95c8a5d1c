package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const appsTestApp = `apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: shout
spec:
  bootstrapServers: localhost:9092
  config:
    topicPartitions: 1
`

const appsTestAgent = `apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: shout-upper
  labels:
    kaspr.io/app: shout
spec:
  input:
    topic: {name: shout-in, valueSerializer: string, declare: true}
  processors:
    pipeline: [upper]
    operations:
      - name: upper
        map:
          entrypoint: upper
          python: |
            def upper(v):
                print("heard", v)
                return v.upper() + "SUFFIX"
  output:
    topics:
      - {name: shout-out, valueSerializer: string, declare: true}
`

// weir dev with its control API on a free port, driven by weir apps: apply
// (create, update, a refused update pointing at the local file), list,
// get, logs, logs -f, delete --purge. The watched folder is empty: the
// process starts with no app.
func TestAppsCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	outR, outW := io.Pipe()
	var stderr strings.Builder
	errOut := &syncWriter{b: &stderr}
	exit := make(chan int, 1)
	empty := t.TempDir()
	go func() {
		code := runAppsContext(runCtx, "dev", []string{"--data-dir", t.TempDir(), "--api-addr", "127.0.0.1:0", empty}, outW, errOut, true)
		outW.Close()
		exit <- code
	}()
	lines := bufio.NewReader(outR)
	var broker, api string
	for api == "" {
		line, err := lines.ReadString('\n')
		if err != nil {
			t.Fatalf("no control API address printed (%v); stderr:\n%s", err, errOut.String())
		}
		line = strings.TrimSpace(line)
		if b, ok := strings.CutPrefix(line, "weir dev: embedded broker at "); ok {
			broker = b
		}
		if a, ok := strings.CutPrefix(line, "weir dev: control API at "); ok {
			api = a
		}
	}
	go io.Copy(io.Discard, lines)

	apps := func(args ...string) (int, string, string) {
		var out, errs strings.Builder
		cmd := append([]string{args[0], "--api-addr", api}, args[1:]...)
		code := runAppsCmd(ctx, cmd, &out, &errs)
		return code, out.String(), errs.String()
	}
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("app.yaml", appsTestApp)
	write("agent.yaml", appsTestAgent)
	if code, out, errs := apps("apply", "-f", dir); code != exitOK || !strings.HasPrefix(out, "created app shout (generation 1") {
		t.Fatalf("apply: %d %q %q", code, out, errs)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics("shout-out"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	roundTrip := func(in, want string) {
		t.Helper()
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "shout-in", Value: []byte(in)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		for {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("no %s; stderr:\n%s", want, errOut.String())
			}
			found := false
			fs.EachRecord(func(r *kgo.Record) { found = found || string(r.Value) == want })
			if found {
				return
			}
		}
	}
	roundTrip("hey", "HEYSUFFIX")

	// Applied again with new code: updated.
	write("agent.yaml", strings.Replace(appsTestAgent, "SUFFIX", "!", 1))
	if code, out, errs := apps("apply", "-f", dir); code != exitOK || !strings.HasPrefix(out, "updated app shout (generation 2") {
		t.Fatalf("apply again: %d %q %q", code, out, errs)
	}
	roundTrip("ho", "HO!")

	// A broken edit: refused with the local file's position.
	write("agent.yaml", strings.Replace(appsTestAgent, "v.upper()", "v.upper(", 1))
	code, _, errs := apps("apply", "-f", dir)
	if code != exitInvalid || !strings.Contains(errs, filepath.Join(dir, "agent.yaml")+":") {
		t.Fatalf("a broken apply: %d %q", code, errs)
	}

	code, out, _ := apps("list")
	if code != exitOK || !strings.Contains(out, "shout") || !strings.Contains(out, "api") {
		t.Fatalf("list: %d\n%s", code, out)
	}
	if code, out, _ := apps("get", "shout"); code != exitOK || !strings.Contains(out, `"shout-upper"`) {
		t.Fatalf("get: %d\n%s", code, out)
	}
	if code, out, _ := apps("logs", "shout"); code != exitOK || !strings.Contains(out, "heard ho") {
		t.Fatalf("logs: %d\n%s", code, out)
	}
	if code, _, errs := apps("get", "nope"); code != exitInvalid || !strings.Contains(errs, "no app nope") {
		t.Fatalf("get of an unknown app: %d %q", code, errs)
	}

	// logs -f prints a line logged after it started.
	followCtx, stopFollow := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	followed := make(chan int, 1)
	go func() {
		var errs strings.Builder
		followed <- runAppsCmd(followCtx, []string{"logs", "--api-addr", api, "-f", "--tail", "0", "shout"}, pw, &errs)
		pw.Close()
	}()
	got := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "heard later") {
				close(got)
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	for done := false; !done; {
		roundTrip("later", "LATER!")
		select {
		case <-got:
			done = true
		case <-time.After(100 * time.Millisecond): // the follower may not have connected yet: say it again
		case <-ctx.Done():
			t.Fatal("logs -f printed no new line")
		}
	}
	stopFollow()
	if code := <-followed; code != exitOK {
		t.Fatalf("logs -f exit %d", code)
	}

	if code, out, errs := apps("delete", "--purge", "shout"); code != exitOK || !strings.Contains(out, "deleted app shout") || !strings.Contains(out, "shout-app-shout-upper-dead-letters") {
		t.Fatalf("delete: %d %q %q", code, out, errs)
	}
	stop()
	if code := <-exit; code != exitOK {
		t.Errorf("exit %d; stderr:\n%s", code, errOut.String())
	}
}

// The control API will not listen beyond the loopback interface without
// a token.
func TestRunRefusesAnOpenAPI(t *testing.T) {
	var stderr strings.Builder
	code := runAppsContext(context.Background(), "run", []string{"--api-addr", "0.0.0.0:0", t.TempDir()}, io.Discard, &stderr, false)
	if code != exitUsage || !strings.Contains(stderr.String(), "without a token") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}
