package engine

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/weirstream/weir/interp"
)

// Windowed tables. A windowed table keeps a value per key and window; a
// window is [start, start+size), tumbling windows start every size,
// hopping ones every step. In the store (and the changelog) a window's
// value sits under the key's bytes followed by the window's start in
// milliseconds since the epoch (8 bytes, big-endian).
//
// In code t[k] is a window set (the value of k in each window):
//   - ws.current(): in the window of the event's time (its timestamp),
//   - ws.now(): in the window of the wall clock,
//   - ws.value(): in the window of the table's relativeTo time (stream:
//     the event's timestamp, now: the wall clock, custom: what
//     relativeToSelector returns for the value, in seconds since the epoch),
//   - ws.delta(d): in the window of the relativeTo time minus d (seconds,
//     or a duration such as "1m"),
//
// each giving the table's default (or None) for a window with no value.
// With hopping windows a time lies in several windows; these read the
// latest of them. Writes go to every window that holds the relativeTo
// time: t[k] = v sets v there, and t[k] += 1 (any augmented assignment)
// applies the operation to each of those windows' values.
//
// A window expires when its end plus expires has passed (by the relativeTo
// time of the newest event the partition has seen, or by the clock with
// relativeTo now): expired windows read as missing, are never written, and
// a cleaner removes them from the store. Their changelog records go by the
// topic's retention (size + expires). Scans (keys, items, values,
// prefix_scan) are not available on a windowed table; len counts the
// windows held.

