package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/interp"
)

// What package webview uses of a running app: tables to read, a producer
// for ingest, partition ownership, and figures.

// ErrElsewhere is what a web view's table read of a key returns when
// another replica holds the key's partition: the caller forwards the
// request to that replica. Wrapped in an *ElsewhereError.
var ErrElsewhere = errors.New("the key's partition is held by another replica")

// ElsewhereError names the partition a web view's read needs.
type ElsewhereError struct {
	App, Table string
	Partition  int32
}

func (e *ElsewhereError) Error() string {
	return fmt.Sprintf("table %s: partition %d is held by another replica", e.Table, e.Partition)
}

func (e *ElsewhereError) Unwrap() error { return ErrElsewhere }

// WebTable returns a table of an app as a web view reads it. A key's
// partition is the one Kafka's default partitioner gives the key as the
// table's key serializer encodes it (where a producer keyed by the same
// bytes puts it); a read of a partition this replica does not hold fails
// with an *ElsewhereError. A global table is read across every partition.
// Scans and len cover the partitions held here. Writes are refused. The
// value is for one request at a time.
func (r *Runtime) WebTable(app, table string) (interp.Table, error) {
	a := r.app(app)
	if a == nil {
		return nil, fmt.Errorf("app %s is not running", app)
	}
	t := a.tables[table]
	if t == nil {
		return nil, fmt.Errorf("app %s has no table %s", app, table)
	}
	key, err := interp.NewSerializer(t.plan.KeySerializer)
	if err != nil {
		return nil, err
	}
	val, err := interp.NewSerializer(t.plan.ValueSerializer)
	if err != nil {
		return nil, err
	}
	return &webTable{t: t, key: key, val: val}, nil
}

// app returns a running app by name.
func (r *Runtime) app(name string) *appRun {
	apps := r.running.Load()
	if apps == nil {
		return nil
	}
	for _, a := range *apps {
		if a.plan.Name == name {
			return a
		}
	}
	return nil
}

type webTable struct {
	t        *tableRun
	key, val *interp.Serializer
}

// Held returns the partitions of an app's partitioned tables this replica
// holds (recovered and assigned), in order.
func (r *Runtime) Held(app string) []int32 {
	a := r.app(app)
	if a == nil {
		return nil
	}
	return a.held()
}

