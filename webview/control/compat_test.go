package control

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The Coordinator's flow from its documentation, with weir manifests as
// the spec: create as its curl example does (JSON sent as a form), list,
// details, status, teardown.
func TestCoordinatorFlow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	e := start(t, ctx, envOptions{folder: "testdata/folder"})

	// curl -X POST localhost:5000/pipeline/create -d "{\"name\":\"file\",\"type\":\"spec\",\"config\":{\"content\":$(jq -asR < spec.q)},\"settings\": {\"minWorkers\":1}}"
	content, _ := json.Marshal(tally(t, "one"))
	body := `{"name":"file","type":"spec","config":{"content":` + string(content) + `},"settings": {"minWorkers":1}}`
	var id string
	e.must(http.StatusCreated, "POST", "/pipeline/create", "application/x-www-form-urlencoded", []byte(body)).json(t, &id)
	if id != "tally" {
		t.Fatalf("id %q", id)
	}
	e.waitState(id, StateRunning)
	cl := e.client("tally-out")
	e.roundTrip(cl, "tally-in", "a")

	var pipelines []coordinatorPipeline
	e.must(http.StatusOK, "GET", "/pipelines", "", nil).json(t, &pipelines)
	if len(pipelines) != 2 {
		t.Fatalf("pipelines: %+v", pipelines)
	}
	p := pipelines[1]
	if p.ID != "tally" || p.Name != "file" || p.State != "RUNNING" || p.Created == "" || strings.ContainsAny(p.Created, "Z+") {
		t.Fatalf("pipeline: %+v", p)
	}

	var details []map[string]any
	e.must(http.StatusOK, "GET", "/details", "", nil).json(t, &details)
	d := details[1]
	if d["id"] != "tally" || d["name"] != "file" || d["lastSeen"] == nil || d["metrics"] == nil {
		t.Fatalf("details: %v", d)
	}

	var st string
	e.must(http.StatusOK, "GET", "/pipeline/status/tally", "", nil).json(t, &st)
	if st != "Running" {
		t.Fatalf("status %q", st)
	}
	e.must(http.StatusNotFound, "GET", "/pipeline/status/nope", "", nil)

	// A spec that does not compile, and a type weir does not have.
	bad, _ := json.Marshal(strings.NewReplacer("tally", "bad", "16102", "16103").Replace(tally(t, "x")))
	bad = []byte(strings.Replace(string(bad), "return 0", "return 0 +", 1))
	a := e.must(http.StatusUnprocessableEntity, "POST", "/pipeline/create", "", []byte(`{"name":"bad","type":"spec","config":{"content":`+string(bad)+`}}`))
	if !strings.Contains(string(a.body), `"line"`) {
		t.Fatalf("422 without positions: %s", a.body)
	}
	e.must(http.StatusUnprocessableEntity, "POST", "/pipeline/create", "", []byte(`{"name":"q","type":"q","config":{"content":"x"}}`))

	// The folder's pipeline cannot be torn down here; tally can.
	e.must(http.StatusConflict, "POST", "/pipeline/teardown/folder-app", "", nil)
	var del deleted
	e.must(http.StatusOK, "POST", "/pipeline/teardown/tally?clearCheckpoints=true", "", nil).json(t, &del)
	if !del.Deleted || !del.Purged || len(del.Topics) == 0 {
		t.Fatalf("teardown: %+v", del)
	}
	if e.rt.Running("tally") {
		t.Fatal("tally runs after its teardown")
	}
}

// DataCater's deployment flow, with weir manifests in the spec: create,
// list, get, update, logs, watch-logs, health, metrics, delete.
func TestDataCaterFlow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	e := start(t, ctx, envOptions{folder: "testdata/folder"})
	payload := func(tag string) []byte {
		b, _ := json.Marshal(map[string]any{"name": "deployment-name", "spec": map[string]any{"manifests": tally(t, tag)}})
		return b
	}
	var d deployment
	a := e.must(http.StatusCreated, "POST", "/api/v1/deployments", "application/json", payload("one"))
	a.json(t, &d)
	if d.Name != "deployment-name" || d.UUID != "tally" || d.CreatedAt == "" || !strings.HasSuffix(d.CreatedAt, "+00:00") || len(d.Spec.Resources) != 3 {
		t.Fatalf("created: %+v", d)
	}
	if _, ok := d.Status["weir-tally"]; !ok {
		t.Fatalf("status: %v", d.Status)
	}
	e.waitState("tally", StateRunning)
	cl := e.client("tally-out")
	e.roundTrip(cl, "tally-in", "a")

	var list []deployment
	e.must(http.StatusOK, "GET", "/api/v1/deployments", "", nil).json(t, &list)
	if len(list) != 2 || list[0].UUID != "folder-app" || list[1].UUID != "tally" {
		t.Fatalf("list: %+v", list)
	}
	e.must(http.StatusOK, "GET", "/api/v1/deployments/tally", "", nil).json(t, &d)
	cond := d.Status["weir-tally"].(map[string]any)["Conditions"].([]any)[0].(map[string]any)
	if cond["type"] != "Available" || cond["status"] != "True" {
		t.Fatalf("condition: %v", cond)
	}

	// watch-logs follows; an update's new code logs through it.
	f := e.follow("/api/v1/deployments/tally/watch-logs")
	f.until(t, "counted a 1")
	e.must(http.StatusOK, "PUT", "/api/v1/deployments/tally", "application/json", payload("two"))
	if got := e.roundTrip(cl, "tally-in", "b"); got["tag"] != "two" {
		t.Fatalf("after the update: %v", got)
	}
	f.until(t, "counted b 1")
	e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/deployments/tally", "application/json",
		[]byte(`{"name": "x", "spec": {"pipeline": "dc161a69-fa49-4b1a-b1b1-6d8246d50d71"}}`))

	var lines []string
	e.must(http.StatusOK, "GET", "/api/v1/deployments/tally/logs", "", nil).json(t, &lines)
	if len(lines) == 0 || !strings.Contains(strings.Join(lines, "\n"), "counted b 1") {
		t.Fatalf("logs: %q", lines)
	}
	var h health
	e.must(http.StatusOK, "GET", "/api/v1/deployments/tally/health", "", nil).json(t, &h)
	if h.Status != "UP" {
		t.Fatalf("health %+v", h)
	}
	m := e.must(http.StatusOK, "GET", "/api/v1/deployments/tally/metrics", "", nil)
	if !strings.Contains(string(m.body), `weir_app_generation{app="tally"} 2`) {
		t.Fatalf("metrics:\n%s", m.body)
	}

	e.must(http.StatusConflict, "DELETE", "/api/v1/deployments/folder-app", "", nil)
	e.must(http.StatusOK, "DELETE", "/api/v1/deployments/tally", "", nil).json(t, &d)
	if d.UUID != "tally" {
		t.Fatalf("deleted: %+v", d)
	}
	e.must(http.StatusNotFound, "GET", "/api/v1/deployments/tally", "", nil)
}
