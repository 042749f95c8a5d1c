package lib

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"go.starlark.net/starlark"
)

// The os module: getenv and environ only, both reading a frozen snapshot of the process
// environment taken when the modules are built. Nothing else of os is offered. Variables
// whose names start with WEIR_ are weir's own settings and secrets (WEIR_KAFKA_PASSWORD,
// WEIR_API_TOKEN) and are not shown to code.

func newOS() starlark.Value {
	env := os.Environ()
	sort.Strings(env)
	environ := new(starlark.Dict)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "WEIR_") {
			continue
		}
		_ = environ.SetKey(starlark.String(k), starlark.String(v))
	}
	environ.Freeze()
	return module("os", map[string]builtinFunc{
		"getenv": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var key starlark.Value
			var dflt starlark.Value = starlark.None
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key", &key, "default?", &dflt); err != nil {
				return nil, err
			}
			if _, ok := key.(starlark.String); !ok {
				return nil, fmt.Errorf("%s: str expected, not %s", b.Name(), pyTypeName(key))
			}
			v, found, err := environ.Get(key)
			if err != nil || !found {
				return dflt, err
			}
			return v, nil
		},
	}, starlark.StringDict{"environ": environ})
}
