package schemas

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite the generated files: the CRDs under crds/ and weir.schema.json")

// manifest is one resource of each kind that every schema form must accept,
// with changes that each make it invalid.
type manifest struct {
	kind  string
	doc   map[string]any
	wrong []change
}

// change sets the value at a dotted path of a document, or deletes it when
// value is remove.
type change struct {
	path  string
	value any
}

var remove = new(int)

func (c change) String() string {
	if c.value == remove {
		return "without " + c.path
	}
	return fmt.Sprintf("%s=%v", c.path, c.value)
}

func (c change) apply(doc map[string]any) map[string]any {
	out := deepCopy(doc).(map[string]any)
	m := out
	parts := strings.Split(c.path, ".")
	for _, p := range parts[:len(parts)-1] {
		m = m[p].(map[string]any)
	}
	if last := parts[len(parts)-1]; c.value == remove {
		delete(m, last)
	} else {
		m[last] = c.value
	}
	return out
}

func resource(kind, name string, spec map[string]any) map[string]any {
	return map[string]any{
		"apiVersion": "kaspr.io/v1alpha1",
		"kind":       kind,
		"metadata":   map[string]any{"name": name, "labels": map[string]any{"kaspr.io/app": "shop"}},
		"spec":       spec,
	}
}

func code(entrypoint, python string) map[string]any {
	return map[string]any{"entrypoint": entrypoint, "python": python}
}

func processors() map[string]any {
	return map[string]any{
		"pipeline": []any{"double"},
		"operations": []any{map[string]any{
			"name": "double",
			"map":  code("double", "def double(v):\n    return v * 2\n"),
		}},
	}
}

var manifests = []manifest{
	{
		kind: "KasprApp",
		doc: resource("KasprApp", "shop", map[string]any{
			"bootstrapServers": "broker-0:9092, broker-1:9092",
			"tls":              map[string]any{},
			"authentication":   map[string]any{"type": "scram-sha-256", "username": "weir", "passwordFile": "/run/secrets/kafka"},
			"resources":        map[string]any{"limits": map[string]any{"cpu": "1"}},
			"config": map[string]any{
				"webPort":     8080,
				"codeTimeout": "5s",
				"kafka":       map[string]any{"linger.ms": 5, "enable.idempotence": true, "client.id": "shop"},
				"unlisted":    "kept",
			},
		}),
		wrong: []change{
			{"spec.bootstrapServers", "localhost"},
			{"spec.bootstrapServers", remove},
			{"spec.config.webPort", 80},
			{"spec.config.kafkaClient", "sarama"},
			{"spec.config.kafka", map[string]any{"nested": map[string]any{}}},
			{"spec.tls", map[string]any{"verify": false}},
			{"spec.replica", 2},
			{"apiVersion", "kaspr.io/v1"},
			{"metadata.name", "Shop"},
			{"metadata", remove},
		},
	},
	{
		kind: "KasprAgent",
		doc: resource("KasprAgent", "doubler", map[string]any{
			"input": map[string]any{
				"topic": map[string]any{"name": "numbers", "valueSerializer": "json", "config": map[string]any{"retention.ms": "60000"}},
				"take":  map[string]any{"max": 10, "within": "1s"},
			},
			"processors": processors(),
			"output":     map[string]any{"topics": []any{map[string]any{"name": "doubled", "keySelector": code("key", "def key(v):\n    return str(v)\n")}}},
		}),
		wrong: []change{
			{"spec.input", remove},
			{"spec.input.take.within", "soon"},
			{"spec.input.take.max", 0},
			{"spec.input.topic.valueSerializer", "avro"},
			{"spec.processors.operations", []any{map[string]any{"name": "x", "map": map[string]any{"ruby": "x"}}}},
			{"spec.processors.operations", []any{map[string]any{"name": "x", "map": map[string]any{"entrypoint": "not-an-identifier"}}}},
			{"spec.output", map[string]any{"topics": []any{map[string]any{"partitions": 0}}}},
		},
	},
	{
		kind: "KasprTable",
		doc: resource("KasprTable", "counts", map[string]any{
			"name":              "word-counts",
			"keySerializer":     "json",
			"extraTopicConfigs": map[string]any{"min.cleanable.dirty.ratio": 0.5, "preallocate": true},
			"window":            map[string]any{"tumbling": map[string]any{"size": "1m", "expires": 3600}},
		}),
		wrong: []change{
			{"spec.name", "word counts"},
			{"spec.name", remove},
			{"spec.keySerializer", "binary"},
			{"spec.window", map[string]any{"tumbling": map[string]any{"expires": "1h"}}},
			{"spec.window", map[string]any{"tumbling": map[string]any{"size": -1}}},
			{"spec.size", 10},
		},
	},
	{
		kind: "KasprWebView",
		doc: resource("KasprWebView", "lookup", map[string]any{
			"name":       "lookup",
			"request":    map[string]any{"method": "GET", "path": "/count/{word}"},
			"response":   map[string]any{"contentType": "application/json", "headers": map[string]any{"Cache-Control": "no-store"}},
			"processors": processors(),
		}),
		wrong: []change{
			{"spec.request", map[string]any{"method": "FETCH", "path": "/"}},
			{"spec.request", map[string]any{"method": "GET", "path": "count"}},
			{"spec.response", map[string]any{"statusCode": 700}},
			{"spec.response", map[string]any{"headers": map[string]any{"X-Count": 1}}},
		},
	},
	{
		kind: "KasprTask",
		doc: resource("KasprTask", "tick", map[string]any{
			"name":       "tick",
			"schedule":   map[string]any{"interval": 10},
			"processors": processors(),
		}),
		wrong: []change{
			{"spec.processors", remove},
			{"spec.schedule", map[string]any{"interval": "-1s"}},
			{"spec.schedule", map[string]any{"interval": -1}},
			{"spec.schedule", map[string]any{"every": "1s"}},
		},
	},
	{
		kind: "KasprJoin",
		doc: resource("KasprJoin", "orders-customers", map[string]any{
			"leftTable":  "orders",
			"rightTable": "customers",
			"extractor":  code("customer_id", "def customer_id(order):\n    return order[\"customer\"]\n"),
			"type":       "left",
		}),
		wrong: []change{
			{"spec.type", "outer"},
			{"spec.extractor", remove},
			{"spec.extractor", map[string]any{"python": 1}},
		},
	},
}

