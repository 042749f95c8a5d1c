package engine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/state"
	"github.com/weirstream/weir/interp"
)

// Tables at run time.
//
// A table's state lives in the process's Pebble store (package
// engine/state), one key range per partition, with the changelog offset
// that partition has applied. Its changelog topic in Kafka is the durable
// truth.
//
// A write (t[k] = v, del, pop, setdefault) in an agent changes the
// partition of the event being processed: the change goes into that
// partition's batch of the transaction in flight (an indexed Pebble batch,
// so later reads in the same transaction see it), and a changelog record
// (key, value, or a tombstone) goes to the same partition of the changelog,
// produced in the transaction with the agent's outputs and the source
// offsets. When the transaction commits, each batch is committed to Pebble
// with the changelog offset after its last record; when it aborts, the
// batches are dropped and the records come again. So local state is never
// ahead of the committed changelog, and a crash at any point leaves state
// that recovery completes by replaying the changelog from the stored offset
// (see table_recover.go).
//
// Reads see the partition of the current event. A global table is read
// across all its partitions (the current event's first); its local copy is
// written only by the follower that applies its committed changelog, so a
// write to a global table is visible to the transaction that made it and to
// everyone once it is committed and applied.

// tableRun is one table of a running app.
type tableRun struct {
	plan *TablePlan
	app  *appRun
	db   *state.DB
	id   string // the app id: the store's app prefix

	mu   sync.Mutex
	open map[int32]*openPart // the changes of the transaction in flight
	// newest is, per partition, the newest relativeTo time a windowed
	// table has seen: what its windows expire by.
	newest map[int32]time.Time
}

// advance notes a relativeTo time seen by a partition and returns the
// newest.
func (t *tableRun) advance(p int32, rel time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.newest == nil {
		t.newest = map[int32]time.Time{}
	}
	if rel.After(t.newest[p]) {
		t.newest[p] = rel
	}
	return t.newest[p]
}

// cleanWindows removes the expired windows of the partitions held here
// from the store (reads already ignore them). It runs between
// transactions.
func (t *tableRun) cleanWindows(held []int32) {
	wp := t.plan.Window
	if wp == nil || wp.Expires <= 0 {
		return
	}
	for _, p := range held {
		now := time.Now()
		if wp.RelativeTo != "now" {
			t.mu.Lock()
			now = t.newest[p]
			t.mu.Unlock()
			if now.IsZero() {
				continue
			}
		}
		var expired [][]byte
		err := t.db.Iterate(t.id, t.plan.Name, p, nil, nil, func(k, _ []byte) bool {
			if len(k) >= 8 && wp.expired(int64(binary.BigEndian.Uint64(k[len(k)-8:])), now) {
				expired = append(expired, bytes.Clone(k))
			}
			return true
		})
		if err == nil && len(expired) > 0 {
			b := t.db.NewBatch()
			for _, k := range expired {
				if err = b.Delete(t.id, t.plan.Name, p, k); err != nil {
					break
				}
			}
			if err == nil {
				err = b.Commit()
			} else {
				_ = b.Close()
			}
		}
		if err != nil {
			t.app.log.Error("removing expired windows", "table", t.plan.Name, "partition", p, "error", err)
		}
	}
}

// openPart is one partition's changes in the transaction in flight.
type openPart struct {
	mu   sync.Mutex // the pool worker and channel consumers may share a partition
	b    *state.Batch
	next atomic.Int64 // the changelog offset after the last acknowledged record
	done func(*kafka.Record, error)
}

func newTableRun(a *appRun, p *TablePlan, db *state.DB) *tableRun {
	return &tableRun{plan: p, app: a, db: db, id: a.plan.ID, open: map[int32]*openPart{}}
}

// part returns the open batch of a partition, starting it if need be.
func (t *tableRun) part(p int32) *openPart {
	t.mu.Lock()
	defer t.mu.Unlock()
	op := t.open[p]
	if op == nil {
		op = &openPart{b: t.db.NewBatch()}
		op.next.Store(-1)
		op.done = func(r *kafka.Record, err error) {
			if err != nil {
				t.app.fail(err)
				return
			}
			for {
				cur := op.next.Load()
				if r.Offset+1 <= cur || op.next.CompareAndSwap(cur, r.Offset+1) {
					return
				}
			}
		}
		t.open[p] = op
	}
	return op
}

// openIfAny returns the open batch of a partition, or nil.
func (t *tableRun) openIfAny(p int32) *openPart {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.open[p]
}

