package bench

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/spec"
)

// DefaultApp is the app the app case runs, relative to the repository.
const DefaultApp = "samples/enrich-and-route"

// appSetup is how a case points an app at the bench: as `weir dev` does,
// bootstrapServers is overridden; the app is renamed (its group and
// transactional id follow) and its input and output topics get a suffix.
type appSetup struct {
	Path       string   `json:"path"`
	Suffix     string   `json:"suffix"`
	Client     string   `json:"client"`
	Brokers    []string `json:"brokers"`
	Partitions int      `json:"partitions"`
	Replicas   int      `json:"replicas"`
}

// benchApp is a compiled app and the topics the harness uses.
type benchApp struct {
	plan    *engine.Plan
	input   string   // the one topic its agents consume
	outputs []string // its agents' output topics
	topics  []string // every topic it declares (cleanup)
}

// loadApp loads, rewrites and compiles the app.
func loadApp(s appSetup, dataDir string) (*benchApp, error) {
	b, err := spec.Load(s.Path)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", s.Path, err)
	}
	if len(b.Apps) != 1 {
		return nil, fmt.Errorf("%s: want one app, found %d", s.Path, len(b.Apps))
	}
	a := b.Apps[0]
	if len(a.Agents) == 0 {
		return nil, fmt.Errorf("%s: app %s has no agents", s.Path, a.Name())
	}
	rename := func(t string) string { return t + "-" + s.Suffix }
	a.App.Metadata.Name = a.Name() + "-" + s.Suffix
	as := &a.App.Spec
	as.BootstrapServers = strings.Join(s.Brokers, ",")
	as.Config.KafkaClient = s.Client
	as.Config.TopicPartitions = s.Partitions
	as.Config.TopicReplicationFactor = s.Replicas
	for _, ag := range a.Agents {
		in := ag.Spec.Input.Topic
		if in == nil || in.Pattern != "" || in.Name == "" {
			return nil, fmt.Errorf("%s: agent %s: the bench feeds agents that consume topics by name", s.Path, ag.Name())
		}
		names := in.Names()
		for i, n := range names {
			names[i] = rename(n)
		}
		in.Name = strings.Join(names, ",")
		if in.Declare {
			in.Partitions = s.Partitions
		}
		if ag.Spec.Output == nil {
			continue
		}
		for i := range ag.Spec.Output.Topics {
			d := &ag.Spec.Output.Topics[i].Destination
			if d.NameSelector != nil {
				return nil, fmt.Errorf("%s: agent %s: the bench counts outputs to named topics, not a nameSelector", s.Path, ag.Name())
			}
			if d.Name != "" {
				d.Name = rename(d.Name)
				if d.Declare {
					d.Partitions = s.Partitions
				}
			}
		}
	}
	plan, err := engine.Compile(b, engine.Options{DataDir: dataDir, Env: func(string) string { return "" }})
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", s.Path, err)
	}
	if u := engine.Unsupported(plan); len(u) > 0 {
		return nil, fmt.Errorf("%s: not yet supported by the runtime: %s", s.Path, strings.Join(u, "; "))
	}
	ba := &benchApp{plan: plan}
	ap := plan.Apps[0]
	for _, ag := range ap.Agents {
		for _, t := range ag.Input.Topics {
			if ba.input != "" && ba.input != t {
				return nil, fmt.Errorf("%s: the bench feeds one input topic; the app consumes %s and %s", s.Path, ba.input, t)
			}
			ba.input = t
		}
		for _, d := range ag.Outputs {
			if d.Topic != "" && !slices.Contains(ba.outputs, d.Topic) {
				ba.outputs = append(ba.outputs, d.Topic)
			}
		}
	}
	if len(ba.outputs) == 0 {
		return nil, errors.New(s.Path + ": the app has no output topics to count")
	}
	for _, t := range ap.Topics {
		ba.topics = append(ba.topics, t.Name)
	}
	for _, t := range append([]string{ba.input}, ba.outputs...) {
		if !slices.Contains(ba.topics, t) {
			ba.topics = append(ba.topics, t)
		}
	}
	return ba, nil
}
