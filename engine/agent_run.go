package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/state"
)

// appRun is one app at run time: its session, its loop and its workers,
// its channels, tasks and leader membership.
//
// The loop (one goroutine per app) drives the session: Begin; then Poll
// and dispatch, until enough records were polled or enough time has passed
// since Begin; then it processes the take batches still open, waits for the
// channel items that came from the transaction's records, and End commits
// unless a produce failed since Begin (then End aborts and the session
// rewinds: the records come again). dispatch hands each Fetch to the pool
// worker its topic and partition were given when first seen (or, for agents
// with isolatedPartitions, to that partition's own worker), so a
// partition's records always go to the same worker, in order, and waits
// until every worker is done with the batch: nothing is produced while
// Begin or End run, as the Session contract requires.
type appRun struct {
	rt       *Runtime
	plan     *AppPlan
	client   kafka.Client
	sess     kafka.Session  // nil when no agent consumes a topic
	consumes bool           // an agent consumes a topic: the app has a session
	producer kafka.Producer // nil until tasks or web view ingest need it
	prodMu   sync.Mutex     // guards making producer after the start
	log      *slog.Logger
	agents   []*agentRun
	workers  []*worker

	// every and interval end a transaction (see take.go).
	every    int
	interval time.Duration

	// isolated are the workers of single partitions (isolatedPartitions).
	isoMu    sync.Mutex
	isolated map[kafka.TopicPartition]*worker

	// lanes is the pool worker of each partition seen, laneCount how many
	// partitions each has (see partitionWorker); the loop's own.
	lanes     map[kafka.TopicPartition]*worker
	laneCount map[*worker]int

	channels    map[string]*channelRun
	chanPending atomic.Int64  // channel items of the open transaction
	drained     chan struct{} // signalled when chanPending drops to 0
	stopping    chan struct{} // closed when the app stops: senders give up

	tasks  []*taskRun
	leader *leaderRun // nil unless a task runs onLeader
	// dueTasks are tasks that use tables, due to run in the loop.
	dueTasks chan *taskRun

	tables      map[string]*tableRun
	rec         recovery
	globalReady chan struct{} // closed when the global tables caught up; nil: none

	// The app's lifecycle (launch, shutdown): stopFn ends its loops,
	// killFn cuts short what they wait on; exited is closed when all its
	// goroutines have returned.
	stopFn, killFn context.CancelFunc
	exited         chan struct{}
	stopOnce       sync.Once

	// swap is a code swap waiting for the loop's next transaction boundary.
	swap atomic.Pointer[swapRequest]
	// rejoin asks the loop to leave the group and join again (a rebalance);
	// rejoins counts those done.
	rejoin  atomic.Bool
	rejoins atomic.Int64

	// unready says why the app is not ready (nil: ready): it is starting,
	// or its session failed and is being renewed, or Poll reports errors.
	// A transaction that ends without error makes it ready again.
	unready atomic.Pointer[string]

	// failed holds the first produce error since Begin.
	failed atomic.Pointer[error]
	// done is the callback of the produces nothing waits for.
	done func(*kafka.Record, error)
	// producerDone is done for the app's producer (tasks).
	producerDone func(*kafka.Record, error)

	lags lagTable // per partition consumed

	prober kafka.Admin // asks the brokers when the app is idle (loop only)

	routesMu sync.RWMutex
	routes   map[string][]*agentRun // by input topic
	notices  LogLimiter             // Poll and session notices
	prodLog  LogLimiter             // producer failures
}

// agentRun is an agent at run time.
type agentRun struct {
	name    string
	plan    *AgentPlan // read by the one goroutine that runs the agent
	topics  map[string]bool
	pattern *regexp.Regexp
	limiter LogLimiter
	log     *slog.Logger

	in, out, deadLetters atomic.Int64
	// codeErrors counts the failures of the agent's code, among them
	// stepLimits and timeouts; latency is the time records take through
	// the pipeline (stats.go).
	codeErrors, stepLimits, timeouts atomic.Int64
	latency                          histogram

	// viaChannel: the agent consumes a channel (its consumer swaps its code).
	viaChannel bool
	// updatesTables: the agent's operations use partitioned tables (its
	// shape: a code swap keeps it).
	updatesTables bool
}

