// Package control is weir's control API: one HTTP server for the whole
// process (weir run --api-addr, 127.0.0.1:8080 by default) through which
// apps are created, listed, inspected, updated and torn down while the
// process runs. It owns the REST routes under /api/v1/apps, their OpenAPI
// document (/api/v1/openapi.json), the compatibility routes that speak the
// shapes of other stream processors' control planes (coordinator.go,
// datacater.go), the apps it keeps in the data dir (<data-dir>/api), the
// recent log lines of each app (Logs, a slog.Handler that keeps a ring per
// app) and the rates it computes from the runtime's counters.
//
// It changes what runs only through package host: an app created or
// updated here is a set of manifests held by the host for one owner
// ("api/<id>"), and the host loads, compiles and applies them together
// with the watched folders, as a file change would. A spec that does not
// compile changes nothing, and the answer is 422 with every error and its
// file:line:column. It knows the running apps only through the runtime's
// exported figures (engine.Runtime.Plan, Stats, NotReady, Running, ...),
// and nothing of how they run.
//
// # Identity and sources
//
// An app's id is its name (KasprApp metadata.name): one process runs one
// app of a name, and the name is its consumer group's. Apps from the
// watched folders are listed with source "file" and are read-only here
// (409 says where to change them); apps created here have source "api",
// and come back when the process restarts: each is kept as
// <data-dir>/api/<id>.json (its manifest files, created and updated times,
// generation), written atomically. A kept app that no longer loads at a
// restart is listed with state "failed" and its errors, and does not stop
// the other apps from starting; PUT fixes it, DELETE removes it.
//
// # Safe by default
//
// The server listens on the loopback interface unless told otherwise, and
// refuses to start bound elsewhere without a bearer token; with a token,
// every route needs it (compared in constant time). Without a token it
// answers only requests whose Host is a loopback name (no DNS rebinding),
// and it refuses any request a browser marks as cross-origin (Origin,
// Sec-Fetch-Site), so that a web page cannot drive it. Bodies are
// limited, changes are bounded in time and made one at a time, and what it
// returns of a spec has its secrets (SASL passwords, keys and tokens of
// spec.config.kafka) redacted.
package control
