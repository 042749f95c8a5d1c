package engine

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/spec"
)

// declaration is a topic declared by a resource (declare: true).
type declaration struct {
	r     spec.Resource
	path  string // the field that declares it, such as spec.input.topic
	topic kafka.TopicSpec
}

// at returns where the declaration's field is best shown: field itself
// when written, else the declare flag.
func (d *declaration) at(field string) spec.Pos {
	if written(d.r, d.path+"."+field) {
		return d.r.Pos(d.path + "." + field)
	}
	return d.r.Pos(d.path + ".declare")
}

// declare records a topic declared at path of r and returns its spec.
// Partitions and replicas are the inherited values (package spec fills in
// the app's).
func (a *appCompiler) declare(r spec.Resource, path, name string, d *spec.TopicDeclaration) *kafka.TopicSpec {
	ts := kafka.TopicSpec{
		Name:              name,
		Partitions:        int32(d.Partitions),
		ReplicationFactor: int16(d.Replicas),
		Config:            a.topicConfig(r, path, d),
	}
	a.decls = append(a.decls, &declaration{r: r, path: path, topic: ts})
	return &ts
}

// topicConfig maps a declaration's retention, compacting, deleting and
// config onto topic config entries. A key set both by a field and by
// config is an error: which should win is not obvious.
func (a *appCompiler) topicConfig(r spec.Resource, path string, d *spec.TopicDeclaration) map[string]string {
	cfg := maps.Clone(d.Config)
	set := func(field, key, value string) {
		if _, clash := d.Config[key]; clash {
			a.errorf(r, path+"."+field, "%s sets %s, and so does config: set it once", field, key)
			return
		}
		if cfg == nil {
			cfg = map[string]string{}
		}
		cfg[key] = value
	}
	if d.Retention != nil {
		switch s := *d.Retention; {
		case s > math.MaxInt64/1000:
			a.errorf(r, path+".retention", "a retention of %d seconds is too long; -1 keeps records forever", s)
		case s < 0:
			set("retention", "retention.ms", "-1")
		default:
			set("retention", "retention.ms", strconv.FormatInt(s*1000, 10))
		}
	}
	switch {
	case d.Compacting && d.Deleting:
		set("compacting", "cleanup.policy", "compact,delete")
	case d.Compacting:
		set("compacting", "cleanup.policy", "compact")
	case d.Deleting:
		set("deleting", "cleanup.policy", "delete")
	}
	return cfg
}

// topics lists the topics the app declares, or, when it may not declare
// topics, reports each declare: true and lists the topics weir needs as
// topics that must exist.
func (a *appCompiler) topics() {
	cfg := &a.app.App.Spec.Config
	allow := cfg.TopicAllowDeclare
	byName := map[string]*declaration{}
	var declared []kafka.TopicSpec
	for _, d := range a.decls {
		if !allow {
			a.errorf(d.r, d.path+".declare", "declare: true needs spec.config.topicAllowDeclare: true in app %q", a.app.Name())
			continue
		}
		if prev, ok := byName[d.topic.Name]; ok {
			if diff := topicDiff(prev.topic, d.topic); diff != "" {
				a.errorf(d.r, d.path+".declare", "topic %q is also declared at %s, differently: %s; declare a topic alike everywhere, or once", d.topic.Name, prev.r.Pos(prev.path+".declare"), diff)
			}
			continue
		}
		byName[d.topic.Name] = d
		declared = append(declared, d.topic)
	}
	// Changelogs and dead-letter topics: weir's own, declared unless a
	// resource declares them itself.
	var own []kafka.TopicSpec
	seen := map[string]bool{}
	for _, t := range a.plan.Tables {
		if d, ok := byName[t.ChangelogTopic]; ok {
			if d.topic.Partitions != t.Partitions {
				a.errorf(d.r, d.path+".declare", "topic %q is the changelog of table %q, which has %d partitions; here it is declared with %d", d.topic.Name, t.Name, t.Partitions, d.topic.Partitions)
			}
			continue
		}
		if !seen[t.ChangelogTopic] {
			seen[t.ChangelogTopic] = true
			own = append(own, t.Changelog)
		}
	}
	for _, ag := range a.plan.Agents {
		name := ag.DeadLetterTopic
		if byName[name] != nil || seen[name] {
			continue
		}
		seen[name] = true
		own = append(own, kafka.TopicSpec{
			Name:              name,
			Partitions:        int32(cfg.TopicPartitions),
			ReplicationFactor: int16(cfg.TopicReplicationFactor),
		})
	}
	for _, t := range a.plan.Tasks {
		if !t.OnLeader {
			continue
		}
		name := a.plan.ID + "-leader"
		a.checkGeneratedTopic(t.Spec, "spec.onLeader", name, "leader topic")
		a.plan.LeaderTopic = name
		if byName[name] == nil && !seen[name] {
			seen[name] = true
			own = append(own, kafka.TopicSpec{Name: name, Partitions: 1, ReplicationFactor: int16(cfg.TopicReplicationFactor)})
		}
		break
	}
	if allow {
		a.plan.Topics = append(declared, own...)
	} else {
		a.plan.MustExist = own
	}
}

