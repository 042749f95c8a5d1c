package engine

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/interp"
)

// errProduceFailed stops a record whose acknowledged produce failed: the
// transaction aborts, so the record comes again; it is no dead letter.
var errProduceFailed = errors.New("produce failed")

// stepError is a record's failure at one step of its agent.
type stepError struct {
	op  string
	err error
}

func (e *stepError) Error() string { return e.op + ": " + e.err.Error() }

// worker runs pipelines with its own interpreter thread and serializers.
// The pool's workers process the records of the partitions that hash to
// them; a channel's consumer and each task have a worker of their own.
type worker struct {
	app    *appRun
	th     *interp.Thread
	serdes map[string]*interp.Serializer
	in     chan job
	cur    []interp.Value
	next   []interp.Value
	ev     interp.Event   // context.event of the record in hand
	args   starlark.Tuple // the one argument of a call

	// What is in hand: txn says its records are produced in the session's
	// transaction (a consumed record, or a channel item that came from
	// one), else through the app's producer (tasks). rawKey is the consumed
	// record's key, which what it sends keeps unless a keySelector says
	// otherwise; with hasRaw false the key is the event's decoded key.
	txn    bool
	rawKey []byte
	hasRaw bool
	// byKey: tables are read and written in the partition of each key
	// (a task's, which has no event), not the event's.
	byKey bool

	// takes are the batches of take agents being filled, by agent and
	// partition; pending counts the events they hold.
	takes   map[takeKey]*takeBuf
	pending int

	// ag is the agent whose pipeline runs (nil in tasks): its figures.
	ag *agentRun

	// kwargs are the tables of each operation, as keyword arguments.
	kwargs map[*OpPlan][]starlark.Tuple
}

// job is one worker's share of a batch, or (flush) the order to process
// every take batch it holds.
type job struct {
	fetches []kafka.Fetch
	flush   bool
	wg      *sync.WaitGroup
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
		if j.flush {
			w.flushTakes()
		}
		for i := range j.fetches {
			f := &j.fetches[i]
			ags := w.app.route(f.Topic)
			start := time.Now()
			for _, r := range f.Records {
				for _, ag := range ags {
					w.record(ag, r)
				}
			}
			// The processing time is taken per fetch, not per record (two
			// clock reads a record would cost more than the histogram
			// tells): each record counts the fetch's mean.
			if n := len(f.Records) * len(ags); n > 0 {
				per := time.Since(start) / time.Duration(n)
				for _, ag := range ags {
					ag.latency.observeN(per, uint64(len(f.Records)))
				}
			}
			w.app.lags.note(f)
		}
		j.wg.Done()
	}
}

// record runs one consumed record through one agent, or adds it to the
// agent's take batch. A failure sends it to the dead-letter topic.
func (w *worker) record(ag *agentRun, r *kafka.Record) {
	p := ag.plan
	ag.in.Add(1)
	w.ag = ag
	key, err := w.decode(p.Input.KeySerializer, r.Key)
	if err != nil {
		w.deadLetter(ag, r, &stepError{"spec.input.topic.keySerializer", err})
		return
	}
	value, err := w.decode(p.Input.ValueSerializer, r.Value)
	if err != nil {
		w.deadLetter(ag, r, &stepError{"spec.input.topic.valueSerializer", err})
		return
	}
	if p.Take != nil {
		w.take(ag, r, key, value)
		return
	}
	w.setEvent(r, key, value)
	w.txn, w.rawKey, w.hasRaw = true, r.Key, true
	if err := w.pipeline(p.Ops, p.Outputs, &w.ev, value, true); err != nil && !errors.Is(err, errProduceFailed) {
		w.deadLetter(ag, r, err)
	}
}

