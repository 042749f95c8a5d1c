package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/franz"
	"github.com/weirstream/weir/engine/state"
)

// Recovery. Table partition p follows source partition p: when the group
// assigns this replica partition p of a topic whose agents update
// partitioned tables, every partitioned table's partition p is brought up
// to date before any record of that partition is processed. The loop does it between Poll and
// dispatch: it replays the changelog partition from the offset stored with
// the local copy (all of it when there is none) to its end for a
// read_committed reader, applying the records to the store in batches. A
// restart with intact local state reads only the tail; an empty data dir
// replays everything. The app is not ready meanwhile, and Runtime.Tables
// reports each partition's progress.
//
// A local copy whose stored offset is past the changelog's end belongs to
// a changelog that was deleted and made again: it is dropped and replayed.
//
// Revocation keeps the local copy, so that a partition that comes back
// soon replays only what another replica wrote meanwhile. A partition that
// stays away longer than RuntimeOptions.TableGrace is removed from the
// store; so are the copies found at start that the group does not assign
// within that time.

// partProgress is one table partition's recovery.
type partProgress struct {
	done, total atomic.Int64
	recovering  atomic.Bool
}

// recovery is an app's bookkeeping of table partitions.
type recovery struct {
	mu       sync.Mutex
	assigned map[int32]int       // source partitions assigned, by number
	pending  map[int32]bool      // table partitions to bring up to date
	revoked  map[int32]time.Time // partitions no longer assigned, since when
	progress map[string]map[int32]*partProgress

	replayed atomic.Int64 // changelog records applied by recovery
	reader   *franz.Reader
}

func (r *recovery) init() {
	r.assigned = map[int32]int{}
	r.pending = map[int32]bool{}
	r.revoked = map[int32]time.Time{}
	r.progress = map[string]map[int32]*partProgress{}
}

// hasPartitioned reports whether the app has partitioned tables.
func (a *appRun) hasPartitioned() bool {
	for _, t := range a.tables {
		if !t.plan.Global {
			return true
		}
	}
	return false
}

// stateful reports whether a topic's records update partitioned tables:
// its partitions decide which table partitions this replica holds.
func (a *appRun) stateful(topic string) bool {
	for _, ag := range a.route(topic) {
		if ag.updatesTables {
			return true
		}
	}
	return false
}

// assigned notes source partitions the group gave this replica.
func (a *appRun) assigned(parts []kafka.TopicPartition) {
	if !a.hasPartitioned() {
		return
	}
	r := &a.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, tp := range parts {
		if !a.stateful(tp.Topic) {
			continue
		}
		r.assigned[tp.Partition]++
		if r.assigned[tp.Partition] == 1 {
			r.pending[tp.Partition] = true
			delete(r.revoked, tp.Partition)
		}
	}
}

// revoked notes source partitions the group took away.
func (a *appRun) revoked(parts []kafka.TopicPartition) {
	if !a.hasPartitioned() {
		return
	}
	r := &a.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	for _, tp := range parts {
		if !a.stateful(tp.Topic) {
			continue
		}
		if r.assigned[tp.Partition] > 0 {
			r.assigned[tp.Partition]--
		}
		if r.assigned[tp.Partition] == 0 {
			delete(r.assigned, tp.Partition)
			delete(r.pending, tp.Partition)
			r.revoked[tp.Partition] = now
		}
	}
}

// revokeAll counts every partition held as revoked (a session replaced).
func (a *appRun) revokeAll() {
	r := &a.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	for p := range r.assigned {
		r.revoked[p] = now
	}
	clear(r.assigned)
	clear(r.pending)
}

// needRecovery marks a table partition to bring up to date again.
func (a *appRun) needRecovery(p int32) {
	a.rec.mu.Lock()
	a.rec.pending[p] = true
	a.rec.mu.Unlock()
}

// recoverPending brings every pending table partition up to date.
func (a *appRun) recoverPending(ctx context.Context) error {
	r := &a.rec
	r.mu.Lock()
	var parts []int32
	for p := range r.pending {
		parts = append(parts, p)
	}
	r.mu.Unlock()
	if len(parts) == 0 {
		return nil
	}
	slices.Sort(parts)
	for _, t := range a.tables {
		if t.plan.Global {
			continue
		}
		var mine []int32
		for _, p := range parts {
			if p < t.plan.Partitions {
				mine = append(mine, p)
			}
		}
		if len(mine) == 0 {
			continue
		}
		if err := a.recoverTable(ctx, t, mine); err != nil {
			a.setUnready(fmt.Sprintf("recovering table %s: %v", t.plan.Name, err))
			return err
		}
	}
	r.mu.Lock()
	for _, p := range parts {
		delete(r.pending, p)
	}
	r.mu.Unlock()
	return nil
}

// progressOf returns the progress record of a table partition.
func (a *appRun) progressOf(table string, p int32) *partProgress {
	r := &a.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.progress[table]
	if m == nil {
		m = map[int32]*partProgress{}
		r.progress[table] = m
	}
	pp := m[p]
	if pp == nil {
		pp = &partProgress{}
		m[p] = pp
	}
	return pp
}

