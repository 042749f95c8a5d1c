package control

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An app created through the API comes back when the process restarts
// on the same data dir, with its created time and generation; one whose
// kept manifests no longer load is listed as failed and does not stop the
// others.
func TestPersistenceAcrossRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	e := start(t, ctx, envOptions{})
	e.must(http.StatusCreated, "POST", "/api/v1/apps", "application/yaml", []byte(tally(t, "one")))
	e.must(http.StatusOK, "PUT", "/api/v1/apps/tally", "application/yaml", []byte(tally(t, "two")))
	var before appDetail
	e.must(http.StatusOK, "GET", "/api/v1/apps/tally", "", nil).json(t, &before)
	cl := e.client("tally-out")
	if got := e.roundTrip(cl, "tally-in", "a"); got["n"] != 1.0 {
		t.Fatalf("output %v", got)
	}
	if _, err := os.Stat(filepath.Join(e.dataDir, "api", "tally.json")); err != nil {
		t.Fatal(err)
	}
	e.stop()

	// The same data dir: tally runs again, its count kept.
	e2 := start(t, ctx, envOptions{dataDir: e.dataDir, broker: e.broker})
	var after appDetail
	e2.must(http.StatusOK, "GET", "/api/v1/apps/tally", "", nil).json(t, &after)
	if after.Source != SourceAPI || after.Generation != 2 || !after.Created.Equal(before.Created) || !after.Updated.Equal(before.Updated) {
		t.Fatalf("after the restart: %+v; before: %+v", after.appSummary, before.appSummary)
	}
	cl2 := e2.client("tally-out")
	if got := e2.roundTripTo(cl2, "tally-in", "a", func(m map[string]any) bool { return m["n"] != 1.0 }); got["n"] != 2.0 || got["tag"] != "two" {
		t.Fatalf("output after the restart: %v", got)
	}
	// It is still the API's: deleted here, it is gone at the next start.
	e2.must(http.StatusOK, "DELETE", "/api/v1/apps/tally", "", nil)
	if _, err := os.Stat(filepath.Join(e.dataDir, "api", "tally.json")); !os.IsNotExist(err) {
		t.Fatalf("the kept app after its delete: %v", err)
	}
	e2.stop()

	// A kept app that no longer loads (its file edited by hand) is
	// failed, the others start, and a PUT brings it back.
	e3 := start(t, ctx, envOptions{dataDir: e.dataDir, broker: e.broker})
	e3.must(http.StatusCreated, "POST", "/api/v1/apps", "application/yaml", []byte(tally(t, "three")))
	other := strings.NewReplacer("tally", "other", "16102", "16103").Replace(tally(t, "x"))
	e3.must(http.StatusCreated, "POST", "/api/v1/apps", "application/yaml", []byte(other))
	e3.stop()
	path := filepath.Join(e.dataDir, "api", "tally.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	rec.Files[0].Content = strings.Replace(rec.Files[0].Content, "partitions: 1", "partitions: one", 1)
	b, _ = json.Marshal(rec)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	e4 := start(t, ctx, envOptions{dataDir: e.dataDir, broker: e.broker})
	var failed appDetail
	e4.must(http.StatusOK, "GET", "/api/v1/apps/tally", "", nil).json(t, &failed)
	if failed.State != StateFailed || len(failed.Errors) == 0 || failed.Errors[0].File != defaultFileName || failed.Errors[0].Line == 0 {
		t.Fatalf("the broken kept app: %+v", failed)
	}
	if !e4.rt.Running("other") {
		t.Fatal("the other kept app does not run")
	}
	e4.must(http.StatusServiceUnavailable, "GET", "/api/v1/apps/tally/health", "", nil)
	e4.must(http.StatusOK, "PUT", "/api/v1/apps/tally", "application/yaml", []byte(tally(t, "four")))
	e4.waitState("tally", StateRunning)
}
