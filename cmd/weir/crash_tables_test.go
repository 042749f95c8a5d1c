//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/franz"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
	"github.com/weirstream/weir/spec"
)

// The table crash test runs a word count (sentences -> words re-keyed by
// word -> a count table, as samples/word-count does) as a weir subprocess
// on a steady load, SIGKILLs it while a transaction is open, and starts it
// again: twice with the same --data-dir (recovery replays the changelog's
// tail over the local state), then once with an empty one (recovery
// replays the whole changelog), after which it goes on counting. Once all
// is counted, the table's changelog, read read_committed, must hold for
// every word the counts 1, 2, ... up to the exact number of times the
// input holds it: a double count or a lost write shows as a count too high,
// a step back or a gap.

const (
	tallySentences  = 4000 // input sentences of 1 to 6 words
	tallyVocabulary = 300  // distinct words
	tallyPartitions = 3    // of sentences, words and the table
	tallyKillsSame  = 2    // kills followed by a restart on the same data dir
	tallyMaxKills   = 5    // more kills (same data dir) while none interrupted a transaction
	tallyInstanceID = "tally-1"
	tallyGroup      = "tally-app"
	tallyChangelog  = "tally-app-counts-changelog"
	tallyWindow     = 400  // sentences the load may run ahead of the group's commits
	tallyStep       = 1000 // changelog offsets each run commits before it is killed
)

// tallyApp is the app of the table crash test.
func tallyApp(addr, client string) string {
	return fmt.Sprintf(`apiVersion: kaspr.io/v1alpha1
kind: KasprApp
metadata: {name: tally}
spec:
  bootstrapServers: %q
  config:
    kafkaClient: %s
    processingGuarantee: exactly_once
    topicPartitions: %[3]d
    topicReplicationFactor: 1
---
apiVersion: kaspr.io/v1alpha1
kind: KasprTable
metadata: {name: counts}
spec:
  name: counts
  keySerializer: json
  valueSerializer: json
  partitions: %[3]d
  defaultSelector:
    entrypoint: zero
    python: |
      def zero():
          return 0
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata: {name: split}
spec:
  input:
    topic: {name: sentences, keySerializer: raw, valueSerializer: string}
  processors:
    pipeline: [split]
    operations:
      - name: split
        map:
          entrypoint: split_words
          python: |
            def split_words(sentence):
                return fanout(sentence.split())
  output:
    topics:
      - name: words
        keySerializer: json
        valueSerializer: json
        declare: true
        partitions: %[3]d
        keySelector:
          entrypoint: key_by_word
          python: |
            def key_by_word(word):
                return word
---
apiVersion: kaspr.io/v1alpha1
kind: KasprAgent
metadata: {name: count}
spec:
  input:
    topic: {name: words, keySerializer: json, valueSerializer: json}
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
                counts[word] = counts[word] + 1
                return None
`, addr, client, tallyPartitions)
}

func TestCrashTablesExactlyOnce(t *testing.T) {
	for _, client := range []string{spec.ClientFranz, spec.ClientRdkafka} {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			runCrashTables(t, client)
		})
	}
}

// tallyLoad is the test's input: the sentences and how many times each
// word occurs in them.
type tallyLoad struct {
	sentences []string
	want      map[string]int
	words     int
}

func newTallyLoad(seed uint64) tallyLoad {
	rng := rand.New(rand.NewPCG(seed, 17))
	l := tallyLoad{want: map[string]int{}}
	for range tallySentences {
		ws := make([]string, 1+rng.IntN(6))
		for i := range ws {
			// Skewed: low-numbered words are frequent, so some counts run
			// into the hundreds while others stay small.
			w := fmt.Sprintf("w%03d", min(rng.IntN(tallyVocabulary), rng.IntN(tallyVocabulary)))
			ws[i] = w
			l.want[w]++
		}
		l.words += len(ws)
		l.sentences = append(l.sentences, strings.Join(ws, " "))
	}
	return l
}

