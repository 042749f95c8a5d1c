package control

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// The OpenAPI 3 document: paths from the route table, schemas below.

type obj = map[string]any

var pathParam = regexp.MustCompile(`\{([a-zA-Z]+)\}`)

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.openAPIDoc())
}

// openAPIDoc is the document of the server's routes.
func (s *Server) openAPIDoc() obj {
	paths := obj{}
	for _, rt := range s.routes {
		item, _ := paths[rt.path].(obj)
		if item == nil {
			item = obj{}
			paths[rt.path] = item
		}
		op := obj{"operationId": rt.op, "summary": rt.summary, "tags": []string{rt.tag}}
		var params []obj
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, obj{"name": m[1], "in": "path", "required": true,
				"description": "The app's id (its name).", "schema": obj{"type": "string"}})
		}
		for _, q := range rt.query {
			params = append(params, obj{"name": q.name, "in": "query", "required": false, "description": q.desc, "schema": obj{"type": q.typ}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.body != "" {
			op["requestBody"] = requestBody(rt.body)
		}
		responses := obj{}
		for _, a := range rt.answers {
			resp := obj{"description": a.desc}
			media := a.media
			if media == "" {
				media = "application/json"
			}
			content := obj{}
			if a.schema != "" {
				content[media] = obj{"schema": ref(a.schema)}
			} else {
				content[media] = obj{}
			}
			resp["content"] = content
			responses[strconv.Itoa(a.status)] = resp
		}
		responses["401"] = obj{"description": "The server has a token, and the request did not carry it.", "content": obj{"application/json": obj{"schema": ref("Error")}}}
		responses["403"] = obj{"description": "A cross-origin request, or (without a token) a Host that is not a loopback name.", "content": obj{"application/json": obj{"schema": ref("Error")}}}
		op["responses"] = responses
		item[strings.ToLower(rt.method)] = op
	}
	return obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":   "weir control API",
			"version": "v1",
			"description": "Create, list, inspect, update and tear down the apps of a running weir process. " +
				"Every change goes through the hot-reload path: a spec that does not compile changes nothing. " +
				"An app's id is its name. Apps from the watched folders are read-only here. " +
				"The coordinator and datacater routes speak the shapes of those control planes, with weir manifests as their content.",
		},
		"paths":    paths,
		"security": []obj{{"bearer": []string{}}, {}},
		"components": obj{
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer",
				"description": "Required on every route when the server has a token (always when it listens beyond the loopback interface)."}},
			"schemas": schemas(),
		},
	}
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func requestBody(schema string) obj {
	content := obj{"application/json": obj{"schema": ref(schema)}}
	if schema == "AppRequest" {
		content["application/yaml"] = obj{"schema": obj{"type": "string", "description": "The app's manifests: a KasprApp and the resources bound to it, as YAML documents."}}
	}
	return obj{"required": true, "content": content}
}

