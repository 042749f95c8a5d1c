package webview

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are one app's Prometheus metrics, in a registry of the server's
// own: request figures are counted as requests come, the runtime's are
// read at scrape time.
type metrics struct {
	s        *Server
	reg      *prometheus.Registry
	duration *prometheus.HistogramVec
	forwards *prometheus.CounterVec

	recordsIn, recordsOut, deadLetters *prometheus.Desc
	tableKeys                          *prometheus.Desc
	recoveryApplied, recoveryTarget    *prometheus.Desc
	recovering                         *prometheus.Desc
	ready, leader, held                *prometheus.Desc
	generation, configInfo, reloadFail *prometheus.Desc
	codeErrors, stepLimits, timeouts   *prometheus.Desc
	processing, lag                    *prometheus.Desc
}

func newMetrics(s *Server) *metrics {
	app := prometheus.Labels{"app": s.app.Name}
	m := &metrics{
		s:   s,
		reg: prometheus.NewRegistry(),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        "weir_webview_request_duration_seconds",
			Help:        "Time to answer an HTTP request of the app's web server, by route, method and status.",
			ConstLabels: app,
			Buckets:     []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "code"}),
		forwards: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "weir_webview_forwarded_requests_total",
			Help:        "Web view requests whose key's partition another replica holds, by outcome: answered (by that replica), unknown (no holder known: 503), refused (a forwarded request that would be forwarded again: 503), unanswered (the holder did not answer: 503).",
			ConstLabels: app,
		}, []string{"route", "outcome"}),
		recordsIn:       desc("weir_agent_records_in_total", "Records (or channel items) an agent took in.", app, "agent"),
		recordsOut:      desc("weir_agent_records_out_total", "Records an agent sent to topics.", app, "agent"),
		deadLetters:     desc("weir_agent_dead_letters_total", "Records an agent sent to its dead-letter topic.", app, "agent"),
		tableKeys:       desc("weir_table_keys", "Keys of a table partition held by this replica.", app, "table", "partition"),
		recoveryApplied: desc("weir_table_recovery_applied_offset", "Changelog offset a table partition's recovery has applied up to.", app, "table", "partition"),
		recoveryTarget:  desc("weir_table_recovery_target_offset", "Changelog offset a table partition's recovery must reach.", app, "table", "partition"),
		recovering:      desc("weir_table_recovering", "1 while a table partition is being recovered from its changelog.", app, "table", "partition"),
		ready:           desc("weir_app_ready", "1 when the app is ready (see /readyz).", app),
		leader:          desc("weir_app_leader", "1 when this replica leads the app (runs its onLeader tasks).", app),
		held:            desc("weir_app_held_partitions", "Partitions this replica holds (assigned and recovered).", app),
		generation:      desc("weir_config_generation", "Generation of the manifests running: 1 at start, one more per reload that changed something.", app),
		configInfo:      desc("weir_config_info", "1, labelled with the hash of the manifests running.", app, "hash"),
		reloadFail:      desc("weir_reload_failures_total", "Reloads refused (the running apps were left as they were).", app),
		codeErrors:      desc("weir_code_errors_total", "Failures of an agent's code blocks (each sends its record to the dead-letter topic).", app, "agent"),
		stepLimits:      desc("weir_code_step_limit_hits_total", "Calls of an agent's code stopped at codeMaxSteps.", app, "agent"),
		timeouts:        desc("weir_code_timeouts_total", "Calls of an agent's code stopped at codeTimeout.", app, "agent"),
		processing:      desc("weir_agent_processing_seconds", "Time a record takes through an agent's pipeline and outputs.", app, "agent"),
		lag:             desc("weir_partition_lag", "Records of a consumed partition not yet read, as of its last fetch.", app, "topic", "partition"),
	}
	m.reg.MustRegister(m.duration, m.forwards, m,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func desc(name, help string, constLabels prometheus.Labels, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, constLabels)
}

// handler serves the registry in the text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil, ErrorHandling: promhttp.ContinueOnError})
}

