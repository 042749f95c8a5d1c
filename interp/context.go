package interp

import (
	"fmt"
	"time"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// Header is a Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Event is the record being processed, seen by code as context.event. Key
// and Value are the deserialized key and value.
type Event struct {
	Key       Value
	Value     Value
	Headers   []Header
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
}

// contextValue is the global `context` of one Thread: context.app.name and
// context.event (None outside an event, as in tasks).
type contextValue struct {
	app   *appValue
	event eventValue
}

func (c *contextValue) String() string        { return "<context>" }
func (c *contextValue) Type() string          { return "context" }
func (c *contextValue) Freeze()               {}
func (c *contextValue) Truth() starlark.Bool  { return true }
func (c *contextValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: context") }
func (c *contextValue) AttrNames() []string   { return []string{"app", "event"} }

func (c *contextValue) Attr(name string) (Value, error) {
	switch name {
	case "app":
		return c.app, nil
	case "event":
		if c.event.ev == nil {
			return starlark.None, nil
		}
		return &c.event, nil
	}
	return nil, nil
}

type appValue struct{ name string }

func (a *appValue) String() string        { return fmt.Sprintf("<app %s>", a.name) }
func (a *appValue) Type() string          { return "app" }
func (a *appValue) Freeze()               {}
func (a *appValue) Truth() starlark.Bool  { return true }
func (a *appValue) Hash() (uint32, error) { return starlark.String(a.name).Hash() }
func (a *appValue) AttrNames() []string   { return []string{"name"} }

func (a *appValue) Attr(name string) (Value, error) {
	if name == "name" {
		return starlark.String(a.name), nil
	}
	return nil, nil
}

// eventValue is context.event. Headers are a dict of str to str (bytes that
// are not UTF-8 are given as bytes); timestamp is float seconds since the
// epoch, as in Kaspr.
type eventValue struct{ ev *Event }

var eventAttrs = []string{"headers", "key", "offset", "partition", "timestamp", "topic", "value"}

func (e *eventValue) String() string {
	return fmt.Sprintf("<event %s[%d]@%d>", e.ev.Topic, e.ev.Partition, e.ev.Offset)
}
func (e *eventValue) Type() string          { return "event" }
func (e *eventValue) Freeze()               {}
func (e *eventValue) Truth() starlark.Bool  { return true }
func (e *eventValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: event") }
func (e *eventValue) AttrNames() []string   { return eventAttrs }

func (e *eventValue) Attr(name string) (Value, error) {
	ev := e.ev
	switch name {
	case "key":
		return orNone(ev.Key), nil
	case "value":
		return orNone(ev.Value), nil
	case "topic":
		return starlark.String(ev.Topic), nil
	case "partition":
		return starlark.MakeInt(int(ev.Partition)), nil
	case "offset":
		return starlark.MakeInt64(ev.Offset), nil
	case "timestamp":
		if ev.Timestamp.IsZero() {
			return starlark.None, nil
		}
		return starlark.Float(float64(ev.Timestamp.UnixNano()) / 1e9), nil
	case "headers":
		d := starlark.NewDict(len(ev.Headers))
		for _, h := range ev.Headers {
			var v Value = starlark.Bytes(h.Value)
			if utf8.Valid(h.Value) {
				v = starlark.String(h.Value)
			}
			if err := d.SetKey(starlark.String(h.Key), v); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	return nil, nil
}

func orNone(v Value) Value {
	if v == nil {
		return starlark.None
	}
	return v
}
