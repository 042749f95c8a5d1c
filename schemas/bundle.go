package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
)

// Bundle returns a self-contained schema of one kind: the kind's file with
// the common definitions it needs (transitively) copied into its $defs and
// every reference pointing there. Nothing in it refers to another file, so it
// can be published or handed to a tool on its own. The output is indented
// JSON ending in a newline, the same bytes on every call.
func Bundle(kind string) ([]byte, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	b := newBundler(Raw)
	file := FileName(kind)
	root, err := b.src.file(file)
	if err != nil {
		return nil, err
	}
	local, _ := root["$defs"].(map[string]any)
	delete(root, "$defs")
	if err := b.rewrite(root); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", kind, err)
	}
	// Every local definition is kept, used or not: the bundle is the file.
	for _, name := range sortedKeys(local) {
		if err := b.add(defKey{file: file, name: name}); err != nil {
			return nil, fmt.Errorf("bundle %s: %w", kind, err)
		}
	}
	defs, err := b.defs()
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", kind, err)
	}
	if len(defs) > 0 {
		root["$defs"] = defs
	}
	return encodeSchema(root)
}

// BundleAll returns one self-contained schema for a document of any kind, the
// one editors use (`# yaml-language-server: $schema=...`). It requires kind
// and checks the rest of the document against the schema of that kind; every
// definition of every file sits in its $defs, next to one definition per kind
// named after the kind. Two definitions of the same name must be the same.
func BundleAll() ([]byte, error) {
	b := newBundler(Raw)
	var dispatch []any
	for _, kind := range Kinds {
		file := FileName(kind)
		root, err := b.src.file(file)
		if err != nil {
			return nil, err
		}
		for _, name := range sortedKeys(root["$defs"]) {
			if err := b.add(defKey{file: file, name: name}); err != nil {
				return nil, fmt.Errorf("bundle %s: %w", kind, err)
			}
		}
		if err := b.addRoot(kind, file); err != nil {
			return nil, fmt.Errorf("bundle %s: %w", kind, err)
		}
		dispatch = append(dispatch, map[string]any{
			"if": map[string]any{
				"required":   []any{"kind"},
				"properties": map[string]any{"kind": map[string]any{"const": kind}},
			},
			"then": map[string]any{"$ref": defKey{name: kind}.localRef()},
		})
	}
	common, err := b.src.file("common.schema.json")
	if err != nil {
		return nil, err
	}
	for _, name := range sortedKeys(common["$defs"]) {
		if err := b.add(defKey{file: "common.schema.json", name: name}); err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
	}
	defs, err := b.defs()
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	kinds := make([]any, len(Kinds))
	for i, k := range Kinds {
		kinds[i] = k
	}
	doc := map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         BaseURL + "weir.schema.json",
		"title":       "weir manifest",
		"description": "A Kaspr resource that weir runs, checked against the schema of its kind.",
		"type":        "object",
		"required":    []any{"kind"},
		"properties": map[string]any{
			"kind": map[string]any{"enum": kinds, "description": "Kind of the resource."},
		},
		"allOf": dispatch,
		"$defs": defs,
	}
	return encodeSchema(doc)
}

func checkKind(kind string) error {
	if !slices.Contains(Kinds, kind) {
		return fmt.Errorf("unknown kind %q (one of %s)", kind, strings.Join(Kinds, ", "))
	}
	return nil
}

// defKey names a definition: $defs/name of a schema file, or the root of a
// kind's file (root is then true and name is the kind).
type defKey struct {
	file string
	name string
	root bool
}

func (k defKey) String() string {
	if k.root {
		return k.file
	}
	return k.file + "#/$defs/" + k.name
}

// url is the absolute reference to the definition.
func (k defKey) url() string { return BaseURL + k.file + fragment(k.name) }

// localRef is the reference to the definition from inside a bundle.
func (k defKey) localRef() string { return fragment(k.name) }

// fragment is "#/$defs/<name>" with the name escaped as a JSON pointer token
// and as a URI fragment.
func fragment(name string) string {
	tok := strings.NewReplacer("~", "~0", "/", "~1").Replace(name)
	return (&url.URL{Fragment: "/$defs/" + tok}).String()
}

