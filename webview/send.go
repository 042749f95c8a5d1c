package webview

import (
	"context"
	"fmt"

	"go.starlark.net/starlark"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/interp"
)

// send is a web view's topicSend: v goes to the destination's topic (or
// channel) unless its predicate says no, and the broker's acknowledgement
// is awaited. With Ack the record's metadata is returned as a dict.
func (w *worker) send(ctx context.Context, d *engine.DestPlan, v interp.Value) (meta interp.Value, sent bool, err error) {
	if req, ok := v.(*request); ok {
		// The request itself: its body is what is sent.
		if d.ValueSerializer == "json" {
			if v, err = req.json(); err != nil {
				return nil, false, err
			}
		} else {
			v = starlark.Bytes(req.body)
		}
	}
	if d.Predicate != nil {
		ok, err := w.call(d.Predicate, v)
		if err != nil {
			return nil, false, err
		}
		if !ok.Truth() {
			return nil, false, nil
		}
	}
	if d.Channel != "" {
		return w.sendChannel(ctx, d, v)
	}
	rec := &kafka.Record{Topic: d.Topic, Partition: -1}
	if d.NameSelector != nil {
		x, err := w.call(d.NameSelector, v)
		if err != nil {
			return nil, false, err
		}
		s, ok := starlark.AsString(x)
		if !ok || s == "" {
			return nil, false, fmt.Errorf("nameSelector returned %s, not a topic name", x.Type())
		}
		rec.Topic = s
	}
	if d.KeySelector != nil {
		k, err := w.call(d.KeySelector, v)
		if err != nil {
			return nil, false, err
		}
		if k != starlark.None {
			if rec.Key, err = w.encode(d.KeySerializer, k); err != nil {
				return nil, false, fmt.Errorf("keySerializer: %w", err)
			}
		}
	}
	val := v
	if d.ValueSelector != nil {
		if val, err = w.call(d.ValueSelector, v); err != nil {
			return nil, false, err
		}
	}
	if rec.Value, err = w.encode(d.ValueSerializer, val); err != nil {
		return nil, false, fmt.Errorf("valueSerializer: %w", err)
	}
	if d.PartitionSelector != nil {
		x, err := w.call(d.PartitionSelector, v)
		if err != nil {
			return nil, false, err
		}
		if x != starlark.None {
			p, err := starlark.AsInt32(x)
			if err != nil || p < 0 {
				return nil, false, fmt.Errorf("partitionSelector returned %s, not a partition number", x.String())
			}
			rec.Partition = int32(p)
		}
	}
	if d.HeadersSelector != nil {
		x, err := w.call(d.HeadersSelector, v)
		if err != nil {
			return nil, false, err
		}
		hs, err := engine.HeadersOf(x)
		if err != nil {
			return nil, false, fmt.Errorf("headersSelector: %w", err)
		}
		rec.Headers = hs
	}
	if err := w.s.produce(ctx, rec); err != nil {
		return nil, false, fmt.Errorf("producing to %s: %w", rec.Topic, err)
	}
	m := starlark.NewDict(3)
	_ = m.SetKey(starlark.String("topic"), starlark.String(rec.Topic))
	_ = m.SetKey(starlark.String("partition"), starlark.MakeInt(int(rec.Partition)))
	_ = m.SetKey(starlark.String("offset"), starlark.MakeInt64(rec.Offset))
	return m, true, nil
}

// sendChannel queues v on a channel of the app.
func (w *worker) sendChannel(ctx context.Context, d *engine.DestPlan, v interp.Value) (interp.Value, bool, error) {
	var key interp.Value
	if d.KeySelector != nil {
		k, err := w.call(d.KeySelector, v)
		if err != nil {
			return nil, false, err
		}
		key = k
	}
	val := v
	if d.ValueSelector != nil {
		var err error
		if val, err = w.call(d.ValueSelector, v); err != nil {
			return nil, false, err
		}
	}
	var headers []interp.Header
	if d.HeadersSelector != nil {
		x, err := w.call(d.HeadersSelector, v)
		if err != nil {
			return nil, false, err
		}
		hs, err := engine.HeadersOf(x)
		if err != nil {
			return nil, false, fmt.Errorf("headersSelector: %w", err)
		}
		for _, h := range hs {
			headers = append(headers, interp.Header{Key: h.Key, Value: h.Value})
		}
	}
	if err := w.s.rt.SendChannel(ctx, w.s.name, d.Channel, key, val, headers); err != nil {
		return nil, false, err
	}
	m := starlark.NewDict(1)
	_ = m.SetKey(starlark.String("channel"), starlark.String(d.Channel))
	return m, true, nil
}

// call calls a selector with the value.
func (w *worker) call(f *interp.Func, v interp.Value) (interp.Value, error) {
	w.args[0] = v
	out, err := f.Call(w.th, nil, w.args, nil)
	w.args[0] = nil
	return out, err
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

func (w *worker) encode(name string, v interp.Value) ([]byte, error) {
	s, err := w.serde(name)
	if err != nil {
		return nil, err
	}
	return s.Append(nil, v)
}
