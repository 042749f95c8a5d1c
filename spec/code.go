package spec

import (
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Code is a code block: source in exactly one language key and the name of
// the function to call.
type Code struct {
	Python     string `yaml:"python,omitempty"`
	Starlark   string `yaml:"starlark,omitempty"`
	Go         string `yaml:"go,omitempty"`
	Entrypoint string `yaml:"entrypoint,omitempty"`

	// Pos is where the source text begins in its file: for a block scalar
	// (python: |) the line after the indicator. Line n of the source is at
	// line Pos.Line+n-1 of the file.
	Pos Pos `yaml:"-"`
}

// The language keys of a code block.
const (
	LangPython   = "python"
	LangStarlark = "starlark"
	LangGo       = "go"
)

// Language returns the block's language key, or "" when none is set.
func (c *Code) Language() string {
	switch {
	case c.Python != "":
		return LangPython
	case c.Starlark != "":
		return LangStarlark
	case c.Go != "":
		return LangGo
	}
	return ""
}

// Source returns the block's source text.
func (c *Code) Source() string { return c.Python + c.Starlark + c.Go }

// CodeBlock is a code block of a resource and the field path it sits at.
type CodeBlock struct {
	Path string
	Code *Code
}

// CodeBlocks lists every code block of a resource in field order.
func CodeBlocks(r Resource) []CodeBlock {
	var out []CodeBlock
	walkCode(reflect.ValueOf(r), "", func(path string, c *Code) {
		out = append(out, CodeBlock{Path: path, Code: c})
	})
	return out
}

var codeType = reflect.TypeFor[Code]()

func walkCode(v reflect.Value, path string, fn func(string, *Code)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkCode(v.Elem(), path, fn)
		}
	case reflect.Struct:
		if v.Type() == codeType {
			fn(path, v.Addr().Interface().(*Code))
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name, inline := yamlName(f)
			switch {
			case name == "-":
			case inline:
				walkCode(v.Field(i), path, fn)
			default:
				walkCode(v.Field(i), childPath(path, name), fn)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			walkCode(v.Index(i), indexPath(path, i), fn)
		}
	}
}

// yamlName returns a struct field's YAML key and whether it is inlined.
func yamlName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	if strings.Contains(opts, "inline") {
		return "", true
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, false
}

// locateCode sets the position of a code block's source text.
func (d *document) locateCode(path string, c *Code) {
	lang := c.Language()
	if lang == "" {
		c.Pos = d.pos(path)
		return
	}
	n, ok := d.nodes[childPath(path, lang)]
	if !ok || n.Line == 0 {
		c.Pos = d.pos(path)
		return
	}
	p := nodePos(d.file, n)
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		p.Line++
		p.Column = 1
		if p.Line-1 < len(d.lines) {
			line := d.lines[p.Line-1]
			p.Column = len(line) - len(strings.TrimLeft(line, " \t")) + 1
		}
	} else if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		p.Column++
	}
	c.Pos = p
}
