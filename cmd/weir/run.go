package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
	"github.com/weirstream/weir/internal/host"
	"github.com/weirstream/weir/internal/watch"
	"github.com/weirstream/weir/spec"
	"github.com/weirstream/weir/webview"
)

// stopTimeout bounds how long a stop may take to finish in-flight work and
// commit it; past it, what is open is aborted and comes again at the next
// start.
const stopTimeout = 30 * time.Second

// webStopTimeout bounds how long the web servers wait for the requests in
// flight when the process stops.
const webStopTimeout = 10 * time.Second

// runFlags are the flags run and dev share.
type runFlags struct {
	dataDir      string
	logFormat    string
	logLevel     string
	instanceID   string
	advertiseURL string
	webPort      int
	watch        string
	pollInterval time.Duration
	api          apiFlags // the control API (apps.go)
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", envOr("WEIR_DATA_DIR", "data"), "where state is kept (WEIR_DATA_DIR)")
	fs.StringVar(&f.logFormat, "log-format", envOr("WEIR_LOG_FORMAT", "text"), "log format: text or json (WEIR_LOG_FORMAT)")
	fs.StringVar(&f.logLevel, "log-level", envOr("WEIR_LOG_LEVEL", "info"), "log level: debug, info, warn or error (WEIR_LOG_LEVEL)")
	fs.StringVar(&f.instanceID, "instance-id", os.Getenv("WEIR_INSTANCE_ID"), "this instance's stable id: static group membership and the transactional id (WEIR_INSTANCE_ID)")
	fs.StringVar(&f.advertiseURL, "advertise-url", os.Getenv("WEIR_ADVERTISE_URL"), "the URL other replicas reach this one's web servers at, http://host[:port]; without a port, each app's port (WEIR_ADVERTISE_URL; default http://<hostname>:<port>)")
	webPort := -1
	if v := os.Getenv("WEIR_WEB_PORT"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			webPort = n
		}
	}
	fs.IntVar(&f.webPort, "web-port", webPort, "the web server's port for every app, 0 for a free one; -1: each app's spec.config.webPort (WEIR_WEB_PORT)")
	fs.StringVar(&f.watch, "watch", envOr("WEIR_WATCH", "fsnotify"), "reload when the manifests change: fsnotify (polling when events cannot be had), poll or off (WEIR_WATCH); SIGHUP always reloads")
	interval := watch.DefaultInterval
	if v := os.Getenv("WEIR_POLL_INTERVAL"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			interval = d
		}
	}
	fs.DurationVar(&f.pollInterval, "poll-interval", interval, "how often --watch poll looks at the manifests (WEIR_POLL_INTERVAL)")
	f.api.register(fs)
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
	if err == nil {
		log, err = f.api.setUp(log)
	}
	if err != nil {
		fmt.Fprintf(stderr, "weir %s: %v\n", name, err)
		return exitUsage
	}
	hopts := host.Options{
		Paths:  fs.Args(),
		Logger: log,
		Compile: engine.Options{DataDir: f.dataDir, InstanceID: f.instanceID,
			Print: func(app string, pos spec.Pos, msg string) { log.Info(msg, "app", app, "at", pos.String()) }},
	}
	if dev {
		// Check the manifests before starting a broker for them.
		if _, err := spec.Load(fs.Args()...); err != nil {
			printLoadErrors(stderr, err)
			return exitInvalid
		}
		broker, err := startDevBroker(brokerPort)
		if err != nil {
			fmt.Fprintf(stderr, "weir dev: %v\n", err)
			return exitInvalid
		}
		defer broker.Close()
		addr := strings.Join(broker.Addrs(), ",")
		hopts.Adjust = func(b *spec.Bundle) {
			for _, a := range b.Apps {
				a.App.Spec.BootstrapServers = addr
			}
		}
		hopts.AdjustPlan = host.OneBroker // one broker
		fmt.Fprintf(stdout, "weir dev: embedded broker at %s\n", addr)
	}
	// The watcher starts before the first load, so that an edit made while
	// the apps start is not missed.
	mode, err := watch.ParseMode(f.watch)
	if err != nil {
		fmt.Fprintf(stderr, "weir %s: --watch: %v\n", name, err)
		return exitUsage
	}
	w, err := watch.New(fs.Args(), watch.Options{Mode: mode, Interval: f.pollInterval, Ignore: []string{f.dataDir}, Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "weir %s: watching %s: %v\n", name, strings.Join(fs.Args(), " "), err)
		return exitInvalid
	}
	defer w.Close()
	h := f.api.newHost(hopts, f.dataDir)
	startCtx, cancelStart := context.WithTimeout(ctx, time.Minute)
	rt, err := h.Start(startCtx, engine.RuntimeOptions{Logger: log})
	cancelStart()
	if err != nil {
		var errs spec.Errors
		if errors.As(err, &errs) {
			printLoadErrors(stderr, err)
		} else {
			fmt.Fprintf(stderr, "weir %s: %v\n", name, err)
		}
		return exitInvalid
	}
	plan := rt.Plan()
	// SIGHUP and changes of the manifests reload them.
	go func() { _ = w.Run(ctx) }()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = h.Reload(ctx, "SIGHUP")
			case c, ok := <-w.Changes():
				if !ok {
					return
				}
				why := "the manifests changed"
				if len(c.Paths) > 0 {
					why = "changed: " + strings.Join(c.Paths, ", ")
				}
				_ = h.Reload(ctx, why)
			}
		}
	}()
	servers, err := startWeb(ctx, rt, plan, &f, dev, log, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "weir %s: %v\n", name, err)
		stopCtx, cancelStop := context.WithTimeout(context.Background(), stopTimeout)
		defer cancelStop()
		if err := rt.Stop(stopCtx); err != nil {
			log.Error("stopped before in-flight work finished; it will be processed again at the next start", "err", err)
		}
		return exitInvalid
	}
	web := newWebServers(plan, servers, rt, &f, dev, log, stdout)
	h.OnPlan(func(p *engine.Plan) { web.apply(ctx, p) })
	if err := f.api.start(ctx, log, dev, stdout); err != nil {
		fmt.Fprintf(stderr, "weir %s: %v\n", name, err)
		web.stop()
		stopCtx, cancelStop := context.WithTimeout(context.Background(), stopTimeout)
		defer cancelStop()
		_ = rt.Stop(stopCtx)
		return exitInvalid
	}
	for _, a := range plan.Apps {
		log.Info("app running", "app", a.Name, "group", a.Group, "client", a.Client, "agents", len(a.Agents))
	}
	<-ctx.Done()
	log.Info("stopping: finishing in-flight work")
	f.api.stop(log)
	web.stop()
	stopCtx, cancelStop := context.WithTimeout(context.Background(), stopTimeout)
	defer cancelStop()
	if err := rt.Stop(stopCtx); err != nil {
		log.Error("stopped before in-flight work finished; it will be processed again at the next start", "err", err)
		return exitInvalid
	}
	log.Info("stopped")
	return exitOK
}

