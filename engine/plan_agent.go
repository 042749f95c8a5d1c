package engine

import (
	"fmt"
	"time"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/interp"
	"github.com/weirstream/weir/spec"
)

// AgentPlan is one agent: where it reads, its pipeline, and its outputs.
type AgentPlan struct {
	Name    string
	Spec    *spec.KasprAgent
	Program *interp.Program
	Input   InputPlan
	// Take batches events when set: operations then get a list.
	Take     *TakePlan
	Isolated bool
	// DeadLetterTopic receives the events a code block, a serializer or a
	// bound fails on.
	DeadLetterTopic string
	Ops             []OpPlan
	Outputs         []DestPlan
}

// InputPlan is an agent's source: Topics (by name) or Pattern, or Channel.
type InputPlan struct {
	Topics          []string
	Pattern         string
	Channel         string
	KeySerializer   string // topics only
	ValueSerializer string // topics only
	// Declare holds one topic per name of Topics with declare: true.
	Declare []kafka.TopicSpec
}

// TakePlan batches up to Max events, waiting at most Within.
type TakePlan struct {
	Max    int
	Within time.Duration
}

// OpKind is an operation's operator.
type OpKind string

// The operators.
const (
	OpMap       OpKind = "map"
	OpFilter    OpKind = "filter"
	OpTopicSend OpKind = "topicSend"
)

// OpPlan is one step of a pipeline, in pipeline order.
type OpPlan struct {
	Name string
	Kind OpKind
	// Path is the operation's field path, spec.processors.operations[i].
	Path string
	// Func is the map or filter code; nil for a topicSend, whose code is
	// in its selectors.
	Func   *interp.Func
	Tables []TableArg
	// Send is the destination of a topicSend.
	Send *DestPlan
}

// TableArg passes a table to an operation as the keyword argument Param.
type TableArg struct {
	Name  string
	Param string
	Table *TablePlan
}

// DestPlan is where an output or a topicSend sends: a topic by name or by
// NameSelector, or a channel. Each selector is nil when absent.
type DestPlan struct {
	// Path is the destination's field path, such as spec.output.topics[0].
	Path              string
	Topic             string
	Channel           string
	NameSelector      *interp.Func
	KeySelector       *interp.Func
	ValueSelector     *interp.Func
	PartitionSelector *interp.Func
	HeadersSelector   *interp.Func
	Predicate         *interp.Func
	KeySerializer     string
	ValueSerializer   string
	// Ack waits for the broker's acknowledgement and passes on the
	// record's metadata (see the package doc for exactly-once).
	Ack bool
	// PassThrough (topicSend) passes the input value on.
	PassThrough bool
	// Declare is the topic to declare, nil unless declare: true.
	Declare *kafka.TopicSpec
}

func (a *appCompiler) agent(ag *spec.KasprAgent) *AgentPlan {
	prog := a.compile(ag)
	s := &ag.Spec
	p := &AgentPlan{
		Name:            ag.Name(),
		Spec:            ag,
		Program:         prog,
		Isolated:        s.IsolatedPartitions,
		DeadLetterTopic: a.app.App.Spec.Config.DeadLetterTopic,
	}
	if p.DeadLetterTopic == "" {
		p.DeadLetterTopic = a.plan.ID + "-" + ag.Name() + "-dead-letters"
		a.checkGeneratedTopic(ag, "metadata.name", p.DeadLetterTopic, "dead-letter topic")
	}
	switch in := s.Input; {
	case in.Topic != nil:
		t := in.Topic
		p.Input = InputPlan{Pattern: t.Pattern, KeySerializer: t.KeySerializer, ValueSerializer: t.ValueSerializer}
		if t.Pattern == "" {
			p.Input.Topics = t.Names()
		}
		if t.Declare && t.Pattern == "" {
			for _, name := range p.Input.Topics {
				p.Input.Declare = append(p.Input.Declare, *a.declare(ag, "spec.input.topic", name, &t.TopicDeclaration))
			}
		}
	case in.Channel != nil:
		p.Input.Channel = in.Channel.Name
	}
	if tk := s.Input.Take; tk != nil {
		p.Take = &TakePlan{Max: tk.Max, Within: tk.Within.Value()}
	}
	p.Ops = a.ops(ag, prog, s.Processors)
	if s.Output != nil {
		for i := range s.Output.Topics {
			path := fmt.Sprintf("spec.output.topics[%d]", i)
			p.Outputs = append(p.Outputs, a.dest(ag, prog, path, &s.Output.Topics[i].Destination))
		}
	}
	return p
}

