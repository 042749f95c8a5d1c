package engine

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/internal/casefile"
)

// TestRunCases runs the cases of testdata/run with each client: a manifest
// runs on a new broker, the records of each "input <topic>" section are
// produced, and each "output <topic>" section lists the records a
// read_committed reader must find there, no more, no fewer.
//
// A record is a line "key value": key is a word ("-" for none), value the
// rest of the line. Output lines add " | name=value ..." for headers, except
// weir-error, whose text is checked by other tests. Outputs are compared as
// sorted lists (partitions interleave), unless the section is
// "output <topic> ordered".
func TestRunCases(t *testing.T) {
	files, err := filepath.Glob("testdata/run/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		c := casefile.Parse(data)
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		for _, client := range runtimeClients {
			t.Run(name+"/"+client, func(t *testing.T) {
				t.Parallel()
				runCase(t, file, c, client)
			})
		}
	}
}

func runCase(t *testing.T, file string, c *casefile.Case, client string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	manifest, ok := c.Get("manifest.yaml")
	if !ok {
		t.Fatalf("%s: no manifest.yaml section", file)
	}
	broker, _ := startManifest(t, ctx, client, file, manifest)

	prod := kgoClient(t, broker, kgo.AllowAutoTopicCreation())
	for _, s := range c.Sections {
		topic, ok := strings.CutPrefix(s.Name, "input ")
		if !ok {
			continue
		}
		var recs []*kgo.Record
		for _, line := range lines(s.Body) {
			key, value, _ := strings.Cut(line, " ")
			r := &kgo.Record{Topic: topic, Value: []byte(value)}
			if key != "-" {
				r.Key = []byte(key)
			}
			recs = append(recs, r)
		}
		if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("producing to %s: %v", topic, err)
		}
	}
	for _, s := range c.Sections {
		rest, ok := strings.CutPrefix(s.Name, "output ")
		if !ok {
			continue
		}
		topic, ordered := strings.CutSuffix(rest, " ordered")
		want := lines(s.Body)
		var got []string
		for _, r := range readCommitted(t, ctx, broker, len(want), topic) {
			got = append(got, formatRecord(r))
		}
		if !ordered {
			slices.Sort(want)
			slices.Sort(got)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: output %s:\ngot:\n  %s\nwant:\n  %s", file, topic, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
}

func lines(body string) []string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func formatRecord(r *kgo.Record) string {
	key := "-"
	if r.Key != nil {
		key = string(r.Key)
	}
	s := key + " " + string(r.Value)
	var hs []string
	for _, h := range r.Headers {
		if h.Key != HeaderError {
			hs = append(hs, h.Key+"="+string(h.Value))
		}
	}
	if len(hs) > 0 {
		s += " | " + strings.Join(hs, " ")
	}
	return s
}
