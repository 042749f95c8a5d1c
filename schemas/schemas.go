package schemas

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The source schemas. weir.schema.json beside them is generated from them
// (make generate) for editors that fetch it by URL, and is not a source.
//
//go:embed common.schema.json kasprapp.schema.json kaspragent.schema.json kasprtable.schema.json
//go:embed kasprwebview.schema.json kasprtask.schema.json kasprjoin.schema.json
var files embed.FS

// BaseURL is where the schema files are published; every file's $id is
// BaseURL plus its file name, so relative references resolve offline too.
const BaseURL = "https://raw.githubusercontent.com/weirstream/weir/main/schemas/"

// Kinds lists the resource kinds, in the order they are described.
var Kinds = []string{"KasprApp", "KasprAgent", "KasprTable", "KasprWebView", "KasprTask", "KasprJoin"}

// FileName returns the schema file of a kind, such as kaspragent.schema.json.
func FileName(kind string) string { return strings.ToLower(kind) + ".schema.json" }

// Raw returns the parsed content of a schema file, a fresh copy each call.
func Raw(file string) (map[string]any, error) {
	data, err := files.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("no schema file %s", file)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return doc, nil
}

// Set is the compiled schemas of every kind, for validation.
type Set struct {
	kinds map[string]*jsonschema.Schema
	raw   map[string]map[string]any // file name -> content
}

// Compile compiles the schema of every kind.
func Compile() (*Set, error) {
	entries, err := files.ReadDir(".")
	if err != nil {
		return nil, err
	}
	s := &Set{kinds: map[string]*jsonschema.Schema{}, raw: map[string]map[string]any{}}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	for _, e := range entries {
		doc, err := Raw(e.Name())
		if err != nil {
			return nil, err
		}
		s.raw[e.Name()] = doc
		if err := c.AddResource(BaseURL+e.Name(), doc); err != nil {
			return nil, fmt.Errorf("schema %s: %w", e.Name(), err)
		}
	}
	for _, k := range Kinds {
		sch, err := c.Compile(BaseURL + FileName(k))
		if err != nil {
			return nil, fmt.Errorf("schema of %s: %w", k, err)
		}
		s.kinds[k] = sch
	}
	return s, nil
}

// Kind returns the compiled schema of a kind, or nil for an unknown kind.
func (s *Set) Kind(kind string) *jsonschema.Schema { return s.kinds[kind] }

// Lookup returns the raw schema object at an absolute schema location such
// as BaseURL+"common.schema.json#/$defs/Code", or nil.
func (s *Set) Lookup(location string) map[string]any {
	file, ptr, _ := strings.Cut(strings.TrimPrefix(location, BaseURL), "#")
	var v any = s.raw[file]
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if tok == "" {
			continue
		}
		if t, err := url.PathUnescape(tok); err == nil {
			tok = t
		}
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch x := v.(type) {
		case map[string]any:
			v = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	m, _ := v.(map[string]any)
	return m
}

// Resolve follows a $ref found in the schema at location, returning the
// target's location and content.
func (s *Set) Resolve(location, ref string) (string, map[string]any) {
	base, err := url.Parse(location)
	if err != nil {
		return "", nil
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", nil
	}
	target := base.ResolveReference(r).String()
	return target, s.Lookup(target)
}

// Root returns the location of a kind's schema.
func Root(kind string) string { return BaseURL + FileName(kind) + "#" }
