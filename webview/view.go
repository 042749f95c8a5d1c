package webview

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/labstack/echo/v5"
	"go.starlark.net/starlark"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/interp"
)

// view is one web view as the server runs it.
type view struct {
	s    *Server
	site *site
	plan *engine.WebViewPlan
	// route is the Echo path: the base path and the view's path with
	// {name} written :name.
	route string
	// params are the path parameters the first operation's function takes
	// by name.
	params []string
}

func newView(s *Server, st *site, p *engine.WebViewPlan) (*view, error) {
	v := &view{s: s, site: st, plan: p, route: st.base + echoPath(p.Path)}
	if len(p.Ops) > 0 && p.Ops[0].Func != nil {
		for _, name := range p.PathParams {
			if p.Ops[0].Func.Accepts(name) {
				v.params = append(v.params, name)
			}
		}
	}
	for _, op := range p.Ops {
		for _, ta := range op.Tables {
			if ta.Table == nil {
				return nil, fmt.Errorf("operation %s: no table %s", op.Name, ta.Name)
			}
		}
	}
	return v, nil
}

// echoPath writes a web view path's {name} segments as Echo's :name.
func echoPath(path string) string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			segs[i] = ":" + seg[1:len(seg)-1]
		}
	}
	return strings.Join(segs, "/")
}

// serveView is a web view's handler.
func (s *Server) serveView(v *view) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.HandlerTimeout)
		defer cancel()
		body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, s.opts.MaxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", tooBig.Limit))
				return nil
			}
			writeError(c, http.StatusBadRequest, "reading the request body: "+err.Error())
			return nil
		}
		if v.site.runs && !s.rt.Running(s.name) {
			unavailable(c, fmt.Sprintf("app %s is not running (starting or stopping)", s.name))
			return nil
		}
		req := newRequest(r, slices.Clone(c.PathValues()), body)
		// The pipeline and the selectors run on a worker beside the
		// handler, which answers 503 at the deadline even while code
		// still runs (a call ends within the app's codeTimeout; its
		// worker is idle then).
		done := make(chan handled, 1)
		s.handlers.Add(1)
		v.site.submit(s, job{ctx: ctx, v: v, req: req, done: done})
		var h handled
		select {
		case h = <-done:
		case <-ctx.Done():
		}
		switch {
		case h.elsewhere != nil:
			s.forward(ctx, c, v, h.elsewhere, body)
		case h.answer != nil && ctx.Err() == nil:
			h.answer.write(c)
		case r.Context().Err() != nil:
			// The client went away.
		case h.answer == nil && ctx.Err() == nil:
			writeError(c, http.StatusInternalServerError, "internal error")
		default:
			unavailable(c, fmt.Sprintf("the request took longer than %s", s.opts.HandlerTimeout))
		}
		return nil
	}
}

// handled is what a request came to: an answer, or a partition held
// elsewhere (the request is forwarded); neither after a panic.
type handled struct {
	answer    *answer
	elsewhere *engine.ElsewhereError
}

// job is a request for a worker.
type job struct {
	ctx  context.Context
	v    *view
	req  *request
	done chan<- handled
}

// worker runs requests on its interpreter thread and its goroutine (whose
// stack has grown to what the code needs), one at a time. Idle workers
// wait in their site's pool.
type worker struct {
	s      *Server
	site   *site
	jobs   chan job
	th     *interp.Thread
	serdes map[string]*interp.Serializer
	args   starlark.Tuple
}

// maxIdle is how many idle workers a site keeps.
const maxIdle = 256

// submit hands a job to an idle worker of the site, or to a new one.
func (st *site) submit(s *Server, j job) {
	st.mu.Lock()
	var w *worker
	if n := len(st.idle); n > 0 {
		w, st.idle = st.idle[n-1], st.idle[:n-1]
	}
	st.mu.Unlock()
	if w == nil {
		w = &worker{s: s, site: st, jobs: make(chan job, 1), th: interp.NewThread(st.app.Code), serdes: map[string]*interp.Serializer{}, args: make(starlark.Tuple, 1)}
		go w.loop()
	}
	w.jobs <- j
}