// parseRef resolves a $ref found in file (an absolute $ref needs no file).
// Only references to a top-level definition of one of the schema files are
// supported; that is all the files use, and all that a bundle or a CRD can
// express.
func parseRef(file, ref string) (defKey, error) {
	base, err := url.Parse(BaseURL + file)
	if err != nil {
		return defKey{}, err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return defKey{}, fmt.Errorf("bad $ref %q: %w", ref, err)
	}
	u := base.ResolveReference(r)
	ptr := u.Fragment
	u.Fragment = ""
	target, ok := strings.CutPrefix(u.String(), BaseURL)
	if !ok || target == "" || strings.Contains(target, "/") {
		return defKey{}, fmt.Errorf("$ref %q points outside the schema files", ref)
	}
	tok, ok := strings.CutPrefix(ptr, "/$defs/")
	if !ok || tok == "" || strings.Contains(tok, "/") {
		return defKey{}, fmt.Errorf("$ref %q does not point at a top-level $defs entry", ref)
	}
	name := strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
	return defKey{file: target, name: name}, nil
}

// source reads schema files once, with every $ref made absolute so that a
// schema taken out of its file keeps its meaning.
type source struct {
	load  func(file string) (map[string]any, error)
	files map[string]map[string]any
}

func newSource(load func(string) (map[string]any, error)) *source {
	return &source{load: load, files: map[string]map[string]any{}}
}

// file returns a copy of a schema file, references absolute.
func (s *source) file(name string) (map[string]any, error) {
	if f, ok := s.files[name]; ok {
		return deepCopy(f).(map[string]any), nil
	}
	f, err := s.load(name)
	if err != nil {
		return nil, err
	}
	err = walkSchema(f, func(sch map[string]any) error {
		ref, ok := sch["$ref"].(string)
		if !ok {
			return nil
		}
		k, err := parseRef(name, ref)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		sch["$ref"] = k.url()
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.files[name] = f
	return deepCopy(f).(map[string]any), nil
}

// def returns a copy of a definition, or the root of a kind's file without
// $schema, $id and $defs.
func (s *source) def(k defKey) (map[string]any, error) {
	f, err := s.file(k.file)
	if err != nil {
		return nil, err
	}
	if k.root {
		delete(f, "$schema")
		delete(f, "$id")
		delete(f, "$defs")
		return f, nil
	}
	defs, _ := f["$defs"].(map[string]any)
	d, ok := defs[k.name].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no definition %s", k)
	}
	return d, nil
}

// bundler gathers definitions from several files into one $defs, turning
// references into local ones.
type bundler struct {
	src   *source
	found map[defKey]map[string]any
}

func newBundler(load func(string) (map[string]any, error)) *bundler {
	return &bundler{src: newSource(load), found: map[defKey]map[string]any{}}
}

// add takes in a definition and, transitively, those it refers to.
func (b *bundler) add(k defKey) error {
	if _, ok := b.found[k]; ok {
		return nil
	}
	d, err := b.src.def(k)
	if err != nil {
		return err
	}
	b.found[k] = d // before rewrite, so that a cycle ends here
	return b.rewrite(d)
}

// addRoot takes in the root schema of a kind's file as the definition named
// after the kind.
func (b *bundler) addRoot(kind, file string) error {
	return b.add(defKey{file: file, name: kind, root: true})
}

// rewrite points every reference in s at the bundle's $defs and takes in
// their targets.
func (b *bundler) rewrite(s map[string]any) error {
	return walkSchema(s, func(sch map[string]any) error {
		ref, ok := sch["$ref"].(string)
		if !ok {
			return nil
		}
		k, err := parseRef("", ref)
		if err != nil {
			return err
		}
		sch["$ref"] = k.localRef()
		return b.add(k)
	})
}

// defs returns the gathered definitions by name, or an error when two
// different definitions share a name.
func (b *bundler) defs() (map[string]any, error) {
	keys := make([]defKey, 0, len(b.found))
	for k := range b.found {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b defKey) int { return strings.Compare(a.String(), b.String()) })
	out := map[string]any{}
	from := map[string]defKey{}
	for _, k := range keys {
		d := b.found[k]
		if prev, ok := from[k.name]; ok {
			if !reflect.DeepEqual(out[k.name], d) {
				return nil, fmt.Errorf("two different definitions are named %s: %s and %s", k.name, prev, k)
			}
			continue
		}
		out[k.name] = d
		from[k.name] = k
	}
	return out, nil
}

