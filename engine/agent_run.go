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

	"go.starlark.net/starlark"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/interp"
)

// appRun is one app at run time: its session, its loop and its workers.
//
// The loop (one goroutine per app) drives the session: Begin; then Poll
// and dispatch, until CommitEvery records were polled or CommitInterval has
// passed since Begin; then End, committing unless a produce failed since
// Begin (then End aborts and the session rewinds: the records come again).
// dispatch hands each Fetch to the worker its topic and partition hash to,
// so a partition's records always go to the same worker, in order, and
// waits until every worker is done with the batch: nothing is produced
// while Begin, Poll or End run, as the Session contract requires.
type appRun struct {
	rt      *Runtime
	plan    *AppPlan
	client  kafka.Client
	sess    kafka.Session
	log     *slog.Logger
	agents  []*agentRun
	workers []*worker

	// failed holds the first produce error since Begin.
	failed atomic.Pointer[error]
	// done is the callback of the produces nothing waits for.
	done func(*kafka.Record, error)

	routesMu sync.RWMutex
	routes   map[string][]*agentRun // by input topic
	notices  logLimiter             // Poll and session notices
}

// agentRun is an agent at run time.
type agentRun struct {
	plan    *AgentPlan
	topics  map[string]bool
	pattern *regexp.Regexp
	limiter logLimiter
	log     *slog.Logger
}

func newAppRun(rt *Runtime, ap *AppPlan, client kafka.Client) (*appRun, error) {
	a := &appRun{
		rt:     rt,
		plan:   ap,
		client: client,
		log:    rt.log.With("app", ap.Name),
		routes: map[string][]*agentRun{},
	}
	a.done = func(_ *kafka.Record, err error) {
		if err != nil {
			a.fail(err)
		}
	}
	for _, ag := range ap.Agents {
		ar := &agentRun{plan: ag, topics: map[string]bool{}, log: a.log.With("agent", ag.Name)}
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
	}
	for range rt.opts.Workers {
		a.workers = append(a.workers, newWorker(a))
	}
	sess, err := client.NewSession(a.sessionConfig())
	if err != nil {
		return nil, err
	}
	a.sess = sess
	return a, nil
}

