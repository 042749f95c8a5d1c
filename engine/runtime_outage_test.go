package engine

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
	"github.com/weirstream/weir/spec"
)

const outageApp = `
apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata:
  name: outage
spec:
  bootstrapServers: localhost:9092
  config:
    topicPartitions: 3
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata:
  name: double
spec:
  input:
    topic: {name: in, keySerializer: string, valueSerializer: json, declare: true}
  processors:
    pipeline: [double]
    operations:
      - name: double
        map:
          entrypoint: double
          python: |
            def double(n):
                return n * 2
  output:
    topics:
      - name: out
        valueSerializer: json
        declare: true
`

// TestRuntimeBrokerOutage stops the broker under load and starts it again
// on the same port with the same data: the runtime reports not ready
// meanwhile, recovers by itself, and every input has exactly one output.
func TestRuntimeBrokerOutage(t *testing.T) {
	for _, client := range runtimeClients {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			dir := t.TempDir()
			broker, err := kafkatest.Start(kfake.DataDir(dir))
			if err != nil {
				t.Fatal(err)
			}
			_, portStr, _ := net.SplitHostPort(broker.Addrs()[0])
			port, _ := strconv.Atoi(portStr)
			var current atomic.Pointer[kafkatest.Broker]
			current.Store(broker)
			t.Cleanup(func() { current.Load().Close() })

			b, err := spec.Parse(spec.File{Name: "outage.yaml", Data: []byte(outageApp)})
			if err != nil {
				t.Fatal(err)
			}
			rt := startRuntime(t, ctx, compileForBroker(t, b, broker, client))

			prod := kgoClient(t, broker, kgo.RecordRetries(1000), kgo.RetryTimeout(time.Minute))
			const n = 3000
			produced := make(chan error, 1)
			go func() {
				for i := range n {
					r := &kgo.Record{Topic: "in", Key: fmt.Appendf(nil, "k%d", i%17), Value: fmt.Appendf(nil, "%d", i)}
					if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
						produced <- fmt.Errorf("record %d: %w", i, err)
						return
					}
					if i%100 == 0 {
						time.Sleep(5 * time.Millisecond)
					}
				}
				produced <- nil
			}()

			// Wait for some output, then take the broker away for a while.
			waitFor(t, ctx, "the first outputs", func() bool { return len(rt.NotReady()) == 0 })
			time.Sleep(200 * time.Millisecond)
			current.Load().Close()
			waitFor(t, ctx, "not ready during the outage", func() bool { return len(rt.NotReady()) > 0 })
			t.Logf("during the outage: %s", strings.Join(rt.NotReady(), "; "))
			time.Sleep(time.Second)
			again, err := kafkatest.StartOn(port, kfake.DataDir(dir))
			if err != nil {
				t.Fatal(err)
			}
			current.Store(again)
			if err := <-produced; err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, "ready after the outage", func() bool { return len(rt.NotReady()) == 0 })

			got := readCommitted(t, ctx, again, n, "out")
			count := map[string]int{}
			for _, r := range got {
				count[string(r.Value)]++
			}
			lost, dup := 0, 0
			for i := range n {
				switch c := count[strconv.Itoa(2*i)]; {
				case c == 0:
					lost++
				case c > 1:
					dup += c - 1
				}
			}
			if lost > 0 || dup > 0 || len(got) != n {
				t.Fatalf("after the outage: %d outputs for %d inputs, %d lost, %d duplicated", len(got), n, lost, dup)
			}
		})
	}
}

// waitFor polls cond until it holds, failing the test when ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestTopicDrift(t *testing.T) {
	want := kafka.TopicSpec{Name: "t", Partitions: 3, Config: map[string]string{"cleanup.policy": "compact", "retention.ms": "1000"}}
	have := kafka.TopicInfo{Name: "t", Partitions: 2, Config: map[string]string{"cleanup.policy": "delete"}}
	got := strings.Join(topicDrift(want, have), "; ")
	if got != "2 partitions, declared 3; cleanup.policy=delete, declared compact" {
		t.Fatalf("drift: %q", got)
	}
	if d := topicDrift(want, kafka.TopicInfo{}); d != nil {
		t.Fatalf("drift of a topic that does not exist: %v", d)
	}
}