func TestManifestsCoverEveryKind(t *testing.T) {
	var kinds []string
	for _, m := range manifests {
		kinds = append(kinds, m.kind)
	}
	if !slices.Equal(kinds, Kinds) {
		t.Errorf("manifests cover %v, want %v", kinds, Kinds)
	}
}

// compileAlone compiles a bundle with nothing else known: the compiler loads
// no https URL, so a reference out of the bundle fails to compile.
func compileAlone(t *testing.T, data []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("bundle is not JSON: %v", err)
	}
	id, _ := doc.(map[string]any)["$id"].(string)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(id, doc); err != nil {
		t.Fatalf("add bundle %s: %v", id, err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatalf("compile bundle %s on its own: %v", id, err)
	}
	return sch
}

// asJSON turns a document written in Go into what a JSON decoder gives.
func asJSON(t *testing.T, doc map[string]any) any {
	t.Helper()
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// check validates the valid manifest and its wrong changes against a schema.
func check(t *testing.T, name string, sch *jsonschema.Schema, m manifest) {
	t.Helper()
	if err := sch.Validate(asJSON(t, m.doc)); err != nil {
		t.Errorf("%s: valid %s rejected: %v", name, m.kind, err)
	}
	for _, c := range m.wrong {
		if err := sch.Validate(asJSON(t, c.apply(m.doc))); err == nil {
			t.Errorf("%s: %s with %v accepted", name, m.kind, c)
		}
	}
}

func TestBundle(t *testing.T) {
	set, err := Compile()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range manifests {
		t.Run(m.kind, func(t *testing.T) {
			data, err := Bundle(m.kind)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(data, []byte("common.schema.json")) {
				t.Error("bundle still mentions common.schema.json")
			}
			if !bytes.HasSuffix(data, []byte("}\n")) || !bytes.HasPrefix(data, []byte("{\n  \"")) {
				t.Error("bundle is not JSON indented by two spaces with a final newline")
			}
			if again, _ := Bundle(m.kind); !bytes.Equal(data, again) {
				t.Error("two bundles of the same kind differ")
			}
			var doc map[string]any
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"$schema", "$id", "title", "description"} {
				if doc[k] == nil {
					t.Errorf("bundle has no %s", k)
				}
			}
			if doc["$id"] != BaseURL+FileName(m.kind) {
				t.Errorf("bundle $id = %v", doc["$id"])
			}
			check(t, "bundle", compileAlone(t, data), m)
			check(t, "schema files", set.Kind(m.kind), m)
		})
	}
	if _, err := Bundle("KasprThing"); err == nil || !strings.Contains(err.Error(), `unknown kind "KasprThing" (one of KasprApp, KasprAgent,`) {
		t.Errorf("Bundle of an unknown kind: %v", err)
	}
}