// end commits (after a committed transaction) or drops the open batches.
// A batch that fails to commit leaves its partition behind the changelog:
// it is recovered before it is used again.
func (t *tableRun) end(committed bool) {
	t.mu.Lock()
	open := t.open
	if len(open) > 0 {
		t.open = map[int32]*openPart{}
	}
	t.mu.Unlock()
	for p, op := range open {
		if !committed || t.plan.Global {
			_ = op.b.Close()
			continue
		}
		err := op.b.SetOffsets(t.id, t.plan.Name, p, state.Offsets{Changelog: op.next.Load()})
		if err == nil {
			err = op.b.Commit()
		}
		if err != nil {
			_ = op.b.Close()
			t.app.log.Error("storing a committed table change failed: the partition will be recovered from its changelog", "table", t.plan.Name, "partition", p, "error", err)
			t.app.needRecovery(p)
		}
	}
}

// tableView is a table as one worker's code sees it: reads and writes go
// to the partition of the worker's current event.
type tableView struct {
	t *tableRun
	w *worker
}

var _ interp.Table = (*tableView)(nil)

// partition is the partition of the event in hand.
func (v *tableView) partition() (int32, error) {
	p := v.w.ev.Partition
	if p < 0 || p >= v.t.plan.Partitions {
		return 0, fmt.Errorf("table %s has %d partitions; the event came from partition %d: a table must have the partitions of the topics that update it", v.t.plan.Name, v.t.plan.Partitions, p)
	}
	return p, nil
}

// partitionFor is the partition a key is read from and written to: the
// current event's, or, for a task (which has no event), the one Kafka's
// default partitioner gives the key's bytes, which this replica must hold.
func (v *tableView) partitionFor(kb []byte) (int32, error) {
	if !v.w.byKey {
		return v.partition()
	}
	p := kafka.KeyPartition(kb, v.t.plan.Partitions)
	if !v.t.plan.Global && !slices.Contains(v.w.app.held(), p) {
		return 0, fmt.Errorf("table %s: key %q is in partition %d, which this replica does not hold: a task reads and writes the keys of the partitions its replica holds", v.t.plan.Name, kb, p)
	}
	return p, nil
}

// covered are the partitions len and scans cover: the current event's
// (every one, for a global table), or for a task those this replica holds.
func (v *tableView) covered() ([]int32, error) {
	if v.w.byKey && !v.t.plan.Global {
		return v.w.app.held(), nil
	}
	if v.w.byKey {
		return v.partitions(0), nil
	}
	cur, err := v.partition()
	if err != nil && !v.t.plan.Global {
		return nil, err
	}
	return v.partitions(cur), nil
}

func (v *tableView) key(k interp.Value) ([]byte, error) {
	b, err := v.w.encode(v.t.plan.KeySerializer, k)
	if err != nil {
		return nil, fmt.Errorf("table %s: key: %w", v.t.plan.Name, err)
	}
	return b, nil
}

func (v *tableView) value(b []byte) (interp.Value, error) {
	x, err := v.w.decode(v.t.plan.ValueSerializer, b)
	if err != nil {
		return nil, fmt.Errorf("table %s: stored value: %w", v.t.plan.Name, err)
	}
	return x, nil
}

// reader returns what reads partition p: its open batch, or the store.
func (v *tableView) get(p int32, kb []byte) ([]byte, bool, error) {
	if op := v.t.openIfAny(p); op != nil {
		op.mu.Lock()
		defer op.mu.Unlock()
		return op.b.Get(v.t.id, v.t.plan.Name, p, kb)
	}
	return v.t.db.Get(v.t.id, v.t.plan.Name, p, kb)
}

func (v *tableView) Get(k interp.Value) (interp.Value, bool, error) {
	kb, err := v.key(k)
	if err != nil {
		return nil, false, err
	}
	cur, err := v.partitionFor(kb)
	if err != nil && !v.t.plan.Global {
		return nil, false, err
	}
	for _, p := range v.partitions(cur) {
		b, ok, err := v.get(p, kb)
		if err != nil {
			return nil, false, err
		}
		if ok {
			x, err := v.value(b)
			return x, err == nil, err
		}
	}
	return nil, false, nil
}

// partitions are the partitions a read looks in: the current one, and for
// a global table every other after it.
func (v *tableView) partitions(cur int32) []int32 {
	if !v.t.plan.Global {
		return []int32{cur}
	}
	ps := make([]int32, 0, v.t.plan.Partitions)
	ps = append(ps, cur)
	for p := range v.t.plan.Partitions {
		if p != cur {
			ps = append(ps, p)
		}
	}
	return ps
}

func (v *tableView) Set(k, x interp.Value) error {
	kb, err := v.key(k)
	if err != nil {
		return err
	}
	vb, err := v.w.encode(v.t.plan.ValueSerializer, x)
	if err != nil {
		return fmt.Errorf("table %s: value: %w", v.t.plan.Name, err)
	}
	return v.write(kb, vb)
}

func (v *tableView) Delete(k interp.Value) error {
	kb, err := v.key(k)
	if err != nil {
		return err
	}
	return v.write(kb, nil)
}

