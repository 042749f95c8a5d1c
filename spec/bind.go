package spec

import (
	"slices"
)

// bind groups the resources by app: by the kaspr.io/app label, or, where the
// load holds exactly one KasprApp, to that app when the label is absent.
func (l *loader) bind(resources []Resource) *Bundle {
	b := &Bundle{}
	byName := map[string]*App{}
	for _, r := range resources {
		app, ok := r.(*KasprApp)
		if !ok {
			continue
		}
		if prev, dup := byName[app.Name()]; dup {
			l.errs.add(app.Pos("metadata.name"), "metadata.name", "KasprApp %q is already defined at %s", app.Name(), prev.App.Pos("metadata.name"))
			continue
		}
		a := &App{App: app}
		byName[app.Name()] = a
		b.Apps = append(b.Apps, a)
	}
	names := make([]string, len(b.Apps))
	for i, a := range b.Apps {
		names[i] = a.Name()
	}
	for _, r := range resources {
		if _, ok := r.(*KasprApp); ok {
			continue
		}
		a := l.appOf(r, byName, names)
		if a == nil {
			continue
		}
		switch r := r.(type) {
		case *KasprAgent:
			a.Agents = append(a.Agents, r)
		case *KasprTable:
			a.Tables = append(a.Tables, r)
		case *KasprWebView:
			a.WebViews = append(a.WebViews, r)
		case *KasprTask:
			a.Tasks = append(a.Tasks, r)
		case *KasprJoin:
			a.Joins = append(a.Joins, r)
		}
	}
	return b
}

func (l *loader) appOf(r Resource, byName map[string]*App, names []string) *App {
	o := r.object()
	label, labelled := o.Metadata.Labels[AppLabel]
	path := childPath("metadata.labels", AppLabel)
	switch {
	case labelled && byName[label] != nil:
		return byName[label]
	case labelled:
		known := ""
		if len(names) > 0 {
			known = "; the apps are " + joinQuoted(names, "and")
		}
		if hint := didYouMean(label, names); hint != "" {
			known = hint
		}
		l.errs.add(o.Pos(path), path, "no KasprApp named %q%s", label, known)
	case len(names) == 1:
		return byName[names[0]]
	case len(names) == 0:
		l.errs.add(o.Pos("metadata"), "metadata", "%s %q belongs to no app: there is no KasprApp to bind it to", o.Kind, o.Name())
	default:
		l.errs.add(o.Pos("metadata"), "metadata", "%s %q belongs to no app: with several apps (%s) it needs the label %s", o.Kind, o.Name(), joinQuoted(names, "and"), AppLabel)
	}
	return nil
}

// inherit fills in the settings a resource takes from its app: serializers,
// partitions and replicas of declared topics, table partitions, and a join's
// name and channel.
func (l *loader) inherit(a *App) {
	cfg := &a.App.Spec.Config
	serde := func(key, value *string) {
		if *key == "" {
			*key = cfg.KeySerializer
		}
		if *value == "" {
			*value = cfg.ValueSerializer
		}
	}
	declare := func(d *TopicDeclaration) {
		if !d.Declare {
			return
		}
		if d.Partitions == 0 {
			d.Partitions = cfg.TopicPartitions
		}
		if d.Replicas == 0 {
			d.Replicas = cfg.TopicReplicationFactor
		}
	}
	destination := func(d *Destination) {
		serde(&d.KeySerializer, &d.ValueSerializer)
		declare(&d.TopicDeclaration)
	}
	sends := func(p *Processors) {
		if p == nil {
			return
		}
		for i := range p.Operations {
			if ts := p.Operations[i].TopicSend; ts != nil {
				destination(&ts.Destination)
			}
		}
	}
	for _, ag := range a.Agents {
		if t := ag.Spec.Input.Topic; t != nil {
			serde(&t.KeySerializer, &t.ValueSerializer)
			declare(&t.TopicDeclaration)
		}
		if ag.Spec.Output != nil {
			for i := range ag.Spec.Output.Topics {
				destination(&ag.Spec.Output.Topics[i].Destination)
			}
		}
		sends(ag.Spec.Processors)
	}
	for _, w := range a.WebViews {
		sends(w.Spec.Processors)
	}
	for _, t := range a.Tasks {
		sends(t.Spec.Processors)
	}
	for _, t := range a.Tables {
		if t.Spec.Partitions == 0 {
			t.Spec.Partitions = cfg.TopicPartitions
		}
	}
	for _, j := range a.Joins {
		if j.Spec.Name == "" {
			j.Spec.Name = j.Name()
		}
		if j.Spec.OutputChannel == "" {
			j.Spec.OutputChannel = j.Spec.Name + "-channel"
		}
	}
}

// uniqueNames reports resources of one kind in one app that share a name.
// name returns the name and the path it is written at.
func uniqueNames[R Resource](l *loader, app string, kind string, rs []R, name func(R) (string, string)) {
	seen := map[string]R{}
	for _, r := range rs {
		n, path := name(r)
		if n == "" {
			continue
		}
		if prev, dup := seen[n]; dup {
			l.errs.add(r.Pos(path), path, "%s %q is already defined in app %q at %s", kind, n, app, prev.Pos(path))
			continue
		}
		seen[n] = r
	}
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
