package spec

import (
	"reflect"
	"slices"
	"testing"

	"github.com/weirstream/weir/schemas"
)

// TestStructsMatchSchemas pins the Go types to the schemas, the one
// declaration of the resource model: every field of a Go type is a property
// of its schema with a compatible type, and every property is a field.
func TestStructsMatchSchemas(t *testing.T) {
	set, err := compiledSchemas()
	if err != nil {
		t.Fatal(err)
	}
	roots := map[string]reflect.Type{
		KindApp:     reflect.TypeFor[KasprApp](),
		KindAgent:   reflect.TypeFor[KasprAgent](),
		KindTable:   reflect.TypeFor[KasprTable](),
		KindWebView: reflect.TypeFor[KasprWebView](),
		KindTask:    reflect.TypeFor[KasprTask](),
		KindJoin:    reflect.TypeFor[KasprJoin](),
	}
	if len(roots) != len(Kinds) || !slices.Equal(Kinds, schemas.Kinds) {
		t.Fatalf("spec.Kinds %v and schemas.Kinds %v differ", Kinds, schemas.Kinds)
	}
	for kind, typ := range roots {
		loc := schemas.Root(kind)
		compareType(t, set, typ, loc, set.Lookup(loc), kind)
	}
}

func compareType(t *testing.T, set *schemas.Set, typ reflect.Type, loc string, sch map[string]any, path string) {
	t.Helper()
	if sch == nil {
		t.Errorf("%s: no schema at %s", path, loc)
		return
	}
	if ref, ok := sch["$ref"].(string); ok {
		loc, sch = set.Resolve(loc, ref)
		if sch == nil {
			t.Errorf("%s: $ref %s does not resolve", path, ref)
			return
		}
	}
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	types := schemaTypes(sch)
	want := func(jsonType string) {
		if !slices.Contains(types, jsonType) {
			t.Errorf("%s: Go type %s, schema type %v (at %s)", path, typ, types, loc)
		}
	}
	switch typ.Kind() {
	case reflect.Struct:
		want("object")
		props, _ := sch["properties"].(map[string]any)
		fields := map[string]reflect.Type{}
		inlineMap := collectFields(typ, fields)
		for name, ft := range fields {
			ps, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("%s: Go field %q is not in the schema (at %s)", path, name, loc)
				continue
			}
			compareType(t, set, ft, loc+"/properties/"+name, ps, path+"."+name)
		}
		for name := range props {
			if _, ok := fields[name]; !ok {
				t.Errorf("%s: schema property %q has no Go field in %s", path, name, typ)
			}
		}
		// A struct that keeps unknown keys must have a schema that allows them;
		// a free-form schema over a struct without one (metadata) drops them.
		if ap, _ := sch["additionalProperties"].(bool); inlineMap && !ap {
			t.Errorf("%s: %s keeps unknown keys, but the schema does not allow them", path, typ)
		}
	case reflect.Map:
		want("object")
		if elem, ok := sch["additionalProperties"].(map[string]any); ok {
			compareType(t, set, typ.Elem(), loc+"/additionalProperties", elem, path+".*")
		}
	case reflect.Slice:
		want("array")
		items, _ := sch["items"].(map[string]any)
		compareType(t, set, typ.Elem(), loc+"/items", items, path+"[]")
	case reflect.String:
		want("string")
	case reflect.Int, reflect.Int64:
		want("integer")
	case reflect.Float64:
		want("number")
	case reflect.Bool:
		want("boolean")
	case reflect.Interface:
		if len(types) != 0 {
			t.Errorf("%s: Go type any, but the schema says %v", path, types)
		}
	default:
		t.Errorf("%s: Go type %s has no schema mapping", path, typ)
	}
}

// schemaTypes returns the JSON types a schema allows; a string const counts
// as string.
func schemaTypes(sch map[string]any) []string {
	switch ty := sch["type"].(type) {
	case string:
		return []string{ty}
	case []any:
		var out []string
		for _, x := range ty {
			out = append(out, x.(string))
		}
		return out
	}
	if _, ok := sch["const"].(string); ok {
		return []string{"string"}
	}
	return nil
}

// collectFields maps YAML field names to types, flattening inline structs.
// It reports whether the struct keeps unknown keys in an inline map.
func collectFields(typ reflect.Type, out map[string]reflect.Type) (inlineMap bool) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		name, inline := yamlName(f)
		switch {
		case name == "-":
		case inline && f.Type.Kind() == reflect.Map:
			inlineMap = true
		case inline:
			inlineMap = collectFields(f.Type, out) || inlineMap
		default:
			out[name] = f.Type
		}
	}
	return inlineMap
}
