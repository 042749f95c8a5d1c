package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/franz"
	"github.com/weirstream/weir/interp"
)

// Reload. Apply makes a running runtime run a new plan (compiled from an
// edited folder, or sent to the control API) with the smallest change that
// loses nothing, app by app:
//
//   - an app whose shape is unchanged (the same topics, agents, operations
//     and their tables and destinations, tables, tasks and their schedules,
//     connection and guarantee: everything but code) gets the new code in
//     place, at the loop's next transaction boundary: no rebalance, no new
//     session; the transaction in flight finishes with the old code, the
//     next begins with the new;
//   - an app whose shape changed is restarted: its work in flight is
//     finished and committed, its session closed, and the app started
//     again from the new plan (table state is kept in the store);
//   - a new app is started, a removed one stopped cleanly;
//   - web views are served by package webview, which swaps its routes.
//
// Before anything changes, Apply checks what would refuse to run: a plan
// the runtime does not support, and a table whose stored format would
// change (key or value serializer, window, partitions, global) while its
// changelog holds records: that state cannot be read the new way. A
// refused plan changes nothing.

// swapRequest is a code swap waiting for the loop.
type swapRequest struct {
	plan *AppPlan
	done chan struct{}
}

// Generation returns the number of plans the runtime has run (1 after
// Start, one more per Apply that changed something) and the hash Apply was
// given with the current one.
func (r *Runtime) Generation() (int64, string) {
	if c := r.config.Load(); c != nil {
		return c.generation, c.hash
	}
	return 0, ""
}

// configState is the generation and hash of the plan run, and how its
// reloads went.
type configState struct {
	generation int64
	hash       string
	lastError  string // why the last reload failed; "" after a success
	failures   int64  // reloads that failed
}

// publish makes the generation and hash visible to Generation.
func (r *Runtime) publish() {
	c := configState{generation: r.generation, hash: r.hash}
	if old := r.config.Load(); old != nil {
		c.lastError, c.failures = old.lastError, old.failures
	}
	r.config.Store(&c)
}

// ReloadFailed records a reload that failed before it reached the runtime
// (a snapshot that did not load or compile): ReloadStatus reports it.
func (r *Runtime) ReloadFailed(why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := configState{generation: r.generation, hash: r.hash, lastError: why}
	if old := r.config.Load(); old != nil {
		c.failures = old.failures
	}
	c.failures++
	r.config.Store(&c)
}

// ReloadStatus returns why the last reload failed ("" when it succeeded,
// or none failed) and how many have failed.
func (r *Runtime) ReloadStatus() (lastError string, failures int64) {
	if c := r.config.Load(); c != nil {
		return c.lastError, c.failures
	}
	return "", 0
}

// SetHash records the hash of the plan the runtime started with (see
// Generation).
func (r *Runtime) SetHash(hash string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hash = hash
	r.publish()
}

// Plan returns the plan the runtime runs.
func (r *Runtime) Plan() *Plan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.plan
}

// ApplyReport says what Apply did, by app name.
type ApplyReport struct {
	Started, Stopped, Restarted, Swapped, Unchanged []string
}

func (rep ApplyReport) String() string {
	var parts []string
	add := func(what string, names []string) {
		if len(names) > 0 {
			parts = append(parts, what+" "+strings.Join(names, ", "))
		}
	}
	add("started", rep.Started)
	add("stopped", rep.Stopped)
	add("restarted", rep.Restarted)
	add("new code in", rep.Swapped)
	add("unchanged", rep.Unchanged)
	return strings.Join(parts, "; ")
}

