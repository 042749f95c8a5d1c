package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/franz"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
	"github.com/weirstream/weir/spec"
)

// The kinds of case.
const (
	KindPassthrough = "passthrough"
	KindApp         = "app"
	KindCount       = "count"
	// KindReplay is not a case to ask for: it follows each count case
	// (see Config.NoReplay).
	KindReplay = "replay"
)

// Case is one measurement: a kind run with a Kafka client.
type Case struct {
	Kind   string `json:"case"`
	Client string `json:"client"`
}

func (c Case) String() string { return c.Kind + "/" + c.Client }

// DefaultCases are the cases `weir bench` runs: the passthrough reference
// with the default client, the app with each client, and the count (with
// the replay of its changelog) with the default client.
const DefaultCases = "passthrough,app,count"

// ParseCases reads a comma-separated list of cases: "passthrough",
// "count" and "web" (with the default client), "app" (with each client),
// or KIND:CLIENT, such as app:franz, count:librdkafka or
// passthrough:librdkafka.
func ParseCases(s string) ([]Case, error) {
	var out []Case
	add := func(c Case) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		kind, client, hasClient := strings.Cut(item, ":")
		if kind != KindPassthrough && kind != KindApp && kind != KindCount && kind != KindWeb {
			return nil, fmt.Errorf("case %q: the kinds are %s, %s, %s and %s", item, KindPassthrough, KindApp, KindCount, KindWeb)
		}
		if hasClient && client != spec.ClientFranz && client != spec.ClientRdkafka {
			return nil, fmt.Errorf("case %q: the clients are %s and %s", item, spec.ClientFranz, spec.ClientRdkafka)
		}
		switch {
		case hasClient:
			add(Case{kind, client})
		case kind == KindPassthrough || kind == KindCount || kind == KindWeb:
			add(Case{kind, spec.ClientFranz})
		default:
			add(Case{kind, spec.ClientFranz})
			add(Case{kind, spec.ClientRdkafka})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no cases")
	}
	return out, nil
}

// Config is one run of the harness.
type Config struct {
	// Brokers is an existing cluster; empty: an embedded broker.
	Brokers []string
	// Records is how many input records each case processes.
	Records int
	// Partitions of the input and output topics.
	Partitions int
	// Replicas of the topics the bench creates (1 on the embedded broker).
	Replicas int
	// Rate, when above 0, feeds the input at this many records a second
	// while the case runs, instead of producing it all beforehand.
	Rate int
	// Cases to run, in order; nil: DefaultCases.
	Cases []Case
	// NoReplay skips the replay that follows each count case: a runtime
	// on an empty data dir rebuilding the count table from its changelog.
	NoReplay bool
	// App is the folder of the app the app cases run; "": DefaultApp.
	App string
	// CPUProfile, when set, makes each case's child write a CPU profile to
	// this path with "-<kind>-<client>" inserted before its extension.
	CPUProfile string
	// Timeout bounds each case once its input is produced; 0: 10 minutes.
	Timeout time.Duration
	// LogLevel is the children's log level; "": warn.
	LogLevel string
	// Command is how to start a child; --child SPEC is appended. nil: this
	// executable with the argument "bench".
	Command []string
	// Progress receives a line as each case starts and ends, and the
	// children's logs; nil: discarded.
	Progress io.Writer

	// The web case (web.go). WebRates are the request rates it runs, in
	// order; nil: DefaultWebRates. WebDuration is how long each rate is
	// measured, for the web view and for the bare handler each; 0:
	// DefaultWebDuration. WebWords is the vocabulary the table is filled
	// with and asked for; 0: DefaultWebWords. WebApp is the word-count
	// app; "": DefaultWebApp.
	WebRates    []int
	WebDuration time.Duration
	WebWords    int
	WebApp      string
}