// write changes the current partition (vb nil: deletes) and sends the
// change to the changelog in the transaction.
func (v *tableView) write(kb, vb []byte) error {
	if !v.w.txn {
		return fmt.Errorf("table %s: only agents that consume a topic, and tasks of apps that have such agents, write tables", v.t.plan.Name)
	}
	p, err := v.partitionFor(kb)
	if err != nil {
		return err
	}
	op := v.t.part(p)
	op.mu.Lock()
	if vb == nil {
		err = op.b.Delete(v.t.id, v.t.plan.Name, p, kb)
	} else {
		err = op.b.Set(v.t.id, v.t.plan.Name, p, kb, vb)
	}
	op.mu.Unlock()
	if err != nil {
		return err
	}
	v.w.app.sess.Produce(&kafka.Record{Topic: v.t.plan.ChangelogTopic, Partition: p, Key: kb, Value: vb}, op.done)
	return nil
}

func (v *tableView) Len() (int, error) {
	ps, err := v.covered()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range ps {
		var c int
		if op := v.t.openIfAny(p); op != nil {
			op.mu.Lock()
			c, err = op.b.Count(v.t.id, v.t.plan.Name, p)
			op.mu.Unlock()
		} else {
			c, err = v.t.db.Count(v.t.id, v.t.plan.Name, p)
		}
		if err != nil {
			return 0, err
		}
		n += c
	}
	return n, nil
}

func (v *tableView) Scan(prefix interp.Value, fn func(k, x interp.Value) bool) error {
	pb, err := v.prefix(prefix)
	if err != nil {
		return err
	}
	ps, err := v.covered()
	if err != nil {
		return err
	}
	type kv struct{ k, v []byte }
	var all []kv
	for _, p := range ps {
		collect := func(k, x []byte) bool {
			all = append(all, kv{bytes.Clone(k), bytes.Clone(x)})
			return true
		}
		if op := v.t.openIfAny(p); op != nil {
			op.mu.Lock()
			err = op.b.PrefixScan(v.t.id, v.t.plan.Name, p, pb, collect)
			op.mu.Unlock()
		} else {
			err = v.t.db.PrefixScan(v.t.id, v.t.plan.Name, p, pb, collect)
		}
		if err != nil {
			return err
		}
	}
	if len(ps) > 1 {
		slices.SortStableFunc(all, func(a, b kv) int { return bytes.Compare(a.k, b.k) })
		all = slices.CompactFunc(all, func(a, b kv) bool { return bytes.Equal(a.k, b.k) })
	}
	for _, e := range all {
		k, err := v.w.decode(v.t.plan.KeySerializer, e.k)
		if err != nil {
			return fmt.Errorf("table %s: stored key: %w", v.t.plan.Name, err)
		}
		x, err := v.value(e.v)
		if err != nil {
			return err
		}
		if !fn(k, x) {
			return nil
		}
	}
	return nil
}

// prefix encodes a prefix_scan prefix as the start of the keys it matches:
// raw bytes as they are; with json keys, a str prefix matches the JSON
// strings that start with it (its encoding without the closing quote).
func (v *tableView) prefix(prefix interp.Value) ([]byte, error) {
	switch x := prefix.(type) {
	case nil, starlark.NoneType:
		return nil, nil
	case starlark.Bytes:
		return []byte(x), nil
	case starlark.String:
		if v.t.plan.KeySerializer == "json" {
			b, err := interp.EncodeJSON(x)
			if err != nil {
				return nil, err
			}
			return b[:len(b)-1], nil
		}
		return []byte(x), nil
	}
	return nil, fmt.Errorf("prefix_scan takes a str or bytes prefix, not %s", prefix.Type())
}

// tableKwargs returns the keyword arguments (the tables) of an operation,
// made once per worker and operation.
func (w *worker) tableKwargs(op *OpPlan) []starlark.Tuple {
	if len(op.Tables) == 0 {
		return nil
	}
	if kw, ok := w.kwargs[op]; ok {
		return kw
	}
	kw := make([]starlark.Tuple, 0, len(op.Tables))
	for _, ta := range op.Tables {
		tr := w.app.tables[ta.Name]
		view := &tableView{t: tr, w: w}
		var deflt func() (interp.Value, error)
		if d := tr.plan.Default; d != nil {
			deflt = func() (interp.Value, error) {
				x, err := d.Call(w.th, &w.ev, nil, nil)
				if err != nil {
					return nil, err
				}
				return interp.DefaultOf(x), nil
			}
		}
		var table interp.Table = view
		if tr.plan.Window != nil {
			table = &windowedView{tableView: view, deflt: deflt}
			deflt = nil // a window set is never missing; its windows are
		}
		kw = append(kw, starlark.Tuple{starlark.String(ta.Param), interp.NewTableValue(tr.plan.Name, table, deflt, false)})
	}
	if w.kwargs == nil {
		w.kwargs = map[*OpPlan][]starlark.Tuple{}
	}
	w.kwargs[op] = kw
	return kw
}
