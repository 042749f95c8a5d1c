package rdkafka

import (
	"context"
	"errors"
	"fmt"

	ck "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/weirstream/weir/engine/kafka"
)

type admin struct {
	a   *ck.AdminClient
	p   *ck.Producer // the handle a is derived from
	log *logSink
}

func newAdmin(cfg kafka.Config) (*admin, error) {
	cm, err := newConfigMap(cfg, "admin")
	if err != nil {
		return nil, err
	}
	// The admin client is derived from a producer handle: a plain
	// AdminClient cannot forward librdkafka's logs.
	cm.m["go.delivery.reports"] = false
	cm.m["go.events.channel.size"] = 100
	cm.m["go.produce.channel.size"] = 1
	m := cm.finish(cfg.Extra)
	p, err := ck.NewProducer(&m)
	if err != nil {
		cm.log.close()
		return nil, fmt.Errorf("rdkafka: creating the admin client: %w", err)
	}
	a, err := ck.NewAdminClientFromProducer(p)
	if err != nil {
		p.Close()
		cm.log.close()
		return nil, fmt.Errorf("rdkafka: creating the admin client: %w", err)
	}
	return &admin{a: a, p: p, log: cm.log}, nil
}

func (a *admin) CreateTopics(ctx context.Context, topics []kafka.TopicSpec) (map[string]error, error) {
	if len(topics) == 0 {
		return map[string]error{}, nil
	}
	specs := make([]ck.TopicSpecification, len(topics))
	for i, t := range topics {
		specs[i] = ck.TopicSpecification{
			Topic:             t.Name,
			NumPartitions:     int(t.Partitions),
			ReplicationFactor: int(t.ReplicationFactor),
			Config:            t.Config,
		}
		if t.Partitions <= 0 {
			specs[i].NumPartitions = -1 // the broker's default
		}
		if t.ReplicationFactor <= 0 {
			specs[i].ReplicationFactor = 0 // the broker's default (-1)
		}
	}
	res, err := a.a.CreateTopics(ctx, specs)
	if err != nil {
		return nil, fmt.Errorf("rdkafka: creating topics: %w", err)
	}
	out := make(map[string]error, len(topics))
	for _, t := range topics {
		out[t.Name] = nil
	}
	for _, r := range res {
		switch r.Error.Code() {
		case ck.ErrNoError, ck.ErrTopicAlreadyExists:
		default:
			out[r.Topic] = fmt.Errorf("rdkafka: creating topic %s: %w", r.Topic, r.Error)
		}
	}
	return out, nil
}

func (a *admin) DescribeTopics(ctx context.Context, names []string) (map[string]kafka.TopicInfo, error) {
	out := map[string]kafka.TopicInfo{}
	if len(names) == 0 {
		return out, nil
	}
	res, err := a.a.DescribeTopics(ctx, ck.NewTopicCollectionOfTopicNames(names))
	if err != nil {
		return nil, fmt.Errorf("rdkafka: describing topics: %w", err)
	}
	var resources []ck.ConfigResource
	for _, d := range res.TopicDescriptions {
		switch d.Error.Code() {
		case ck.ErrNoError:
		case ck.ErrUnknownTopicOrPart, ck.ErrUnknownTopicID:
			continue
		default:
			return nil, fmt.Errorf("rdkafka: describing topic %s: %w", d.Name, d.Error)
		}
		out[d.Name] = kafka.TopicInfo{Name: d.Name, Partitions: int32(len(d.Partitions)), Config: map[string]string{}}
		resources = append(resources, ck.ConfigResource{Type: ck.ResourceTopic, Name: d.Name})
	}
	if len(resources) == 0 {
		return out, nil
	}
	cres, err := a.a.DescribeConfigs(ctx, resources)
	if err != nil {
		return nil, fmt.Errorf("rdkafka: describing topic configs: %w", err)
	}
	for _, r := range cres {
		info, ok := out[r.Name]
		if !ok {
			continue
		}
		switch r.Error.Code() {
		case ck.ErrNoError:
		case ck.ErrUnknownTopicOrPart:
			delete(out, r.Name) // deleted meanwhile
			continue
		default:
			return nil, fmt.Errorf("rdkafka: describing the config of topic %s: %w", r.Name, r.Error)
		}
		for name, e := range r.Config {
			if !e.IsSensitive {
				info.Config[name] = e.Value
			}
		}
	}
	return out, nil
}

func (a *admin) DeleteTopics(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	res, err := a.a.DeleteTopics(ctx, names)
	if err != nil {
		return fmt.Errorf("rdkafka: deleting topics: %w", err)
	}
	var errs []error
	for _, r := range res {
		switch r.Error.Code() {
		case ck.ErrNoError, ck.ErrUnknownTopicOrPart:
		default:
			errs = append(errs, fmt.Errorf("rdkafka: deleting topic %s: %w", r.Topic, r.Error))
		}
	}
	return errors.Join(errs...)
}

func (a *admin) Close() {
	a.a.Close()
	a.p.Close()
	a.log.close()
}
