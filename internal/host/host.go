// Package host is the one path by which a running weir changes what it
// runs: it reads the manifests (the watched folders, and the apps the
// control API holds), loads and compiles them as one snapshot, and, only
// when the whole snapshot compiles, hands the plan to the runtime
// (engine.Runtime.Apply). A snapshot that fails changes nothing: the
// running apps go on, and the failure is kept (LastError), logged with its
// file:line:column, and counted. The watcher, SIGHUP and the control API
// all reload through it, so what one accepts the others accept.
package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/spec"
)

// Options are how a host loads and compiles.
type Options struct {
	// Paths are the watched folders and files.
	Paths []string
	// Compile is passed to engine.Compile.
	Compile engine.Options
	// Adjust, when set, changes a loaded bundle before it is compiled
	// (weir dev points every app at the embedded broker).
	Adjust func(*spec.Bundle)
	// AdjustPlan, when set, changes a compiled plan before it runs.
	AdjustPlan func(*engine.Plan)
	Logger     *slog.Logger
	// AllowEmpty lets a snapshot hold no manifests at all (the control API
	// adds apps to an empty process, and may remove the last one).
	AllowEmpty bool
}

// ReloadError is why the last reload failed.
type ReloadError struct {
	Time time.Time
	// Errors are the problems, each with its file:line:column when it has
	// one.
	Errors []string
}

func (e *ReloadError) Error() string {
	if len(e.Errors) == 1 {
		return e.Errors[0]
	}
	return fmt.Sprintf("%d errors, the first: %s", len(e.Errors), e.Errors[0])
}

// Host holds the sources and the runtime.
type Host struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex // one reload at a time
	rt       *engine.Runtime
	extra    map[string][]spec.File // manifests held beside the folders (the control API's), by owner
	last     *ReloadError
	failures int64
	watchers []func(*engine.Plan)
}

// New returns a host for the options; Start runs it.
func New(opts Options) *Host {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Host{opts: opts, log: opts.Logger, extra: map[string][]spec.File{}}
}

// Snapshot reads every source and compiles them together: the plan and
// its hash, or the errors.
func (h *Host) Snapshot() (*engine.Plan, string, error) {
	var files []spec.File
	if len(h.opts.Paths) > 0 {
		fs, err := spec.ReadFiles(h.opts.Paths...)
		if err != nil {
			return nil, "", err
		}
		files = append(files, fs...)
	}
	owners := make([]string, 0, len(h.extra))
	for o := range h.extra {
		owners = append(owners, o)
	}
	slices.Sort(owners)
	for _, o := range owners {
		files = append(files, h.extra[o]...)
	}
	if len(files) == 0 && !h.opts.AllowEmpty {
		return nil, "", errors.New("no manifests: the folders hold no .yaml or .yml files")
	}
	sum := sha256.New()
	for _, f := range files {
		fmt.Fprintf(sum, "%s\x00%d\x00", f.Name, len(f.Data))
		sum.Write(f.Data)
	}
	hash := hex.EncodeToString(sum.Sum(nil))[:16]
	b, err := spec.Parse(files...)
	if err != nil {
		return nil, hash, err
	}
	if h.opts.Adjust != nil {
		h.opts.Adjust(b)
	}
	p, err := engine.Compile(b, h.opts.Compile)
	if err != nil {
		return nil, hash, err
	}
	if h.opts.AdjustPlan != nil {
		h.opts.AdjustPlan(p)
	}
	return p, hash, nil
}

// Start compiles the sources and starts a runtime on them.
func (h *Host) Start(ctx context.Context, ropts engine.RuntimeOptions) (*engine.Runtime, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, hash, err := h.Snapshot()
	if err != nil {
		return nil, err
	}
	if ropts.Logger == nil {
		ropts.Logger = h.log
	}
	rt := engine.NewRuntime(p, ropts)
	if err := rt.Start(ctx); err != nil {
		return nil, err
	}
	rt.SetHash(hash)
	h.rt = rt
	return rt, nil
}

// Runtime returns the runtime Start made.
func (h *Host) Runtime() *engine.Runtime { return h.rt }

// OnPlan registers fn, called with every plan a reload applies (package
// webview swaps its routes with it).
func (h *Host) OnPlan(fn func(*engine.Plan)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.watchers = append(h.watchers, fn)
}

// Reload reads and compiles the sources again and applies the plan (see
// the package doc). why says what asked (a file change, SIGHUP, the API),
// for the log.
func (h *Host) Reload(ctx context.Context, why string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reload(ctx, why)
}

func (h *Host) reload(ctx context.Context, why string) error {
	p, hash, err := h.Snapshot()
	if err != nil {
		return h.failed(why, err)
	}
	if _, old := h.rt.Generation(); old == hash {
		h.log.Debug("reload: nothing changed", "reason", why, "hash", hash)
		return nil
	}
	rep, err := h.rt.Apply(ctx, p, hash)
	if err != nil {
		return h.failed(why, err)
	}
	h.last = nil
	gen, _ := h.rt.Generation()
	h.log.Info("reloaded", "reason", why, "generation", gen, "hash", hash, "changes", rep.String())
	for _, fn := range h.watchers {
		fn(p)
	}
	return nil
}

// failed records and logs a reload that changed nothing.
func (h *Host) failed(why string, err error) error {
	re := &ReloadError{Time: time.Now()}
	var es spec.Errors
	if errors.As(err, &es) {
		for _, e := range es {
			re.Errors = append(re.Errors, e.Error())
		}
	} else {
		re.Errors = []string{err.Error()}
	}
	h.last = re
	h.failures++
	if h.rt != nil {
		h.rt.ReloadFailed(re.Error())
	}
	h.log.Error("reload refused: the running apps are unchanged", "reason", why, "errors", len(re.Errors), "error", re.Errors[0])
	for _, e := range re.Errors[1:] {
		h.log.Error("reload refused", "error", e)
	}
	return re
}

// LastError returns why the last reload failed; nil after a success.
func (h *Host) LastError() *ReloadError {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// Failures counts the reloads that failed.
func (h *Host) Failures() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failures
}

// Set holds manifests for an owner (the control API, one owner per app)
// and reloads; on failure the manifests are not kept. nil files remove the
// owner's manifests.
func (h *Host) Set(ctx context.Context, owner string, files []spec.File, why string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	prev, had := h.extra[owner]
	if files == nil {
		delete(h.extra, owner)
	} else {
		h.extra[owner] = files
	}
	if err := h.reload(ctx, why); err != nil {
		if had {
			h.extra[owner] = prev
		} else {
			delete(h.extra, owner)
		}
		return err
	}
	return nil
}

// OneBroker makes every topic a plan declares have one replica: for a
// cluster of one broker (weir dev's).
func OneBroker(p *engine.Plan) {
	for _, a := range p.Apps {
		for i := range a.Topics {
			a.Topics[i].ReplicationFactor = 1
		}
	}
}