func str(desc string) obj     { return obj{"type": "string", "description": desc} }
func integer(desc string) obj { return obj{"type": "integer", "description": desc} }
func number(desc string) obj  { return obj{"type": "number", "description": desc} }
func boolean(desc string) obj { return obj{"type": "boolean", "description": desc} }
func date(desc string) obj    { return obj{"type": "string", "format": "date-time", "description": desc} }
func list(items obj) obj      { return obj{"type": "array", "items": items} }
func object(required []string, props obj) obj {
	o := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func schemas() obj {
	manifests := obj{"description": "The app's manifests: YAML text (one or many documents), or a list of YAML texts or {file, content} objects (file names show in the positions of errors).",
		"oneOf": []obj{{"type": "string"}, list(obj{"oneOf": []obj{{"type": "string"},
			object([]string{"content"}, obj{"file": str("The file's name, for positions."), "content": str("YAML text.")})}})}}
	summary := obj{
		"id":         str("The app's id: its name."),
		"name":       str("The KasprApp's metadata.name."),
		"created":    date("When this process first ran it (for apps of the API: when it was created)."),
		"updated":    date("When its manifests last changed."),
		"state":      obj{"type": "string", "enum": []string{StateRunning, StateUnready, StateRecovering, StateIdle, StateFailed}},
		"generation": integer("Versions of its manifests: 1 when created, one more per change."),
		"source":     obj{"type": "string", "enum": []string{SourceFile, SourceAPI}},
		"file":       str("The file of a folder app's KasprApp."),
	}
	app := obj{}
	for k, v := range summary {
		app[k] = v
	}
	app["reasons"] = list(str("Why it is not running well."))
	app["spec"] = object(nil, obj{"resources": list(obj{"type": "object", "description": "A resource as loaded, defaults applied, secrets redacted."}),
		"files": list(str("Its manifest files: as the client named them (apps of the API), or the folder's."))})
	app["agents"] = list(object(nil, obj{"name": str(""), "recordsIn": integer(""), "recordsOut": integer(""), "deadLetters": integer(""),
		"codeErrors":   integer("Failures of the agent's code."),
		"eventRate":    number("Records taken in per second over the last samples."),
		"outRate":      number("Records sent per second over the last samples."),
		"latencyP50Ms": number("Median time of a record through the pipeline and outputs, in milliseconds."),
		"latencyP99Ms": number("Its 99th percentile."),
		"lag":          integer("Records of the agent's partitions not yet read, as of their last fetch.")}))
	app["metrics"] = object(nil, obj{"eventRate": number(""), "latencyMeanMs": number(""), "lag": integer(""),
		"recordsIn": integer(""), "recordsOut": integer(""), "deadLetters": integer("")})
	app["notes"] = list(str("What the figures leave out, and why."))
	app["errors"] = list(ref("SpecError"))
	return obj{
		"Error": object([]string{"error"}, obj{"error": str("What is wrong, in a sentence."), "errors": list(ref("SpecError")),
			"id": str("The app a conflict is about."), "source": str("Where that app comes from.")}),
		"SpecError": object([]string{"message", "text"}, obj{"file": str(""), "line": integer(""), "column": integer(""),
			"path": str("The field, such as spec.input.topic.name."), "message": str(""), "text": str("file:line:column: path: message")}),
		"AppRequest": object([]string{"manifests"}, obj{"name": str("The app's name, when given: it must be the KasprApp's."), "manifests": manifests}),
		"AppSummary": object(nil, summary),
		"AppList":    object([]string{"apps"}, obj{"apps": list(ref("AppSummary"))}),
		"App":        object(nil, app),
		"Deleted": object([]string{"id", "deleted"}, obj{"id": str(""), "deleted": boolean(""), "purged": boolean(""),
			"deletedTopics": list(str("")), "deletedState": boolean("Local table state was dropped."), "purgeErrors": list(str(""))}),
		"Status": object(nil, obj{"id": str(""), "state": str(""), "running": boolean(""), "ready": boolean(""), "recovering": boolean(""),
			"leader": boolean(""), "reasons": list(str("")), "generation": integer(""), "partitions": list(integer("")),
			"tables": list(object(nil, obj{"table": str(""), "partition": integer(""), "recovering": boolean(""), "applied": integer(""), "target": integer("")}))}),
		"Health": object([]string{"status"}, obj{"id": str(""), "status": obj{"type": "string", "enum": []string{"UP", "DOWN"}}, "state": str(""), "reasons": list(str(""))}),
		"ID":     str("An id, or a status word."),
		"Lines":  list(str("A log line.")),
		"CoordinatorCreate": object([]string{"name", "config"}, obj{"name": str("The pipeline's name (shown by /pipelines; the id is the KasprApp's name)."),
			"type":     obj{"type": "string", "enum": []string{"spec"}},
			"config":   object([]string{"content"}, obj{"content": str("weir manifests, YAML.")}),
			"settings": obj{"type": "object", "description": "Accepted and not used: weir scales by replicas of the process."}}),
		"CoordinatorPipelines": list(object(nil, obj{"id": str(""), "name": str(""), "created": str(""), "state": str("RUNNING, STARTING, UNHEALTHY, IDLE or ERRORED.")})),
		"CoordinatorDetails": list(object(nil, obj{"id": str(""), "name": str(""), "created": str(""), "lastSeen": str(""), "state": str(""),
			"metrics": object(nil, obj{"eventRate": number("Events per second."), "latency": number("Mean latency in milliseconds.")})})),
		"DeploymentRequest": object([]string{"spec"}, obj{"name": str("The deployment's name, for reference only."),
			"spec": object([]string{"manifests"}, obj{"manifests": manifests})}),
		"Deployment": object(nil, obj{"name": str(""), "uuid": str("The app's id."), "createdAt": date(""), "updatedAt": date(""),
			"spec":   object(nil, obj{"resources": list(obj{"type": "object"})}),
			"status": obj{"type": "object", "description": "Keyed by the deployment's name, as DataCater's: labels and Conditions."}}),
		"Deployments": list(ref("Deployment")),
	}
}
