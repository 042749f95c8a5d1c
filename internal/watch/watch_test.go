package watch

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

func TestEditNotifiesOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := filepath.Join(dir, "app.yaml")
	write(t, app, "v: 0\n")
	h := start(t, []string{dir}, Options{Debounce: settled})
	for i := 1; i <= 20; i++ {
		write(t, app, fmt.Sprintf("v: %d\n", i))
	}
	h.nextIs(app)
	h.delivered(1)
	// Nothing more came of the burst: the next notification is the next edit's.
	write(t, app, "v: last\n")
	h.nextIs(app)
	h.delivered(2)
}

func TestAddAndRemoveFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "app.yaml"), "v: 1\n")
	h := start(t, []string{dir}, Options{Debounce: quick})
	added := filepath.Join(dir, "agent.yaml")
	write(t, added, "a: 1\n")
	h.sees(added)
	must(t, os.Remove(added))
	h.sees(added)
}

func TestNewSubdirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "app.yaml"), "v: 1\n")
	h := start(t, []string{dir}, Options{Debounce: quick})

	// A directory and a file in it, made in one go.
	deep := filepath.Join(dir, "sub", "deeper", "agent.yaml")
	write(t, deep, "a: 1\n")
	h.sees(deep)
	write(t, deep, "a: 2\n")
	h.sees(deep)

	// An empty directory is no change, but the walk after the next change
	// watches it, so a file written into it later is seen.
	empty := filepath.Join(dir, "later")
	must(t, os.Mkdir(empty, 0o755))
	top := filepath.Join(dir, "table.yaml")
	write(t, top, "t: 1\n")
	h.sees(top)
	inside := filepath.Join(empty, "view.yaml")
	write(t, inside, "w: 1\n")
	h.sees(inside)

	// A directory moved in from elsewhere, then edited.
	outside := t.TempDir()
	write(t, filepath.Join(outside, "pack", "task.yaml"), "k: 1\n")
	moved := filepath.Join(dir, "pack")
	must(t, os.Rename(filepath.Join(outside, "pack"), moved))
	h.sees(filepath.Join(moved, "task.yaml"))
	write(t, filepath.Join(moved, "task.yaml"), "k: 2\n")
	h.sees(filepath.Join(moved, "task.yaml"))
}

func TestConfigMapSwap(t *testing.T) {
	t.Parallel()
	mount := t.TempDir()
	cm := &configMap{t: t, dir: mount}
	cm.write(map[string]string{"app.yaml": "v: 1\n", "agents/count.yaml": "a: 1\n"})
	app := filepath.Join(mount, "app.yaml")
	agent := filepath.Join(mount, "agents", "count.yaml")
	added := filepath.Join(mount, "table.yaml")
	h := start(t, []string{mount}, Options{Debounce: settled})

	// Every visible name resolves into the new timestamped directory, so
	// the notification names them all, the unchanged one included.
	cm.write(map[string]string{"app.yaml": "v: 2\n", "agents/count.yaml": "a: 1\n", "table.yaml": "t: 1\n"})
	h.nextIs(app, agent, added)
	h.delivered(1)
	readIs(t, app, "v: 2\n")

	cm.write(map[string]string{"app.yaml": "v: 3\n", "agents/count.yaml": "a: 1\n"})
	h.nextIs(app, agent, added)
	h.delivered(2)
	readIs(t, app, "v: 3\n")
	if _, err := os.Lstat(added); !os.IsNotExist(err) {
		t.Fatalf("the second swap left %s: %v", added, err)
	}

	// The hidden directories of old swaps are gone, and nothing in them
	// is still watched; the third swap is seen like the others.
	cm.write(map[string]string{"app.yaml": "v: 4\n", "agents/count.yaml": "a: 2\n"})
	h.nextIs(app, agent)
	h.delivered(3)
}

func TestConfigMapFileGivenDirectly(t *testing.T) {
	t.Parallel()
	mount := t.TempDir()
	cm := &configMap{t: t, dir: mount}
	cm.write(map[string]string{"app.yaml": "v: 1\n", "other.yaml": "o: 1\n"})
	app := filepath.Join(mount, "app.yaml")
	h := start(t, []string{app}, Options{Debounce: settled})
	cm.write(map[string]string{"app.yaml": "v: 2\n", "other.yaml": "o: 1\n"})
	h.nextIs(app)
	cm.write(map[string]string{"app.yaml": "v: 3\n", "other.yaml": "o: 2\n"})
	h.nextIs(app)
	h.delivered(2)
}

