// Package spec turns manifests into typed resources. It owns reading files
// and folders (Kubernetes ConfigMap mounts included), YAML with positions,
// validation against the schemas of package schemas, defaults, binding each
// resource to its app, and the checks between resources (tables, channels,
// pipelines, routes, ports). The result is a Bundle of apps, or Errors that
// each say file:line:column, the field path and what is wrong.
//
// Loading runs nothing and compiles no code: code blocks are checked for
// shape only, and their positions are kept for the interpreter to report
// against. The package knows nothing of Kafka, the interpreter, the engine or
// HTTP.
package spec
