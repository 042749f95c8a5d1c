package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// KasprWebView is an HTTP endpoint of an app, answered by a pipeline over
// its tables.
type KasprWebView struct {
	Object `yaml:",inline"`
	Spec   KasprWebViewSpec `yaml:"spec"`
}

// KasprWebViewSpec is the desired behaviour of a web view.
type KasprWebViewSpec struct {
	Name        string          `yaml:"name"`
	Description string          `yaml:"description,omitempty"`
	Request     WebViewRequest  `yaml:"request"`
	Response    WebViewResponse `yaml:"response"`
	Processors  *Processors     `yaml:"processors,omitempty"`
}

// WebViewRequest is the method and path a web view answers.
type WebViewRequest struct {
	Method string `yaml:"method"`
	Path   string `yaml:"path"`
}

// WebViewResponse shapes a web view's answers.
type WebViewResponse struct {
	ContentType        string            `yaml:"contentType"`
	StatusCode         int               `yaml:"statusCode"`
	Headers            map[string]string `yaml:"headers,omitempty"`
	BodySelector       *ResultHandler    `yaml:"bodySelector,omitempty"`
	StatusCodeSelector *ResultHandler    `yaml:"statusCodeSelector,omitempty"`
	HeadersSelector    *ResultHandler    `yaml:"headersSelector,omitempty"`
}

// ResultHandler is code run on success or on error.
type ResultHandler struct {
	OnSuccess *Code `yaml:"onSuccess,omitempty"`
	OnError   *Code `yaml:"onError,omitempty"`
}

// PathParams returns the names of the {param} segments of the path.
func (r *WebViewRequest) PathParams() []string {
	var out []string
	for _, seg := range splitPath(r.Path) {
		if name, ok := pathParam(seg); ok {
			out = append(out, name)
		}
	}
	return out
}

func (c *checker) checkWebView(w *KasprWebView) {
	const path = "spec.request.path"
	seen := map[string]bool{}
	for _, seg := range splitPath(w.Spec.Request.Path) {
		name, isParam := pathParam(seg)
		switch {
		case isParam && !identifierRE.MatchString(name):
			c.add(w, path, "path parameter {%s} must be an identifier: letters, digits and '_', not starting with a digit", name)
		case isParam && seen[name]:
			c.add(w, path, "path parameter {%s} appears twice", name)
		case !isParam && strings.ContainsAny(seg, "{}"):
			c.add(w, path, "segment %q mixes text and braces: a parameter is a whole segment, such as /count/{word}", seg)
		case !isParam && (seg == "*" || strings.HasPrefix(seg, ":")):
			c.add(w, path, "segment %q: write path parameters as {name}", seg)
		}
		if isParam {
			seen[name] = true
		}
	}
	if p := w.Spec.Processors; p != nil && len(p.Pipeline) > 0 {
		for _, op := range p.Ordered()[:1] {
			for _, t := range op.Tables {
				if seen[t.ParamName] {
					c.add(w, path, "path parameter {%s} has the name of table parameter %q of operation %q: both arrive as keyword arguments", t.ParamName, t.ParamName, op.Name)
				}
			}
		}
	}
	for _, sel := range []struct {
		path string
		h    *ResultHandler
	}{
		{"spec.response.bodySelector", w.Spec.Response.BodySelector},
		{"spec.response.statusCodeSelector", w.Spec.Response.StatusCodeSelector},
		{"spec.response.headersSelector", w.Spec.Response.HeadersSelector},
	} {
		if sel.h != nil && sel.h.OnSuccess == nil && sel.h.OnError == nil {
			c.add(w, sel.path, "selector has no code: set onSuccess, onError or both")
		}
	}
	c.checkProcessors(w, "spec.processors", w.Spec.Processors)
}

// reservedPaths are the endpoints every app serves itself.
var reservedPaths = []string{"/status", "/signal", "/healthz", "/readyz", "/metrics"}

// checkRoutes checks that no two web views of the app answer the same method
// and path, and that none takes an endpoint weir serves.
func (c *checker) checkRoutes(w *KasprWebView) {
	const path = "spec.request.path"
	req := w.Spec.Request
	route := routeKey(req.Method, req.Path)
	for _, other := range c.app.WebViews {
		if other == w {
			break
		}
		if routeKey(other.Spec.Request.Method, other.Spec.Request.Path) == route {
			same := ""
			if other.Spec.Request.Path != req.Path {
				same = fmt.Sprintf(" as %s (paths that differ only in parameter names are one route)", other.Spec.Request.Path)
			}
			c.add(w, path, "%s %s is already served by web view %q at %s%s", req.Method, req.Path, other.Spec.Name, other.Pos(path), same)
			return
		}
	}
	segs := splitPath(req.Path)
	if len(segs) == 0 {
		return
	}
	first := "/" + segs[0]
	metrics := strings.TrimSuffix(c.app.App.Spec.Config.WebMetricsBasePath, "/") + "/metrics"
	if slices.Contains(reservedPaths[:4], first) || "/"+strings.Join(segs, "/") == metrics {
		c.add(w, path, "%s is taken by weir's own endpoints (%s and %s)", req.Path, strings.Join(reservedPaths[:4], ", "), metrics)
	}
}

// routeKey makes paths that differ only in parameter names equal.
func routeKey(method, path string) string {
	segs := splitPath(path)
	for i, s := range segs {
		if _, ok := pathParam(s); ok {
			segs[i] = "{}"
		}
	}
	return method + " /" + strings.Join(segs, "/")
}

var identifierRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
