package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/weirstream/weir/spec"
)

// Limits of a request's manifests (beside Options.MaxBodyBytes).
const (
	maxFiles        = 256
	maxFileNameLen  = 255
	defaultFileName = "manifests.yaml"
)

// appRequest is what a create or an update carries: the manifests, and
// the name the client gave, if any.
type appRequest struct {
	Name  string
	Files []fileJSON
}

// readBody reads a request's body within the server's limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *problem) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, newProblem(http.StatusRequestEntityTooLarge, "the body is larger than %d bytes", mb.Limit)
		}
		return nil, newProblem(http.StatusBadRequest, "reading the body: %v", err)
	}
	return b, nil
}

// decodeApp reads weir's create or update body: YAML manifests (one or
// many documents), or JSON {"name": ..., "manifests": ...}. A JSON media
// type means the JSON form, a YAML one the YAML form; without either, a
// body that is a JSON object with "manifests" is the JSON form.
func decodeApp(r *http.Request, body []byte) (*appRequest, *problem) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	isYAML := strings.Contains(mt, "yaml")
	if !isJSON && !isYAML {
		var probe map[string]json.RawMessage
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &probe) == nil {
			_, isJSON = probe["manifests"]
		}
	}
	if !isJSON {
		files := []fileJSON{{Name: defaultFileName, Content: string(body)}}
		if p := checkFiles(files); p != nil {
			return nil, p
		}
		return &appRequest{Files: files}, nil
	}
	var env struct {
		Name      string          `json:"name"`
		Manifests json.RawMessage `json:"manifests"`
	}
	if err := strictJSON(body, &env); err != nil {
		return nil, newProblem(http.StatusBadRequest, "the body is not {\"name\": ..., \"manifests\": ...}: %v", err)
	}
	files, p := decodeManifests(env.Manifests, "manifests")
	if p != nil {
		return nil, p
	}
	return &appRequest{Name: env.Name, Files: files}, nil
}

// strictJSON decodes one JSON value, refusing unknown fields and
// anything after it.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

// decodeManifests reads the manifests of a JSON body: a string of YAML
// (one or many documents), or a list whose items are such strings or
// {"file": name, "content": yaml} objects (file names show in the
// positions of errors). field names the field for errors.
func decodeManifests(raw json.RawMessage, field string) ([]fileJSON, *problem) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, newProblem(http.StatusUnprocessableEntity, "%s is missing: give the app's manifests as YAML text, or a list of them", field)
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		files := []fileJSON{{Name: defaultFileName, Content: one}}
		return files, checkFiles(files)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, newProblem(http.StatusUnprocessableEntity, "%s must be YAML text or a list of YAML texts or {\"file\", \"content\"} objects", field)
	}
	var files []fileJSON
	for i, it := range items {
		var text string
		if json.Unmarshal(it, &text) == nil {
			files = append(files, fileJSON{Name: fmt.Sprintf("manifests-%d.yaml", i+1), Content: text})
			continue
		}
		var f struct {
			File    string  `json:"file"`
			Name    string  `json:"name"`
			Content *string `json:"content"`
		}
		if err := strictJSON(it, &f); err != nil || f.Content == nil {
			return nil, newProblem(http.StatusUnprocessableEntity, "%s[%d] must be YAML text or {\"file\": name, \"content\": yaml}", field, i)
		}
		name := f.File
		if name == "" {
			name = f.Name
		}
		if name == "" {
			name = fmt.Sprintf("manifests-%d.yaml", i+1)
		}
		files = append(files, fileJSON{Name: name, Content: *f.Content})
	}
	return files, checkFiles(files)
}

// checkFiles bounds what a request's files may be.
func checkFiles(files []fileJSON) *problem {
	if len(files) == 0 {
		return newProblem(http.StatusUnprocessableEntity, "no manifests: give at least one YAML document")
	}
	if len(files) > maxFiles {
		return newProblem(http.StatusUnprocessableEntity, "%d manifest files: at most %d", len(files), maxFiles)
	}
	seen := map[string]bool{}
	for _, f := range files {
		if f.Name == "" || len(f.Name) > maxFileNameLen || strings.IndexFunc(f.Name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
			return newProblem(http.StatusUnprocessableEntity, "file name %q: use up to %d printable characters", f.Name, maxFileNameLen)
		}
		if seen[f.Name] {
			return newProblem(http.StatusUnprocessableEntity, "file name %q is given twice", f.Name)
		}
		seen[f.Name] = true
		if !utf8.ValidString(f.Content) {
			return newProblem(http.StatusUnprocessableEntity, "%s is not UTF-8 text", f.Name)
		}
	}
	return nil
}

// parseAlone loads a request's manifests on their own (the files named as
// the client named them): they must hold exactly one KasprApp, and every
// resource in them must be bound to it.
func parseAlone(files []fileJSON) (*spec.App, *problem) {
	sf := make([]spec.File, len(files))
	for i, f := range files {
		sf[i] = spec.File{Name: f.Name, Data: []byte(f.Content)}
	}
	b, err := spec.Parse(sf...)
	if err != nil {
		var es spec.Errors
		if errors.As(err, &es) {
			return nil, &problem{status: http.StatusUnprocessableEntity,
				Msg:    fmt.Sprintf("the manifests do not load: %d %s; nothing was changed", len(es), plural(len(es), "error", "errors")),
				Errors: specErrors(es, "")}
		}
		return nil, newProblem(http.StatusUnprocessableEntity, "the manifests do not load: %v", err)
	}
	switch len(b.Apps) {
	case 0:
		return nil, newProblem(http.StatusUnprocessableEntity, "the manifests hold no KasprApp: a request creates one app, with its KasprApp and the resources bound to it")
	case 1:
	default:
		names := make([]string, len(b.Apps))
		for i, a := range b.Apps {
			names[i] = a.Name()
		}
		return nil, newProblem(http.StatusUnprocessableEntity, "the manifests hold %d apps (%s): a request creates one app; send each on its own", len(b.Apps), strings.Join(names, ", "))
	}
	app := b.Apps[0]
	if !validID.MatchString(app.Name()) {
		return nil, newProblem(http.StatusUnprocessableEntity, "app name %q: the API names an app by its name, which must be lower-case letters, digits, '-' and '.'", app.Name())
	}
	return app, nil
}