// Apply runs plan instead of the current one (see above). hash names the
// new plan (a hash of its files) for Generation. On error the runtime runs
// what it ran before, except where the error says otherwise.
func (r *Runtime) Apply(ctx context.Context, plan *Plan, hash string) (ApplyReport, error) {
	var rep ApplyReport
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		return rep, errors.New("runtime: not running")
	}
	if u := Unsupported(plan); len(u) > 0 {
		return rep, fmt.Errorf("not yet supported by the runtime:\n  %s", strings.Join(u, "\n  "))
	}
	running := map[string]*appRun{}
	for _, a := range r.apps {
		running[a.plan.Name] = a
	}
	type change struct {
		old  *appRun
		plan *AppPlan
	}
	var starts, restarts, swaps []change
	var stops []*appRun
	for _, ap := range plan.Apps {
		old := running[ap.Name]
		switch {
		case old == nil && runs(ap):
			starts = append(starts, change{nil, ap})
		case old == nil:
		case !runs(ap):
			stops = append(stops, old)
		case shape(old.plan) == shape(ap):
			if codeEqual(old.plan, ap) {
				rep.Unchanged = append(rep.Unchanged, ap.Name)
				continue
			}
			swaps = append(swaps, change{old, ap})
		default:
			if err := r.checkTables(ctx, old.plan, ap); err != nil {
				return rep, fmt.Errorf("app %s: %w", ap.Name, err)
			}
			restarts = append(restarts, change{old, ap})
		}
	}
	for _, a := range r.apps {
		if plan.App(a.plan.Name) == nil {
			stops = append(stops, a)
		}
	}

	// New apps first: if one cannot start, nothing else has changed.
	var started []*appRun
	for _, c := range starts {
		a, err := r.startApp(ctx, c.plan)
		if err != nil {
			for _, a := range started {
				_ = a.shutdown(ctx)
			}
			return ApplyReport{}, fmt.Errorf("app %s: %w", c.plan.Name, err)
		}
		started = append(started, a)
		rep.Started = append(rep.Started, c.plan.Name)
	}
	apps := slices.DeleteFunc(slices.Clone(r.apps), func(a *appRun) bool {
		return slices.Contains(stops, a) || slices.ContainsFunc(restarts, func(c change) bool { return c.old == a })
	})
	apps = append(apps, started...)
	var errs []error
	for _, c := range restarts {
		if err := c.old.shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("app %s: stopping: %w", c.plan.Name, err))
		}
		a, err := r.startApp(ctx, c.plan)
		if err != nil {
			errs = append(errs, fmt.Errorf("app %s: starting the new version: %w", c.plan.Name, err))
			// Run the old version again rather than nothing.
			if a, err = r.startApp(ctx, c.old.plan); err != nil {
				errs = append(errs, fmt.Errorf("app %s: starting the old version again: %w", c.plan.Name, err))
				continue
			}
		} else {
			rep.Restarted = append(rep.Restarted, c.plan.Name)
		}
		apps = append(apps, a)
	}
	for _, c := range swaps {
		if err := c.old.swapCode(ctx, c.plan); err != nil {
			errs = append(errs, fmt.Errorf("app %s: %w", c.plan.Name, err))
			continue
		}
		rep.Swapped = append(rep.Swapped, c.plan.Name)
	}
	for _, a := range stops {
		if err := a.shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("app %s: stopping: %w", a.plan.Name, err))
		}
		rep.Stopped = append(rep.Stopped, a.plan.Name)
	}
	r.setApps(apps)
	r.plan = plan
	if len(rep.Started)+len(rep.Stopped)+len(rep.Restarted)+len(rep.Swapped) > 0 || hash != r.hash {
		r.generation++
	}
	r.hash = hash
	err := errors.Join(errs...)
	c := configState{generation: r.generation, hash: r.hash}
	if old := r.config.Load(); old != nil {
		c.failures = old.failures
	}
	r.config.Store(&c) // a failure is recorded by the caller (ReloadFailed)
	return rep, err
}

// swapCode has the app run new code (same shape) from its next
// transaction on, and waits until it does.
func (a *appRun) swapCode(ctx context.Context, ap *AppPlan) error {
	if !a.consumes {
		a.applyCode(ap)
		return nil
	}
	req := &swapRequest{plan: ap, done: make(chan struct{})}
	a.swap.Store(req)
	select {
	case <-req.done:
		return nil
	case <-a.exited:
		return errors.New("the app stopped before its new code was swapped in")
	case <-ctx.Done():
		return fmt.Errorf("the new code is waiting for the app's next transaction: %w", ctx.Err())
	}
}