func newAppRun(rt *Runtime, ap *AppPlan, client kafka.Client, db *state.DB) (*appRun, error) {
	a := &appRun{
		rt:        rt,
		plan:      ap,
		client:    client,
		log:       rt.log.With("app", ap.Name),
		routes:    map[string][]*agentRun{},
		isolated:  map[kafka.TopicPartition]*worker{},
		lanes:     map[kafka.TopicPartition]*worker{},
		laneCount: map[*worker]int{},
		channels:  map[string]*channelRun{},
		drained:   make(chan struct{}, 1),
		stopping:  make(chan struct{}),
		every:     rt.opts.CommitEvery,
		interval:  rt.opts.CommitInterval,
		tables:    map[string]*tableRun{},
	}
	a.rec.init()
	for _, tp := range ap.Tables {
		a.tables[tp.Name] = newTableRun(a, tp, db)
		if tp.Global && a.globalReady == nil {
			a.globalReady = make(chan struct{})
		}
	}
	if err := a.noteLocalCopies(); err != nil {
		return nil, err
	}
	starting := "starting: no transaction has ended yet"
	a.unready.Store(&starting)
	a.done = func(_ *kafka.Record, err error) {
		if err != nil {
			a.fail(err)
		}
	}
	a.producerDone = func(r *kafka.Record, err error) {
		if err == nil {
			return
		}
		if ok, dropped := a.prodLog.Allow(time.Now()); ok {
			a.log.Error("a task's record could not be produced", "topic", r.Topic, "error", err, "suppressed", dropped)
		}
	}
	consumesTopics := false
	var within time.Duration
	for _, ag := range ap.Agents {
		ar := &agentRun{plan: ag, name: ag.Name, viaChannel: ag.Input.Channel != "", topics: map[string]bool{}, log: a.log.With("agent", ag.Name)}
		for _, op := range ag.Ops {
			for _, ta := range op.Tables {
				ar.updatesTables = ar.updatesTables || (ta.Table != nil && !ta.Table.Global)
			}
		}
		for _, t := range ag.Input.Topics {
			ar.topics[t] = true
		}
		if p := ag.Input.Pattern; p != "" {
			re, err := regexp.Compile("^(?:" + p + ")$")
			if err != nil {
				return nil, fmt.Errorf("agent %s: pattern %q: %w", ag.Name, p, err)
			}
			ar.pattern = re
		}
		a.agents = append(a.agents, ar)
		if ag.Input.Channel != "" {
			continue
		}
		consumesTopics = true
		if tk := ag.Take; tk != nil {
			if tk.Within > 0 && (within == 0 || tk.Within < within) {
				within = tk.Within
			}
			a.every = max(a.every, 10*tk.Max)
		}
	}
	if within > 0 {
		a.interval = within
	}
	// Channels, each with the agents that consume it.
	subs := map[string][]*agentRun{}
	var names []string
	for _, ar := range a.agents {
		if c := ar.plan.Input.Channel; c != "" {
			if subs[c] == nil {
				names = append(names, c)
			}
			subs[c] = append(subs[c], ar)
		}
	}
	for _, name := range names {
		a.channels[name] = newChannelRun(a, name, subs[name])
	}
	if err := a.checkChannelSends(); err != nil {
		return nil, err
	}
	for _, tp := range ap.Tasks {
		t, err := newTaskRun(a, tp)
		if err != nil {
			return nil, err
		}
		a.tasks = append(a.tasks, t)
		if tp.OnLeader && a.leader == nil {
			a.leader = &leaderRun{app: a, topic: ap.LeaderTopic, client: client, log: a.log}
		}
	}
	a.dueTasks = make(chan *taskRun, len(a.tasks))
	if len(a.tasks) > 0 {
		p, err := client.NewProducer(ap.Kafka)
		if err != nil {
			return nil, err
		}
		a.producer = p
	}
	if consumesTopics {
		for range rt.opts.Workers {
			a.workers = append(a.workers, newWorker(a))
		}
		sess, err := client.NewSession(a.sessionConfig())
		if err != nil {
			a.close()
			return nil, err
		}
		a.sess, a.consumes = sess, true
	}
	return a, nil
}