// Result is the figures of one case.
type Result struct {
	Case   string `json:"case"`
	Client string `json:"client"`
	// Records is the input records processed; Outputs the records counted
	// at the output topics (by topic in OutputsByTopic).
	Records        int            `json:"records"`
	Outputs        int            `json:"outputs"`
	OutputsByTopic map[string]int `json:"outputsByTopic,omitempty"`
	// Seconds is the span from the first output's timestamp to the last
	// output seen committed; RecordsPerSecond is Records over it. For a
	// replay, Records is the changelog records replayed and Seconds the
	// span from the first report of a table partition by Runtime.Tables
	// to the first report of all of them recovered.
	Seconds          float64 `json:"seconds"`
	RecordsPerSecond float64 `json:"recordsPerSecond"`
	// ReadySeconds (replay) is the time from Runtime.Start to every table
	// partition recovered: group join and replay.
	ReadySeconds float64 `json:"readySeconds,omitempty"`
	// Latency percentiles and maximum, in milliseconds (see Report.Latency).
	LatencyP50Ms float64 `json:"latencyP50Ms"`
	LatencyP99Ms float64 `json:"latencyP99Ms"`
	LatencyMaxMs float64 `json:"latencyMaxMs"`
	// PeakRSSBytes and CPUSeconds are the child process's.
	PeakRSSBytes int64   `json:"peakRSSBytes"`
	CPUSeconds   float64 `json:"cpuSeconds"`
	// Ratio is RecordsPerSecond over that of the passthrough of the same
	// client, or else of the default client; RatioOf names which.
	Ratio   float64 `json:"ratio,omitempty"`
	RatioOf string  `json:"ratioOf,omitempty"`
	// ProduceSeconds is how long producing the input took (pre-produced
	// input only).
	ProduceSeconds float64 `json:"produceSeconds,omitempty"`
	// Web is the web case's figures, one per request rate (the other
	// figures above stay empty but for the child's peak RSS and CPU).
	Web     *WebFigures `json:"web,omitempty"`
	Profile string      `json:"cpuProfile,omitempty"`
	Error   string      `json:"error,omitempty"`

	keep []string // topics left for Run to delete after the replay
}