func (a *appRun) held() []int32 {
	a.rec.mu.Lock()
	defer a.rec.mu.Unlock()
	var out []int32
	for p := range a.rec.assigned {
		if !a.rec.pending[p] {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func (w *webTable) holds(p int32) bool {
	if w.t.plan.Global {
		return true
	}
	return slices.Contains(w.t.app.held(), p)
}

func (w *webTable) Get(k interp.Value) (interp.Value, bool, error) {
	kb, err := w.key.Append(nil, k)
	if err != nil {
		return nil, false, fmt.Errorf("table %s: key: %w", w.t.plan.Name, err)
	}
	p := kafka.KeyPartition(kb, w.t.plan.Partitions)
	if !w.holds(p) {
		return nil, false, &ElsewhereError{App: w.t.app.plan.Name, Table: w.t.plan.Name, Partition: p}
	}
	ps := []int32{p}
	if w.t.plan.Global {
		ps = nil
		for q := range w.t.plan.Partitions {
			ps = append(ps, q)
		}
	}
	for _, q := range ps {
		b, ok, err := w.t.db.Get(w.t.id, w.t.plan.Name, q, kb)
		if err != nil {
			return nil, false, err
		}
		if ok {
			v, err := w.val.Decode(b)
			return v, err == nil, err
		}
	}
	return nil, false, nil
}

func (w *webTable) readOnly() error {
	return fmt.Errorf("table %s is read-only here: only agents and tasks write tables", w.t.plan.Name)
}

func (w *webTable) Set(_, _ interp.Value) error { return w.readOnly() }
func (w *webTable) Delete(interp.Value) error   { return w.readOnly() }

// local are the partitions reads that cover a table look at.
func (w *webTable) local() []int32 {
	if w.t.plan.Global {
		var ps []int32
		for p := range w.t.plan.Partitions {
			ps = append(ps, p)
		}
		return ps
	}
	return w.t.app.held()
}

func (w *webTable) Len() (int, error) {
	n := 0
	for _, p := range w.local() {
		c, err := w.t.db.Count(w.t.id, w.t.plan.Name, p)
		if err != nil {
			return 0, err
		}
		n += c
	}
	return n, nil
}

func (w *webTable) Scan(prefix interp.Value, fn func(k, v interp.Value) bool) error {
	view := &tableView{t: w.t}
	pb, err := view.prefix(prefix)
	if err != nil {
		return err
	}
	type kv struct{ k, v []byte }
	var all []kv
	for _, p := range w.local() {
		err := w.t.db.PrefixScan(w.t.id, w.t.plan.Name, p, pb, func(k, v []byte) bool {
			all = append(all, kv{bytes.Clone(k), bytes.Clone(v)})
			return true
		})
		if err != nil {
			return err
		}
	}
	slices.SortStableFunc(all, func(a, b kv) int { return bytes.Compare(a.k, b.k) })
	for _, e := range all {
		k, err := w.key.Decode(e.k)
		if err != nil {
			return err
		}
		v, err := w.val.Decode(e.v)
		if err != nil {
			return err
		}
		if !fn(k, v) {
			return nil
		}
	}
	return nil
}

// Produce sends a record through an app's producer (idempotent, outside
// any transaction) and waits for the broker's acknowledgement: web view
// ingest. The record's partition and offset are set on return.
func (r *Runtime) Produce(ctx context.Context, app string, rec *kafka.Record) error {
	a := r.app(app)
	if a == nil {
		return fmt.Errorf("app %s is not running", app)
	}
	p, err := a.ingestProducer()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	p.Produce(rec, func(_ *kafka.Record, err error) { done <- err })
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ingestProducer returns the app's producer, made at first use when the
// app has no tasks.
func (a *appRun) ingestProducer() (kafka.Producer, error) {
	a.prodMu.Lock()
	defer a.prodMu.Unlock()
	if a.producer != nil {
		return a.producer, nil
	}
	p, err := a.client.NewProducer(a.plan.Kafka)
	if err != nil {
		return nil, err
	}
	a.producer = p
	return p, nil
}

// AgentStats are an agent's figures since the runtime started.
type AgentStats struct {
	App, Agent string
	// In counts the records (or channel items) the agent took in; Out the
	// records it sent to topics; DeadLetters those it sent to its
	// dead-letter topic.
	In, Out, DeadLetters int64
	// CodeErrors counts the failures of the agent's code; StepLimits and
	// Timeouts those that hit codeMaxSteps or codeTimeout.
	CodeErrors, StepLimits, Timeouts int64
	// Latency is the time records took through the agent's pipeline and
	// outputs: each record of a fetch counts the fetch's mean (records from
	// topics; not channel items).
	Latency Histogram
}

// Stats returns every agent's figures, in app and agent order.
func (r *Runtime) Stats() []AgentStats {
	var apps []*appRun
	if p := r.running.Load(); p != nil {
		apps = *p
	}
	var out []AgentStats
	for _, a := range apps {
		for _, ag := range a.agents {
			out = append(out, AgentStats{App: a.plan.Name, Agent: ag.name,
				In: ag.in.Load(), Out: ag.out.Load(), DeadLetters: ag.deadLetters.Load(),
				CodeErrors: ag.codeErrors.Load(), StepLimits: ag.stepLimits.Load(), Timeouts: ag.timeouts.Load(),
				Latency: ag.latency.snapshot()})
		}
	}
	return out
}

// TableKeys returns the number of keys of each table partition held here,
// for metrics. It walks the partitions: call it at scrape time.
func (r *Runtime) TableKeys(app string) (map[string]map[int32]int, error) {
	a := r.app(app)
	if a == nil {
		return nil, fmt.Errorf("app %s is not running", app)
	}
	out := map[string]map[int32]int{}
	for name, t := range a.tables {
		ps := a.held()
		if t.plan.Global {
			ps = (&webTable{t: t}).local()
		}
		for _, p := range ps {
			n, err := t.db.Count(t.id, name, p)
			if err != nil {
				return nil, err
			}
			if out[name] == nil {
				out[name] = map[int32]int{}
			}
			out[name][p] = n
		}
	}
	return out, nil
}

// errRebalance is why a session is replaced on request.
var errRebalance = errors.New("asked to rebalance")

// Rebalance has this replica's member of an app's group leave and join
// again at its next transaction boundary (the transaction in flight
// commits first), so that the group reassigns the partitions. It returns
// at once. A static member (--instance-id) takes its partitions back.
func (r *Runtime) Rebalance(app string) error {
	a := r.app(app)
	if a == nil {
		return fmt.Errorf("app %s is not running", app)
	}
	if !a.consumes {
		return fmt.Errorf("app %s consumes no topic: it has no group to rebalance", app)
	}
	a.rejoin.Store(true)
	return nil
}

// Rejoins counts the rebalances on request an app's member has done.
func (r *Runtime) Rejoins(app string) int64 {
	if a := r.app(app); a != nil {
		return a.rejoins.Load()
	}
	return 0
}
