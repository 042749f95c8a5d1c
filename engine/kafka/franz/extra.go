package franz

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// extras is Config.Extra translated into kgo options, split by the kind of
// client they concern. A property is accepted by every kind of client (one
// map configures an app's sessions, producers and admins alike) and applied
// where it means something.
type extras struct {
	common   []kgo.Opt
	producer []kgo.Opt
	consumer []kgo.Opt

	maxPollRecords int     // 0: no limit
	autoCreate     bool    // ask the broker to create unknown topics (default true)
	isolation      *string // "read_committed" or "read_uncommitted" if set
}

type property func(e *extras, name, v string) error

// properties maps the librdkafka (and Java) names this client understands.
var properties = map[string]property{
	// Common.
	"client.id": func(e *extras, _, v string) error {
		e.common = append(e.common, kgo.ClientID(v))
		return nil
	},
	"enable.metrics.push": func(e *extras, name, v string) error {
		b, err := parseBool(name, v)
		if err == nil && !b {
			e.common = append(e.common, kgo.DisableClientMetrics())
		}
		return err
	},
	"allow.auto.create.topics": func(e *extras, name, v string) error {
		b, err := parseBool(name, v)
		e.autoCreate = b
		return err
	},
	"metadata.max.age.ms": msOpt(func(d time.Duration) []kgo.Opt { return []kgo.Opt{kgo.MetadataMaxAge(d)} }, commonOpts),
	"topic.metadata.refresh.interval.ms": msOpt(func(d time.Duration) []kgo.Opt {
		return []kgo.Opt{kgo.MetadataMaxAge(d)}
	}, commonOpts),
	"socket.connection.setup.timeout.ms": msOpt(func(d time.Duration) []kgo.Opt { return []kgo.Opt{kgo.DialTimeout(d)} }, commonOpts),
	"connections.max.idle.ms":            msOpt(func(d time.Duration) []kgo.Opt { return []kgo.Opt{kgo.ConnIdleTimeout(d)} }, commonOpts),

	// Producer.
	"linger.ms":              msOpt(func(d time.Duration) []kgo.Opt { return []kgo.Opt{kgo.ProducerLinger(d)} }, producerOpts),
	"queue.buffering.max.ms": msOpt(func(d time.Duration) []kgo.Opt { return []kgo.Opt{kgo.ProducerLinger(d)} }, producerOpts),
	"request.timeout.ms":     msOpt(func(d time.Duration) []kgo.Opt { return []kgo.Opt{kgo.ProduceRequestTimeout(d)} }, producerOpts),
	"delivery.timeout.ms":    msOpt(func(d time.Duration) []kgo.Opt { return []kgo.Opt{kgo.RecordDeliveryTimeout(d)} }, producerOpts),
	"message.timeout.ms":     msOpt(func(d time.Duration) []kgo.Opt { return []kgo.Opt{kgo.RecordDeliveryTimeout(d)} }, producerOpts),
	"transaction.timeout.ms": msOpt(func(d time.Duration) []kgo.Opt { return []kgo.Opt{kgo.TransactionTimeout(d)} }, producerOpts),
	"batch.size": int32Opt(func(n int32) []kgo.Opt {
		return []kgo.Opt{kgo.ProducerBatchMaxBytes(n)}
	}, producerOpts),
	"queue.buffering.max.messages": int32Opt(func(n int32) []kgo.Opt {
		return []kgo.Opt{kgo.MaxBufferedRecords(int(n))}
	}, producerOpts),
	"compression.type":      compression,
	"compression.codec":     compression,
	"acks":                  acks,
	"request.required.acks": acks,
	"enable.idempotence": func(_ *extras, name, v string) error {
		b, err := parseBool(name, v)
		if err == nil && !b {
			err = fmt.Errorf("%s=%s: the producer is always idempotent (the delivery guarantees need it)", name, v)
		}
		return err
	},

	// Consumer.
	"fetch.max.bytes": int32Opt(func(n int32) []kgo.Opt { return []kgo.Opt{kgo.FetchMaxBytes(n)} }, consumerOpts),
	"fetch.min.bytes": int32Opt(func(n int32) []kgo.Opt { return []kgo.Opt{kgo.FetchMinBytes(n)} }, consumerOpts),
	"max.partition.fetch.bytes": int32Opt(func(n int32) []kgo.Opt {
		return []kgo.Opt{kgo.FetchMaxPartitionBytes(n)}
	}, consumerOpts),
	"fetch.message.max.bytes": int32Opt(func(n int32) []kgo.Opt {
		return []kgo.Opt{kgo.FetchMaxPartitionBytes(n)}
	}, consumerOpts),
	"fetch.wait.max.ms":     msOpt(func(d time.Duration) []kgo.Opt { return []kgo.Opt{kgo.FetchMaxWait(d)} }, consumerOpts),
	"fetch.max.wait.ms":     msOpt(func(d time.Duration) []kgo.Opt { return []kgo.Opt{kgo.FetchMaxWait(d)} }, consumerOpts),
	"session.timeout.ms":    msOpt(func(d time.Duration) []kgo.Opt { return []kgo.Opt{kgo.SessionTimeout(d)} }, consumerOpts),
	"heartbeat.interval.ms": msOpt(func(d time.Duration) []kgo.Opt { return []kgo.Opt{kgo.HeartbeatInterval(d)} }, consumerOpts),
	// The Java client's rebalance timeout is max.poll.interval.ms.
	"max.poll.interval.ms": msOpt(func(d time.Duration) []kgo.Opt { return []kgo.Opt{kgo.RebalanceTimeout(d)} }, consumerOpts),
	"max.poll.records": func(e *extras, name, v string) error {
		n, err := parseInt(name, v, 1)
		e.maxPollRecords = int(n)
		return err
	},
	"auto.offset.reset": func(e *extras, name, v string) error {
		switch strings.ToLower(v) {
		case "earliest", "smallest", "beginning":
			e.consumer = append(e.consumer, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		case "latest", "largest", "end":
			e.consumer = append(e.consumer, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
		default:
			return fmt.Errorf("%s=%s: want earliest or latest", name, v)
		}
		return nil
	},
	"isolation.level": func(e *extras, name, v string) error {
		v = strings.ToLower(v)
		if v != "read_committed" && v != "read_uncommitted" {
			return fmt.Errorf("%s=%s: want read_committed or read_uncommitted", name, v)
		}
		e.isolation = &v
		return nil
	},
	"partition.assignment.strategy": func(_ *extras, name, v string) error {
		if strings.ToLower(strings.TrimSpace(v)) != "cooperative-sticky" {
			return fmt.Errorf("%s=%s: the group always rebalances cooperatively (cooperative-sticky)", name, v)
		}
		return nil
	},
	"enable.auto.commit": func(_ *extras, name, v string) error {
		b, err := parseBool(name, v)
		if err == nil && b {
			err = fmt.Errorf("%s=%s: offsets are committed by the delivery guarantee, never automatically", name, v)
		}
		return err
	},
}

var (
	commonOpts   = func(e *extras) *[]kgo.Opt { return &e.common }
	producerOpts = func(e *extras) *[]kgo.Opt { return &e.producer }
	consumerOpts = func(e *extras) *[]kgo.Opt { return &e.consumer }
)

func msOpt(mk func(time.Duration) []kgo.Opt, into func(*extras) *[]kgo.Opt) property {
	return func(e *extras, name, v string) error {
		n, err := parseInt(name, v, 0)
		if err != nil {
			return err
		}
		dst := into(e)
		*dst = append(*dst, mk(time.Duration(n)*time.Millisecond)...)
		return nil
	}
}

func int32Opt(mk func(int32) []kgo.Opt, into func(*extras) *[]kgo.Opt) property {
	return func(e *extras, name, v string) error {
		n, err := parseInt(name, v, 1)
		if err != nil {
			return err
		}
		dst := into(e)
		*dst = append(*dst, mk(int32(n))...)
		return nil
	}
}

func compression(e *extras, name, v string) error {
	var c kgo.CompressionCodec
	switch strings.ToLower(v) {
	case "none":
		c = kgo.NoCompression()
	case "gzip":
		c = kgo.GzipCompression()
	case "snappy":
		c = kgo.SnappyCompression()
	case "lz4":
		c = kgo.Lz4Compression()
	case "zstd":
		c = kgo.ZstdCompression()
	default:
		return fmt.Errorf("%s=%s: want none, gzip, snappy, lz4 or zstd", name, v)
	}
	e.producer = append(e.producer, kgo.ProducerBatchCompression(c))
	return nil
}

func acks(_ *extras, name, v string) error {
	if v != "all" && v != "-1" {
		return fmt.Errorf("%s=%s: acks are all (-1), fixed by the delivery guarantee", name, v)
	}
	return nil
}

func parseBool(name, v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%s: want true or false", name, v)
	}
	return b, nil
}

func parseInt(name, v string, minimum int64) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if err != nil || n < minimum {
		return 0, fmt.Errorf("%s=%s: want an integer >= %d", name, v, minimum)
	}
	return n, nil
}

// parseExtras translates Config.Extra. Unknown names are reported together in
// one error, sorted; bad values each in their own.
func parseExtras(m map[string]string) (*extras, error) {
	e := &extras{autoCreate: true}
	var unknown []string
	var errs []error
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names) // a stable order of options and of errors
	for _, name := range names {
		p, ok := properties[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		if err := p(e, name, m[name]); err != nil {
			errs = append(errs, err)
		}
	}
	if len(unknown) > 0 {
		errs = append([]error{fmt.Errorf("unsupported client properties for the franz client: %s", strings.Join(unknown, ", "))}, errs...)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("kafka: %w", errors.Join(errs...))
	}
	return e, nil
}

// SupportedProperties lists the Config.Extra names the franz client
// understands, sorted.
func SupportedProperties() []string {
	names := make([]string, 0, len(properties))
	for name := range properties {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
