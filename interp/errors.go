package interp

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/weirstream/weir/spec"
)

// Error is a code block's failure, at load or at call. Pos is the YAML
// position of the offending code line; for a call, Frames is the backtrace
// through the blocks' functions, outermost first.
type Error struct {
	Pos     spec.Pos
	Path    string // the field path of the block that was called
	Message string
	Frames  []Frame
}

// Frame is one call in a backtrace.
type Frame struct {
	Func string
	Pos  spec.Pos // zero for a builtin
}

func (e *Error) Error() string {
	var b strings.Builder
	if s := e.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if len(e.Frames) > 1 {
		b.WriteString("\nbacktrace (most recent call last):")
		for _, fr := range e.Frames {
			b.WriteString("\n  ")
			switch s := fr.Pos.String(); {
			case s != "":
				b.WriteString(s)
				b.WriteString(": in ")
			case !strings.HasPrefix(fr.Func, "..."):
				b.WriteString("in builtin ")
			}
			b.WriteString(fr.Func)
		}
	}
	return b.String()
}

// yamlPos turns a line and column of the block's source (from 1; column 0
// when not known) into a position in the manifest.
func (f *Func) yamlPos(line, col int) spec.Pos {
	p := f.code.Pos
	if line < 1 {
		line = 1
	}
	p.Line += line - 1
	if col > 1 {
		p.Column += col - 1
	}
	return p
}

// starlarkPos maps a position in the (translated) Starlark source back to
// the block's source and then to the manifest.
func (f *Func) starlarkPos(pos syntax.Position) spec.Pos {
	line, col := int(pos.Line), int(pos.Col)
	if f.lines != nil {
		i := line - 1
		if i >= 0 && i < len(f.lines) {
			if !f.exact[i] {
				col = 0
			}
			line = f.lines[i]
		} else {
			col = 0
		}
	}
	return f.yamlPos(line, col)
}

func (f *Func) errAt(line, col int, msg string) error {
	return &Error{Pos: f.yamlPos(line, col), Path: f.path, Message: msg}
}

func (f *Func) errAtPos(pos syntax.Position, msg string) error {
	return &Error{Pos: f.starlarkPos(pos), Path: f.path, Message: msg}
}

const cancelled = "Starlark computation cancelled: "

// keepFrames is how many calls a backtrace shows at each end.
const keepFrames = 8

// callError turns a Starlark error into an Error with the backtrace in
// YAML lines. lastTick is where the call stood at the last budget check: a
// call cancelled for its budget can stop on a loop's jump, which Starlark
// places at the function's first line, so the loop's own line is better.
func (f *Func) callError(err error, lastTick syntax.Position) error {
	var ee *starlark.EvalError
	if !errors.As(err, &ee) {
		return &Error{Pos: f.code.Pos, Path: f.path, Message: err.Error()}
	}
	e := &Error{Pos: f.code.Pos, Path: f.path, Message: strings.TrimPrefix(ee.Msg, cancelled)}
	stack := ee.CallStack
	if len(stack) > 2*keepFrames {
		// Deep recursion: the first and last calls say what happened.
		omitted := len(stack) - 2*keepFrames
		stack = append(append(stack[:keepFrames:keepFrames], starlark.CallFrame{Name: fmt.Sprintf("... %d more calls ...", omitted)}), stack[len(stack)-keepFrames:]...)
	}
	if n := len(stack); n > 0 && strings.HasPrefix(ee.Msg, cancelled) {
		if top := stack[n-1].Pos; lastTick.Filename() == top.Filename() && lastTick.Line > top.Line {
			stack[n-1].Pos = lastTick
		}
	}
	for _, fr := range stack {
		if fr.Name == "<toplevel>" && len(ee.CallStack) > 1 {
			continue
		}
		frame := Frame{Func: fr.Name}
		if b := f.prog.blocks[fr.Pos.Filename()]; b != nil {
			frame.Pos = b.starlarkPos(fr.Pos)
			e.Pos = frame.Pos
		}
		e.Frames = append(e.Frames, frame)
	}
	return e
}

// callerPos is the YAML position of the innermost frame in a block, for
// print().
func (t *Thread) callerPos(th *starlark.Thread) spec.Pos {
	for i := 0; i < th.CallStackDepth(); i++ {
		fr := th.CallFrame(i)
		if t.current != nil {
			if b := t.current.blocks[fr.Pos.Filename()]; b != nil {
				return b.starlarkPos(fr.Pos)
			}
		}
	}
	return spec.Pos{}
}

// sameLines marks the translated lines that are their source line
// unchanged.
func sameLines(src, out string, lines []int) []bool {
	in := strings.Split(src, "\n")
	exact := make([]bool, 0, len(lines))
	for i, o := range strings.Split(out, "\n") {
		if i >= len(lines) {
			break
		}
		l := lines[i] - 1
		exact = append(exact, l >= 0 && l < len(in) && in[l] == o)
	}
	for len(exact) < len(lines) {
		exact = append(exact, false)
	}
	return exact
}
