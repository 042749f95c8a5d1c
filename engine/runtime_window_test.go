package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const windowApp = `
apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: win
spec:
  bootstrapServers: localhost:9092
  config:
    topicPartitions: 1
---
apiVersion: kaspr.io/v1alpha1
kind: KasprTable
metadata:
  name: tumbling
spec:
  name: tumbling
  defaultSelector: {entrypoint: zero, python: "def zero():\n    return 0\n"}
  window:
    tumbling: {size: 10s, expires: 30s}
---
apiVersion: kaspr.io/v1alpha1
kind: KasprTable
metadata:
  name: hopping
spec:
  name: hopping
  defaultSelector: {entrypoint: zero, python: "def zero():\n    return 0\n"}
  window:
    hopping: {size: 10s, step: 5s, expires: 1h}
---
apiVersion: kaspr.io/v1alpha1
kind: KasprTable
metadata:
  name: custom
spec:
  name: custom
  window:
    tumbling: {size: 10s}
    relativeTo: custom
    relativeToSelector:
      entrypoint: at
      python: |
        def at(v):
            return v["t"]
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: count
spec:
  input:
    topic: {name: events, keySerializer: string, valueSerializer: json, declare: true}
  processors:
    pipeline: [count]
    operations:
      - name: count
        tables:
          - {name: tumbling, paramName: tum}
          - {name: hopping, paramName: hop}
          - {name: custom, paramName: cus}
        map:
          entrypoint: count
          python: |
            def count(v, tum, hop, cus):
                k = context.event.key
                tum[k] += 1
                hop[k] += 1
                cus[k] = v["t"]
                return "%s@%d tum=%d prev=%d old=%d hop=%d hop5=%d cus=%s cusprev=%s" % (
                    k, v["t"], tum[k].current(), tum[k].delta(10), tum[k].delta("45s"),
                    hop[k].current(), hop[k].delta(5), cus[k].value(), cus[k].delta(10))
  output:
    topics:
      - name: counted
        valueSerializer: string
        declare: true
`

// TestTablesWindows checks window boundaries, hopping overlaps, a custom
// time and expiry with records whose timestamps the test sets.
func TestTablesWindows(t *testing.T) {
	for _, client := range runtimeClients {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			broker, _ := startManifest(t, ctx, client, "win.yaml", windowApp)
			base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // a multiple of every window size
			var recs []*kgo.Record
			// at is the event time in seconds after base; t is the custom time.
			for _, e := range []struct{ at, t int }{{0, 100}, {1, 101}, {7, 112}, {12, 113}, {15, 95}, {45, 200}} {
				recs = append(recs, &kgo.Record{Topic: "events", Key: []byte("a"), Timestamp: base.Add(time.Duration(e.at) * time.Second),
					Value: fmt.Appendf(nil, `{"t": %d}`, base.Unix()+int64(e.t))})
			}
			prod := kgoClient(t, broker)
			if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range readCommitted(t, ctx, broker, len(recs), "counted") {
				got = append(got, string(r.Value))
			}
			b := base.Unix()
			want := []string{
				// 0: tumbling [0,10); hopping [-5,5) and [0,10), current
				// is the latest, delta(5) reads [-5,5)
				fmt.Sprintf("a@%d tum=1 prev=0 old=0 hop=1 hop5=1 cus=%d cusprev=None", b+100, b+100),
				fmt.Sprintf("a@%d tum=2 prev=0 old=0 hop=2 hop5=2 cus=%d cusprev=None", b+101, b+101),
				// 7: hopping [0,10) and [5,15); current is [5,15)
				fmt.Sprintf("a@%d tum=3 prev=0 old=0 hop=1 hop5=3 cus=%d cusprev=%d", b+112, b+112, b+101),
				// 12: tumbling [10,20); hopping [5,15) and [10,20)
				fmt.Sprintf("a@%d tum=1 prev=3 old=0 hop=1 hop5=2 cus=%d cusprev=%d", b+113, b+113, b+101),
				// 15: delta(10) is 5, in [0,10); the custom time goes back
				fmt.Sprintf("a@%d tum=2 prev=3 old=0 hop=1 hop5=2 cus=%d cusprev=None", b+95, b+95),
				// 45: [0,10) expired at 40: old reads the default
				fmt.Sprintf("a@%d tum=1 prev=0 old=0 hop=1 hop5=1 cus=%d cusprev=None", b+200, b+200),
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}
