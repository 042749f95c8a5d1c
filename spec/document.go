package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// document is one YAML document of a manifest file, kept as a node tree (for
// positions and typed decoding) and as a plain JSON-like value (for schema
// validation), with an index from field path to node.
type document struct {
	file  string
	root  *yaml.Node            // the document's top mapping
	value any                   // JSON-like: map[string]any, []any, string, int, float64, bool, nil
	nodes map[string]*yaml.Node // field path -> value node
	keys  map[string]*yaml.Node // field path -> key node, for mapping entries
	up    map[string]string     // field path -> parent path
	lines []string              // the file's lines, for code block columns

	broken     bool     // the YAML had an error of its own (a duplicate key, a bad alias)
	schemaErrs []string // field paths the schema reported errors at
}

// maxNodes bounds the work a document may cause, so that a small file of
// nested aliases cannot expand into billions of values.
const maxNodes = 200_000

// parseFile splits a file into documents. Empty documents are dropped. A YAML
// syntax error ends the file: the documents before it are kept.
func parseFile(f File, errs *errorList) []*document {
	lines := strings.Split(string(f.Data), "\n")
	dec := yaml.NewDecoder(bytes.NewReader(f.Data))
	var docs []*document
	for {
		var n yaml.Node
		err := decodeNode(dec, &n)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			line, msg := splitYAMLError(err)
			errs.add(Pos{File: f.Name, Line: line}, "", "invalid YAML: %s", msg)
			return docs
		}
		if len(n.Content) == 0 || isNull(n.Content[0]) {
			continue
		}
		root := n.Content[0]
		if root.Kind != yaml.MappingNode {
			errs.add(nodePos(f.Name, root), "", "expected a mapping with apiVersion, kind, metadata and spec, found %s", describeNode(root))
			continue
		}
		d := &document{
			file:  f.Name,
			root:  root,
			nodes: map[string]*yaml.Node{},
			keys:  map[string]*yaml.Node{},
			up:    map[string]string{},
			lines: lines,
		}
		c := converter{doc: d, errs: errs}
		d.value = c.convert(root, "", "")
		if c.count > maxNodes {
			errs.add(nodePos(f.Name, root), "", "document too large: more than %d values (are aliases nested?)", maxNodes)
			continue
		}
		// A document with an error of its own is still kept, marked broken,
		// so that other resources can refer to it without more errors.
		d.broken = c.failed
		docs = append(docs, d)
	}
}

// decodeNode decodes the next document, turning a panic in the YAML library
// into an error: no input, however malformed, may crash a load.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// yamlWords says the YAML library's commonest complaints in plainer words.
var yamlWords = map[string]string{
	"did not find expected ',' or ']'":                "a [ list is not closed: expected ',' or ']'",
	"did not find expected ',' or '}'":                "a { mapping is not closed: expected ',' or '}'",
	"did not find expected key":                       "expected a field name here: check the indentation",
	"did not find expected '-' indicator":             "expected a list item (- ...) here: check the indentation",
	"mapping values are not allowed in this context":  "unexpected ':': check the indentation, or quote a value that contains \": \"",
	"found a tab character that violates indentation": "a tab is used for indentation: YAML indents with spaces",
	"found character that cannot start any token":     "a value cannot start with this character: quote it",
}

