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
	"sync/atomic"
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
	// for /status/; 0 and "": the runtime's (Runtime.Generation), with a
	// hash of the app's resources when the runtime has none.
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
	name string          // the app's name
	app  *engine.AppPlan // the plan the server was made with: the app's identity and Kafka connection
	opts Options
	// addrOfPlan: the address comes from the plan's webPort.
	addrOfPlan bool
	log        *slog.Logger

	site    atomic.Pointer[site]    // what is served now
	members atomic.Pointer[members] // nil while no web view reads a partitioned table
	metrics *metrics
	fwd     *http.Client

	prodMu sync.Mutex
	prod   kafka.Producer // ingest of an app the runtime does not run

	errLog engine.LogLimiter

	mu     sync.Mutex
	srv    *http.Server
	ln     net.Listener
	url    string
	runCtx context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// handlers are the pipelines running beside their requests' handlers.
	handlers sync.WaitGroup
}

// site is what one plan of the app serves: its web views and routes, and
// the interpreter threads of its code. Apply swaps it whole.
type site struct {
	app *engine.AppPlan
	// runs: the runtime runs the app (it has agents or tasks); else
	// ingest goes through a producer of the server's own.
	runs  bool
	base  string // webBasePath, without a trailing slash
	views []*view
	e     *echo.Echo
	hash  string // of the app's resources

	mu     sync.Mutex
	idle   []*worker // workers waiting for a request
	closed bool
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
	s := &Server{
		rt:         rt,
		name:       app.Name,
		app:        app,
		opts:       opts,
		addrOfPlan: opts.Addr == "",
		log:        opts.Logger.With("app", app.Name),
	}
	if s.addrOfPlan {
		s.opts.Addr = ":" + strconv.Itoa(app.WebPort)
	}
	s.metrics = newMetrics(s)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	s.fwd = &http.Client{
		Transport: transport,
		// A replica's answer is passed on as it is, redirects included.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	st, err := s.newSite(app)
	if err != nil {
		return nil, err
	}
	s.site.Store(st)
	if readsPartitioned(app) {
		s.members.Store(newMembers(s))
	}
	return s, nil
}

// cur is what is served now.
func (s *Server) cur() *site { return s.site.Load() }

// newSite builds what a plan of the app serves.
func (s *Server) newSite(app *engine.AppPlan) (*site, error) {
	st := &site{
		app:  app,
		runs: len(app.Agents) > 0 || len(app.Tasks) > 0,
		base: strings.TrimSuffix(app.WebBasePath, "/"),
		hash: configHash(app),
	}
	if st.base != "" && !strings.HasPrefix(st.base, "/") {
		st.base = "/" + st.base
	}
	for _, wp := range app.WebViews {
		v, err := newView(s, st, wp)
		if err != nil {
			return nil, fmt.Errorf("app %s: web view %s: %w", app.Name, wp.Name, err)
		}
		st.views = append(st.views, v)
	}
	e, err := s.router(st)
	if err != nil {
		return nil, fmt.Errorf("app %s: %w", app.Name, err)
	}
	st.e = e
	return st, nil
}

// Apply serves a new plan of the app (a reload): the web views and routes
// are swapped at once; requests in flight finish on the old ones. A plan
// that fails to build changes nothing. A new webPort needs a new server
// (an error says so) unless Options.Addr was given.
func (s *Server) Apply(ctx context.Context, app *engine.AppPlan) error {
	if app.Name != s.name {
		return fmt.Errorf("webview: the server of app %s cannot serve app %s", s.name, app.Name)
	}
	if s.addrOfPlan && app.WebPort != s.app.WebPort {
		return fmt.Errorf("app %s: webPort changed from %d to %d: the web server must be restarted to listen there", s.name, s.app.WebPort, app.WebPort)
	}
	st, err := s.newSite(app)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		if err := s.declare(ctx, st); err != nil {
			return err
		}
	}
	s.site.Swap(st).close()
	if s.members.Load() == nil && readsPartitioned(app) {
		s.members.Store(newMembers(s))
		if s.srv != nil {
			s.followMembers()
		}
	}
	s.log.Info("web views swapped", "webViews", len(st.views))
	return nil
}

// declare declares the topics of an app the runtime does not run (no
// agents, no tasks): its web views' topics.
func (s *Server) declare(ctx context.Context, st *site) error {
	if st.runs || (len(st.app.Topics) == 0 && len(st.app.MustExist) == 0) {
		return nil
	}
	if err := engine.DeclareTopics(ctx, st.app, s.log); err != nil {
		return fmt.Errorf("app %s: %w", s.name, err)
	}
	return nil
}

// followMembers starts following the members topic; s.mu is held.
func (s *Server) followMembers() {
	m := s.members.Load()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		m.run(s.runCtx)
	}()
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

// router builds the Echo instance of a site: the web views and weir's
// endpoints.
func (s *Server) router(st *site) (*echo.Echo, error) {
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
	for _, v := range st.views {
		if _, err := e.AddRoute(echo.Route{Method: v.plan.Method, Path: v.route, Handler: s.serveView(v), Name: v.plan.Name}); err != nil {
			return nil, fmt.Errorf("web view %s: route %s %s: %w", v.plan.Name, v.plan.Method, v.plan.Path, err)
		}
	}
	e.GET(st.base+"/status/", s.status)
	e.GET(st.base+"/status", s.status)
	e.POST(st.base+"/signal/rebalance", s.rebalance)
	e.GET(st.base+"/healthz", s.healthz)
	e.GET(st.base+"/readyz", s.readyz)
	e.GET(metricsPath(st), echo.WrapHandler(s.metrics.handler()))
	return e, nil
}

// metricsPath is <webBasePath><webMetricsBasePath>/metrics.
func metricsPath(st *site) string {
	mb := strings.TrimSuffix(st.app.WebMetricsBasePath, "/")
	if mb != "" && !strings.HasPrefix(mb, "/") {
		mb = "/" + mb
	}
	return st.base + mb + "/metrics"
}

// Start binds the server's address, starts serving, and starts following
// the members topic when the app needs it. ctx bounds the start only.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("webview: already started")
	}
	st := s.cur()
	if err := s.declare(ctx, st); err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("app %s: web server on %s: %w (apps of one process need their own spec.config.webPort)", s.name, s.opts.Addr, err)
	}
	u, err := advertised(s.opts.AdvertiseURL, s.opts.Addr, ln.Addr())
	if err != nil {
		ln.Close()
		return fmt.Errorf("app %s: %w", s.name, err)
	}
	s.ln, s.url = ln, u
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.cur().e.ServeHTTP(w, r) }),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.runCtx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("the web server stopped", "error", err)
		}
	}()
	if s.members.Load() != nil {
		s.followMembers()
	}
	s.log.Info("web server listening", "addr", ln.Addr().String(), "url", u, "webViews", len(st.views))
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
	s.cur().close()
	if m := s.members.Load(); m != nil {
		m.withdraw(ctx)
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
	if ok, dropped := s.errLog.Allow(time.Now()); ok {
		if dropped > 0 {
			args = append(args, "suppressed", dropped)
		}
		s.log.Warn(msg, args...)
	}
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
	if s.cur().runs {
		return s.rt.Produce(ctx, s.name, rec)
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
