package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/franz"
	"github.com/weirstream/weir/engine/kafka/rdkafka"
	"github.com/weirstream/weir/engine/state"
	"github.com/weirstream/weir/spec"
)

// RuntimeOptions tune a Runtime.
type RuntimeOptions struct {
	// Logger receives the runtime's logs; nil: slog.Default().
	Logger *slog.Logger
	// CommitEvery ends a transaction once this many records were polled
	// since it began; 0: DefaultCommitEvery.
	CommitEvery int
	// CommitInterval ends a transaction once this long has passed since it
	// began; 0: DefaultCommitInterval.
	CommitInterval time.Duration
	// Workers is the size of each app's worker pool; 0: runtime.GOMAXPROCS.
	Workers int
	// TableGrace is how long the local copy of a table partition this
	// replica no longer holds is kept, for a quick re-acquire; 0:
	// DefaultTableGrace.
	TableGrace time.Duration
	// CleanInterval is how often expired windows and the copies of
	// partitions that stayed away are removed; 0: a minute.
	CleanInterval time.Duration
}

// The defaults of RuntimeOptions.
const (
	DefaultCommitEvery    = 1000
	DefaultCommitInterval = 100 * time.Millisecond
	DefaultTableGrace     = 10 * time.Minute
)

// endTimeout bounds the End of a transaction when the runtime stops.
const endTimeout = 30 * time.Second

// Runtime runs a plan: for each app, one Kafka session driven by one loop
// that feeds a fixed pool of workers (see agent_run.go), its channels
// (channel.go), tasks (task.go) and leader membership (leader.go).
//
// Start refuses a plan that uses what this runtime does not run yet
// (tables, joins, web views), so that nothing half-runs.
type Runtime struct {
	plan *Plan
	opts RuntimeOptions
	log  *slog.Logger

	mu      sync.Mutex
	started bool
	apps    []*appRun
	dbs     map[string]*state.DB // table stores, by directory

	// generation counts the plans applied (1: the plan started with); hash
	// is what Apply was told of the current one.
	generation int64
	hash       string

	// running is apps, for lookups that must not wait for a Start, Stop or
	// Apply in progress (web requests): set whenever apps changes.
	running atomic.Pointer[[]*appRun]
	// config is generation, hash and the reloads' outcome, for readers
	// that must not wait (web requests).
	config atomic.Pointer[configState]
}

// setApps sets the running apps.
func (r *Runtime) setApps(apps []*appRun) {
	r.apps = apps
	cp := slices.Clone(apps)
	r.running.Store(&cp)
}

