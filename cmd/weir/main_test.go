package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func runWeir(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

const badAgent = `apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata: {name: demo}
spec: {bootstrapServers: "localhost:9092"}
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata: {name: counter}
spec:
  input:
    topic: {name: words, valueSerialiser: json}
  processors:
    pipeline: [count]
    operations:
      - name: count
        tables: [{name: counts, paramName: counts}]
        map: {python: "def f(v, counts): return v"}
`

func writeBad(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(badAgent), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestValidateSamples(t *testing.T) {
	samples, _ := filepath.Glob("../../samples/*")
	code, stdout, stderr := runWeir(t, append([]string{"validate"}, samples...)...)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, app := range []string{"word-count", "orders", "ingest"} {
		if !strings.Contains(stdout, "ok: app "+app+":") {
			t.Errorf("stdout does not report app %s:\n%s", app, stdout)
		}
	}
}

func TestValidateReportsEveryErrorWithPosition(t *testing.T) {
	dir := writeBad(t)
	code, stdout, stderr := runWeir(t, "validate", dir)
	if code != exitInvalid {
		t.Fatalf("exit %d, want %d", code, exitInvalid)
	}
	if stdout != "" {
		t.Errorf("errors go to stderr; stdout has %q", stdout)
	}
	file := filepath.Join(dir, "app.yaml")
	want := file + `:11:26: spec.input.topic: unknown field "valueSerialiser" (did you mean "valueSerializer"?)` + "\n" +
		file + `:16:25: spec.processors.operations[0].tables[0].name: app "demo" has no table named "counts"` + "\n" +
		"2 errors\n"
	if stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
	}
}

func TestValidateJSON(t *testing.T) {
	dir := writeBad(t)
	code, stdout, _ := runWeir(t, "validate", "--format", "json", dir)
	if code != exitInvalid {
		t.Fatalf("exit %d", code)
	}
	var report struct {
		Valid  bool
		Errors []struct {
			File, Path, Message string
			Line, Column        int
		}
	}
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if report.Valid || len(report.Errors) != 2 {
		t.Fatalf("report %+v", report)
	}
	e := report.Errors[0]
	if e.File != filepath.Join(dir, "app.yaml") || e.Line != 11 || e.Column != 26 || e.Path != "spec.input.topic" || !strings.HasPrefix(e.Message, "unknown field") {
		t.Errorf("first error %+v", e)
	}

	samples, _ := filepath.Glob("../../samples/*")
	code, stdout, _ = runWeir(t, append([]string{"validate", "--format=json"}, samples...)...)
	if code != exitOK || !strings.Contains(stdout, `"valid": true`) || !strings.Contains(stdout, `"errors": []`) {
		t.Errorf("exit %d, report:\n%s", code, stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"serve", "samples"}, `unknown command "serve"`},
		{[]string{"run"}, "Usage: weir run"},
		{[]string{"dev", "--log-format", "xml", "x"}, "--log-format must be text or json"},
		{[]string{"validate"}, "Usage: weir validate"},
		{[]string{"validate", "--format", "xml", "x"}, "--format must be text or json"},
		{[]string{"schema", "KasprThing"}, `unknown kind "KasprThing"`},
		{[]string{"crds", "extra"}, "Usage: weir crds"},
	} {
		code, _, stderr := runWeir(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("weir %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
}

func TestSchema(t *testing.T) {
	for _, arg := range []string{"KasprAgent", "kagent", "kaspragents"} {
		code, stdout, stderr := runWeir(t, "schema", arg)
		if code != exitOK {
			t.Fatalf("schema %s: exit %d: %s", arg, code, stderr)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("schema %s: not JSON: %v", arg, err)
		}
		if doc["title"] != "KasprAgent" {
			t.Errorf("schema %s: title %v", arg, doc["title"])
		}
	}
	code, stdout, _ := runWeir(t, "schema")
	var all map[string]any
	if code != exitOK || json.Unmarshal([]byte(stdout), &all) != nil || !strings.HasSuffix(all["$id"].(string), "/weir.schema.json") {
		t.Errorf("schema with no kind: exit %d, %.200s", code, stdout)
	}
}

// TestCRDsOutMatchesCheckedIn is the command `make generate` runs: its output
// must be what is checked in under schemas/crds.
func TestCRDsOutMatchesCheckedIn(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runWeir(t, "crds", "--out", dir); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	written, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(written) != 6 {
		t.Fatalf("wrote %d files, want 6", len(written))
	}
	for _, p := range written {
		got, _ := os.ReadFile(p)
		want, err := os.ReadFile(filepath.Join("../../schemas/crds", filepath.Base(p)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from schemas/crds (run make generate)", filepath.Base(p))
		}
	}
	code, stdout, _ := runWeir(t, "crds")
	if code != exitOK || strings.Count(stdout, "kind: CustomResourceDefinition") != 6 {
		t.Errorf("crds to stdout: exit %d, %d CRDs", code, strings.Count(stdout, "kind: CustomResourceDefinition"))
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runWeir(t, "version")
	if code != exitOK || !regexp.MustCompile(`^weir \S+ go1\.\d+`).MatchString(stdout) {
		t.Errorf("exit %d, %q", code, stdout)
	}
}

// TestValidateCompilesCode: validate runs the load path a reload runs, code
// blocks included, so code errors come with their YAML lines.
func TestValidateCompilesCode(t *testing.T) {
	dir := t.TempDir()
	src := strings.Replace(badAgent, "valueSerialiser: json", "valueSerializer: json", 1)
	src = strings.Replace(src, `tables: [{name: counts, paramName: counts}]`, "", 1)
	src = strings.Replace(src, `map: {python: "def f(v, counts): return v"}`, "map:\n          python: |\n            def f(v):\n                class X:\n                    pass", 1)
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runWeir(t, "validate", dir)
	want := filepath.Join(dir, "app.yaml") + ":20:17: spec.processors.operations[0].map: class definitions are not supported in weir's Python"
	if code != exitInvalid || !strings.HasPrefix(stderr, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant a line starting %s", code, stderr, want)
	}
}

// TestValidateMakesThePlan: validate also makes the plan the runtime would
// run, so what only the whole app shows (a topic declared where declaring is
// off, a password file that is not there) is reported before a start.
func TestValidateMakesThePlan(t *testing.T) {
	dir := t.TempDir()
	src := `apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata: {name: demo}
spec:
  bootstrapServers: "localhost:9092"
  authentication: {type: scram-sha-256, username: weir, passwordFile: secret.txt}
  config: {topicAllowDeclare: false}
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata: {name: copy}
spec:
  input: {topic: {name: in, declare: true}}
`
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runWeir(t, "validate", dir)
	file := filepath.Join(dir, "app.yaml")
	for _, want := range []string{file + ":6:", "secret.txt", file + ":13:", "topicAllowDeclare"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr)
		}
	}
	if code != exitInvalid {
		t.Errorf("exit %d", code)
	}
}

func TestValidateEmptyFolder(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runWeir(t, "validate", dir)
	if code != exitInvalid || !strings.Contains(stderr, dir+": no manifests found") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
