package control

import (
	"net/http"
	"slices"
	"strings"
)

// route is one route: the mux serves it and the OpenAPI document
// describes it, both from this table (routes), so they cannot drift.
type route struct {
	method, path string
	op           string // operationId
	tag          string
	summary      string
	query        []param
	body         string // the request body: a component schema, or "" for none
	answers      []answer
	h            http.HandlerFunc
}

// param is a query parameter.
type param struct{ name, typ, desc string }

// answer is one documented response.
type answer struct {
	status int
	desc   string
	media  string // "": application/json
	schema string // a component schema, or "" for none
}

// Answers most routes share.
var (
	notFound    = answer{http.StatusNotFound, "No app of that id.", "", "Error"}
	unprocessed = answer{http.StatusUnprocessableEntity, "The manifests do not load or compile: every error with its position; nothing was changed.", "", "Error"}
	conflict    = answer{http.StatusConflict, "The app comes from the watched folder (read-only here), or exists already, or the folders do not compile now.", "", "Error"}
	tooLarge    = answer{http.StatusRequestEntityTooLarge, "The body is over the size limit.", "", "Error"}
	textPlain   = "text/plain; charset=utf-8"
	eventStream = "text/event-stream"
	promText    = "text/plain; version=0.0.4"
)

// Tags of the route groups.
const (
	tagApps        = "apps"
	tagCoordinator = "coordinator"
	tagDataCater   = "datacater"
	tagMeta        = "meta"
)

var (
	queryPurge  = param{"purge", "boolean", "Also delete the app's internal topics (changelogs, dead letters, leader and members topics) and its local table state."}
	queryFollow = param{"follow", "boolean", "Stream the lines as Server-Sent Events: the recent ones, then each new one."}
	queryTail   = param{"tail", "integer", "How many recent lines (0: every line kept; following: 100 by default)."}
)

