package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir/spec"
)

func TestWebBits(t *testing.T) {
	words := webVocabulary(5000)
	seen := map[string]bool{}
	for _, w := range words {
		if len(w) < 4 || strings.ToLower(w) != w || seen[w] {
			t.Fatalf("word %q", w)
		}
		seen[w] = true
	}
	if got := webVocabulary(3); strings.Join(got, " ") != strings.Join(words[:3], " ") {
		t.Errorf("vocabulary of 3: %v", got)
	}
	if got := string(sentence([]string{"baba", "beba"})); got != "Baba beba." {
		t.Errorf("sentence %q", got)
	}
	if rs, err := ParseWebRates(" 500, 1000,"); err != nil || len(rs) != 2 || rs[0] != 500 || rs[1] != 1000 {
		t.Errorf("%v %v", rs, err)
	}
	for _, bad := range []string{"", "0", "-5", "fast"} {
		if _, err := ParseWebRates(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if cs, err := ParseCases("web"); err != nil || len(cs) != 1 || cs[0] != (Case{KindWeb, spec.ClientFranz}) {
		t.Errorf("%v %v", cs, err)
	}
}

// TestOpenLoop checks that the load does not wait for answers: a server
// that takes 40ms an answer still gets every request on schedule, and
// each latency counts from the request's due time. Every fifth answer is
// an error.
func TestOpenLoop(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(40 * time.Millisecond)
		if n.Add(1)%5 == 0 {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		w.Write([]byte(`{"count": 1}`))
	}))
	defer srv.Close()
	client := loadClient()
	defer client.CloseIdleConnections()
	l := openLoop(context.Background(), client, countURLs(srv.URL, webVocabulary(10)), 200, 250*time.Millisecond, 1)
	if l.Requests != 50 || l.OK != 40 || l.Errors != 10 || !strings.Contains(l.FirstError, "500") {
		t.Errorf("%+v", l)
	}
	// Closed loop, one request at a time, would take 2s.
	if l.Seconds <= 0.25 || l.Seconds > 1.5 || l.AchievedPerSecond < 25 {
		t.Errorf("%+v", l)
	}
	if l.P50Ms < 40 || l.P99Ms < l.P50Ms || l.MaxMs < l.P99Ms {
		t.Errorf("%+v", l)
	}
}

// TestRunWeb runs the web case end to end with a short load at a low rate
// on a small vocabulary.
func TestRunWeb(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var progress bytes.Buffer
	rep, err := Run(ctx, Config{
		Records:     1,
		Partitions:  2,
		Cases:       []Case{{KindWeb, spec.ClientFranz}},
		Timeout:     60 * time.Second,
		Progress:    &progress,
		WebRates:    []int{200},
		WebDuration: 300 * time.Millisecond,
		WebWords:    40,
		WebApp:      "../" + DefaultWebApp,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if len(rep.Results) != 1 || rep.Results[0].Web == nil || rep.WebTarget != WebTarget {
		t.Fatalf("%+v", rep)
	}
	res := rep.Results[0]
	f := res.Web
	if len(f.Rates) != 1 || f.Words != 40 || res.PeakRSSBytes <= 0 {
		t.Fatalf("%+v", f)
	}
	// The counting agent's pace comes from the app's metrics. It is lumpy
	// over short spans (the words reach it a transaction of the splitting
	// agent at a time): only ask that it moved.
	if f.IdleWordsPerSecond < 0 || f.IdleWordsPerSecond+f.Rates[0].Web.AgentWordsPerSecond+f.Rates[0].Bare.AgentWordsPerSecond <= 0 {
		t.Errorf("the agents' pace: %+v", f)
	}
	// Every word was counted once before the loads; no more words were
	// counted than written.
	if f.WordsCounted < 40 || f.WordsCounted > f.WordsWritten || f.WordsWritten > f.Sentences*webSentenceWords {
		t.Errorf("sentences %d, words written %d, counted %d", f.Sentences, f.WordsWritten, f.WordsCounted)
	}
	for _, r := range f.Rates {
		for _, l := range []WebLoad{r.Web, r.Bare} {
			if l.Requests != r.Rate*3/10 || l.OK != l.Requests || l.Errors != 0 || l.P50Ms <= 0 || l.P99Ms < l.P50Ms || l.AchievedPerSecond <= 0 || l.AgentWordsPerSecond < 0 {
				t.Errorf("%d/s: %+v", r.Rate, l)
			}
		}
		if r.P99Ratio <= 0 {
			t.Errorf("%d/s: ratio %v", r.Rate, r.P99Ratio)
		}
	}
	var table, js bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"    200 web view", "    200 bare", "target: web view p99 <= 3.0x bare p99"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, table.String())
		}
	}
	if err := rep.WriteJSON(&js); err != nil || !json.Valid(js.Bytes()) {
		t.Errorf("json: %v\n%s", err, js.String())
	}
	if testing.Verbose() {
		t.Logf("\n%s\n%s", progress.String(), table.String())
	}
}