// topicDiff says how two declarations of one topic differ, or "" when they
// do not.
func topicDiff(there, here kafka.TopicSpec) string {
	var diffs []string
	if there.Partitions != here.Partitions {
		diffs = append(diffs, fmt.Sprintf("%d partitions there, %d here", there.Partitions, here.Partitions))
	}
	if there.ReplicationFactor != here.ReplicationFactor {
		diffs = append(diffs, fmt.Sprintf("%d replicas there, %d here", there.ReplicationFactor, here.ReplicationFactor))
	}
	if !maps.Equal(there.Config, here.Config) {
		diffs = append(diffs, fmt.Sprintf("config %s there, %s here", formatConfig(there.Config), formatConfig(here.Config)))
	}
	return strings.Join(diffs, ", ")
}

// formatConfig writes topic config entries in key order: {k=v, ...}.
func formatConfig(cfg map[string]string) string {
	keys := slices.Sorted(maps.Keys(cfg))
	for i, k := range keys {
		keys[i] = k + "=" + cfg[k]
	}
	return "{" + strings.Join(keys, ", ") + "}"
}

// checkCopartitioning checks that every partitioned table an agent passes
// to its operations has the partition count of the agent's input topics,
// where the app declares them: a table partition follows its source
// partition. Topics not declared here are checked by the runtime, against
// the cluster.
func (a *appCompiler) checkCopartitioning() {
	declared := map[string]*declaration{}
	for _, d := range a.decls {
		if declared[d.topic.Name] == nil {
			declared[d.topic.Name] = d
		}
	}
	for _, ag := range a.plan.Agents {
		// One error per table and declaration: the topics of one input
		// share their declaration.
		type key struct {
			table *TablePlan
			r     spec.Resource
			path  string
		}
		var order []key
		topics := map[key][]string{}
		decls := map[key]*declaration{}
		for _, op := range ag.Ops {
			for _, arg := range op.Tables {
				t := arg.Table
				if t == nil || t.Global {
					continue
				}
				for _, topic := range ag.Input.Topics {
					d := declared[topic]
					if d == nil || d.topic.Partitions == t.Partitions {
						continue
					}
					k := key{t, d.r, d.path}
					decls[k] = d
					if slices.Contains(topics[k], topic) {
						continue
					}
					if topics[k] == nil {
						order = append(order, k)
					}
					topics[k] = append(topics[k], topic)
				}
			}
		}
		for _, k := range order {
			t, d := k.table, decls[k]
			path := "spec.partitions"
			if !written(t.Spec, path) {
				path = "spec.name"
			}
			which := fmt.Sprintf("topic %q, which updates it through agent %q, is", topics[k][0], ag.Name)
			if n := len(topics[k]); n > 1 {
				which = fmt.Sprintf("topics %s, which update it through agent %q, are", quoteList(topics[k]), ag.Name)
			}
			a.errorf(t.Spec, path, "table %q has %d partitions, but %s declared with %d partitions at %s: a table must have the partitions of the topics that update it",
				t.Name, t.Partitions, which, d.topic.Partitions, d.at("partitions"))
		}
	}
}

// quoteList quotes names and joins them: "a", "b" and "c".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}