func TestBundleAll(t *testing.T) {
	data, err := BundleAll()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := BundleAll(); !bytes.Equal(data, again) {
		t.Error("two bundles differ")
	}
	if bytes.Contains(data, []byte("common.schema.json")) {
		t.Error("bundle still mentions common.schema.json")
	}
	sch := compileAlone(t, data)
	for _, m := range manifests {
		check(t, "all kinds", sch, m)
	}

	table := manifests[slices.IndexFunc(manifests, func(m manifest) bool { return m.kind == "KasprTable" })].doc
	for _, c := range []change{
		{"spec.unknown", true},
		{"kind", "KasprThing"},
		{"kind", remove},
		{"kind", "KasprAgent"}, // a table's spec is no agent's
	} {
		if err := sch.Validate(asJSON(t, c.apply(table))); err == nil {
			t.Errorf("KasprTable with %v accepted", c)
		}
	}
}

// fakeFiles serves schema files from memory.
func fakeFiles(files map[string]string) func(string) (map[string]any, error) {
	return func(name string) (map[string]any, error) {
		var doc map[string]any
		if err := json.Unmarshal([]byte(files[name]), &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return doc, nil
	}
}

func TestBundleNameCollision(t *testing.T) {
	b := newBundler(fakeFiles(map[string]string{
		"a.schema.json": `{"$defs": {"Name": {"type": "string"}, "Same": {"type": "integer"}}}`,
		"b.schema.json": `{"$defs": {"Name": {"type": "integer"}, "Same": {"type": "integer"}}}`,
	}))
	for _, k := range []defKey{{"a.schema.json", "Same", false}, {"b.schema.json", "Same", false}} {
		if err := b.add(k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.defs(); err != nil {
		t.Errorf("equal definitions of one name: %v", err)
	}
	for _, k := range []defKey{{"a.schema.json", "Name", false}, {"b.schema.json", "Name", false}} {
		if err := b.add(k); err != nil {
			t.Fatal(err)
		}
	}
	_, err := b.defs()
	if err == nil || !strings.Contains(err.Error(), "two different definitions are named Name") {
		t.Errorf("different definitions of one name: %v", err)
	}
}

func loadCRD(t *testing.T, kind string) map[string]any {
	t.Helper()
	data, err := CRD(kind)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(crdHeader)) {
		t.Errorf("CRD of %s does not start with %q", kind, crdHeader)
	}
	var crd map[string]any
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatalf("CRD of %s is not YAML: %v", kind, err)
	}
	return crd
}

// get follows a path of keys and indexes through a YAML document.
func get(v any, path ...any) any {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[p]
		case int:
			l, _ := v.([]any)
			if p >= len(l) {
				return nil
			}
			v = l[p]
		}
	}
	return v
}