// applyCode swaps new code in: the plans of the agents that consume
// topics, with fresh interpreter threads for the pool's workers, which are
// idle (the loop calls it between transactions); channel consumers and
// tasks take their part at their next item or run.
func (a *appRun) applyCode(ap *AppPlan) {
	for _, ag := range a.agents {
		if ag.viaChannel {
			continue
		}
		if p := ap.Agent(ag.name); p != nil {
			ag.plan = p
		}
	}
	for _, w := range a.workers {
		w.fresh(ap)
	}
	a.isoMu.Lock()
	for _, w := range a.isolated {
		w.fresh(ap)
	}
	a.isoMu.Unlock()
	for _, c := range a.channels {
		c.code.Store(ap)
		select {
		case c.flush <- struct{}{}: // wake it to take the code
		default:
		}
	}
	for _, t := range a.tasks {
		t.code.Store(ap)
	}
	a.log.Info("new code swapped in")
}

// fresh gives a worker a new interpreter thread for new code.
func (w *worker) fresh(ap *AppPlan) {
	w.th = interp.NewThread(ap.Code)
	clear(w.kwargs)
}

// checkTables refuses a restart that changes how a table's state is
// stored while its changelog holds records.
func (r *Runtime) checkTables(ctx context.Context, old, next *AppPlan) error {
	var changed []*TablePlan
	for _, t := range next.Tables {
		o := old.Table(t.Name)
		if o == nil {
			continue
		}
		if diff := tableFormatDiff(o, t); diff != "" {
			changed = append(changed, t)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	rd, err := franz.NewReader(next.Kafka)
	if err != nil {
		return err
	}
	defer rd.Close()
	var errs []error
	for _, t := range changed {
		ends, err := rd.Ends(ctx, t.ChangelogTopic)
		if err != nil {
			return err
		}
		starts, err := rd.Starts(ctx, t.ChangelogTopic)
		if err != nil {
			return err
		}
		for tp, end := range ends {
			if end > starts[tp] {
				errs = append(errs, fmt.Errorf("table %s: %s, but its changelog %s holds records stored the old way; keep the old format, or give the table a new name (a new changelog)",
					t.Name, tableFormatDiff(old.Table(t.Name), t), t.ChangelogTopic))
				break
			}
		}
	}
	return errors.Join(errs...)
}

// tableFormatDiff says how two versions of a table store their state
// differently, or "".
func tableFormatDiff(o, n *TablePlan) string {
	var d []string
	if o.KeySerializer != n.KeySerializer {
		d = append(d, fmt.Sprintf("the key serializer changes from %s to %s", o.KeySerializer, n.KeySerializer))
	}
	if o.ValueSerializer != n.ValueSerializer {
		d = append(d, fmt.Sprintf("the value serializer changes from %s to %s", o.ValueSerializer, n.ValueSerializer))
	}
	if o.Partitions != n.Partitions {
		d = append(d, fmt.Sprintf("the partitions change from %d to %d", o.Partitions, n.Partitions))
	}
	if o.Global != n.Global {
		d = append(d, "global changes")
	}
	ow, nw := windowShape(o.Window), windowShape(n.Window)
	if ow != nw {
		d = append(d, fmt.Sprintf("the window changes from %s to %s", ow, nw))
	}
	return strings.Join(d, ", ")
}

func windowShape(w *WindowPlan) string {
	if w == nil {
		return "none"
	}
	return fmt.Sprintf("%s size %s step %s expires %s relative to %s", w.Kind, w.Size, w.Step, w.Expires, w.RelativeTo)
}

// shape is everything of an app but its code (and its web views, which
// package webview serves): two plans of one shape run the same topology.
// Table code (defaultSelector, relativeToSelector) counts as shape: a
// table's default is part of its state's meaning.
func shape(p *AppPlan) string {
	type dest struct {
		Topic, Channel, KeySer, ValueSer string
		Ack, PassThrough                 bool
		Declare                          *kafka.TopicSpec
		ByName                           bool
	}
	destOf := func(d *DestPlan) dest {
		return dest{d.Topic, d.Channel, d.KeySerializer, d.ValueSerializer, d.Ack, d.PassThrough, d.Declare, d.NameSelector != nil}
	}
	type op struct {
		Name, Kind string
		Tables     []TableArg
		Send       *dest
	}
	opsOf := func(ops []OpPlan) []op {
		var out []op
		for i := range ops {
			o := op{Name: ops[i].Name, Kind: string(ops[i].Kind)}
			for _, t := range ops[i].Tables {
				o.Tables = append(o.Tables, TableArg{Name: t.Name, Param: t.Param})
			}
			if ops[i].Send != nil {
				d := destOf(ops[i].Send)
				o.Send = &d
			}
			out = append(out, o)
		}
		return out
	}
	type agent struct {
		Name        string
		Input       InputPlan
		Take        *TakePlan
		Isolated    bool
		DeadLetters string
		Ops         []op
		Outputs     []dest
	}
	type table struct {
		Name, Changelog, KeySer, ValueSer, Window, Code string
		Partitions                                      int32
		Global                                          bool
		Extra                                           map[string]string
	}
	type task struct {
		Name     string
		OnLeader bool
		Schedule string
		Ops      []op
	}
	type app struct {
		Name, ID, Group, Client, InstanceID, TransactionalID, DataDir, Leader string
		Guarantee                                                             kafka.Guarantee
		Kafka                                                                 kafka.Config
		Topics, MustExist                                                     []kafka.TopicSpec
		Agents                                                                []agent
		Tables                                                                []table
		Tasks                                                                 []task
		Joins                                                                 []string
	}
	s := app{Name: p.Name, ID: p.ID, Group: p.Group, Client: p.Client, InstanceID: p.InstanceID,
		TransactionalID: p.TransactionalID, DataDir: p.DataDir, Leader: p.LeaderTopic,
		Guarantee: p.Guarantee, Kafka: p.Kafka, Topics: p.Topics, MustExist: p.MustExist}
	for _, ag := range p.Agents {
		a := agent{Name: ag.Name, Input: ag.Input, Take: ag.Take, Isolated: ag.Isolated, DeadLetters: ag.DeadLetterTopic, Ops: opsOf(ag.Ops)}
		for i := range ag.Outputs {
			a.Outputs = append(a.Outputs, destOf(&ag.Outputs[i]))
		}
		s.Agents = append(s.Agents, a)
	}
	for _, t := range p.Tables {
		code := ""
		if t.Spec != nil {
			if b, err := json.Marshal(t.Spec.Spec); err == nil {
				code = string(b)
			}
		}
		s.Tables = append(s.Tables, table{Name: t.Name, Changelog: t.ChangelogTopic, KeySer: t.KeySerializer, ValueSer: t.ValueSerializer,
			Window: windowShape(t.Window), Code: code, Partitions: t.Partitions, Global: t.Global, Extra: t.ExtraTopicConfigs})
	}
	for _, t := range p.Tasks {
		sched := "once"
		if sc := t.Schedule; sc != nil {
			sched = fmt.Sprintf("%s %s %v", sc.Interval, sc.Cron, sc.Location)
		}
		s.Tasks = append(s.Tasks, task{Name: t.Name, OnLeader: t.OnLeader, Schedule: sched, Ops: opsOf(t.Ops)})
	}
	for _, j := range p.Joins {
		if b, err := json.Marshal(j.Spec); err == nil {
			s.Joins = append(s.Joins, string(b))
		}
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Sprintf("unshapeable: %v %d", err, time.Now().UnixNano()) // never equal: restart
	}
	return string(b)
}

// codeEqual reports whether two plans of one shape run the same code: the
// agents' and tasks' manifests are equal.
func codeEqual(o, n *AppPlan) bool {
	if len(o.Agents) != len(n.Agents) || len(o.Tasks) != len(n.Tasks) {
		return false
	}
	for i := range o.Agents {
		if !reflect.DeepEqual(o.Agents[i].Spec.Spec, n.Agents[i].Spec.Spec) {
			return false
		}
	}
	for i := range o.Tasks {
		if !reflect.DeepEqual(o.Tasks[i].Spec.Spec, n.Tasks[i].Spec.Spec) {
			return false
		}
	}
	// The app's init code and code settings are the app's spec.
	return reflect.DeepEqual(o.Spec.App.Spec, n.Spec.App.Spec)
}
