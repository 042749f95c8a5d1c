package rdkafka

import (
	"testing"
	"time"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
)

func TestConformance(t *testing.T) {
	kafkatest.Conformance(t, func() kafka.Client { return New() },
		kafkatest.WithTimeout(45*time.Second),
		// Members learn of a rebalance at their next heartbeat: keep
		// rebalances short.
		kafkatest.WithConfig(func(cfg *kafka.Config) {
			cfg.Extra = map[string]string{"heartbeat.interval.ms": "250"}
		}))
}
