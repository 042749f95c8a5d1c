package interp

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/interp/lib"
)

// importModule returns a module for `import name` in a python block.
func importModule(name string) (Value, error) {
	if m, ok := lib.Module(name); ok {
		return m, nil
	}
	return nil, fmt.Errorf("ModuleNotFoundError: no module named %q in weir (the modules are %s)", name, strings.Join(lib.Names(), ", "))
}