// NewRuntime returns a runtime for plan; nothing starts before Start.
func NewRuntime(plan *Plan, opts RuntimeOptions) *Runtime {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CommitEvery <= 0 {
		opts.CommitEvery = DefaultCommitEvery
	}
	if opts.CommitInterval <= 0 {
		opts.CommitInterval = DefaultCommitInterval
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.TableGrace <= 0 {
		opts.TableGrace = DefaultTableGrace
	}
	if opts.CleanInterval <= 0 {
		opts.CleanInterval = time.Minute
	}
	return &Runtime{plan: plan, opts: opts, log: opts.Logger}
}

// clientFor returns the Kafka library an app names.
func clientFor(name string) (kafka.Client, error) {
	switch name {
	case spec.ClientFranz, "":
		return franz.New(), nil
	case spec.ClientRdkafka:
		return rdkafka.New(), nil
	}
	return nil, fmt.Errorf("unknown Kafka client %q", name)
}

// Unsupported returns, for each thing the plan uses that this runtime does
// not run yet, one line naming it; none when the plan can run.
func Unsupported(p *Plan) []string {
	var out []string
	add := func(app, format string, args ...any) {
		out = append(out, fmt.Sprintf("app %s: %s", app, fmt.Sprintf(format, args...)))
	}
	for _, a := range p.Apps {
		for _, j := range a.Joins {
			add(a.Name, "join %s", j.Name)
		}
		consumes := false
		for _, ag := range a.Agents {
			consumes = consumes || ag.Input.Channel == ""
		}
		for _, t := range a.Tasks {
			for _, op := range t.Ops {
				if len(op.Tables) > 0 && !consumes {
					add(a.Name, "task %s: operation %s uses tables, but no agent of the app consumes a topic: tables are written in the transaction of the app's consumer", t.Name, op.Name)
				}
			}
		}
		// Partitioned tables updated from more than one topic: the group
		// assigns partitions cooperatively, topic by topic, so partition p
		// of two topics may go to two replicas, which would both write
		// table partition p.
		var stateful []string
		for _, ag := range a.Agents {
			uses := false
			for _, op := range ag.Ops {
				for _, ta := range op.Tables {
					uses = uses || (ta.Table != nil && !ta.Table.Global)
				}
			}
			if !uses {
				continue
			}
			if ag.Input.Pattern != "" {
				add(a.Name, "agent %s: a topic pattern as the input of an agent that updates partitioned tables (name its one topic)", ag.Name)
			}
			for _, t := range ag.Input.Topics {
				if !slices.Contains(stateful, t) {
					stateful = append(stateful, t)
				}
			}
		}
		if len(stateful) > 1 {
			add(a.Name, "partitioned tables updated from more than one topic (%s): the partitions of different topics may go to different replicas; update them from one topic, or make the table global", strings.Join(stateful, ", "))
		}
	}
	return out
}

// Start declares each app's topics, checks those it must find, opens one
// session per app and starts its loop. ctx bounds the start only; the
// loops run until Stop. On error nothing is left running.
func (r *Runtime) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("runtime: already started")
	}
	if u := Unsupported(r.plan); len(u) > 0 {
		return fmt.Errorf("runtime: not yet supported by the runtime:\n  %s", strings.Join(u, "\n  "))
	}
	var apps []*appRun
	for _, ap := range r.plan.Apps {
		if !runs(ap) {
			continue
		}
		a, err := r.startApp(ctx, ap)
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), endTimeout)
			for _, a := range apps {
				_ = a.shutdown(sctx)
			}
			cancel()
			r.closeStores()
			return fmt.Errorf("app %s: %w", ap.Name, err)
		}
		apps = append(apps, a)
	}
	r.setApps(apps)
	r.started = true
	r.generation = 1
	r.publish()
	return nil
}

// runs reports whether an app has anything to run: agents or tasks. An app
// of web views only is served by package webview alone.
func runs(ap *AppPlan) bool { return len(ap.Agents) > 0 || len(ap.Tasks) > 0 }

// startApp declares an app's topics, checks what it needs of the cluster,
// opens its session and store and starts it. ctx bounds the start only.
func (r *Runtime) startApp(ctx context.Context, ap *AppPlan) (*appRun, error) {
	client, err := clientFor(ap.Client)
	if err != nil {
		return nil, err
	}
	if err := declareTopics(ctx, client, ap, r.log.With("app", ap.Name)); err != nil {
		return nil, err
	}
	var db *state.DB
	if len(ap.Tables) > 0 {
		if db, err = r.store(ap); err != nil {
			return nil, err
		}
		if err := checkTablePartitions(ctx, client, ap); err != nil {
			return nil, err
		}
	}
	a, err := newAppRun(r, ap, client, db)
	if err != nil {
		return nil, err
	}
	a.launch()
	return a, nil
}

// Stop finishes the work in flight, commits it, and closes the sessions.
// When ctx ends first, what is still open is aborted (its records come
// again at the next start) and ctx's error is returned.
func (r *Runtime) Stop(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		return nil
	}
	r.started = false
	errs := make([]error, len(r.apps))
	var wg sync.WaitGroup
	for i, a := range r.apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = a.shutdown(ctx)
		}()
	}
	wg.Wait()
	r.setApps(nil)
	r.closeStores()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// store returns the table store of an app's data dir, opening it once.
