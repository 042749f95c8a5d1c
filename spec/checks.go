package spec

import (
	"errors"
	"regexp"
	"strings"
)

// checker runs the checks that span resources within one app.
type checker struct {
	l      *loader
	app    *App
	tables []string // table names, for messages
}

// checkApp checks the references within one app.
func (l *loader) checkApp(a *App) {
	c := &checker{l: l, app: a}
	for _, t := range a.Tables {
		c.tables = append(c.tables, t.Spec.Name)
	}
	name := a.Name()
	uniqueNames(l, name, KindAgent, a.Agents, func(r *KasprAgent) (string, string) { return r.Name(), "metadata.name" })
	uniqueNames(l, name, KindTable, a.Tables, func(r *KasprTable) (string, string) { return r.Name(), "metadata.name" })
	uniqueNames(l, name, KindWebView, a.WebViews, func(r *KasprWebView) (string, string) { return r.Name(), "metadata.name" })
	uniqueNames(l, name, KindTask, a.Tasks, func(r *KasprTask) (string, string) { return r.Name(), "metadata.name" })
	uniqueNames(l, name, KindJoin, a.Joins, func(r *KasprJoin) (string, string) { return r.Name(), "metadata.name" })
	uniqueNames(l, name, "table", a.Tables, func(r *KasprTable) (string, string) { return r.Spec.Name, "spec.name" })
	uniqueNames(l, name, "web view", a.WebViews, func(r *KasprWebView) (string, string) { return r.Spec.Name, "spec.name" })
	uniqueNames(l, name, "task", a.Tasks, func(r *KasprTask) (string, string) { return r.Spec.Name, "spec.name" })
	uniqueNames(l, name, "join", a.Joins, func(r *KasprJoin) (string, string) { return r.Spec.Name, "spec.name" })

	c.checkAppSpec(a.App)
	for _, r := range a.Agents {
		c.checkAgent(r)
	}
	for _, r := range a.Tables {
		c.checkTable(r)
	}
	for _, r := range a.WebViews {
		c.checkWebView(r)
	}
	for _, r := range a.WebViews {
		c.checkRoutes(r)
	}
	for _, r := range a.Tasks {
		c.checkTask(r)
	}
	for _, r := range a.Joins {
		c.checkJoin(r)
	}
	c.checkChannels()
	for _, r := range a.Resources() {
		for _, cb := range CodeBlocks(r) {
			c.checkCode(r, cb.Path, cb.Code)
		}
	}
}

// checkProcess checks what must hold across the apps of one process.
func (l *loader) checkProcess(b *Bundle) {
	const path = "spec.config.webPort"
	ports := map[int]*App{}
	for _, a := range b.Apps {
		port := a.App.Spec.Config.WebPort
		prev, dup := ports[port]
		if !dup {
			ports[port] = a
			continue
		}
		self, other := "", "at "+prev.App.Pos(path).String()
		if !a.App.doc.has(path) {
			self = " (the default: webPort is not set)"
		}
		if !prev.App.doc.has(path) {
			other = "its default"
		}
		l.errs.add(a.App.Pos(path), path, "web port %d%s is also used by app %q (%s); apps in one process need distinct webPort values",
			port, self, prev.Name(), other)
	}
}

// add reports a problem with the field at path of r, unless the schema has
// already reported one at, in or under that field.
func (c *checker) add(r Resource, path, format string, args ...any) {
	d := r.object().doc
	if d.shadowed(path) {
		return
	}
	c.l.errs.add(d.errPos(path), path, format, args...)
}

// checkCode checks that a code block has exactly one language and, for Go,
// an entrypoint.
func (c *checker) checkCode(r Resource, path string, code *Code) {
	var langs []string
	for _, l := range []struct {
		name, src string
	}{{LangPython, code.Python}, {LangStarlark, code.Starlark}, {LangGo, code.Go}} {
		if l.src != "" || r.object().doc.has(childPath(path, l.name)) {
			langs = append(langs, l.name)
		}
	}
	switch {
	case len(langs) == 0:
		c.add(r, path, "code block has no source: set one of python, starlark or go")
	case len(langs) > 1:
		c.add(r, childPath(path, langs[1]), "code block sets both %s and %s: a block has exactly one language key", langs[0], langs[1])
	case strings.TrimSpace(code.Source()) == "":
		c.add(r, childPath(path, langs[0]), "code block is empty")
	case langs[0] == LangGo && code.Entrypoint == "":
		c.add(r, path, "a go code block needs an entrypoint: the name of the function to call")
	}
}

// checkProcessors checks a pipeline: operation names unique, each with one
// operator, the pipeline naming existing operations once each, and the
// tables they use existing in the app.
func (c *checker) checkProcessors(r Resource, path string, p *Processors) {
	if p == nil {
		return
	}
	ops := map[string]int{}
	var names []string
	for i, op := range p.Operations {
		opPath := indexPath(childPath(path, "operations"), i)
		if op.Name != "" {
			if prev, dup := ops[op.Name]; dup {
				prevPath := childPath(indexPath(childPath(path, "operations"), prev), "name")
				c.add(r, childPath(opPath, "name"), "operation %q is already defined at %s", op.Name, r.Pos(prevPath))
			} else {
				ops[op.Name] = i
				names = append(names, op.Name)
			}
		}
		c.checkOperation(r, opPath, &op)
	}
	inPipeline := map[string]int{}
	for i, name := range p.Pipeline {
		itemPath := indexPath(childPath(path, "pipeline"), i)
		if _, ok := ops[name]; !ok {
			c.add(r, itemPath, "pipeline names %q, which is not an operation here%s", name, didYouMean(name, names))
			continue
		}
		if prev, dup := inPipeline[name]; dup {
			c.add(r, itemPath, "operation %q is already in the pipeline at %s; an operation runs once per pipeline", name, r.Pos(indexPath(childPath(path, "pipeline"), prev)))
			continue
		}
		inPipeline[name] = i
	}
}