// splitYAMLError takes the line number out of a YAML library error and
// rewords the message. The library counts lines from 0 in its parser's
// errors ("did not find expected ...") and from 1 in its scanner's.
func splitYAMLError(err error) (int, string) {
	msg := err.Error()
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	if strings.HasPrefix(msg, "did not find expected") {
		line++
	}
	if words, ok := yamlWords[msg]; ok {
		msg = words
	}
	return line, msg
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func nodePos(file string, n *yaml.Node) Pos {
	return Pos{File: file, Line: n.Line, Column: n.Column}
}

// pos returns the position of the field at path. A field that is not
// written in the file (missing, or filled in by a default) is reported at the
// key of its nearest written ancestor.
func (d *document) pos(path string) Pos {
	if n, ok := d.nodes[path]; ok && n.Line > 0 {
		return nodePos(d.file, n)
	}
	for path != "" {
		path = d.parent(path)
		if d.has(path) {
			return d.keyPos(path)
		}
	}
	return nodePos(d.file, d.root)
}

// errPos returns where an error about the field at path is best shown: at
// its key when it holds a mapping or a list, at its value when it is a plain
// value.
func (d *document) errPos(path string) Pos {
	if n, ok := d.nodes[path]; ok && n.Line > 0 && n.Kind == yaml.ScalarNode {
		return nodePos(d.file, n)
	}
	return d.keyPos(path)
}

// shadowed reports whether an error at path concerns a field the schema
// already reported an error at, in, or under: one mistake is reported once.
func (d *document) shadowed(path string) bool {
	for _, s := range d.schemaErrs {
		if within(path, s) || within(s, path) {
			return true
		}
	}
	return false
}

// within reports whether path is base or a field under it.
func within(path, base string) bool {
	if !strings.HasPrefix(path, base) {
		return false
	}
	rest := path[len(base):]
	return rest == "" || base == "" || rest[0] == '.' || rest[0] == '['
}

// keyPos returns the position of the key of the field at path, falling back
// to pos.
func (d *document) keyPos(path string) Pos {
	if n, ok := d.keys[path]; ok && n.Line > 0 {
		return nodePos(d.file, n)
	}
	return d.pos(path)
}

// parent returns the path of the field that holds the one at path.
func (d *document) parent(path string) string {
	if p, ok := d.up[path]; ok {
		return p
	}
	switch {
	case strings.HasSuffix(path, `"]`):
		if i := strings.LastIndex(path, `["`); i >= 0 {
			return path[:i]
		}
	case strings.HasSuffix(path, "]"):
		if i := strings.LastIndex(path, "["); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[:i]
	}
	return ""
}

// has reports whether the field at path was written in the file.
func (d *document) has(path string) bool {
	n, ok := d.nodes[path]
	return ok && n.Line > 0
}

// childPath joins a parent path and a mapping key. Keys that are not plain
// identifiers are quoted: metadata.labels["kaspr.io/app"].
func childPath(parent, key string) string {
	if !plainKey(key) {
		return parent + "[" + strconv.Quote(key) + "]"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && (r == '-' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return true
}

type converter struct {
	doc       *document
	errs      *errorList
	count     int
	depth     int
	expanding map[*yaml.Node]bool // anchors being expanded, to catch an alias inside its own anchor
	failed    bool
}

// maxDepth bounds nesting; manifests are a few levels deep.
const maxDepth = 100

func (c *converter) fail(n *yaml.Node, path, format string, args ...any) {
	c.failed = true
	c.errs.add(nodePos(c.doc.file, n), path, format, args...)
}

// convert turns a node into a JSON-like value and indexes it under path.
func (c *converter) convert(n *yaml.Node, path, parent string) any {
	c.count++
	if c.count > maxNodes {
		c.failed = true
		return nil
	}
	if c.depth >= maxDepth {
		c.fail(n, path, "nested more than %d levels deep", maxDepth)
		return nil
	}
	c.depth++
	defer func() { c.depth-- }()
	if _, seen := c.doc.nodes[path]; !seen {
		c.doc.nodes[path] = n
		if path != "" {
			c.doc.up[path] = parent
		}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil
		}
		if c.expanding[n.Alias] {
			c.fail(n, path, "alias *%s is used inside its own anchor", n.Value)
			return nil
		}
		if c.expanding == nil {
			c.expanding = map[*yaml.Node]bool{}
		}
		c.expanding[n.Alias] = true
		defer delete(c.expanding, n.Alias)
		return c.convert(n.Alias, path, parent)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		c.mapping(n, path, m)
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, item := range n.Content {
			s[i] = c.convert(item, indexPath(path, i), path)
		}
		return s
	case yaml.ScalarNode:
		return c.scalar(n, path)
	}
	return nil
}

func (c *converter) mapping(n *yaml.Node, path string, m map[string]any) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			c.fail(k, path, "a mapping key must be a plain value, found %s", describeNode(k))
			continue
		}
		key := k.Value
		kp := childPath(path, key)
		if _, dup := m[key]; dup {
			first := c.doc.keys[kp]
			c.fail(k, kp, "duplicate field %q (first set at line %d)", key, first.Line)
			continue
		}
		c.doc.keys[kp] = k
		m[key] = c.convert(v, kp, path)
	}
	// Merged fields never override written ones, wherever the merge key
	// stands, so they are taken last.
	for _, v := range merges {
		c.merge(v, path, m)
	}
}

// merge applies a YAML merge key ("<<: *defaults"): fields not already set
// are taken from the merged mapping(s).
func (c *converter) merge(v *yaml.Node, path string, m map[string]any) {
	for v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	var sources []*yaml.Node
	switch v.Kind {
	case yaml.MappingNode:
		sources = []*yaml.Node{v}
	case yaml.SequenceNode:
		sources = v.Content
	default:
		c.fail(v, path, "a merge key (<<) must refer to a mapping, found %s", describeNode(v))
		return
	}
	for _, s := range sources {
		for s.Kind == yaml.AliasNode && s.Alias != nil {
			s = s.Alias
		}
		if s.Kind != yaml.MappingNode {
			c.fail(s, path, "a merge key (<<) must refer to a mapping, found %s", describeNode(s))
			continue
		}
		sub := map[string]any{}
		c.mapping(s, path, sub)
		for k, x := range sub {
			if _, ok := m[k]; !ok {
				m[k] = x
			}
		}
	}
}

func (c *converter) scalar(n *yaml.Node, path string) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool", "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			c.fail(n, path, "cannot read %q: %v", n.Value, err)
			return nil
		}
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return n.Value // not a JSON number: let the schema say what it wanted
			}
		case uint64:
			return float64(x)
		}
		return v
	}
	return n.Value
}

// describeNode says what kind of YAML value a node holds, for messages.
func describeNode(n *yaml.Node) string {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing (null)"
	case "!!bool":
		return "boolean " + n.Value
	case "!!int":
		return "integer " + n.Value
	case "!!float":
		return "number " + n.Value
	}
	return "string " + strconv.Quote(n.Value)
}