// park puts a worker that finished its job in the pool; false when the
// site is closed or its pool full: the worker ends.
func (st *site) park(w *worker) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed || len(st.idle) >= maxIdle {
		return false
	}
	st.idle = append(st.idle, w)
	return true
}

// close ends the site's idle workers, and the others once their job is
// done.
func (st *site) close() {
	st.mu.Lock()
	idle := st.idle
	st.idle, st.closed = nil, true
	st.mu.Unlock()
	for _, w := range idle {
		close(w.jobs)
	}
}

// loop runs the worker's jobs until its site closes.
func (w *worker) loop() {
	for j := range w.jobs {
		ok := w.do(j)
		w.s.handlers.Done()
		if !ok || !w.site.park(w) {
			return
		}
	}
}

// do runs a request's pipeline and selectors; false after a panic (the
// worker's thread is not used again).
func (w *worker) do(j job) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			w.s.log.Error("a web view panicked", "webView", j.v.plan.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			j.done <- handled{}
			ok = false
		}
	}()
	out := w.run(j.ctx, j.v, j.req)
	if out.elsewhere != nil && !out.produced {
		j.done <- handled{elsewhere: out.elsewhere}
		return true
	}
	j.done <- handled{answer: w.answer(j.v, out)}
	return true
}

// outcome is what a request's pipeline came to.
type outcome struct {
	values []interp.Value // what reached the end
	err    *opError
	// elsewhere is set when a table read needed a partition another
	// replica holds: the request goes there.
	elsewhere *engine.ElsewhereError
	// produced: a record was sent (or an item queued) before the end.
	produced bool
}

// opError is a failure of an operation or a selector: the error value
// code sees is {"operation": Operation, "message": Message}.
type opError struct {
	Operation string
	Message   string
	err       error // the full error, for the log
}

// result is the pipeline's result: the value, a list of several, or
// None.
func (o *outcome) result() interp.Value {
	switch len(o.values) {
	case 0:
		return starlark.None
	case 1:
		return o.values[0]
	}
	return starlark.NewList(o.values)
}

// run runs the view's pipeline on req.
func (w *worker) run(ctx context.Context, v *view, req *request) *outcome {
	out := &outcome{}
	rec := &recorder{}
	cur := []interp.Value{req}
	var next []interp.Value
	fail := func(op string, err error) *outcome {
		if out.elsewhere = rec.elsewhere; out.elsewhere == nil || out.produced {
			out.err = newOpError(op, err)
			if out.elsewhere != nil {
				out.err.Message = fmt.Sprintf("%s, and this request already sent records, so it is not forwarded to that replica (%s)", out.elsewhere.Error(), out.err.Message)
				out.elsewhere = nil
			}
		}
		return out
	}
	for i := range v.plan.Ops {
		op := &v.plan.Ops[i]
		first := i == 0
		next = next[:0]
		for _, x := range cur {
			switch op.Kind {
			case engine.OpMap, engine.OpFilter:
				kw, err := w.kwargs(v, op, first, req, rec)
				if err != nil {
					return fail(op.Name, err)
				}
				w.args[0] = x
				y, err := op.Func.Call(w.th, nil, w.args, kw)
				w.args[0] = nil
				if err != nil {
					return fail(op.Name, err)
				}
				if op.Kind == engine.OpFilter {
					if y.Truth() {
						next = append(next, x)
					}
				} else if items, ok := interp.Fanned(y); ok {
					next = append(next, items...)
				} else {
					next = append(next, y)
				}
			case engine.OpTopicSend:
				meta, sent, err := w.send(ctx, op.Send, x)
				if sent {
					out.produced = true
				}
				if err != nil {
					return fail(op.Name, err)
				}
				switch {
				case op.Send.Ack && sent:
					next = append(next, meta)
				case op.Send.PassThrough:
					next = append(next, x)
				}
			}
			if ctx.Err() != nil {
				return fail(op.Name, ctx.Err())
			}
		}
		cur, next = next, cur
		if len(cur) == 0 {
			break
		}
	}
	if len(v.plan.Ops) == 0 {
		cur = cur[:0]
	}
	out.values = append([]interp.Value(nil), cur...)
	return out
}

