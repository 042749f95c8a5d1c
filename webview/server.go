package webview

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/engine/kafka"
)

// Options tune a Server.
type Options struct {
	// Addr is the address to listen on, host:port; "": ":<webPort>" of
	// the app. Port 0 takes a free port (see Server.Addr).
	Addr string
	// AdvertiseURL is how other replicas reach this server:
	// scheme://host[:port]. Without a port the bound port is added. "":
	// http://<hostname>:<bound port>, or http://<host>:<bound port> when
	// Addr names a host.
	AdvertiseURL string
	// Logger receives the server's logs; nil: slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes bounds a request body; 0: DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// HandlerTimeout bounds the handling of a request, forwarding
	// included; 0: DefaultHandlerTimeout.
	HandlerTimeout time.Duration
	// CORSOrigins are the origins allowed to call the app from a browser;
	// none: CORS is off.
	CORSOrigins []string
	// ConfigGeneration and ConfigHash identify the manifests the app runs,
	// for /status/; 0 and "": 1 and a hash of the app's resources.
	ConfigGeneration int64
	ConfigHash       string
	// MembersInterval is how often this replica's held partitions are
	// checked, to be written to the members topic when they change; 0:
	// DefaultMembersInterval.
	MembersInterval time.Duration
}

// The defaults of Options.
const (
	DefaultMaxBodyBytes    = 1 << 20
	DefaultHandlerTimeout  = 10 * time.Second
	DefaultMembersInterval = 250 * time.Millisecond
)

// HeaderForwarded marks a request one replica forwarded to another; its
// value is the forwarding replica's URL. Such a request is never forwarded
// again.
const HeaderForwarded = "Weir-Forwarded-By"

// retryAfter is the Retry-After of a 503, in seconds.
const retryAfter = "1"

// Server is one app's web server.
type Server struct {
	rt   *engine.Runtime
	app  *engine.AppPlan
	opts Options
	log  *slog.Logger
	e    *echo.Echo
	base string // webBasePath without its trailing slash

	views   []*view
	workers chan *worker // idle interpreter threads
	metrics *metrics
	members *members // nil when no web view reads a partitioned table
	fwd     *http.Client
	hash    string

	// runs: the runtime runs this app (it has agents or tasks); else
	// ingest goes through a producer of the server's own.
	runs   bool
	prodMu sync.Mutex
	prod   kafka.Producer

	errLog limiter

	mu     sync.Mutex
	srv    *http.Server
	ln     net.Listener
	url    string
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// handlers are the pipelines running beside their requests' handlers.
	handlers sync.WaitGroup
}

// New returns the server of an app of the runtime's plan; nothing is
// bound before Start.
func New(rt *engine.Runtime, app *engine.AppPlan, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.HandlerTimeout <= 0 {
		opts.HandlerTimeout = DefaultHandlerTimeout
	}
	if opts.MembersInterval <= 0 {
		opts.MembersInterval = DefaultMembersInterval
	}
	if opts.ConfigGeneration <= 0 {
		opts.ConfigGeneration = 1
	}
	if opts.Addr == "" {
		opts.Addr = ":" + strconv.Itoa(app.WebPort)
	}
	s := &Server{
		rt:      rt,
		app:     app,
		opts:    opts,
		log:     opts.Logger.With("app", app.Name),
		base:    strings.TrimSuffix(app.WebBasePath, "/"),
		workers: make(chan *worker, 256),
		runs:    len(app.Agents) > 0 || len(app.Tasks) > 0,
		hash:    opts.ConfigHash,
	}
	if s.hash == "" {
		s.hash = configHash(app)
	}
	if s.base != "" && !strings.HasPrefix(s.base, "/") {
		s.base = "/" + s.base
	}
	s.metrics = newMetrics(s)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	s.fwd = &http.Client{
		Transport: transport,
		// A replica's answer is passed on as it is, redirects included.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, wp := range app.WebViews {
		v, err := newView(s, wp)
		if err != nil {
			return nil, fmt.Errorf("app %s: web view %s: %w", app.Name, wp.Name, err)
		}
		s.views = append(s.views, v)
	}
	if readsPartitioned(app) {
		s.members = newMembers(s)
	}
	e, err := s.router()
	if err != nil {
		return nil, fmt.Errorf("app %s: %w", app.Name, err)
	}
	s.e = e
	return s, nil
}