func (a *appRun) sessionConfig() kafka.SessionConfig {
	sc := a.plan.SessionConfig()
	sc.OnAssigned = func(_ context.Context, parts []kafka.TopicPartition) {
		a.log.Debug("partitions assigned", "partitions", parts)
	}
	sc.OnRevoked = func(_ context.Context, parts []kafka.TopicPartition) {
		a.log.Debug("partitions revoked", "partitions", parts)
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

// close ends the session (aborting an open transaction) and the workers.
func (a *appRun) close() {
	if a.sess != nil {
		a.sess.Close()
		a.sess = nil
	}
}

// loop runs the app until loopCtx ends, then commits what it processed.
// killCtx ends what the loop waits on when stopping takes too long.
func (a *appRun) loop(loopCtx, killCtx context.Context) {
	for _, w := range a.workers {
		go w.run()
	}
	defer func() {
		for _, w := range a.workers {
			close(w.in)
		}
	}()
	every, interval := a.rt.opts.CommitEvery, a.rt.opts.CommitInterval
	for loopCtx.Err() == nil {
		if err := a.sess.Begin(killCtx); err != nil {
			if !a.renew(loopCtx, "begin", err) {
				return
			}
			continue
		}
		a.failed.Store(nil)
		start, n := time.Now(), 0
		for n < every {
			left := interval - time.Since(start)
			if left <= 0 {
				break
			}
			pctx, cancel := context.WithTimeout(loopCtx, left)
			fetches, err := a.sess.Poll(pctx)
			cancel()
			if len(fetches) > 0 {
				n += a.dispatch(fetches)
			}
			if err != nil {
				if pctx.Err() != nil || errors.Is(err, kafka.ErrClosed) {
					break
				}
				if ok, dropped := a.notices.allow(time.Now()); ok {
					a.log.Warn("poll", "error", err, "suppressed", dropped)
				}
			}
		}
		commit := true
		if perr := a.failed.Load(); perr != nil {
			commit = false
			a.log.Warn("a produce failed: aborting the transaction; its records will be processed again", "error", *perr)
		}
		ectx, cancel := context.WithTimeout(killCtx, endTimeout)
		committed, err := a.sess.End(ectx, commit)
		cancel()
		switch {
		case err != nil:
			if !a.renew(loopCtx, "end", err) {
				return
			}
		case !committed && commit:
			a.log.Debug("transaction aborted by the session (rebalance): rewound")
		}
	}
}

// renew replaces the session after an error, with back-off; false when
// the runtime stops first.
func (a *appRun) renew(ctx context.Context, what string, err error) bool {
	a.log.Error("session failed: opening a new one", "during", what, "error", err)
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
	nw := len(a.workers)
	per := make([][]kafka.Fetch, nw)
	n := 0
	for _, f := range fetches {
		i := partitionWorker(f.Topic, f.Partition, nw)
		per[i] = append(per[i], f)
		n += len(f.Records)
	}
	var wg sync.WaitGroup
	for i, fs := range per {
		if len(fs) > 0 {
			wg.Add(1)
			a.workers[i].in <- job{fetches: fs, wg: &wg}
		}
	}
	wg.Wait()
	return n
}

// partitionWorker is the worker of a topic partition (FNV-1a).
func partitionWorker(topic string, partition int32, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(topic); i++ {
		h = (h ^ uint32(topic[i])) * 16777619
	}
	for i := 0; i < 4; i++ {
		h = (h ^ uint32(byte(partition>>(8*i)))) * 16777619
	}
	return int(h % uint32(n))
}

// job is one worker's share of a batch.
type job struct {
	fetches []kafka.Fetch
	wg      *sync.WaitGroup
}

// logLimiter lets a few lines a second through.
type logLimiter struct {
	mu      sync.Mutex
	window  time.Time
	n       int
	dropped int
}

// logsPerSecond is how many lines a limiter lets through a second.
const logsPerSecond = 5

// allow reports whether a line may be logged now, and how many were
// dropped since the last one that was.
func (l *logLimiter) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= time.Second {
		l.window, l.n = now, 0
	}
	if l.n >= logsPerSecond {
		l.dropped++
		return false, 0
	}
	l.n++
	d := l.dropped
	l.dropped = 0
	return true, d
}

// errProduceFailed stops a record whose acknowledged produce failed: the
// transaction aborts, so the record comes again; it is no dead letter.
var errProduceFailed = errors.New("produce failed")

// stepError is a record's failure at one step of its agent.
type stepError struct {
	op  string
	err error
}

func (e *stepError) Error() string { return e.op + ": " + e.err.Error() }

// worker processes its partitions' records with its own interpreter
// thread and serializers.
type worker struct {
	app    *appRun
	th     *interp.Thread
	serdes map[string]*interp.Serializer
	in     chan job
	cur    []interp.Value
	next   []interp.Value
	ev     interp.Event   // context.event of the record in hand
	args   starlark.Tuple // the one argument of a call
}

func newWorker(a *appRun) *worker {
	return &worker{
		app:    a,
		th:     interp.NewThread(a.plan.Code),
		serdes: map[string]*interp.Serializer{},
		in:     make(chan job, 1),
		args:   make(starlark.Tuple, 1),
	}
}

func (w *worker) run() {
	for j := range w.in {
		for _, f := range j.fetches {
			for _, r := range f.Records {
				for _, ag := range w.app.route(r.Topic) {
					if err := w.process(ag, r); err != nil && !errors.Is(err, errProduceFailed) {
						w.deadLetter(ag, r, err)
					}
				}
			}
		}
		j.wg.Done()
	}
}

// serde returns the worker's serializer of a name.
func (w *worker) serde(name string) (*interp.Serializer, error) {
	if s, ok := w.serdes[name]; ok {
		return s, nil
	}
	s, err := interp.NewSerializer(name)
	if err != nil {
		return nil, err
	}
	w.serdes[name] = s
	return s, nil
}

func (w *worker) decode(name string, data []byte) (interp.Value, error) {
	s, err := w.serde(name)
	if err != nil {
		return nil, err
	}
	return s.Decode(data)
}

func (w *worker) encode(name string, v interp.Value) ([]byte, error) {
	s, err := w.serde(name)
	if err != nil {
		return nil, err
	}
	return s.Append(nil, v)
}

// process runs one record through one agent: decode, operations, outputs.
func (w *worker) process(ag *agentRun, r *kafka.Record) error {
	p := ag.plan
	key, err := w.decode(p.Input.KeySerializer, r.Key)
	if err != nil {
		return &stepError{"spec.input.topic.keySerializer", err}
	}
	value, err := w.decode(p.Input.ValueSerializer, r.Value)
	if err != nil {
		return &stepError{"spec.input.topic.valueSerializer", err}
	}
	// The worker's one Event is context.event for this record.
	ev := &w.ev
	*ev = interp.Event{Key: key, Value: value, Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp, Headers: ev.Headers[:0]}
	for _, h := range r.Headers {
		ev.Headers = append(ev.Headers, interp.Header{Key: h.Key, Value: h.Value})
	}
	cur := append(w.cur[:0], value)
	next := w.next[:0]
	defer func() { w.cur, w.next = cur[:0], next[:0] }()
	for i := range p.Ops {
		op := &p.Ops[i]
		next = next[:0]
		for _, v := range cur {
			switch op.Kind {
			case OpMap:
				out, err := w.call(op.Func, ev, v)
				if err != nil {
					return &stepError{op.Name, err}
				}
				if items, ok := interp.Fanned(out); ok {
					next = append(next, items...)
				} else {
					next = append(next, out)
				}
			case OpFilter:
				out, err := w.call(op.Func, ev, v)
				if err != nil {
					return &stepError{op.Name, err}
				}
				if out.Truth() {
					next = append(next, v)
				}
			case OpTopicSend:
				meta, sent, err := w.send(op.Send, ev, r, v)
				if err != nil {
					return &stepError{op.Name, err}
				}
				// As spec.TopicSend says: with ack the record's metadata
				// flows on, with passThrough the value; else nothing.
				switch {
				case op.Send.Ack && sent:
					next = append(next, meta)
				case op.Send.PassThrough:
					next = append(next, v)
				}
			}
		}
		cur, next = next, cur
		if len(cur) == 0 {
			return nil
		}
	}
	for _, v := range cur {
		for i := range p.Outputs {
			d := &p.Outputs[i]
			if _, _, err := w.send(d, ev, r, v); err != nil {
				return &stepError{d.Path, err}
			}
		}
	}
	return nil
}

// call calls a block with the value, in the worker's one argument tuple:
// Starlark copies arguments into the callee's locals and keeps no reference.
func (w *worker) call(f *interp.Func, ev *interp.Event, v interp.Value) (interp.Value, error) {
	w.args[0] = v
	out, err := f.Call(w.th, ev, w.args, nil)
	w.args[0] = nil
	return out, err
}

// send produces v to a destination unless its predicate says no. With Ack
// it waits for the broker and returns the record's metadata as a dict.
func (w *worker) send(d *DestPlan, ev *interp.Event, r *kafka.Record, v interp.Value) (meta interp.Value, sent bool, err error) {
	if d.Predicate != nil {
		ok, err := w.call(d.Predicate, ev, v)
		if err != nil {
			return nil, false, err
		}
		if !ok.Truth() {
			return nil, false, nil
		}
	}
	rec := &kafka.Record{Topic: d.Topic, Partition: -1, Key: r.Key}
	if d.NameSelector != nil {
		x, err := w.call(d.NameSelector, ev, v)
		if err != nil {
			return nil, false, err
		}
		s, ok := starlark.AsString(x)
		if !ok || s == "" {
			return nil, false, fmt.Errorf("%s: nameSelector returned %s, not a topic name", d.Path, x.Type())
		}
		rec.Topic = s
	}
	if d.KeySelector != nil {
		k, err := w.call(d.KeySelector, ev, v)
		if err != nil {
			return nil, false, err
		}
		if rec.Key, err = w.encode(d.KeySerializer, k); err != nil {
			return nil, false, fmt.Errorf("%s.keySerializer: %w", d.Path, err)
		}
	}
	val := v
	if d.ValueSelector != nil {
		if val, err = w.call(d.ValueSelector, ev, v); err != nil {
			return nil, false, err
		}
	}
	if rec.Value, err = w.encode(d.ValueSerializer, val); err != nil {
		return nil, false, fmt.Errorf("%s.valueSerializer: %w", d.Path, err)
	}
	if d.PartitionSelector != nil {
		x, err := w.call(d.PartitionSelector, ev, v)
		if err != nil {
			return nil, false, err
		}
		if x != starlark.None {
			p, err := starlark.AsInt32(x)
			if err != nil || p < 0 {
				return nil, false, fmt.Errorf("%s: partitionSelector returned %s, not a partition number", d.Path, x.String())
			}
			rec.Partition = int32(p)
		}
	}
	if d.HeadersSelector != nil {
		x, err := w.call(d.HeadersSelector, ev, v)
		if err != nil {
			return nil, false, err
		}
		if rec.Headers, err = headersOf(x); err != nil {
			return nil, false, fmt.Errorf("%s: headersSelector: %w", d.Path, err)
		}
	}
	if !d.Ack {
		w.app.sess.Produce(rec, w.app.done)
		return nil, true, nil
	}
	type result struct {
		rec *kafka.Record
		err error
	}
	ch := make(chan result, 1)
	w.app.sess.Produce(rec, func(r *kafka.Record, err error) {
		if err != nil {
			w.app.fail(err)
		}
		ch <- result{r, err}
	})
	res := <-ch
	if res.err != nil {
		return nil, false, errProduceFailed
	}
	m := starlark.NewDict(3)
	_ = m.SetKey(starlark.String("topic"), starlark.String(res.rec.Topic))
	_ = m.SetKey(starlark.String("partition"), starlark.MakeInt(int(res.rec.Partition)))
	_ = m.SetKey(starlark.String("offset"), starlark.MakeInt64(res.rec.Offset))
	return m, true, nil
}

// headersOf turns a headersSelector's dict (str to str, bytes or None)
// into record headers.
func headersOf(x interp.Value) ([]kafka.Header, error) {
	if x == starlark.None {
		return nil, nil
	}
	d, ok := x.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("returned %s, not a dict", x.Type())
	}
	hs := make([]kafka.Header, 0, d.Len())
	for _, it := range d.Items() {
		k, ok := starlark.AsString(it[0])
		if !ok {
			return nil, fmt.Errorf("header name %s is not a str", it[0].String())
		}
		h := kafka.Header{Key: k}
		switch v := it[1].(type) {
		case starlark.String:
			h.Value = []byte(v)
		case starlark.Bytes:
			h.Value = []byte(v)
		case starlark.NoneType:
		default:
			return nil, fmt.Errorf("header %q: %s is not str or bytes", k, v.Type())
		}
		hs = append(hs, h)
	}
	return hs, nil
}