func runCrashTables(t *testing.T, client string) {
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
	if _, err := adm.CreateTopic(ctx, tallyPartitions, 1, nil, "sentences"); err != nil {
		t.Fatalf("creating sentences: %v", err)
	}
	weirBinary(t)
	appDir := writeApp(t, tallyApp(addrs[0], client))
	dataDir := t.TempDir()
	load := newTallyLoad(uint64(len(client)))

	produced := make(chan error, 1)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	go func() { produced <- produceSentences(loadCtx, cl, adm, load.sentences) }()

	weir := startWeir(t, "weir #1", appDir, dataDir, tallyInstanceID)

	// Follow the changelog (declared by weir) as it is committed, to know
	// when all is counted.
	tail, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(tallyChangelog),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer tail.Close()
	counted := map[string]int{}
	counting := func() int {
		pctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		fs := tail.PollFetches(pctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			var w string
			var n int
			if json.Unmarshal(r.Key, &w) == nil && json.Unmarshal(r.Value, &n) == nil {
				counted[w] = n
			}
		})
		total := 0
		for _, n := range counted {
			total += n
		}
		return total
	}
	stable := func() int64 {
		o, err := listOffsets(ctx, adm, tallyChangelog)
		if err != nil {
			t.Fatal(err)
		}
		return sum(o.committed)
	}

	kills, interrupted, fresh := 0, 0, 0
	from := stable()
	for kills < tallyKillsSame+1 || interrupted == 0 && kills < tallyMaxKills {
		// Each run commits some counts before it is killed: the stage
		// that writes the table runs a transaction behind the one that
		// feeds it.
		waitFor(t, 60*time.Second, fmt.Sprintf("%s committing %d changelog offsets", weir.name, tallyStep), func() (bool, error) {
			return stable() >= from+tallyStep, nil
		})
		// Kill while the changelog has records written in a transaction
		// that is not committed; when none is seen for a while, anyway.
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			at, err := listOffsets(ctx, adm, tallyChangelog)
			if err != nil {
				t.Fatal(err)
			}
			if len(at.openTransactions()) > 0 {
				break
			}
		}
		weir.kill()
		kills++
		after, err := listOffsets(ctx, adm, tallyChangelog)
		if err != nil {
			t.Fatal(err)
		}
		open := after.openTransactions()
		if len(open) > 0 {
			interrupted++
		}
		t.Logf("SIGKILL #%d at %d committed sentences: changelog end offsets summed: stable %d, high watermark %d; partitions with a transaction open: %v",
			kills, groupCommitted(ctx, adm, tallyGroup, "sentences"), sum(after.committed), sum(after.newest), open)
		logErrors(t, weir)
		name := fmt.Sprintf("weir #%d", kills+1)
		if kills == tallyKillsSame+1 {
			// Recovery from scratch: a new, empty data dir.
			dataDir = t.TempDir()
			fresh = kills + 1
			name += " (empty data dir)"
		}
		// What a replay from scratch reads: the committed records. The
		// open transaction the kill left is aborted when the next weir
		// starts, so nothing is added to them before it recovers.
		held := committedRecords(t, ctx, addrs, tallyChangelog)
		weir = startWeir(t, name, appDir, dataDir, tallyInstanceID)
		// The replay comes before the first records are processed.
		var replayed int64
		waitFor(t, 60*time.Second, weir.name+" recovering its table partitions", func() (bool, error) {
			var done bool
			replayed, done = replays(weir)
			return done, nil
		})
		t.Logf("%s replayed %d of the changelog's %d committed records", weir.name, replayed, held)
		switch {
		case fresh == kills+1 && replayed != held:
			t.Errorf("%s, started on an empty data dir, replayed %d changelog records; the changelog held %d committed records", weir.name, replayed, held)
		case fresh != kills+1 && replayed >= held:
			// Local state survives the kill (every commit is synced):
			// a restart on the same data dir reads only the tail.
			t.Errorf("%s, restarted on its data dir, replayed %d changelog records of %d: more than the tail", weir.name, replayed, held)
		}
		from = stable()
	}
	if err := <-produced; err != nil {
		t.Fatalf("producing the load: %v", err)
	}
	waitFor(t, 60*time.Second, fmt.Sprintf("%s counting all %d words", weir.name, load.words), func() (bool, error) {
		return counting() >= load.words, nil
	})
	weir.stop()
	logErrors(t, weir)

	// Stage 1 first: every word of the input exactly once in words (a
	// failure here is not the table's).
	markEnd(t, ctx, addrs, "words", tallyPartitions)
	inWords := map[string]int{}
	for _, r := range readToEnd(t, ctx, addrs, "words", tallyPartitions, kgo.ReadCommitted()) {
		var w string
		if err := json.Unmarshal(r.Key, &w); err != nil {
			t.Fatalf("words[%d]@%d: key %q: %v", r.Partition, r.Offset, r.Key, err)
		}
		inWords[w]++
	}
	if diffs := countDiffs(inWords, load.want); len(diffs) > 0 {
		t.Errorf("the words topic (read_committed) does not hold each input word exactly once: %s", diffs)
	}

	// The table: each word's counts go 1, 2, ... want, in the order they
	// were committed.
	markEnd(t, ctx, addrs, tallyChangelog, tallyPartitions)
	committed := readToEnd(t, ctx, addrs, tallyChangelog, tallyPartitions, kgo.ReadCommitted())
	written := readToEnd(t, ctx, addrs, tallyChangelog, tallyPartitions, kgo.ReadUncommitted())
	last := map[string]int{}
	var broken []string
	for _, r := range committed {
		var w string
		var n int
		if err := json.Unmarshal(r.Key, &w); err != nil {
			t.Fatalf("%s[%d]@%d: key %q: %v", tallyChangelog, r.Partition, r.Offset, r.Key, err)
		}
		if err := json.Unmarshal(r.Value, &n); err != nil {
			t.Fatalf("%s[%d]@%d: value %q: %v", tallyChangelog, r.Partition, r.Offset, r.Value, err)
		}
		if n != last[w]+1 && len(broken) < 10 {
			broken = append(broken, fmt.Sprintf("%s: %d after %d at [%d]@%d", w, n, last[w], r.Partition, r.Offset))
		}
		last[w] = n
	}
	t.Logf("%s: %d sentences, %d words (%d distinct); %d kills (%d left a changelog transaction open), weir #%d on an empty data dir; changelog: %d committed records, %d written in all (%d aborted)",
		client, tallySentences, load.words, len(load.want), kills, interrupted, fresh, len(committed), len(written), len(written)-len(committed))
	if diffs := countDiffs(last, load.want); len(diffs) > 0 {
		t.Errorf("the table's last counts differ from the input: %s", diffs)
	}
	if len(broken) > 0 {
		t.Errorf("committed counts that do not follow the one before (a double count, a lost write or a replay gone wrong): %s", strings.Join(broken, "; "))
	}
	if len(committed) != load.words {
		t.Errorf("the changelog holds %d committed records, want one per input word: %d", len(committed), load.words)
	}
	// Proof that the test could fail: some kill left changelog records
	// written in a transaction that read_committed readers must not see.
	if interrupted == 0 || len(written) == len(committed) {
		t.Errorf("no kill interrupted a transaction with changelog records written (%d kills, %d records aborted): the test proved nothing", kills, len(written)-len(committed))
	}
}

