package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/franz"
	"github.com/weirstream/weir/spec"
	"github.com/weirstream/weir/webview"
)

// The web case: GET by key from the web view of samples/word-count while
// its agents count sentences flat out, beside a bare Echo handler served
// by the same process, at rising request rates.
//
// The child runs the app as `weir run` does (engine.NewRuntime, then
// webview.New with a loopback address on a free port, then Start), and a
// bare Echo handler of GET /count/:word that answers a small JSON object
// on another free loopback port; it writes both URLs to a file the parent
// named, and serves until its standard input closes.
//
// The parent keeps the broker, the sentence feed and the load:
//
//   - Before the child starts it writes sentences that hold every word of
//     a vocabulary (Config.WebWords words), so that each word has a count,
//     then feeds sentences of random words of the vocabulary
//     (webSentenceWords words each) for as long as the case runs, as fast
//     as the agents take them: it reads the table's changelog
//     (read_committed), one record per word counted, and keeps webBacklog
//     words written and not yet counted.
//   - Once the child serves, it asks the web view for every word until
//     each answers a count above 0, then measures the agents' pace with no
//     requests, for as long as each load is measured (a second at least).
//   - Then, for each rate, the web view and then the bare handler get an
//     open-loop load, each from a process of its own (`weir bench --child`
//     again), so that the load shares neither the Go scheduler of the
//     servers (whose process's CPU and memory figures are theirs) nor that
//     of the broker. Request i is due at start + i/rate and is sent then,
//     whether or not the earlier ones were answered (each in a goroutine
//     of its own, over a keep-alive client with idle connections to
//     spare), for a random word of the vocabulary. Its latency runs from
//     the time it was due, not the time it was sent, to the end of its
//     answer's body, so that a stall counts for every request it delayed
//     (no coordinated omission). Each load starts with webWarmup at the
//     same rate, not measured. An answer other than 200 with a "count" in
//     its body, or no answer within webRequestTimeout, is an error.
//
// Achieved is the answers (200) over the span from the first request's
// due time to the last answer. The agents' pace is the records the
// counting agent took in a second (weir_agent_records_in_total on the web
// server's metrics page), over the life of the load's process: its
// warm-up and its measured load.

// KindWeb is the web case.
const KindWeb = "web"

// kindWebLoad is not a case to ask for: the web case's load generator, in
// a process of its own.
const kindWebLoad = "webload"

// DefaultWebApp is the app the web case runs, relative to the repository:
// its web view GET /count/{word} reads the table its agents count words
// into.
const DefaultWebApp = "samples/word-count"

// DefaultWebRates are the request rates the web case runs, in requests a
// second.
var DefaultWebRates = []int{500, 1000, 2000, 4000}

// DefaultWebDuration is how long each rate is measured, for each target.
const DefaultWebDuration = 5 * time.Second

// DefaultWebWords is the vocabulary the table is filled with and asked for.
const DefaultWebWords = 1000

// WebTarget is the most the web view's p99 latency may be, as a multiple
// of the bare handler's at the same rate.
const WebTarget = 3.0

const (
	// webSentenceWords is the words of each sentence the feed writes.
	webSentenceWords = 8
	// webBacklog is how many words the feed keeps written and not yet
	// counted. The words reach the counting agent a transaction of the
	// splitting agent at a time, and the changelog shows them a
	// transaction at a time: this keeps input waiting for the app between
	// them. (On 2 cores, 200,000 and 800,000 made the app count fewer
	// words a second, not more.)
	webBacklog = 40000
	// webWarmup is the load, not measured, before each measured one.
	webWarmup = 500 * time.Millisecond
	// webRequestTimeout bounds a request of the load.
	webRequestTimeout = 10 * time.Second
	// webReadyTimeout bounds the wait for every word to have a count.
	webReadyTimeout = 2 * time.Minute
)

// ParseWebRates reads a comma-separated list of request rates, each above 0.
func ParseWebRates(s string) ([]int, error) {
	var out []int
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		n, err := strconv.Atoi(item)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("rate %q: want a number of requests a second above 0", item)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("no rates")
	}
	return out, nil
}

// webDefaults fills in the web case's settings and finds its app.
func (cfg *Config) webDefaults() error {
	if len(cfg.WebRates) == 0 {
		cfg.WebRates = DefaultWebRates
	}
	for _, r := range cfg.WebRates {
		if r <= 0 {
			return fmt.Errorf("bench: web rate %d: want above 0", r)
		}
	}
	if cfg.WebDuration <= 0 {
		cfg.WebDuration = DefaultWebDuration
	}
	if cfg.WebWords <= 0 {
		cfg.WebWords = DefaultWebWords
	}
	if cfg.WebApp == "" {
		cfg.WebApp = DefaultWebApp
	}
	abs, err := filepath.Abs(cfg.WebApp)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("bench: the web case's app: %w (run from weir's repository)", err)
	}
	cfg.WebApp = abs
	return nil
}