func TestSingleFileGiven(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := filepath.Join(dir, "app.yaml")
	write(t, app, "v: 1\n")
	sibling := filepath.Join(dir, "other.yaml")
	write(t, sibling, "o: 1\n")
	h := start(t, []string{app}, Options{Debounce: settled})

	// A file beside it changes: no notification. The file is then
	// replaced the way editors save, by renaming a new file over it.
	write(t, sibling, "o: 2\n")
	tmp := filepath.Join(dir, ".app.yaml.tmp")
	write(t, tmp, "v: 2\n")
	must(t, os.Rename(tmp, app))
	h.nextIs(app)
	h.delivered(1)

	// Removed, then created again.
	must(t, os.Remove(app))
	h.nextIs(app)
	write(t, app, "v: 3\n")
	h.nextIs(app)
	h.delivered(3)
}

func TestFolderRemovedAndCreatedAgain(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "apps")
	app := filepath.Join(dir, "app.yaml")
	write(t, app, "v: 1\n")
	h := start(t, []string{dir}, Options{Debounce: quick})

	must(t, os.RemoveAll(dir))
	h.sees(dir, app)
	write(t, app, "v: 2\n")
	h.sees(dir, app)
	more := filepath.Join(dir, "more.yaml")
	write(t, more, "m: 1\n")
	h.sees(more)
}

func TestSymlinksOutOfTheTree(t *testing.T) {
	t.Parallel()
	dir, outside := t.TempDir(), t.TempDir()
	target := filepath.Join(outside, "real.yaml")
	write(t, target, "v: 1\n")
	same := filepath.Join(outside, "same.yaml")
	write(t, same, "v: 2\n")
	shared := filepath.Join(outside, "shared", "agent.yaml")
	write(t, shared, "a: 1\n")
	app := filepath.Join(dir, "app.yaml")
	must(t, os.Symlink(target, app))
	must(t, os.Symlink(filepath.Join(outside, "shared"), filepath.Join(dir, "shared")))
	h := start(t, []string{dir}, Options{Debounce: quick})

	write(t, target, "v: 2\n")
	h.sees(app)
	write(t, shared, "a: 2\n")
	h.sees(filepath.Join(dir, "shared", "agent.yaml"))
	// The link now points at a file with the same content: still a change,
	// since spec.ReadFiles reads each real file once.
	must(t, os.Remove(app))
	must(t, os.Symlink(same, app))
	h.sees(app)
	// A broken link is a change, and so is mending it.
	must(t, os.Remove(same))
	h.sees(app)
	write(t, same, "v: 3\n")
	h.sees(app)

	// A link through a link elsewhere ("current" -> a release) that is
	// re-pointed: only the directory holding "current" sees it.
	elsewhere := t.TempDir()
	releases := filepath.Join(elsewhere, "releases")
	write(t, filepath.Join(releases, "v1", "task.yaml"), "k: 1\n")
	write(t, filepath.Join(releases, "v2", "task.yaml"), "k: 2\n")
	current := filepath.Join(elsewhere, "current")
	must(t, os.Symlink(filepath.Join("releases", "v1"), current))
	task := filepath.Join(dir, "task.yaml")
	must(t, os.Symlink(filepath.Join(current, "task.yaml"), task))
	h.sees(task)
	tmp := filepath.Join(elsewhere, "current.tmp")
	must(t, os.Symlink(filepath.Join("releases", "v2"), tmp))
	must(t, os.Rename(tmp, current))
	h.sees(task)
}

func TestNoChangeNoNotification(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := filepath.Join(dir, "app.yaml")
	write(t, app, "v: 1\n")
	data := filepath.Join(dir, "data")
	write(t, filepath.Join(data, "000001.log"), "x")
	h := start(t, []string{dir}, Options{Debounce: settled, Ignore: []string{data}})

	now := time.Now().Add(time.Hour)
	must(t, os.Chtimes(app, now, now))                      // touched
	write(t, app, "v: 1\n")                                 // rewritten, same bytes
	write(t, filepath.Join(dir, ".app.yaml.swp"), "swap")   // hidden
	write(t, filepath.Join(dir, ".git", "index"), "i")      // in a hidden directory
	write(t, filepath.Join(data, "000002.log"), "y")        // ignored
	must(t, os.Mkdir(filepath.Join(dir, "empty"), 0o755))   // no file in it
	write(t, app, "v: 9\n")                                 // changed ...
	write(t, app, "v: 1\n")                                 // ... and changed back
	write(t, filepath.Join(data, "sub", "000003.log"), "z") // ignored, nested
	must(t, os.Remove(filepath.Join(dir, ".app.yaml.swp"))) // hidden
	must(t, os.Remove(filepath.Join(data, "000001.log")))   // ignored

	added := filepath.Join(dir, "agent.yaml")
	write(t, added, "a: 1\n")
	h.nextIs(added)
	h.delivered(1)
}

