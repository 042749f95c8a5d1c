package watch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Mode says how a Watcher learns of changes.
type Mode string

// The modes.
const (
	FSNotify Mode = "fsnotify" // file-system events, polling when they cannot be had
	Poll     Mode = "poll"     // walk the tree every Options.Interval
	Off      Mode = "off"      // never notify
)

// ParseMode reads a mode as the --watch flag gives it.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case FSNotify, Poll, Off:
		return m, nil
	}
	return "", fmt.Errorf("watch mode must be fsnotify, poll or off, not %q", s)
}

// Defaults of Options.
const (
	DefaultDebounce = 300 * time.Millisecond
	DefaultInterval = 2 * time.Second
)

// Options configure a Watcher. The zero value watches with fsnotify.
type Options struct {
	// Mode is FSNotify when empty.
	Mode Mode
	// Debounce is how long things must stay quiet after a change before it
	// is reported; DefaultDebounce when zero.
	Debounce time.Duration
	// Interval is how often poll mode walks the tree (also after falling
	// back from fsnotify); DefaultInterval when zero.
	Interval time.Duration
	// Ignore lists directories that are neither walked nor watched, such as
	// a data directory inside a watched folder.
	Ignore []string
	// Logger receives the fallback to polling and watch errors;
	// slog.Default() when nil.
	Logger *slog.Logger
}

// Change is one notification: what the paths hold may have changed, so the
// whole folder should be loaded again.
type Change struct {
	// Paths are the files that appeared, disappeared or changed since the
	// last notification, sorted; for the log only.
	Paths []string
}

// Watcher watches paths and notifies on Changes. It is created by New,
// runs in Run and is released by Run's return or by Close.
type Watcher struct {
	paths    []string
	debounce time.Duration
	interval time.Duration
	ignore   []string
	log      *slog.Logger

	changes chan Change
	quit    chan struct{}
	done    chan struct{} // closed when Run returns

	mu      sync.Mutex
	mode    Mode
	started bool
	closed  bool

	// Owned by the goroutine in Run (by New before it).
	fsw      *fsnotify.Watcher
	watched  map[string]os.FileInfo // real directories watched
	watchErr error                  // the first failure to add a watch in a walk
	last     snapshot
	release  sync.Once

	// For tests: notifications made (coalesced or not), walks made, the
	// number of walks made when the last notification was, and the
	// fingerprint it was made for.
	delivered     atomic.Int64
	scans         atomic.Int64
	deliveredScan atomic.Int64
	notified      atomic.Pointer[snapshot]
}

// The calls into fsnotify that may fail for want of resources; tests make
// them fail.
var (
	newFSWatcher = fsnotify.NewWatcher
	addFSWatch   = (*fsnotify.Watcher).Add
)

