package control

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// weir's own routes: /api/v1/apps.

// appSummary is an app in a list.
type appSummary struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
	State      string    `json:"state"`
	Generation int64     `json:"generation"`
	Source     string    `json:"source"`
	// File is the file of a folder app's KasprApp.
	File string `json:"file,omitempty"`
}

func summary(a *appInfo) appSummary {
	return appSummary{ID: a.ID, Name: a.Name, Created: a.Created.UTC(), Updated: a.Updated.UTC(), State: a.State,
		Generation: a.Generation, Source: a.Source, File: a.File}
}

// appDetail is one app: its summary, spec and figures.
type appDetail struct {
	appSummary
	Reasons []string       `json:"reasons"`
	Spec    appSpec        `json:"spec"`
	Agents  []agentFigures `json:"agents"`
	Metrics appFigures     `json:"metrics"`
	Notes   []string       `json:"notes"`
	// Errors are why a kept app failed to load at the restart.
	Errors []apiError `json:"errors,omitempty"`
}

// appSpec is an app's resources as loaded, defaults applied and secrets
// redacted.
type appSpec struct {
	Resources []any `json:"resources"`
	// Files are its manifest files: as the client named them (apps of the
	// API), or the folder's.
	Files []string `json:"files,omitempty"`
}

func (s *Server) detail(a *appInfo) appDetail {
	d := appDetail{appSummary: summary(a), Reasons: a.Reasons, Notes: []string{figuresNote}, Errors: a.Failed,
		Spec: appSpec{Resources: []any{}}, Agents: []agentFigures{}}
	if d.Reasons == nil {
		d.Reasons = []string{}
	}
	if a.Plan != nil {
		d.Spec.Resources = resources(a.Plan.Spec)
		d.Agents, d.Metrics = s.figures(a.ID)
	}
	s.mu.Lock()
	if r := s.recs[a.ID]; r != nil {
		for _, f := range r.Files {
			d.Spec.Files = append(d.Spec.Files, f.Name)
		}
	} else if a.Plan != nil {
		for _, res := range a.Plan.Spec.Resources() {
			if f := res.File(); f != "" && !slices.Contains(d.Spec.Files, f) {
				d.Spec.Files = append(d.Spec.Files, f)
			}
		}
	}
	s.mu.Unlock()
	return d
}