func TestCRD(t *testing.T) {
	short := map[string]string{
		"KasprApp": "kapp", "KasprAgent": "kagent", "KasprTable": "ktable",
		"KasprWebView": "kwebview", "KasprTask": "ktask", "KasprJoin": "kjoin",
	}
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			crd := loadCRD(t, kind)
			plural := strings.ToLower(kind) + "s"
			for _, c := range []struct {
				path []any
				want any
			}{
				{[]any{"apiVersion"}, "apiextensions.k8s.io/v1"},
				{[]any{"kind"}, "CustomResourceDefinition"},
				{[]any{"metadata", "name"}, plural + ".kaspr.io"},
				{[]any{"spec", "group"}, "kaspr.io"},
				{[]any{"spec", "scope"}, "Namespaced"},
				{[]any{"spec", "names", "kind"}, kind},
				{[]any{"spec", "names", "listKind"}, kind + "List"},
				{[]any{"spec", "names", "plural"}, plural},
				{[]any{"spec", "names", "singular"}, strings.ToLower(kind)},
				{[]any{"spec", "names", "shortNames", 0}, short[kind]},
				{[]any{"spec", "names", "categories", 0}, "kaspr"},
				{[]any{"spec", "versions", 0, "name"}, "v1alpha1"},
				{[]any{"spec", "versions", 0, "served"}, true},
				{[]any{"spec", "versions", 0, "storage"}, true},
				{[]any{"spec", "versions", 0, "schema", "openAPIV3Schema", "properties", "status", "x-kubernetes-preserve-unknown-fields"}, true},
				{[]any{"spec", "versions", 0, "schema", "openAPIV3Schema", "properties", "metadata", "type"}, "object"},
			} {
				if got := get(crd, c.path...); got != c.want {
					t.Errorf("%v = %v, want %v", c.path, got, c.want)
				}
			}
			if n := len(get(crd, "spec", "versions").([]any)); n != 1 {
				t.Errorf("%d versions, want 1", n)
			}
			if get(crd, "spec", "versions", 0, "subresources", "status") == nil {
				t.Error("no status subresource")
			}
			schema, _ := get(crd, "spec", "versions", 0, "schema", "openAPIV3Schema").(map[string]any)
			checkStructural(t, "openAPIV3Schema", schema)
			if get(schema, "properties", "spec", "type") != "object" {
				t.Error("spec is not an object")
			}
		})
	}
	if _, err := CRD("KasprThing"); err == nil || !strings.Contains(err.Error(), `unknown kind "KasprThing"`) {
		t.Errorf("CRD of an unknown kind: %v", err)
	}
}

// openAPIKeywords are the keywords a generated CRD schema may use.
var openAPIKeywords = []string{
	"type", "description", "default", "enum", "format", "pattern", "minLength", "maxLength",
	"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems",
	"maxItems", "minProperties", "maxProperties", "required", "properties",
	"additionalProperties", "items", "x-kubernetes-preserve-unknown-fields",
	"x-kubernetes-int-or-string",
}

// checkStructural checks the rules of a Kubernetes structural schema that a
// conversion could break: known keywords only, a type on every node but an
// int-or-string or free one, properties and a map schema not together,
// items on every array, and boolean exclusive bounds.
func checkStructural(t *testing.T, where string, s map[string]any) {
	t.Helper()
	if s == nil {
		t.Errorf("%s: no schema", where)
		return
	}
	for k := range s {
		if !slices.Contains(openAPIKeywords, k) {
			t.Errorf("%s: keyword %s", where, k)
		}
	}
	typ, _ := s["type"].(string)
	switch {
	case s["x-kubernetes-int-or-string"] == true:
		if typ != "" {
			t.Errorf("%s: int-or-string with type %s", where, typ)
		}
	case typ == "" && s["x-kubernetes-preserve-unknown-fields"] != true:
		t.Errorf("%s: no type", where)
	}
	if typ == "array" && s["items"] == nil {
		t.Errorf("%s: array without items", where)
	}
	if s["properties"] != nil && s["additionalProperties"] != nil {
		t.Errorf("%s: properties and additionalProperties together", where)
	}
	if _, ok := s["additionalProperties"].(bool); ok {
		t.Errorf("%s: boolean additionalProperties", where)
	}
	for _, k := range []string{"exclusiveMinimum", "exclusiveMaximum"} {
		if v, ok := s[k]; ok {
			if _, ok := v.(bool); !ok {
				t.Errorf("%s: %s is %v, not a boolean", where, k, v)
			}
		}
	}
	props, _ := s["properties"].(map[string]any)
	for name, p := range props {
		checkStructural(t, where+".properties."+name, asMap(p))
	}
	for _, k := range []string{"items", "additionalProperties"} {
		if sub, ok := s[k].(map[string]any); ok {
			checkStructural(t, where+"."+k, sub)
		}
	}
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

func TestCRDHasNoReferences(t *testing.T) {
	data, err := CRDs()
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var kinds []string
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			break
		}
		kinds = append(kinds, get(doc, "spec", "names", "kind").(string))
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, e := range v {
					if k == "$ref" || k == "$defs" {
						t.Errorf("%s: %s left in the CRD", path, k)
					}
					walk(path+"."+k, e)
				}
			case []any:
				for i, e := range v {
					walk(fmt.Sprintf("%s[%d]", path, i), e)
				}
			}
		}
		walk(kinds[len(kinds)-1], doc)
	}
	if !slices.Equal(kinds, Kinds) {
		t.Errorf("CRDs holds %v, want %v", kinds, Kinds)
	}
	if n := bytes.Count(data, []byte("\n---\n")); n != len(Kinds)-1 {
		t.Errorf("%d document separators, want %d", n, len(Kinds)-1)
	}
}

