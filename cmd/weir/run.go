package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
	"github.com/weirstream/weir/spec"
)

// stopTimeout bounds how long a stop may take to finish in-flight work and
// commit it; past it, what is open is aborted and comes again at the next
// start.
const stopTimeout = 30 * time.Second

// runFlags are the flags run and dev share.
type runFlags struct {
	dataDir    string
	logFormat  string
	logLevel   string
	instanceID string
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", envOr("WEIR_DATA_DIR", "data"), "where state is kept (WEIR_DATA_DIR)")
	fs.StringVar(&f.logFormat, "log-format", envOr("WEIR_LOG_FORMAT", "text"), "log format: text or json (WEIR_LOG_FORMAT)")
	fs.StringVar(&f.logLevel, "log-level", envOr("WEIR_LOG_LEVEL", "info"), "log level: debug, info, warn or error (WEIR_LOG_LEVEL)")
	fs.StringVar(&f.instanceID, "instance-id", os.Getenv("WEIR_INSTANCE_ID"), "this instance's stable id: static group membership and the transactional id (WEIR_INSTANCE_ID)")
}

func envOr(key, dflt string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return dflt
}

func (f *runFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level must be debug, info, warn or error, not %q", f.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", f.logFormat)
}

func runRun(args []string, stdout, stderr io.Writer) int {
	return runApps("run", args, stdout, stderr, false)
}

func runDev(args []string, stdout, stderr io.Writer) int {
	return runApps("dev", args, stdout, stderr, true)
}

// runApps is weir run and weir dev: load, compile, start, and stop on
// SIGINT or SIGTERM. dev first starts an embedded broker and points every
// app at it.
func runApps(name string, args []string, stdout, stderr io.Writer, dev bool) int {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	return runAppsContext(ctx, name, args, stdout, stderr, dev)
}

func runAppsContext(ctx context.Context, name string, args []string, stdout, stderr io.Writer, dev bool) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f runFlags
	f.register(fs)
	brokerPort := 0
	if dev {
		fs.IntVar(&brokerPort, "broker-port", 0, "port of the embedded broker on 127.0.0.1 (0: a free one)")
	}
	fs.Usage = func() {
		if dev {
			fmt.Fprintln(stderr, "Usage: weir dev [flags] PATH...")
			fmt.Fprintln(stderr, "\nRuns the apps in PATH against an embedded Kafka-protocol broker, so no Kafka is needed.")
		} else {
			fmt.Fprintln(stderr, "Usage: weir run [flags] PATH...")
			fmt.Fprintln(stderr, "\nRuns the apps in PATH until SIGINT or SIGTERM, then finishes in-flight work, commits and exits.")
		}
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	log, err := f.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "weir %s: %v\n", name, err)
		return exitUsage
	}
	bundle, err := spec.Load(fs.Args()...)
	if err != nil {
		printLoadErrors(stderr, err)
		return exitInvalid
	}
	if dev {
		broker, err := startDevBroker(brokerPort)
		if err != nil {
			fmt.Fprintf(stderr, "weir dev: %v\n", err)
			return exitInvalid
		}
		defer broker.Close()
		addr := strings.Join(broker.Addrs(), ",")
		for _, a := range bundle.Apps {
			a.App.Spec.BootstrapServers = addr
			a.App.Spec.Config.TopicReplicationFactor = 1 // one broker
		}
		fmt.Fprintf(stdout, "weir dev: embedded broker at %s\n", addr)
	}
	plan, err := engine.Compile(bundle, engine.Options{DataDir: f.dataDir, InstanceID: f.instanceID,
		Print: func(app string, pos spec.Pos, msg string) { log.Info(msg, "app", app, "at", pos.String()) }})
	if err != nil {
		printLoadErrors(stderr, err)
		return exitInvalid
	}
	rt := engine.NewRuntime(plan, engine.RuntimeOptions{Logger: log})
	startCtx, cancelStart := context.WithTimeout(ctx, time.Minute)
	err = rt.Start(startCtx)
	cancelStart()
	if err != nil {
		fmt.Fprintf(stderr, "weir %s: %v\n", name, err)
		return exitInvalid
	}
	for _, a := range plan.Apps {
		log.Info("app running", "app", a.Name, "group", a.Group, "client", a.Client, "agents", len(a.Agents))
	}
	<-ctx.Done()
	log.Info("stopping: finishing in-flight work")
	stopCtx, cancelStop := context.WithTimeout(context.Background(), stopTimeout)
	defer cancelStop()
	if err := rt.Stop(stopCtx); err != nil {
		log.Error("stopped before in-flight work finished; it will be processed again at the next start", "err", err)
		return exitInvalid
	}
	log.Info("stopped")
	return exitOK
}

// startDevBroker starts the embedded broker, on a given port or a free one.
func startDevBroker(port int) (*kafkatest.Broker, error) {
	if port == 0 {
		return kafkatest.Start()
	}
	return kafkatest.StartOn(port)
}

// printLoadErrors prints a load's errors one per line, as validate does.
func printLoadErrors(w io.Writer, err error) {
	var errs spec.Errors
	if !errors.As(err, &errs) {
		fmt.Fprintln(w, err)
		return
	}
	for _, e := range errs {
		fmt.Fprintln(w, e)
	}
	fmt.Fprintf(w, "%d %s\n", len(errs), plural(len(errs), "error", "errors"))
}
