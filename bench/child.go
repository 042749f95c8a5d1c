package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/franz"
	"github.com/weirstream/weir/engine/kafka/rdkafka"
	"github.com/weirstream/weir/spec"
)

// ChildFlag is the hidden flag of `weir bench` that runs one case in this
// process: `weir bench --child SPEC`, SPEC being JSON made by the harness.
const ChildFlag = "--child"

// childSpec is one case as the child runs it.
type childSpec struct {
	Kind     string `json:"kind"`
	Client   string `json:"client"`
	LogLevel string `json:"logLevel,omitempty"`
	// CPUProfile is where to write a CPU profile ("": none).
	CPUProfile string `json:"cpuProfile,omitempty"`

	// passthrough
	Brokers []string `json:"brokers,omitempty"`
	Input   string   `json:"input,omitempty"`
	Output  string   `json:"output,omitempty"`
	Group   string   `json:"group,omitempty"`

	// app, count, replay and web
	App *appSetup `json:"app,omitempty"`

	// web, and the web case's load
	Web  *webSpec     `json:"web,omitempty"`
	Load *webLoadSpec `json:"load,omitempty"`
}

// childReport is what the child prints on its standard output when done.
type childReport struct {
	PeakRSSBytes int64   `json:"peakRSSBytes"`
	CPUSeconds   float64 `json:"cpuSeconds"`
	Error        string  `json:"error,omitempty"`
	replayFigures
	// Load is the figures of a web load.
	Load *WebLoad `json:"load,omitempty"`
}

// RunChild runs one case (the argument of ChildFlag) until stdin closes,
// then stops it and writes a JSON report to stdout. Logs go to stderr. It
// returns the process's exit code.
func RunChild(specJSON string, stdin io.Reader, stdout, stderr io.Writer) int {
	var s childSpec
	rep := childReport{}
	err := json.Unmarshal([]byte(specJSON), &s)
	switch {
	case err != nil:
	case s.Kind == kindWebLoad:
		rep.Load, err = runWebLoad(s, stdin)
	default:
		rep.replayFigures, err = runChild(s, stdin, stderr)
	}
	rep.PeakRSSBytes, rep.CPUSeconds = usage()
	code := 0
	if err != nil {
		rep.Error = err.Error()
		code = 1
	}
	out, _ := json.Marshal(rep)
	fmt.Fprintf(stdout, "%s\n", out)
	return code
}

