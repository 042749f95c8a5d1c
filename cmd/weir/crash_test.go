//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka/kafkatest"
	"github.com/weirstream/weir/spec"
)

// The crash tests run weir as a subprocess on a steady load, SIGKILL it in
// the middle of its work, start it again with the same instance id and
// check what reached the output topic: with exactly_once every input
// exactly once (the restarted instance fences its predecessor's open
// transaction, which is aborted), with at_least_once every input at least
// once.

const (
	crashRecords    = 30000 // input records, each with a unique id
	crashPartitions = 4     // of the input and output topics
	crashKills      = 2     // SIGKILLs per run
	crashMaxKills   = 4     // exactly_once: more kills while none interrupted a transaction
	crashInstanceID = "crash-1"
	crashGroup      = "crash-app"
)

// crashApp is the app the crash tests run: a map that stamps each record
// with where it was read, from topic in to topic out.
func crashApp(addr, client, guarantee string) string {
	return fmt.Sprintf(`apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata: {name: crash}
spec:
  bootstrapServers: %q
  config:
    kafkaClient: %s
    processingGuarantee: %s
    topicReplicationFactor: 1
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata: {name: stamp}
spec:
  input:
    topic: {name: in, keySerializer: raw, valueSerializer: json}
  processors:
    pipeline: [stamp]
    operations:
      - name: stamp
        map:
          python: |
            def stamp(rec):
                return {**rec, "from": context.event.partition, "offset": context.event.offset}
  output:
    topics:
      - {name: out, keySerializer: raw, valueSerializer: json}
`, addr, client, guarantee)
}

func TestCrashExactlyOnce(t *testing.T) {
	for _, client := range []string{spec.ClientFranz, spec.ClientRdkafka} {
		t.Run(client, func(t *testing.T) { runCrash(t, client, spec.ExactlyOnce) })
	}
}

func TestCrashAtLeastOnce(t *testing.T) {
	for _, client := range []string{spec.ClientFranz, spec.ClientRdkafka} {
		t.Run(client, func(t *testing.T) { runCrash(t, client, spec.AtLeastOnce) })
	}
}

// outRecord is a record of topic out, decoded.
type outRecord struct {
	ID     int   `json:"id"`
	From   int32 `json:"from"`
	Offset int64 `json:"offset"`
}