func (r *Runtime) store(ap *AppPlan) (*state.DB, error) {
	if ap.DataDir == "" {
		return nil, errors.New("tables keep their state on disk: give a data directory (--data-dir)")
	}
	dir := filepath.Join(ap.DataDir, "state")
	if db := r.dbs[dir]; db != nil {
		return db, nil
	}
	// Every commit waits for the write-ahead log to reach the disk: without
	// it a killed process loses its last commits (Pebble buffers the log),
	// and its next start replays more of the changelogs than the tail. The
	// commits are one per partition and transaction, so the cost is small.
	db, err := state.Open(dir, state.Options{Logger: r.log, Sync: true})
	if err != nil {
		return nil, err
	}
	if r.dbs == nil {
		r.dbs = map[string]*state.DB{}
	}
	r.dbs[dir] = db
	return db, nil
}

func (r *Runtime) closeStores() {
	for dir, db := range r.dbs {
		if err := db.Close(); err != nil {
			r.log.Error("closing the table store", "dir", dir, "error", err)
		}
	}
	r.dbs = nil
}

// Tables reports the recovery of every table partition the runtime has
// recovered or is recovering, in app, table and partition order.
func (r *Runtime) Tables() []TableProgress {
	apps := r.snapshot()
	var out []TableProgress
	for _, a := range apps {
		a.rec.mu.Lock()
		for table, m := range a.rec.progress {
			for p, pp := range m {
				out = append(out, TableProgress{App: a.plan.Name, Table: table, Partition: p,
					Done: pp.done.Load(), Total: pp.total.Load(), Recovering: pp.recovering.Load()})
			}
		}
		a.rec.mu.Unlock()
	}
	slices.SortFunc(out, func(x, y TableProgress) int {
		if c := strings.Compare(x.App, y.App); c != 0 {
			return c
		}
		if c := strings.Compare(x.Table, y.Table); c != 0 {
			return c
		}
		return int(x.Partition - y.Partition)
	})
	return out
}

// Replayed returns how many changelog records the runtime's recoveries
// and global-table catch-ups have applied.
func (r *Runtime) Replayed() int64 {
	var n int64
	for _, a := range r.snapshot() {
		n += a.rec.replayed.Load()
	}
	return n
}

// checkTablePartitions checks that every partitioned table an agent
// updates has the partitions of the topics (named, not patterns) the agent
// consumes, as they exist in the cluster.
func checkTablePartitions(ctx context.Context, client kafka.Client, ap *AppPlan) error {
	type use struct {
		table *TablePlan
		agent string
	}
	uses := map[string][]use{}
	var topics []string
	for _, ag := range ap.Agents {
		for _, op := range ag.Ops {
			for _, ta := range op.Tables {
				if ta.Table == nil || ta.Table.Global {
					continue
				}
				for _, t := range ag.Input.Topics {
					if uses[t] == nil {
						topics = append(topics, t)
					}
					uses[t] = append(uses[t], use{ta.Table, ag.Name})
				}
			}
		}
	}
	if len(topics) == 0 {
		return nil
	}
	admin, err := client.NewAdmin(ap.Kafka)
	if err != nil {
		return err
	}
	defer admin.Close()
	have, err := admin.DescribeTopics(ctx, topics)
	if err != nil {
		return fmt.Errorf("describing topics: %w", err)
	}
	var errs []error
	seen := map[string]bool{}
	for _, t := range topics {
		info, ok := have[t]
		if !ok {
			continue // the group waits for it; nothing to compare yet
		}
		for _, u := range uses[t] {
			k := t + "\x00" + u.table.Name
			if info.Partitions != u.table.Partitions && !seen[k] {
				seen[k] = true
				errs = append(errs, fmt.Errorf("table %s has %d partitions, but topic %s, which updates it through agent %s, has %d: a table must have the partitions of the topics that update it (set the table's partitions to %d)",
					u.table.Name, u.table.Partitions, t, u.agent, info.Partitions, info.Partitions))
			}
		}
	}
	return errors.Join(errs...)
}

