// Package bench is `weir bench`: it measures how fast weir processes
// records exactly-once, against a reference that does no processing.
//
// # What runs
//
// The harness starts the embedded broker (or uses an existing cluster) and
// runs each case in turn, each on topics of its own:
//
//   - passthrough: a bare exactly-once consume -> produce loop over the
//     Kafka seam (kafka.Session: Begin, Poll, Produce, End), committing as
//     the runtime does (engine.DefaultCommitEvery records or
//     engine.DefaultCommitInterval). It decodes nothing and runs no code:
//     the ceiling for a given client.
//   - app: the app of samples/enrich-and-route (a filter and a map in
//     python: blocks, and two outputs with key selectors and predicates),
//     compiled with engine.Compile and run by engine.NewRuntime exactly as
//     `weir run` runs it, with bootstrapServers pointed at the bench broker,
//     the app renamed and its topics suffixed so that no two cases share a
//     group, a transactional id or a topic.
//   - count: a stateful app (count.go) that keeps a count per record key
//     in a partitioned table, exactly-once: one python: map reads the count
//     of context.event.key and writes it back plus one; the record's value
//     is not decoded. Its input is the same orders, keyed over CountKeys
//     (10,000) distinct keys; its outputs, as the harness counts them, are
//     the table's changelog records, one per input record. Their values
//     carry no input timestamp, so the case has no latency figures. Its
//     target is CountTarget (0.25) of the passthrough's throughput.
//   - replay, after each count case unless Config.NoReplay (--replay=false):
//     the same app (same group, same changelog) started in a fresh child
//     on an empty data dir, which recovers the table from the changelog
//     before anything else. The child polls Runtime.Tables every
//     millisecond: records/s is Runtime.Replayed() over the span from the
//     first table partition listed to all of them recovered; ReadySeconds
//     runs from Runtime.Start (group join included). The replay must read
//     exactly as many records as the count case committed. The count
//     case's topics are deleted after its replay.
//   - web (only when asked for: --cases web): GET by key from the web
//     view of samples/word-count at rising request rates while its agents
//     count sentences flat out, beside a bare Echo handler in the same
//     process, each load open-loop from a process of its own; its target
//     is a web view p99 at most WebTarget (3) times the bare handler's.
//     See web.go.
//
// The input is order-like JSON of exactly RecordBytes bytes, keyed by order
// id (so spread over the partitions), each carrying the time it was
// produced in the field "ts" (microseconds since the epoch). One order in
// twenty is a test order (the filter drops it) and one in twenty is
// invalid (qty 0: it goes to the errors topic), so an app case is expected
// to output every record but the test orders.
//
// # How it measures
//
// Each case runs in a child process (the weir binary re-executed as
// `weir bench --child SPEC`), so that its peak RSS (VmHWM) and CPU time are
// its own: the broker, the input producer and the reader stay in the
// parent. The child runs until its standard input closes, then stops
// cleanly (committing what is in flight) and prints its figures as JSON.
//
// By default all input is produced before the child starts, so the case
// measures processing throughput: records/s is the input count over the
// span from the timestamp of the first output record (stamped when the
// child produced it, right after its first poll) to the moment the parent's
// read_committed reader saw the last expected output (that is, after its
// transaction committed). Latency is, for each output record, the time the
// reader saw it minus the "ts" its input carried; with pre-produced input it
// is dominated by queueing. With a rate (Config.Rate), the producer feeds
// the input at that rate while the child runs, after one warm-up record has
// gone through end to end, and latency is meaningful.
package bench