// readsPartitioned reports whether a web view of the app reads a
// partitioned table: only then may a request need another replica.
func readsPartitioned(app *engine.AppPlan) bool {
	for _, w := range app.WebViews {
		for _, op := range w.Ops {
			for _, t := range op.Tables {
				if t.Table != nil && !t.Table.Global {
					return true
				}
			}
		}
	}
	return false
}

// router builds the Echo instance: the web views and weir's endpoints.
func (s *Server) router() (*echo.Echo, error) {
	e := echo.NewWithConfig(echo.Config{
		Logger:           s.log,
		HTTPErrorHandler: s.errorHandler,
		Router: echo.NewRouter(echo.RouterConfig{
			UseEscapedPathForMatching: true,
			UnescapePathParamValues:   true,
		}),
	})
	e.Use(s.recoverPanics, s.metrics.middleware)
	if len(s.opts.CORSOrigins) > 0 {
		cors, err := middleware.CORSConfig{AllowOrigins: s.opts.CORSOrigins}.ToMiddleware()
		if err != nil {
			return nil, fmt.Errorf("CORS: %w", err)
		}
		e.Use(cors)
	}
	for _, v := range s.views {
		if _, err := e.AddRoute(echo.Route{Method: v.plan.Method, Path: v.route, Handler: s.serveView(v), Name: v.plan.Name}); err != nil {
			return nil, fmt.Errorf("web view %s: route %s %s: %w", v.plan.Name, v.plan.Method, v.plan.Path, err)
		}
	}
	e.GET(s.base+"/status/", s.status)
	e.GET(s.base+"/status", s.status)
	e.POST(s.base+"/signal/rebalance", s.rebalance)
	e.GET(s.base+"/healthz", s.healthz)
	e.GET(s.base+"/readyz", s.readyz)
	e.GET(s.metricsPath(), echo.WrapHandler(s.metrics.handler()))
	return e, nil
}

// metricsPath is <webBasePath><webMetricsBasePath>/metrics.
func (s *Server) metricsPath() string {
	mb := strings.TrimSuffix(s.app.WebMetricsBasePath, "/")
	if mb != "" && !strings.HasPrefix(mb, "/") {
		mb = "/" + mb
	}
	return s.base + mb + "/metrics"
}

// Start binds the server's address, starts serving, and starts following
// the members topic when the app needs it. ctx bounds the start only.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("webview: already started")
	}
	if !s.runs && (len(s.app.Topics) > 0 || len(s.app.MustExist) > 0) {
		// The runtime does not run this app (no agents, no tasks), so its
		// web views' topics are declared here.
		if err := engine.DeclareTopics(ctx, s.app, s.log); err != nil {
			return fmt.Errorf("app %s: %w", s.app.Name, err)
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("app %s: web server on %s: %w (apps of one process need their own spec.config.webPort)", s.app.Name, s.opts.Addr, err)
	}
	u, err := advertised(s.opts.AdvertiseURL, s.opts.Addr, ln.Addr())
	if err != nil {
		ln.Close()
		return fmt.Errorf("app %s: %w", s.app.Name, err)
	}
	s.ln, s.url = ln, u
	s.srv = &http.Server{
		Handler:           s.e,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("the web server stopped", "error", err)
		}
	}()
	if s.members != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.members.run(runCtx)
		}()
	}
	s.log.Info("web server listening", "addr", ln.Addr().String(), "url", u, "webViews", len(s.views))
	return nil
}

// advertised is the URL other replicas reach this server at.
func advertised(adv, addr string, bound net.Addr) (string, error) {
	_, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return "", err
	}
	if adv == "" {
		host, _, _ := net.SplitHostPort(addr)
		if host == "" || host == "0.0.0.0" || host == "::" {
			if host, err = os.Hostname(); err != nil {
				return "", fmt.Errorf("no advertise URL given and no hostname: %w", err)
			}
		}
		return "http://" + net.JoinHostPort(host, port), nil
	}
	u, err := url.Parse(adv)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("advertise URL %q: want http://host[:port] or https://host[:port]", adv)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host, "/"), nil
}