// Report is a run's results and what they mean.
type Report struct {
	// Mode is "preloaded" (input produced before each case starts) or
	// "rate" (fed at Rate records/s while it runs).
	Mode        string `json:"mode"`
	Rate        int    `json:"rate,omitempty"`
	Records     int    `json:"records"`
	RecordBytes int    `json:"recordBytes"`
	Partitions  int    `json:"partitions"`
	Broker      string `json:"broker"`
	App         string `json:"app"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	NumCPU      int    `json:"numCPU"`
	// LoadAverage is the one-minute load average when the run started
	// (/proc/loadavg; 0 where unknown): other work on the machine skews
	// the figures.
	LoadAverage float64 `json:"loadAverage"`
	Throughput  string  `json:"throughput"`
	Latency     string  `json:"latency"`
	PeakRSS     string  `json:"peakRSS"`
	// Target is the goal for app/franz against the passthrough;
	// CountTarget that for count/franz.
	Target      float64 `json:"target"`
	CountTarget float64 `json:"countTarget"`
	// WebTarget is the most the web view's p99 latency may be, as a
	// multiple of the bare handler's (web case only).
	WebTarget float64  `json:"webTarget,omitempty"`
	Results   []Result `json:"results"`
}

// Target is the least app/franz throughput, as a fraction of the
// passthrough's, that the bench is to show.
const Target = 0.4

// Run runs every case and returns the report. A failed case is reported in
// its Result and, joined with the others, in the error; the other cases
// still run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Records <= 0 {
		return nil, errors.New("bench: records must be above 0")
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = 3
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.Cases == nil {
		cfg.Cases, _ = ParseCases(DefaultCases)
	}
	if cfg.App == "" {
		cfg.App = DefaultApp
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	// The children's logs are copied to Progress as the harness writes to it.
	cfg.Progress = &lockedWriter{w: cfg.Progress}
	if cfg.Command == nil {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("bench: finding this executable to run the cases in: %w", err)
		}
		cfg.Command = []string{exe, "bench"}
	}
	if slices.ContainsFunc(cfg.Cases, func(c Case) bool { return c.Kind == KindApp }) {
		abs, err := filepath.Abs(cfg.App)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("bench: the app: %w (run from weir's repository, or pass --app)", err)
		}
		cfg.App = abs
	}
	if slices.ContainsFunc(cfg.Cases, func(c Case) bool { return c.Kind == KindWeb }) {
		if err := cfg.webDefaults(); err != nil {
			return nil, err
		}
	}

	rep := &Report{
		Mode:        "preloaded",
		Rate:        cfg.Rate,
		Records:     cfg.Records,
		RecordBytes: RecordBytes,
		Partitions:  cfg.Partitions,
		App:         cfg.App,
		GOMAXPROCS:  runtime.GOMAXPROCS(0),
		NumCPU:      runtime.NumCPU(),
		LoadAverage: loadAverage(),
		Throughput:  "input records / (first output record's timestamp .. last output seen committed by a read_committed reader)",
		Latency:     "read time at a read_committed reader minus the produce time carried in the input record (field ts)",
		PeakRSS:     "VmHWM of the child process that ran the case (the broker, input producer and reader run in the parent)",
		Target:      Target,
		CountTarget: CountTarget,
	}
	if slices.ContainsFunc(cfg.Cases, func(c Case) bool { return c.Kind == KindWeb }) {
		rep.WebTarget = WebTarget
	}
	if cfg.Rate > 0 {
		rep.Mode = "rate"
		rep.Latency += fmt.Sprintf("; it includes waiting for the transaction to commit (every %d records or %v)", engine.DefaultCommitEvery, engine.DefaultCommitInterval)
	} else {
		rep.Latency += "; the input was produced before the case started, so this is mostly queueing (use a rate for end-to-end latency)"
	}
	brokers := cfg.Brokers
	if len(brokers) == 0 {
		b, err := kafkatest.Start()
		if err != nil {
			return nil, err
		}
		defer b.Close()
		brokers = b.Addrs()
		rep.Broker = "embedded " + strings.Join(brokers, ",")
	} else {
		rep.Broker = strings.Join(brokers, ",")
	}
	runID := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	var errs []error
	for _, c := range cfg.Cases {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		res, err := runCase(ctx, cfg, brokers, runID, c)
		if err != nil {
			res.Error = err.Error()
			errs = append(errs, fmt.Errorf("%s: %w", c, err))
			fmt.Fprintf(cfg.Progress, "%s: failed: %v\n", c, err)
		} else if c.Kind != KindWeb {
			fmt.Fprintf(cfg.Progress, "%s: %d records in %.2fs: %.0f records/s\n", c, res.Records, res.Seconds, res.RecordsPerSecond)
		}
		rep.Results = append(rep.Results, res)
		if c.Kind == KindCount && !cfg.NoReplay {
			if err == nil {
				rep.Results = append(rep.Results, replayAfter(ctx, cfg, brokers, runID, c, &errs))
			}
			if len(res.keep) > 0 {
				if admin, aerr := franz.New().NewAdmin(kafka.Config{Brokers: brokers, ClientID: "weir-bench"}); aerr == nil {
					deleteTopics(cfg, admin, c, res.keep)
					admin.Close()
				}
			}
		}
	}
	rep.ratios()
	return rep, errors.Join(errs...)
}

// replayAfter runs the replay of a count case that has run.
func replayAfter(ctx context.Context, cfg Config, brokers []string, runID string, c Case, errs *[]error) Result {
	want := cfg.Records
	if cfg.Rate > 0 {
		want++ // the warm-up record was counted too
	}
	res, err := runReplay(ctx, cfg, countSetup(cfg, brokers, runID, c), want)
	rc := Case{KindReplay, c.Client}
	if err != nil {
		res.Error = err.Error()
		*errs = append(*errs, fmt.Errorf("%s: %w", rc, err))
		fmt.Fprintf(cfg.Progress, "%s: failed: %v\n", rc, err)
		return res
	}
	fmt.Fprintf(cfg.Progress, "%s: %d changelog records in %.2fs: %.0f records/s; recovered %.2fs after start\n", rc, res.Records, res.Seconds, res.RecordsPerSecond, res.ReadySeconds)
	return res
}

// ratios sets each app and count result's ratio to its passthrough. With
// a rate every case runs at the feed rate: there is no ratio.
func (r *Report) ratios() {
	if r.Mode == "rate" {
		return
	}
	pass := map[string]float64{}
	for _, res := range r.Results {
		if res.Case == KindPassthrough && res.Error == "" {
			pass[res.Client] = res.RecordsPerSecond
		}
	}
	for i := range r.Results {
		res := &r.Results[i]
		if res.Case != KindApp && res.Case != KindCount || res.Error != "" {
			continue
		}
		ref := res.Client
		if pass[ref] == 0 {
			ref = spec.ClientFranz
		}
		if p := pass[ref]; p > 0 {
			res.Ratio = res.RecordsPerSecond / p
			res.RatioOf = KindPassthrough + "/" + ref
		}
	}
}

// profilePath inserts "-<kind>-<client>" before path's extension.
func profilePath(path string, c Case) string {
	if path == "" {
		return ""
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + c.Kind + "-" + c.Client + ext
}

// runCase runs one case on its own topics and deletes them afterwards.
func runCase(ctx context.Context, cfg Config, brokers []string, runID string, c Case) (Result, error) {
	suffix := runID + "-" + c.Kind + "-" + c.Client
	if c.Kind == KindWeb {
		return runWeb(ctx, cfg, brokers, suffix, c)
	}
	res := Result{Case: c.Kind, Client: c.Client, Records: cfg.Records}
	kcfg := kafka.Config{Brokers: brokers, ClientID: "weir-bench"}
	cs := childSpec{Kind: c.Kind, Client: c.Client, LogLevel: cfg.LogLevel, CPUProfile: profilePath(cfg.CPUProfile, c)}
	var (
		input   string
		outputs []string
		topics  []string
		specs   []kafka.TopicSpec // to create before the input is produced
		want    int
		keyOf   func(int) []byte
	)
	switch c.Kind {
	case KindPassthrough:
		input, outputs = "weir-bench-in-"+suffix, []string{"weir-bench-out-" + suffix}
		topics = []string{input, outputs[0]}
		cs.Brokers, cs.Input, cs.Output, cs.Group = brokers, input, outputs[0], "weir-bench-"+suffix
		want = cfg.Records
	case KindApp:
		setup := appSetup{Path: cfg.App, Suffix: suffix, Client: c.Client, Brokers: brokers, Partitions: cfg.Partitions, Replicas: cfg.Replicas}
		dir, err := os.MkdirTemp("", "weir-bench-")
		if err != nil {
			return res, err
		}
		ba, err := loadApp(setup, dir)
		os.RemoveAll(dir)
		if err != nil {
			return res, err
		}
		input, outputs, topics = ba.input, ba.outputs, ba.topics
		cs.App = &setup
		want = expectedOutputs(cfg.Records)
	case KindCount:
		setup := countSetup(cfg, brokers, runID, c)
		dir, err := os.MkdirTemp("", "weir-bench-")
		if err != nil {
			return res, err
		}
		ba, err := loadCount(setup, dir)
		os.RemoveAll(dir)
		if err != nil {
			return res, err
		}
		// The app's own declarations (its changelog is compacted), so
		// that the reader finds the changelog before the app starts.
		specs = ba.plan.Apps[0].Topics
		input, outputs, topics = ba.input, ba.outputs, ba.topics
		cs.App = &setup
		want = cfg.Records // a changelog record per input record
		keyOf = countKey
	default:
		return res, fmt.Errorf("unknown case %q", c.Kind)
	}
	res.Profile = cs.CPUProfile

	admin, err := franz.New().NewAdmin(kcfg)
	if err != nil {
		return res, err
	}
	defer admin.Close()
	if specs == nil {
		specs = topicSpecs(append([]string{input}, outputs...), cfg.Partitions, cfg.Replicas)
	}
	if err := createTopics(ctx, admin, specs); err != nil {
		return res, err
	}
	if c.Kind == KindCount && !cfg.NoReplay {
		res.keep = topics // the replay reads the changelog; Run deletes them after
	} else {
		defer deleteTopics(cfg, admin, c, topics)
	}

	pcfg := kcfg
	pcfg.ClientID = "weir-bench-producer"
	if cfg.Rate > 0 {
		pcfg.Extra = map[string]string{"linger.ms": "0"}
	}
	prod, err := franz.New().NewProducer(pcfg)
	if err != nil {
		return res, err
	}
	defer prod.Close()
	if cfg.Rate == 0 {
		fmt.Fprintf(cfg.Progress, "%s: producing %d records to %s\n", c, cfg.Records, input)
		t0 := time.Now()
		if err := produceAll(ctx, prod, input, cfg.Records, 0, keyOf); err != nil {
			return res, fmt.Errorf("producing the input: %w", err)
		}
		res.ProduceSeconds = time.Since(t0).Seconds()
	}

	// The reader counts what the case commits.
	col := newCollector(want)
	rctx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	readDone := make(chan error, 1)
	go func() {
		rcfg := kcfg
		rcfg.ClientID = "weir-bench-reader"
		readDone <- franz.Tail(rctx, rcfg, outputs, col.add)
	}()

	ch, err := startChild(cfg, cs)
	if err != nil {
		return res, err
	}
	defer ch.kill()
	fmt.Fprintf(cfg.Progress, "%s: running (child pid %d)\n", c, ch.cmd.Process.Pid)

	timeout := time.NewTimer(cfg.Timeout)
	defer timeout.Stop()
	feedErr := make(chan error, 1)
	if cfg.Rate > 0 {
		// One record through end to end first: the group has joined and a
		// transaction committed before the measured records are fed.
		prod.Produce(&kafka.Record{Topic: input, Partition: -1, Key: []byte(warmupKey), Value: order([]byte(warmupKey), 0, time.Now())}, nil)
		select {
		case <-col.warm:
		case err := <-ch.exited:
			return res, ch.failure(err)
		case <-timeout.C:
			return res, errors.New("timed out waiting for the warm-up record")
		case <-ctx.Done():
			return res, ctx.Err()
		}
		fmt.Fprintf(cfg.Progress, "%s: warm; feeding %d records at %d/s to %s\n", c, cfg.Records, cfg.Rate, input)
		go func() { feedErr <- produceAll(rctx, prod, input, cfg.Records, cfg.Rate, keyOf) }()
	}

	var caseErr error
	select {
	case err := <-readDone:
		if err == nil && !col.complete() {
			err = ctx.Err()
		}
		caseErr = err
	case err := <-feedErr:
		if err != nil {
			caseErr = fmt.Errorf("feeding the input: %w", err)
			break
		}
		select { // fed: now wait for the outputs as above
		case err := <-readDone:
			if err == nil && !col.complete() {
				err = ctx.Err()
			}
			caseErr = err
		case err := <-ch.exited:
			caseErr = ch.failure(err)
		case <-timeout.C:
			caseErr = fmt.Errorf("timed out after %v", cfg.Timeout)
		}
	case err := <-ch.exited:
		caseErr = ch.failure(err)
	case <-timeout.C:
		caseErr = fmt.Errorf("timed out after %v", cfg.Timeout)
	}
	stopReading()
	col.result(&res)
	if caseErr != nil {
		return res, fmt.Errorf("%w (%d of %d outputs counted)", caseErr, res.Outputs, want)
	}
	rep, err := ch.finish()
	if err != nil {
		return res, err
	}
	res.PeakRSSBytes, res.CPUSeconds = rep.PeakRSSBytes, rep.CPUSeconds
	return res, nil
}

// topicSpecs are plain topics with the case's partitions and replicas.
func topicSpecs(names []string, partitions, replicas int) []kafka.TopicSpec {
	specs := make([]kafka.TopicSpec, len(names))
	for i, n := range names {
		specs[i] = kafka.TopicSpec{Name: n, Partitions: int32(partitions), ReplicationFactor: int16(replicas)}
	}
	return specs
}

// deleteTopics deletes a case's topics.
func deleteTopics(cfg Config, admin kafka.Admin, c Case, topics []string) {
	dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := admin.DeleteTopics(dctx, topics); err != nil {
		fmt.Fprintf(cfg.Progress, "%s: deleting its topics: %v\n", c, err)
	}
}

// createTopics creates the case's topics.
func createTopics(ctx context.Context, admin kafka.Admin, specs []kafka.TopicSpec) error {
	res, err := admin.CreateTopics(ctx, specs)
	if err != nil {
		return fmt.Errorf("creating topics: %w", err)
	}
	for _, s := range specs {
		if e := res[s.Name]; e != nil {
			return fmt.Errorf("creating topic %s: %w", s.Name, e)
		}
	}
	return nil
}

// produceAll produces n orders to topic, as fast as the producer goes
// (rate 0) or at rate records a second, and waits for every
// acknowledgement. Record i is keyed keyOf(i); nil: by its order id.
func produceAll(ctx context.Context, p kafka.Producer, topic string, n, rate int, keyOf func(int) []byte) error {
	var (
		mu    sync.Mutex
		first error
	)
	done := func(_ *kafka.Record, err error) {
		if err != nil {
			mu.Lock()
			if first == nil {
				first = err
			}
			mu.Unlock()
		}
	}
	send := func(i int) {
		id := orderKey(i)
		key := id
		if keyOf != nil {
			key = keyOf(i)
		}
		p.Produce(&kafka.Record{Topic: topic, Partition: -1, Key: key, Value: order(id, i, time.Now())}, done)
	}
	if rate <= 0 {
		for i := range n {
			send(i)
		}
	} else {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		start, sent := time.Now(), 0
		for sent < n {
			due := min(n, int(float64(rate)*time.Since(start).Seconds())+1)
			for ; sent < due; sent++ {
				send(sent)
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if err := p.Flush(ctx); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return first
}

// child is a case running in a child process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout bytes.Buffer
	exited chan error // the result of Wait, once
	waited error
	done   bool
}

func startChild(cfg Config, cs childSpec) (*child, error) {
	spec, err := json.Marshal(cs)
	if err != nil {
		return nil, err
	}
	args := append(slices.Clone(cfg.Command[1:]), ChildFlag, string(spec))
	ch := &child{cmd: exec.Command(cfg.Command[0], args...), exited: make(chan error, 1)}
	ch.cmd.Stdout = &ch.stdout
	ch.cmd.Stderr = cfg.Progress
	if ch.stdin, err = ch.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := ch.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the case's process: %w", err)
	}
	go func() { ch.exited <- ch.cmd.Wait() }()
	return ch, nil
}

// failure describes a child that exited before its case was done.
func (ch *child) failure(waitErr error) error {
	ch.done, ch.waited = true, waitErr
	if rep, err := ch.report(); err == nil && rep.Error != "" {
		return errors.New(rep.Error)
	}
	if waitErr == nil {
		return errors.New("the case's process exited early")
	}
	return fmt.Errorf("the case's process: %w", waitErr)
}

// finish closes the child's input, so that it stops, and returns its
// report.
func (ch *child) finish() (childReport, error) {
	ch.stdin.Close()
	if !ch.done {
		select {
		case ch.waited = <-ch.exited:
		case <-time.After(time.Minute):
			ch.cmd.Process.Kill()
			ch.waited = <-ch.exited
		}
		ch.done = true
	}
	rep, err := ch.report()
	switch {
	case err != nil:
		return rep, err
	case rep.Error != "":
		return rep, errors.New(rep.Error)
	case ch.waited != nil:
		return rep, fmt.Errorf("the case's process: %w", ch.waited)
	}
	return rep, nil
}

// kill ends the child if it still runs (a case that failed).
func (ch *child) kill() {
	if ch.done {
		return
	}
	ch.stdin.Close()
	select {
	case ch.waited = <-ch.exited:
	case <-time.After(40 * time.Second):
		ch.cmd.Process.Kill()
		ch.waited = <-ch.exited
	}
	ch.done = true
}

// report parses the last line the child printed.
func (ch *child) report() (childReport, error) {
	var rep childReport
	out := bytes.TrimSpace(ch.stdout.Bytes())
	if i := bytes.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	if len(out) == 0 {
		return rep, errors.New("the case's process printed no report")
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return rep, fmt.Errorf("the case's report %q: %w", out, err)
	}
	return rep, nil
}

// collector counts the outputs as the reader sees them. add runs on the
// reader's goroutine; the others after the reader is done, or under mu.
type collector struct {
	want int

	mu       sync.Mutex
	got      int
	byTopic  map[string]int
	first    time.Time // the earliest output timestamp
	last     time.Time // when the last output was read
	lat      []time.Duration
	warm     chan struct{}
	warmOnce sync.Once
}

func newCollector(want int) *collector {
	return &collector{want: want, byTopic: map[string]int{}, lat: make([]time.Duration, 0, want), warm: make(chan struct{})}
}

// add takes one output; false when every expected output arrived.
func (c *collector) add(r *kafka.Record) bool {
	now := time.Now()
	if string(r.Key) == warmupKey {
		c.warmOnce.Do(func() { close(c.warm) })
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got++
	c.byTopic[r.Topic]++
	if ts, ok := producedAt(r.Value); ok {
		c.lat = append(c.lat, now.Sub(ts))
	}
	if c.first.IsZero() || r.Timestamp.Before(c.first) {
		c.first = r.Timestamp
	}
	c.last = now
	return c.got < c.want
}

func (c *collector) complete() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got >= c.want
}

// result fills in the counts, the throughput and the latencies.
func (c *collector) result(res *Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	res.Outputs = c.got
	res.OutputsByTopic = maps.Clone(c.byTopic)
	if c.got > 0 {
		span := c.last.Sub(c.first)
		span = max(span, time.Millisecond) // timestamps have millisecond precision
		res.Seconds = span.Seconds()
		res.RecordsPerSecond = float64(res.Records) / res.Seconds
	}
	if len(c.lat) > 0 {
		slices.Sort(c.lat)
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		res.LatencyP50Ms = ms(percentile(c.lat, 0.50))
		res.LatencyP99Ms = ms(percentile(c.lat, 0.99))
		res.LatencyMaxMs = ms(c.lat[len(c.lat)-1])
	}
}

// percentile returns the q-th quantile of sorted values (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// loadAverage is the one-minute load average, 0 where unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, _ := strconv.ParseFloat(f, 64)
	return v
}
