package spec

// KasprTable is partitioned key-value state, backed by a compacted changelog
// topic.
type KasprTable struct {
	Object `yaml:",inline"`
	Spec   KasprTableSpec `yaml:"spec"`
}

// KasprTableSpec is the desired shape of a table.
type KasprTableSpec struct {
	Name              string            `yaml:"name"`
	Description       string            `yaml:"description,omitempty"`
	Global            bool              `yaml:"global"`
	KeySerializer     string            `yaml:"keySerializer"`
	ValueSerializer   string            `yaml:"valueSerializer"`
	Partitions        int               `yaml:"partitions,omitempty"`
	DefaultSelector   *Code             `yaml:"defaultSelector,omitempty"`
	ExtraTopicConfigs map[string]string `yaml:"extraTopicConfigs,omitempty"`
	Options           map[string]any    `yaml:"options,omitempty"`
	Window            *Window           `yaml:"window,omitempty"`
}

// Window makes a table windowed: exactly one of Tumbling and Hopping.
type Window struct {
	Tumbling           *TumblingWindow `yaml:"tumbling,omitempty"`
	Hopping            *HoppingWindow  `yaml:"hopping,omitempty"`
	RelativeTo         string          `yaml:"relativeTo"`
	RelativeToSelector *Code           `yaml:"relativeToSelector,omitempty"`
}

// TumblingWindow is fixed windows that do not overlap.
type TumblingWindow struct {
	Size    Duration `yaml:"size"`
	Expires Duration `yaml:"expires,omitempty"`
}

// HoppingWindow is fixed windows that start every Step.
type HoppingWindow struct {
	Size    Duration `yaml:"size"`
	Step    Duration `yaml:"step"`
	Expires Duration `yaml:"expires,omitempty"`
}

// ChangelogTopic is the table's changelog: <app-id>-<table>-changelog.
func (t *KasprTable) ChangelogTopic(app *KasprApp) string {
	return app.ID() + "-" + t.Spec.Name + "-changelog"
}

func (c *checker) checkTable(t *KasprTable) {
	w := t.Spec.Window
	if w == nil {
		return
	}
	const path = "spec.window"
	switch {
	case w.Tumbling != nil && w.Hopping != nil:
		c.add(t, path+".hopping", "window sets both tumbling and hopping: use one")
	case w.Tumbling == nil && w.Hopping == nil:
		c.add(t, path, "window has no kind: set tumbling or hopping")
	case w.Tumbling != nil:
		c.checkDuration(t, path+".tumbling.size", w.Tumbling.Size)
		c.checkDuration(t, path+".tumbling.expires", w.Tumbling.Expires)
	case w.Hopping != nil:
		h := w.Hopping
		c.checkDuration(t, path+".hopping.size", h.Size)
		c.checkDuration(t, path+".hopping.step", h.Step)
		c.checkDuration(t, path+".hopping.expires", h.Expires)
		if size, step := h.Size.Value(), h.Step.Value(); size > 0 && step > size {
			c.add(t, path+".hopping.step", "step %s is longer than size %s: windows would leave gaps", h.Step, h.Size)
		}
	}
	switch {
	case w.RelativeTo == "custom" && w.RelativeToSelector == nil:
		c.add(t, path+".relativeTo", "relativeTo custom needs a relativeToSelector returning the time")
	case w.RelativeTo != "custom" && w.RelativeToSelector != nil:
		c.add(t, path+".relativeToSelector", "relativeToSelector applies only with relativeTo: custom")
	}
}
