package engine

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/internal/casefile"
	"github.com/weirstream/weir/interp"
	"github.com/weirstream/weir/spec"
)

var update = flag.Bool("update", false, "rewrite the errors and plan sections of testdata/plan cases with what Compile gives")

// A plan case is a txtar-style file: comment lines, then files, each
// introduced by a line "-- name --". Files named *.yaml or *.yml are the
// manifests. Three names are not files: "env" holds KEY=value lines for
// Options.Env, "errors" the exact lines Compile must report, and "plan" the
// summary (dumpPlan) of the plan it must return. Any other file is there
// for Options.ReadFile (PEM files, password files); reading anything else
// fails as a missing file does.
type planCase struct {
	*casefile.Case
	files   []spec.File
	env     map[string]string
	errors  string
	plan    string
	hasErrs bool
	hasPlan bool
}

func parsePlanCase(data []byte) planCase {
	c := planCase{Case: casefile.Parse(data), env: map[string]string{}}
	for _, s := range c.Sections {
		switch s.Name {
		case "errors":
			c.errors, c.hasErrs = s.Body, true
		case "plan":
			c.plan, c.hasPlan = s.Body, true
		case "env":
			for line := range strings.Lines(s.Body) {
				if k, v, ok := strings.Cut(strings.TrimRight(line, "\n"), "="); ok {
					c.env[k] = v
				}
			}
		default:
			c.files = append(c.files, spec.File{Name: s.Name, Data: []byte(s.Body)})
		}
	}
	return c
}

// format writes the case back with the given outcome.
func (c planCase) format(errs, plan string) []byte {
	if errs != "" {
		c.Set("errors", errs)
		c.Remove("plan")
	} else {
		c.Set("plan", plan)
		c.Remove("errors")
	}
	return c.Format()
}

func isManifest(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// compileCase loads a case's manifests and compiles them with its env and
// files, returning the error lines or the plan's summary.
func compileCase(t *testing.T, c planCase) (errs, plan string) {
	t.Helper()
	var manifests []spec.File
	others := map[string][]byte{}
	for _, f := range c.files {
		if isManifest(f.Name) {
			manifests = append(manifests, f)
		} else {
			others[f.Name] = f.Data
		}
	}
	b, err := spec.Parse(manifests...)
	if err != nil {
		t.Fatalf("the manifests do not load (a plan case must pass package spec):\n%v", err)
	}
	p, err := Compile(b, Options{
		Env: func(k string) string { return c.env[k] },
		ReadFile: func(name string) ([]byte, error) {
			if data, ok := others[name]; ok {
				return data, nil
			}
			// What os.ReadFile says of a missing file.
			return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ENOENT}
		},
	})
	if err != nil {
		var es spec.Errors
		if !errors.As(err, &es) {
			t.Fatalf("Compile returned %T, want spec.Errors: %v", err, err)
		}
		return es.Error() + "\n", ""
	}
	return "", dumpPlan(p)
}

func TestPlanCases(t *testing.T) {
	paths, _ := filepath.Glob("testdata/plan/*.txt")
	if len(paths) == 0 {
		t.Fatal("no cases in testdata/plan")
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c := parsePlanCase(data)
			errs, plan := compileCase(t, c)
			if *update {
				if err := os.WriteFile(path, c.format(errs, plan), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			switch {
			case c.hasErrs && errs == "":
				t.Fatalf("%s: compiled, want errors:\n%s--- plan\n%s", path, c.errors, plan)
			case c.hasErrs && errs != c.errors:
				t.Errorf("%s: errors differ\n--- want\n%s--- got\n%s", path, c.errors, errs)
			case c.hasPlan && errs != "":
				t.Fatalf("%s: want a plan, got errors:\n%s", path, errs)
			case c.hasPlan && plan != c.plan:
				t.Errorf("%s: plans differ\n--- want\n%s--- got\n%s", path, c.plan, plan)
			case !c.hasErrs && !c.hasPlan:
				t.Fatalf("%s has neither an errors nor a plan section", path)
			}
		})
	}
}

