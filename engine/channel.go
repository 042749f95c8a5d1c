package engine

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/interp"
)

// Channels are in-memory, process-local queues between an output or
// topicSend that names `channel: <name>` and the agents whose input is that
// channel. Each channel holds at most ChannelCapacity items: a sender that
// finds it full waits, so a slow consumer slows its producers (back-pressure)
// instead of growing memory. One goroutine per channel, with its own
// interpreter thread, runs every item through each consuming agent in the
// order they were sent.
//
// What an item carries: the value (a deep copy, so neither side sees the
// other's later changes), its key (the keySelector's value, else the
// sender's event key), the headers of a headersSelector, and the sender's
// event otherwise (topic, partition, offset, timestamp: context.event of the
// consuming agent points back to the source record). Serializers play no
// part: values stay values.
//
// Exactly-once: an item that came from a consumed record is part of that
// record's transaction. Before a transaction ends, the app waits until every
// such item has gone through its agents (and their take batches are
// processed), so that what they produce commits with the source offsets, or
// aborts with them. Items that came from a task are produced outside any
// transaction, at least once.
//
// A dead letter of a channel item carries the item's value as JSON, the
// source headers of the record it came from, and weir-source-channel.

// ChannelCapacity is how many items a channel holds before senders wait.
const ChannelCapacity = 1024

// HeaderSourceChannel names the channel of a dead-lettered channel item.
const HeaderSourceChannel = "weir-source-channel"

// errStopping stops a send to a channel when the app is stopped before
// the channel had room: the transaction aborts, as with a failed produce.
var errStopping = fmt.Errorf("the app is stopping: %w", errProduceFailed)

// chanItem is one item in a channel.
type chanItem struct {
	ev      interp.Event // the sender's event, Key and Value set to the item's
	channel string
	txn     bool // from a consumed record: part of its transaction
}

// channelRun is a channel at run time: its queue and its consumer.
type channelRun struct {
	name  string
	q     chan *chanItem
	subs  []*agentRun
	w     *worker
	flush chan struct{} // the app asks the consumer to process its batches
	done  chan struct{} // closed when the consumer returns
	// code is new code for the consumer's agents (reload.go), taken
	// between two items.
	code atomic.Pointer[AppPlan]
}

// takeCode swaps in new code waiting for the consumer.
func (c *channelRun) takeCode() {
	ap := c.code.Swap(nil)
	if ap == nil {
		return
	}
	for _, ag := range c.subs {
		if p := ap.Agent(ag.name); p != nil {
			ag.plan = p
		}
	}
	c.w.fresh(ap)
}

