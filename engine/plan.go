package engine

import (
	"errors"
	"fmt"
	"os"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/interp"
	"github.com/weirstream/weir/spec"
)

// Options are what Compile takes from the process rather than from the
// manifests.
type Options struct {
	// DataDir is where the process keeps state (--data-dir).
	DataDir string
	// InstanceID names this instance of the apps (--instance-id,
	// WEIR_INSTANCE_ID): static group membership and the transactional id.
	// Empty is right for a single instance only (see the package doc).
	InstanceID string
	// Env reads an environment variable; nil: os.Getenv.
	Env func(string) string
	// ReadFile reads a file the manifests name; nil: os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// Print receives what print() writes in an app's code blocks. Programs
	// keep it: init blocks print during Compile, the others when called.
	// nil drops it.
	Print func(app string, pos spec.Pos, msg string)
}

// DefaultInstanceID stands in the transactional id when Options.InstanceID
// is empty.
const DefaultInstanceID = "weir"

// PasswordEnv is the environment variable that holds the SASL password when
// the app names no passwordFile.
const PasswordEnv = "WEIR_KAFKA_PASSWORD"

// Plan is what the runtime runs: every app of a bundle, resolved and with
// its code compiled.
type Plan struct {
	Apps       []*AppPlan
	DataDir    string
	InstanceID string
}

