package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/spec"
)

func TestCountKeys(t *testing.T) {
	seen := map[string]bool{}
	for i := range 3 * CountKeys {
		seen[string(countKey(i))] = true
	}
	if len(seen) != CountKeys {
		t.Errorf("%d distinct keys, want %d", len(seen), CountKeys)
	}
	cs, err := ParseCases("count,count:librdkafka")
	if err != nil || len(cs) != 2 || cs[0] != (Case{KindCount, spec.ClientFranz}) || cs[1] != (Case{KindCount, spec.ClientRdkafka}) {
		t.Errorf("%v %v", cs, err)
	}
	if _, err := ParseCases("replay"); err == nil {
		t.Error("replay is no case to ask for")
	}
}

// TestRunCount runs the passthrough and the count case with a handful of
// records, then the replay of the count's changelog, each in a child
// process.
func TestRunCount(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const n = 120
	var progress bytes.Buffer
	rep, err := Run(ctx, Config{
		Records:    n,
		Partitions: 2,
		Cases:      []Case{{KindPassthrough, spec.ClientFranz}, {KindCount, spec.ClientFranz}},
		Timeout:    30 * time.Second,
		Progress:   &progress,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if len(rep.Results) != 3 {
		t.Fatalf("%d results: %+v", len(rep.Results), rep.Results)
	}
	count, replay := rep.Results[1], rep.Results[2]
	if count.Case != KindCount || count.Outputs != n || count.RecordsPerSecond <= 0 || count.PeakRSSBytes <= 0 {
		t.Errorf("count: %+v", count)
	}
	if count.Ratio <= 0 || count.RatioOf != "passthrough/franz" {
		t.Errorf("count: ratio %v of %q", count.Ratio, count.RatioOf)
	}
	// Every input record made one committed changelog record, and a
	// runtime on an empty data dir replays them all.
	if replay.Case != KindReplay || replay.Records != n || replay.RecordsPerSecond <= 0 || replay.ReadySeconds < replay.Seconds || replay.PeakRSSBytes <= 0 {
		t.Errorf("replay: %+v", replay)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"count        franz", "replay       franz", "target: count/franz", "replay/franz: a runtime on an empty data dir replayed"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, table.String())
		}
	}
	if testing.Verbose() {
		t.Logf("\n%s\n%s", progress.String(), table.String())
	}
}
