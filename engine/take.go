package engine

import (
	"errors"
	"time"

	"go.starlark.net/starlark"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/interp"
)

// take batches events for an agent with input.take: its operations get a
// list of up to Max values instead of one value.
//
// A batch never spans a transaction: the offsets of its records are
// committed with what the batch produced, so every batch still open when a
// transaction ends is processed before it commits. To let batches fill, an
// app with take agents ends its transactions every min(within) of those
// agents (instead of every CommitInterval) and after at least ten times
// their largest max records. A batch is processed when it holds Max events,
// when Within has passed since its first event (checked as events arrive and
// when the transaction ends), or when the transaction ends.
//
// Batches are kept per source partition (a channel's, per channel), so the
// order within a partition holds. The batch's context.event is its last
// event; a key not chosen by a keySelector is the last event's key. When the
// batch fails, each of its records goes to the dead-letter topic.

// takeKey names one batch: an agent and a source partition.
type takeKey struct {
	ag        *agentRun
	topic     string
	partition int32
}

// takeBuf is a batch being filled.
type takeBuf struct {
	first  time.Time
	events []takeEvent
}

// takeEvent is one event of a batch: a consumed record, or a channel item.
type takeEvent struct {
	rec   *kafka.Record // nil for a channel item
	item  *chanItem     // nil for a record
	key   interp.Value
	value interp.Value
}

// full reports whether the batch must be processed now.
func (b *takeBuf) full(tp *TakePlan, now time.Time) bool {
	if tp.Max > 0 && len(b.events) >= tp.Max {
		return true
	}
	return tp.Within > 0 && now.Sub(b.first) >= tp.Within
}

// take adds a consumed record to its agent's batch, and processes the batch
// when it is full.
func (w *worker) take(ag *agentRun, r *kafka.Record, key, value interp.Value) {
	if w.takes == nil {
		w.takes = map[takeKey]*takeBuf{}
	}
	k := takeKey{ag, r.Topic, r.Partition}
	b := w.takes[k]
	now := time.Now()
	if b == nil {
		b = &takeBuf{}
		w.takes[k] = b
	}
	if len(b.events) == 0 {
		b.first = now
	}
	b.events = append(b.events, takeEvent{rec: r, key: key, value: value})
	w.pending++
	if b.full(ag.plan.Take, now) {
		w.processTake(ag, b)
	}
}

// flushTakes processes every batch the worker holds.
func (w *worker) flushTakes() {
	for k, b := range w.takes {
		if len(b.events) > 0 {
			w.processTake(k.ag, b)
		}
	}
}

// processTake runs a batch through its agent and empties it.
func (w *worker) processTake(ag *agentRun, b *takeBuf) {
	w.ag = ag
	evs := b.events
	values := make([]interp.Value, len(evs))
	for i := range evs {
		values[i] = evs[i].value
	}
	last := &evs[len(evs)-1]
	if last.rec != nil {
		w.setEvent(last.rec, last.key, last.value)
		w.txn, w.rawKey, w.hasRaw = true, last.rec.Key, true
	} else {
		w.ev = last.item.ev
		w.txn, w.rawKey, w.hasRaw = false, nil, false
		for i := range evs {
			if evs[i].item.txn {
				w.txn = true
			}
		}
	}
	err := w.pipeline(ag.plan.Ops, ag.plan.Outputs, &w.ev, starlark.NewList(values), true)
	if err != nil && !errors.Is(err, errProduceFailed) {
		for i := range evs {
			if e := &evs[i]; e.rec != nil {
				w.deadLetter(ag, e.rec, err)
			} else {
				w.deadLetterItem(ag, e.item, err)
			}
		}
	}
	for i := range evs {
		if it := evs[i].item; it != nil {
			w.app.itemDone(it)
		}
	}
	w.pending -= len(evs)
	clear(b.events)
	b.events = b.events[:0]
}