// TestCRDConversion pins the structural forms chosen for the JSON Schema
// constructs Kubernetes has no direct word for.
func TestCRDConversion(t *testing.T) {
	config := get(loadCRD(t, "KasprApp"), "spec", "versions", 0, "schema", "openAPIV3Schema",
		"properties", "spec", "properties", "config")
	for _, c := range []struct {
		path []any
		want any
	}{
		{[]any{"x-kubernetes-preserve-unknown-fields"}, true}, // additionalProperties: true
		{[]any{"default"}, map[string]any{}},                  // default beside a $ref
		{[]any{"properties", "codeTimeout", "x-kubernetes-int-or-string"}, true},
		{[]any{"properties", "codeTimeout", "type"}, nil},
		{[]any{"properties", "codeTimeout", "pattern"}, nil},
		{[]any{"properties", "codeTimeout", "default"}, "1s"},
		{[]any{"properties", "schedulerCheckpointSaveIntervalSeconds", "minimum"}, 0},
		{[]any{"properties", "schedulerCheckpointSaveIntervalSeconds", "exclusiveMinimum"}, true},
		{[]any{"properties", "storeRocksdbWriteBufferSize", "default"}, 67108864},
		{[]any{"properties", "keySerializer", "enum", 1}, "json"}, // inlined $ref
		{[]any{"properties", "kafka", "type"}, "object"},
		{[]any{"properties", "kafka", "additionalProperties", "x-kubernetes-preserve-unknown-fields"}, true},
	} {
		got := get(config, c.path...)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("config.%v = %v, want %v", c.path, got, c.want)
		}
	}
	apiVersion := get(loadCRD(t, "KasprAgent"), "spec", "versions", 0, "schema", "openAPIV3Schema",
		"properties", "apiVersion")
	if get(apiVersion, "type") != "string" {
		t.Errorf("apiVersion = %v", apiVersion)
	}
}

func TestCRDRecursion(t *testing.T) {
	src := newSource(fakeFiles(map[string]string{
		"tree.schema.json": `{"$defs": {
			"Node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Child"}}}},
			"Child": {"$ref": "#/$defs/Node", "description": "A child."}
		}}`,
	}))
	c := &converter{src: src}
	_, err := c.convert(map[string]any{"$ref": BaseURL + "tree.schema.json#/$defs/Node"}, "test")
	if err == nil || !strings.Contains(err.Error(), "recursive $ref (tree.schema.json#/$defs/Node -> tree.schema.json#/$defs/Child -> tree.schema.json#/$defs/Node)") {
		t.Errorf("recursive schema: %v", err)
	}
}

func TestCRDUnknownKeyword(t *testing.T) {
	c := &converter{src: newSource(fakeFiles(nil))}
	_, err := c.convert(map[string]any{"type": "object", "oneOf": []any{}, "additionalProperties": false}, "test")
	if err == nil || !strings.Contains(err.Error(), "no CRD form for oneOf") {
		t.Errorf("oneOf: %v", err)
	}
}

