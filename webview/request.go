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

// request is the request object a web view's first operation gets. Its
// dicts are made when code first asks for them.
type request struct {
	r    *http.Request
	pv   echo.PathValues
	body []byte

	params, query, headers *starlark.Dict
}

var _ starlark.HasAttrs = (*request)(nil)

func newRequest(r *http.Request, pv echo.PathValues, body []byte) *request {
	return &request{r: r, pv: pv, body: body}
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
	v, _ := r.pv.Get(name)
	return starlark.String(v)
}

// paramsDict is request.params.
func (r *request) paramsDict() *starlark.Dict {
	if r.params == nil {
		r.params = starlark.NewDict(len(r.pv))
		for _, p := range r.pv {
			_ = r.params.SetKey(starlark.String(p.Name), starlark.String(p.Value))
		}
	}
	return r.params
}

// queryDict is request.query: each parameter's first value.
func (r *request) queryDict() *starlark.Dict {
	if r.query == nil {
		q := r.r.URL.Query()
		r.query = starlark.NewDict(len(q))
		for _, k := range sortedKeys(q) {
			_ = r.query.SetKey(starlark.String(k), starlark.String(q.Get(k)))
		}
	}
	return r.query
}

// headersDict is request.headers, by lower-case name.
func (r *request) headersDict() *starlark.Dict {
	if r.headers == nil {
		h := r.r.Header
		r.headers = starlark.NewDict(len(h) + 1)
		for _, k := range sortedKeys(h) {
			_ = r.headers.SetKey(starlark.String(strings.ToLower(k)), starlark.String(strings.Join(h[k], ", ")))
		}
		if r.r.Host != "" {
			_ = r.headers.SetKey(starlark.String("host"), starlark.String(r.r.Host))
		}
	}
	return r.headers
}

var requestAttrs = []string{"body", "headers", "json", "method", "params", "path", "query"}

func (r *request) String() string        { return fmt.Sprintf("<request %s %s>", r.r.Method, r.r.URL.Path) }
func (r *request) Type() string          { return "request" }
func (r *request) Freeze()               {}
func (r *request) Truth() starlark.Bool  { return true }
func (r *request) Hash() (uint32, error) { return 0, errors.New("unhashable: request") }
func (r *request) AttrNames() []string   { return requestAttrs }

func (r *request) Attr(name string) (starlark.Value, error) {
	switch name {
	case "method":
		return starlark.String(r.r.Method), nil
	case "path":
		return starlark.String(r.r.URL.Path), nil
	case "params":
		return r.paramsDict(), nil
	case "query":
		return r.queryDict(), nil
	case "headers":
		return r.headersDict(), nil
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