// table is every route of the API.
func (s *Server) table() []*route {
	return []*route{
		{method: "GET", path: "/api/v1/apps", op: "listApps", tag: tagApps, summary: "List every app: id, name, created, state, generation and source (file or api).",
			answers: []answer{{200, "The apps.", "", "AppList"}}, h: s.listApps},
		{method: "POST", path: "/api/v1/apps", op: "createApp", tag: tagApps, summary: "Create an app from its manifests: YAML (one or many documents), or JSON {name, manifests}.",
			body:    "AppRequest",
			answers: []answer{{201, "Created and started; the app.", "", "App"}, conflict, tooLarge, unprocessed}, h: s.createApp},
		{method: "GET", path: "/api/v1/apps/{id}", op: "getApp", tag: tagApps, summary: "An app: its spec (secrets redacted), state and per-agent figures.",
			answers: []answer{{200, "The app.", "", "App"}, notFound}, h: s.getApp},
		{method: "PUT", path: "/api/v1/apps/{id}", op: "updateApp", tag: tagApps, summary: "Give an app of the API new manifests, through the hot-reload path; a spec that does not compile leaves the app as it was.",
			body:    "AppRequest",
			answers: []answer{{200, "Updated; the app.", "", "App"}, notFound, conflict, tooLarge, unprocessed}, h: s.putApp},
		{method: "DELETE", path: "/api/v1/apps/{id}", op: "deleteApp", tag: tagApps, summary: "Tear an app of the API down: stop it, committing its work in flight, and forget it.",
			query:   []param{queryPurge},
			answers: []answer{{200, "Deleted; what the purge did.", "", "Deleted"}, notFound, conflict}, h: s.deleteApp},
		{method: "GET", path: "/api/v1/apps/{id}/status", op: "getAppStatus", tag: tagApps, summary: "An app's state, readiness, held partitions and table recovery.",
			answers: []answer{{200, "The status.", "", "Status"}, notFound}, h: s.appStatus},
		{method: "GET", path: "/api/v1/apps/{id}/health", op: "getAppHealth", tag: tagApps, summary: "UP when the app is ready, else DOWN (503) with the reasons.",
			answers: []answer{{200, "Ready.", "", "Health"}, {503, "Not ready.", "", "Health"}, notFound}, h: s.appHealth},
		{method: "GET", path: "/api/v1/apps/{id}/metrics", op: "getAppMetrics", tag: tagApps, summary: "An app's figures in the Prometheus text format.",
			answers: []answer{{200, "The metrics.", promText, ""}, notFound}, h: s.appMetrics},
		{method: "GET", path: "/api/v1/apps/{id}/logs", op: "getAppLogs", tag: tagApps, summary: "An app's recent log lines, or (follow=true) a stream of them as Server-Sent Events.",
			query:   []param{queryFollow, queryTail},
			answers: []answer{{200, "The lines, one a line; or the event stream.", textPlain, ""}, notFound}, h: s.appLogs},
		{method: "GET", path: "/api/v1/openapi.json", op: "getOpenAPI", tag: tagMeta, summary: "This document.",
			answers: []answer{{200, "The OpenAPI 3 document of the control API.", "", ""}}, h: s.openAPI},

		// The kdb Insights Stream Processor Coordinator's routes.
		{method: "POST", path: "/pipeline/create", op: "coordinatorCreate", tag: tagCoordinator, summary: "Create a pipeline: {name, type: \"spec\", config: {content: weir manifests}, settings}. Answers its id.",
			body:    "CoordinatorCreate",
			answers: []answer{{201, "The pipeline's id, a JSON string.", "", "ID"}, conflict, tooLarge, unprocessed}, h: s.coordinatorCreate},
		{method: "GET", path: "/pipelines", op: "coordinatorList", tag: tagCoordinator, summary: "Every pipeline: id, name, created, state.",
			answers: []answer{{200, "The pipelines.", "", "CoordinatorPipelines"}}, h: s.coordinatorList},
		{method: "GET", path: "/details", op: "coordinatorDetails", tag: tagCoordinator, summary: "Every pipeline with lastSeen and its metrics: eventRate, latency (mean, ms); weir does not measure bytesRate.",
			answers: []answer{{200, "The pipelines.", "", "CoordinatorDetails"}}, h: s.coordinatorDetails},
		{method: "GET", path: "/pipeline/status/{id}", op: "coordinatorStatus", tag: tagCoordinator, summary: "A pipeline's status as a JSON string: \"Running\", \"Starting\", \"Unhealthy\", \"Idle\" or \"Errored\".",
			answers: []answer{{200, "The status.", "", "ID"}, notFound}, h: s.coordinatorStatus},
		{method: "POST", path: "/pipeline/teardown/{id}", op: "coordinatorTeardown", tag: tagCoordinator, summary: "Tear a pipeline down; clearCheckpoints=true (or purge=true) also purges its topics and state.",
			query:   []param{{"clearCheckpoints", "boolean", "Purge as DELETE /api/v1/apps/{id}?purge=true does."}, queryPurge},
			answers: []answer{{200, "Torn down.", "", "Deleted"}, notFound, conflict}, h: s.coordinatorTeardown},

		// DataCater's deployments.
		{method: "GET", path: "/api/v1/deployments", op: "listDeployments", tag: tagDataCater, summary: "Every deployment.",
			answers: []answer{{200, "The deployments.", "", "Deployments"}}, h: s.listDeployments},
		{method: "POST", path: "/api/v1/deployments", op: "createDeployment", tag: tagDataCater, summary: "Create a deployment: {name, spec: {manifests: weir manifests}}.",
			body:    "DeploymentRequest",
			answers: []answer{{201, "The deployment.", "", "Deployment"}, conflict, tooLarge, unprocessed}, h: s.createDeployment},
		{method: "GET", path: "/api/v1/deployments/{uuid}", op: "getDeployment", tag: tagDataCater, summary: "A deployment.",
			answers: []answer{{200, "The deployment.", "", "Deployment"}, notFound}, h: s.getDeployment},
		{method: "PUT", path: "/api/v1/deployments/{uuid}", op: "updateDeployment", tag: tagDataCater, summary: "Update a deployment through the hot-reload path.",
			body:    "DeploymentRequest",
			answers: []answer{{200, "The deployment.", "", "Deployment"}, notFound, conflict, tooLarge, unprocessed}, h: s.updateDeployment},
		{method: "DELETE", path: "/api/v1/deployments/{uuid}", op: "deleteDeployment", tag: tagDataCater, summary: "Delete a deployment (purge=true also purges its topics and state).",
			query:   []param{queryPurge},
			answers: []answer{{200, "The deployment as it was.", "", "Deployment"}, notFound, conflict}, h: s.deleteDeployment},
		{method: "GET", path: "/api/v1/deployments/{uuid}/logs", op: "getDeploymentLogs", tag: tagDataCater, summary: "A deployment's recent log lines, a JSON list.",
			query:   []param{queryTail},
			answers: []answer{{200, "The lines.", "", "Lines"}, notFound}, h: s.deploymentLogs},
		{method: "GET", path: "/api/v1/deployments/{uuid}/watch-logs", op: "watchDeploymentLogs", tag: tagDataCater, summary: "A deployment's log lines as Server-Sent Events.",
			query:   []param{queryTail},
			answers: []answer{{200, "The event stream.", eventStream, ""}, notFound}, h: s.watchDeploymentLogs},
		{method: "GET", path: "/api/v1/deployments/{uuid}/health", op: "getDeploymentHealth", tag: tagDataCater, summary: "UP when the deployment is ready, else DOWN (503).",
			answers: []answer{{200, "Ready.", "", "Health"}, {503, "Not ready.", "", "Health"}, notFound}, h: s.deploymentHealth},
		{method: "GET", path: "/api/v1/deployments/{uuid}/metrics", op: "getDeploymentMetrics", tag: tagDataCater, summary: "A deployment's figures in the Prometheus text format.",
			answers: []answer{{200, "The metrics.", promText, ""}, notFound}, h: s.deploymentMetrics},
	}
}

// router serves the table: each route by method and path, other methods
// of a known path with 405, and unknown paths with 404, all as JSON.
func (s *Server) router() *http.ServeMux {
	mux := http.NewServeMux()
	s.routes = s.table()
	methods := map[string][]string{}
	var paths []string
	for _, rt := range s.routes {
		mux.HandleFunc(rt.method+" "+rt.path, rt.h)
		if methods[rt.path] == nil {
			paths = append(paths, rt.path)
		}
		methods[rt.path] = append(methods[rt.path], rt.method)
	}
	for _, p := range paths {
		allow := methods[p]
		if slices.Contains(allow, "GET") {
			allow = append(allow, "HEAD")
		}
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeProblem(w, newProblem(http.StatusMethodNotAllowed, "%s %s: this path takes %s", r.Method, p, strings.Join(allow, ", ")))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, newProblem(http.StatusNotFound, "no route %s: see /api/v1/openapi.json", r.URL.Path))
	})
	return mux
}