func newChannelRun(a *appRun, name string, subs []*agentRun) *channelRun {
	return &channelRun{
		name:  name,
		q:     make(chan *chanItem, ChannelCapacity),
		subs:  subs,
		w:     newWorker(a),
		flush: make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
}

// sendChannel queues v on d's channel, waiting while it is full.
func (w *worker) sendChannel(d *DestPlan, ev *interp.Event, v interp.Value) (interp.Value, bool, error) {
	c := w.app.channels[d.Channel]
	it := &chanItem{channel: d.Channel, txn: w.txn}
	if ev != nil {
		it.ev = *ev
		it.ev.Headers = append([]interp.Header(nil), ev.Headers...)
	}
	if d.KeySelector != nil {
		k, err := w.call(d.KeySelector, ev, v)
		if err != nil {
			return nil, false, err
		}
		it.ev.Key = interp.Copy(k)
	}
	val := v
	if d.ValueSelector != nil {
		var err error
		if val, err = w.call(d.ValueSelector, ev, v); err != nil {
			return nil, false, err
		}
	}
	it.ev.Value = interp.Copy(val)
	if d.HeadersSelector != nil {
		x, err := w.call(d.HeadersSelector, ev, v)
		if err != nil {
			return nil, false, err
		}
		hs, err := HeadersOf(x)
		if err != nil {
			return nil, false, fmt.Errorf("%s: headersSelector: %w", d.Path, err)
		}
		it.ev.Headers = it.ev.Headers[:0]
		for _, h := range hs {
			it.ev.Headers = append(it.ev.Headers, interp.Header{Key: h.Key, Value: h.Value})
		}
	}
	if it.txn {
		w.app.chanPending.Add(1)
	}
	select {
	case c.q <- it:
	case <-w.app.stopping:
		if it.txn {
			w.app.itemDone(it)
			w.app.fail(errStopping)
		}
		return nil, false, errStopping
	}
	m := starlark.NewDict(1)
	_ = m.SetKey(starlark.String("channel"), starlark.String(d.Channel))
	return m, true, nil
}

// run consumes the channel until its queue is closed and empty.
func (c *channelRun) run() {
	defer close(c.done)
	var timer *time.Timer
	var tick <-chan time.Time
	for {
		select {
		case it, ok := <-c.q:
			c.takeCode()
			if !ok {
				c.w.flushTakes()
				return
			}
			c.handle(it)
		case <-c.flush:
			c.takeCode()
			c.w.flushTakes()
		case <-tick:
			c.takeCode()
			c.flushDue()
		}
		// Arm the timer for the oldest batch with a within.
		next := c.nextDue()
		switch {
		case next.IsZero():
			tick = nil
		case timer == nil:
			timer = time.NewTimer(time.Until(next))
			tick = timer.C
		default:
			timer.Reset(time.Until(next))
			tick = timer.C
		}
	}
}

// handle runs an item through each consuming agent (or into its batch).
func (c *channelRun) handle(it *chanItem) {
	w := c.w
	a := w.app
	if it.txn && len(c.subs) > 1 {
		a.chanPending.Add(int64(len(c.subs) - 1))
	}
	for i, ag := range c.subs {
		ag.in.Add(1)
		w.ag = ag
		item := it
		if i < len(c.subs)-1 {
			// Each agent gets its own copy.
			cp := *it
			cp.ev.Value = interp.Copy(it.ev.Value)
			item = &cp
		}
		if tp := ag.plan.Take; tp != nil {
			c.take(ag, item)
			continue
		}
		w.ev = item.ev
		w.txn, w.rawKey, w.hasRaw = item.txn, nil, false
		if err := w.pipeline(ag.plan.Ops, ag.plan.Outputs, &w.ev, item.ev.Value, true); err != nil && !errors.Is(err, errProduceFailed) {
			w.deadLetterItem(ag, item, err)
		}
		a.itemDone(item)
	}
}

// take adds an item to the agent's batch of this channel.
func (c *channelRun) take(ag *agentRun, it *chanItem) {
	w := c.w
	if w.takes == nil {
		w.takes = map[takeKey]*takeBuf{}
	}
	k := takeKey{ag: ag, topic: c.name}
	b := w.takes[k]
	if b == nil {
		b = &takeBuf{}
		w.takes[k] = b
	}
	now := time.Now()
	if len(b.events) == 0 {
		b.first = now
	}
	b.events = append(b.events, takeEvent{item: it, key: it.ev.Key, value: it.ev.Value})
	w.pending++
	if b.full(ag.plan.Take, now) {
		w.processTake(ag, b)
	}
}

// flushDue processes the batches whose within has passed.
func (c *channelRun) flushDue() {
	now := time.Now()
	for k, b := range c.w.takes {
		if len(b.events) > 0 && b.full(k.ag.plan.Take, now) {
			c.w.processTake(k.ag, b)
		}
	}
}

// nextDue is when the oldest batch with a within is due; zero: none.
func (c *channelRun) nextDue() time.Time {
	var next time.Time
	for k, b := range c.w.takes {
		if len(b.events) == 0 || k.ag.plan.Take.Within <= 0 {
			continue
		}
		if due := b.first.Add(k.ag.plan.Take.Within); next.IsZero() || due.Before(next) {
			next = due
		}
	}
	return next
}

// itemDone marks an item processed: a transaction waits for those that
// came from its records.
func (a *appRun) itemDone(it *chanItem) {
	if it.txn && a.chanPending.Add(-1) == 0 {
		select {
		case a.drained <- struct{}{}:
		default:
		}
	}
}

// drain waits until every channel item that came from the transaction's
// records has been processed, asking the consumers to process their take
// batches. It gives up when ctx ends: the transaction then aborts.
func (a *appRun) drain(ctx context.Context) error {
	for a.chanPending.Load() > 0 {
		for _, c := range a.channels {
			select {
			case c.flush <- struct{}{}:
			default:
			}
		}
		select {
		case <-a.drained:
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// deadLetterItem sends a channel item that failed to the agent's dead-letter
// topic: its value as JSON, the headers of the event it came with, and what
// failed.
func (w *worker) deadLetterItem(ag *agentRun, it *chanItem, err error) {
	value, jerr := interp.EncodeJSON(it.ev.Value)
	if jerr != nil {
		value = []byte(it.ev.Value.String())
	}
	var key []byte
	if k := it.ev.Key; k != nil && k != starlark.None {
		if s, ok := starlark.AsString(k); ok {
			key = []byte(s)
		} else if b, err := interp.EncodeJSON(k); err == nil {
			key = b
		}
	}
	src := &kafka.Record{
		Topic:     it.ev.Topic,
		Partition: it.ev.Partition,
		Offset:    it.ev.Offset,
		Key:       key,
		Value:     value,
		Timestamp: it.ev.Timestamp,
	}
	for _, h := range it.ev.Headers {
		src.Headers = append(src.Headers, kafka.Header{Key: h.Key, Value: h.Value})
	}
	txn := w.txn
	w.txn = it.txn
	w.sendDeadLetter(ag, src, err, kafka.Header{Key: HeaderSourceChannel, Value: []byte(it.channel)})
	w.txn = txn
}