// windowOf returns the starts of the windows that hold t (ms), oldest first.
func (wp *WindowPlan) windowsOf(t time.Time) []int64 {
	ms := t.UnixMilli()
	size, step := wp.Size.Milliseconds(), wp.Step.Milliseconds()
	if size <= 0 || step <= 0 {
		return nil
	}
	latest := floorDiv(ms, step) * step
	var out []int64
	for s := latest - ((size-1)/step)*step; s <= latest; s += step {
		if s <= ms && ms < s+size {
			out = append(out, s)
		}
	}
	return out
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// expired reports whether the window starting at start has expired by
// the time now.
func (wp *WindowPlan) expired(start int64, now time.Time) bool {
	if wp.Expires <= 0 {
		return false
	}
	return now.UnixMilli() >= start+wp.Size.Milliseconds()+wp.Expires.Milliseconds()
}

// windowKey appends a window's start to a key's bytes.
func windowKey(kb []byte, start int64) []byte {
	out := make([]byte, len(kb)+8)
	copy(out, kb)
	binary.BigEndian.PutUint64(out[len(kb):], uint64(start))
	return out
}

// windowedView is a windowed table as one worker's code sees it.
type windowedView struct {
	*tableView
	deflt func() (interp.Value, error)
}

var _ interp.Table = (*windowedView)(nil)

// relTime is the table's relativeTo time for the value in hand.
func (v *windowedView) relTime(value interp.Value) (time.Time, error) {
	wp := v.t.plan.Window
	switch wp.RelativeTo {
	case "now":
		return time.Now(), nil
	case "custom":
		if wp.RelativeToSelector == nil || value == nil {
			return v.w.ev.Timestamp, nil
		}
		x, err := wp.RelativeToSelector.Call(v.w.th, &v.w.ev, starlark.Tuple{value}, nil)
		if err != nil {
			return time.Time{}, err
		}
		f, ok := starlark.AsFloat(x)
		if !ok {
			return time.Time{}, fmt.Errorf("table %s: relativeToSelector returned %s, not seconds since the epoch", v.t.plan.Name, x.Type())
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), nil
	}
	return v.w.ev.Timestamp, nil
}

// clock is what expiry is judged by: the newest relativeTo time seen by
// the partition, or the wall clock.
func (v *windowedView) clock(p int32, rel time.Time) time.Time {
	if v.t.plan.Window.RelativeTo == "now" {
		return time.Now()
	}
	return v.t.advance(p, rel)
}

// Get returns the window set of k.
func (v *windowedView) Get(k interp.Value) (interp.Value, bool, error) {
	kb, err := v.key(k)
	if err != nil {
		return nil, false, err
	}
	p, err := v.partitionFor(kb)
	if err != nil {
		return nil, false, err
	}
	rel, err := v.relTime(v.w.ev.Value)
	if err != nil {
		return nil, false, err
	}
	return &WindowSet{v: v, key: k, kb: kb, part: p, rel: rel}, true, nil
}

// read returns k's value in the window that holds t (the latest, with
// hopping windows), or the default.
func (v *windowedView) read(kb []byte, p int32, t time.Time) (interp.Value, error) {
	starts := v.t.plan.Window.windowsOf(t)
	if len(starts) == 0 {
		return starlark.None, nil
	}
	start := starts[len(starts)-1]
	if v.t.plan.Window.expired(start, v.clock(p, t)) {
		return v.missing()
	}
	b, ok, err := v.get(p, windowKey(kb, start))
	if err != nil {
		return nil, err
	}
	if !ok {
		return v.missing()
	}
	return v.value(b)
}

func (v *windowedView) missing() (interp.Value, error) {
	if v.deflt == nil {
		return starlark.None, nil
	}
	return v.deflt()
}

// Set writes to every live window of the relativeTo time: the value, or
// for an augmented assignment (t[k] += x) the operation on each window's
// value.
func (v *windowedView) Set(k, x interp.Value) error {
	kb, err := v.key(k)
	if err != nil {
		return err
	}
	p, err := v.partitionFor(kb)
	if err != nil {
		return err
	}
	up, isUpdate := x.(*windowUpdate)
	rel, err := v.relTime(v.w.ev.Value)
	if err != nil {
		return err
	}
	if isUpdate {
		rel = up.ws.rel
	}
	clock := v.clock(p, rel)
	for _, start := range v.t.plan.Window.windowsOf(rel) {
		if v.t.plan.Window.expired(start, clock) {
			continue
		}
		wk := windowKey(kb, start)
		val := x
		if isUpdate {
			cur, err := v.readAt(wk, p)
			if err != nil {
				return err
			}
			if val, err = starlark.Binary(up.op, cur, up.y); err != nil {
				return fmt.Errorf("table %s: %w", v.t.plan.Name, err)
			}
		}
		vb, err := v.w.encode(v.t.plan.ValueSerializer, val)
		if err != nil {
			return fmt.Errorf("table %s: value: %w", v.t.plan.Name, err)
		}
		if err := v.write(wk, vb); err != nil {
			return err
		}
	}
	return nil
}

// readAt reads one window's value, or the default.
func (v *windowedView) readAt(wk []byte, p int32) (interp.Value, error) {
	b, ok, err := v.get(p, wk)
	if err != nil {
		return nil, err
	}
	if !ok {
		return v.missing()
	}
	return v.value(b)
}

// Delete removes k from every live window of the relativeTo time.
func (v *windowedView) Delete(k interp.Value) error {
	kb, err := v.key(k)
	if err != nil {
		return err
	}
	rel, err := v.relTime(v.w.ev.Value)
	if err != nil {
		return err
	}
	for _, start := range v.t.plan.Window.windowsOf(rel) {
		if err := v.write(windowKey(kb, start), nil); err != nil {
			return err
		}
	}
	return nil
}

func (v *windowedView) Scan(interp.Value, func(k, x interp.Value) bool) error {
	return fmt.Errorf("table %s is windowed: keys, values, items and prefix_scan are not available; read a key's window set with t[k]", v.t.plan.Name)
}

// WindowSet is t[k] of a windowed table.
type WindowSet struct {
	v    *windowedView
	key  interp.Value
	kb   []byte
	part int32
	rel  time.Time // the relativeTo time of the event
}

var (
	_ starlark.HasAttrs  = (*WindowSet)(nil)
	_ starlark.HasBinary = (*WindowSet)(nil)
)

func (ws *WindowSet) String() string        { return fmt.Sprintf("<window set of %s>", ws.key) }
func (ws *WindowSet) Type() string          { return "windowset" }
func (ws *WindowSet) Freeze()               {}
func (ws *WindowSet) Truth() starlark.Bool  { return true }
func (ws *WindowSet) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: windowset") }

var windowSetMethods = []string{"current", "delta", "now", "value"}

func (ws *WindowSet) AttrNames() []string { return windowSetMethods }

func (ws *WindowSet) Attr(name string) (starlark.Value, error) {
	switch name {
	case "current", "delta", "now", "value":
		return starlark.NewBuiltin(name, ws.method).BindReceiver(ws), nil
	}
	return nil, nil
}

func (ws *WindowSet) method(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	v := ws.v
	switch b.Name() {
	case "current":
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		return v.read(ws.kb, ws.part, v.w.ev.Timestamp)
	case "now":
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		return v.read(ws.kb, ws.part, time.Now())
	case "value":
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		return v.read(ws.kb, ws.part, ws.rel)
	case "delta":
		var d starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &d); err != nil {
			return nil, err
		}
		dur, err := durationArg(d)
		if err != nil {
			return nil, fmt.Errorf("delta: %w", err)
		}
		return v.read(ws.kb, ws.part, ws.rel.Add(-dur))
	}
	return nil, fmt.Errorf("windowset has no method %s", b.Name())
}

// durationArg reads seconds (int or float) or a duration string ("90s",
// "1m", "1h30m").
func durationArg(x starlark.Value) (time.Duration, error) {
	if s, ok := starlark.AsString(x); ok {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration such as \"90s\" or \"1m\"", s)
		}
		return d, nil
	}
	f, ok := starlark.AsFloat(x)
	if !ok {
		return 0, fmt.Errorf("want seconds or a duration string, not %s", x.Type())
	}
	return time.Duration(f * float64(time.Second)), nil
}

// Binary makes t[k] += y (and the other augmented assignments) work: the
// result is the operation to apply to each window when assigned back.
func (ws *WindowSet) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	if side == starlark.Right {
		return nil, nil
	}
	return &windowUpdate{ws: ws, op: op, y: y}, nil
}

// windowUpdate is a pending augmented assignment to a window set.
type windowUpdate struct {
	ws *WindowSet
	op syntax.Token
	y  starlark.Value
}

func (u *windowUpdate) String() string {
	return fmt.Sprintf("<window update %s %s %s>", u.ws.key, u.op, u.y)
}
func (u *windowUpdate) Type() string          { return "windowupdate" }
func (u *windowUpdate) Freeze()               {}
func (u *windowUpdate) Truth() starlark.Bool  { return true }
func (u *windowUpdate) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: windowupdate") }
