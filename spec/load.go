package spec

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/weirstream/weir/schemas"
)

// Bundle is everything one load found: the apps, each with the resources
// bound to it.
type Bundle struct {
	Apps []*App
}

// App is a KasprApp and the resources bound to it, each list in the order
// the resources were read.
type App struct {
	App      *KasprApp
	Agents   []*KasprAgent
	Tables   []*KasprTable
	WebViews []*KasprWebView
	Tasks    []*KasprTask
	Joins    []*KasprJoin
}

// Name is the app's metadata.name.
func (a *App) Name() string { return a.App.Metadata.Name }

// Table returns the app's table with the given spec.name, or nil.
func (a *App) Table(name string) *KasprTable {
	for _, t := range a.Tables {
		if t.Spec.Name == name {
			return t
		}
	}
	return nil
}

// Resources lists the app and every resource bound to it.
func (a *App) Resources() []Resource {
	out := []Resource{a.App}
	for _, r := range a.Agents {
		out = append(out, r)
	}
	for _, r := range a.Tables {
		out = append(out, r)
	}
	for _, r := range a.WebViews {
		out = append(out, r)
	}
	for _, r := range a.Tasks {
		out = append(out, r)
	}
	for _, r := range a.Joins {
		out = append(out, r)
	}
	return out
}

// App returns the app with the given name, or nil.
func (b *Bundle) App(name string) *App {
	for _, a := range b.Apps {
		if a.Name() == name {
			return a
		}
	}
	return nil
}

var compiledSchemas = sync.OnceValues(schemas.Compile)

// Load reads the manifests under the given files and folders (see
// ReadFiles) and parses them (see Parse). Errors are of type Errors.
func Load(paths ...string) (*Bundle, error) {
	files, readErr := ReadFiles(paths...)
	b, err := Parse(files...)
	if readErr != nil {
		var all Errors
		for _, e := range []error{readErr, err} {
			var es Errors
			if errors.As(e, &es) {
				all = append(all, es...)
			}
		}
		return nil, all.sorted()
	}
	return b, err
}

// Parse reads manifests: it decodes every document into its typed resource
// with positions kept, checks it against its kind's schema, applies
// defaults, binds every resource to its app and checks the references
// between them. It returns the bundle, or every problem found as Errors,
// sorted by file and line. Nothing is run.
func Parse(files ...File) (*Bundle, error) {
	set, err := compiledSchemas()
	if err != nil {
		return nil, err // the embedded schemas are broken: a build problem
	}
	l := &loader{set: set}
	var resources []Resource
	for _, f := range files {
		for _, d := range parseFile(f, &l.errs) {
			if r := l.decode(d); r != nil {
				resources = append(resources, r)
			}
		}
	}
	b := l.bind(resources)
	for _, app := range b.Apps {
		l.inherit(app)
		l.checkApp(app)
	}
	l.checkProcess(b)
	if err := l.errs.err(); err != nil {
		return nil, err
	}
	return b, nil
}

type loader struct {
	set  *schemas.Set
	errs errorList
}

// decode turns a document into its typed resource. A document that breaks
// its schema is reported and still decoded as far as it goes, so that its
// name can be referred to without causing more errors elsewhere.
func (l *loader) decode(d *document) Resource {
	k, ok := l.kindOf(d)
	if !ok {
		return nil
	}
	valid := validateSchema(l.set, d, k, &l.errs) && !d.broken
	l.applyDefaults(d, schemas.Root(k), l.set.Lookup(schemas.Root(k)), d.root, "")
	var r Resource
	switch k {
	case KindApp:
		r = &KasprApp{}
	case KindAgent:
		r = &KasprAgent{}
	case KindTable:
		r = &KasprTable{}
	case KindWebView:
		r = &KasprWebView{}
	case KindTask:
		r = &KasprTask{}
	case KindJoin:
		r = &KasprJoin{}
	}
	if err := decodeInto(d.root, r); err != nil && valid {
		// The schema and the Go types disagree: a weir bug, said plainly.
		l.errs.add(d.pos(""), "", "cannot decode %s: %v", k, err)
		return nil
	}
	r.object().doc = d
	for _, cb := range CodeBlocks(r) {
		d.locateCode(cb.Path, cb.Code)
	}
	return r
}

// kindOf reads and checks a document's apiVersion and kind.
func (l *loader) kindOf(d *document) (string, bool) {
	m := d.value.(map[string]any)
	k, _ := m["kind"].(string)
	api, _ := m["apiVersion"].(string)
	switch {
	case slices.Contains(Kinds, k):
		return k, true
	case k == "":
		if _, ok := m["kind"]; ok {
			l.errs.add(d.pos("kind"), "kind", "expected one of %s, found %s", quoteList(Kinds), describeNode(d.nodes["kind"]))
		} else {
			l.errs.add(d.pos(""), "", "missing required field \"kind\" (one of %s)", quoteList(Kinds))
		}
	case strings.HasPrefix(api, "kaspr.io/") || strings.HasPrefix(strings.ToLower(k), "kaspr"):
		l.errs.add(d.pos("kind"), "kind", "unknown kind %q%s", k, didYouMean(k, Kinds))
	default:
		l.errs.add(d.pos("kind"), "", "not a weir resource: apiVersion %q, kind %q; weir reads %s resources (%s)", api, k, APIVersion, strings.Join(Kinds, ", "))
	}
	return "", false
}

// applyDefaults adds the schema's defaults for fields not written in the
// document. The added nodes have no position, so errors about them point at
// the nearest field that was written.
func (l *loader) applyDefaults(d *document, loc string, sch map[string]any, n *yaml.Node, path string) {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if sch == nil || n == nil {
		return
	}
	if ref, ok := sch["$ref"].(string); ok {
		loc, sch = l.set.Resolve(loc, ref)
		if sch == nil {
			return
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		props, _ := sch["properties"].(map[string]any)
		names := make([]string, 0, len(props))
		for name := range props {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			ps, _ := props[name].(map[string]any)
			v := mappingValue(n, name)
			if v == nil {
				def, ok := defaultOf(l.set, loc, ps)
				if !ok {
					continue
				}
				v = &yaml.Node{}
				if err := v.Encode(def); err != nil {
					continue
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name}, v)
				fp := childPath(path, name)
				d.nodes[fp] = v
				d.up[fp] = path
			}
			l.applyDefaults(d, loc+"/properties/"+name, ps, v, childPath(path, name))
		}
	case yaml.SequenceNode:
		items, _ := sch["items"].(map[string]any)
		for i, item := range n.Content {
			l.applyDefaults(d, loc+"/items", items, item, indexPath(path, i))
		}
	}
}

// defaultOf returns a property's default, looking through a $ref.
func defaultOf(set *schemas.Set, loc string, ps map[string]any) (any, bool) {
	if def, ok := ps["default"]; ok {
		return def, true
	}
	if ref, ok := ps["$ref"].(string); ok {
		if _, target := set.Resolve(loc, ref); target != nil {
			def, ok := target["default"]
			return def, ok
		}
	}
	return nil, false
}

// mappingValue returns the value node of a key in a mapping node, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// decodeInto decodes a node tree into a typed resource, turning a panic in
// the YAML library into an error.
func decodeInto(n *yaml.Node, r Resource) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	return n.Decode(r)
}
