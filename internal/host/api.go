package host

import (
	"context"
	"errors"

	"github.com/weirstream/weir/spec"
)

// What the control API (package webview/control) needs of the host beside
// Set: manifests held before Start (the apps it kept in the data dir come
// back with the folders' apps), and a Set whose refusal keeps the load's
// own errors.

// Hold keeps manifests for an owner without reloading: before Start, for
// the apps the control API kept. nil files forget the owner's manifests.
func (h *Host) Hold(owner string, files []spec.File) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if files == nil {
		delete(h.extra, owner)
		return
	}
	h.extra[owner] = files
}

// Put is Set, except that when the snapshot does not load or compile it
// returns that error as the load made it (spec.Errors, each with its
// position as values), not a *ReloadError of strings. What a refusal
// records (LastError, Failures, the log) is the same, and on any error the
// owner's manifests are as they were.
func (h *Host) Put(ctx context.Context, owner string, files []spec.File, why string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rt == nil {
		return errors.New("host: not started")
	}
	prev, had := h.extra[owner]
	restore := func() {
		if had {
			h.extra[owner] = prev
		} else {
			delete(h.extra, owner)
		}
	}
	if files == nil {
		delete(h.extra, owner)
	} else {
		h.extra[owner] = files
	}
	// Compiled once here for the errors, and again by reload: a reload
	// reads the folders afresh, and stays the one path that applies.
	if _, _, err := h.Snapshot(); err != nil {
		restore()
		_ = h.failed(why, err)
		return err
	}
	if err := h.reload(ctx, why); err != nil {
		restore()
		return err
	}
	return nil
}
