package control

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/internal/host"
	"github.com/weirstream/weir/spec"
)

// Options tune a Server.
type Options struct {
	// Addr is the address to listen on, host:port; port 0 takes a free
	// one (see Server.Addr). "": DefaultAddr.
	Addr string
	// Token, when set, is the bearer token every request must carry. It is
	// required when Addr is not a loopback address.
	Token string
	// DataDir is the process's data dir: the API's apps are kept in
	// <DataDir>/api. "": they are not kept (they go with the process).
	DataDir string
	// Logs are the apps' recent lines (the process's logger must log
	// through Logs.Handler); nil: the logs routes answer with no lines.
	Logs   *Logs
	Logger *slog.Logger
	// MaxBodyBytes bounds a request body; 0: DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// ChangeTimeout bounds a create, update or delete (the apply of the
	// new plan included); 0: DefaultChangeTimeout.
	ChangeTimeout time.Duration
	// SampleInterval is how often the runtime's counters are sampled for
	// the rates; 0: a second.
	SampleInterval time.Duration
	// MaxFollowers bounds the log followers (SSE) open at once; 0: 64.
	MaxFollowers int
}

// The defaults of Options.
const (
	DefaultAddr          = "127.0.0.1:8080"
	DefaultMaxBodyBytes  = 4 << 20
	DefaultChangeTimeout = 2 * time.Minute
)

// Server is the control API of one process.
type Server struct {
	h     *host.Host
	opts  Options
	log   *slog.Logger
	logs  *Logs
	store *store // nil: apps are not kept

	// change makes creates, updates and deletes one at a time.
	change sync.Mutex

	mu   sync.Mutex
	recs map[string]*record // the API's apps, by id
	seen map[string]*seen   // every app of the plan, by name

	rates     sampler
	routes    []*route
	mux       *http.ServeMux
	followers chan struct{} // a slot per open follower

	srvMu   sync.Mutex
	srv     *http.Server
	ln      net.Listener
	closing chan struct{} // closed at Stop: followers end
	wg      sync.WaitGroup
}

// seen is what the API knows of an app of the plan beyond the plan: when
// it first saw it, and how many versions of it it has seen.
type seen struct {
	created    time.Time
	updated    time.Time
	generation int64
	hash       string
}

// New prepares the control API of a host that has not started yet: the
// apps kept in <DataDir>/api are read and held by the host, so that Start
// starts them with the folders' apps. A kept app that does not load with
// the others is left out (and listed as failed) rather than stopping the
// process. Start serves once the host has started.
func New(h *host.Host, opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Logs == nil {
		opts.Logs = NewLogs(0)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.ChangeTimeout <= 0 {
		opts.ChangeTimeout = DefaultChangeTimeout
	}
	if opts.SampleInterval <= 0 {
		opts.SampleInterval = time.Second
	}
	if opts.MaxFollowers <= 0 {
		opts.MaxFollowers = 64
	}
	if err := CheckAddr(opts.Addr, opts.Token); err != nil {
		return nil, err
	}
	s := &Server{
		h:         h,
		opts:      opts,
		log:       opts.Logger,
		logs:      opts.Logs,
		recs:      map[string]*record{},
		seen:      map[string]*seen{},
		followers: make(chan struct{}, opts.MaxFollowers),
		closing:   make(chan struct{}),
	}
	if opts.DataDir != "" {
		s.store = &store{dir: filepath.Join(opts.DataDir, "api")}
		s.restore()
	}
	s.mux = s.router()
	h.OnPlan(s.observe)
	return s, nil
}

// CheckAddr refuses an address that is not a loopback one when there is
// no token: such a server would let anyone who reaches it run code.
func CheckAddr(addr, token string) error {
	hostPart, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("control API address %q: want host:port: %w", addr, err)
	}
	if token == "" && !loopbackHost(hostPart) {
		return fmt.Errorf("the control API would listen on %s, beyond this machine, without a token: give one (--api-token-file, WEIR_API_TOKEN), or listen on 127.0.0.1", addr)
	}
	return nil
}

