package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/weirstream/weir/internal/host"
	"github.com/weirstream/weir/spec"
)

// apiError is one problem of a spec, with its position when it has one.
type apiError struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
	// Text is the problem as one line: file:line:column: path: message.
	Text string `json:"text"`
}

// problem is an error answer: its status and the body
// {"error": sentence, "errors": [...], ...}.
type problem struct {
	status int
	Msg    string     `json:"error"`
	Errors []apiError `json:"errors,omitempty"`
	// ID and Source name the app a 409 is about.
	ID     string `json:"id,omitempty"`
	Source string `json:"source,omitempty"`
}

func (p *problem) Error() string { return p.Msg }

func newProblem(status int, format string, args ...any) *problem {
	return &problem{status: status, Msg: fmt.Sprintf(format, args...)}
}

// specErrors turns a load's errors into answers. Files held for the
// owner lose its prefix: their names are the client's again.
func specErrors(errs spec.Errors, ownerPrefix string) []apiError {
	out := make([]apiError, 0, len(errs))
	for _, e := range errs {
		c := *e
		if ownerPrefix != "" {
			c.File = strings.TrimPrefix(c.File, ownerPrefix)
		}
		out = append(out, apiError{File: c.File, Line: c.Line, Column: c.Column, Path: c.Path, Message: c.Message, Text: c.Error()})
	}
	return out
}

// refused is the answer to a change the host refused. errors of the
// request's own files (or of no file) make a 422; a snapshot that fails
// only in other files (a broken edit of the watched folders) makes a 409,
// since the request is not what is wrong.
func refused(err error, id string) *problem {
	var es spec.Errors
	if errors.As(err, &es) {
		prefix := owner(id) + "/"
		mine := false
		for _, e := range es {
			if e.File == "" || strings.HasPrefix(e.File, prefix) {
				mine = true
			}
		}
		p := &problem{status: http.StatusUnprocessableEntity, Errors: specErrors(es, prefix)}
		p.Msg = fmt.Sprintf("the manifests do not compile: %d %s; nothing was changed", len(es), plural(len(es), "error", "errors"))
		if !mine {
			// Errors only in other apps' files: this change conflicts
			// with them, or they were broken before it (see refusal).
			p.status = http.StatusConflict
			p.Msg = fmt.Sprintf("the apps do not compile together now, without this change either (%d %s, none in its manifests): weir changes nothing until they are fixed", len(es), plural(len(es), "error", "errors"))
		}
		return p
	}
	var re *host.ReloadError
	if errors.As(err, &re) {
		p := &problem{status: http.StatusUnprocessableEntity, Msg: "the runtime refused the apps: nothing was changed"}
		for _, e := range re.Errors {
			p.Errors = append(p.Errors, apiError{Message: e, Text: e})
		}
		return p
	}
	return &problem{status: http.StatusInternalServerError, Msg: "the change failed: " + err.Error()}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// writeJSON writes v as indented JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(`{"error": "the answer could not be encoded"}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// writeProblem writes an error answer.
func writeProblem(w http.ResponseWriter, p *problem) {
	if p.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="weir"`)
	}
	writeJSON(w, p.status, p)
}