// recoverTable replays the changelog of some partitions of a table into the
// store, from each one's stored offset to its end.
func (a *appRun) recoverTable(ctx context.Context, t *tableRun, parts []int32) error {
	rd, err := a.changelogReader()
	if err != nil {
		return err
	}
	topic := t.plan.ChangelogTopic
	ends, err := rd.Ends(ctx, topic)
	if err != nil {
		return err
	}
	starts, err := rd.Starts(ctx, topic)
	if err != nil {
		return err
	}
	from := map[kafka.TopicPartition]int64{}
	for _, p := range parts {
		tp := kafka.TopicPartition{Topic: topic, Partition: p}
		stored, err := t.db.Offsets(t.id, t.plan.Name, p)
		if err != nil {
			return err
		}
		off, end := stored.Changelog, ends[tp]
		if off > end {
			a.log.Warn("the local copy of a table partition is ahead of its changelog (was the changelog topic made again?): replaying it from the start",
				"table", t.plan.Name, "partition", p, "stored_offset", off, "changelog_end", end)
			if err := t.db.DropPartition(t.id, t.plan.Name, p); err != nil {
				return err
			}
			off = -1
		}
		off = max(off, starts[tp])
		pp := a.progressOf(t.plan.Name, p)
		pp.done.Store(0)
		pp.total.Store(max(end-off, 0))
		if off >= end {
			continue
		}
		pp.recovering.Store(true)
		from[tp] = off
	}
	if len(from) == 0 {
		return nil
	}
	start := time.Now()
	rd.Add(from)
	defer func() {
		tps := make([]kafka.TopicPartition, 0, len(from))
		for tp := range from {
			tps = append(tps, tp)
			a.progressOf(t.plan.Name, tp.Partition).recovering.Store(false)
		}
		rd.Remove(tps)
	}()
	a.setUnready(fmt.Sprintf("recovering table %s partitions %v", t.plan.Name, parts))
	var recs []state.ChangelogRecord
	applied := int64(0)
	for {
		caughtUp := true
		for tp, off := range from {
			pos := rd.Position(tp)
			a.progressOf(t.plan.Name, tp.Partition).done.Store(max(pos-off, 0))
			if pos < ends[tp] {
				caughtUp = false
			}
		}
		if caughtUp {
			break
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fetches, err := rd.Poll(pctx)
		cancel()
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && pctx.Err() == nil {
			return err
		}
		for _, f := range fetches {
			recs = recs[:0]
			for _, r := range f.Records {
				recs = append(recs, state.ChangelogRecord{Key: r.Key, Value: r.Value, Offset: r.Offset})
			}
			if err := t.db.ApplyChangelog(t.id, t.plan.Name, f.Partition, recs); err != nil {
				return err
			}
			applied += int64(len(recs))
		}
	}
	a.rec.replayed.Add(applied)
	d := time.Since(start)
	a.log.Info("table partitions recovered from the changelog", "table", t.plan.Name, "partitions", parts,
		"records", applied, "seconds", d.Seconds(), "records_per_second", int64(float64(applied)/max(d.Seconds(), 1e-9)))
	return nil
}

// changelogReader returns the app's reader of changelogs, made once.
func (a *appRun) changelogReader() (*franz.Reader, error) {
	if a.rec.reader != nil {
		return a.rec.reader, nil
	}
	rd, err := franz.NewReader(a.plan.Kafka)
	if err != nil {
		return nil, err
	}
	a.rec.reader = rd
	return rd, nil
}

// cleanRevoked removes the local copies of partitions that have stayed
// away longer than the grace period.
func (a *appRun) cleanRevoked(grace time.Duration) {
	r := &a.rec
	r.mu.Lock()
	var drop []int32
	now := time.Now()
	for p, at := range r.revoked {
		if now.Sub(at) >= grace {
			drop = append(drop, p)
			delete(r.revoked, p)
		}
	}
	r.mu.Unlock()
	for _, p := range drop {
		for _, t := range a.tables {
			if t.plan.Global {
				continue
			}
			if err := t.db.DropPartition(t.id, t.plan.Name, p); err != nil {
				a.log.Error("removing the local copy of a table partition", "table", t.plan.Name, "partition", p, "error", err)
				continue
			}
			a.log.Info("removed the local copy of a table partition that stayed away", "table", t.plan.Name, "partition", p)
		}
	}
}

// noteLocalCopies marks the partitions found in the store at start as
// revoked now: they are removed after the grace period unless assigned.
func (a *appRun) noteLocalCopies() error {
	now := time.Now()
	for _, t := range a.tables {
		if t.plan.Global {
			continue
		}
		ps, err := t.db.Partitions(t.id, t.plan.Name)
		if err != nil {
			return err
		}
		a.rec.mu.Lock()
		for _, p := range ps {
			if a.rec.assigned[p] == 0 {
				a.rec.revoked[p] = now
			}
		}
		a.rec.mu.Unlock()
	}
	return nil
}

// TableProgress is one table partition's recovery, as Runtime.Tables
// reports it.
type TableProgress struct {
	App, Table string
	Partition  int32
	// Done and Total count changelog offsets: how far the replay has come
	// of how far it must go.
	Done, Total int64
	Recovering  bool
}
