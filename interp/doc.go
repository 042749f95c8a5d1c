// Package interp turns the code blocks of a manifest into functions the
// engine calls. It owns the languages (python and starlark blocks run on
// go.starlark.net, python through a compatibility pre-pass; go blocks run on
// yaegi), compiling every block once at load, the bounds on every call (a
// step budget and a wall-clock budget), values (JSON straight to Starlark and
// back, and Go values for go blocks), the global `context`, tables as
// dict-like objects, fan-out, and errors that name the YAML file and line of
// the offending code line. A block whose function is one expression of its
// argument (a predicate, a key selector) is also compiled into Go closures
// that answer for the common values without the interpreter, and leave the
// rest to Starlark (fast.go).
//
// It knows nothing of Kafka, the engine or HTTP: tables reach it through the
// Table interface it defines, events through the Event struct.
package interp