// WebFigures are the web case's figures.
type WebFigures struct {
	// Words is the vocabulary asked for; Path the web view's route.
	Words int    `json:"words"`
	Path  string `json:"path"`
	// Seconds each rate was measured, for each target.
	Seconds float64 `json:"seconds"`
	// IdleWordsPerSecond is the words the agents counted a second with no
	// requests, before the first load.
	IdleWordsPerSecond float64 `json:"idleWordsPerSecond"`
	// Sentences is how many sentences the feed wrote, WordsWritten the
	// words they hold, WordsCounted the changelog records read.
	Sentences    int64     `json:"sentences"`
	WordsWritten int64     `json:"wordsWritten"`
	WordsCounted int64     `json:"wordsCounted"`
	Rates        []WebRate `json:"rates"`
}

// WebRate is one request rate: the web view's load and the bare handler's.
type WebRate struct {
	Rate int     `json:"rate"`
	Web  WebLoad `json:"webView"`
	Bare WebLoad `json:"bare"`
	// P99Ratio is Web.P99Ms over Bare.P99Ms.
	P99Ratio float64 `json:"p99Ratio"`
}

// WebLoad is the figures of one open-loop load.
type WebLoad struct {
	// Requests were due; OK answered 200 with a count; Errors did not
	// (FirstError says why the first did not).
	Requests   int    `json:"requests"`
	OK         int    `json:"ok"`
	Errors     int    `json:"errors"`
	FirstError string `json:"firstError,omitempty"`
	// Seconds runs from the first request's due time to the last answer;
	// AchievedPerSecond is OK over it.
	Seconds           float64 `json:"seconds"`
	AchievedPerSecond float64 `json:"achievedPerSecond"`
	// Latency of the OK answers, from the time each request was due to the
	// end of its answer, in milliseconds.
	P50Ms float64 `json:"p50Ms"`
	P99Ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
	// SendLagP99Ms is the p99 of how late the generator sent a request
	// after its due time: the load generator's share of the latencies.
	SendLagP99Ms float64 `json:"sendLagP99Ms"`
	// AgentWordsPerSecond is the words the agents counted a second during
	// the load.
	AgentWordsPerSecond float64 `json:"agentWordsPerSecond"`
}

// webVocabulary returns n distinct lower-case words of two syllables or
// more (baba, beba, ...), the same for the same n.
func webVocabulary(n int) []string {
	const consonants, vowels = "bdfgklmnprstvz", "aeiou"
	const syllables = len(consonants) * len(vowels)
	words := make([]string, n)
	for i := range words {
		var b []byte
		for x, k := i, 0; k < 2 || x > 0; k, x = k+1, x/syllables {
			s := x % syllables
			b = append(b, consonants[s/len(vowels)], vowels[s%len(vowels)])
		}
		words[i] = string(b)
	}
	return words
}

// sentence makes a sentence of words, capitalized and ended with a full
// stop (the agent lower-cases it and strips the punctuation).
func sentence(words []string) []byte {
	b := make([]byte, 0, 8*len(words))
	for i, w := range words {
		if i > 0 {
			b = append(b, ' ')
		}
		if i == 0 && w != "" {
			b = append(b, w[0]-'a'+'A')
			w = w[1:]
		}
		b = append(b, w...)
	}
	return append(b, '.')
}

