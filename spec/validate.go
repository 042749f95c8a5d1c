package spec

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/weirstream/weir/schemas"
)

// patternWords says in words what a pattern in the schemas expects, keyed by
// the pattern's schema location (the part after '#').
var patternWords = map[string]string{
	"/$defs/ResourceName":                             "a name of lower-case letters, digits, '-' and '.' that starts and ends with a letter or digit",
	"/$defs/TopicSafeName":                            "a name of letters, digits, '.', '_' and '-'",
	"/$defs/Identifier":                               "an identifier: letters, digits and '_', not starting with a digit",
	"/$defs/Duration":                                 `a duration such as "10s", "5m", "1h", "1d" or "1h30m"`,
	"/$defs/KasprAppSpec/properties/bootstrapServers": `a comma-separated list of host:port, such as "kafka-0:9092,kafka-1:9092"`,
	"/$defs/WebViewRequest/properties/path":           `a path starting with "/"`,
}

// validateSchema checks a document against its kind's schema and reports
// every violation in words. It returns whether the document is valid.
func validateSchema(set *schemas.Set, d *document, k string, errs *errorList) bool {
	err := set.Kind(k).Validate(d.value)
	if err == nil {
		return true
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		errs.add(d.pos(""), "", "cannot validate: %v", err)
		return false
	}
	r := schemaReporter{set: set, doc: d, errs: errs}
	r.report(ve)
	return false
}

type schemaReporter struct {
	set  *schemas.Set
	doc  *document
	errs *errorList
}

var printer = message.NewPrinter(language.English)

func (r *schemaReporter) report(ve *jsonschema.ValidationError) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			r.report(c)
		}
		return
	}
	path := r.path(ve.InstanceLocation)
	d := r.doc
	defer func() { d.schemaErrs = append(d.schemaErrs, path) }()
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			d.schemaErrs = append(d.schemaErrs, childPath(path, m))
			r.errs.add(d.keyPos(path), path, "missing required field %q", m)
		}
		return
	case *kind.AdditionalProperties:
		known := r.properties(ve.SchemaURL)
		for _, p := range k.Properties {
			fp := childPath(path, p)
			d.schemaErrs = append(d.schemaErrs, fp)
			hint := didYouMean(p, known)
			if hint == "" && len(known) > 0 {
				hint = " (the fields here are " + strings.Join(known, ", ") + ")"
			}
			r.errs.add(d.keyPos(fp), path, "unknown field %q%s", p, hint)
		}
		return
	case *kind.Type:
		r.errs.add(d.errPos(path), path, "expected %s, found %s", typeWords(k.Want), r.found(path))
	case *kind.Enum:
		r.enum(path, k)
	case *kind.Const:
		r.errs.add(d.errPos(path), path, "expected %s, found %s", display(k.Want), r.found(path))
	case *kind.Pattern:
		_, frag, _ := strings.Cut(ve.SchemaURL, "#")
		want, ok := patternWords[frag]
		if !ok {
			want = "a value matching " + k.Want
		}
		r.errs.add(d.errPos(path), path, "expected %s, found %s", want, r.found(path))
	case *kind.MinLength:
		if k.Got == 0 {
			r.errs.add(d.errPos(path), path, "must not be empty")
		} else {
			r.errs.add(d.errPos(path), path, "expected at least %d characters, found %d", k.Want, k.Got)
		}
	case *kind.MaxLength:
		r.errs.add(d.errPos(path), path, "expected at most %d characters, found %d", k.Want, k.Got)
	case *kind.Minimum:
		r.errs.add(d.errPos(path), path, "expected at least %s, found %s", ratString(k.Want), ratString(k.Got))
	case *kind.Maximum:
		r.errs.add(d.errPos(path), path, "expected at most %s, found %s", ratString(k.Want), ratString(k.Got))
	case *kind.ExclusiveMinimum:
		r.errs.add(d.errPos(path), path, "expected more than %s, found %s", ratString(k.Want), ratString(k.Got))
	case *kind.ExclusiveMaximum:
		r.errs.add(d.errPos(path), path, "expected less than %s, found %s", ratString(k.Want), ratString(k.Got))
	case *kind.InvalidJsonValue:
		r.errs.add(d.errPos(path), path, "expected a JSON value, found %s", r.found(path))
	default:
		r.errs.add(d.errPos(path), path, "%s", ve.ErrorKind.LocalizedString(printer))
	}
}

func (r *schemaReporter) enum(path string, k *kind.Enum) {
	want := make([]string, 0, len(k.Want))
	for _, w := range k.Want {
		want = append(want, fmt.Sprint(w))
	}
	got, isString := k.Got.(string)
	if isString && got == "pickle" && slices.Contains(want, "json") {
		r.errs.add(r.doc.errPos(path), path, "serializer \"pickle\" is not supported: weir cannot run pickle, which needs a Python runtime and executes code from the data it reads; use %s", quoteList(want))
		return
	}
	hint := ""
	if isString {
		hint = didYouMean(got, want)
	}
	r.errs.add(r.doc.errPos(path), path, "expected one of %s, found %s%s", quoteList(want), r.found(path), hint)
}

// path turns a schema instance location into a field path.
func (r *schemaReporter) path(loc []string) string {
	path := ""
	var v any = r.doc.value
	for _, tok := range loc {
		switch x := v.(type) {
		case map[string]any:
			path = childPath(path, tok)
			v = x[tok]
		case []any:
			i, _ := strconv.Atoi(tok)
			path = indexPath(path, i)
			if i >= 0 && i < len(x) {
				v = x[i]
			}
		}
	}
	return path
}

// found describes the value written at path.
func (r *schemaReporter) found(path string) string {
	if n, ok := r.doc.nodes[path]; ok {
		return describeNode(n)
	}
	return "nothing"
}

// properties lists the field names an object schema allows.
func (r *schemaReporter) properties(location string) []string {
	sch := r.set.Lookup(location)
	props, _ := sch["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func typeWords(want []string) string {
	words := make([]string, len(want))
	for i, w := range want {
		switch w {
		case "object":
			words[i] = "a mapping"
		case "array":
			words[i] = "a list"
		case "integer":
			words[i] = "an integer"
		case "null":
			words[i] = "nothing"
		default:
			words[i] = "a " + w
		}
	}
	return strings.Join(words, " or ")
}

func display(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	return r.FloatString(3)
}
