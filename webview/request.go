package webview

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v5"
	"go.starlark.net/starlark"

	"github.com/weirstream/weir/interp"
)

// request is the request object a web view's first operation gets.
type request struct {
	method, path string
	params       *starlark.Dict
	query        *starlark.Dict
	headers      *starlark.Dict
	body         []byte
}

var (
	_ starlark.HasAttrs = (*request)(nil)
)

func newRequest(r *http.Request, pv echo.PathValues, body []byte) *request {
	req := &request{
		method:  r.Method,
		path:    r.URL.Path,
		params:  starlark.NewDict(len(pv)),
		query:   starlark.NewDict(len(r.URL.Query())),
		headers: starlark.NewDict(len(r.Header)),
		body:    body,
	}
	for _, p := range pv {
		_ = req.params.SetKey(starlark.String(p.Name), starlark.String(p.Value))
	}
	q := r.URL.Query()
	for _, k := range sortedKeys(q) {
		_ = req.query.SetKey(starlark.String(k), starlark.String(q.Get(k)))
	}
	for _, k := range sortedKeys(r.Header) {
		_ = req.headers.SetKey(starlark.String(strings.ToLower(k)), starlark.String(strings.Join(r.Header[k], ", ")))
	}
	if r.Host != "" {
		_ = req.headers.SetKey(starlark.String("host"), starlark.String(r.Host))
	}
	return req
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// param is a path parameter's value.
func (r *request) param(name string) interp.Value {
	v, _, _ := r.params.Get(starlark.String(name))
	if v == nil {
		return starlark.String("")
	}
	return v
}

var requestAttrs = []string{"body", "headers", "json", "method", "params", "path", "query"}

func (r *request) String() string        { return fmt.Sprintf("<request %s %s>", r.method, r.path) }
func (r *request) Type() string          { return "request" }
func (r *request) Freeze()               {}
func (r *request) Truth() starlark.Bool  { return true }
func (r *request) Hash() (uint32, error) { return 0, errors.New("unhashable: request") }
func (r *request) AttrNames() []string   { return requestAttrs }

func (r *request) Attr(name string) (starlark.Value, error) {
	switch name {
	case "method":
		return starlark.String(r.method), nil
	case "path":
		return starlark.String(r.path), nil
	case "params":
		return r.params, nil
	case "query":
		return r.query, nil
	case "headers":
		return r.headers, nil
	case "body":
		return r.bodyValue(), nil
	case "json":
		return starlark.NewBuiltin("json", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			return r.json()
		}).BindReceiver(r), nil
	}
	return nil, nil
}

// bodyValue is the body as code sees it: str when UTF-8, else bytes.
func (r *request) bodyValue() starlark.Value {
	if utf8.Valid(r.body) {
		return starlark.String(r.body)
	}
	return starlark.Bytes(r.body)
}

// json parses the body.
func (r *request) json() (starlark.Value, error) {
	if len(strings.TrimSpace(string(r.body))) == 0 {
		return nil, errors.New("the request has no body to parse as JSON")
	}
	v, err := interp.DecodeJSON(r.body)
	if err != nil {
		return nil, fmt.Errorf("the request body is not JSON: %v", err)
	}
	return v, nil
}
