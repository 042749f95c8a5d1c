package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// What the control API (package webview/control) uses of the runtime
// beyond the web API: the purge of an app it has stopped.

// DropAppState removes the table state an app keeps in the store of its
// data dir (every table, every partition, their offsets): the purge of an
// app that was torn down. The app must not be running. It reports whether
// there was a store to look in; other apps' state in the same store is
// untouched.
func (r *Runtime) DropAppState(ap *AppPlan) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		return false, errors.New("runtime: not running")
	}
	for _, a := range r.apps {
		if a.plan.Name == ap.Name {
			return false, fmt.Errorf("app %s is running: stop it before dropping its state", ap.Name)
		}
	}
	if ap.DataDir == "" {
		return false, nil
	}
	dir := filepath.Join(ap.DataDir, "state")
	if r.dbs[dir] == nil {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
	}
	db, err := r.store(ap)
	if err != nil {
		return false, err
	}
	if err := db.DropApp(ap.ID); err != nil {
		return true, fmt.Errorf("dropping the state of app %s: %w", ap.Name, err)
	}
	return true, nil
}
