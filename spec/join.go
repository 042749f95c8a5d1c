package spec

// KasprJoin is a foreign-key join of two tables. It emits
// {"left": .., "right": ..} on its output channel whenever either side
// changes.
type KasprJoin struct {
	Object `yaml:",inline"`
	Spec   KasprJoinSpec `yaml:"spec"`
}

// KasprJoinSpec is the desired behaviour of a join. Name defaults to
// metadata.name and OutputChannel to <name>-channel.
type KasprJoinSpec struct {
	Name          string `yaml:"name"`
	Description   string `yaml:"description,omitempty"`
	LeftTable     string `yaml:"leftTable"`
	RightTable    string `yaml:"rightTable"`
	Extractor     *Code  `yaml:"extractor"`
	Type          string `yaml:"type"`
	OutputChannel string `yaml:"outputChannel"`
}

func (c *checker) checkJoin(j *KasprJoin) {
	for _, side := range []struct{ path, name string }{
		{"spec.leftTable", j.Spec.LeftTable},
		{"spec.rightTable", j.Spec.RightTable},
	} {
		if side.name != "" && c.app.Table(side.name) == nil {
			c.add(j, side.path, "%s", c.noTable(side.name))
		}
	}
}
