package spec

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
)

// KasprAgent consumes a topic or channel and passes each event through its
// pipeline to its outputs.
type KasprAgent struct {
	Object `yaml:",inline"`
	Spec   KasprAgentSpec `yaml:"spec"`
}

// KasprAgentSpec is the desired behaviour of an agent.
type KasprAgentSpec struct {
	Description        string       `yaml:"description,omitempty"`
	Input              AgentInput   `yaml:"input"`
	Output             *AgentOutput `yaml:"output,omitempty"`
	Processors         *Processors  `yaml:"processors,omitempty"`
	IsolatedPartitions bool         `yaml:"isolatedPartitions"`
}

// AgentInput is an agent's source: exactly one of Topic and Channel.
type AgentInput struct {
	Topic   *InputTopic   `yaml:"topic,omitempty"`
	Channel *InputChannel `yaml:"channel,omitempty"`
	Take    *Take         `yaml:"take,omitempty"`
}

// InputTopic names the topics an agent consumes: a comma-separated list in
// Name, or a regular expression in Pattern.
type InputTopic struct {
	Name            string `yaml:"name,omitempty"`
	Pattern         string `yaml:"pattern,omitempty"`
	KeySerializer   string `yaml:"keySerializer,omitempty"`
	ValueSerializer string `yaml:"valueSerializer,omitempty"`

	TopicDeclaration `yaml:",inline"`
}

// Names returns the topic names of a comma-separated Name.
func (t *InputTopic) Names() []string { return splitList(t.Name) }

// InputChannel is an in-process channel.
type InputChannel struct {
	Name string `yaml:"name"`
}

// Take batches events: up to Max, waiting at most Within.
type Take struct {
	Max    int      `yaml:"max"`
	Within Duration `yaml:"within"`
}

// AgentOutput lists where an agent's values go.
type AgentOutput struct {
	Topics []OutputTopic `yaml:"topics,omitempty"`
}

func (c *checker) checkAgent(ag *KasprAgent) {
	in := &ag.Spec.Input
	switch {
	case in.Topic != nil && in.Channel != nil:
		c.add(ag, "spec.input.channel", "input sets both topic and channel: an agent reads exactly one")
	case in.Topic == nil && in.Channel == nil:
		c.add(ag, "spec.input", "input has no source: set topic or channel")
	case in.Topic != nil:
		c.checkInputTopic(ag, in.Topic)
	}
	if in.Take != nil {
		c.checkDuration(ag, "spec.input.take.within", in.Take.Within)
	}
	if out := ag.Spec.Output; out != nil {
		for i, t := range out.Topics {
			c.checkDestination(ag, indexPath("spec.output.topics", i), &t.Destination)
		}
	}
	c.checkProcessors(ag, "spec.processors", ag.Spec.Processors)
}

func (c *checker) checkInputTopic(ag *KasprAgent, t *InputTopic) {
	const path = "spec.input.topic"
	switch {
	case t.Name != "" && t.Pattern != "":
		c.add(ag, path+".pattern", "topic sets both name and pattern: use one")
	case t.Name == "" && t.Pattern == "":
		c.add(ag, path, "topic names no topics: set name (a topic or comma-separated list) or pattern")
	case t.Pattern != "":
		if _, err := regexp.Compile(t.Pattern); err != nil {
			c.add(ag, path+".pattern", "not a valid regular expression: %s", regexpProblem(err))
		}
		if t.Declare {
			c.add(ag, path+".declare", "a pattern cannot be declared: name the topic to create it")
		}
	default:
		names := t.Names()
		if len(names) == 0 {
			c.add(ag, path+".name", "topic names no topics")
		}
		for _, n := range names {
			c.checkTopicName(ag, path+".name", n)
		}
	}
}

// regexpProblem words a regexp error without repeating the pattern.
func regexpProblem(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s in %q", se.Code, se.Expr)
	}
	return err.Error()
}