func runChild(s childSpec, stdin io.Reader, stderr io.Writer) (fig replayFigures, err error) {
	var level slog.Level
	if s.LogLevel == "" {
		s.LogLevel = "warn"
	}
	if err := level.UnmarshalText([]byte(s.LogLevel)); err != nil {
		return fig, fmt.Errorf("log level %q: %w", s.LogLevel, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	stopProfile, err := startProfile(s.CPUProfile)
	if err != nil {
		return fig, err
	}
	defer func() {
		if perr := stopProfile(); err == nil {
			err = perr
		}
	}()
	if s.Kind == KindReplay {
		// It ends by itself, once the table is recovered.
		fig, err = runReplayChild(s, log)
		return fig, err
	}

	var (
		start func(ctx context.Context) error
		stop  func(ctx context.Context) error
	)
	switch s.Kind {
	case KindPassthrough:
		p, err := newPassthrough(s, log)
		if err != nil {
			return fig, err
		}
		start, stop = p.start, p.stop
	case KindApp, KindCount:
		if s.App == nil {
			return fig, errors.New(s.Kind + " case without an app")
		}
		dir, err := os.MkdirTemp("", "weir-bench-")
		if err != nil {
			return fig, err
		}
		defer os.RemoveAll(dir)
		load := loadApp
		if s.Kind == KindCount {
			load = loadCount
		}
		ba, err := load(*s.App, dir)
		if err != nil {
			return fig, err
		}
		rt := engine.NewRuntime(ba.plan, engine.RuntimeOptions{Logger: log})
		start, stop = rt.Start, rt.Stop
	case KindWeb:
		if s.App == nil || s.Web == nil {
			return fig, errors.New("web case without an app")
		}
		dir, err := os.MkdirTemp("", "weir-bench-")
		if err != nil {
			return fig, err
		}
		defer os.RemoveAll(dir)
		w, err := newWebChild(s, dir, log)
		if err != nil {
			return fig, err
		}
		start, stop = w.start, w.stop
	default:
		return fig, fmt.Errorf("unknown case %q", s.Kind)
	}

	sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	err = start(sctx)
	cancel()
	if err != nil {
		return fig, err
	}
	// Run until the harness closes our input (or dies).
	_, _ = io.Copy(io.Discard, stdin)
	sctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return fig, stop(sctx)
}

// startProfile starts a CPU profile to path ("": none) and returns what
// stops it.
func startProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// clientFor returns the Kafka library of a name.
func clientFor(name string) (kafka.Client, error) {
	switch name {
	case spec.ClientFranz, "":
		return franz.New(), nil
	case spec.ClientRdkafka:
		return rdkafka.New(), nil
	}
	return nil, fmt.Errorf("unknown Kafka client %q (franz or librdkafka)", name)
}

// passthrough is the reference case: the runtime's loop with nothing in
// the middle. Each polled record is produced as is to the output topic
// (same key, so the same partition), in the transaction that commits its
// offset, ending a transaction as often as the runtime does by default.
type passthrough struct {
	sess   kafka.Session
	out    string
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan error
}

func newPassthrough(s childSpec, log *slog.Logger) (*passthrough, error) {
	client, err := clientFor(s.Client)
	if err != nil {
		return nil, err
	}
	sess, err := client.NewSession(kafka.SessionConfig{
		Config:          kafka.Config{Brokers: s.Brokers, ClientID: "weir-bench"},
		Guarantee:       kafka.ExactlyOnce,
		Group:           s.Group,
		TransactionalID: s.Group,
		Topics:          []string{s.Input},
	})
	if err != nil {
		return nil, err
	}
	return &passthrough{sess: sess, out: s.Output, log: log, done: make(chan error, 1)}, nil
}

func (p *passthrough) start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() { p.done <- p.loop(ctx) }()
	return nil
}

func (p *passthrough) stop(context.Context) error {
	p.cancel()
	err := <-p.done
	p.sess.Close()
	return err
}

func (p *passthrough) loop(ctx context.Context) error {
	var failed atomic.Pointer[error]
	done := func(_ *kafka.Record, err error) {
		if err != nil {
			failed.CompareAndSwap(nil, &err)
		}
	}
	for ctx.Err() == nil {
		if err := p.sess.Begin(context.Background()); err != nil {
			return err
		}
		failed.Store(nil)
		start, n := time.Now(), 0
		for n < engine.DefaultCommitEvery {
			left := engine.DefaultCommitInterval - time.Since(start)
			if left <= 0 {
				break
			}
			pctx, cancel := context.WithTimeout(ctx, left)
			fetches, err := p.sess.Poll(pctx)
			cancel()
			for _, f := range fetches {
				for _, r := range f.Records {
					p.sess.Produce(&kafka.Record{Topic: p.out, Partition: -1, Key: r.Key, Value: r.Value}, done)
					n++
				}
			}
			if err != nil {
				if pctx.Err() != nil || errors.Is(err, kafka.ErrClosed) {
					break
				}
				p.log.Warn("poll", "error", err)
			}
		}
		perr := failed.Load()
		if perr != nil {
			p.log.Warn("a produce failed: aborting the transaction", "error", *perr)
		}
		ectx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := p.sess.End(ectx, perr == nil)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// usage returns the process's peak resident set size (VmHWM; getrusage's
// maxrss where /proc is missing) and the CPU time it used.
func usage() (rss int64, cpu float64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		rss = ru.Maxrss * 1024 // kilobytes on Linux
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	if f, err := os.Open("/proc/self/status"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:")); ok {
				fs := bytes.Fields(v)
				if len(fs) > 0 {
					if kb, err := strconv.ParseInt(string(fs[0]), 10, 64); err == nil {
						rss = kb * 1024
					}
				}
			}
		}
	}
	return rss, cpu
}