// loopbackHost reports whether a host names the loopback interface.
func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// restore reads the kept apps and holds them in the host; those that do
// not load with the rest are left out, with their errors.
func (s *Server) restore() {
	recs, errs := s.store.load()
	for _, err := range errs {
		s.log.Error("an app kept by the control API cannot be read; it is left out", "error", err)
	}
	for _, r := range recs {
		s.recs[r.ID] = r
		s.h.Hold(owner(r.ID), r.files())
	}
	// Each round leaves out the kept apps the errors point at; errors only
	// in the folders are for Start to report.
	for range len(recs) {
		_, _, err := s.h.Snapshot()
		var es spec.Errors
		if err == nil || !errors.As(err, &es) {
			return
		}
		bad := map[string][]apiError{}
		for _, e := range es {
			rest, ok := strings.CutPrefix(e.File, "api/")
			if !ok {
				continue
			}
			id, _, _ := strings.Cut(rest, "/")
			if s.recs[id] == nil {
				continue
			}
			bad[id] = append(bad[id], specErrors(spec.Errors{e}, owner(id)+"/")...)
		}
		if len(bad) == 0 {
			return
		}
		for id, es := range bad {
			s.recs[id].failed = es
			s.h.Hold(owner(id), nil)
			for _, e := range es {
				s.log.Error("an app kept by the control API does not load; it is left out until it is updated or deleted", "app", id, "error", e.Text)
			}
		}
	}
}

// rt is the host's runtime.
func (s *Server) rt() *engine.Runtime { return s.h.Runtime() }

// Start binds the address and serves. The host must have started. ctx
// bounds the start only.
func (s *Server) Start(ctx context.Context) error {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil {
		return errors.New("control: already started")
	}
	rt := s.rt()
	if rt == nil {
		return errors.New("control: the host has not started")
	}
	s.observe(rt.Plan())
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("control API on %s: %w", s.opts.Addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() && s.opts.Token == "" {
		ln.Close()
		return fmt.Errorf("the control API is bound to %s, beyond this machine, and has no token", ln.Addr())
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("the control API stopped", "error", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		s.sample()
	}()
	s.log.Info("control API listening", "url", s.URL(), "token", s.opts.Token != "")
	return nil
}

// sample samples the runtime's counters until Stop.
func (s *Server) sample() {
	t := time.NewTicker(s.opts.SampleInterval)
	defer t.Stop()
	for {
		s.rates.add(time.Now(), s.rt().Stats())
		select {
		case <-s.closing:
			return
		case <-t.C:
		}
	}
}

// Addr is the bound address; nil before Start.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// URL is http://<bound address>; "" before Start.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Stop stops taking requests, ends the log followers, and lets the other
// requests in flight finish until ctx ends. Stop it before the runtime.
func (s *Server) Stop(ctx context.Context) error {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv == nil {
		return nil
	}
	close(s.closing)
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	s.wg.Wait()
	s.srv = nil
	return err
}

// Handler is the API's handler with its guards: limits, origin, host and
// token checks, and panics answered without a stack.
func (s *Server) Handler() http.Handler {
	var want [32]byte
	if s.opts.Token != "" {
		want = sha256.Sum256([]byte(s.opts.Token))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("a control API handler panicked", "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				writeProblem(w, newProblem(http.StatusInternalServerError, "internal error"))
			}
		}()
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if p := s.guard(r, want); p != nil {
			writeProblem(w, p)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		s.mux.ServeHTTP(w, r)
	})
}

// guard refuses what a request may not do.
func (s *Server) guard(r *http.Request, want [32]byte) *problem {
	// A browser marks requests one site makes to another; the API is for
	// programs, and a page must not drive it.
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return newProblem(http.StatusForbidden, "cross-origin requests are refused: the control API is for programs, not web pages")
	}
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host && o != "https://"+r.Host {
		return newProblem(http.StatusForbidden, "cross-origin requests are refused: the control API is for programs, not web pages")
	}
	if s.opts.Token == "" {
		// Only names of this machine: a DNS name that points here for a
		// while (rebinding) does not reach the API.
		h := r.Host
		if hh, _, err := net.SplitHostPort(h); err == nil {
			h = hh
		}
		if !loopbackHost(strings.Trim(h, "[]")) {
			return newProblem(http.StatusForbidden, "host %q is refused: without a token the control API answers requests to the loopback address only", r.Host)
		}
		return nil
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return newProblem(http.StatusUnauthorized, "a bearer token is required: send Authorization: Bearer <token>")
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return newProblem(http.StatusUnauthorized, "the bearer token is not the control API's")
	}
	return nil
}
