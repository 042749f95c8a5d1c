//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka/kafkatest"
	"github.com/weirstream/weir/spec"
)

// TestInteropWithKcat feeds weir with kcat, a Kafka tool weir shares no
// code with (librdkafka underneath), and reads what weir made with kcat:
// weir's records are plain Kafka records, with their keys, JSON values and
// headers, committed where a read_committed reader finds them.
//
// kcat comes from scripts/test-tools.sh. Without it the test is skipped,
// unless WEIR_REQUIRE_INTEROP=1 (as `make test` sets): then it fails.
func TestInteropWithKcat(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv("WEIR_REQUIRE_INTEROP") == "1" {
			t.Fatal("kcat is not on PATH and WEIR_REQUIRE_INTEROP=1: run scripts/test-tools.sh to install it")
		}
		t.Skip("kcat is not on PATH (scripts/test-tools.sh installs it)")
	}
	for _, client := range []string{spec.ClientFranz, spec.ClientRdkafka} {
		t.Run(client, func(t *testing.T) { runInterop(t, kcat, client) })
	}
}

// interopApp prices orders: from orders (keyed by kcat) to priced, keyed by
// order id, with the trace header of its input and one of its own.
func interopApp(addr, client string) string {
	return fmt.Sprintf(`apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata: {name: interop}
spec:
  bootstrapServers: %q
  config:
    kafkaClient: %s
    topicPartitions: 3
    topicReplicationFactor: 1
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata: {name: price}
spec:
  input:
    topic: {name: orders, keySerializer: string, valueSerializer: json, declare: true}
  processors:
    pipeline: [price]
    operations:
      - name: price
        map:
          python: |
            def price(order):
                return {**order, "total": order["qty"] * order["price"], "key": context.event.key}
  output:
    topics:
      - name: priced
        keySerializer: string
        valueSerializer: json
        declare: true
        keySelector:
          python: |
            def key(order):
                return order["id"]
        headersSelector:
          python: |
            def headers(order):
                return {"producer": "weir", "trace": context.event.headers.get("trace")}
`, addr, client)
}

func runInterop(t *testing.T, kcat, client string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	broker := kafkatest.New(t)
	addr := broker.Addrs()[0]
	weir := startWeir(t, "weir", writeApp(t, interopApp(addr, client)), t.TempDir(), "interop-1")

	// kcat -K: splits each line at its first colon: key, then value.
	const n = 20
	var in bytes.Buffer
	for i := range n {
		fmt.Fprintf(&in, "k-%d:{\"id\": \"o-%d\", \"qty\": %d, \"price\": 1.5}\n", i, i, i+1)
	}
	runKcat(t, ctx, kcat, &in, "-P", "-b", addr, "-t", "orders", "-K:", "-H", "trace=t-42")

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	waitFor(t, 30*time.Second, fmt.Sprintf("weir consuming the %d records kcat sent", n), func() (bool, error) {
		return groupCaughtUp(ctx, adm, "interop-app", "orders")
	})
	weir.stop() // commits what is in flight

	out := runKcat(t, ctx, kcat, nil, "-C", "-b", addr, "-t", "priced", "-o", "beginning", "-e", "-q",
		"-X", "isolation.level=read_committed", "-f", "%k\t%h\t%s\n")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if out == "" {
		lines = nil
	}
	if len(lines) != n {
		t.Fatalf("kcat read %d records from priced, want %d:\n%s", len(lines), n, out)
	}
	var ids []string
	for _, line := range lines {
		key, headers, value, ok := cut3(line)
		if !ok {
			t.Errorf("kcat printed %q, not key<TAB>headers<TAB>value", line)
			continue
		}
		var v struct {
			ID    string  `json:"id"`
			Qty   int     `json:"qty"`
			Price float64 `json:"price"`
			Total float64 `json:"total"`
			Key   string  `json:"key"`
		}
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			t.Errorf("value %q is not JSON: %v", value, err)
			continue
		}
		ids = append(ids, v.ID)
		if key != v.ID {
			t.Errorf("record of %s has key %q, want the order id", v.ID, key)
		}
		if v.Total != float64(v.Qty)*v.Price || v.Key != "k-"+strings.TrimPrefix(v.ID, "o-") {
			t.Errorf("record of %s: %s; want total qty*price and the key kcat gave", v.ID, value)
		}
		if headers != "producer=weir,trace=t-42" {
			t.Errorf("record of %s has headers %q, want producer=weir,trace=t-42", v.ID, headers)
		}
	}
	slices.Sort(ids)
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("o-%d", i)
	}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("order ids read back: %v\nwant each of %v once", ids, want)
	}
	t.Logf("%s: kcat read back %d records; the first: %s", client, len(lines), lines[0])
}

// cut3 splits a line at its first two tabs.
func cut3(line string) (a, b, c string, ok bool) {
	a, rest, ok1 := strings.Cut(line, "\t")
	b, c, ok2 := strings.Cut(rest, "\t")
	return a, b, c, ok1 && ok2
}

// runKcat runs kcat with args (and stdin) and returns what it printed.
func runKcat(t *testing.T, ctx context.Context, kcat string, stdin *bytes.Buffer, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcat, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %s: %v (within 30s?)\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}
