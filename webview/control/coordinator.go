package control

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// The kdb Insights Stream Processor Coordinator's routes, over the same
// core: a pipeline is an app, its spec is weir manifests
// (config.content), its id is the app's name, and its name is kept as a
// label for /pipelines and /details.

// coordinatorState is an app's state as the Coordinator spells it.
func coordinatorState(state string) string {
	switch state {
	case StateRunning:
		return "RUNNING"
	case StateRecovering:
		return "STARTING"
	case StateIdle:
		return "IDLE"
	case StateFailed:
		return "ERRORED"
	}
	return "UNHEALTHY"
}

// coordinatorTime is how the Coordinator writes times: no zone (UTC).
func coordinatorTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000")
}

func (s *Server) coordinatorCreate(w http.ResponseWriter, r *http.Request) {
	body, p := s.readBody(w, r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	// The Coordinator's own example posts JSON with curl -d, as a form:
	// the body is read as JSON whatever its Content-Type.
	var req struct {
		Name   string `json:"name"`
		Type   string `json:"type"`
		Config struct {
			Content json.RawMessage `json:"content"`
		} `json:"config"`
		Settings map[string]any `json:"settings"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeProblem(w, newProblem(http.StatusBadRequest, "the body is not {\"name\", \"type\": \"spec\", \"config\": {\"content\": ...}}: %v", err))
		return
	}
	if req.Type != "" && req.Type != "spec" {
		writeProblem(w, newProblem(http.StatusUnprocessableEntity, "type %q: weir pipelines are of type \"spec\", whose config.content is weir manifests", req.Type))
		return
	}
	files, p := decodeManifests(req.Config.Content, "config.content")
	if p != nil {
		writeProblem(w, p)
		return
	}
	ctx, cancel := s.changeCtx(r)
	defer cancel()
	a, p := s.create(ctx, &appRequest{Files: files}, req.Name)
	if p != nil {
		writeProblem(w, p)
		return
	}
	writeJSON(w, http.StatusCreated, a.ID)
}

type coordinatorPipeline struct {
	ID       string              `json:"id"`
	Name     string              `json:"name"`
	Created  string              `json:"created"`
	LastSeen string              `json:"lastSeen,omitempty"`
	State    string              `json:"state"`
	Metrics  *coordinatorMetrics `json:"metrics,omitempty"`
}

// coordinatorMetrics are the Coordinator's figures that weir has (see
// figuresNote): events per second, and the mean latency in milliseconds.
type coordinatorMetrics struct {
	EventRate *float64 `json:"eventRate,omitempty"`
	Latency   *float64 `json:"latency,omitempty"`
}

func (s *Server) coordinatorList(w http.ResponseWriter, r *http.Request) {
	out := []coordinatorPipeline{}
	for _, a := range s.apps() {
		out = append(out, coordinatorPipeline{ID: a.ID, Name: a.Label, Created: coordinatorTime(a.Created), State: coordinatorState(a.State)})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) coordinatorDetails(w http.ResponseWriter, r *http.Request) {
	out := []coordinatorPipeline{}
	seen := s.rates.lastAt()
	if seen.IsZero() {
		seen = time.Now()
	}
	for _, a := range s.apps() {
		p := coordinatorPipeline{ID: a.ID, Name: a.Label, Created: coordinatorTime(a.Created), State: coordinatorState(a.State),
			Metrics: &coordinatorMetrics{}}
		if a.Plan != nil {
			p.LastSeen = coordinatorTime(seen)
			_, f := s.figures(a.ID)
			p.Metrics.EventRate, p.Metrics.Latency = f.EventRate, f.LatencyMean
		}
		out = append(out, p)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) coordinatorStatus(w http.ResponseWriter, r *http.Request) {
	if a := s.found(w, r, "id"); a != nil {
		st := strings.ToLower(coordinatorState(a.State))
		writeJSON(w, http.StatusOK, strings.ToUpper(st[:1])+st[1:])
	}
}

func (s *Server) coordinatorTeardown(w http.ResponseWriter, r *http.Request) {
	clearCP, p := boolQuery(r, "clearCheckpoints")
	if p != nil {
		writeProblem(w, p)
		return
	}
	purge, p := boolQuery(r, "purge")
	if p != nil {
		writeProblem(w, p)
		return
	}
	ctx, cancel := s.changeCtx(r)
	defer cancel()
	out, _, p := s.remove(ctx, r.PathValue("id"), clearCP || purge)
	if p != nil {
		writeProblem(w, p)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
