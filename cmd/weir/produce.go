package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/franz"
)

// brokersFlag is the --brokers flag of produce and consume.
func brokersFlag(fs *flag.FlagSet) *string {
	return fs.String("brokers", envOr("WEIR_BROKERS", "localhost:9092"), "comma-separated host:port list; weir dev prints its own (WEIR_BROKERS)")
}

func runProduce(args []string, stdout, stderr io.Writer) int {
	return produce(os.Stdin, args, stdout, stderr)
}

// produce sends records to a topic: --key and --value for one, or one
// record per line of input, "key<TAB>value" with --keys, else the value.
func produce(stdin io.Reader, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("produce", flag.ContinueOnError)
	fs.SetOutput(stderr)
	brokers := brokersFlag(fs)
	key := fs.String("key", "", "the record's key (with --value)")
	value := fs.String("value", "", "the record's value; without it, one record per input line")
	keys := fs.Bool("keys", false, "input lines are key<TAB>value")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: weir produce [flags] TOPIC")
		fmt.Fprintln(stderr, "\nSends --value (and --key), or one record per line of standard input, to TOPIC.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	topic := fs.Arg(0)
	p, err := franz.New().NewProducer(kafka.Config{Brokers: strings.Split(*brokers, ","), ClientID: "weir-produce"})
	if err != nil {
		fmt.Fprintf(stderr, "weir produce: %v\n", err)
		return exitInvalid
	}
	defer p.Close()
	var (
		mu    sync.Mutex
		first error
		n     int
	)
	done := func(_ *kafka.Record, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil && first == nil {
			first = err
		}
		n++
	}
	send := func(k, v []byte) {
		p.Produce(&kafka.Record{Topic: topic, Partition: -1, Key: k, Value: v}, done)
	}
	valueSet := false
	fs.Visit(func(f *flag.Flag) { valueSet = valueSet || f.Name == "value" })
	if valueSet {
		var k []byte
		if *key != "" {
			k = []byte(*key)
		}
		send(k, []byte(*value))
	} else {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
		for sc.Scan() {
			line := bytes.Clone(sc.Bytes())
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var k []byte
			if *keys {
				before, after, ok := bytes.Cut(line, []byte("\t"))
				if !ok {
					fmt.Fprintf(stderr, "weir produce: line %q has no tab between key and value\n", line)
					return exitInvalid
				}
				k, line = before, after
			}
			send(k, line)
		}
		if err := sc.Err(); err != nil {
			fmt.Fprintf(stderr, "weir produce: reading input: %v\n", err)
			return exitInvalid
		}
	}
	if err := p.Flush(context.Background()); err != nil {
		fmt.Fprintf(stderr, "weir produce: %v\n", err)
		return exitInvalid
	}
	mu.Lock()
	defer mu.Unlock()
	if first != nil {
		fmt.Fprintf(stderr, "weir produce: %v\n", first)
		return exitInvalid
	}
	fmt.Fprintf(stdout, "sent %d %s to %s\n", n, plural(n, "record", "records"), topic)
	return exitOK
}

func runConsume(args []string, stdout, stderr io.Writer) int {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	return consume(ctx, args, stdout, stderr)
}

// consume prints the committed records of topics from their start: one
// line each, "key<TAB>value" with --keys; JSON values pretty-printed with
// --pretty.
func consume(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("consume", flag.ContinueOnError)
	fs.SetOutput(stderr)
	brokers := brokersFlag(fs)
	count := fs.Int("n", 0, "stop after this many records (0: run until interrupted)")
	keys := fs.Bool("keys", false, "print key<TAB>value")
	pretty := fs.Bool("pretty", false, "pretty-print JSON values")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: weir consume [flags] TOPIC...")
		fmt.Fprintln(stderr, "\nPrints the committed records of the topics from their start, without a consumer group.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	seen := 0
	err := franz.Tail(ctx, kafka.Config{Brokers: strings.Split(*brokers, ","), ClientID: "weir-consume"}, fs.Args(), func(r *kafka.Record) bool {
		if *keys {
			out.Write(r.Key)
			out.WriteByte('\t')
		}
		var buf bytes.Buffer
		if *pretty && json.Indent(&buf, r.Value, "", "  ") == nil {
			out.Write(buf.Bytes())
		} else {
			out.Write(r.Value)
		}
		out.WriteByte('\n')
		out.Flush()
		seen++
		return *count == 0 || seen < *count
	})
	if err != nil {
		fmt.Fprintf(stderr, "weir consume: %v\n", err)
		return exitInvalid
	}
	return exitOK
}