// kwargs are an operation's keyword arguments: its tables, read-only, and
// for the first operation the path parameters its function takes.
func (w *worker) kwargs(v *view, op *engine.OpPlan, first bool, req *request, rec *recorder) ([]starlark.Tuple, error) {
	var kw []starlark.Tuple
	for _, ta := range op.Tables {
		t, err := w.s.rt.WebTable(w.s.name, ta.Name)
		if err != nil {
			return nil, err
		}
		var deflt func() (interp.Value, error)
		if d := ta.Table.Default; d != nil {
			deflt = func() (interp.Value, error) {
				x, err := d.Call(w.th, nil, nil, nil)
				if err != nil {
					return nil, err
				}
				return interp.DefaultOf(x), nil
			}
		}
		tv := interp.NewTableValue(ta.Name, &readTable{t: t, rec: rec}, deflt, true)
		kw = append(kw, starlark.Tuple{starlark.String(ta.Param), tv})
	}
	if first {
		for _, name := range v.params {
			kw = append(kw, starlark.Tuple{starlark.String(name), req.param(name)})
		}
	}
	return kw, nil
}

// recorder notes the first read of a partition held elsewhere: the
// error reaches the pipeline as a code block's failure, without its type.
type recorder struct {
	elsewhere *engine.ElsewhereError
}

// readTable is a table of a web view: reads note a partition held
// elsewhere.
type readTable struct {
	t   interp.Table
	rec *recorder
}

func (r *readTable) Get(k interp.Value) (interp.Value, bool, error) {
	v, ok, err := r.t.Get(k)
	if err != nil {
		var ee *engine.ElsewhereError
		if errors.As(err, &ee) && r.rec.elsewhere == nil {
			r.rec.elsewhere = ee
		}
	}
	return v, ok, err
}

func (r *readTable) Set(k, v interp.Value) error { return r.t.Set(k, v) }
func (r *readTable) Delete(k interp.Value) error { return r.t.Delete(k) }
func (r *readTable) Len() (int, error)           { return r.t.Len() }
func (r *readTable) Scan(prefix interp.Value, fn func(k, v interp.Value) bool) error {
	return r.t.Scan(prefix, fn)
}

// newOpError makes the error value of a failure: the code block's message
// without its position and backtrace.
func newOpError(op string, err error) *opError {
	msg := err.Error()
	var ie *interp.Error
	if errors.As(err, &ie) {
		msg = ie.Message
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		msg = "the request took too long"
	case errors.Is(err, context.Canceled):
		msg = "the request was cancelled"
	}
	return &opError{Operation: op, Message: pythonMessage(msg), err: err}
}

// pythonMessage is the message of a Python exception raised by name
// ("ValueError: bad" gives "bad"), as str(e) gives it; other messages are
// kept whole.
func pythonMessage(msg string) string {
	name, rest, ok := strings.Cut(msg, ": ")
	if !ok || !(strings.HasSuffix(name, "Error") || strings.HasSuffix(name, "Exception")) {
		return msg
	}
	for i, r := range name {
		ok := r >= 'A' && r <= 'Z' || i > 0 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
		if !ok {
			return msg
		}
	}
	return rest
}

// value is the error value code sees.
func (e *opError) value() interp.Value {
	d := starlark.NewDict(2)
	_ = d.SetKey(starlark.String("operation"), starlark.String(e.Operation))
	_ = d.SetKey(starlark.String("message"), starlark.String(e.Message))
	return d
}