// checkChannelSends checks that every channel the app sends to has a
// consumer. (Compile checks the reverse: a consumed channel has a sender.)
func (a *appRun) checkChannelSends() error {
	check := func(what string, d *DestPlan) error {
		if d.Channel != "" && a.channels[d.Channel] == nil {
			return fmt.Errorf("%s sends to channel %q, which no agent of the app consumes", what, d.Channel)
		}
		return nil
	}
	var errs []error
	for _, ag := range a.plan.Agents {
		for i := range ag.Ops {
			if d := ag.Ops[i].Send; d != nil {
				errs = append(errs, check("agent "+ag.Name+": operation "+ag.Ops[i].Name, d))
			}
		}
		for i := range ag.Outputs {
			errs = append(errs, check("agent "+ag.Name+": "+ag.Outputs[i].Path, &ag.Outputs[i]))
		}
	}
	for _, t := range a.plan.Tasks {
		for i := range t.Ops {
			if d := t.Ops[i].Send; d != nil {
				errs = append(errs, check("task "+t.Name+": operation "+t.Ops[i].Name, d))
			}
		}
	}
	return errors.Join(errs...)
}

func (a *appRun) sessionConfig() kafka.SessionConfig {
	sc := a.plan.SessionConfig()
	sc.OnAssigned = func(_ context.Context, parts []kafka.TopicPartition) {
		a.log.Debug("partitions assigned", "partitions", parts)
		a.assigned(parts)
	}
	sc.OnRevoked = func(_ context.Context, parts []kafka.TopicPartition) {
		a.log.Debug("partitions revoked", "partitions", parts)
		a.revoked(parts)
		a.lags.forget(parts)
	}
	return sc
}

// fail records a produce error: the transaction in flight cannot commit.
func (a *appRun) fail(err error) {
	a.failed.CompareAndSwap(nil, &err)
}

// route returns the agents that consume topic.
func (a *appRun) route(topic string) []*agentRun {
	a.routesMu.RLock()
	rs, ok := a.routes[topic]
	a.routesMu.RUnlock()
	if ok {
		return rs
	}
	for _, ag := range a.agents {
		if ag.topics[topic] || (ag.pattern != nil && ag.pattern.MatchString(topic)) {
			rs = append(rs, ag)
		}
	}
	a.routesMu.Lock()
	a.routes[topic] = rs
	a.routesMu.Unlock()
	return rs
}

// isolatedTopic reports whether an agent with isolatedPartitions consumes
// topic: its partitions then get a worker each.
func (a *appRun) isolatedTopic(topic string) bool {
	for _, ag := range a.route(topic) {
		if ag.plan.Isolated {
			return true
		}
	}
	return false
}

// run starts the app's goroutines: the loop, the channel consumers, the
// tasks and the leader membership. They end when ctx ends (killCtx cuts
// short what the loop waits on); wait returns when all have.
func (a *appRun) run(ctx, killCtx context.Context) (wait func()) {
	var wg sync.WaitGroup
	for _, c := range a.channels {
		go c.run()
	}
	if a.leader != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.leader.run(ctx) }()
	}
	if a.globalReady != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.followGlobal(ctx, a.globalReady) }()
	}
	var producers sync.WaitGroup // what sends on channels
	for _, t := range a.tasks {
		producers.Add(1)
		go func() { defer producers.Done(); t.run(ctx) }()
	}
	if a.sess != nil {
		producers.Add(1)
		go func() { defer producers.Done(); a.loop(ctx, killCtx) }()
	}
	return func() {
		// Web views send on channels too, for as long as the app runs.
		<-ctx.Done()
		producers.Wait()
		// Nothing sends on the channels any more: let them run dry.
		for _, c := range a.channels {
			close(c.q)
		}
		for _, c := range a.channels {
			<-c.done
		}
		wg.Wait()
		a.prodMu.Lock()
		defer a.prodMu.Unlock()
		if a.producer != nil {
			fctx, cancel := context.WithTimeout(killCtx, endTimeout)
			if err := a.producer.Flush(fctx); err != nil {
				a.log.Error("flushing the tasks' records", "error", err)
			}
			cancel()
		}
	}
}

