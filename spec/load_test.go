package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func parseOne(t *testing.T, content string) *Bundle {
	t.Helper()
	b, err := Parse(File{Name: "m.yaml", Data: []byte(content)})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return b
}

const agentYAML = `---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: counter
spec:
  input:
    topic:
      name: words, more-words
  output:
    topics:
      - name: out
        declare: true
  processors:
    pipeline: [count]
    operations:
      - name: count
        tables:
          - name: counts
            paramName: counts
        map:
          entrypoint: count
          python: |
            def count(word, counts):
                counts[word] += 1
                return counts[word]
`

func TestDefaultsAndInheritance(t *testing.T) {
	b := parseOne(t, appYAML+"  config:\n    topicPartitions: 6\n    keySerializer: string\n---\n"+tableYAML+agentYAML)
	a := b.App("demo")
	if a == nil {
		t.Fatal("no app demo")
	}
	cfg := a.App.Spec.Config
	if cfg.WebPort != 6065 || cfg.ValueSerializer != "json" || !cfg.TopicAllowDeclare || cfg.ProcessingGuarantee != ExactlyOnce || cfg.TopicReplicationFactor != 3 {
		t.Errorf("config defaults not applied: %+v", cfg)
	}
	if cfg.CodeTimeout.Value().Seconds() != 1 {
		t.Errorf("codeTimeout = %v, want 1s", cfg.CodeTimeout.Value())
	}
	if got := a.Tables[0].Spec; got.Partitions != 6 || got.KeySerializer != "json" {
		t.Errorf("table partitions %d and key serializer %q, want 6 from the app and json", got.Partitions, got.KeySerializer)
	}
	ag := a.Agents[0]
	in := ag.Spec.Input.Topic
	if in.KeySerializer != "string" || in.ValueSerializer != "json" {
		t.Errorf("input serializers %q/%q, want the app's string/json", in.KeySerializer, in.ValueSerializer)
	}
	if got := in.Names(); len(got) != 2 || got[1] != "more-words" {
		t.Errorf("topic names %q", got)
	}
	out := ag.Spec.Output.Topics[0]
	if out.Partitions != 6 || out.Replicas != 3 {
		t.Errorf("declared output partitions/replicas %d/%d, want 6/3", out.Partitions, out.Replicas)
	}
	if a.App.ID() != "demo-app" || a.Tables[0].ChangelogTopic(a.App) != "demo-app-counts-changelog" {
		t.Errorf("ids: %s %s", a.App.ID(), a.Tables[0].ChangelogTopic(a.App))
	}
}

func TestCodeBlockPositions(t *testing.T) {
	b := parseOne(t, appYAML+"---\n"+tableYAML+agentYAML+`---
apiVersion: kaspr.io/v1alpha1
kind: KasprWebView
metadata:
  name: view
spec:
  name: view
  request: {method: GET, path: /x}
  processors:
    pipeline: [v]
    operations:
      - name: v
        map: {python: "def v(r): return 1"}
`)
	a := b.Apps[0]
	blocks := CodeBlocks(a.Agents[0])
	if len(blocks) != 1 {
		t.Fatalf("want one code block, got %d", len(blocks))
	}
	cb := blocks[0]
	if cb.Path != "spec.processors.operations[0].map" {
		t.Errorf("path %q", cb.Path)
	}
	// The agent document starts at line 14 (after the app, ---, table and
	// ---); "python: |" is on line 36 and the source begins on line 37.
	lines := strings.Split(appYAML+"---\n"+tableYAML+agentYAML, "\n")
	if got := strings.TrimSpace(lines[cb.Code.Pos.Line-1]); got != "def count(word, counts):" {
		t.Errorf("code position %v points at %q, want the first source line", cb.Code.Pos, got)
	}
	if cb.Code.Pos.Column != 13 || cb.Code.Pos.File != "m.yaml" {
		t.Errorf("code position %v, want column 13 of m.yaml", cb.Code.Pos)
	}
	wv := CodeBlocks(a.WebViews[0])[0].Code
	if wv.Pos.Column != 24 { // just inside the quote of map: {python: "..."}
		t.Errorf("flow scalar position %v, want column 24", wv.Pos)
	}
	if wv.Language() != LangPython || wv.Source() != "def v(r): return 1" {
		t.Errorf("language %q source %q", wv.Language(), wv.Source())
	}
	if got := a.Agents[0].Pos("spec.processors.operations[0].tables[0].paramName"); got.Line != 33 || got.Column != 24 {
		t.Errorf("Pos of paramName = %v, want m.yaml:33:24", got)
	}
	if got := a.App.Pos("spec.config.webPort"); got.Line != 5 {
		t.Errorf("a defaulted field is reported at its nearest written ancestor (spec: on line 5), got %v", got)
	}
}

func TestErrorsAreSortedAcrossFiles(t *testing.T) {
	bad := "apiVersion: kaspr.io/v1alpha1\nkind: KasprTable\nmetadata: {name: T}\nspec: {name: t, global: yes-please}\n"
	_, err := Parse(
		File{Name: "b.yaml", Data: []byte(bad)},
		File{Name: "a.yaml", Data: []byte(appYAML + "  replicas: many\n")},
	)
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("want Errors, got %v", err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Error())
	}
	want := []string{
		`a.yaml:7:13: spec.replicas: expected an integer, found string "many"`,
		`b.yaml:3:18: metadata.name: expected a name of lower-case letters, digits, '-' and '.' that starts and ends with a letter or digit, found string "T"`,
		`b.yaml:4:25: spec.global: expected a boolean, found string "yes-please"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSamplesValidate(t *testing.T) {
	dirs, _ := filepath.Glob("../samples/*")
	var n int
	for _, dir := range dirs {
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			continue
		}
		n++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			b, err := Load(dir)
			if err != nil {
				t.Fatalf("sample does not validate:\n%v", err)
			}
			if len(b.Apps) != 1 {
				t.Fatalf("a sample is one app, got %d", len(b.Apps))
			}
			if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
				t.Errorf("sample has no README.md")
			}
		})
	}
	if n < 3 {
		t.Fatalf("want at least 3 samples, found %d", n)
	}
	// All samples run in one process, so they must load together.
	if _, err := Load(dirs...); err != nil {
		t.Fatalf("samples do not load together:\n%v", err)
	}
}

func TestMergeKeysWrittenFieldsWin(t *testing.T) {
	data, err := os.ReadFile("testdata/valid/yaml-anchors-and-merge-keys.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(parseCase(data).files...)
	if err != nil {
		t.Fatal(err)
	}
	topics := b.Apps[0].Agents[0].Spec.Output.Topics
	if len(topics) != 3 {
		t.Fatalf("want 3 output topics, got %d", len(topics))
	}
	if b, c := topics[1], topics[2]; b.Name != "orders-b" || b.Partitions != 6 || c.Name != "orders-c" || c.ValueSerializer != "string" || c.Predicate == nil {
		t.Errorf("merged topics: %+v / %+v", b, c)
	}
}
