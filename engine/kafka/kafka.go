package kafka

import (
	"context"
	"errors"
	"time"
)

// ErrClosed is what Poll returns once its session is closed.
var ErrClosed = errors.New("kafka: session closed")

// Header is a record header.
type Header struct {
	Key   string
	Value []byte
}

// Record is one Kafka record, consumed or to produce. Partition -1 on a
// record to produce lets the client's partitioner choose (murmur2 of the key,
// as the Java client does, so both clients place keys alike).
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	Headers   []Header
	Timestamp time.Time
}

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Fetch is the records one poll returned for one partition, in offset order.
type Fetch struct {
	Topic     string
	Partition int32
	Records   []*Record
	// HighWatermark is the partition's end as the client last learnt it
	// (for read_committed readers, the last stable offset); -1 when the
	// client does not know. Lag is HighWatermark minus the offset after
	// the last record.
	HighWatermark int64
}

// SASL is SASL authentication: Mechanism is PLAIN, SCRAM-SHA-256 or
// SCRAM-SHA-512.
type SASL struct {
	Mechanism string
	User      string
	Password  string
}

// TLS is the TLS of a client's connections. Its fields hold PEM contents:
// the engine reads the KasprApp's caFile, certFile and keyFile. A client
// whose PEM does not parse fails at creation, with an error that says which
// part (CA, certificate or key) is wrong.
type TLS struct {
	// CAPEM holds the certificates of the CAs that verify the brokers;
	// nil: the system's roots.
	CAPEM []byte
	// CertPEM (the client certificate, possibly followed by its chain) and
	// KeyPEM (its unencrypted private key) authenticate the client (mutual
	// TLS). They go together: both or neither.
	CertPEM []byte
	KeyPEM  []byte
	// InsecureSkipVerify accepts any broker certificate.
	InsecureSkipVerify bool
}

// Config is how a client reaches the cluster and who it is.
type Config struct {
	Brokers  []string
	TLS      *TLS  // nil: plaintext
	SASL     *SASL // nil: no authentication
	ClientID string
	// Extra holds client properties passed through from spec.config.kafka,
	// named as librdkafka names them (linger.ms, fetch.max.bytes, ...).
	// Each client applies those it understands and rejects the others with
	// an error that names them.
	Extra map[string]string
}

// Guarantee is the delivery guarantee of a session.
type Guarantee int

const (
	// ExactlyOnce: a transactional producer, read_committed consumption,
	// and the consumed offsets committed in the same transaction as the
	// records produced from them.
	ExactlyOnce Guarantee = iota
	// AtLeastOnce: an idempotent producer; offsets committed only after the
	// records produced from them are acknowledged.
	AtLeastOnce
)

// SessionConfig is one app instance's membership of its consumer group.
type SessionConfig struct {
	Config
	Guarantee Guarantee
	// Group is the consumer group, <app>-app.
	Group string
	// InstanceID gives the member static membership ("" for dynamic).
	InstanceID string
	// TransactionalID identifies the transactional producer (exactly-once);
	// it must be stable across restarts of one instance and unique between
	// instances.
	TransactionalID string
	// Topics are consumed by name; Patterns by regular expression. A
	// pattern must match the whole topic name, as with the Java client:
	// orders-.* takes orders-eu but not my-orders-eu. librdkafka reads
	// patterns as POSIX extended regular expressions, so keep to what both
	// it and Go's regexp understand: no (?:...), (?i) or \d ([0-9] does).
	Topics   []string
	Patterns []string
	// OnAssigned is called with the partitions this member gains, before any
	// of their records is returned by Poll.
	OnAssigned func(ctx context.Context, parts []TopicPartition)
	// OnRevoked is called with the partitions this member loses (cooperative
	// rebalancing: only those), before they go. It must not wait for End:
	// the client holds what End needs while the callback runs. A transaction
	// in flight when partitions are revoked cannot commit: the next End
	// aborts it and rewinds.
	OnRevoked func(ctx context.Context, parts []TopicPartition)
}

// Session consumes an app's topics as a group member and produces its
// outputs, with the app's delivery guarantee. The engine drives it in a
// loop: Begin, Poll and process (Produce) one or more times, End; then
// again. A Session is used from one goroutine, except Produce, which workers
// call concurrently between Begin and End (never while Begin or End runs).
type Session interface {
	// Begin starts a transaction (exactly-once); with at-least-once it marks
	// the start of a commit interval.
	Begin(ctx context.Context) error
	// Poll returns the next records of the assigned partitions, grouped by
	// partition, waiting until some arrive or ctx ends (then it returns
	// ctx's error). Its other errors are notices: Poll can be called again,
	// and records that arrived with an error are returned first, the error
	// on the next call. After Close it returns ErrClosed.
	Poll(ctx context.Context) ([]Fetch, error)
	// Produce sends a record asynchronously; done is called exactly once,
	// from any goroutine, when the broker acknowledged it (with its
	// partition and offset set) or it failed.
	Produce(r *Record, done func(*Record, error))
	// End flushes what was produced and then, with commit, commits the
	// records produced since Begin together with the offsets of every record
	// polled since Begin (exactly-once: in one transaction; at-least-once:
	// offsets after the records are acknowledged). Without commit, or when
	// the commit cannot happen (a rebalance took a partition, a produce
	// failed), it aborts: nothing produced since Begin becomes visible to
	// read_committed readers, and the session rewinds so that the records
	// polled since Begin are returned by Poll again. committed reports which
	// happened. After an error other than ctx's, close the session and open
	// a new one.
	End(ctx context.Context, commit bool) (committed bool, err error)
	// Close leaves the group (a static member stays until its session
	// times out) and releases the client. An open transaction is aborted.
	Close()
}

// TopicSpec is a topic to declare.
type TopicSpec struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16
	Config            map[string]string // cleanup.policy, retention.ms, ...
}

// TopicInfo is what the cluster says of an existing topic.
type TopicInfo struct {
	Name       string
	Partitions int32
	Config     map[string]string
}

// Admin declares and describes topics.
type Admin interface {
	// CreateTopics creates the topics that do not exist and returns, for
	// each of them, nil or its error. An existing topic is not an error.
	CreateTopics(ctx context.Context, topics []TopicSpec) (map[string]error, error)
	// DescribeTopics returns the topics that exist, by name; a missing one
	// is absent from the map.
	DescribeTopics(ctx context.Context, names []string) (map[string]TopicInfo, error)
	// DeleteTopics deletes topics (the control API's purge).
	DeleteTopics(ctx context.Context, names []string) error
	Close()
}

// Producer produces without a consumer group: web view ingest, tasks,
// `weir produce`. Its records are acknowledged one by one (idempotent).
type Producer interface {
	Produce(r *Record, done func(*Record, error))
	Flush(ctx context.Context) error
	Close()
}

// Client opens sessions, admins and producers for one library.
type Client interface {
	// Name is the library: "franz" or "librdkafka".
	Name() string
	NewSession(cfg SessionConfig) (Session, error)
	NewAdmin(cfg Config) (Admin, error)
	NewProducer(cfg Config) (Producer, error)
}
