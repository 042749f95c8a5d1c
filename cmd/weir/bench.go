package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/weirstream/weir/bench"
)

func runBench(args []string, stdout, stderr io.Writer) int {
	// The hidden form runs one case in this process for the harness.
	if len(args) > 0 && args[0] == bench.ChildFlag {
		if len(args) != 2 {
			fmt.Fprintln(stderr, "weir bench: --child takes one argument")
			return exitUsage
		}
		return bench.RunChild(args[1], os.Stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	brokers := fs.String("brokers", "", "comma-separated host:port list of a cluster to use (default: an embedded broker)")
	n := fs.Int("n", 300000, "input records per case")
	partitions := fs.Int("partitions", 3, "partitions of the input and output topics")
	replicas := fs.Int("replicas", 1, "replication factor of the topics the bench creates")
	rate := fs.Int("rate", 0, "feed the input at this many records/s while each case runs (0: produce it all first)")
	cases := fs.String("cases", bench.DefaultCases, "cases to run: passthrough, app (each client), count, web, or KIND:CLIENT (app:franz, passthrough:librdkafka, count:librdkafka)")
	replay := fs.Bool("replay", true, "after each count case, measure how fast a runtime on an empty data dir replays its changelog")
	app := fs.String("app", bench.DefaultApp, "the app the app cases run")
	cpuprofile := fs.String("cpuprofile", "", "write each case's CPU profile to this file, with -CASE-CLIENT before the extension")
	timeout := fs.Duration("timeout", 0, "give up on a case after this long (default 10m)")
	logLevel := fs.String("log-level", "warn", "log level of the cases' processes")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	webRates := fs.String("web-rates", "500,1000,2000,4000", "the web case's request rates, per second, each measured against the web view and the bare handler")
	webDuration := fs.Duration("web-duration", bench.DefaultWebDuration, "how long the web case measures each rate, for each target")
	webWords := fs.Int("web-words", bench.DefaultWebWords, "the words the web case counts and asks for")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: weir bench [flags]")
		fmt.Fprintln(stderr, "\nMeasures exactly-once throughput, latency and memory: a bare consume -> produce loop")
		fmt.Fprintln(stderr, "(passthrough) against the enrich-and-route sample app with each Kafka client and a count")
		fmt.Fprintln(stderr, "per key in a table (count, then the replay of its changelog), each case in a process of")
		fmt.Fprintln(stderr, "its own, on an embedded broker unless --brokers is given. The web case (--cases web) asks the")
		fmt.Fprintln(stderr, "word-count sample's web view for counts at rising request rates while its agents run flat")
		fmt.Fprintln(stderr, "out, beside a bare Echo handler in the same process.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 || *n <= 0 {
		fs.Usage()
		return exitUsage
	}
	cs, err := bench.ParseCases(*cases)
	if err != nil {
		fmt.Fprintf(stderr, "weir bench: --cases: %v\n", err)
		return exitUsage
	}
	rates, err := bench.ParseWebRates(*webRates)
	if err != nil {
		fmt.Fprintf(stderr, "weir bench: --web-rates: %v\n", err)
		return exitUsage
	}
	cfg := bench.Config{
		Records:    *n,
		Partitions: *partitions,
		Replicas:   *replicas,
		Rate:       *rate,
		Cases:      cs,
		NoReplay:   !*replay,
		App:        *app,
		CPUProfile: *cpuprofile,
		Timeout:    *timeout,
		LogLevel:   *logLevel,
		Progress:   stderr,

		WebRates:    rates,
		WebDuration: *webDuration,
		WebWords:    *webWords,
	}
	if *brokers != "" {
		cfg.Brokers = strings.Split(*brokers, ",")
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	rep, err := bench.Run(ctx, cfg)
	if rep != nil {
		if *asJSON {
			rep.WriteJSON(stdout)
		} else {
			rep.WriteTable(stdout)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "weir bench: %v\n", err)
		return exitInvalid
	}
	return exitOK
}