// launch starts the app's goroutines.
func (a *appRun) launch() {
	loopCtx, stop := context.WithCancel(context.Background())
	killCtx, kill := context.WithCancel(context.Background())
	a.stopFn, a.killFn = stop, kill
	a.exited = make(chan struct{})
	wait := a.run(loopCtx, killCtx)
	go func() {
		wait()
		close(a.exited)
	}()
}

// shutdown stops the app: it finishes the work in flight, commits it and
// closes the session. When ctx ends first, what is still open is aborted
// (its records come again) and ctx's error is returned.
func (a *appRun) shutdown(ctx context.Context) error {
	a.stopFn()
	var err error
	select {
	case <-a.exited:
	case <-ctx.Done():
		a.killFn()
		a.stopOnce.Do(func() { close(a.stopping) })
		<-a.exited
		err = ctx.Err()
	}
	a.killFn()
	a.close()
	return err
}

// close ends the session (aborting an open transaction) and the producer.
func (a *appRun) close() {
	if a.sess != nil {
		a.sess.Close()
		a.sess = nil
	}
	if a.producer != nil {
		a.producer.Close()
		a.producer = nil
	}
	if a.rec.reader != nil {
		a.rec.reader.Close()
		a.rec.reader = nil
	}
	if a.prober != nil {
		a.prober.Close()
		a.prober = nil
	}
	for _, t := range a.tables {
		t.end(false)
	}
}

// loop runs the app's consumption until loopCtx ends, then commits what it
// processed. killCtx ends what the loop waits on when stopping takes too long.
func (a *appRun) loop(loopCtx, killCtx context.Context) {
	for _, w := range a.workers {
		go w.run()
	}
	defer func() {
		for _, w := range a.workers {
			close(w.in)
		}
		a.isoMu.Lock()
		for _, w := range a.isolated {
			close(w.in)
		}
		a.isoMu.Unlock()
	}()
	every, interval := a.every, a.interval
	var aborting time.Time  // since when every End aborted (zero: the last committed)
	idleSince := time.Now() // when the last transaction with records ended
	if a.globalReady != nil {
		a.setUnready("catching up with the global tables' changelogs")
		select {
		case <-a.globalReady:
		case <-loopCtx.Done():
			return
		}
	}
	grace := a.rt.opts.TableGrace
	nextClean := time.Now().Add(min(grace, a.rt.opts.CleanInterval))
	for loopCtx.Err() == nil {
		if req := a.swap.Swap(nil); req != nil {
			a.applyCode(req.plan)
			close(req.done)
		}
		if a.rejoin.Swap(false) {
			// POST /signal/rebalance: leave the group and join again, so
			// that the group rebalances.
			if !a.renew(loopCtx, "a rebalance on request", errRebalance) {
				return
			}
			a.rejoins.Add(1)
		}
		if now := time.Now(); now.After(nextClean) {
			a.cleanRevoked(grace)
			for _, t := range a.tables {
				t.cleanWindows(a.held())
			}
			nextClean = now.Add(min(grace, a.rt.opts.CleanInterval))
		}
		if err := a.sess.Begin(killCtx); err != nil {
			if !a.renew(loopCtx, "begin", err) {
				return
			}
			continue
		}
		a.failed.Store(nil)
		start, n := time.Now(), 0
		recovered := true
		for n < every {
			left := interval - time.Since(start)
			if left <= 0 {
				break
			}
			pctx, cancel := context.WithTimeout(loopCtx, left)
			fetches, err := a.sess.Poll(pctx)
			cancel()
			// Table partitions come up to date before their records are
			// processed; when that fails, the transaction aborts and the
			// records come again.
			if rerr := a.recoverPending(killCtx); rerr != nil {
				a.log.Error("recovering tables", "error", rerr)
				recovered = false
				break
			}
			if len(fetches) > 0 {
				n += a.dispatch(fetches)
			}
			a.runDueTasks()
			if err != nil {
				if pctx.Err() != nil || errors.Is(err, kafka.ErrClosed) {
					break
				}
				a.setUnready("polling: " + err.Error())
				if ok, dropped := a.notices.Allow(time.Now()); ok {
					a.log.Warn("poll", "error", err, "suppressed", dropped)
				}
			}
		}
		a.flushTakes()
		commit := recovered
		if err := a.drain(killCtx); err != nil {
			commit = false
			a.log.Warn("stopping before the channel items of the transaction were processed: aborting it; its records will be processed again")
		}
		if perr := a.failed.Load(); perr != nil {
			commit = false
			a.log.Warn("a produce failed: aborting the transaction; its records will be processed again", "error", *perr)
		}
		ectx, cancel := context.WithTimeout(killCtx, endTimeout)
		slow := time.AfterFunc(slowEnd, func() {
			a.setUnready(fmt.Sprintf("ending a transaction has taken more than %s: the brokers are slow or unreachable", slowEnd))
		})
		committed, err := a.sess.End(ectx, commit)
		slow.Stop()
		cancel()
		for _, t := range a.tables {
			t.end(committed && err == nil)
		}
		switch {
		case err != nil:
			aborting = time.Time{}
			if !a.renew(loopCtx, "end", err) {
				return
			}
		case !committed && commit:
			a.log.Debug("transaction aborted by the session (rebalance): rewound")
			if aborting.IsZero() {
				aborting = time.Now()
			} else if time.Since(aborting) > stuckAborting {
				// A member that lost its partitions and does not get them
				// back (seen after a broker restart) aborts every
				// transaction: a new session rejoins the group.
				aborting = time.Time{}
				if !a.renew(loopCtx, "end", fmt.Errorf("every transaction for %s was aborted by the session", stuckAborting)) {
					return
				}
			}
		case !recovered:
			// The transaction aborted; recovery goes on at the next.
		default:
			aborting = time.Time{}
			if a.recovering() {
				break
			}
			if n > 0 {
				idleSince = time.Now()
			} else if time.Since(idleSince) >= probeEvery {
				// An idle app's transactions end without a word to the
				// brokers: ask them something, so that an outage shows.
				idleSince = time.Now()
				if err := a.probe(killCtx); err != nil {
					a.setUnready("the brokers do not answer: " + err.Error())
					break
				}
			}
			a.unready.Store(nil)
		}
	}
}

