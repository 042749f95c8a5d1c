package control

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultLogLines is how many recent lines Logs keeps of each app.
const DefaultLogLines = 1000

// followerBuffer is how many lines a follower may fall behind before it is
// dropped (it can reconnect with Last-Event-ID).
const followerBuffer = 512

// Logs keeps the recent log lines of each app: those of the records that
// carry an "app" attribute (given to the record, or to the logger with
// With), formatted as one text line each. Followers get new lines as they
// come. Its Handler wraps the process's handler; it is safe for
// concurrent use.
type Logs struct {
	size int

	mu   sync.Mutex
	apps map[string]*ring
}

// Line is one log line of an app; Seq numbers an app's lines from 1.
type Line struct {
	Seq  int64
	Text string
}

type ring struct {
	lines []Line // circular, len <= size
	start int    // index of the oldest line once full
	next  int64  // Seq of the next line
	subs  map[*follower]struct{}
}

// follower receives an app's new lines until it is closed: by its cancel,
// when it falls behind (overflow), or when the app's lines are dropped.
type follower struct {
	ch       chan Line
	overflow bool // set before ch is closed when the follower fell behind
	ended    string
}

// NewLogs keeps perApp lines of each app; 0: DefaultLogLines.
func NewLogs(perApp int) *Logs {
	if perApp <= 0 {
		perApp = DefaultLogLines
	}
	return &Logs{size: perApp, apps: map[string]*ring{}}
}

func (l *Logs) ring(app string) *ring {
	r := l.apps[app]
	if r == nil {
		r = &ring{next: 1, subs: map[*follower]struct{}{}}
		l.apps[app] = r
	}
	return r
}

// add appends a line to an app's ring and hands it to its followers.
func (l *Logs) add(app, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.ring(app)
	ln := Line{Seq: r.next, Text: text}
	r.next++
	if len(r.lines) < l.size {
		r.lines = append(r.lines, ln)
	} else {
		r.lines[r.start] = ln
		r.start = (r.start + 1) % l.size
	}
	for f := range r.subs {
		select {
		case f.ch <- ln:
		default:
			f.overflow = true
			delete(r.subs, f)
			close(f.ch)
		}
	}
}

// ordered returns a ring's lines, oldest first; l.mu is held.
func (r *ring) ordered() []Line {
	out := make([]Line, 0, len(r.lines))
	out = append(out, r.lines[r.start:]...)
	return append(out, r.lines[:r.start]...)
}

// Recent returns up to n of an app's latest lines with a Seq above after,
// oldest first (n <= 0: all it keeps).
func (l *Logs) Recent(app string, after int64, n int) []Line {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.apps[app]
	if r == nil {
		return nil
	}
	return pick(r.ordered(), after, n)
}

func pick(lines []Line, after int64, n int) []Line {
	i := 0
	for i < len(lines) && lines[i].Seq <= after {
		i++
	}
	lines = lines[i:]
	if n > 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// Follow returns up to n of an app's latest lines after the Seq after (as
// Recent) and a follower that receives every later line. Its channel is
// closed when the follower falls behind, when the app's lines are dropped
// (Drop), or after cancel.
func (l *Logs) Follow(app string, after int64, n int) ([]Line, *follower, func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.ring(app)
	f := &follower{ch: make(chan Line, followerBuffer)}
	r.subs[f] = struct{}{}
	cancel := func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if _, ok := r.subs[f]; ok {
			delete(r.subs, f)
			close(f.ch)
		}
	}
	return pick(r.ordered(), after, n), f, cancel
}

// reason says why a follower's channel was closed; l.mu guards it.
func (l *Logs) reason(f *follower) (overflow bool, ended string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return f.overflow, f.ended
}

// Drop forgets an app's lines (the app was deleted); its followers are
// closed with why.
func (l *Logs) Drop(app, why string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.apps[app]
	if r == nil {
		return
	}
	for f := range r.subs {
		f.ended = why
		delete(r.subs, f)
		close(f.ch)
	}
	delete(l.apps, app)
}

// Handler returns a handler that passes every record to next and keeps
// the lines of those that name an app.
func (l *Logs) Handler(next slog.Handler) slog.Handler {
	return &captureHandler{next: next, logs: l}
}

// captureHandler is Logs' slog.Handler.
type captureHandler struct {
	next   slog.Handler
	logs   *Logs
	app    string // the "app" attribute given through WithAttrs
	prefix string // the other attributes given through WithAttrs, formatted
	group  string // the open groups, "a.b."
}

func (h *captureHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *captureHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.next.Handle(ctx, r)
	app := h.app
	var b strings.Builder
	if h.group == "" && app == "" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "app" {
				app = a.Value.Resolve().String()
				return false
			}
			return true
		})
	}
	if app == "" {
		return err
	}
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	b.WriteString(t.UTC().Format("2006-01-02T15:04:05.000Z"))
	b.WriteByte(' ')
	b.WriteString(r.Level.String())
	b.WriteByte(' ')
	b.WriteString(quote(r.Message))
	b.WriteString(h.prefix)
	r.Attrs(func(a slog.Attr) bool {
		if h.group == "" && a.Key == "app" {
			return true
		}
		writeAttr(&b, h.group, a)
		return true
	})
	h.logs.add(app, b.String())
	return err
}

func (h *captureHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	var b strings.Builder
	b.WriteString(h.prefix)
	for _, a := range attrs {
		if h.group == "" && a.Key == "app" {
			c.app = a.Value.Resolve().String()
			continue
		}
		writeAttr(&b, h.group, a)
	}
	c.prefix = b.String()
	return &c
}

func (h *captureHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.next = h.next.WithGroup(name)
	c.group = h.group + name + "."
	return &c
}

// writeAttr writes " key=value", groups flattened with dots.
func writeAttr(b *strings.Builder, group string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		g := group
		if a.Key != "" {
			g += a.Key + "."
		}
		for _, ga := range v.Group() {
			writeAttr(b, g, ga)
		}
		return
	}
	if a.Key == "" {
		return
	}
	b.WriteByte(' ')
	b.WriteString(quote(group + a.Key))
	b.WriteByte('=')
	b.WriteString(quote(valueText(v)))
}

func valueText(v slog.Value) string {
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().UTC().Format(time.RFC3339Nano)
	case slog.KindDuration:
		return v.Duration().String()
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return x.Error()
		case fmt.Stringer:
			return x.String()
		case []byte:
			return string(x)
		default:
			if b, err := json.Marshal(x); err == nil {
				return string(b)
			}
			return fmt.Sprint(x)
		}
	}
	return v.String()
}

// quote quotes a text that would not read as one token, as logfmt does.
func quote(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r == '=' || r == '"' || r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