// Addr is the address the server is bound to; nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// URL is the URL this server advertises to the other replicas; "" before
// Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Stop stops taking requests, lets those in flight finish (until ctx
// ends), withdraws this replica from the members topic and stops
// following it. Stop servers before the runtime: the withdrawal goes
// through the app's producer.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	s.handlers.Wait()
	if s.members != nil {
		s.members.withdraw(ctx)
	}
	s.cancel()
	s.wg.Wait()
	s.prodMu.Lock()
	if s.prod != nil {
		if ferr := s.prod.Flush(ctx); ferr != nil && err == nil {
			err = ferr
		}
		s.prod.Close()
		s.prod = nil
	}
	s.prodMu.Unlock()
	s.srv = nil
	return err
}

// errorHandler answers the errors Echo and handlers return (no route, no
// such method, ...) with a short JSON object and no internals.
func (s *Server) errorHandler(c *echo.Context, err error) {
	if r, _ := echo.UnwrapResponse(c.Response()); r != nil && r.Committed {
		return
	}
	code := http.StatusInternalServerError
	var sc echo.HTTPStatusCoder
	if errors.As(err, &sc) && sc.StatusCode() != 0 {
		code = sc.StatusCode()
	}
	msg := http.StatusText(code)
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Message != "" && code < 500 {
		msg = he.Message
	}
	if code >= 500 {
		s.logError("a request failed", "path", c.Request().URL.Path, "error", err)
	}
	writeError(c, code, msg)
}

// writeError writes weir's own error answer: {"error": msg}.
func writeError(c *echo.Context, code int, msg string) {
	b, _ := jsonString(msg)
	body := append(append([]byte(`{"error": `), b...), '}', '\n')
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	_ = c.Blob(code, "application/json", body)
}

// unavailable answers 503 with Retry-After.
func unavailable(c *echo.Context, msg string) {
	c.Response().Header().Set("Retry-After", retryAfter)
	writeError(c, http.StatusServiceUnavailable, msg)
}

// recoverPanics turns a panic in a handler into a 500 without its stack,
// which goes to the log.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("a request handler panicked", "path", c.Request().URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if r, _ := echo.UnwrapResponse(c.Response()); r == nil || !r.Committed {
					writeError(c, http.StatusInternalServerError, "internal error")
				}
				err = nil
			}
		}()
		return next(c)
	}
}

// logError logs a failure, a few a second at most.
func (s *Server) logError(msg string, args ...any) {
	if ok, dropped := s.errLog.allow(time.Now()); ok {
		if dropped > 0 {
			args = append(args, "suppressed", dropped)
		}
		s.log.Warn(msg, args...)
	}
}

// limiter lets a few events a second through.
type limiter struct {
	mu      sync.Mutex
	window  time.Time
	n       int
	dropped int
}

// perSecond is how many events a limiter lets through a second.
const perSecond = 5

func (l *limiter) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= time.Second {
		l.window, l.n = now, 0
	}
	if l.n >= perSecond {
		l.dropped++
		return false, 0
	}
	l.n++
	d := l.dropped
	l.dropped = 0
	return true, d
}

// producer returns the producer of ingest for an app the runtime does not
// run, made at first use.
func (s *Server) producer() (kafka.Producer, error) {
	s.prodMu.Lock()
	defer s.prodMu.Unlock()
	if s.prod != nil {
		return s.prod, nil
	}
	client, err := engine.ClientFor(s.app.Client)
	if err != nil {
		return nil, err
	}
	p, err := client.NewProducer(s.app.Kafka)
	if err != nil {
		return nil, err
	}
	s.prod = p
	return p, nil
}

// produce sends a record and waits for the broker's acknowledgement.
func (s *Server) produce(ctx context.Context, rec *kafka.Record) error {
	if s.runs {
		return s.rt.Produce(ctx, s.app.Name, rec)
	}
	p, err := s.producer()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	p.Produce(rec, func(_ *kafka.Record, err error) { done <- err })
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