// Keywords whose values are schemas, by shape.
var (
	schemaKeywords = map[string]bool{
		"items": true, "additionalProperties": true, "not": true, "if": true, "then": true,
		"else": true, "contains": true, "propertyNames": true, "unevaluatedItems": true,
		"unevaluatedProperties": true, "contentSchema": true,
	}
	schemaMapKeywords  = map[string]bool{"properties": true, "$defs": true, "patternProperties": true, "dependentSchemas": true}
	schemaListKeywords = map[string]bool{"allOf": true, "anyOf": true, "oneOf": true, "prefixItems": true}
)

// walkSchema calls fn on s and on every schema inside it, parents first, in
// a fixed order. Values that are data (default, enum, const, ...) are not
// entered, so a property named $ref is never taken for a reference.
func walkSchema(s map[string]any, fn func(map[string]any) error) error {
	if err := fn(s); err != nil {
		return err
	}
	for _, k := range sortedKeys(s) {
		var subs []any
		switch v := s[k]; {
		case schemaKeywords[k]:
			subs = []any{v}
		case schemaMapKeywords[k]:
			m, _ := v.(map[string]any)
			for _, name := range sortedKeys(m) {
				subs = append(subs, m[name])
			}
		case schemaListKeywords[k]:
			subs, _ = v.([]any)
		}
		for _, sub := range subs {
			if m, ok := sub.(map[string]any); ok { // true and false are schemas too
				if err := walkSchema(m, fn); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// sortedKeys returns the keys of v if it is a JSON object, sorted.
func sortedKeys(v any) []string {
	m, _ := v.(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	default:
		return v
	}
}

// keywordOrder is the order keywords are written in, so that a schema reads
// from its name down to its details; unlisted keywords come next, sorted,
// and $defs comes last.
var keywordOrder = []string{
	"$schema", "$id", "$ref", "title", "description", "type", "const", "enum", "default",
	"format", "pattern", "minLength", "maxLength", "minimum", "exclusiveMinimum", "maximum",
	"exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "required",
	"properties", "patternProperties", "additionalProperties", "items", "prefixItems",
	"allOf", "anyOf", "oneOf", "not", "if", "then", "else",
}

func keywordRank(k string) int {
	if k == "$defs" {
		return len(keywordOrder) + 1
	}
	if i := slices.Index(keywordOrder, k); i >= 0 {
		return i
	}
	return len(keywordOrder)
}

// encodeSchema writes a schema as JSON indented by two spaces, with a final
// newline. Object keys are sorted, except a schema's keywords, which follow
// keywordOrder. HTML characters are not escaped: descriptions hold <name>.
func encodeSchema(s map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, s, inSchema, ""); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// What a JSON value is, for writeJSON.
type jsonRole int

const (
	inData       jsonRole = iota
	inSchema              // a schema
	inSchemaMap           // an object whose values are schemas (properties)
	inSchemaList          // an array of schemas (allOf)
)

func writeJSON(buf *bytes.Buffer, v any, role jsonRole, indent string) error {
	const step = "  "
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			buf.WriteString("{}")
			return nil
		}
		keys := sortedKeys(x)
		if role == inSchema {
			slices.SortStableFunc(keys, func(a, b string) int { return keywordRank(a) - keywordRank(b) })
		}
		buf.WriteString("{\n")
		for i, k := range keys {
			buf.WriteString(indent + step)
			if err := writeScalar(buf, k); err != nil {
				return err
			}
			buf.WriteString(": ")
			child := inData
			switch {
			case role == inSchemaMap:
				child = inSchema
			case role != inSchema:
			case schemaKeywords[k]:
				child = inSchema
			case schemaMapKeywords[k]:
				child = inSchemaMap
			case schemaListKeywords[k]:
				child = inSchemaList
			}
			if err := writeJSON(buf, x[k], child, indent+step); err != nil {
				return err
			}
			if i < len(keys)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(indent + "}")
	case []any:
		if len(x) == 0 {
			buf.WriteString("[]")
			return nil
		}
		child := inData
		if role == inSchemaList {
			child = inSchema
		}
		buf.WriteString("[\n")
		for i, e := range x {
			buf.WriteString(indent + step)
			if err := writeJSON(buf, e, child, indent+step); err != nil {
				return err
			}
			if i < len(x)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(indent + "]")
	default:
		return writeScalar(buf, v)
	}
	return nil
}

func writeScalar(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode ends with a newline
	return nil
}