// setEvent makes the worker's one Event context.event for r.
func (w *worker) setEvent(r *kafka.Record, key, value interp.Value) {
	ev := &w.ev
	*ev = interp.Event{Key: key, Value: value, Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp, Headers: ev.Headers[:0]}
	for _, h := range r.Headers {
		ev.Headers = append(ev.Headers, interp.Header{Key: h.Key, Value: h.Value})
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

// pipeline runs value through the operations in pipeline order and sends
// what reaches the end to every output. Without hasValue (a task) the first
// operation is called with no value.
func (w *worker) pipeline(ops []OpPlan, outputs []DestPlan, ev *interp.Event, value interp.Value, hasValue bool) error {
	cur := append(w.cur[:0], value)
	next := w.next[:0]
	defer func() { w.cur, w.next = cur[:0], next[:0] }()
	for i := range ops {
		op := &ops[i]
		noValue := i == 0 && !hasValue
		next = next[:0]
		for _, v := range cur {
			switch op.Kind {
			case OpMap:
				out, err := w.callOp(op, ev, v, noValue)
				if err != nil {
					return &stepError{op.Name, err}
				}
				if items, ok := interp.Fanned(out); ok {
					next = append(next, items...)
				} else {
					next = append(next, out)
				}
			case OpFilter:
				out, err := w.callOp(op, ev, v, noValue)
				if err != nil {
					return &stepError{op.Name, err}
				}
				if out.Truth() {
					next = append(next, v)
				}
			case OpTopicSend:
				if noValue {
					v = starlark.None
				}
				meta, sent, err := w.send(op.Send, ev, v)
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
		for i := range outputs {
			d := &outputs[i]
			if _, _, err := w.send(d, ev, v); err != nil {
				return &stepError{d.Path, err}
			}
		}
	}
	return nil
}

// callOp calls an operation's block with v, or with nothing (noValue),
// and its tables.
func (w *worker) callOp(op *OpPlan, ev *interp.Event, v interp.Value, noValue bool) (interp.Value, error) {
	kw := w.tableKwargs(op)
	if noValue {
		return op.Func.Call(w.th, ev, nil, kw)
	}
	w.args[0] = v
	out, err := op.Func.Call(w.th, ev, w.args, kw)
	w.args[0] = nil
	return out, err
}

// call calls a block with the value, in the worker's one argument tuple:
// Starlark copies arguments into the callee's locals and keeps no reference.
func (w *worker) call(f *interp.Func, ev *interp.Event, v interp.Value) (interp.Value, error) {
	w.args[0] = v
	out, err := f.Call(w.th, ev, w.args, nil)
	w.args[0] = nil
	return out, err
}

// produce sends a record in the transaction (txn) or through the app's
// producer; done gets the outcome.
func (w *worker) produce(rec *kafka.Record, done func(*kafka.Record, error)) {
	if w.txn {
		w.app.sess.Produce(rec, done)
		return
	}
	p, err := w.app.ingestProducer()
	if err != nil {
		done(rec, err)
		return
	}
	p.Produce(rec, done)
}

// doneFunc is the callback of the produces nothing waits for.
func (w *worker) doneFunc() func(*kafka.Record, error) {
	if w.txn {
		return w.app.done
	}
	return w.app.producerDone
}

// send sends v to a destination unless its predicate says no. With Ack
// it waits for the broker and returns the record's metadata as a dict.
func (w *worker) send(d *DestPlan, ev *interp.Event, v interp.Value) (meta interp.Value, sent bool, err error) {
	if d.Predicate != nil {
		ok, err := w.call(d.Predicate, ev, v)
		if err != nil {
			return nil, false, err
		}
		if !ok.Truth() {
			return nil, false, nil
		}
	}
	if d.Channel != "" {
		return w.sendChannel(d, ev, v)
	}
	rec := &kafka.Record{Topic: d.Topic, Partition: -1}
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
	switch {
	case d.KeySelector != nil:
		k, err := w.call(d.KeySelector, ev, v)
		if err != nil {
			return nil, false, err
		}
		if rec.Key, err = w.encode(d.KeySerializer, k); err != nil {
			return nil, false, fmt.Errorf("%s.keySerializer: %w", d.Path, err)
		}
	case w.hasRaw:
		rec.Key = w.rawKey
	case ev != nil && ev.Key != nil && ev.Key != starlark.None:
		if rec.Key, err = w.encode(d.KeySerializer, ev.Key); err != nil {
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
		if rec.Headers, err = HeadersOf(x); err != nil {
			return nil, false, fmt.Errorf("%s: headersSelector: %w", d.Path, err)
		}
	}
	if w.ag != nil {
		w.ag.out.Add(1)
	}
	if !d.Ack {
		w.produce(rec, w.doneFunc())
		return nil, true, nil
	}
	type result struct {
		rec *kafka.Record
		err error
	}
	ch := make(chan result, 1)
	txn := w.txn
	w.produce(rec, func(r *kafka.Record, err error) {
		if err != nil && txn {
			w.app.fail(err)
		}
		ch <- result{r, err}
	})
	res := <-ch
	if res.err != nil {
		if txn {
			return nil, false, errProduceFailed
		}
		return nil, false, fmt.Errorf("%s: producing to %s: %w", d.Path, rec.Topic, res.err)
	}
	m := starlark.NewDict(3)
	_ = m.SetKey(starlark.String("topic"), starlark.String(res.rec.Topic))
	_ = m.SetKey(starlark.String("partition"), starlark.MakeInt(int(res.rec.Partition)))
	_ = m.SetKey(starlark.String("offset"), starlark.MakeInt64(res.rec.Offset))
	return m, true, nil
}

// HeadersOf turns a headersSelector's dict (str to str, bytes or None)
// into record headers: what agents, tasks and web views send.
func HeadersOf(x interp.Value) ([]kafka.Header, error) {
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

// LogLimiter lets a few log lines a second through (the engine's and the
// web servers' error lines).
type LogLimiter struct {
	mu      sync.Mutex
	window  time.Time
	n       int
	dropped int
}

// logsPerSecond is how many lines a limiter lets through a second.
const logsPerSecond = 5

// Allow reports whether a line may be logged now, and how many were
// dropped since the last one that was.
func (l *LogLimiter) Allow(now time.Time) (bool, int) {
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
