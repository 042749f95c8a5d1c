package webview

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka/kafkatest"
)

// BenchmarkGetByKey asks the word-count web view for words while its
// agents count sentences flat out, beside a bare Echo handler in the same
// run; each reports requests/s and the p50 and p99 latency of its
// requests, with 1 and 16 clients. Keys are spread over the partitions,
// all held by the one replica.
//
//	go test -run '^$' -bench GetByKey -benchtime 5s ./webview/
func BenchmarkGetByKey(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	broker := kafkatest.New(b)
	p := compile(b, load(b, "../samples/word-count"), broker, "")
	rt := startRuntime(b, ctx, p)
	srv, err := New(rt, p.Apps[0], Options{Addr: "127.0.0.1:0", Logger: testLogger(b)})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer srv.Stop(context.Background())

	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addrs()...))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	words := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon")
	sentences := func(i, n int) []*kgo.Record {
		recs := make([]*kgo.Record, n)
		for j := range recs {
			recs[j] = &kgo.Record{Topic: "sentences", Value: []byte(words[(i+j)%len(words)] + " " + words[(i*7+j)%len(words)])}
		}
		return recs
	}
	if err := cl.ProduceSync(ctx, sentences(0, len(words))...).FirstErr(); err != nil {
		b.Fatal(err)
	}
	root := "http://" + srv.Addr().String()
	for _, w := range words {
		for {
			resp, err := http.Get(root + "/count/" + w)
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && !strings.Contains(string(body), `"count":0`) {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	bare := bareEcho(b)
	run := func(phase string) {
		for _, clients := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/bare-echo/clients=%d", phase, clients), func(b *testing.B) {
				hammer(b, clients, func(i int) string { return bare + "/count/" + words[i%len(words)] })
			})
			b.Run(fmt.Sprintf("%s/web-view/clients=%d", phase, clients), func(b *testing.B) {
				hammer(b, clients, func(i int) string { return root + "/count/" + words[i%len(words)] })
			})
		}
	}
	run("agents-idle")

	// The agents run flat out: sentences go in as fast as they are taken.
	fctx, stopFeeding := context.WithCancel(ctx)
	var feeding sync.WaitGroup
	feeding.Add(1)
	go func() {
		defer feeding.Done()
		for i := 0; fctx.Err() == nil; i++ {
			_ = cl.ProduceSync(fctx, sentences(i, 500)...).FirstErr()
		}
	}()
	run("agents-busy")
	stopFeeding()
	feeding.Wait()
}

// hammer sends b.N GET requests from the given number of clients and
// reports requests/s and latency percentiles.
func hammer(b *testing.B, clients int, url func(int) string) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var next atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				t0 := time.Now()
				resp, err := client.Get(url(i))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
}

// bareEcho serves a fixed JSON answer at /count/:word with Echo alone.
func bareEcho(b *testing.B) string {
	e := echo.New()
	e.GET("/count/:word", func(c *echo.Context) error {
		return c.JSONBlob(http.StatusOK, []byte(`{"word": "`+c.Param("word")+`", "count": 1}`))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: e}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}