func (s *Server) listApps(w http.ResponseWriter, r *http.Request) {
	out := struct {
		Apps []appSummary `json:"apps"`
	}{Apps: []appSummary{}}
	for _, a := range s.apps() {
		out.Apps = append(out.Apps, summary(a))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createApp(w http.ResponseWriter, r *http.Request) {
	body, p := s.readBody(w, r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	req, p := decodeApp(r, body)
	if p != nil {
		writeProblem(w, p)
		return
	}
	ctx, cancel := s.changeCtx(r)
	defer cancel()
	a, p := s.create(ctx, req, "")
	if p != nil {
		writeProblem(w, p)
		return
	}
	w.Header().Set("Location", "/api/v1/apps/"+a.ID)
	writeJSON(w, http.StatusCreated, s.detail(a))
}

// found returns the app a route's {id} names, or answers 404.
func (s *Server) found(w http.ResponseWriter, r *http.Request, param string) *appInfo {
	id := r.PathValue(param)
	a := s.app(id)
	if a == nil {
		writeProblem(w, newProblem(http.StatusNotFound, "no app %s", id))
	}
	return a
}

func (s *Server) getApp(w http.ResponseWriter, r *http.Request) {
	if a := s.found(w, r, "id"); a != nil {
		writeJSON(w, http.StatusOK, s.detail(a))
	}
}

func (s *Server) putApp(w http.ResponseWriter, r *http.Request) {
	body, p := s.readBody(w, r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	req, p := decodeApp(r, body)
	if p != nil {
		writeProblem(w, p)
		return
	}
	ctx, cancel := s.changeCtx(r)
	defer cancel()
	a, p := s.update(ctx, r.PathValue("id"), req, "")
	if p != nil {
		writeProblem(w, p)
		return
	}
	writeJSON(w, http.StatusOK, s.detail(a))
}

func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request) {
	purge, p := boolQuery(r, "purge")
	if p != nil {
		writeProblem(w, p)
		return
	}
	ctx, cancel := s.changeCtx(r)
	defer cancel()
	out, _, p := s.remove(ctx, r.PathValue("id"), purge)
	if p != nil {
		writeProblem(w, p)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// boolQuery reads a true/false query parameter (absent: false).
func boolQuery(r *http.Request, name string) (bool, *problem) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, newProblem(http.StatusBadRequest, "%s=%q: want true or false", name, v)
	}
	return b, nil
}

// appStatus is GET /api/v1/apps/{id}/status.
type appStatus struct {
	ID         string          `json:"id"`
	State      string          `json:"state"`
	Running    bool            `json:"running"`
	Ready      bool            `json:"ready"`
	Recovering bool            `json:"recovering"`
	Leader     bool            `json:"leader"`
	Reasons    []string        `json:"reasons"`
	Generation int64           `json:"generation"`
	Partitions []int32         `json:"partitions"`
	Tables     []tableProgress `json:"tables"`
}

type tableProgress struct {
	Table      string `json:"table"`
	Partition  int32  `json:"partition"`
	Recovering bool   `json:"recovering"`
	Applied    int64  `json:"applied"`
	Target     int64  `json:"target"`
}

func (s *Server) status(a *appInfo) appStatus {
	rt := s.rt()
	st := appStatus{ID: a.ID, State: a.State, Reasons: a.Reasons, Generation: a.Generation,
		Running: rt.Running(a.ID), Recovering: rt.Recovering(a.ID), Leader: rt.Leader(a.ID),
		Partitions: rt.Held(a.ID), Tables: []tableProgress{}}
	st.Ready = a.State == StateRunning || a.State == StateIdle
	if st.Partitions == nil {
		st.Partitions = []int32{}
	}
	for _, tp := range rt.Tables() {
		if tp.App == a.ID {
			st.Tables = append(st.Tables, tableProgress{Table: tp.Table, Partition: tp.Partition, Recovering: tp.Recovering, Applied: tp.Done, Target: tp.Total})
		}
	}
	return st
}

func (s *Server) appStatus(w http.ResponseWriter, r *http.Request) {
	if a := s.found(w, r, "id"); a != nil {
		writeJSON(w, http.StatusOK, s.status(a))
	}
}

// health is an app's health: UP when it is ready (or has nothing to
// run), DOWN with the reasons otherwise.
type health struct {
	ID      string   `json:"id"`
	Status  string   `json:"status"`
	State   string   `json:"state"`
	Reasons []string `json:"reasons"`
}

func (s *Server) health(w http.ResponseWriter, a *appInfo) {
	h := health{ID: a.ID, Status: "UP", State: a.State, Reasons: a.Reasons}
	code := http.StatusOK
	if a.State != StateRunning && a.State != StateIdle {
		h.Status, code = "DOWN", http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	if h.Reasons == nil {
		h.Reasons = []string{}
	}
	writeJSON(w, code, h)
}

func (s *Server) appHealth(w http.ResponseWriter, r *http.Request) {
	if a := s.found(w, r, "id"); a != nil {
		s.health(w, a)
	}
}

func (s *Server) appMetrics(w http.ResponseWriter, r *http.Request) {
	if a := s.found(w, r, "id"); a != nil {
		s.metrics(w, r, a)
	}
}

// metrics writes an app's figures in the Prometheus text format: the
// agents' counters (named as the app's web server names them), their
// rates, and the app's state.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request, a *appInfo) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(&appCollector{s: s, a: a}); err != nil {
		writeProblem(w, newProblem(http.StatusInternalServerError, "metrics: %v", err))
		return
	}
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, r)
}

// appCollector collects one app's figures at scrape time.
type appCollector struct {
	s *Server
	a *appInfo
}

var (
	labelsApp   = []string{"app"}
	labelsAgent = []string{"app", "agent"}
	mRecordsIn  = prometheus.NewDesc("weir_agent_records_in_total", "Records (or channel items) an agent took in.", labelsAgent, nil)
	mRecordsOut = prometheus.NewDesc("weir_agent_records_out_total", "Records an agent sent to topics.", labelsAgent, nil)
	mDead       = prometheus.NewDesc("weir_agent_dead_letters_total", "Records an agent sent to its dead-letter topic.", labelsAgent, nil)
	mRateIn     = prometheus.NewDesc("weir_agent_event_rate", "Records an agent took in per second, over the control API's last samples.", labelsAgent, nil)
	mRateOut    = prometheus.NewDesc("weir_agent_out_rate", "Records an agent sent per second, over the control API's last samples.", labelsAgent, nil)
	mLatency    = prometheus.NewDesc("weir_agent_latency_quantile_seconds", "A record's time through an agent's pipeline and outputs, over the control API's last samples: quantiles estimated from its histogram.", append(labelsAgent, "quantile"), nil)
	mLag        = prometheus.NewDesc("weir_agent_lag", "Records of the partitions an agent consumes not yet read, as of their last fetch.", labelsAgent, nil)
	mReady      = prometheus.NewDesc("weir_app_ready", "1 when the app is ready.", labelsApp, nil)
	mRunning    = prometheus.NewDesc("weir_app_running", "1 when the runtime runs the app.", labelsApp, nil)
	mGeneration = prometheus.NewDesc("weir_app_generation", "Versions of the app's manifests this process has run.", labelsApp, nil)
	mHeld       = prometheus.NewDesc("weir_app_held_partitions", "Partitions this replica holds (assigned and recovered).", labelsApp, nil)
)

func (c *appCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{mRecordsIn, mRecordsOut, mDead, mRateIn, mRateOut, mLatency, mLag, mReady, mRunning, mGeneration, mHeld} {
		ch <- d
	}
}

func (c *appCollector) Collect(ch chan<- prometheus.Metric) {
	id := c.a.ID
	agents, _ := c.s.figures(id)
	for _, f := range agents {
		ch <- prometheus.MustNewConstMetric(mRecordsIn, prometheus.CounterValue, float64(f.RecordsIn), id, f.Name)
		ch <- prometheus.MustNewConstMetric(mRecordsOut, prometheus.CounterValue, float64(f.RecordsOut), id, f.Name)
		ch <- prometheus.MustNewConstMetric(mDead, prometheus.CounterValue, float64(f.DeadLetters), id, f.Name)
		if f.EventRate != nil {
			ch <- prometheus.MustNewConstMetric(mRateIn, prometheus.GaugeValue, *f.EventRate, id, f.Name)
			ch <- prometheus.MustNewConstMetric(mRateOut, prometheus.GaugeValue, *f.OutRate, id, f.Name)
		}
		if f.LatencyP50 != nil {
			ch <- prometheus.MustNewConstMetric(mLatency, prometheus.GaugeValue, *f.LatencyP50/1000, id, f.Name, "0.5")
			ch <- prometheus.MustNewConstMetric(mLatency, prometheus.GaugeValue, *f.LatencyP99/1000, id, f.Name, "0.99")
		}
		if f.Lag != nil {
			ch <- prometheus.MustNewConstMetric(mLag, prometheus.GaugeValue, float64(*f.Lag), id, f.Name)
		}
	}
	rt := c.s.rt()
	ch <- prometheus.MustNewConstMetric(mReady, prometheus.GaugeValue, b2f(c.a.State == StateRunning || c.a.State == StateIdle), id)
	ch <- prometheus.MustNewConstMetric(mRunning, prometheus.GaugeValue, b2f(rt.Running(id)), id)
	ch <- prometheus.MustNewConstMetric(mGeneration, prometheus.GaugeValue, float64(c.a.Generation), id)
	ch <- prometheus.MustNewConstMetric(mHeld, prometheus.GaugeValue, float64(len(rt.Held(id))), id)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (s *Server) appLogs(w http.ResponseWriter, r *http.Request) {
	a := s.found(w, r, "id")
	if a == nil {
		return
	}
	follow, p := boolQuery(r, "follow")
	if p != nil {
		writeProblem(w, p)
		return
	}
	if follow || r.Header.Get("Accept") == "text/event-stream" {
		s.followLogs(w, r, a.ID)
		return
	}
	lines, p := s.recentLines(r, a.ID)
	if p != nil {
		writeProblem(w, p)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	for _, l := range lines {
		fmt.Fprintln(w, l.Text)
	}
}