// TestCRDsUpToDate compares the checked-in crds/<plural>.yaml with CRD;
// -update rewrites them.
func TestCRDsUpToDate(t *testing.T) {
	want := map[string]bool{}
	for _, kind := range Kinds {
		path := filepath.Join("crds", crdPlural(kind)+".yaml")
		want[path] = true
		data, err := CRD(kind)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.MkdirAll("crds", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v: run `make generate`", err)
			continue
		}
		if !bytes.Equal(old, data) {
			t.Errorf("schemas/%s is out of date with the schema files (%s): run `make generate`", path, firstDiff(old, data))
		}
	}
	found, _ := filepath.Glob(filepath.Join("crds", "*"))
	for _, f := range found {
		if !want[f] {
			t.Errorf("schemas/%s is the CRD of no kind: remove it", f)
		}
	}
}

// firstDiff describes the first line where two texts differ.
func firstDiff(old, new []byte) string {
	a, b := strings.Split(string(old), "\n"), strings.Split(string(new), "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return fmt.Sprintf("line %d is %q, want %q", i+1, x, y)
		}
	}
	return "same lines"
}

func TestSchemaFilesCompile(t *testing.T) {
	entries, err := files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	for _, e := range entries {
		doc, err := Raw(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(BaseURL+e.Name(), doc); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
	}
	for _, e := range entries {
		if _, err := c.Compile(BaseURL + e.Name()); err != nil {
			t.Errorf("%s: %v", e.Name(), err)
		}
	}
	if len(entries) != len(Kinds)+1 {
		t.Errorf("%d schema files, want one per kind and common.schema.json", len(entries))
	}
}

// TestSchemaFilesDocumented checks that the schema files say enough for the
// docs and the editors: a one-line description on every property and
// definition, and an explicit additionalProperties on every object.
func TestSchemaFilesDocumented(t *testing.T) {
	entries, err := files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		doc, err := Raw(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		var walk func(where string, s map[string]any)
		described := func(where string, s map[string]any) {
			d, _ := s["description"].(string)
			if strings.TrimSpace(d) == "" || strings.Contains(d, "\n") {
				t.Errorf("%s: description %q is not one non-empty line", where, d)
			}
		}
		walk = func(where string, s map[string]any) {
			typ := s["type"]
			types, _ := typ.([]any)
			if typ == "object" || slices.Contains(types, any("object")) || s["properties"] != nil {
				if _, ok := s["additionalProperties"]; !ok {
					t.Errorf("%s: object without additionalProperties", where)
				}
			}
			for _, kw := range []string{"properties", "$defs"} {
				m, _ := s[kw].(map[string]any)
				for _, name := range sortedKeys(m) {
					sub, ok := m[name].(map[string]any)
					if !ok {
						t.Errorf("%s/%s/%s: not a schema object", where, kw, name)
						continue
					}
					described(where+"/"+kw+"/"+name, sub)
				}
			}
			for _, k := range sortedKeys(s) {
				switch v := s[k]; {
				case schemaKeywords[k]:
					if m, ok := v.(map[string]any); ok {
						walk(where+"/"+k, m)
					}
				case schemaMapKeywords[k]:
					m, _ := v.(map[string]any)
					for _, name := range sortedKeys(m) {
						if sub, ok := m[name].(map[string]any); ok {
							walk(where+"/"+k+"/"+name, sub)
						}
					}
				case schemaListKeywords[k]:
					l, _ := v.([]any)
					for i, sub := range l {
						if m, ok := sub.(map[string]any); ok {
							walk(fmt.Sprintf("%s/%s/%d", where, k, i), m)
						}
					}
				}
			}
		}
		described(e.Name(), doc)
		walk(e.Name()+"#", doc)
	}
}

// TestBundleAllUpToDate checks weir.schema.json, the schema editors fetch by
// the URL in their modeline, against BundleAll. -update rewrites it.
func TestBundleAllUpToDate(t *testing.T) {
	data, err := BundleAll()
	if err != nil {
		t.Fatal(err)
	}
	const path = "weir.schema.json"
	if *update {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run `make generate`", err)
	}
	if !bytes.Equal(old, data) {
		t.Errorf("schemas/%s is out of date with the schema files (%s): run `make generate`", path, firstDiff(old, data))
	}
}
