package engine

import (
	"maps"
	"strconv"
	"time"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/interp"
	"github.com/weirstream/weir/spec"
)

// TablePlan is one table and its changelog.
type TablePlan struct {
	Name           string
	Spec           *spec.KasprTable
	Program        *interp.Program
	ChangelogTopic string
	Partitions     int32
	// Global tables hold every partition on every replica.
	Global          bool
	KeySerializer   string
	ValueSerializer string
	// Default returns the value of a missing key; nil: a missing key is
	// missing.
	Default *interp.Func
	// Window is nil for a plain table.
	Window            *WindowPlan
	ExtraTopicConfigs map[string]string
	Options           map[string]any
	// Changelog is the changelog topic as weir declares it.
	Changelog kafka.TopicSpec
}

// WindowKind is a window's shape.
type WindowKind string

// The window kinds.
const (
	Tumbling WindowKind = "tumbling"
	Hopping  WindowKind = "hopping"
)

// WindowPlan makes a table windowed. A tumbling window's Step is its Size.
// Expires 0: not set.
type WindowPlan struct {
	Kind    WindowKind
	Size    time.Duration
	Step    time.Duration
	Expires time.Duration
	// RelativeTo is stream (the event's timestamp), now or custom
	// (RelativeToSelector).
	RelativeTo         string
	RelativeToSelector *interp.Func
}

// JoinPlan is a foreign-key join of two tables onto a channel.
type JoinPlan struct {
	Name          string
	Spec          *spec.KasprJoin
	Program       *interp.Program
	LeftTable     string
	RightTable    string
	Left, Right   *TablePlan
	Extractor     *interp.Func
	Type          string // inner or left
	OutputChannel string
}

func (a *appCompiler) table(t *spec.KasprTable) *TablePlan {
	prog := a.compile(t)
	s := &t.Spec
	cfg := &a.app.App.Spec.Config
	p := &TablePlan{
		Name:              s.Name,
		Spec:              t,
		Program:           prog,
		ChangelogTopic:    t.ChangelogTopic(a.app.App),
		Partitions:        int32(s.Partitions),
		Global:            s.Global,
		KeySerializer:     s.KeySerializer,
		ValueSerializer:   s.ValueSerializer,
		Default:           fn(prog, "spec.defaultSelector"),
		ExtraTopicConfigs: maps.Clone(s.ExtraTopicConfigs),
		Options:           s.Options,
	}
	a.checkGeneratedTopic(t, "spec.name", p.ChangelogTopic, "changelog topic")
	changelog := map[string]string{"cleanup.policy": "compact"}
	if w := s.Window; w != nil {
		wp := &WindowPlan{RelativeTo: w.RelativeTo, RelativeToSelector: fn(prog, "spec.window.relativeToSelector")}
		switch {
		case w.Tumbling != nil:
			wp.Kind, wp.Size, wp.Expires = Tumbling, w.Tumbling.Size.Value(), w.Tumbling.Expires.Value()
			wp.Step = wp.Size
		case w.Hopping != nil:
			wp.Kind, wp.Size, wp.Step, wp.Expires = Hopping, w.Hopping.Size.Value(), w.Hopping.Step.Value(), w.Hopping.Expires.Value()
		}
		if wp.Expires > 0 {
			// A window is written to until it ends and read until it
			// expires: its changelog records can go after both.
			changelog["cleanup.policy"] = "compact,delete"
			changelog["retention.ms"] = strconv.FormatInt((wp.Size + wp.Expires).Milliseconds(), 10)
		}
		p.Window = wp
	}
	maps.Copy(changelog, s.ExtraTopicConfigs)
	p.Changelog = kafka.TopicSpec{
		Name:              p.ChangelogTopic,
		Partitions:        p.Partitions,
		ReplicationFactor: int16(cfg.TopicReplicationFactor),
		Config:            changelog,
	}
	return p
}

func (a *appCompiler) join(j *spec.KasprJoin) *JoinPlan {
	prog := a.compile(j)
	s := &j.Spec
	return &JoinPlan{
		Name:          s.Name,
		Spec:          j,
		Program:       prog,
		LeftTable:     s.LeftTable,
		RightTable:    s.RightTable,
		Left:          a.plan.Table(s.LeftTable),
		Right:         a.plan.Table(s.RightTable),
		Extractor:     fn(prog, "spec.extractor"),
		Type:          s.Type,
		OutputChannel: s.OutputChannel,
	}
}