// loadWordCount loads the word-count app and points it at the bench as
// loadApp does: renamed with the suffix (its group, transactional id and
// changelog follow), its topics suffixed, its topics and table of the
// case's partitions. Its one output, for the harness, is the table's
// changelog; input is the topic of sentences.
func loadWordCount(s appSetup, dataDir string) (*benchApp, error) {
	b, err := spec.Load(s.Path)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", s.Path, err)
	}
	if len(b.Apps) != 1 || len(b.Apps[0].Tables) != 1 || len(b.Apps[0].WebViews) == 0 {
		return nil, fmt.Errorf("%s: want one app with one table and a web view", s.Path)
	}
	a := b.Apps[0]
	rename := func(t string) string { return t + "-" + s.Suffix }
	a.App.Metadata.Name = a.Name() + "-" + s.Suffix
	as := &a.App.Spec
	as.BootstrapServers = strings.Join(s.Brokers, ",")
	as.Config.KafkaClient = s.Client
	as.Config.TopicPartitions = s.Partitions
	as.Config.TopicReplicationFactor = s.Replicas
	a.Tables[0].Spec.Partitions = s.Partitions
	var input string
	for _, ag := range a.Agents {
		in := ag.Spec.Input.Topic
		if in == nil || in.Pattern != "" || in.Name == "" {
			return nil, fmt.Errorf("%s: agent %s: the bench feeds agents that consume topics by name", s.Path, ag.Name())
		}
		if in.Declare {
			in.Partitions = s.Partitions
		}
		if input == "" {
			input = rename(in.Name) // the first agent's: the sentences
		}
		in.Name = rename(in.Name)
		if ag.Spec.Output == nil {
			continue
		}
		for i := range ag.Spec.Output.Topics {
			d := &ag.Spec.Output.Topics[i].Destination
			if d.Name != "" {
				d.Name = rename(d.Name)
				if d.Declare {
					d.Partitions = s.Partitions
				}
			}
		}
	}
	plan, err := engine.Compile(b, engine.Options{DataDir: dataDir, Env: func(string) string { return "" }})
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", s.Path, err)
	}
	if u := engine.Unsupported(plan); len(u) > 0 {
		return nil, fmt.Errorf("%s: not yet supported by the runtime: %s", s.Path, strings.Join(u, "; "))
	}
	ap := plan.Apps[0]
	ba := &benchApp{plan: plan, input: input, outputs: []string{ap.Tables[0].ChangelogTopic}}
	for _, t := range ap.Topics {
		ba.topics = append(ba.topics, t.Name)
	}
	if !slices.Contains(ba.topics, input) {
		return nil, fmt.Errorf("%s: the app does not declare its input %s", s.Path, input)
	}
	ba.topics = append(ba.topics, webview.MembersTopic(ap.ID))
	return ba, nil
}

// webSpec is the web case as the child runs it.
type webSpec struct {
	// ReadyFile is where the child writes webURLs once it serves.
	ReadyFile string `json:"readyFile"`
}

// webURLs are the roots of the child's two servers.
type webURLs struct {
	WebView string `json:"webView"`
	Bare    string `json:"bare"`
}

// webChild is the web case's child: the app with its web server, and the
// bare handler.
type webChild struct {
	rt    *engine.Runtime
	app   *engine.AppPlan
	ready string
	log   *slog.Logger

	srv  *webview.Server
	bare *http.Server
}

func newWebChild(s childSpec, dataDir string, log *slog.Logger) (*webChild, error) {
	ba, err := loadWordCount(*s.App, dataDir)
	if err != nil {
		return nil, err
	}
	return &webChild{
		rt:    engine.NewRuntime(ba.plan, engine.RuntimeOptions{Logger: log}),
		app:   ba.plan.Apps[0],
		ready: s.Web.ReadyFile,
		log:   log,
	}, nil
}

// bareCount is the bare handler's answer.
type bareCount struct {
	Word  string `json:"word"`
	Count int    `json:"count"`
}

// start starts the runtime, the web server and the bare handler (as `weir
// run` starts an app and its server), then writes their URLs to the ready
// file.
func (w *webChild) start(ctx context.Context) (err error) {
	if err := w.rt.Start(ctx); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = w.stop(context.Background())
		}
	}()
	srv, err := webview.New(w.rt, w.app, webview.Options{Addr: "127.0.0.1:0", Logger: w.log})
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	w.srv = srv
	e := echo.New()
	e.GET("/count/:word", func(c *echo.Context) error {
		return c.JSON(http.StatusOK, bareCount{Word: c.Param("word"), Count: 1})
	})
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	w.bare = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = w.bare.Serve(ln) }()
	urls, err := json.Marshal(webURLs{WebView: "http://" + srv.Addr().String(), Bare: "http://" + ln.Addr().String()})
	if err != nil {
		return err
	}
	tmp := w.ready + ".tmp"
	if err := os.WriteFile(tmp, urls, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, w.ready)
}

// stop stops the servers, then the runtime.
func (w *webChild) stop(ctx context.Context) error {
	var errs []error
	if w.bare != nil {
		errs = append(errs, w.bare.Shutdown(ctx))
	}
	if w.srv != nil {
		errs = append(errs, w.srv.Stop(ctx))
	}
	errs = append(errs, w.rt.Stop(ctx))
	return errors.Join(errs...)
}