func (c *checker) checkOperation(r Resource, path string, op *Operation) {
	var set []string
	if op.Map != nil {
		set = append(set, "map")
	}
	if op.Filter != nil {
		set = append(set, "filter")
	}
	if op.TopicSend != nil {
		set = append(set, "topicSend")
	}
	switch len(set) {
	case 0:
		c.add(r, path, "operation %q has no operator: set one of map, filter or topicSend", op.Name)
	case 1:
	default:
		c.add(r, childPath(path, set[1]), "operation %q sets both %s and %s: an operation has exactly one operator", op.Name, set[0], set[1])
	}
	params := map[string]bool{}
	for i, t := range op.Tables {
		tp := indexPath(childPath(path, "tables"), i)
		if t.Name != "" && c.app.Table(t.Name) == nil {
			c.add(r, childPath(tp, "name"), "%s", c.noTable(t.Name))
		}
		if t.ParamName == "" {
			continue
		}
		if pythonKeywords[t.ParamName] {
			c.add(r, childPath(tp, "paramName"), "%q is a Python keyword and cannot name a parameter", t.ParamName)
		}
		if params[t.ParamName] {
			c.add(r, childPath(tp, "paramName"), "parameter %q is already used by another table of this operation", t.ParamName)
		}
		params[t.ParamName] = true
	}
	if ts := op.TopicSend; ts != nil {
		c.checkDestination(r, childPath(path, "topicSend"), &ts.Destination)
	}
}

func (c *checker) noTable(name string) string {
	hint := didYouMean(name, c.tables)
	if hint == "" && len(c.tables) > 0 {
		hint = "; its tables are " + joinQuoted(c.tables, "and")
	}
	return "app " + quote(c.app.Name()) + " has no table named " + quote(name) + hint
}

// checkDestination checks that an output or topicSend names exactly one of
// a topic, a topic selector and a channel, and that a topic name is valid.
func (c *checker) checkDestination(r Resource, path string, d *Destination) {
	var set []string
	if d.Name != "" {
		set = append(set, "name")
	}
	if d.NameSelector != nil {
		set = append(set, "nameSelector")
	}
	if d.Channel != "" {
		set = append(set, "channel")
	}
	switch len(set) {
	case 0:
		c.add(r, path, "no destination: set one of name (a topic), nameSelector or channel")
	case 1:
		if d.Name != "" {
			c.checkTopicName(r, childPath(path, "name"), d.Name)
		}
	default:
		c.add(r, childPath(path, set[1]), "sets both %s and %s: a destination is exactly one of name, nameSelector or channel", set[0], set[1])
	}
}

var topicNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)

func (c *checker) checkTopicName(r Resource, path, name string) {
	if !topicNameRE.MatchString(name) || name == "." || name == ".." {
		c.add(r, path, "%q is not a valid Kafka topic name: use up to 249 letters, digits, '.', '_' and '-'", name)
	}
}

// checkDuration checks a duration field that is set, and that it is more
// than zero.
func (c *checker) checkDuration(r Resource, path string, d Duration) {
	if d == "" {
		return
	}
	v, err := ParseDuration(string(d))
	switch {
	case errors.Is(err, errDurationSyntax):
		// reported by the schema's pattern
	case err != nil:
		c.add(r, path, "%v", err)
	case v <= 0:
		c.add(r, path, "must be more than zero")
	}
}

// checkChannels checks that every channel an agent consumes has a producer
// in the app.
func (c *checker) checkChannels() {
	producers := map[string]bool{}
	addSends := func(p *Processors) {
		if p == nil {
			return
		}
		for _, op := range p.Operations {
			if op.TopicSend != nil && op.TopicSend.Channel != "" {
				producers[op.TopicSend.Channel] = true
			}
		}
	}
	for _, ag := range c.app.Agents {
		if ag.Spec.Output != nil {
			for _, t := range ag.Spec.Output.Topics {
				if t.Channel != "" {
					producers[t.Channel] = true
				}
			}
		}
		addSends(ag.Spec.Processors)
	}
	for _, w := range c.app.WebViews {
		addSends(w.Spec.Processors)
	}
	for _, t := range c.app.Tasks {
		addSends(t.Spec.Processors)
	}
	for _, j := range c.app.Joins {
		producers[j.Spec.OutputChannel] = true
	}
	known := sortedKeys(producers)
	for _, ag := range c.app.Agents {
		ch := ag.Spec.Input.Channel
		if ch == nil || ch.Name == "" || producers[ch.Name] {
			continue
		}
		hint := didYouMean(ch.Name, known)
		if hint == "" {
			hint = ": send to it from an output or topicSend with channel: " + ch.Name + ", or name it as a KasprJoin's outputChannel"
		}
		c.add(ag, "spec.input.channel.name", "nothing in app %q sends to channel %q%s", c.app.Name(), ch.Name, hint)
	}
}

// pythonKeywords cannot be parameter names.
var pythonKeywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`False None True and as assert async await break class continue def del
		elif else except finally for from global if import in is lambda nonlocal not or pass raise
		return try while with yield`) {
		pythonKeywords[k] = true
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