// New sets a Watcher up over paths: it starts watching and takes the
// fingerprint later changes are compared with. Nothing is delivered until
// Run.
func New(paths []string, opts Options) (*Watcher, error) {
	if len(paths) == 0 {
		return nil, errors.New("watch: no paths to watch")
	}
	mode := opts.Mode
	if mode == "" {
		mode = FSNotify
	}
	if _, err := ParseMode(string(mode)); err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	if opts.Debounce < 0 || opts.Interval < 0 {
		return nil, errors.New("watch: Debounce and Interval may not be negative")
	}
	w := &Watcher{
		paths:    slices.Clone(paths),
		debounce: cmp.Or(opts.Debounce, DefaultDebounce),
		interval: cmp.Or(opts.Interval, DefaultInterval),
		ignore:   slices.Clone(opts.Ignore),
		log:      opts.Logger,
		changes:  make(chan Change, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		mode:     mode,
		watched:  map[string]os.FileInfo{},
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	switch mode {
	case FSNotify:
		fsw, err := newFSWatcher()
		if err != nil {
			w.fallBack(err)
			w.last, _ = w.scan(nil)
			break
		}
		w.fsw = fsw
		w.last = w.scanWatching()
	case Poll:
		w.last, _ = w.scan(nil)
	}
	base := w.last
	w.notified.Store(&base)
	return w, nil
}

// Changes delivers the notifications. It holds at most one: a notification
// due while one is waiting is merged into it. It is closed when Run returns
// (or by Close, when Run never ran).
func (w *Watcher) Changes() <-chan Change { return w.changes }

// Mode is the mode in effect: Poll after a fallback from FSNotify.
func (w *Watcher) Mode() Mode {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mode
}

// Run watches until ctx is done or Close is called, then releases what the
// Watcher holds and closes Changes. It returns nil then; it fails only when
// called a second time.
func (w *Watcher) Run(ctx context.Context) error {
	w.mu.Lock()
	if w.started {
		w.mu.Unlock()
		return errors.New("watch: Run called twice")
	}
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.started = true
	w.mu.Unlock()
	defer close(w.done)
	defer close(w.changes)
	defer w.releaseAll()
	w.loop(ctx)
	return nil
}

// Close stops Run and waits for it to return, or releases the Watcher if Run
// never ran. It may be called more than once.
func (w *Watcher) Close() error {
	w.mu.Lock()
	first := !w.closed
	w.closed = true
	started := w.started
	w.mu.Unlock()
	if first {
		close(w.quit)
	}
	if started {
		<-w.done
		return nil
	}
	if first {
		w.releaseAll()
		close(w.changes)
	}
	return nil
}

func (w *Watcher) releaseAll() {
	w.release.Do(func() {
		if w.fsw != nil {
			w.fsw.Close()
			w.fsw = nil
		}
	})
}

func (w *Watcher) setMode(m Mode) {
	w.mu.Lock()
	w.mode = m
	w.mu.Unlock()
}

// fallBack switches from fsnotify to polling, saying why.
func (w *Watcher) fallBack(why error) {
	if w.fsw != nil {
		w.fsw.Close()
		w.fsw = nil
	}
	w.watched = map[string]os.FileInfo{}
	w.setMode(Poll)
	w.log.Warn("file watching falls back to polling: fsnotify cannot watch these paths",
		"reason", why.Error(), "interval", w.interval.String())
}

// scanWatching walks the tree adding watches, drops the watches no longer
// needed, and falls back to polling when a watch cannot be added.
func (w *Watcher) scanWatching() snapshot {
	snap, want := w.scan(w.addWatch)
	if err := w.watchErr; err != nil {
		w.watchErr = nil
		w.fallBack(err)
		return snap
	}
	for dir := range w.watched {
		if _, ok := want[dir]; ok {
			continue
		}
		// A directory that is gone has lost its watch already. One that was
		// moved may share its inode, and so its watch, with a directory
		// still wanted; dropping it would drop that one's watch too.
		info, err := os.Stat(dir)
		if err != nil || slices.ContainsFunc(mapValues(want), func(o os.FileInfo) bool { return os.SameFile(info, o) }) {
			continue
		}
		if err := w.fsw.Remove(dir); err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) {
			w.log.Debug("watch: cannot drop a watch", "dir", dir, "err", err)
		}
	}
	w.watched = want
	return snap
}

func mapValues(m map[string]os.FileInfo) []os.FileInfo {
	out := make([]os.FileInfo, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// addWatch watches dir. A directory that vanished in the meantime is no
// failure: its parent's events bring the next walk.
func (w *Watcher) addWatch(dir string) error {
	err := addFSWatch(w.fsw, dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) && w.watchErr == nil {
		w.watchErr = fmt.Errorf("watching %s: %w", dir, err)
	}
	return err
}

// loop is Run's body.
func (w *Watcher) loop(ctx context.Context) {
	if w.Mode() == Off {
		select {
		case <-ctx.Done():
		case <-w.quit:
		}
		return
	}
	maxWait := 10 * w.debounce
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var (
		timerC     <-chan time.Time
		dirty      bool      // a change is settling
		dirtySince time.Time // when it began
		pending    snapshot  // poll: the walk the settling is judged against
		ticker     *time.Ticker
		tickC      <-chan time.Time
		events     <-chan fsnotify.Event
		errs       <-chan error
	)
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	startPolling := func() {
		events, errs = nil, nil
		ticker = time.NewTicker(w.interval)
		tickC = ticker.C
	}
	if w.fsw != nil {
		events, errs = w.fsw.Events, w.fsw.Errors
	} else {
		startPolling()
	}
	// arm (re)starts the debounce timer, bounded by maxWait since the
	// change began.
	arm := func() {
		now := time.Now()
		if !dirty {
			dirty, dirtySince = true, now
		}
		d := min(w.debounce, max(dirtySince.Add(maxWait).Sub(now), 0))
		timer.Reset(d)
		timerC = timer.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.quit:
			return
		case _, ok := <-events:
			if !ok {
				w.fallBack(errors.New("fsnotify stopped delivering events"))
				startPolling()
				continue
			}
			arm()
		case err, ok := <-errs:
			if !ok {
				continue
			}
			// An overflow lost events; any error may have. A walk
			// finds out what changed.
			w.log.Warn("file watching: events may have been lost; walking the tree again", "err", err)
			arm()
		case <-tickC:
			snap, _ := w.scan(nil)
			ref := w.last
			if dirty {
				ref = pending
			}
			if !snap.equal(ref) {
				pending = snap
				arm()
			}
		case <-timerC:
			timerC = nil
			if w.fsw == nil { // polling: deliver once two walks agree
				snap, _ := w.scan(nil)
				if !snap.equal(pending) && time.Since(dirtySince) < maxWait {
					pending = snap
					arm()
					continue
				}
				dirty, pending = false, nil
				w.compare(snap)
				continue
			}
			dirty = false
			snap := w.scanWatching()
			if w.fsw == nil {
				startPolling()
			}
			if w.compare(snap) && w.fsw != nil {
				arm() // one more walk, for a change that raced with this one
			}
		}
	}
}

// compare notifies if snap differs from the last notified fingerprint and
// says whether it did.
func (w *Watcher) compare(snap snapshot) bool {
	if snap.equal(w.last) {
		return false
	}
	paths := diff(w.last, snap)
	w.last = snap
	w.log.Debug("watched files changed", "paths", len(paths))
	w.deliver(Change{Paths: paths})
	w.notified.Store(&snap)
	return true
}

// deliver puts c on Changes, merging it into a notification still waiting
// there. Only Run's goroutine sends, so once the buffer is empty the send
// cannot block.
func (w *Watcher) deliver(c Change) {
	w.delivered.Add(1)
	w.deliveredScan.Store(w.scans.Load())
	select {
	case w.changes <- c:
		return
	default:
	}
	select {
	case old := <-w.changes:
		c.Paths = mergePaths(old.Paths, c.Paths)
	default:
	}
	w.changes <- c
}

func mergePaths(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}
