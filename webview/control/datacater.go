package control

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// DataCater's deployment routes, over the same core: a deployment is an
// app, its uuid is the app's id (its name), its name is a label for
// reference only (as DataCater's is), and its spec carries weir manifests
// (spec.manifests) instead of a reference to a pipeline object.

// deployment is DataCater's deployment response payload.
type deployment struct {
	Name      string         `json:"name"`
	UUID      string         `json:"uuid"`
	CreatedAt string         `json:"createdAt"`
	UpdatedAt string         `json:"updatedAt"`
	Spec      appSpec        `json:"spec"`
	Status    map[string]any `json:"status"`
}

// dataCaterTime is how DataCater writes times.
func dataCaterTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-07:00") }

func (s *Server) deployment(a *appInfo) deployment {
	d := s.detail(a)
	cond := map[string]any{"type": "Available", "status": "True", "reason": "Ready", "message": "The app is " + a.State + ".",
		"lastUpdateTime": a.Updated.UTC().Format(time.RFC3339)}
	if a.State != StateRunning && a.State != StateIdle {
		cond["status"], cond["reason"] = "False", a.State
		if len(a.Reasons) > 0 {
			cond["message"] = "The app is " + a.State + ": " + a.Reasons[0]
		}
	}
	return deployment{
		Name: a.Label, UUID: a.ID, CreatedAt: dataCaterTime(a.Created), UpdatedAt: dataCaterTime(a.Updated), Spec: d.Spec,
		Status: map[string]any{"weir-" + a.ID: map[string]any{
			"weir.io/app":        a.ID,
			"weir.io/source":     a.Source,
			"weir.io/state":      a.State,
			"weir.io/generation": strconv.FormatInt(a.Generation, 10),
			"Conditions":         []any{cond},
		}},
	}
}

// decodeDeployment reads {name, spec: {manifests}}.
func (s *Server) decodeDeployment(w http.ResponseWriter, r *http.Request) (*appRequest, string, *problem) {
	body, p := s.readBody(w, r)
	if p != nil {
		return nil, "", p
	}
	var req struct {
		Name string                     `json:"name"`
		Spec map[string]json.RawMessage `json:"spec"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, "", newProblem(http.StatusBadRequest, "the body is not {\"name\", \"spec\": {\"manifests\": ...}}: %v", err)
	}
	raw, ok := req.Spec["manifests"]
	if !ok {
		if _, ok := req.Spec["pipeline"]; ok {
			return nil, "", newProblem(http.StatusUnprocessableEntity, "spec.pipeline names a pipeline object, and weir has none: give the app's weir manifests in spec.manifests")
		}
	}
	files, p := decodeManifests(raw, "spec.manifests")
	if p != nil {
		return nil, "", p
	}
	return &appRequest{Files: files}, req.Name, nil
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request) {
	out := []deployment{}
	for _, a := range s.apps() {
		out = append(out, s.deployment(a))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request) {
	req, name, p := s.decodeDeployment(w, r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	ctx, cancel := s.changeCtx(r)
	defer cancel()
	a, p := s.create(ctx, req, name)
	if p != nil {
		writeProblem(w, p)
		return
	}
	w.Header().Set("Location", "/api/v1/deployments/"+a.ID)
	writeJSON(w, http.StatusCreated, s.deployment(a))
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request) {
	if a := s.found(w, r, "uuid"); a != nil {
		writeJSON(w, http.StatusOK, s.deployment(a))
	}
}

func (s *Server) updateDeployment(w http.ResponseWriter, r *http.Request) {
	req, name, p := s.decodeDeployment(w, r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	ctx, cancel := s.changeCtx(r)
	defer cancel()
	a, p := s.update(ctx, r.PathValue("uuid"), req, name)
	if p != nil {
		writeProblem(w, p)
		return
	}
	writeJSON(w, http.StatusOK, s.deployment(a))
}

func (s *Server) deleteDeployment(w http.ResponseWriter, r *http.Request) {
	purge, p := boolQuery(r, "purge")
	if p != nil {
		writeProblem(w, p)
		return
	}
	ctx, cancel := s.changeCtx(r)
	defer cancel()
	out, a, p := s.remove(ctx, r.PathValue("uuid"), purge)
	if p != nil {
		writeProblem(w, p)
		return
	}
	d := s.deployment(a)
	if len(out.Errors) > 0 {
		d.Status["purgeErrors"] = out.Errors
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) deploymentLogs(w http.ResponseWriter, r *http.Request) {
	a := s.found(w, r, "uuid")
	if a == nil {
		return
	}
	lines, p := s.recentLines(r, a.ID)
	if p != nil {
		writeProblem(w, p)
		return
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.Text
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) watchDeploymentLogs(w http.ResponseWriter, r *http.Request) {
	if a := s.found(w, r, "uuid"); a != nil {
		s.followLogs(w, r, a.ID)
	}
}

func (s *Server) deploymentHealth(w http.ResponseWriter, r *http.Request) {
	if a := s.found(w, r, "uuid"); a != nil {
		s.health(w, a)
	}
}

func (s *Server) deploymentMetrics(w http.ResponseWriter, r *http.Request) {
	if a := s.found(w, r, "uuid"); a != nil {
		s.metrics(w, r, a)
	}
}