// runWeb runs the web case: the child serves, the parent feeds the agents
// and loads the servers.
func runWeb(ctx context.Context, cfg Config, brokers []string, suffix string, c Case) (Result, error) {
	res := Result{Case: c.Kind, Client: c.Client}
	setup := appSetup{Path: cfg.WebApp, Suffix: suffix, Client: c.Client, Brokers: brokers, Partitions: cfg.Partitions, Replicas: cfg.Replicas}
	dir, err := os.MkdirTemp("", "weir-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	ba, err := loadWordCount(setup, filepath.Join(dir, "data"))
	if err != nil {
		return res, err
	}
	kcfg := kafka.Config{Brokers: brokers, ClientID: "weir-bench"}
	admin, err := franz.New().NewAdmin(kcfg)
	if err != nil {
		return res, err
	}
	defer admin.Close()
	// The app's own declarations, so that the sentences can be written and
	// the changelog read before the app starts.
	if err := createTopics(ctx, admin, ba.plan.Apps[0].Topics); err != nil {
		return res, err
	}
	defer deleteTopics(cfg, admin, c, ba.topics)

	pcfg := kcfg
	pcfg.ClientID = "weir-bench-producer"
	prod, err := franz.New().NewProducer(pcfg)
	if err != nil {
		return res, err
	}
	defer prod.Close()
	words := webVocabulary(cfg.WebWords)
	feed := &webFeed{prod: prod, topic: ba.input, words: words}
	fmt.Fprintf(cfg.Progress, "%s: writing %d words to %s\n", c, len(words), ba.input)
	if err := feed.fill(ctx); err != nil {
		return res, fmt.Errorf("writing the vocabulary: %w", err)
	}

	// The feed and the changelog reader run until the case ends.
	fctx, stopFeeding := context.WithCancel(ctx)
	var feeding sync.WaitGroup
	defer feeding.Wait()
	defer stopFeeding()
	readErr := make(chan error, 1)
	feeding.Add(2)
	go func() {
		defer feeding.Done()
		rcfg := kcfg
		rcfg.ClientID = "weir-bench-reader"
		readErr <- franz.Tail(fctx, rcfg, ba.outputs, func(*kafka.Record) bool {
			feed.counted.Add(1)
			return true
		})
	}()
	go func() {
		defer feeding.Done()
		feed.run(fctx)
	}()

	ready := filepath.Join(dir, "ready.json")
	cs := childSpec{Kind: c.Kind, Client: c.Client, LogLevel: cfg.LogLevel, CPUProfile: profilePath(cfg.CPUProfile, c),
		App: &setup, Web: &webSpec{ReadyFile: ready}}
	res.Profile = cs.CPUProfile
	ch, err := startChild(cfg, cs)
	if err != nil {
		return res, err
	}
	defer ch.kill()
	fmt.Fprintf(cfg.Progress, "%s: running (child pid %d)\n", c, ch.cmd.Process.Pid)

	// Everything from here on is bounded by the case's timeout, and ends
	// early when the child exits, the feed fails or the reader does.
	lctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	var (
		failMu sync.Mutex
		failed error
	)
	fail := func(err error) {
		failMu.Lock()
		if failed == nil {
			failed = err
		}
		failMu.Unlock()
		cancel()
	}
	// The watcher may take the child's exit (ch.failure marks it done);
	// stopWatching returns once it is gone, before the child is finished
	// or killed.
	watchDone := make(chan struct{})
	var watching sync.WaitGroup
	stopWatching := sync.OnceFunc(func() {
		close(watchDone)
		watching.Wait()
	})
	defer stopWatching()
	watching.Add(1)
	go func() {
		defer watching.Done()
		select {
		case err := <-ch.exited:
			fail(ch.failure(err))
		case err := <-readErr:
			if err == nil {
				err = errors.New("stopped")
			}
			fail(fmt.Errorf("reading the changelog: %w", err))
		case <-feed.failed:
			fail(fmt.Errorf("feeding sentences: %w", *feed.err.Load()))
		case <-watchDone:
		}
	}()
	cause := func(err error) error {
		failMu.Lock()
		defer failMu.Unlock()
		if failed != nil {
			return failed
		}
		if ctx.Err() == nil && lctx.Err() != nil {
			return fmt.Errorf("timed out after %v", cfg.Timeout)
		}
		return err
	}

	urls, err := waitReady(lctx, ready)
	if err != nil {
		return res, cause(err)
	}
	client := loadClient()
	defer client.CloseIdleConnections()
	if err := waitCounted(lctx, client, countURLs(urls.WebView, words)); err != nil {
		return res, cause(err)
	}
	fig := &WebFigures{Words: len(words), Path: "/count/{word}", Seconds: cfg.WebDuration.Seconds()}
	res.Web = fig
	// The agents' pace: the counting agent's records in, from the web
	// server's metrics, over a span.
	pace := webPace{client: client, url: urls.WebView + metricsPath(ba.plan.Apps[0]), agent: counter(ba.plan.Apps[0])}
	if err := pace.start(lctx); err != nil {
		return res, cause(err)
	}
	select {
	case <-time.After(max(cfg.WebDuration, time.Second)):
	case <-lctx.Done():
		return res, cause(lctx.Err())
	}
	if fig.IdleWordsPerSecond, err = pace.end(lctx); err != nil {
		return res, cause(err)
	}
	fmt.Fprintf(cfg.Progress, "%s: the web view counts every word of %d; with no requests the agents count %.0f words/s\n", c, len(words), fig.IdleWordsPerSecond)

	load := func(base string, rate int, seed uint64) (WebLoad, error) {
		ls := &webLoadSpec{Base: base, Words: len(words), Rate: rate, Duration: cfg.WebDuration, Seed: seed}
		if err := pace.start(lctx); err != nil {
			return WebLoad{}, cause(err)
		}
		l, err := runLoad(lctx, cfg, ls)
		if err != nil {
			return WebLoad{}, cause(err)
		}
		if l.AgentWordsPerSecond, err = pace.end(lctx); err != nil {
			return WebLoad{}, cause(err)
		}
		return l, nil
	}
	for i, rate := range cfg.WebRates {
		r := WebRate{Rate: rate}
		if r.Web, err = load(urls.WebView, rate, uint64(2*i)); err != nil {
			return res, err
		}
		if r.Bare, err = load(urls.Bare, rate, uint64(2*i+1)); err != nil {
			return res, err
		}
		if r.Bare.P99Ms > 0 {
			r.P99Ratio = r.Web.P99Ms / r.Bare.P99Ms
		}
		fig.Rates = append(fig.Rates, r)
		fmt.Fprintf(cfg.Progress, "%s: %d/s: web view %.0f/s, p50 %.2f ms, p99 %.2f ms, %d errors; bare %.0f/s, p50 %.2f ms, p99 %.2f ms, %d errors; p99 %.2fx\n",
			c, rate, r.Web.AchievedPerSecond, r.Web.P50Ms, r.Web.P99Ms, r.Web.Errors, r.Bare.AchievedPerSecond, r.Bare.P50Ms, r.Bare.P99Ms, r.Bare.Errors, r.P99Ratio)
	}
	fig.Sentences, fig.WordsWritten, fig.WordsCounted = feed.sentences.Load(), feed.writtenWords.Load(), feed.counted.Load()
	stopWatching()
	if err := cause(nil); err != nil {
		return res, err
	}
	stopFeeding()
	rep, err := ch.finish()
	if err != nil {
		return res, err
	}
	res.PeakRSSBytes, res.CPUSeconds = rep.PeakRSSBytes, rep.CPUSeconds
	return res, nil
}

// waitReady waits for the child's ready file and reads it.
func waitReady(ctx context.Context, path string) (webURLs, error) {
	var urls webURLs
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			return urls, json.Unmarshal(b, &urls)
		}
		select {
		case <-ctx.Done():
			return urls, fmt.Errorf("waiting for the web server: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitCounted asks for every word until each has a count above 0
// (webReadyTimeout at most).
func waitCounted(ctx context.Context, client *http.Client, paths []string) error {
	ctx, cancel := context.WithTimeout(ctx, webReadyTimeout)
	defer cancel()
	pending := slices.Clone(paths)
	last := ""
	for {
		pending = slices.DeleteFunc(pending, func(u string) bool {
			n, err := getCount(ctx, client, u)
			if err != nil {
				last = err.Error()
			}
			return err == nil && n > 0
		})
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d words have no count yet (%s): %w", len(pending), len(paths), last, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// getCount asks the web view for a word's count.
func getCount(ctx context.Context, client *http.Client, u string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var v struct{ Count int }
	if err := json.Unmarshal(body, &v); err != nil {
		return 0, fmt.Errorf("%s: %w", body, err)
	}
	return v.Count, nil
}

// webFeed writes sentences of the vocabulary to the app's input, keeping
// webBacklog words written and not yet counted.
type webFeed struct {
	prod  kafka.Producer
	topic string
	words []string

	written      int64        // words written (run's goroutine only)
	writtenWords atomic.Int64 // the same, for the figures
	counted      atomic.Int64 // changelog records read: words counted
	sentences    atomic.Int64

	err      atomic.Pointer[error]
	failOnce sync.Once
	failed   chan struct{} // closed on the first failed write
}

// done is a write's acknowledgement.
func (f *webFeed) done(_ *kafka.Record, err error) {
	if err != nil && f.err.CompareAndSwap(nil, &err) {
		f.failOnce.Do(func() { close(f.failed) })
	}
}

func (f *webFeed) send(words []string) {
	n := f.sentences.Add(1)
	f.written += int64(len(words))
	f.writtenWords.Store(f.written)
	f.prod.Produce(&kafka.Record{Topic: f.topic, Partition: -1, Key: strconv.AppendInt([]byte("s-"), n, 10), Value: sentence(words)}, f.done)
}

// fill writes the vocabulary in order, webSentenceWords words a sentence,
// and waits for the broker.
func (f *webFeed) fill(ctx context.Context) error {
	f.failed = make(chan struct{})
	for ws := range slices.Chunk(f.words, webSentenceWords) {
		f.send(ws)
	}
	if err := f.prod.Flush(ctx); err != nil {
		return err
	}
	if p := f.err.Load(); p != nil {
		return *p
	}
	return nil
}

// run writes sentences of random words until ctx ends.
func (f *webFeed) run(ctx context.Context) {
	rng := rand.New(rand.NewPCG(6, 1))
	ws := make([]string, webSentenceWords)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		for f.written-f.counted.Load() < webBacklog && ctx.Err() == nil {
			for i := range ws {
				ws[i] = f.words[rng.IntN(len(f.words))]
			}
			f.send(ws)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// counter is the name of the app's agent that writes to a table: the one
// that counts words.
func counter(ap *engine.AppPlan) string {
	for _, ag := range ap.Agents {
		for _, op := range ag.Ops {
			if len(op.Tables) > 0 {
				return ag.Name
			}
		}
	}
	return ""
}

// metricsPath is the path of an app's metrics page:
// <webBasePath><webMetricsBasePath>/metrics.
func metricsPath(ap *engine.AppPlan) string {
	clean := func(p string) string {
		p = strings.TrimSuffix(p, "/")
		if p != "" && !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		return p
	}
	return clean(ap.WebBasePath) + clean(ap.WebMetricsBasePath) + "/metrics"
}

// webPace measures the records an agent took in a second over a span, by
// its counter weir_agent_records_in_total on the metrics page.
type webPace struct {
	client     *http.Client
	url, agent string

	n  float64
	at time.Time
}

func (p *webPace) start(ctx context.Context) (err error) {
	p.n, p.at, err = p.read(ctx)
	return err
}

// end returns the records a second since start.
func (p *webPace) end(ctx context.Context) (float64, error) {
	n, at, err := p.read(ctx)
	if err != nil {
		return 0, err
	}
	return (n - p.n) / at.Sub(p.at).Seconds(), nil
}

func (p *webPace) read(ctx context.Context) (float64, time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return 0, time.Time{}, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, time.Time{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	at := time.Now()
	if err != nil {
		return 0, at, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, at, fmt.Errorf("%s: %s", p.url, resp.Status)
	}
	label := `agent="` + p.agent + `"`
	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, "weir_agent_records_in_total{") && strings.Contains(line, label) {
			fs := strings.Fields(line)
			n, err := strconv.ParseFloat(fs[len(fs)-1], 64)
			return n, at, err
		}
	}
	return 0, at, fmt.Errorf("%s: no weir_agent_records_in_total of agent %s", p.url, p.agent)
}

// countURLs are the URLs of the words' counts under root.
func countURLs(root string, words []string) []string {
	urls := make([]string, len(words))
	for i, w := range words {
		urls[i] = root + "/count/" + w
	}
	return urls
}

// webLoadSpec is one load as its process runs it: Rate requests a second
// to Base/count/{word} for words of the vocabulary of Words, for
// webWarmup and then, measured, Duration.
type webLoadSpec struct {
	Base     string        `json:"base"`
	Words    int           `json:"words"`
	Rate     int           `json:"rate"`
	Duration time.Duration `json:"duration"`
	Seed     uint64        `json:"seed"`
}

// runWebLoad runs a load (in the load's process) until done or until
// stdin closes.
func runWebLoad(s childSpec, stdin io.Reader) (*WebLoad, error) {
	ls := s.Load
	if ls == nil || ls.Rate <= 0 || ls.Words <= 0 || ls.Duration <= 0 {
		return nil, errors.New("web load without a rate, words or a duration")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		cancel()
	}()
	client := loadClient()
	defer client.CloseIdleConnections()
	urls := countURLs(ls.Base, webVocabulary(ls.Words))
	openLoop(ctx, client, urls, ls.Rate, webWarmup, ls.Seed)
	l := openLoop(ctx, client, urls, ls.Rate, ls.Duration, ls.Seed+1<<32)
	if ctx.Err() != nil {
		return nil, errors.New("stopped")
	}
	return &l, nil
}

// runLoad runs a load in a process of its own and returns its figures.
func runLoad(ctx context.Context, cfg Config, ls *webLoadSpec) (WebLoad, error) {
	ch, err := startChild(cfg, childSpec{Kind: kindWebLoad, Load: ls})
	if err != nil {
		return WebLoad{}, err
	}
	defer ch.kill()
	limit := time.NewTimer(webWarmup + ls.Duration + webRequestTimeout + time.Minute)
	defer limit.Stop()
	select {
	case ch.waited = <-ch.exited:
		ch.done = true
	case <-limit.C:
		return WebLoad{}, fmt.Errorf("the load at %d/s did not end", ls.Rate)
	case <-ctx.Done():
		return WebLoad{}, ctx.Err()
	}
	rep, err := ch.finish()
	if err != nil {
		return WebLoad{}, fmt.Errorf("the load at %d/s: %w", ls.Rate, err)
	}
	if rep.Load == nil {
		return WebLoad{}, fmt.Errorf("the load at %d/s reported no figures", ls.Rate)
	}
	return *rep.Load, nil
}

// loadClient is a keep-alive client with idle connections to spare for an
// open-loop load.
func loadClient() *http.Client {
	return &http.Client{
		Timeout: webRequestTimeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
}

// openLoop sends GET requests at rate a second for d, each for a random
// one of urls (drawn from seed), on a fixed schedule: request i is due at
// start + i/rate and sent then, in a goroutine of its own, whatever became
// of the earlier ones. It waits for every answer and returns the figures;
// latency runs from each request's due time to the end of its answer. A
// request is OK when it is answered 200 with "count" in its body.
func openLoop(ctx context.Context, client *http.Client, urls []string, rate int, d time.Duration, seed uint64) WebLoad {
	n := max(1, int(float64(rate)*d.Seconds()))
	lat := make([]time.Duration, n) // -1: failed
	lag := make([]time.Duration, n)
	var (
		wg       sync.WaitGroup
		lastDone atomic.Int64 // unix nanoseconds
		errMu    sync.Mutex
		firstErr string
	)
	get := func(i int, u string, due time.Time) {
		defer wg.Done()
		err := func() error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			switch {
			case err != nil:
				return err
			case resp.StatusCode != http.StatusOK:
				return fmt.Errorf("%s: %.200s", resp.Status, body)
			case !strings.Contains(string(body), `"count"`):
				return fmt.Errorf("no count in %.200s", body)
			}
			return nil
		}()
		now := time.Now()
		for {
			last := lastDone.Load()
			if now.UnixNano() <= last || lastDone.CompareAndSwap(last, now.UnixNano()) {
				break
			}
		}
		if err != nil {
			lat[i] = -1
			errMu.Lock()
			if firstErr == "" {
				firstErr = err.Error()
			}
			errMu.Unlock()
			return
		}
		lat[i] = now.Sub(due)
	}
	rng := rand.New(rand.NewPCG(seed, uint64(rate)))
	interval := float64(time.Second) / float64(rate)
	start := time.Now()
	sent := 0
	for ; sent < n && ctx.Err() == nil; sent++ {
		due := start.Add(time.Duration(float64(sent) * interval))
		sleepUntil(due)
		lag[sent] = time.Since(due)
		wg.Add(1)
		go get(sent, urls[rng.IntN(len(urls))], due)
	}
	wg.Wait()

	l := WebLoad{Requests: sent, FirstError: firstErr}
	ok := make([]time.Duration, 0, sent)
	for _, v := range lat[:sent] {
		if v >= 0 {
			ok = append(ok, v)
		}
	}
	l.OK, l.Errors = len(ok), sent-len(ok)
	if span := time.Unix(0, lastDone.Load()).Sub(start); span > 0 && l.OK > 0 {
		l.Seconds = span.Seconds()
		l.AchievedPerSecond = float64(l.OK) / l.Seconds
	}
	msOf := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	if len(ok) > 0 {
		slices.Sort(ok)
		l.P50Ms, l.P99Ms, l.MaxMs = msOf(percentile(ok, 0.50)), msOf(percentile(ok, 0.99)), msOf(ok[len(ok)-1])
	}
	if sent > 0 {
		lags := lag[:sent]
		slices.Sort(lags)
		l.SendLagP99Ms = msOf(percentile(lags, 0.99))
	}
	return l
}

// writeWeb writes the web cases' tables.
func (r *Report) writeWeb(b *strings.Builder) {
	for _, res := range r.Results {
		if res.Case != KindWeb {
			continue
		}
		fmt.Fprintf(b, "weir bench web/%s: GET by key from a web view while its agents run flat out, beside a bare Echo handler in the same process; broker %s; %d CPUs (GOMAXPROCS %d), load average %.2f at start\n\n",
			res.Client, r.Broker, r.NumCPU, r.GOMAXPROCS, r.LoadAverage)
		if res.Error != "" {
			fmt.Fprintf(b, "web/%s failed: %s\n", res.Client, res.Error)
		}
		f := res.Web
		if f == nil {
			continue
		}
		fmt.Fprintf(b, "%7s %-9s %8s %10s %8s %8s %8s %7s %8s %13s %9s\n",
			"rate/s", "target", "requests", "achieved/s", "p50 ms", "p99 ms", "max ms", "errors", "lag p99", "agent words/s", "p99 x bare")
		row := func(rate int, target string, l WebLoad, ratio string) {
			fmt.Fprintf(b, "%7d %-9s %8d %10.1f %8.2f %8.2f %8.2f %7d %8.2f %13.0f %9s\n",
				rate, target, l.Requests, l.AchievedPerSecond, l.P50Ms, l.P99Ms, l.MaxMs, l.Errors, l.SendLagP99Ms, l.AgentWordsPerSecond, ratio)
		}
		var met, missed []string
		for _, rr := range f.Rates {
			ratio := "-"
			if rr.P99Ratio > 0 {
				ratio = fmt.Sprintf("%.2fx", rr.P99Ratio)
			}
			row(rr.Rate, "web view", rr.Web, ratio)
			row(rr.Rate, "bare", rr.Bare, "")
			verdict := fmt.Sprintf("%d/s (%.2fx)", rr.Rate, rr.P99Ratio)
			if rr.P99Ratio > 0 && rr.P99Ratio <= r.WebTarget && rr.Web.Errors == 0 {
				met = append(met, verdict)
			} else {
				missed = append(missed, verdict)
			}
		}
		b.WriteString("\n")
		fmt.Fprintf(b, "web view: GET %s of samples/word-count, for random words of %d, each counted before the loads; bare: an Echo handler of the same route answering {\"word\": ..., \"count\": 1}, in the same process.\n", f.Path, f.Words)
		fmt.Fprintf(b, "load: open loop from a process of its own, %.1fs per rate and target after %.1fs not measured; latency runs from each request's due time (not its send time) to the end of its answer; lag p99 is how late the generator sent (ms), included in the latencies; errors: no 200 with a count within %v.\n",
			f.Seconds, webWarmup.Seconds(), webRequestTimeout)
		fmt.Fprintf(b, "agents: fed sentences of %d random words of the vocabulary as fast as they count them (%d words written and not yet counted at most), %d sentences in all; agent words/s are the words the counting agent took in a second while the load's process ran (its warm-up included), from the app's metrics; %.0f words/s with no requests.\n",
			webSentenceWords, webBacklog, f.Sentences, f.IdleWordsPerSecond)
		fmt.Fprintf(b, "agents: %d words written, %d counted (changelog records read) when the loads ended.\n", f.WordsWritten, f.WordsCounted)
		if res.PeakRSSBytes > 0 {
			fmt.Fprintf(b, "the process of the app and both servers: peak RSS %s, %.2f cpu s.\n", mib(res.PeakRSSBytes), res.CPUSeconds)
		}
		if len(f.Rates) > 0 {
			switch {
			case len(missed) == 0:
				fmt.Fprintf(b, "target: web view p99 <= %.1fx bare p99: met at every rate: %s.\n", r.WebTarget, strings.Join(met, ", "))
			case len(met) == 0:
				fmt.Fprintf(b, "target: web view p99 <= %.1fx bare p99: NOT met at any rate: %s.\n", r.WebTarget, strings.Join(missed, ", "))
			default:
				fmt.Fprintf(b, "target: web view p99 <= %.1fx bare p99: met at %s; NOT met at %s.\n", r.WebTarget, strings.Join(met, ", "), strings.Join(missed, ", "))
			}
		}
		for _, rr := range f.Rates {
			for _, l := range []struct {
				name string
				l    WebLoad
			}{{"web view", rr.Web}, {"bare", rr.Bare}} {
				if l.l.FirstError != "" {
					fmt.Fprintf(b, "first error of %s at %d/s: %s\n", l.name, rr.Rate, l.l.FirstError)
				}
			}
		}
		if res.Profile != "" && res.Error == "" {
			fmt.Fprintf(b, "cpu profile of web/%s: %s\n", res.Client, res.Profile)
		}
	}
}
