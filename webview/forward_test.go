package webview

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
)

// metricSum sums the samples of a counter or gauge whose labels include
// the given ones, as a server's metrics page shows them.
func metricSum(t *testing.T, s *Server, name string, labels map[string]string) float64 {
	t.Helper()
	r := get(t, s.root()+"/metrics")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("the metrics page does not parse: %v", err)
	}
	sum := 0.0
	for _, m := range fams[name].GetMetric() {
		match := 0
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; ok && v == l.GetValue() {
				match++
			}
		}
		if match == len(labels) {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// wordPartition is the table partition of a word-count word.
func wordPartition(word string) int32 {
	k, _ := json.Marshal(word)
	return kafka.KeyPartition(k, 3)
}

// TestEveryReplicaAnswersEveryKey runs word-count on two replicas: each
// answers every word, forwarding what the other holds; a replica whose
// web server stops makes its words answer 503 (not 404) at the other; a
// forwarded request is never forwarded again; when the replica stops, the
// other takes its partitions over and answers every word again.
func TestEveryReplicaAnswersEveryKey(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	broker := kafkatest.New(t)
	const app = "word-count"
	planA := compile(t, load(t, "../samples/word-count"), broker, "a")
	rtA := startRuntime(t, ctx, planA)
	planB := compile(t, load(t, "../samples/word-count"), broker, "b")
	rtB := startRuntime(t, ctx, planB)
	sA := startServer(t, rtA, planA.App(app), Options{})
	sB := startServer(t, rtB, planB.App(app), Options{})

	// Both replicas hold some partitions.
	waitFor(t, ctx, "both replicas to hold partitions", func() bool {
		a, b := rtA.Held(app), rtB.Held(app)
		return len(a) > 0 && len(b) > 0 && len(a)+len(b) == 3
	})

	vocab := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon")
	rng := rand.New(rand.NewPCG(5, 6))
	want := map[string]int{}
	var recs []*kgo.Record
	for range 100 {
		words := make([]string, 1+rng.IntN(5))
		for i := range words {
			words[i] = vocab[rng.IntN(len(vocab))]
			want[words[i]]++
		}
		recs = append(recs, &kgo.Record{Topic: "sentences", Value: []byte(strings.Join(words, " "))})
	}
	if err := kgoClient(t, broker).ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	answer := func(w string) string { return fmt.Sprintf(`{"word": %q, "count": %d}`, w, want[w]) }
	for _, w := range vocab {
		waitAnswer(t, ctx, sA.root()+"/count/"+w, answer(w))
		waitAnswer(t, ctx, sB.root()+"/count/"+w, answer(w))
	}
	for _, s := range []*Server{sA, sB} {
		if n := metricSum(t, s, "weir_webview_forwarded_requests_total", map[string]string{"outcome": fwdAnswered}); n == 0 {
			t.Errorf("%s answered every word without forwarding a request", s.URL())
		}
	}

	// Words B holds.
	heldB := rtB.Held(app)
	var wordsB []string
	for _, w := range vocab {
		if slices.Contains(heldB, wordPartition(w)) {
			wordsB = append(wordsB, w)
		}
	}
	if len(wordsB) == 0 {
		t.Fatalf("B holds partitions %v, but none of the words", heldB)
	}

	// A request forwarded to A for a word A does not hold is not
	// forwarded again.
	r := do(t, http.MethodGet, sA.root()+"/count/"+wordsB[0], http.Header{HeaderForwarded: {"http://127.0.0.1:1"}}, nil)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "forwarded") {
		t.Errorf("a forwarded request for a word held elsewhere: %s (Retry-After %q), want 503 with Retry-After", r, r.header.Get("Retry-After"))
	}

	// B's web server stops (B withdraws from the members topic) while B
	// still holds its partitions: A knows no holder of B's words.
	stopServer(t, sB)
	w := wordsB[0]
	waitFor(t, ctx, "A to answer 503 for "+w, func() bool {
		r := get(t, sA.root()+"/count/"+w)
		switch {
		case r.status == http.StatusServiceUnavailable:
			if r.header.Get("Retry-After") == "" {
				t.Fatalf("503 without Retry-After: %s", r)
			}
			return true
		case r.status == http.StatusOK && sameBody(string(r.body), answer(w)):
			return false
		}
		t.Fatalf("GET /count/%s at A while B withdraws: %s", w, r)
		return false
	})

	// B stops: A takes B's partitions over, recovers them and answers
	// every word again, with 503 meanwhile.
	stopRuntime(t, rtB)
	for _, w := range vocab {
		waitAnswer(t, ctx, sA.root()+"/count/"+w, answer(w))
	}
	if held := rtA.Held(app); len(held) != 3 {
		t.Errorf("A holds %v after B stopped, want every partition", held)
	}
}

func stopRuntime(t *testing.T, rt *engine.Runtime) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rt.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}
