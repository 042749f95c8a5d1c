package watch

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitLimit bounds every wait in these tests. It is generous on purpose: the
// tests never assert how soon something happens, only that it does.
const waitLimit = 30 * time.Second

// Debounces. quick is for tests that only need a notification to come;
// settled is for tests that count notifications, so that a burst of a few
// file operations can never be split by a pause of the test itself.
const (
	quick   = 30 * time.Millisecond
	settled = time.Second
)

type harness struct {
	t      *testing.T
	w      *Watcher
	cancel context.CancelFunc
	ran    chan error
}

// start makes a Watcher over paths and runs it until the test ends.
func start(t *testing.T, paths []string, opts Options) *harness {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	w, err := New(paths, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, w: w, cancel: cancel, ran: make(chan error, 1)}
	go func() { h.ran <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.ran:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitLimit):
			t.Errorf("Run did not return within %v of its context's end", waitLimit)
		}
	})
	return h
}

// next waits for a notification, then for the walk that follows it, so that
// the watcher has settled before the test acts again.
func (h *harness) next() Change {
	h.t.Helper()
	var c Change
	select {
	case got, ok := <-h.w.Changes():
		if !ok {
			h.t.Fatal("Changes closed")
		}
		c = got
	case <-time.After(waitLimit):
		h.t.Fatalf("no notification within %v", waitLimit)
	}
	at := h.w.deliveredScan.Load()
	waitFor(h.t, "the walk after the notification", func() bool { return h.w.scans.Load() > at })
	return c
}

// delivered checks how many notifications have been made in all.
func (h *harness) delivered(want int64) {
	h.t.Helper()
	if got := h.w.delivered.Load(); got != want {
		h.t.Fatalf("%d notifications made, want %d", got, want)
	}
}

// nextIs waits for a notification and checks the paths it carries.
func (h *harness) nextIs(want ...string) {
	h.t.Helper()
	c := h.next()
	slices.Sort(want)
	if !slices.Equal(c.Paths, want) {
		h.t.Fatalf("notification names %q, want %q", c.Paths, want)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, waitLimit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// configMap writes a folder the way the kubelet projects a ConfigMap into a
// volume (its AtomicWriter): the data in a hidden timestamped directory, a
// hidden ..data symlink to it, and visible symlinks into ..data.
type configMap struct {
	t   *testing.T
	dir string
}

// write projects files (names relative to the mount, possibly nested) as the
// kubelet's AtomicWriter does it, step for step:
//  1. create a new timestamped directory "..2006_01_02_15_04_05.<random>"
//     and write every file into it;
//  2. create the visible symlink "<first name element> -> ..data/<element>"
//     of every file that has none yet (it dangles until step 4 for a new one);
//  3. create the symlink "..data_tmp -> <timestamped directory>";
//  4. rename "..data_tmp" over "..data", atomically;
//  5. remove the visible symlinks of names no longer there;
//  6. remove the old timestamped directory.
func (c *configMap) write(files map[string]string) {
	t := c.t
	t.Helper()
	data := filepath.Join(c.dir, "..data")
	old, err := os.Readlink(data)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	ts, err := os.MkdirTemp(c.dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	must(t, err)
	must(t, os.Chmod(ts, 0o755))
	visible := map[string]bool{}
	for name, content := range files {
		write(t, filepath.Join(ts, name), content)
		visible[firstElem(name)] = true
	}
	for name := range visible {
		link := filepath.Join(c.dir, name)
		if _, err := os.Readlink(link); os.IsNotExist(err) {
			must(t, os.Symlink(filepath.Join("..data", name), link))
		}
	}
	tmp := filepath.Join(c.dir, "..data_tmp")
	must(t, os.Symlink(filepath.Base(ts), tmp))
	must(t, os.Rename(tmp, data))
	if old != "" {
		entries, err := os.ReadDir(filepath.Join(c.dir, old))
		must(t, err)
		for _, e := range entries {
			if !visible[e.Name()] {
				must(t, os.Remove(filepath.Join(c.dir, e.Name())))
			}
		}
		must(t, os.RemoveAll(filepath.Join(c.dir, old)))
	}
}

func firstElem(name string) string {
	first, _, _ := strings.Cut(filepath.ToSlash(name), "/")
	return first
}

// syncBuffer is a log destination that a test reads while a watcher writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