// ops plans a pipeline's operations in pipeline order. Operations the
// pipeline does not name never run and are left out.
func (a *appCompiler) ops(r spec.Resource, prog *interp.Program, procs *spec.Processors) []OpPlan {
	if procs == nil {
		return nil
	}
	index := make(map[string]int, len(procs.Operations))
	for i, op := range procs.Operations {
		if _, dup := index[op.Name]; !dup {
			index[op.Name] = i
		}
	}
	out := make([]OpPlan, 0, len(procs.Pipeline))
	for _, name := range procs.Pipeline {
		i, ok := index[name]
		if !ok {
			continue
		}
		op := &procs.Operations[i]
		path := fmt.Sprintf("spec.processors.operations[%d]", i)
		o := OpPlan{Name: op.Name, Path: path}
		switch {
		case op.Map != nil:
			o.Kind, o.Func = OpMap, fn(prog, path+".map")
		case op.Filter != nil:
			o.Kind, o.Func = OpFilter, fn(prog, path+".filter")
		case op.TopicSend != nil:
			d := a.dest(r, prog, path+".topicSend", &op.TopicSend.Destination)
			d.PassThrough = op.TopicSend.PassThrough
			o.Kind, o.Send = OpTopicSend, &d
		}
		for _, t := range op.Tables {
			o.Tables = append(o.Tables, TableArg{Name: t.Name, Param: t.ParamName, Table: a.plan.Table(t.Name)})
		}
		out = append(out, o)
	}
	return out
}

// dest plans an output or a topicSend at path.
func (a *appCompiler) dest(r spec.Resource, prog *interp.Program, path string, d *spec.Destination) DestPlan {
	out := DestPlan{
		Path:              path,
		Topic:             d.Name,
		Channel:           d.Channel,
		NameSelector:      fn(prog, path+".nameSelector"),
		KeySelector:       fn(prog, path+".keySelector"),
		ValueSelector:     fn(prog, path+".valueSelector"),
		PartitionSelector: fn(prog, path+".partitionSelector"),
		HeadersSelector:   fn(prog, path+".headersSelector"),
		Predicate:         fn(prog, path+".predicate"),
		KeySerializer:     d.KeySerializer,
		ValueSerializer:   d.ValueSerializer,
		Ack:               d.Ack,
	}
	if d.Declare {
		switch {
		case d.Name != "":
			out.Declare = a.declare(r, path, d.Name, &d.TopicDeclaration)
		case d.Channel != "":
			a.errorf(r, path+".declare", "channel %q is not a topic: it cannot be declared", d.Channel)
		case d.NameSelector != nil:
			a.errorf(r, path+".declare", "a topic chosen by nameSelector cannot be declared: declare each topic it may choose where it is named, or create them beforehand")
		}
	}
	return out
}

// checkGeneratedTopic reports a topic name weir makes from a resource name
// when it is not a valid topic name (too long, in practice).
func (a *appCompiler) checkGeneratedTopic(r spec.Resource, path, topic, what string) {
	if !validKafkaName(topic) {
		a.errorf(r, path, "the %s %q is not a valid Kafka topic name (up to 249 letters, digits, '.', '_' and '-'): shorten the name", what, topic)
	}
}