// Describe implements prometheus.Collector for the runtime's figures.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.recordsIn, m.recordsOut, m.deadLetters, m.tableKeys,
		m.recoveryApplied, m.recoveryTarget, m.recovering, m.ready, m.leader, m.held,
		m.generation, m.configInfo, m.reloadFail, m.codeErrors, m.stepLimits, m.timeouts, m.processing, m.lag} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: it reads the runtime's figures.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	s := m.s
	name := s.name
	for _, st := range s.rt.Stats() {
		if st.App != name {
			continue
		}
		ch <- prometheus.MustNewConstMetric(m.recordsIn, prometheus.CounterValue, float64(st.In), st.Agent)
		ch <- prometheus.MustNewConstMetric(m.recordsOut, prometheus.CounterValue, float64(st.Out), st.Agent)
		ch <- prometheus.MustNewConstMetric(m.deadLetters, prometheus.CounterValue, float64(st.DeadLetters), st.Agent)
		ch <- prometheus.MustNewConstMetric(m.codeErrors, prometheus.CounterValue, float64(st.CodeErrors), st.Agent)
		ch <- prometheus.MustNewConstMetric(m.stepLimits, prometheus.CounterValue, float64(st.StepLimits), st.Agent)
		ch <- prometheus.MustNewConstMetric(m.timeouts, prometheus.CounterValue, float64(st.Timeouts), st.Agent)
		buckets := make(map[float64]uint64, len(st.Latency.Buckets))
		for i, b := range st.Latency.Buckets {
			buckets[b] = st.Latency.Counts[i]
		}
		ch <- prometheus.MustNewConstHistogram(m.processing, st.Latency.Count, st.Latency.Sum, buckets, st.Agent)
	}
	for _, l := range s.rt.Lag(name) {
		ch <- prometheus.MustNewConstMetric(m.lag, prometheus.GaugeValue, float64(l.Lag), l.Topic, strconv.Itoa(int(l.Partition)))
	}
	keys, err := s.tableKeys()
	if err != nil {
		s.logError("counting table keys for the metrics", "error", err)
	}
	for table, ps := range keys {
		for p, n := range ps {
			ch <- prometheus.MustNewConstMetric(m.tableKeys, prometheus.GaugeValue, float64(n), table, strconv.Itoa(int(p)))
		}
	}
	for _, tp := range s.rt.Tables() {
		if tp.App != name {
			continue
		}
		p := strconv.Itoa(int(tp.Partition))
		ch <- prometheus.MustNewConstMetric(m.recoveryApplied, prometheus.GaugeValue, float64(tp.Done), tp.Table, p)
		ch <- prometheus.MustNewConstMetric(m.recoveryTarget, prometheus.GaugeValue, float64(tp.Total), tp.Table, p)
		ch <- prometheus.MustNewConstMetric(m.recovering, prometheus.GaugeValue, boolValue(tp.Recovering), tp.Table, p)
	}
	ch <- prometheus.MustNewConstMetric(m.ready, prometheus.GaugeValue, boolValue(len(s.notReady()) == 0))
	cfg := s.config(s.cur())
	ch <- prometheus.MustNewConstMetric(m.generation, prometheus.GaugeValue, float64(cfg.Generation))
	ch <- prometheus.MustNewConstMetric(m.configInfo, prometheus.GaugeValue, 1, cfg.Hash)
	ch <- prometheus.MustNewConstMetric(m.reloadFail, prometheus.CounterValue, float64(cfg.ReloadFailures))
	ch <- prometheus.MustNewConstMetric(m.leader, prometheus.GaugeValue, boolValue(s.rt.Leader(name)))
	ch <- prometheus.MustNewConstMetric(m.held, prometheus.GaugeValue, float64(len(s.rt.Held(name))))
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// middleware times every request, by route (the route's path with its
// parameters, not the request's, so that the labels stay few).
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			m.s.errorHandler(c, err)
		}
		code := http.StatusOK
		if r, uerr := echo.UnwrapResponse(c.Response()); uerr == nil && r.Status != 0 {
			code = r.Status
		}
		route := c.Path()
		if n := c.RouteInfo().Name; route == "" || n == echo.NotFoundRouteName || n == echo.MethodNotAllowedRouteName {
			route = "unmatched"
		}
		m.duration.WithLabelValues(route, c.Request().Method, strconv.Itoa(code)).Observe(time.Since(start).Seconds())
		return nil
	}
}

// forwarded counts a forward's outcome.
func (m *metrics) forwarded(v *view, outcome string) {
	m.forwards.WithLabelValues(v.route, outcome).Inc()
}