// App returns the plan of the app with the given name, or nil.
func (p *Plan) App(name string) *AppPlan {
	for _, a := range p.Apps {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// AppPlan is one app: one consumer group, its Kafka connection, and its
// agents, tables, web views, tasks and joins.
type AppPlan struct {
	Name string
	Spec *spec.App
	// ID is the app id, <name>-app; Group, its consumer group, is the same.
	ID    string
	Group string
	// Client is the Kafka library: spec.ClientFranz or spec.ClientRdkafka.
	Client    string
	Guarantee kafka.Guarantee
	Kafka     kafka.Config
	// InstanceID is Options.InstanceID: static membership when set.
	InstanceID string
	// TransactionalID is <id>-<instance id or "weir"> with exactly-once,
	// empty with at-least-once.
	TransactionalID string
	// Code is what the app's programs were compiled with: threads that call
	// them are made with interp.NewThread(Code).
	Code interp.Options
	// DataDir is spec.config.tableDir, else Options.DataDir.
	DataDir            string
	WebPort            int
	WebBasePath        string
	WebMetricsBasePath string

	Agents   []*AgentPlan
	Tables   []*TablePlan
	WebViews []*WebViewPlan
	Tasks    []*TaskPlan
	Joins    []*JoinPlan

	// LeaderTopic is <app-id>-leader when a task runs onLeader: the
	// single-partition topic whose consumer group chooses the replica that
	// leads the app (see leader.go). Empty otherwise.
	LeaderTopic string

	// Topics are the topics to declare when the app starts, each once:
	// declared inputs and outputs, changelogs, dead-letter topics. Empty
	// when the app may not declare topics.
	Topics []kafka.TopicSpec
	// MustExist are the topics weir needs but may not declare
	// (topicAllowDeclare: false): changelogs and dead-letter topics.
	MustExist []kafka.TopicSpec
}

// Agent returns the app's agent of that name, or nil.
func (a *AppPlan) Agent(name string) *AgentPlan {
	for _, ag := range a.Agents {
		if ag.Name == name {
			return ag
		}
	}
	return nil
}

// Table returns the app's table of that name, or nil.
func (a *AppPlan) Table(name string) *TablePlan {
	for _, t := range a.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// SessionConfig is the app's group membership: its connection, guarantee,
// group, ids, and every topic and pattern its agents consume. The runtime
// adds the callbacks.
func (a *AppPlan) SessionConfig() kafka.SessionConfig {
	sc := kafka.SessionConfig{
		Config:          a.Kafka,
		Guarantee:       a.Guarantee,
		Group:           a.Group,
		InstanceID:      a.InstanceID,
		TransactionalID: a.TransactionalID,
	}
	topics, patterns := map[string]bool{}, map[string]bool{}
	for _, ag := range a.Agents {
		for _, t := range ag.Input.Topics {
			if !topics[t] {
				topics[t] = true
				sc.Topics = append(sc.Topics, t)
			}
		}
		if p := ag.Input.Pattern; p != "" && !patterns[p] {
			patterns[p] = true
			sc.Patterns = append(sc.Patterns, p)
		}
	}
	return sc
}

// Compile turns a loaded bundle into a plan: it resolves every setting,
// compiles every code block once (running init blocks), reads the files the
// apps name, and checks what needs the whole app. Nothing is started and no
// broker is contacted. It returns the plan, or every problem found as
// spec.Errors, sorted.
func Compile(b *spec.Bundle, opts Options) (*Plan, error) {
	if opts.Env == nil {
		opts.Env = os.Getenv
	}
	if opts.ReadFile == nil {
		opts.ReadFile = os.ReadFile
	}
	c := &compiler{opts: opts}
	if id := opts.InstanceID; id != "" && !validKafkaName(id) {
		c.errs = append(c.errs, &spec.Error{Message: fmt.Sprintf("instance id %q: use up to 249 letters, digits, '.', '_' and '-'", id)})
	}
	p := &Plan{DataDir: opts.DataDir, InstanceID: opts.InstanceID}
	for _, a := range b.Apps {
		p.Apps = append(p.Apps, c.app(a))
	}
	if len(c.errs) > 0 {
		return nil, c.errs.Sorted()
	}
	return p, nil
}

// compiler collects the errors of one Compile.
type compiler struct {
	opts Options
	errs spec.Errors
}

// errorf reports a problem with the field at path of r, at its value (or,
// when the field is not written, at its nearest written ancestor).
func (c *compiler) errorf(r spec.Resource, path, format string, args ...any) {
	c.errs = append(c.errs, &spec.Error{Pos: r.Pos(path), Path: path, Message: fmt.Sprintf(format, args...)})
}

// keyErrorf reports a problem with a mapping field at path of r at its key,
// as package spec does.
func (c *compiler) keyErrorf(r spec.Resource, path, format string, args ...any) {
	c.errs = append(c.errs, &spec.Error{Pos: keyPos(r, path), Path: path, Message: fmt.Sprintf(format, args...)})
}

// merge adds the errors of another stage (interp.Compile).
func (c *compiler) merge(err error) {
	var es spec.Errors
	if errors.As(err, &es) {
		c.errs = append(c.errs, es...)
		return
	}
	var ie *interp.Error
	if errors.As(err, &ie) {
		c.errs = append(c.errs, &spec.Error{Pos: ie.Pos, Path: ie.Path, Message: ie.Message})
		return
	}
	c.errs = append(c.errs, &spec.Error{Message: err.Error()})
}

// keyPos returns the position of the key of the field at path.
func keyPos(r spec.Resource, path string) spec.Pos { return r.KeyPos(path) }

// written reports whether the field at path is written in the manifest (not
// absent, not filled in by a default).
func written(r spec.Resource, path string) bool { return r.Written(path) }

// appCompiler builds one app's plan.
type appCompiler struct {
	*compiler
	app  *spec.App
	plan *AppPlan
	// decls are the topics declared by the app's resources, in order.
	decls []*declaration
}

func (c *compiler) app(a *spec.App) *AppPlan {
	ka := a.App
	cfg := &ka.Spec.Config
	code := interp.OptionsFor(ka)
	if c.opts.Print != nil {
		name, out := a.Name(), c.opts.Print
		code.Print = func(pos spec.Pos, msg string) { out(name, pos, msg) }
	}
	p := &AppPlan{
		Name:               a.Name(),
		Spec:               a,
		ID:                 ka.ID(),
		Group:              ka.ID(),
		Client:             cfg.KafkaClient,
		Guarantee:          kafka.ExactlyOnce,
		InstanceID:         c.opts.InstanceID,
		Code:               code,
		DataDir:            c.opts.DataDir,
		WebPort:            cfg.WebPort,
		WebBasePath:        cfg.WebBasePath,
		WebMetricsBasePath: cfg.WebMetricsBasePath,
	}
	if p.Client == "" {
		p.Client = spec.ClientFranz
	}
	if cfg.TableDir != "" {
		p.DataDir = cfg.TableDir
	}
	if cfg.ProcessingGuarantee == spec.AtLeastOnce {
		p.Guarantee = kafka.AtLeastOnce
	}
	ac := &appCompiler{compiler: c, app: a, plan: p}
	ac.connection()
	for _, t := range a.Tables {
		p.Tables = append(p.Tables, ac.table(t))
	}
	for _, ag := range a.Agents {
		p.Agents = append(p.Agents, ac.agent(ag))
	}
	for _, w := range a.WebViews {
		p.WebViews = append(p.WebViews, ac.webView(w))
	}
	for _, t := range a.Tasks {
		p.Tasks = append(p.Tasks, ac.task(t))
	}
	for _, j := range a.Joins {
		p.Joins = append(p.Joins, ac.join(j))
	}
	ac.topics()
	ac.checkCopartitioning()
	return p
}

// compile compiles a resource's code blocks. On failure the errors are
// kept and nil is returned; the plan goes on being built so that every
// problem is reported at once.
func (a *appCompiler) compile(r spec.Resource) *interp.Program {
	prog, err := interp.Compile(r, a.plan.Code)
	if err != nil {
		a.merge(err)
		return nil
	}
	return prog
}

// fn returns the compiled block at path, or nil (no block there, or the
// program did not compile).
func fn(prog *interp.Program, path string) *interp.Func {
	if prog == nil {
		return nil
	}
	return prog.Func(path)
}
