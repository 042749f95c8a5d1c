package webview

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"
	"go.starlark.net/starlark"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/interp"
)

// answer is a response about to be written.
type answer struct {
	status  int
	headers [][2]string
	body    []byte
	ctype   string
}

// answer shapes a web view's answer to the outcome of its pipeline,
// through its selectors (see the package doc).
func (w *worker) answer(v *view, out *outcome) *answer {
	rp := &v.plan.Response
	if out.err == nil {
		a, oe := w.success(rp, out.result())
		if oe == nil {
			return a
		}
		out.err = oe
	}
	w.s.logError("a web view failed", "webView", v.plan.Name, "operation", out.err.Operation, "error", out.err.err)
	return w.failure(rp, out.err)
}

// write writes the answer.
func (a *answer) write(c *echo.Context) {
	h := c.Response().Header()
	for _, kv := range a.headers {
		h.Set(kv[0], kv[1])
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", a.ctype)
	}
	c.Response().WriteHeader(a.status)
	if c.Request().Method != http.MethodHead {
		_, _ = c.Response().Write(a.body)
	}
}

// success shapes the answer to a result, or fails with the error of the
// selector or encoding that failed.
func (w *worker) success(rp *engine.ResponsePlan, result interp.Value) (*answer, *opError) {
	a := &answer{status: rp.StatusCode, ctype: contentType(rp.ContentType)}
	if a.status == 0 {
		a.status = http.StatusOK
	}
	if f := rp.StatusCodeSelector.OnSuccess; f != nil {
		x, err := w.call(f, result)
		if err != nil {
			return nil, newOpError(f.Path(), err)
		}
		if a.status, err = statusOf(x, a.status); err != nil {
			return nil, &opError{Operation: f.Path(), Message: err.Error(), err: err}
		}
	}
	a.headers = staticHeaders(rp.Headers)
	if f := rp.HeadersSelector.OnSuccess; f != nil {
		x, err := w.call(f, result)
		if err != nil {
			return nil, newOpError(f.Path(), err)
		}
		hs, err := headersOf(x)
		if err != nil {
			return nil, &opError{Operation: f.Path(), Message: err.Error(), err: err}
		}
		a.headers = append(a.headers, hs...)
	}
	body := result
	const encoding = "spec.response.contentType"
	if f := rp.BodySelector.OnSuccess; f != nil {
		x, err := w.call(f, result)
		if err != nil {
			return nil, newOpError(f.Path(), err)
		}
		body = x
	}
	b, err := encodeBody(rp.ContentType, body)
	if err != nil {
		return nil, &opError{Operation: encoding, Message: err.Error(), err: err}
	}
	a.body = b
	return a, nil
}

// failure shapes the answer to an error. Should an error selector fail,
// the answer is 500 with that failure's error value, as JSON.
func (w *worker) failure(rp *engine.ResponsePlan, e *opError) *answer {
	ev := e.value()
	a := &answer{status: http.StatusInternalServerError, ctype: contentType(rp.ContentType)}
	fallback := func(op string, err error) *answer {
		oe := newOpError(op, err)
		w.s.logError("a web view's error selector failed", "operation", op, "error", err)
		b, _ := interp.EncodeJSON(oe.value())
		return &answer{status: http.StatusInternalServerError, ctype: "application/json", body: append(b, '\n')}
	}
	if f := rp.StatusCodeSelector.OnError; f != nil {
		x, err := w.call(f, ev)
		if err != nil {
			return fallback(f.Path(), err)
		}
		if a.status, err = statusOf(x, a.status); err != nil {
			return fallback(f.Path(), err)
		}
	}
	a.headers = staticHeaders(rp.Headers)
	if f := rp.HeadersSelector.OnError; f != nil {
		x, err := w.call(f, ev)
		if err != nil {
			return fallback(f.Path(), err)
		}
		hs, err := headersOf(x)
		if err != nil {
			return fallback(f.Path(), err)
		}
		a.headers = append(a.headers, hs...)
	}
	body := ev
	if f := rp.BodySelector.OnError; f != nil {
		x, err := w.call(f, ev)
		if err != nil {
			return fallback(f.Path(), err)
		}
		body = x
	}
	b, err := encodeBody(rp.ContentType, body)
	if err != nil {
		return fallback("spec.response.contentType", err)
	}
	a.body = b
	return a
}

// contentType is the Content-Type header of a contentType.
func contentType(ct string) string {
	switch {
	case ct == "":
		return "text/plain; charset=utf-8"
	case strings.HasPrefix(ct, "text/"):
		return ct + "; charset=utf-8"
	}
	return ct
}

// encodeBody encodes a body as its content type says: JSON for
// application/json; for the others a str or bytes as they are, None as
// nothing, anything else as JSON.
func encodeBody(ct string, v interp.Value) ([]byte, error) {
	if ct != "application/json" {
		switch x := v.(type) {
		case starlark.String:
			return []byte(x), nil
		case starlark.Bytes:
			return []byte(x), nil
		case starlark.NoneType:
			return nil, nil
		}
	}
	b, err := interp.EncodeJSON(v)
	if err != nil {
		return nil, fmt.Errorf("the body cannot be encoded as JSON: %v", err)
	}
	if ct == "application/json" {
		b = append(b, '\n')
	}
	return b, nil
}

// statusOf is a statusCodeSelector's answer as a status: an int from 100
// to 599, or None for the default.
func statusOf(x interp.Value, dflt int) (int, error) {
	if x == starlark.None {
		return dflt, nil
	}
	n, err := starlark.AsInt32(x)
	if err != nil || n < 100 || n > 599 {
		return 0, fmt.Errorf("the status code selector returned %s, not a status code from 100 to 599", x.String())
	}
	return n, nil
}

// staticHeaders are response.headers, in name order.
func staticHeaders(m map[string]string) [][2]string {
	out := make([][2]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, [2]string{k, m[k]})
	}
	return out
}

// headersOf is a headersSelector's answer as headers: a dict of str to
// str (or None: no headers).
func headersOf(x interp.Value) ([][2]string, error) {
	if x == starlark.None {
		return nil, nil
	}
	d, ok := x.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("the headers selector returned %s, not a dict", x.Type())
	}
	out := make([][2]string, 0, d.Len())
	for _, it := range d.Items() {
		k, ok := it[0].(starlark.String)
		if !ok || !validHeaderName(string(k)) {
			return nil, fmt.Errorf("the headers selector returned the header name %s, which is not a valid header name", it[0].String())
		}
		var v string
		switch x := it[1].(type) {
		case starlark.String:
			v = string(x)
		case starlark.Int, starlark.Float, starlark.Bool:
			v = x.String()
		default:
			return nil, fmt.Errorf("the headers selector returned %s for header %s: want a str", it[1].Type(), k)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, fmt.Errorf("the value of header %s holds a line break or NUL", k)
		}
		out = append(out, [2]string{string(k), v})
	}
	return out, nil
}

// validHeaderName reports whether s is an HTTP token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}

// jsonString is s as a JSON string.
func jsonString(s string) ([]byte, error) { return interp.EncodeJSON(starlark.String(s)) }