// committedRecords counts the records a read_committed reader finds in a
// topic up to its last stable offset, as weir's table recovery reads it.
func committedRecords(t *testing.T, ctx context.Context, addrs []string, topic string) int64 {
	t.Helper()
	rd, err := franz.NewReader(kafka.Config{Brokers: addrs, ClientID: "weir-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	ends, err := rd.Ends(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	from := map[kafka.TopicPartition]int64{}
	for tp, end := range ends {
		if end > 0 {
			from[tp] = 0
		}
	}
	rd.Add(from)
	var n int64
	for {
		done := true
		for tp := range from {
			done = done && rd.Position(tp) >= ends[tp]
		}
		if done {
			return n
		}
		fs, err := rd.Poll(ctx)
		if err != nil {
			t.Fatalf("reading %s: %v", topic, err)
		}
		for _, f := range fs {
			n += int64(len(f.Records))
		}
	}
}

// replays returns how many changelog records a weir's first table
// recovery replayed, as it logged it, and whether that recovery covered
// every partition.
func replays(p *weirProc) (int64, bool) {
	var n int64
	seen := map[int32]bool{}
	for _, l := range p.log.all() {
		var m struct {
			Msg        string
			Partitions []int32
			Records    int64
		}
		if json.Unmarshal([]byte(l), &m) != nil || m.Msg != "table partitions recovered from the changelog" {
			continue
		}
		n += m.Records
		for _, q := range m.Partitions {
			seen[q] = true
		}
		if len(seen) == tallyPartitions {
			return n, true
		}
	}
	return n, false
}

func logErrors(t *testing.T, p *weirProc) {
	t.Helper()
	if errs := p.errorLines(); len(errs) > 0 {
		t.Logf("%s logged %d errors, the first: %s", p.name, len(errs), errs[0])
	}
}

// countDiffs describes, for the first few words, how got differs from
// want; "" when they are equal.
func countDiffs(got, want map[string]int) string {
	var diffs []string
	n := 0
	for w, c := range want {
		if got[w] != c {
			if n++; n <= 10 {
				diffs = append(diffs, fmt.Sprintf("%s: %d, want %d", w, got[w], c))
			}
		}
	}
	for w, c := range got {
		if _, ok := want[w]; !ok {
			if n++; n <= 10 {
				diffs = append(diffs, fmt.Sprintf("%s: %d, want none", w, c))
			}
		}
	}
	if n > 10 {
		diffs = append(diffs, fmt.Sprintf("... %d words in all", n))
	}
	return strings.Join(diffs, "; ")
}

// produceSentences sends the sentences to topic sentences in batches of
// 50 with a short pause after each, keeping at most tallyWindow ahead of
// what the group has committed, so that weir has work in flight until the
// load ends.
func produceSentences(ctx context.Context, cl *kgo.Client, adm *kadm.Client, sentences []string) error {
	return feedPaced(ctx, cl, pacedLoad{
		n: len(sentences), batch: 50, window: tallyWindow, pause: 15 * time.Millisecond,
		committed: func() int64 { return groupCommitted(ctx, adm, tallyGroup, "sentences") },
		record: func(i int) *kgo.Record {
			return &kgo.Record{Topic: "sentences", Key: fmt.Appendf(nil, "s%d", i), Value: []byte(sentences[i])}
		},
	})
}