// startWeb starts a web server for every app that has web views or sets
// spec.config.webPort (every app when --web-port is given). dev binds the
// loopback interface and prints each server's URL.
func startWeb(ctx context.Context, rt *engine.Runtime, plan *engine.Plan, f *runFlags, dev bool, log *slog.Logger, stdout io.Writer) ([]*webview.Server, error) {
	apps := servedApps(plan, f)
	if f.webPort > 0 && len(apps) > 1 {
		return nil, fmt.Errorf("--web-port %d serves one app, and %d apps serve HTTP: give each its own spec.config.webPort, or use --web-port 0", f.webPort, len(apps))
	}
	var servers []*webview.Server
	for _, a := range apps {
		port := a.WebPort
		if f.webPort >= 0 {
			port = f.webPort
		}
		host := ""
		if dev {
			host = "127.0.0.1"
		}
		s, err := webview.New(rt, a, webview.Options{
			Addr:         net.JoinHostPort(host, strconv.Itoa(port)),
			AdvertiseURL: f.advertiseURL,
			Logger:       log,
		})
		if err == nil {
			err = s.Start(ctx)
		}
		if err != nil {
			stopWeb(servers, log)
			return nil, err
		}
		servers = append(servers, s)
		if dev {
			fmt.Fprintf(stdout, "weir dev: app %s serves http://%s\n", a.Name, s.Addr())
		}
	}
	return servers, nil
}

// servedApps are the apps that get a web server: those with web views or
// a webPort, or every app when --web-port is given.
func servedApps(plan *engine.Plan, f *runFlags) []*engine.AppPlan {
	var apps []*engine.AppPlan
	for _, a := range plan.Apps {
		if len(a.WebViews) > 0 || a.Spec.App.Written("spec.config.webPort") || f.webPort >= 0 {
			apps = append(apps, a)
		}
	}
	return apps
}

// stopWeb stops the web servers, letting the requests in flight finish
// for a while.
func stopWeb(servers []*webview.Server, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), webStopTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.Stop(ctx); err != nil {
			log.Warn("the web server stopped before its requests in flight finished", "url", s.URL(), "error", err)
		}
	}
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

// webServers are the web servers of the running apps, by app; a reload's
// plan updates them: new routes for an app that has a server, a server for
// an app that now needs one, none for an app that no longer does.
type webServers struct {
	mu      sync.Mutex
	servers map[string]*webview.Server
	rt      *engine.Runtime
	f       *runFlags
	dev     bool
	log     *slog.Logger
	stdout  io.Writer
}

func newWebServers(plan *engine.Plan, servers []*webview.Server, rt *engine.Runtime, f *runFlags, dev bool, log *slog.Logger, stdout io.Writer) *webServers {
	w := &webServers{servers: map[string]*webview.Server{}, rt: rt, f: f, dev: dev, log: log, stdout: stdout}
	for i, a := range servedApps(plan, f) {
		if i < len(servers) {
			w.servers[a.Name] = servers[i]
		}
	}
	return w
}

func (w *webServers) apply(ctx context.Context, p *engine.Plan) {
	w.mu.Lock()
	defer w.mu.Unlock()
	gone := maps.Clone(w.servers)
	var fresh []*engine.AppPlan
	for _, a := range servedApps(p, w.f) {
		s := w.servers[a.Name]
		if s == nil {
			fresh = append(fresh, a)
			continue
		}
		delete(gone, a.Name)
		if err := s.Apply(ctx, a); err != nil {
			w.log.Error("the web views of the new plan could not be served; the old ones go on", "app", a.Name, "error", err)
		}
	}
	for name, s := range gone {
		stopWeb([]*webview.Server{s}, w.log)
		delete(w.servers, name)
	}
	for _, a := range fresh {
		started, err := startWeb(ctx, w.rt, &engine.Plan{Apps: []*engine.AppPlan{a}}, w.f, w.dev, w.log, w.stdout)
		if err != nil {
			w.log.Error("starting the web server of a new app", "app", a.Name, "error", err)
			continue
		}
		w.servers[a.Name] = started[0]
	}
}

func (w *webServers) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	stopWeb(slices.Collect(maps.Values(w.servers)), w.log)
	clear(w.servers)
}
