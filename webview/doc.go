// Package webview is an app's HTTP face: one Echo server per app, on the
// app's webPort under its webBasePath. It owns the web view routes
// (KasprWebView), the answers of keys whose partition another replica holds
// (forwarding), the members topic through which replicas learn who holds
// what, and the endpoints every app serves: GET /status/, POST
// /signal/rebalance, GET /healthz, GET /readyz and GET
// <webMetricsBasePath>/metrics. It knows the running app only through
// package engine's web API (Runtime.WebTable, Held, Produce, Stats, ...)
// and the plan; it knows nothing of YAML.
//
// # Web views
//
// A web view's route is its method and path, {name} segments being path
// parameters (a parameter value may hold an escaped '/'). A request runs the
// view's pipeline on an interpreter thread taken from the server's pool (a
// thread runs one request at a time). The first operation is called with
// the request object, a value with the attributes method, path (as
// received, base path included), params (the path parameters), query (a
// dict of each query parameter's first value), headers (a dict keyed by
// lower-case header names; repeated headers joined by ", "), body (str when
// the body is UTF-8, else bytes) and json() (the body parsed as JSON); the
// tables it names, read-only, as keyword arguments; and each path parameter
// as a keyword argument when its function takes one of that name. Later
// operations get the value and their tables. A table read of a key whose
// partition this replica does not hold is forwarded (below); len, keys,
// items and prefix_scan cover the partitions held here.
//
// A topicSend sends the value (a topicSend that is the first operation
// sends the request's body: parsed JSON with a json value serializer, else
// its bytes) through the app's idempotent producer, outside any
// transaction, and waits for the broker: an answer means the record is
// written. With ack the record's topic, partition and offset flow on as a
// dict; with passThrough the value; else the pipeline ends. A send to a
// channel queues the value for the agents that consume it, outside any
// transaction (at least once, as a task's items); the runtime keeps an
// app's channels open only while the app consumes topics or runs tasks.
// An app of web views only is not run by the runtime: its server declares
// its topics at Start and sends through a producer of its own.
//
// Apply serves a new plan of the app (a reload): its web views and routes
// are swapped at once, requests in flight finishing on the old ones.
//
// What reaches the end of the pipeline is the result: the one value, a
// list when a fan-out left several, None when a filter left none. On
// success the status is statusCodeSelector.onSuccess(result) or
// response.statusCode, the headers are response.headers plus
// headersSelector.onSuccess(result), and the body is
// bodySelector.onSuccess(result) or the result. On an error (in an
// operation, or in a success selector) the error value is the dict
// {"operation": name, "message": text}; the status is
// statusCodeSelector.onError(error) or 500, the headers response.headers
// plus headersSelector.onError(error), the body bodySelector.onError(error)
// or the error value. An error of an error selector answers 500 with its
// own error value. The body is encoded by contentType: application/json
// as JSON; the other types write a str or bytes as they are, None as
// nothing, and anything else as JSON. The message of an error is the code
// block's message, without its file position or backtrace, which go to the
// log; a Python exception raised by name (raise ValueError("bad")) gives
// its message ("bad"), as str(e) does.
//
// # Any key from any replica
//
// Each replica advertises a URL (Options.AdvertiseURL). When an app has web
// views that read partitioned tables, every replica keeps a record in the
// members topic <app-id>-members (one partition, compacted, declared by
// weir unless topicAllowDeclare is false): keyed by its URL, valued
// {url, instance, process, partitions}, where partitions are those the
// replica holds (assigned and recovered, Runtime.Held). A replica checks
// its held partitions every Options.MembersInterval and writes a new record
// when they changed; at Stop it writes a tombstone. Every replica reads the
// topic from its start with a group-less reader and keeps each URL's last
// record and its offset.
//
// The holder of partition p is the replica whose last record claims p and
// was written last (the highest offset): the topic has one partition, so
// its offsets order every claim. A replica that takes p over claims it
// after it recovered p, which is after the group revoked p from its former
// holder, so the newer claim wins even when the former holder's record is
// stale (it crashed, or has not yet written that it lost p). A crashed
// replica's claims stay until another replica claims its partitions.
//
// When a table read fails because another replica holds the key's
// partition (*engine.ElsewhereError), the request is sent to that
// replica's URL with the header Weir-Forwarded-By, and its answer (status,
// headers, body) is returned. A request that carries Weir-Forwarded-By is
// never forwarded again: if this replica does not hold the partition
// either, it answers 503. So there are no loops, and an answer always
// comes from a replica that holds the key's partition: a stale view of the
// members costs a 503, never a wrong answer. When no replica is known to
// hold the partition (a rebalance or a recovery is under way, the members
// topic is not read yet, the last claim is this replica's own stale one),
// or the holder does not answer, the answer is 503 with Retry-After: never
// a 404 for a key that may exist. A request that already sent records
// (topicSend) before such a read is not forwarded (that would send them
// twice): it fails with an error value like any other.
//
// # Endpoints every app serves
//
//   - GET /status/ (and /status): the app, whether it runs, leads (runs its
//     onLeader tasks), is rebalancing (a partition of its tables has no
//     known holder, or is being recovered) or recovering, readiness, the
//     partitions it holds, each table with its keys and its recovery
//     progress per partition, the members as read from the members topic,
//     and the config generation and hash (the runtime's: 1 at start, one
//     more per reload that changed something).
//   - POST /signal/rebalance: 501; weir cannot make the group rebalance
//     on request yet.
//   - GET /healthz: 200 while the process serves.
//   - GET /readyz: 200 when the app runs, its session is well, and no table
//     partition is being recovered; else 503 with the reasons.
//   - GET <webMetricsBasePath>/metrics: Prometheus text format: agents'
//     records in, out and dead-lettered (weir_agent_*_total), table keys
//     per partition, recovery progress, readiness and leadership, web view
//     request durations by route, method and status
//     (weir_webview_request_duration_seconds), forwarded requests, and Go
//     and process figures.
//
// # Safe by default
//
// Request bodies are limited (Options.MaxBodyBytes: 413 beyond), every
// request has a deadline (Options.HandlerTimeout: 503 with Retry-After when
// it passes, even while a code block still runs: the pipeline runs beside
// the handler, and each code block call ends within the app's own
// budgets), a panic answers 500 without a Go stack trace (the stack goes
// to the log), error answers of weir's own are short JSON objects, and
// CORS is off unless Options.CORSOrigins names origins.
package webview
