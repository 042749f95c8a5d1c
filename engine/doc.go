// Package engine is an app's runtime. It owns the plan (Compile: a loaded
// spec.Bundle and its compiled code blocks turned into what the runtime
// runs), Kafka I/O through the client seam of package engine/kafka,
// operations, outputs, channels, tables and their stores, tasks, delivery
// guarantees and reload. It knows nothing of HTTP (package webview serves
// the web views from the plan) nor of YAML (package spec has done that).
//
// # The plan
//
// Compile is pure: it reads the files an app names (TLS PEM files, a
// password file) through Options.ReadFile and the environment through
// Options.Env, compiles every code block once, and starts nothing. It
// returns a Plan, or every problem at once as spec.Errors sorted by file,
// line and column, each at the YAML field it concerns. `weir validate`, the
// hot reload and the control API all go through it, so what one accepts the
// others accept.
//
// The rules Compile applies, beyond those of package spec:
//
//   - Identity. An app's id and consumer group are <name>-app; its Kafka
//     client id is weir-<name>. With exactly_once its transactional id is
//     <app-id>-<instance id>, where the instance id is Options.InstanceID
//     (--instance-id, WEIR_INSTANCE_ID) or "weir" when none is given. A
//     transactional id must be stable across restarts of one instance (so
//     that a restarted instance fences its own unfinished transaction) and
//     unique between instances (two live producers with one id fence each
//     other in turn). Hence it is not derived from the hostname or a random
//     value, and more than one exactly-once replica of an app needs an
//     instance id per replica: in Kubernetes, the pod name of a StatefulSet.
//     The same instance id gives the member static group membership.
//   - Files. caFile, certFile, keyFile and passwordFile are read at
//     compile; a relative path is relative to the folder of the manifest
//     that names it. A CA file must hold at least one PEM certificate, and a
//     certificate and key must make a pair.
//   - Password. SASL's password is the content of passwordFile (trailing
//     line breaks dropped) when that is set, else the environment variable
//     WEIR_KAFKA_PASSWORD. passwordSecret names a Kubernetes secret: the
//     operator mounts it as WEIR_KAFKA_PASSWORD, so outside Kubernetes set
//     the variable or a passwordFile.
//   - Topics. Every input, output and topicSend with declare: true is a
//     topic to declare, with partitions and replicas (the app's by default),
//     retention (seconds, to retention.ms; -1 stays -1), compacting and
//     deleting (cleanup.policy compact, delete, or compact,delete) and
//     config. A topic declared twice must be declared alike. Each table's
//     changelog (<app-id>-<table>-changelog, compacted; windowed tables with
//     expires are compact,delete with retention.ms = size + expires;
//     extraTopicConfigs last) and each agent's dead-letter topic
//     (spec.config.deadLetterTopic, else <app-id>-<agent>-dead-letters) are
//     declared too. With topicAllowDeclare: false a declare: true is an
//     error, while changelogs and dead-letter topics, which weir always
//     needs, are listed in AppPlan.MustExist for the runtime to check.
//   - Co-partitioning. A partitioned table passed to an operation of an
//     agent that consumes a topic declared in the app must have that
//     topic's partition count: a table partition follows its source
//     partition.
//   - Channels. An agent may consume a channel that only web views or
//     tasks send to.
//   - Acknowledgements. A topicSend with ack: true waits for the broker's
//     acknowledgement of its record and passes on the record's metadata
//     (topic, partition, offset). Under exactly_once that acknowledgement
//     comes when the record is written to the log, before the transaction
//     commits: the metadata is final, but the record becomes visible to
//     read_committed readers only at the commit, and never if the
//     transaction aborts (the event is then processed again and sent
//     anew). Web views and tasks produce outside any transaction (they
//     consume nothing), so their acknowledged records are visible at once.
package engine
