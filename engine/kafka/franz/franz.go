// Package franz implements the engine's Kafka seam (package kafka) with
// franz-go: kgo for sessions and producers, kadm for topic administration.
//
// Sessions: exactly-once is a kgo.GroupTransactSession (transactional
// producer, read_committed fetches, the consumed offsets committed in the
// transaction, any rebalance during a transaction aborting it); at-least-once
// is a plain group consumer with autocommit off and the idempotent producer
// of the same client, committing the polled offsets only after every record
// produced since Begin was acknowledged. Both rewind to the last committed
// offsets when End aborts, so Poll returns the same records again.
//
// Placement: a record with Partition >= 0 goes to that partition; with -1,
// a keyed record goes where the Java client puts it (murmur2 of the key,
// high bit masked, modulo the partition count) and keyless records are
// spread by the uniform sticky partitioner (KIP-794, like the Java client).
//
// Config.Extra takes the librdkafka names listed in extra.go
// (SupportedProperties); any other name is rejected with one error that
// names them all.
//
// Rewind: after an aborted exactly-once End, kgo's GroupTransactSession
// itself resets the consumer to the group's committed offsets. For a
// partition the group never committed, kgo's idea of "committed" is offset
// 0, which would re-read the partition from its start (wrong with
// auto.offset.reset=latest or a truncated log); the session corrects those
// to the first offset it polled from the partition since the last commit.
// At-least-once does the same rewind itself.
//
// What the engine must respect (kgo's rules):
//   - Produce may be called from many goroutines, but not while Begin or
//     End runs.
//   - OnAssigned and OnRevoked run on kgo's group goroutine, concurrently
//     with Poll and Produce. OnRevoked must not wait for End: with
//     exactly-once kgo holds the lock End needs while the callback runs.
//     A revocation during a transaction makes its End abort (committed
//     false) and rewind; the revoked partitions restart at their new
//     owner from the last commit. OnRevoked is also called with every
//     partition when a dynamic member leaves in Close.
//   - An error from End (other than ctx's) leaves the transactional
//     producer unusable: Close the session and open a new one.
package franz

import (
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/weirstream/weir/engine/kafka"
)

// New returns the franz-go client.
func New() kafka.Client { return client{} }

type client struct{}

func (client) Name() string { return "franz" }

func (client) NewSession(cfg kafka.SessionConfig) (kafka.Session, error) {
	return newSession(cfg)
}

func (client) NewAdmin(cfg kafka.Config) (kafka.Admin, error) {
	return newAdmin(cfg)
}

func (client) NewProducer(cfg kafka.Config) (kafka.Producer, error) {
	return newProducer(cfg)
}

// baseOpts are the options every client gets from a Config: brokers,
// identity, TLS, SASL, then the common Extra properties.
func baseOpts(cfg kafka.Config, ex *extras) ([]kgo.Opt, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafka: no bootstrap brokers")
	}
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}
	if cfg.ClientID != "" {
		opts = append(opts, kgo.ClientID(cfg.ClientID))
	}
	if cfg.TLS != nil {
		tc, err := tlsConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if cfg.SASL != nil {
		opt, err := saslOpt(cfg.SASL)
		if err != nil {
			return nil, err
		}
		opts = append(opts, opt)
	}
	return append(opts, ex.common...), nil
}

func saslOpt(s *kafka.SASL) (kgo.Opt, error) {
	switch strings.ToUpper(s.Mechanism) {
	case "PLAIN":
		return kgo.SASL(plain.Auth{User: s.User, Pass: s.Password}.AsMechanism()), nil
	case "SCRAM-SHA-256":
		return kgo.SASL(scram.Auth{User: s.User, Pass: s.Password}.AsSha256Mechanism()), nil
	case "SCRAM-SHA-512":
		return kgo.SASL(scram.Auth{User: s.User, Pass: s.Password}.AsSha512Mechanism()), nil
	}
	return nil, fmt.Errorf("kafka: unsupported SASL mechanism %q (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", s.Mechanism)
}
