package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/spec"
)

// The stateful cases: count keeps a count per record key in a table,
// exactly-once; replay then measures how fast a runtime on an empty data
// dir rebuilds that table from its changelog.

// CountKeys is how many distinct keys the count case's input spreads over.
const CountKeys = 10000

// CountTarget is the least count/franz throughput, as a fraction of the
// passthrough's, that the bench is to show.
const CountTarget = 0.25

// countTable is the name of the count app's table.
const countTable = "counts"

// countKey is the key of the count case's input record i.
func countKey(i int) []byte { return fmt.Appendf(nil, "k-%05d", i%CountKeys) }

// countManifest is the count app: one agent that adds one to the count of
// each record's key (raw bytes) in a partitioned table whose values are
// JSON numbers. The record's value (an order, as the other cases read) is
// not decoded. Nothing is output but the table's changelog, one record per
// input record, which the harness reads to see the case's progress.
func countManifest(s appSetup) string {
	return fmt.Sprintf(`apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata: {name: %[1]s}
spec:
  bootstrapServers: %[2]q
  config:
    kafkaClient: %[3]s
    processingGuarantee: exactly_once
    topicPartitions: %[4]d
    topicReplicationFactor: %[5]d
---
apiVersion: kaspr.io/v1alpha1
kind: KasprTable
metadata: {name: %[6]s}
spec:
  name: %[6]s
  keySerializer: raw
  valueSerializer: json
  partitions: %[4]d
  defaultSelector:
    entrypoint: zero
    python: |
      def zero():
          return 0
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata: {name: count}
spec:
  input:
    topic: {name: %[7]s, keySerializer: raw, valueSerializer: raw, declare: true, partitions: %[4]d}
  processors:
    pipeline: [count]
    operations:
      - name: count
        tables:
          - {name: %[6]s, paramName: counts}
        map:
          entrypoint: count
          python: |
            def count(value, counts):
                key = context.event.key
                counts[key] = counts[key] + 1
                return None
`, "count-"+s.Suffix, strings.Join(s.Brokers, ","), s.Client, s.Partitions, s.Replicas, countTable, "weir-bench-count-in-"+s.Suffix)
}

// loadCount writes the count app to a folder under dataDir, loads and
// compiles it with dataDir as its data dir. The app's one output, for the
// harness, is its table's changelog.
func loadCount(s appSetup, dataDir string) (*benchApp, error) {
	dir := filepath.Join(dataDir, "app")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(countManifest(s)), 0o644); err != nil {
		return nil, err
	}
	b, err := spec.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("loading the count app: %w", err)
	}
	plan, err := engine.Compile(b, engine.Options{DataDir: dataDir, Env: func(string) string { return "" }})
	if err != nil {
		return nil, fmt.Errorf("compiling the count app: %w", err)
	}
	if u := engine.Unsupported(plan); len(u) > 0 {
		return nil, fmt.Errorf("the count app: not yet supported by the runtime: %s", strings.Join(u, "; "))
	}
	ap := plan.Apps[0]
	ba := &benchApp{plan: plan, input: "weir-bench-count-in-" + s.Suffix}
	for _, t := range ap.Tables {
		if t.Name == countTable {
			ba.outputs = []string{t.ChangelogTopic}
		}
	}
	if len(ba.outputs) != 1 {
		return nil, errors.New("the count app has no changelog")
	}
	for _, t := range ap.Topics {
		ba.topics = append(ba.topics, t.Name)
	}
	return ba, nil
}

// replayFigures is what a replay child measures.
type replayFigures struct {
	// Replayed is Runtime.Replayed() once every partition is recovered.
	Replayed int64 `json:"replayed"`
	// ReplaySeconds runs from the first time Runtime.Tables() reported a
	// partition of the table to the first time it reported all of them
	// recovered; ReadySeconds from the call of Start to that moment.
	ReplaySeconds float64 `json:"replaySeconds"`
	ReadySeconds  float64 `json:"readySeconds"`
}

