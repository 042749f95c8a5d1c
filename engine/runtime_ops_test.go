package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const opsApp = `
apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: ops
spec:
  bootstrapServers: localhost:9092
  config:
    topicPartitions: 2
    topicReplicationFactor: 1
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: words
  labels:
    kaspr.io/app: ops
spec:
  input:
    topic:
      name: sentences
      keySerializer: string
      valueSerializer: json
      declare: true
  processors:
    pipeline: [split, keep, copy, audit]
    operations:
      - name: split
        map:
          entrypoint: split
          python: |
            def split(v):
                return fanout(v["words"])
      - name: keep
        filter:
          entrypoint: keep
          python: |
            def keep(w):
                return w != "skip"
      - name: copy
        topicSend:
          name: copies
          passThrough: true
          declare: true
          keySerializer: string
          valueSerializer: string
          keySelector:
            entrypoint: k
            python: |
              def k(w):
                  return w
      - name: audit
        topicSend:
          name: audit
          ack: true
          declare: true
          keySerializer: string
          valueSerializer: string
  output:
    topics:
      - name: meta
        declare: true
        keySerializer: string
        valueSerializer: json
        partitionSelector:
          entrypoint: p
          python: |
            def p(m):
                return 1
        headersSelector:
          entrypoint: h
          python: |
            def h(m):
                return {"sent-to": m["topic"], "source": context.event.topic}
`

// Fan-out, filter, topicSend with passThrough and with ack (its metadata
// flows on), default key, partition and headers selectors.
func TestRuntimeOperations(t *testing.T) {
	for _, client := range runtimeClients {
		t.Run(client, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			broker, _ := startManifest(t, ctx, client, "ops.yaml", opsApp)

			const n = 10
			prod := kgoClient(t, broker)
			var recs []*kgo.Record
			var words []string
			for i := range n {
				ws := []string{fmt.Sprintf("a%d", i), "skip", fmt.Sprintf("b%d", i)}
				words = append(words, ws[0], ws[2])
				v, _ := json.Marshal(map[string]any{"words": ws})
				recs = append(recs, &kgo.Record{Topic: "sentences", Key: []byte(fmt.Sprintf("s%d", i)), Value: v})
			}
			if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			sort.Strings(words)

			values := func(rs []*kgo.Record, key bool) []string {
				var out []string
				for _, r := range rs {
					if key && string(r.Key) != string(r.Value) {
						t.Errorf("%s: key %q, value %q", r.Topic, r.Key, r.Value)
					}
					out = append(out, string(r.Value))
				}
				sort.Strings(out)
				return out
			}
			if got := values(readCommitted(t, ctx, broker, len(words), "copies"), true); strings.Join(got, ",") != strings.Join(words, ",") {
				t.Errorf("copies: %v, want %v", got, words)
			}
			audit := readCommitted(t, ctx, broker, len(words), "audit")
			if got := values(audit, false); strings.Join(got, ",") != strings.Join(words, ",") {
				t.Errorf("audit: %v, want %v", got, words)
			}
			offsets := map[string]bool{}
			for _, r := range audit {
				offsets[fmt.Sprintf("%d/%d", r.Partition, r.Offset)] = true
			}
			meta := readCommitted(t, ctx, broker, len(words), "meta")
			if len(meta) != len(words) {
				t.Errorf("meta: %d records, want %d", len(meta), len(words))
			}
			for _, r := range meta {
				var m struct {
					Topic     string
					Partition int32
					Offset    int64
				}
				if err := json.Unmarshal(r.Value, &m); err != nil {
					t.Fatal(err)
				}
				at := fmt.Sprintf("%d/%d", m.Partition, m.Offset)
				if m.Topic != "audit" || !offsets[at] {
					t.Errorf("meta %s: not an audit record's metadata", r.Value)
				}
				delete(offsets, at)
				if r.Partition != 1 || !strings.HasPrefix(string(r.Key), "s") {
					t.Errorf("meta %s: partition %d, key %q", r.Value, r.Partition, r.Key)
				}
				if h, _ := header(r, "sent-to"); h != "audit" {
					t.Errorf("meta %s: header sent-to %q", r.Value, h)
				}
				if h, _ := header(r, "source"); h != "sentences" {
					t.Errorf("meta %s: header source %q", r.Value, h)
				}
			}
		})
	}
}
