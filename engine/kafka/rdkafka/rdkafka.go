// Package rdkafka implements the engine's Kafka seam (package kafka) with
// librdkafka through github.com/confluentinc/confluent-kafka-go/v2 (cgo;
// librdkafka is linked statically on glibc Linux).
//
// Properties are librdkafka's own: the seam's Config maps onto
// bootstrap.servers, security.protocol, ssl.*, sasl.* and client.id, and
// Config.Extra is passed through verbatim, so librdkafka itself rejects a
// property it does not know (the error names it). Extra may not set the
// properties the seam owns (see reservedProps). Consumers start at the
// earliest offset when their group has none (auto.offset.reset=earliest,
// which Extra may override), and producers place keyed records as the Java
// client does (partitioner=murmur2_random).
//
// TLS: the seam's PEM contents become ssl.ca.pem, ssl.certificate.pem and
// ssl.key.pem (checked first, so that bad PEM fails at creation with an error
// naming the part), and InsecureSkipVerify
// enable.ssl.certificate.verification=false. Without a CA librdkafka uses
// the system's roots.
//
// Topic patterns are subscribed as ^(pattern)$: librdkafka takes a
// subscription starting with ^ as a regular expression (POSIX extended, which
// has no (?:...)), and the anchors make it match whole names as the Java
// client does.
//
// librdkafka's own log lines go to slog.Default with client=librdkafka.
package rdkafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"

	ck "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/weirstream/weir/engine/kafka"
)

// New returns the librdkafka client.
func New() kafka.Client { return client{} }

type client struct{}

func (client) Name() string { return "librdkafka" }

func (client) NewSession(cfg kafka.SessionConfig) (kafka.Session, error) {
	return newSession(cfg)
}

func (client) NewAdmin(cfg kafka.Config) (kafka.Admin, error) { return newAdmin(cfg) }

func (client) NewProducer(cfg kafka.Config) (kafka.Producer, error) {
	return newProducer(cfg)
}

// reservedProps are set by this package from the seam's fields, or the
// session's guarantees depend on them: Extra may not set them.
var reservedProps = []string{
	"bootstrap.servers",
	"group.id",
	"group.instance.id",
	"transactional.id",
	"enable.idempotence",
	"enable.auto.commit",
	"enable.auto.offset.store",
	"isolation.level",
	"partition.assignment.strategy",
}

// configMap maps the seam's Config onto librdkafka properties. role is
// added to the log attributes. The caller adds its role's properties with
// set and then applies Extra with finish.
type configMap struct {
	m   ck.ConfigMap
	log *logSink
}

func newConfigMap(c kafka.Config, role string) (*configMap, error) {
	if len(c.Brokers) == 0 {
		return nil, errors.New("rdkafka: no brokers")
	}
	var bad []string
	for k := range c.Extra {
		if strings.HasPrefix(k, "go.") || slices.Contains(reservedProps, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, fmt.Errorf("rdkafka: client properties %s are set by weir and cannot be given in the app's config", strings.Join(bad, ", "))
	}
	m := ck.ConfigMap{
		"bootstrap.servers":   strings.Join(c.Brokers, ","),
		"enable.metrics.push": false,
	}
	if c.ClientID != "" {
		m["client.id"] = c.ClientID
	}
	proto := "PLAINTEXT"
	if c.TLS != nil {
		proto = "SSL"
		if err := setTLS(m, c.TLS); err != nil {
			return nil, err
		}
	}
	if c.SASL != nil {
		switch c.SASL.Mechanism {
		case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		default:
			return nil, fmt.Errorf("rdkafka: unsupported SASL mechanism %q (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", c.SASL.Mechanism)
		}
		proto = "SASL_" + proto
		m["sasl.mechanisms"] = c.SASL.Mechanism
		m["sasl.username"] = c.SASL.User
		m["sasl.password"] = c.SASL.Password
	}
	m["security.protocol"] = proto
	sink := newLogSink(role)
	m["go.logs.channel.enable"] = true
	m["go.logs.channel"] = sink.ch
	return &configMap{m: m, log: sink}, nil
}

// finish applies Extra over the properties set so far.
func (c *configMap) finish(extra map[string]string) ck.ConfigMap {
	m := make(ck.ConfigMap, len(c.m)+len(extra))
	for k, v := range c.m {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// logSink forwards librdkafka's log lines to slog.
type logSink struct {
	ch   chan ck.LogEvent
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newLogSink(role string) *logSink {
	s := &logSink{ch: make(chan ck.LogEvent, 256), stop: make(chan struct{}), done: make(chan struct{})}
	log := slog.Default().With("client", "librdkafka", "role", role)
	go func() {
		defer close(s.done)
		emit := func(e ck.LogEvent) {
			lvl := slog.LevelDebug
			switch {
			case e.Tag == "CONFWARN":
				// Consumer properties given to the producer and vice
				// versa: expected, as Extra goes to both.
			case e.Level <= 3:
				lvl = slog.LevelError
			case e.Level == 4:
				lvl = slog.LevelWarn
			case e.Level <= 6:
				lvl = slog.LevelInfo
			}
			log.Log(context.Background(), lvl, e.Message, "tag", e.Tag, "instance", e.Name)
		}
		for {
			select {
			case e := <-s.ch:
				emit(e)
			case <-s.stop:
				for {
					select {
					case e := <-s.ch:
						emit(e)
					default:
						return
					}
				}
			}
		}
	}()
	return s
}

// close stops forwarding; call it after the librdkafka handle is destroyed.
func (s *logSink) close() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

// ckError returns err as a librdkafka error.
func ckError(err error) (ck.Error, bool) {
	var e ck.Error
	ok := errors.As(err, &e)
	return e, ok
}

func isFatal(err error) bool {
	e, ok := ckError(err)
	return ok && e.IsFatal()
}

func isRetriable(err error) bool {
	e, ok := ckError(err)
	return ok && e.IsRetriable()
}

func hasCode(err error, codes ...ck.ErrorCode) bool {
	e, ok := ckError(err)
	return ok && slices.Contains(codes, e.Code())
}

func toTPs(ps []ck.TopicPartition) []kafka.TopicPartition {
	out := make([]kafka.TopicPartition, 0, len(ps))
	for _, p := range ps {
		if p.Topic == nil {
			continue
		}
		out = append(out, kafka.TopicPartition{Topic: *p.Topic, Partition: p.Partition})
	}
	return out
}
