package lib

import (
	"sort"
	"sync"

	"go.starlark.net/starlark"
)

// builders makes each module; each runs once, on the first call to Module.
var builders = map[string]func() starlark.Value{
	"base64":      newBase64,
	"collections": newCollections,
	"datetime":    newDatetime,
	"hashlib":     newHashlib,
	"json":        newJSON,
	"math":        newMath,
	"os":          newOS,
	"random":      newRandom,
	"re":          newRe,
	"time":        newTime,
	"uuid":        newUUID,
}

var modules = sync.OnceValue(func() map[string]starlark.Value {
	m := make(map[string]starlark.Value, len(builders))
	for name, build := range builders {
		v := build()
		v.Freeze()
		m[name] = v
	}
	return m
})

// Module returns the frozen module a code block gets for "import name", and whether weir
// provides one by that name.
func Module(name string) (starlark.Value, bool) {
	v, ok := modules()[name]
	return v, ok
}

// Names returns the names of the modules weir provides, sorted.
func Names() []string {
	names := make([]string, 0, len(builders))
	for name := range builders {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
