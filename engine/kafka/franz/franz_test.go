package franz

import (
	"strings"
	"testing"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
)

// fast makes group changes quick on the test broker: members learn of a
// rebalance at their next heartbeat.
func fast() map[string]string {
	return map[string]string{"heartbeat.interval.ms": "100", "fetch.wait.max.ms": "100"}
}

// options are the conformance suite's and the Env's options for this client.
func options() []kafkatest.Option {
	return []kafkatest.Option{kafkatest.WithConfig(func(cfg *kafka.Config) { cfg.Extra = fast() })}
}

// newEnv starts a broker for a test of this client.
func newEnv(t *testing.T) *kafkatest.Env {
	t.Helper()
	return kafkatest.NewEnv(t, func() kafka.Client { return New() }, options()...)
}

func TestExtraProperties(t *testing.T) {
	cfg := kafka.Config{Brokers: []string{"127.0.0.1:1"}, Extra: map[string]string{
		"linger.ms":       "5",
		"bogus.property":  "1",
		"fetch.max.bytes": "1048576",
		"another.unknown": "x",
	}}
	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error for unknown properties", what)
		}
		msg := err.Error()
		if !strings.Contains(msg, "another.unknown, bogus.property") || strings.Contains(msg, "linger.ms") {
			t.Errorf("%s: error %q should name exactly the unknown properties", what, msg)
		}
	}
	_, err := New().NewProducer(cfg)
	check("producer", err)
	_, err = New().NewAdmin(cfg)
	check("admin", err)
	_, err = New().NewSession(kafka.SessionConfig{Config: cfg, Guarantee: kafka.AtLeastOnce, Group: "g", Topics: []string{"t"}})
	check("session", err)

	// Bad values are named too.
	for name, v := range map[string]string{"linger.ms": "soon", "acks": "1", "compression.type": "brotli", "enable.idempotence": "false"} {
		_, err := New().NewProducer(kafka.Config{Brokers: cfg.Brokers, Extra: map[string]string{name: v}})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: error %v", name, v, err)
		}
	}
	_, err = New().NewSession(kafka.SessionConfig{Config: kafka.Config{Brokers: cfg.Brokers, Extra: map[string]string{"isolation.level": "read_uncommitted"}},
		Guarantee: kafka.ExactlyOnce, Group: "g", TransactionalID: "x", Topics: []string{"t"}})
	if err == nil {
		t.Error("exactly-once with read_uncommitted was accepted")
	}

	// Every supported property with a sensible value is accepted by
	// every kind of client.
	all := map[string]string{}
	for _, name := range SupportedProperties() {
		all[name] = map[string]string{
			"client.id": "me", "enable.metrics.push": "false", "allow.auto.create.topics": "true",
			"compression.type": "zstd", "compression.codec": "lz4", "acks": "all", "request.required.acks": "-1",
			"enable.idempotence": "true", "auto.offset.reset": "earliest", "isolation.level": "read_committed",
			"partition.assignment.strategy": "cooperative-sticky", "enable.auto.commit": "false",
		}[name]
		if all[name] == "" {
			all[name] = "60000"
		}
	}
	ok := kafka.Config{Brokers: cfg.Brokers, Extra: all}
	p, err := New().NewProducer(ok)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	a, err := New().NewAdmin(ok)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, err := parseExtras(all); err != nil {
		t.Fatal(err)
	}
}

func TestSASLMechanismUnknown(t *testing.T) {
	if _, err := New().NewAdmin(kafka.Config{Brokers: []string{"127.0.0.1:1"}, SASL: &kafka.SASL{Mechanism: "GSSAPI"}}); err == nil {
		t.Error("SASL GSSAPI was accepted")
	}
}
