package franz

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/weirstream/weir/engine/kafka"
)

func TestAdmin(t *testing.T) {
	ctx := testCtx(t)
	_, cfg := broker(t)
	a := newAdminT(t, cfg)

	specs := []kafka.TopicSpec{
		{Name: "orders", Partitions: 3, ReplicationFactor: 1, Config: map[string]string{"cleanup.policy": "compact", "retention.ms": "3600000"}},
		{Name: "events", Partitions: 1, ReplicationFactor: 1},
	}
	for range 2 { // the second time they exist: not an error
		errs, err := a.CreateTopics(ctx, specs)
		if err != nil {
			t.Fatal(err)
		}
		if len(errs) != 2 || errs["orders"] != nil || errs["events"] != nil {
			t.Fatalf("CreateTopics: %v", errs)
		}
	}
	// A topic's own error is in the map, the others are created.
	errs, err := a.CreateTopics(ctx, []kafka.TopicSpec{{Name: "bad", Partitions: 1, ReplicationFactor: 3}, {Name: "good", Partitions: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if errs["bad"] == nil || errs["good"] != nil {
		t.Errorf("replication factor 3 on one broker: %v", errs)
	}

	infos, err := a.DescribeTopics(ctx, []string{"orders", "events", "missing", "good"})
	if err != nil {
		t.Fatal(err)
	}
	if g := infos["good"]; g.Partitions != 2 {
		t.Errorf("good: %+v", g)
	}
	delete(infos, "good")
	if len(infos) != 2 {
		t.Fatalf("DescribeTopics: %+v", infos)
	}
	if o := infos["orders"]; o.Name != "orders" || o.Partitions != 3 || o.Config["cleanup.policy"] != "compact" || o.Config["retention.ms"] != "3600000" || len(o.Config) != 2 {
		t.Errorf("orders: %+v", o)
	}
	if e := infos["events"]; e.Partitions != 1 || len(e.Config) != 0 {
		t.Errorf("events: %+v", e)
	}
	// Describing a missing topic does not create it.
	if infos, err := a.DescribeTopics(ctx, []string{"missing"}); err != nil || len(infos) != 0 {
		t.Fatalf("DescribeTopics(missing) = %v, %v", infos, err)
	}

	if err := a.DeleteTopics(ctx, []string{"orders", "never-was"}); err != nil {
		t.Fatal(err)
	}
	infos, err = a.DescribeTopics(ctx, []string{"orders", "events"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := infos["orders"]; ok || len(infos) != 1 {
		t.Fatalf("after deleting orders: %+v", infos)
	}
}

func TestSASLSCRAM(t *testing.T) {
	for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"} {
		t.Run(mech, func(t *testing.T) {
			t.Parallel() // a refused login is retried for a while
			ctx := testCtx(t)
			_, cfg := broker(t, kfake.EnableSASL(), kfake.Superuser(mech, "u", "p"))

			good := cfg
			good.SASL = &kafka.SASL{Mechanism: mech, User: "u", Password: "p"}
			createTopic(t, ctx, good, "secure", 1)
			produceAll(t, ctx, newProducerT(t, good), &kafka.Record{Topic: "secure", Partition: 0, Value: []byte("hello")})
			s := newSessionT(t, kafka.SessionConfig{Config: good, Guarantee: kafka.ExactlyOnce, Group: "g", TransactionalID: "t", Topics: []string{"secure"}})
			if err := s.Begin(ctx); err != nil {
				t.Fatal(err)
			}
			if got := pollN(t, ctx, s, 1); string(got[0].Value) != "hello" {
				t.Fatalf("consumed %q", got[0].Value)
			}
			if committed, err := s.End(ctx, true); err != nil || !committed {
				t.Fatalf("End = %v, %v", committed, err)
			}

			for _, bad := range []*kafka.SASL{
				{Mechanism: mech, User: "u", Password: "wrong"},
				nil, // no authentication at all
			} {
				c := cfg
				c.SASL = bad
				a := newAdminT(t, c)
				actx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, err := a.DescribeTopics(actx, []string{"secure"})
				cancel()
				if err == nil {
					t.Errorf("SASL %+v: DescribeTopics succeeded", bad)
				}
			}
		})
	}
}

func TestSASLMechanismUnknown(t *testing.T) {
	if _, err := New().NewAdmin(kafka.Config{Brokers: []string{"127.0.0.1:1"}, SASL: &kafka.SASL{Mechanism: "GSSAPI"}}); err == nil {
		t.Error("SASL GSSAPI was accepted")
	}
}