func TestNotificationsCoalesce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := start(t, []string{dir}, Options{Debounce: settled})
	first := filepath.Join(dir, "a.yaml")
	second := filepath.Join(dir, "b.yaml")
	write(t, first, "a: 1\n")
	waitFor(t, "a first notification", func() bool { return h.w.delivered.Load() == 1 })
	write(t, second, "b: 1\n")
	waitFor(t, "a second notification", func() bool { return h.w.delivered.Load() == 2 })
	if n := len(h.w.Changes()); n != 1 {
		t.Fatalf("%d notifications waiting, want 1", n)
	}
	h.nextIs(first, second)
	select {
	case c := <-h.w.Changes():
		t.Fatalf("a second notification waited: %v", c)
	default:
	}
}

func TestPollPicksUpEdits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := filepath.Join(dir, "app.yaml")
	write(t, app, "v: 1\n")
	before, err := os.Stat(app)
	must(t, err)
	h := start(t, []string{dir}, Options{Mode: Poll, Interval: 10 * time.Millisecond, Debounce: quick})
	if m := h.w.Mode(); m != Poll {
		t.Fatalf("mode %s, want poll", m)
	}
	// Same size and, once set back, the same modification time: only the
	// content tells.
	write(t, app, "v: 2\n")
	must(t, os.Chtimes(app, before.ModTime(), before.ModTime()))
	h.sees(app)
	added := filepath.Join(dir, "sub", "agent.yaml")
	write(t, added, "a: 1\n")
	h.sees(added)
}

func TestOffNeverNotifies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := filepath.Join(dir, "app.yaml")
	write(t, app, "v: 1\n")
	w, err := New([]string{dir}, Options{Mode: Off})
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- w.Run(ctx) }()
	write(t, app, "v: 2\n")
	write(t, filepath.Join(dir, "agent.yaml"), "a: 1\n")
	must(t, os.Remove(app))
	cancel()
	select {
	case err := <-ran:
		must(t, err)
	case <-time.After(waitLimit):
		t.Fatal("Run did not return")
	}
	for c := range w.Changes() {
		t.Errorf("off mode notified: %v", c)
	}
	if m := w.Mode(); m != Off {
		t.Fatalf("mode %s, want off", m)
	}
}

// The tests below change package variables or count goroutines, so they do
// not run in parallel; the parallel ones wait until they are done.

func TestStopReleasesEverything(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app.yaml")
	write(t, app, "v: 1\n")
	settle := func(base int) {
		t.Helper()
		waitFor(t, fmt.Sprintf("return to %d goroutines", base), func() bool { return runtime.NumGoroutine() <= base })
	}
	for _, mode := range []Mode{FSNotify, Poll, Off} {
		for _, stop := range []string{"cancel", "Close"} {
			t.Run(string(mode)+"/"+stop, func(t *testing.T) {
				base := runtime.NumGoroutine()
				w, err := New([]string{dir}, Options{Mode: mode, Debounce: quick, Interval: 10 * time.Millisecond})
				must(t, err)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				ran := make(chan error, 1)
				go func() { ran <- w.Run(ctx) }()
				if mode != Off {
					write(t, app, fmt.Sprintf("v: %s %s\n", mode, stop))
					select {
					case <-w.Changes():
					case <-time.After(waitLimit):
						t.Fatal("no notification")
					}
				}
				if stop == "cancel" {
					cancel()
				} else {
					must(t, w.Close())
					must(t, w.Close())
				}
				select {
				case err := <-ran:
					must(t, err)
				case <-time.After(waitLimit):
					t.Fatal("Run did not return")
				}
				for range w.Changes() {
				}
				// After Close, Run may not have started at all; then
				// a second Run returns at once, like the first.
				if err := w.Run(context.Background()); err == nil && stop == "cancel" {
					t.Error("a second Run did not fail")
				}
				settle(base)
			})
		}
	}
	t.Run("Close without Run", func(t *testing.T) {
		base := runtime.NumGoroutine()
		w, err := New([]string{dir}, Options{})
		must(t, err)
		must(t, w.Close())
		for range w.Changes() {
		}
		must(t, w.Run(context.Background())) // returns at once
		settle(base)
	})
}

