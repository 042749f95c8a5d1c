package spec

// Destination is where a value is sent: a topic by name or by selector, or
// an in-process channel, with the selectors that shape the record.
type Destination struct {
	Name              string `yaml:"name,omitempty"`
	NameSelector      *Code  `yaml:"nameSelector,omitempty"`
	Channel           string `yaml:"channel,omitempty"`
	Ack               bool   `yaml:"ack"`
	KeySerializer     string `yaml:"keySerializer,omitempty"`
	ValueSerializer   string `yaml:"valueSerializer,omitempty"`
	KeySelector       *Code  `yaml:"keySelector,omitempty"`
	ValueSelector     *Code  `yaml:"valueSelector,omitempty"`
	PartitionSelector *Code  `yaml:"partitionSelector,omitempty"`
	HeadersSelector   *Code  `yaml:"headersSelector,omitempty"`
	Predicate         *Code  `yaml:"predicate,omitempty"`

	TopicDeclaration `yaml:",inline"`
}

// TopicDeclaration says how weir creates a topic that does not exist yet.
// Partitions and Replicas of a declared topic default to the app's.
type TopicDeclaration struct {
	Declare    bool              `yaml:"declare"`
	Partitions int               `yaml:"partitions,omitempty"`
	Replicas   int               `yaml:"replicas,omitempty"`
	Retention  *int64            `yaml:"retention,omitempty"`
	Compacting bool              `yaml:"compacting,omitempty"`
	Deleting   bool              `yaml:"deleting,omitempty"`
	Config     map[string]string `yaml:"config,omitempty"`
}

// OutputTopic is one output of an agent.
type OutputTopic struct {
	Destination `yaml:",inline"`
}

// TopicSend is an operation that sends its value to a topic or channel.
// With PassThrough the input value flows on; with Ack the record's metadata
// does.
type TopicSend struct {
	Destination `yaml:",inline"`
	PassThrough bool `yaml:"passThrough"`
}

// Processors is a pipeline: the operations and the order they run in.
type Processors struct {
	Pipeline   []string    `yaml:"pipeline"`
	Init       *Code       `yaml:"init,omitempty"`
	Operations []Operation `yaml:"operations"`
}

// Operation is one step of a pipeline; exactly one of Map, Filter and
// TopicSend is set.
type Operation struct {
	Name      string     `yaml:"name"`
	Tables    []TableRef `yaml:"tables,omitempty"`
	Map       *Code      `yaml:"map,omitempty"`
	Filter    *Code      `yaml:"filter,omitempty"`
	TopicSend *TopicSend `yaml:"topicSend,omitempty"`
}

// TableRef passes a table to an operation's function as a keyword argument.
type TableRef struct {
	Name      string `yaml:"name"`
	ParamName string `yaml:"paramName"`
}

// Ordered returns the operations in pipeline order. It is valid on a loaded
// bundle, where every pipeline entry names an operation.
func (p *Processors) Ordered() []*Operation {
	byName := make(map[string]*Operation, len(p.Operations))
	for i := range p.Operations {
		byName[p.Operations[i].Name] = &p.Operations[i]
	}
	out := make([]*Operation, 0, len(p.Pipeline))
	for _, name := range p.Pipeline {
		if op := byName[name]; op != nil {
			out = append(out, op)
		}
	}
	return out
}
