// Package kafkatest starts an in-process Kafka-protocol broker (kfake) on a
// loopback port: for tests, which must never use a fixed port, and for
// `weir dev`, which runs apps without a Kafka installation.
package kafkatest

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Broker is a running in-process broker.
type Broker struct {
	cluster *kfake.Cluster
}

// Start starts a one-node broker on a random loopback port (or the ports
// kfake.Ports gives), with topics created on first use. More kfake options
// (kfake.EnableSASL, kfake.Superuser, kfake.TLS, kfake.SeedTopics, ...) are
// passed on.
func Start(opts ...kfake.Opt) (*Broker, error) {
	all := append([]kfake.Opt{kfake.NumBrokers(1), kfake.Ports(0), kfake.AllowAutoTopicCreation()}, opts...)
	c, err := kfake.NewCluster(all...)
	if err != nil {
		return nil, fmt.Errorf("starting the embedded broker: %w", err)
	}
	return &Broker{cluster: c}, nil
}

// New starts a broker for a test and stops it when the test ends.
func New(t testing.TB, opts ...kfake.Opt) *Broker {
	t.Helper()
	b, err := Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// Addrs are the host:port addresses to bootstrap from.
func (b *Broker) Addrs() []string { return b.cluster.ListenAddrs() }

// Cluster is the kfake cluster, for tests that control it (fault injection,
// forced rebalances).
func (b *Broker) Cluster() *kfake.Cluster { return b.cluster }

// Close stops the broker.
func (b *Broker) Close() { b.cluster.Close() }

// StartOn starts a broker as Start does, on a given port of 127.0.0.1.
func StartOn(port int, opts ...kfake.Opt) (*Broker, error) {
	return Start(append([]kfake.Opt{kfake.Ports(port)}, opts...)...)
}
