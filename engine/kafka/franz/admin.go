package franz

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirstream/weir/engine/kafka"
)

type admin struct {
	adm *kadm.Client
}

func newAdmin(cfg kafka.Config) (*admin, error) {
	ex, err := parseExtras(cfg.Extra)
	if err != nil {
		return nil, err
	}
	// Never kgo.AllowAutoTopicCreation here: describing a missing topic
	// must not create it.
	opts, err := baseOpts(cfg, ex)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	return &admin{adm: kadm.NewClient(cl)}, nil
}

func (a *admin) CreateTopics(ctx context.Context, topics []kafka.TopicSpec) (map[string]error, error) {
	out := make(map[string]error, len(topics))
	for _, t := range topics {
		partitions, rf := t.Partitions, t.ReplicationFactor
		if partitions <= 0 {
			partitions = -1 // the broker's default
		}
		if rf <= 0 {
			rf = -1
		}
		var configs map[string]*string
		if len(t.Config) > 0 {
			configs = make(map[string]*string, len(t.Config))
			for k, v := range t.Config {
				configs[k] = kadm.StringPtr(v)
			}
		}
		resps, err := a.adm.CreateTopics(ctx, partitions, rf, configs, t.Name)
		if err != nil {
			return out, fmt.Errorf("kafka: create topics: %w", err)
		}
		r, ok := resps[t.Name]
		switch {
		case !ok:
			out[t.Name] = fmt.Errorf("kafka: create topic %s: no answer for it", t.Name)
		case r.Err == nil, errors.Is(r.Err, kerr.TopicAlreadyExists):
			out[t.Name] = nil
		case r.ErrMessage != "":
			out[t.Name] = fmt.Errorf("kafka: create topic %s: %w: %s", t.Name, r.Err, r.ErrMessage)
		default:
			out[t.Name] = fmt.Errorf("kafka: create topic %s: %w", t.Name, r.Err)
		}
	}
	return out, nil
}

func (a *admin) DescribeTopics(ctx context.Context, names []string) (map[string]kafka.TopicInfo, error) {
	out := make(map[string]kafka.TopicInfo, len(names))
	if len(names) == 0 {
		return out, nil
	}
	details, err := a.adm.ListTopics(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("kafka: describe topics: %w", err)
	}
	var exist []string
	var errs []error
	for _, name := range names {
		d, ok := details[name]
		switch {
		case !ok, errors.Is(d.Err, kerr.UnknownTopicOrPartition):
			continue
		case d.Err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", name, d.Err))
			continue
		}
		if _, dup := out[name]; dup {
			continue
		}
		out[name] = kafka.TopicInfo{Name: name, Partitions: int32(len(d.Partitions)), Config: map[string]string{}}
		exist = append(exist, name)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("kafka: describe topics: %w", errors.Join(errs...))
	}
	if len(exist) == 0 {
		return out, nil
	}
	rcs, err := a.adm.DescribeTopicConfigs(ctx, exist...)
	if err != nil {
		return nil, fmt.Errorf("kafka: describe topic configs: %w", err)
	}
	for _, rc := range rcs {
		info, ok := out[rc.Name]
		if !ok {
			continue
		}
		if rc.Err != nil {
			if errors.Is(rc.Err, kerr.UnknownTopicOrPartition) { // deleted meanwhile
				delete(out, rc.Name)
				continue
			}
			return nil, fmt.Errorf("kafka: describe topic configs: %s: %w", rc.Name, rc.Err)
		}
		for _, c := range rc.Configs {
			// Only what was set on the topic, not the broker's defaults.
			if c.Source == kmsg.ConfigSourceDynamicTopicConfig && c.Value != nil {
				info.Config[c.Key] = *c.Value
			}
		}
	}
	return out, nil
}

func (a *admin) DeleteTopics(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	resps, err := a.adm.DeleteTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("kafka: delete topics: %w", err)
	}
	var errs []error
	for _, r := range resps.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
			errs = append(errs, fmt.Errorf("%s: %w", r.Topic, r.Err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("kafka: delete topics: %w", errors.Join(errs...))
	}
	return nil
}

func (a *admin) Close() { a.adm.Close() }