// dumpPlan summarizes a plan in lines a case can pin.
func dumpPlan(p *Plan) string {
	var b strings.Builder
	w := func(indent int, format string, args ...any) {
		b.WriteString(strings.Repeat("  ", indent))
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	for _, a := range p.Apps {
		w(0, "app %s id=%s group=%s client=%s guarantee=%s", a.Name, a.ID, a.Group, a.Client, guaranteeName(a.Guarantee))
		k := a.Kafka
		w(1, "brokers=%s client-id=%s transactional-id=%s", strings.Join(k.Brokers, ","), k.ClientID, a.TransactionalID)
		if tls := k.TLS; tls != nil {
			w(1, "tls ca=%s cert=%s key=%s insecure=%t", pemSummary(tls.CAPEM), pemSummary(tls.CertPEM), pemSummary(tls.KeyPEM), tls.InsecureSkipVerify)
		}
		if s := k.SASL; s != nil {
			w(1, "sasl %s user=%q password=%q", s.Mechanism, s.User, s.Password)
		}
		if len(k.Extra) > 0 {
			w(1, "kafka %s", formatConfig(k.Extra))
		}
		for _, t := range a.Topics {
			w(1, "declare %s", topicLine(t))
		}
		for _, t := range a.MustExist {
			w(1, "must-exist %s", topicLine(t))
		}
		for _, t := range a.Tables {
			w(1, "table %s changelog=%s partitions=%d global=%t serde=%s/%s default=%s", t.Name, t.ChangelogTopic, t.Partitions, t.Global, t.KeySerializer, t.ValueSerializer, funcName(t.Default))
			if wp := t.Window; wp != nil {
				w(2, "window %s size=%s step=%s expires=%s relative-to=%s", wp.Kind, wp.Size, wp.Step, wp.Expires, wp.RelativeTo)
			}
		}
		for _, ag := range a.Agents {
			in := ag.Input
			source := "topics=" + strings.Join(in.Topics, ",")
			switch {
			case in.Pattern != "":
				source = "pattern=" + in.Pattern
			case in.Channel != "":
				source = "channel=" + in.Channel
			}
			if in.Channel == "" {
				source += " serde=" + in.KeySerializer + "/" + in.ValueSerializer
			}
			w(1, "agent %s %s dead-letters=%s", ag.Name, source, ag.DeadLetterTopic)
			if ag.Take != nil {
				w(2, "take max=%d within=%s", ag.Take.Max, ag.Take.Within)
			}
			dumpOps(w, 2, ag.Ops)
			for _, d := range ag.Outputs {
				w(2, "output %s", destLine(d))
			}
		}
		for _, v := range a.WebViews {
			w(1, "webview %s %s %s (%s %d)", v.Name, v.Method, v.Path, v.Response.ContentType, v.Response.StatusCode)
			dumpOps(w, 2, v.Ops)
		}
		for _, t := range a.Tasks {
			sched := "once"
			if s := t.Schedule; s != nil {
				if s.Cron != "" {
					sched = fmt.Sprintf("cron %q in %s", s.Cron, s.Location)
				} else {
					sched = "every " + s.Interval.String()
				}
			}
			w(1, "task %s %s on-leader=%t", t.Name, sched, t.OnLeader)
			dumpOps(w, 2, t.Ops)
		}
		for _, j := range a.Joins {
			w(1, "join %s %s %s->%s extractor=%s channel=%s", j.Name, j.Type, j.LeftTable, j.RightTable, funcName(j.Extractor), j.OutputChannel)
		}
	}
	return b.String()
}

func dumpOps(w func(int, string, ...any), indent int, ops []OpPlan) {
	for _, op := range ops {
		line := fmt.Sprintf("op %s %s", op.Kind, op.Name)
		if op.Func != nil {
			line += " func=" + funcName(op.Func)
		}
		for _, t := range op.Tables {
			line += fmt.Sprintf(" table %s as %s", t.Name, t.Param)
		}
		if op.Send != nil {
			line += " -> " + destLine(*op.Send)
		}
		w(indent, "%s", line)
	}
}

func destLine(d DestPlan) string {
	var parts []string
	switch {
	case d.Topic != "":
		parts = append(parts, "topic="+d.Topic)
	case d.Channel != "":
		parts = append(parts, "channel="+d.Channel)
	default:
		parts = append(parts, "topic-by="+funcName(d.NameSelector))
	}
	if d.Channel == "" {
		parts = append(parts, "serde="+d.KeySerializer+"/"+d.ValueSerializer)
	}
	for _, s := range []struct {
		name string
		f    *interp.Func
	}{{"key", d.KeySelector}, {"value", d.ValueSelector}, {"partition", d.PartitionSelector}, {"headers", d.HeadersSelector}, {"predicate", d.Predicate}} {
		if s.f != nil {
			parts = append(parts, s.name+"="+funcName(s.f))
		}
	}
	if d.Ack {
		parts = append(parts, "ack")
	}
	if d.PassThrough {
		parts = append(parts, "pass-through")
	}
	if d.Declare != nil {
		parts = append(parts, "declare")
	}
	return strings.Join(parts, " ")
}

func topicLine(t kafka.TopicSpec) string {
	s := fmt.Sprintf("%s partitions=%d replicas=%d", t.Name, t.Partitions, t.ReplicationFactor)
	if len(t.Config) > 0 {
		s += " config=" + formatConfig(t.Config)
	}
	return s
}

func funcName(f *interp.Func) string {
	if f == nil {
		return "-"
	}
	return f.Entry()
}

func pemSummary(b []byte) string {
	if b == nil {
		return "-"
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return fmt.Sprintf("%q(%d bytes)", first, len(b))
}

func guaranteeName(g kafka.Guarantee) string {
	switch g {
	case kafka.ExactlyOnce:
		return "exactly-once"
	case kafka.AtLeastOnce:
		return "at-least-once"
	}
	return fmt.Sprint(int(g))
}

// loadSamples loads every sample together, as one process runs them.
func loadSamples(t *testing.T) *spec.Bundle {
	t.Helper()
	dirs, _ := filepath.Glob("../samples/*")
	if len(dirs) < 3 {
		t.Fatalf("want at least 3 samples, found %d", len(dirs))
	}
	b, err := spec.Load(dirs...)
	if err != nil {
		t.Fatalf("samples do not load:\n%v", err)
	}
	return b
}

// compileSamples compiles the samples with opts, which reads no real
// environment and no files.
func compileSamples(t *testing.T, b *spec.Bundle, opts Options) *Plan {
	t.Helper()
	if opts.Env == nil {
		opts.Env = func(string) string { return "" }
	}
	if opts.ReadFile == nil {
		opts.ReadFile = func(name string) ([]byte, error) {
			return nil, fmt.Errorf("the samples read no files, yet %q was asked for", name)
		}
	}
	p, err := Compile(b, opts)
	if err != nil {
		t.Fatalf("samples do not compile:\n%v", err)
	}
	if len(p.Apps) != len(b.Apps) {
		t.Fatalf("%d app plans for %d apps", len(p.Apps), len(b.Apps))
	}
	return p
}

func TestSamplesCompile(t *testing.T) {
	p := compileSamples(t, loadSamples(t), Options{DataDir: "/var/lib/weir"})
	for _, name := range []string{"word-count", "ingest", "orders"} {
		a := p.App(name)
		if a == nil {
			t.Fatalf("no plan for app %q", name)
		}
		if a.Client != spec.ClientFranz || a.Guarantee != kafka.ExactlyOnce || a.TransactionalID != a.ID+"-weir" || a.DataDir != "/var/lib/weir" {
			t.Errorf("%s: client %q, guarantee %v, transactional id %q, data dir %q", name, a.Client, a.Guarantee, a.TransactionalID, a.DataDir)
		}
		if !slices.Equal(a.Kafka.Brokers, []string{"localhost:9092"}) || a.Kafka.ClientID != "weir-"+name || a.Kafka.TLS != nil || a.Kafka.SASL != nil {
			t.Errorf("%s: kafka config %+v", name, a.Kafka)
		}
		for _, ag := range a.Agents {
			if ag.Program == nil {
				t.Errorf("%s: agent %s has no program", name, ag.Name)
			}
			for _, op := range ag.Ops {
				if (op.Kind == OpTopicSend) != (op.Func == nil) {
					t.Errorf("%s: agent %s: op %s (%s) has func %v", name, ag.Name, op.Name, op.Kind, op.Func)
				}
			}
		}
	}
	if p.App("nope") != nil {
		t.Error("App of an unknown name is not nil")
	}
}

func TestSampleWordCount(t *testing.T) {
	a := compileSamples(t, loadSamples(t), Options{InstanceID: "weir-0"}).App("word-count")
	if a.TransactionalID != "word-count-app-weir-0" || a.InstanceID != "weir-0" {
		t.Errorf("transactional id %q, instance id %q", a.TransactionalID, a.InstanceID)
	}
	if len(a.Agents) != 2 {
		t.Fatalf("%d agents, want 2", len(a.Agents))
	}
	split, count := a.Agent("split-sentences"), a.Agent("count-words")
	if split == nil || count == nil {
		t.Fatal("agents split-sentences and count-words not planned")
	}
	if !slices.Equal(split.Input.Topics, []string{"sentences"}) || split.Input.KeySerializer != "raw" || split.Input.ValueSerializer != "string" {
		t.Errorf("split-sentences input %+v", split.Input)
	}
	if len(split.Ops) != 1 || split.Ops[0].Kind != OpMap || split.Ops[0].Func.Entry() != "split_words" {
		t.Errorf("split-sentences ops %+v", split.Ops)
	}
	if len(split.Outputs) != 1 {
		t.Fatalf("split-sentences outputs %+v", split.Outputs)
	}
	out := split.Outputs[0]
	if out.Topic != "words" || out.KeySelector == nil || out.KeySelector.Entry() != "key_by_word" || out.Predicate != nil || out.Declare == nil || out.Declare.Partitions != 3 || out.Declare.ReplicationFactor != 1 {
		t.Errorf("split-sentences output %+v", out)
	}
	if split.DeadLetterTopic != "word-count-app-split-sentences-dead-letters" {
		t.Errorf("dead-letter topic %q", split.DeadLetterTopic)
	}
	op := count.Ops[0]
	if len(op.Tables) != 1 || op.Tables[0].Param != "counts" || op.Tables[0].Table != a.Table("word-counts") {
		t.Errorf("count-words tables %+v", op.Tables)
	}
	table := a.Table("word-counts")
	if table.ChangelogTopic != "word-count-app-word-counts-changelog" || table.Partitions != 3 || table.Default == nil || table.Default.Entry() != "zero" {
		t.Errorf("table %+v", table)
	}
	var names []string
	for _, tp := range a.Topics {
		names = append(names, tp.Name)
	}
	want := []string{
		"sentences", "words",
		"word-count-app-word-counts-changelog",
		"word-count-app-split-sentences-dead-letters", "word-count-app-count-words-dead-letters",
	}
	if !slices.Equal(names, want) {
		t.Errorf("topics to declare\n got %q\nwant %q", names, want)
	}
	changelog := a.Topics[2]
	if changelog.Partitions != 3 || changelog.ReplicationFactor != 1 || changelog.Config["cleanup.policy"] != "compact" {
		t.Errorf("changelog %+v", changelog)
	}
	if len(a.MustExist) != 0 {
		t.Errorf("must exist %+v", a.MustExist)
	}
	sc := a.SessionConfig()
	if sc.Group != "word-count-app" || !slices.Equal(sc.Topics, []string{"sentences", "words"}) || sc.TransactionalID != a.TransactionalID || sc.InstanceID != "weir-0" {
		t.Errorf("session config %+v", sc)
	}
}

func TestSampleHTTPIngest(t *testing.T) {
	a := compileSamples(t, loadSamples(t), Options{}).App("ingest")
	if len(a.WebViews) != 2 {
		t.Fatalf("%d web views, want 2", len(a.WebViews))
	}
	post, get := a.WebViews[0], a.WebViews[1]
	if post.Name != "post-event" || post.Method != "POST" || post.Path != "/events" || len(post.PathParams) != 0 {
		t.Errorf("post-event %s %s %v", post.Method, post.Path, post.PathParams)
	}
	r := post.Response
	if r.ContentType != "application/json" || r.StatusCode != 202 ||
		funcName(r.BodySelector.OnSuccess) != "accepted" || funcName(r.BodySelector.OnError) != "rejected" ||
		r.StatusCodeSelector.OnSuccess != nil || funcName(r.StatusCodeSelector.OnError) != "error_status" ||
		r.HeadersSelector != (HandlerPlan{}) {
		t.Errorf("post-event response %+v", r)
	}
	if len(post.Ops) != 2 || post.Ops[0].Kind != OpMap || post.Ops[1].Kind != OpTopicSend {
		t.Fatalf("post-event ops %+v", post.Ops)
	}
	send := post.Ops[1].Send
	if send.Topic != "events" || !send.Ack || send.PassThrough || funcName(send.KeySelector) != "event_type" || send.KeySerializer != "json" || send.Declare != nil {
		t.Errorf("post-event send %+v", send)
	}
	if get.Method != "GET" || !slices.Equal(get.PathParams, []string{"type"}) || len(get.Ops) != 1 || get.Ops[0].Tables[0].Table != a.Table("event-counts") {
		t.Errorf("event-count %+v", get)
	}
}

// TestPrintReachesOptions checks that print() in code, init blocks
// included (they run during Compile), reaches Options.Print with its app.
func TestPrintReachesOptions(t *testing.T) {
	b, err := spec.Parse(spec.File{Name: "app.yaml", Data: []byte(`apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: demo
spec:
  bootstrapServers: localhost:9092
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: proc
spec:
  input:
    topic:
      name: in
  processors:
    pipeline: [m]
    init:
      python: |
        print("hello")
    operations:
      - name: m
        map:
          python: |
            def m(v):
                return v
`)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	_, err = Compile(b, Options{
		Env:      func(string) string { return "" },
		ReadFile: os.ReadFile,
		// The position is interp's to get right; here only the wiring counts.
		Print: func(app string, _ spec.Pos, msg string) { got = append(got, app+": "+msg) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"demo: hello"}; !slices.Equal(got, want) {
		t.Errorf("printed %q, want %q", got, want)
	}
}

// TestInstanceIDChecked checks that an instance id Kafka would refuse is
// refused at compile.
func TestInstanceIDChecked(t *testing.T) {
	b, err := spec.Parse(spec.File{Name: "app.yaml", Data: []byte("apiVersion: kaspr.io/v1alpha1\nkind: KasprApp\nmetadata:\n  name: demo\nspec:\n  bootstrapServers: localhost:9092\n")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(b, Options{InstanceID: "pod 0", Env: func(string) string { return "" }})
	if err == nil || err.Error() != `instance id "pod 0": use up to 249 letters, digits, '.', '_' and '-'` {
		t.Errorf("got %v", err)
	}
}

// TestCompileIsRepeatable compiles one bundle twice: Compile must leave the
// bundle as it found it, so that a failed reload leaves no trace.
func TestCompileIsRepeatable(t *testing.T) {
	b := loadSamples(t)
	d1 := dumpPlan(compileSamples(t, b, Options{}))
	d2 := dumpPlan(compileSamples(t, b, Options{}))
	if d1 != d2 {
		t.Errorf("two compiles differ:\n%s\n---\n%s", d1, d2)
	}
}

// TestFilesRelativeToManifest checks the defaults: os.ReadFile, and a
// relative path read from the folder of the manifest that names it, whatever
// the working directory.
func TestFilesRelativeToManifest(t *testing.T) {
	dir := t.TempDir()
	app := "apiVersion: kaspr.io/v1alpha1\nkind: KasprApp\nmetadata:\n  name: demo\nspec:\n  bootstrapServers: localhost:9092\n" +
		"  authentication:\n    type: plain\n    username: alice\n    passwordFile: secrets/password\n  tls:\n    caFile: ca.pem\n"
	if err := os.MkdirAll(filepath.Join(dir, "app", "secrets"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"app/app.yaml": app, "app/secrets/password": "s3cret\r\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b, err := spec.Load(filepath.Join(dir, "app"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(b, Options{Env: func(string) string { return "" }})
	want := filepath.Join(dir, "app", "app.yaml") + `:12:13: spec.tls.caFile: cannot read "ca.pem": no such file or directory`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "app", "ca.pem"), []byte(caPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Compile(b, Options{Env: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	k := p.App("demo").Kafka
	if k.SASL.Password != "s3cret" || string(k.TLS.CAPEM) != caPEM {
		t.Errorf("password %q, CA %q", k.SASL.Password, k.TLS.CAPEM)
	}
}

// caPEM is a self-signed test certificate (the one of testdata/plan/tls-files-read.txt).
const caPEM = `-----BEGIN CERTIFICATE-----
MIIBWDCB/6ADAgECAgEBMAoGCCqGSM49BAMCMBQxEjAQBgNVBAMTCXdlaXItdGVz
dDAeFw0yNjAxMDEwMDAwMDBaFw0zNjAxMDEwMDAwMDBaMBQxEjAQBgNVBAMTCXdl
aXItdGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABMcobGAsdm18zI1y3hSt
YHxgKqwW3rf0HdStDSg7CsKn2fKvt6gMxEtgHPUXMXlceAfefNTi4wbBUSoOh3Fk
9Q+jQjBAMA4GA1UdDwEB/wQEAwIChDAPBgNVHRMBAf8EBTADAQH/MB0GA1UdDgQW
BBRqm6/j+zjmqDKV51rujz2wcK/mFDAKBggqhkjOPQQDAgNIADBFAiEA25oHTok0
PXyVMpNoAqpmtRQTbTSJk+MIFLEBd7WkpOgCIHAkDiR+ri6oFjIE9AUELvfnuAnr
Qr8sLNbjSX5PccnL
-----END CERTIFICATE-----
`