// slowEnd is how long End may take before the app reports not ready;
// stuckAborting, how long the session may abort every transaction before
// it is replaced.
const (
	slowEnd       = 5 * time.Second
	stuckAborting = 15 * time.Second
)

// setUnready marks the app not ready, saying why.
func (a *appRun) setUnready(why string) { a.unready.Store(&why) }

// flushTakes has every worker holding take batches process them.
func (a *appRun) flushTakes() {
	var wg sync.WaitGroup
	flush := func(w *worker) {
		if w.pending > 0 {
			wg.Add(1)
			w.in <- job{flush: true, wg: &wg}
		}
	}
	for _, w := range a.workers {
		flush(w)
	}
	a.isoMu.Lock()
	for _, w := range a.isolated {
		flush(w)
	}
	a.isoMu.Unlock()
	wg.Wait()
}

// renew replaces the session after an error, with back-off; false when
// the runtime stops first.
func (a *appRun) renew(ctx context.Context, what string, err error) bool {
	if errors.Is(err, errRebalance) {
		a.setUnready("rejoining the group (a rebalance on request)")
		a.log.Info("leaving the group and joining again: a rebalance on request")
	} else {
		a.setUnready("the Kafka session failed during " + what + ": " + err.Error())
		a.log.Error("session failed: opening a new one", "during", what, "error", err)
	}
	// The new session's member starts with no partitions: whatever the old
	// one held counts as revoked, so that each partition the new one gets
	// is recovered from its changelog (the failed End may have committed a
	// transaction whose table changes were dropped).
	a.revokeAll()
	backoff := 100 * time.Millisecond
	for {
		a.sess.Close()
		a.sess = nil
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		s, err := a.client.NewSession(a.sessionConfig())
		if err == nil {
			a.sess = s
			return true
		}
		a.log.Error("opening a session", "error", err)
		backoff = min(2*backoff, 10*time.Second)
		// keep a closed-over session so that close() has nothing to do
		a.sess = noSession{}
	}
}