func TestFallBackWhenFSNotifyCannotStart(t *testing.T) {
	defer func(orig func() (*fsnotify.Watcher, error)) { newFSWatcher = orig }(newFSWatcher)
	newFSWatcher = func() (*fsnotify.Watcher, error) {
		return nil, fmt.Errorf("couldn't initialize inotify: %w", syscall.EMFILE)
	}
	dir := t.TempDir()
	app := filepath.Join(dir, "app.yaml")
	write(t, app, "v: 1\n")
	var logs syncBuffer
	h := start(t, []string{dir}, Options{Debounce: quick, Interval: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if m := h.w.Mode(); m != Poll {
		t.Fatalf("mode %s, want poll", m)
	}
	if l := logs.String(); !strings.Contains(l, "falls back to polling") || !strings.Contains(l, "too many open files") {
		t.Fatalf("the log does not say why it polls:\n%s", l)
	}
	write(t, app, "v: 2\n")
	h.sees(app)
}

func TestFallBackWhenAWatchFails(t *testing.T) {
	defer func(orig func(*fsnotify.Watcher, string) error) { addFSWatch = orig }(addFSWatch)
	addFSWatch = func(w *fsnotify.Watcher, dir string) error {
		if filepath.Base(dir) == "deep" {
			return fmt.Errorf("%w", syscall.ENOSPC) // as when the limit of watches is reached
		}
		return w.Add(dir)
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "app.yaml"), "v: 1\n")
	var logs syncBuffer
	h := start(t, []string{dir}, Options{Debounce: quick, Interval: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if m := h.w.Mode(); m != FSNotify {
		t.Fatalf("mode %s, want fsnotify", m)
	}
	deep := filepath.Join(dir, "deep", "agent.yaml")
	write(t, deep, "a: 1\n")
	h.sees(deep)
	waitFor(t, "poll mode", func() bool { return h.w.Mode() == Poll })
	if l := logs.String(); !strings.Contains(l, "falls back to polling") || !strings.Contains(l, "no space left on device") {
		t.Fatalf("the log does not say why it polls:\n%s", l)
	}
	write(t, deep, "a: 2\n")
	h.sees(deep)
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		paths []string
		opts  Options
	}{
		"no paths":          {nil, Options{}},
		"unknown mode":      {[]string{"."}, Options{Mode: "inotify"}},
		"negative debounce": {[]string{"."}, Options{Debounce: -time.Second}},
		"negative interval": {[]string{"."}, Options{Interval: -time.Second}},
	} {
		if _, err := New(c.paths, c.opts); err == nil {
			t.Errorf("%s: New did not fail", name)
		}
	}
	for _, s := range []string{"fsnotify", "poll", "off"} {
		if m, err := ParseMode(s); err != nil || string(m) != s {
			t.Errorf("ParseMode(%q) = %q, %v", s, m, err)
		}
	}
	if _, err := ParseMode("inotify"); err == nil {
		t.Error("ParseMode accepted inotify")
	}
}

// sees waits until the watcher has notified what the tree holds now, takes
// every notification waiting, and checks that together they name each of
// want. It suits tests whose debounce is too short to count on one
// notification per change: once the watcher has caught up, no further
// notification can come until the tree changes again.
func (h *harness) sees(want ...string) {
	h.t.Helper()
	waitFor(h.t, "notification of what the tree holds", func() bool {
		now, _ := walkPaths(h.w.paths, h.w.ignore, nil)
		return now.equal(*h.w.notified.Load())
	})
	// The walk that follows a notification must not hide a missing watch
	// from the test's next step.
	at := h.w.deliveredScan.Load()
	waitFor(h.t, "the walk after the notification", func() bool { return h.w.scans.Load() > at })
	var got []string
	for len(h.w.Changes()) > 0 {
		got = append(got, (<-h.w.Changes()).Paths...)
	}
	for _, p := range want {
		if !slices.Contains(got, p) {
			h.t.Fatalf("the notifications name %q, not %s", got, p)
		}
	}
}

func readIs(t *testing.T, path, want string) {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	if string(data) != want {
		t.Fatalf("%s holds %q, want %q", path, data, want)
	}
}
