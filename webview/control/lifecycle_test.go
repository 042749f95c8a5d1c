package control

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/engine/kafka/franz"
	"github.com/weirstream/weir/engine/state"
)

// The whole lifecycle over HTTP: create, list, get, update (and a refused
// update), the folder app's refusals, and delete with purge.
func TestLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	e := start(t, ctx, envOptions{folder: "testdata/folder"})
	cl := e.client("tally-out")

	// Create from YAML.
	a := e.must(http.StatusCreated, "POST", "/api/v1/apps", "application/yaml", []byte(tally(t, "one")))
	var created appDetail
	a.json(t, &created)
	if created.ID != "tally" || created.Source != SourceAPI || created.Generation != 1 || a.header.Get("Location") != "/api/v1/apps/tally" {
		t.Fatalf("created: %+v, Location %q", created.appSummary, a.header.Get("Location"))
	}
	if got := e.roundTrip(cl, "tally-in", "a"); got["tag"] != "one" || got["n"] != 1.0 {
		t.Fatalf("output %v", got)
	}

	// Created again: 409, it exists.
	a = e.must(http.StatusConflict, "POST", "/api/v1/apps", "application/yaml", []byte(tally(t, "one")))
	if !strings.Contains(string(a.body), "exists already") {
		t.Fatalf("409: %s", a.body)
	}

	// Listed beside the folder's app.
	var list struct{ Apps []appSummary }
	e.must(http.StatusOK, "GET", "/api/v1/apps", "", nil).json(t, &list)
	if len(list.Apps) != 2 || list.Apps[0].ID != "folder-app" || list.Apps[0].Source != SourceFile || list.Apps[1].ID != "tally" || list.Apps[1].Source != SourceAPI {
		t.Fatalf("list: %+v", list.Apps)
	}
	for _, s := range list.Apps {
		if s.Created.IsZero() || s.Generation != 1 || s.State == "" {
			t.Fatalf("list entry %+v", s)
		}
	}

	// Its details: the spec as loaded, the agent's figures.
	e.waitState("tally", StateRunning)
	var d appDetail
	e.must(http.StatusOK, "GET", "/api/v1/apps/tally", "", nil).json(t, &d)
	if len(d.Spec.Resources) != 3 || len(d.Agents) != 1 || d.Agents[0].Name != "tally-count" || d.Agents[0].RecordsIn < 1 || len(d.Notes) == 0 {
		t.Fatalf("detail: %+v", d)
	}
	if ag := d.Agents[0]; ag.LatencyP50 == nil || ag.LatencyP99 == nil || *ag.LatencyP50 > *ag.LatencyP99 || ag.Lag == nil || d.Metrics.RecordsIn != ag.RecordsIn {
		t.Fatalf("figures: %+v, metrics %+v", ag, d.Metrics)
	}

	// Updated: the new code runs, the generation steps.
	a = e.must(http.StatusOK, "PUT", "/api/v1/apps/tally", "application/yaml", []byte(tally(t, "two")))
	a.json(t, &d)
	if d.Generation != 2 {
		t.Fatalf("generation after an update: %d", d.Generation)
	}
	if got := e.roundTrip(cl, "tally-in", "b"); got["tag"] != "two" {
		t.Fatalf("after the update: %v", got)
	}

	// A broken update: 422 with the position, the app as it was.
	broken := strings.Replace(tally(t, "three"), "n = counts[v] + 1", "n = counts[v] +* 1", 1)
	a = e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/apps/tally", "application/yaml", []byte(broken))
	var p problem
	a.json(t, &p)
	if len(p.Errors) == 0 || p.Errors[0].File != defaultFileName || p.Errors[0].Line != 51 || p.Errors[0].Column != 32 {
		t.Fatalf("422: %s", a.body)
	}
	if got := e.roundTrip(cl, "tally-in", "c"); got["tag"] != "two" {
		t.Fatalf("after a refused update: %v", got)
	}
	e.must(http.StatusOK, "GET", "/api/v1/apps/tally", "", nil).json(t, &d)
	if d.Generation != 2 {
		t.Fatalf("generation after a refused update: %d", d.Generation)
	}

	// The folder's app is read-only.
	for _, m := range []string{"PUT", "DELETE"} {
		a = e.must(http.StatusConflict, m, "/api/v1/apps/folder-app", "application/yaml", []byte(tally(t, "x")))
		if !strings.Contains(string(a.body), "comes from the watched folder") {
			t.Fatalf("%s of the folder app: %s", m, a.body)
		}
	}

	// Status, health and metrics of the app.
	var st appStatus
	e.must(http.StatusOK, "GET", "/api/v1/apps/tally/status", "", nil).json(t, &st)
	if !st.Running || !st.Ready || st.Generation != 2 {
		t.Fatalf("status %+v", st)
	}
	e.must(http.StatusOK, "GET", "/api/v1/apps/tally/health", "", nil)
	m := e.must(http.StatusOK, "GET", "/api/v1/apps/tally/metrics", "", nil)
	if !strings.Contains(string(m.body), `weir_agent_records_in_total{agent="tally-count",app="tally"} 3`) {
		t.Fatalf("metrics:\n%s", m.body)
	}
	e.must(http.StatusNotFound, "GET", "/api/v1/apps/nope", "", nil)

	// Deleted with purge: stopped, its changelog and dead-letter topic
	// deleted, its state dropped; the folder's app runs on.
	var del deleted
	e.must(http.StatusOK, "DELETE", "/api/v1/apps/tally?purge=true", "", nil).json(t, &del)
	slices.Sort(del.Topics)
	if want := []string{"tally-app-tally-count-dead-letters", "tally-app-tally-counts-changelog"}; !slices.Equal(del.Topics, want) || !del.State || len(del.Errors) > 0 {
		t.Fatalf("delete: %+v; want topics %v and the state", del, want)
	}
	if e.rt.Running("tally") || !e.rt.Running("folder-app") {
		t.Fatal("after the delete: tally runs, or the folder app does not")
	}
	e.must(http.StatusNotFound, "GET", "/api/v1/apps/tally", "", nil)
	rd, err := franz.NewReader(e.rt.Plan().App("folder-app").Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if ends, err := rd.Ends(ctx, "tally-app-tally-counts-changelog"); err == nil && len(ends) > 0 {
		t.Fatalf("the changelog is still there: %v", ends)
	}
	e.stop()
	db, err := state.Open(filepath.Join(e.dataDir, "state"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if apps, err := db.Apps(); err != nil || slices.Contains(apps, "tally-app") {
		t.Fatalf("state of the apps after the purge: %v %v", apps, err)
	}
	if _, err := json.Marshal(del); err != nil {
		t.Fatal(err)
	}
}