// noSession stands in while no session is open.
type noSession struct{ kafka.Session }

func (noSession) Close() {}

// dispatch hands the fetches to the workers and waits until they are
// processed; it returns the number of records.
func (a *appRun) dispatch(fetches []kafka.Fetch) int {
	per := map[*worker][]kafka.Fetch{}
	var iso map[*worker][]kafka.Fetch
	n := 0
	for _, f := range fetches {
		n += len(f.Records)
		if a.isolatedTopic(f.Topic) {
			if iso == nil {
				iso = map[*worker][]kafka.Fetch{}
			}
			w := a.isolatedWorker(kafka.TopicPartition{Topic: f.Topic, Partition: f.Partition})
			iso[w] = append(iso[w], f)
			continue
		}
		w := a.partitionWorker(kafka.TopicPartition{Topic: f.Topic, Partition: f.Partition})
		per[w] = append(per[w], f)
	}
	var wg sync.WaitGroup
	for w, fs := range per {
		wg.Add(1)
		w.in <- job{fetches: fs, wg: &wg}
	}
	for w, fs := range iso {
		wg.Add(1)
		w.in <- job{fetches: fs, wg: &wg}
	}
	wg.Wait()
	return n
}

// isolatedWorker returns the worker of one partition, starting it the
// first time. It lives as long as the app: a partition that comes back
// finds its worker.
func (a *appRun) isolatedWorker(tp kafka.TopicPartition) *worker {
	a.isoMu.Lock()
	defer a.isoMu.Unlock()
	w := a.isolated[tp]
	if w == nil {
		w = newWorker(a)
		a.isolated[tp] = w
		go w.run()
	}
	return w
}

// partitionWorker returns the pool worker of a topic partition. A partition
// keeps its worker for as long as the app runs (its records stay in order,
// and take batches stay whole). The first time a partition is seen it gets
// a worker of its own while the pool has fewer than maxPoolWorkers, else
// the worker with the fewest partitions: three partitions on a pool of two
// would otherwise split 2:1 and leave one CPU idle a third of the time,
// while three workers on two CPUs share both. Called by the loop only.
func (a *appRun) partitionWorker(tp kafka.TopicPartition) *worker {
	if w, ok := a.lanes[tp]; ok {
		return w
	}
	var w *worker
	for _, x := range a.workers {
		if a.laneCount[x] == 0 {
			w = x
			break
		}
	}
	if w == nil && len(a.workers) < a.maxPoolWorkers() {
		w = newWorker(a)
		a.workers = append(a.workers, w)
		go w.run()
	}
	if w == nil {
		for _, x := range a.workers {
			if w == nil || a.laneCount[x] < a.laneCount[w] {
				w = x
			}
		}
	}
	a.lanes[tp] = w
	a.laneCount[w]++
	return w
}

// maxPoolWorkers is how large the pool grows: twice the configured size,
// so that partitions spread evenly enough over the CPUs.
func (a *appRun) maxPoolWorkers() int { return 2 * a.rt.opts.Workers }

// recovering reports whether table partitions wait for recovery.
func (a *appRun) recovering() bool {
	a.rec.mu.Lock()
	defer a.rec.mu.Unlock()
	return len(a.rec.pending) > 0
}

// runDueTasks runs the tasks that use tables and are due, in the
// transaction in flight (the pool's workers are idle).
func (a *appRun) runDueTasks() {
	for {
		select {
		case t := <-a.dueTasks:
			t.fire()
		default:
			return
		}
	}
}

// probeEvery is how long an app may go without records before the loop
// checks that the brokers answer.
const probeEvery = 3 * time.Second

// probe asks the cluster about the app's topics, with a short deadline.
func (a *appRun) probe(ctx context.Context) error {
	if a.prober == nil {
		adm, err := a.client.NewAdmin(a.plan.Kafka)
		if err != nil {
			return err
		}
		a.prober = adm
	}
	topics := a.plan.SessionConfig().Topics
	if len(topics) == 0 {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := a.prober.DescribeTopics(pctx, topics[:1])
	return err
}