// runReplayChild starts the count app on an empty data dir, waits until
// its table is recovered from the changelog (a minute at most), stops it
// and returns the figures.
func runReplayChild(s childSpec, log *slog.Logger) (replayFigures, error) {
	var fig replayFigures
	if s.App == nil {
		return fig, errors.New("replay case without an app")
	}
	dir, err := os.MkdirTemp("", "weir-bench-")
	if err != nil {
		return fig, err
	}
	defer os.RemoveAll(dir)
	ba, err := loadCount(*s.App, dir)
	if err != nil {
		return fig, err
	}
	rt := engine.NewRuntime(ba.plan, engine.RuntimeOptions{Logger: log})
	t0 := time.Now()
	sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	err = rt.Start(sctx)
	cancel()
	if err != nil {
		return fig, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if serr := rt.Stop(sctx); serr != nil && err == nil {
			err = serr
		}
	}()
	var first time.Time
	deadline := t0.Add(time.Minute)
	for {
		now := time.Now()
		held, recovering := 0, false
		for _, tp := range rt.Tables() {
			if tp.Table == countTable {
				held++
				recovering = recovering || tp.Recovering || tp.Done < tp.Total
			}
		}
		if held > 0 && first.IsZero() {
			first = now
		}
		// A partition is listed with its total a moment before it is
		// marked recovering: until then its done is below its total.
		// Replayed is added to before the marks are cleared.
		if held == s.App.Partitions && !recovering {
			fig.Replayed = rt.Replayed()
			fig.ReplaySeconds = now.Sub(first).Seconds()
			fig.ReadySeconds = now.Sub(t0).Seconds()
			return fig, nil
		}
		if now.After(deadline) {
			return fig, fmt.Errorf("the table was not recovered within a minute (%d of %d partitions listed, %d records replayed)", held, s.App.Partitions, rt.Replayed())
		}
		time.Sleep(time.Millisecond)
	}
}

// runReplay runs the replay child for a count case that has run, and
// returns its result: records replayed, over the replay's seconds.
func runReplay(ctx context.Context, cfg Config, setup appSetup, want int) (Result, error) {
	res := Result{Case: KindReplay, Client: setup.Client}
	cs := childSpec{Kind: KindReplay, Client: setup.Client, LogLevel: cfg.LogLevel, App: &setup,
		CPUProfile: profilePath(cfg.CPUProfile, Case{KindReplay, setup.Client})}
	res.Profile = cs.CPUProfile
	ch, err := startChild(cfg, cs)
	if err != nil {
		return res, err
	}
	defer func() {
		if !ch.done { // it does not stop when its input closes
			_ = ch.cmd.Process.Kill()
			ch.waited, ch.done = <-ch.exited, true
		}
	}()
	fmt.Fprintf(cfg.Progress, "%s/%s: replaying the count case's changelog on an empty data dir (child pid %d)\n", KindReplay, setup.Client, ch.cmd.Process.Pid)
	ch.stdin.Close() // it stops by itself once recovered
	timeout := time.NewTimer(cfg.Timeout)
	defer timeout.Stop()
	select {
	case ch.waited = <-ch.exited:
		ch.done = true
	case <-timeout.C:
		return res, fmt.Errorf("timed out after %v", cfg.Timeout)
	case <-ctx.Done():
		return res, ctx.Err()
	}
	rep, err := ch.report()
	switch {
	case err != nil:
		return res, err
	case rep.Error != "":
		return res, errors.New(rep.Error)
	case ch.waited != nil:
		return res, fmt.Errorf("the case's process: %w", ch.waited)
	}
	res.PeakRSSBytes, res.CPUSeconds = rep.PeakRSSBytes, rep.CPUSeconds
	res.Records, res.Outputs = int(rep.Replayed), int(rep.Replayed)
	res.Seconds = rep.ReplaySeconds
	res.ReadySeconds = rep.ReadySeconds
	if rep.ReplaySeconds > 0 {
		res.RecordsPerSecond = float64(rep.Replayed) / rep.ReplaySeconds
	}
	if rep.Replayed != int64(want) {
		return res, fmt.Errorf("replayed %d changelog records; the count case committed %d", rep.Replayed, want)
	}
	return res, nil
}

// countSetup is the app setup of a count case, and of the replay that
// follows it: the same app, hence the same group and changelog.
func countSetup(cfg Config, brokers []string, runID string, c Case) appSetup {
	return appSetup{Suffix: runID + "-" + c.Kind + "-" + c.Client, Client: c.Client, Brokers: brokers, Partitions: cfg.Partitions, Replicas: cfg.Replicas}
}
