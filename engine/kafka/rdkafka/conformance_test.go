package rdkafka

import (
	"testing"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
)

func TestConformance(t *testing.T) {
	kafkatest.Conformance(t, func() kafka.Client { return New() }, options()...)
}