// NotReady returns, for each app that is not ready, a line saying why:
// it is starting (no transaction has ended yet), or its Kafka session
// failed and is being renewed with back-off, or polling reports errors
// (a broker outage). None when every app is ready. Apps with no topic
// input are always ready.
func (r *Runtime) NotReady() []string {
	p := r.running.Load()
	if p == nil || len(*p) == 0 && !r.isStarted() {
		return []string{"not running"}
	}
	var out []string
	for _, a := range *p {
		if !a.consumes {
			continue
		}
		if why := a.unready.Load(); why != nil {
			out = append(out, "app "+a.plan.Name+": "+*why)
		}
	}
	return out
}

func (r *Runtime) isStarted() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.started
}

// snapshot returns the running apps without waiting for a Start, Stop or
// Apply in progress.
func (r *Runtime) snapshot() []*appRun {
	if p := r.running.Load(); p != nil {
		return *p
	}
	return nil
}

// declareTopics creates the app's topics to declare and checks that those
// it may not declare exist. A declared topic that exists already is left as
// it is; where its partitions or declared config differ, a warning says so
// (weir never changes an existing topic).
func declareTopics(ctx context.Context, client kafka.Client, ap *AppPlan, log *slog.Logger) error {
	if len(ap.Topics) == 0 && len(ap.MustExist) == 0 {
		return nil
	}
	admin, err := client.NewAdmin(ap.Kafka)
	if err != nil {
		return err
	}
	defer admin.Close()
	if len(ap.Topics) > 0 {
		res, err := admin.CreateTopics(ctx, ap.Topics)
		if err != nil {
			return fmt.Errorf("declaring topics: %w", err)
		}
		var errs []error
		for _, t := range ap.Topics {
			if e := res[t.Name]; e != nil {
				errs = append(errs, fmt.Errorf("declaring topic %s: %w", t.Name, e))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		names := make([]string, len(ap.Topics))
		for i, t := range ap.Topics {
			names[i] = t.Name
		}
		have, err := admin.DescribeTopics(ctx, names)
		if err != nil {
			return fmt.Errorf("describing topics: %w", err)
		}
		for _, t := range ap.Topics {
			for _, d := range topicDrift(t, have[t.Name]) {
				log.Warn("an existing topic differs from its declaration; weir leaves it as it is", "topic", t.Name, "difference", d)
			}
		}
	}
	if len(ap.MustExist) > 0 {
		names := make([]string, len(ap.MustExist))
		for i, t := range ap.MustExist {
			names[i] = t.Name
		}
		have, err := admin.DescribeTopics(ctx, names)
		if err != nil {
			return fmt.Errorf("describing topics: %w", err)
		}
		var missing []string
		for _, n := range names {
			if _, ok := have[n]; !ok {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("topics weir needs do not exist and topicAllowDeclare is false: %s", strings.Join(missing, ", "))
		}
	}
	return nil
}

// topicDrift says how an existing topic differs from its declaration:
// partitions, and each declared config entry the topic reports otherwise.
func topicDrift(want kafka.TopicSpec, have kafka.TopicInfo) []string {
	var out []string
	if have.Name == "" {
		return nil
	}
	if want.Partitions > 0 && have.Partitions != want.Partitions {
		out = append(out, fmt.Sprintf("%d partitions, declared %d", have.Partitions, want.Partitions))
	}
	for _, k := range slices.Sorted(maps.Keys(want.Config)) {
		if v, ok := have.Config[k]; ok && v != want.Config[k] {
			out = append(out, fmt.Sprintf("%s=%s, declared %s", k, v, want.Config[k]))
		}
	}
	return out
}
