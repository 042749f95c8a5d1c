package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// Tasks (KasprTask) run a pipeline with no input: once when the app starts,
// every interval, or at the times of a cron expression. The first
// operation is called with no value (a topicSend first sends None). What a
// task sends goes through the app's producer (idempotent, outside any
// transaction: a task consumes nothing whose offsets could commit with it)
// or onto channels.
//
// Timing: an interval task first runs one interval after the start (as a
// timer does), then every interval after the previous run began; a run that
// is still going when the next is due delays it rather than overlapping. A
// cron task runs at the next matching minute in its time zone (UTC unless
// one is given); runs missed while the process was down are not made up.
//
// onLeader: only the replica that leads the app runs the task (see
// leader.go); a task run once waits until its replica leads, and runs once.
//
// A task that uses tables runs in the app's loop, between two polls, in the
// transaction in flight: its table writes and changelog records, and what
// it sends, commit with the transaction (exactly once). Having no event, it
// reads and writes each key in the partition Kafka's default partitioner
// gives the key's bytes, and only keys of partitions its replica holds (a
// global table's every key); len and scans cover those partitions. Such a
// task needs an agent of its app to consume a topic.
//
// A task whose code fails logs the error (rate-limited) and counts it;
// there is no input record to dead-letter. It runs again at its next time.

// taskRun is a task at run time.
type taskRun struct {
	plan    *TaskPlan
	app     *appRun
	w       *worker
	log     *slog.Logger
	limiter LogLimiter
	cron    cron.Schedule // nil unless a cron schedule
	sched   *SchedulePlan // the schedule, fixed for the task's life
	// code is new code (reload.go), taken at the next run.
	code atomic.Pointer[AppPlan]
	// inLoop: the task uses tables, so the app's loop runs it, in its
	// transaction, with tables read and written by key (see tableView).
	inLoop bool

	runs, failures atomic.Int64
}

// cronParser reads cron expressions as package spec checked them: five
// fields or a descriptor.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func newTaskRun(a *appRun, p *TaskPlan) (*taskRun, error) {
	t := &taskRun{plan: p, app: a, w: newWorker(a), log: a.log.With("task", p.Name), sched: p.Schedule}
	for _, op := range p.Ops {
		t.inLoop = t.inLoop || len(op.Tables) > 0
	}
	if s := p.Schedule; s != nil && s.Cron != "" {
		sched, err := cronParser.Parse(s.Cron)
		if err != nil {
			return nil, fmt.Errorf("task %s: cron %q: %w", p.Name, s.Cron, err)
		}
		t.cron = sched
	}
	return t, nil
}

// run runs the task on its schedule until ctx ends.
func (t *taskRun) run(ctx context.Context) {
	// The schedule and onLeader are shape: a code swap keeps them.
	s, onLeader := t.plan.Schedule, t.plan.OnLeader
	if s == nil {
		if onLeader && !t.app.waitLeader(ctx) {
			return
		}
		t.due()
		return
	}
	next := t.next(time.Now())
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		started := time.Now()
		if !onLeader || t.app.isLeader() {
			t.due()
		}
		next = t.next(started)
		if now := time.Now(); next.Before(now) {
			next = now
		}
		timer.Reset(time.Until(next))
	}
}

// next is the task's next time after from.
func (t *taskRun) next(from time.Time) time.Time {
	if t.cron != nil {
		return t.cron.Next(from.In(t.sched.Location))
	}
	return from.Add(t.sched.Interval)
}

// due runs the task now, or, when it uses tables, has the app's loop run
// it in its transaction (a run still waiting there is not doubled).
func (t *taskRun) due() {
	if !t.inLoop {
		t.fire()
		return
	}
	select {
	case t.app.dueTasks <- t:
	default:
	}
}

// fire runs the task's pipeline once.
func (t *taskRun) fire() {
	if ap := t.code.Swap(nil); ap != nil {
		for _, p := range ap.Tasks {
			if p.Name == t.plan.Name {
				t.plan = p
			}
		}
		t.w.fresh(ap)
	}
	w := t.w
	w.txn, w.rawKey, w.hasRaw, w.ag, w.byKey = t.inLoop, nil, false, nil, t.inLoop
	t.runs.Add(1)
	if err := w.pipeline(t.plan.Ops, nil, nil, nil, false); err != nil {
		t.failures.Add(1)
		if ok, dropped := t.limiter.Allow(time.Now()); ok {
			t.log.Error("task failed", "error", err, "suppressed", dropped)
		}
	}
}
