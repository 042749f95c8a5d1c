package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/engine/kafka/kafkatest"
)

func TestProduceConsume(t *testing.T) {
	b := kafkatest.New(t)
	brokers := strings.Join(b.Addrs(), ",")
	var out, errOut strings.Builder
	in := strings.NewReader("k1\t{\"n\": 1}\n\nk2\t{\"n\": 2}\n")
	if code := produce(in, []string{"--brokers", brokers, "--keys", "numbers"}, &out, &errOut); code != exitOK {
		t.Fatalf("produce: exit %d: %s", code, errOut.String())
	}
	if out.String() != "sent 2 records to numbers\n" {
		t.Errorf("produce said %q", out.String())
	}
	out.Reset()
	if code := produce(nil, []string{"--brokers", brokers, "--key", "k3", "--value", "three", "numbers"}, &out, &errOut); code != exitOK {
		t.Fatalf("produce --value: exit %d: %s", code, errOut.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out.Reset()
	if code := consume(ctx, []string{"--brokers", brokers, "-n", "3", "--keys", "numbers"}, &out, &errOut); code != exitOK {
		t.Fatalf("consume: exit %d: %s", code, errOut.String())
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := map[string]bool{"k1\t{\"n\": 1}": true, "k2\t{\"n\": 2}": true, "k3\tthree": true}
	if len(got) != 3 {
		t.Fatalf("consumed %q", got)
	}
	for _, line := range got {
		if !want[line] {
			t.Errorf("unexpected line %q in %q", line, got)
		}
	}
	if code := produce(strings.NewReader("no tab here\n"), []string{"--brokers", brokers, "--keys", "numbers"}, &out, &errOut); code != exitInvalid || !strings.Contains(errOut.String(), "no tab") {
		t.Errorf("a line without a tab: exit %d, %q", code, errOut.String())
	}
}