func runCrash(t *testing.T, client, guarantee string) {
	eos := guarantee == spec.ExactlyOnce
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	broker := kafkatest.New(t)
	addrs := broker.Addrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for _, topic := range []string{"in", "out"} {
		if _, err := adm.CreateTopic(ctx, crashPartitions, 1, nil, topic); err != nil {
			t.Fatalf("creating %s: %v", topic, err)
		}
	}
	weirBinary(t) // before the load starts: building takes a while
	appDir := writeApp(t, crashApp(addrs[0], client, guarantee))
	dataDir := t.TempDir()

	// The load: crashRecords records, keyed and identified by a number,
	// sent in small batches with a pause between them, never far ahead of
	// weir: weir works on a stream rather than a backlog, and has records
	// in flight at any moment until the load ends.
	produced := make(chan error, 1)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	go func() { produced <- produceLoad(loadCtx, cl, adm, crashRecords) }()

	// Kill weir once it has committed some output, at a moment an output
	// transaction (exactly_once) is seen open; then start it again.
	weir := startWeir(t, "weir #1", appDir, dataDir, crashInstanceID)
	kills, interrupted := 0, 0
	for kills < crashKills || eos && interrupted == 0 && kills < crashMaxKills {
		target := int64(crashRecords * (kills + 1) / (crashMaxKills + 2))
		var at topicOffsets
		waitFor(t, 60*time.Second, fmt.Sprintf("%s committing %d output records", weir.name, target), func() (bool, error) {
			o, err := listOffsets(ctx, adm, "out")
			at = o
			return err == nil && sum(o.committed) >= target, err
		})
		if eos {
			// An open transaction is one with records written that no
			// read_committed reader may see yet. Look for one for a while;
			// when weir is between transactions, kill it anyway.
			deadline := time.Now().Add(5 * time.Second)
			for len(at.openTransactions()) == 0 && time.Now().Before(deadline) {
				if at, err = listOffsets(ctx, adm, "out"); err != nil {
					t.Fatal(err)
				}
			}
		}
		weir.kill()
		kills++
		after, err := listOffsets(ctx, adm, "out")
		if err != nil {
			t.Fatal(err)
		}
		open := after.openTransactions()
		if len(open) > 0 {
			interrupted++
		}
		t.Logf("SIGKILL #%d: output end offsets summed: stable %d, high watermark %d; partitions left with a transaction open: %v",
			kills, sum(after.committed), sum(after.newest), open)
		if errs := weir.errorLines(); len(errs) > 0 {
			t.Logf("%s logged %d errors, the first: %s", weir.name, len(errs), errs[0])
		}
		weir = startWeir(t, fmt.Sprintf("weir #%d", kills+1), appDir, dataDir, crashInstanceID)
	}
	if err := <-produced; err != nil {
		t.Fatalf("producing the load: %v", err)
	}
	waitFor(t, 60*time.Second, fmt.Sprintf("%s consuming all %d input records", weir.name, crashRecords), func() (bool, error) {
		return groupCaughtUp(ctx, adm, crashGroup, "in")
	})
	weir.stop()
	if errs := weir.errorLines(); len(errs) > 0 {
		t.Logf("%s logged %d errors, the first: %s", weir.name, len(errs), errs[0])
	}

	markEnd(t, ctx, addrs, "out", crashPartitions)
	committed := readToEnd(t, ctx, addrs, "out", crashPartitions, kgo.ReadCommitted())
	written := readToEnd(t, ctx, addrs, "out", crashPartitions, kgo.ReadUncommitted())

	counts := make([]int, crashRecords)
	var bad int
	for _, r := range committed {
		var v outRecord
		if err := json.Unmarshal(r.Value, &v); err != nil || v.ID < 0 || v.ID >= crashRecords || string(r.Key) != idKey(v.ID) {
			if bad++; bad <= 5 {
				t.Errorf("unexpected output record at %s[%d]@%d: key %q, value %s", r.Topic, r.Partition, r.Offset, r.Key, r.Value)
			}
			continue
		}
		counts[v.ID]++
	}
	var lost, duplicated, extra int
	var firstLost, firstDup []int
	for id, n := range counts {
		switch {
		case n == 0:
			lost++
			if len(firstLost) < 10 {
				firstLost = append(firstLost, id)
			}
		case n > 1:
			duplicated++
			extra += n - 1
			if len(firstDup) < 10 {
				firstDup = append(firstDup, id)
			}
		}
	}
	killed := fmt.Sprintf("%d kills", kills)
	if eos {
		killed += fmt.Sprintf(" (%d left a transaction open)", interrupted)
	}
	t.Logf("%s, %s: %d inputs, %s; output: %d committed records, %d written in all (%d not committed: aborted); %d inputs lost, %d duplicated (%d extra records)",
		client, guarantee, crashRecords, killed, len(committed), len(written), len(written)-len(committed), lost, duplicated, extra)
	if lost > 0 {
		t.Errorf("%d of %d inputs are missing from the committed output (first: %v)", lost, crashRecords, firstLost)
	}
	if eos {
		if duplicated > 0 {
			t.Errorf("exactly_once: %d inputs appear more than once in the committed output (%d extra records; first: %v)", duplicated, extra, firstDup)
		}
		// Each input partition's records reach each output partition in
		// the order they were read.
		last := map[[2]int32]int64{}
		misordered := 0
		for _, r := range committed {
			var v outRecord
			if json.Unmarshal(r.Value, &v) != nil {
				continue
			}
			k := [2]int32{v.From, r.Partition}
			if prev, ok := last[k]; ok && v.Offset <= prev {
				if misordered++; misordered <= 5 {
					t.Errorf("out[%d]: the record of in[%d]@%d comes after that of in[%d]@%d", r.Partition, v.From, v.Offset, v.From, prev)
				}
			}
			last[k] = v.Offset
		}
		if misordered > 5 {
			t.Errorf("... %d records out of order in all", misordered)
		}
		// Proof that the test could fail: some kill left records written
		// in a transaction that read_committed readers must not see.
		if interrupted == 0 || len(written) == len(committed) {
			t.Errorf("no kill interrupted a transaction with records written (%d kills, %d records aborted): the test proved nothing", kills, len(written)-len(committed))
		}
	} else if extra == 0 {
		t.Logf("at_least_once: no input was processed twice: every kill came right after a commit")
	}
}

// idKey is the key of the input record with an id.
func idKey(id int) string { return fmt.Sprintf("id-%05d", id) }

// loadWindow is how far the load may run ahead of what weir has committed
// of its input: the load lasts until weir is nearly done, so that there is
// work in flight whenever weir is killed, however fast or slow weir runs.
const loadWindow = 2000

// produceLoad sends n records to topic in, in batches of 250 with a short
// pause after each, and waits before a batch while weir's group has
// committed less than all but loadWindow of what was sent.
func produceLoad(ctx context.Context, cl *kgo.Client, adm *kadm.Client, n int) error {
	return feedPaced(ctx, cl, pacedLoad{
		n: n, batch: 250, window: loadWindow, pause: 20 * time.Millisecond,
		committed: func() int64 { return groupCommitted(ctx, adm, crashGroup, "in") },
		record: func(id int) *kgo.Record {
			return &kgo.Record{Topic: "in", Key: []byte(idKey(id)), Value: fmt.Appendf(nil, `{"id": %d}`, id)}
		},
	})
}
