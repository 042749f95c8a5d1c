package franz

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka"
)

// producer is an idempotent producer outside any group or transaction.
type producer struct {
	cl     *kgo.Client
	flight flight
}

func newProducer(cfg kafka.Config) (*producer, error) {
	ex, err := parseExtras(cfg.Extra)
	if err != nil {
		return nil, err
	}
	opts, err := baseOpts(cfg, ex)
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.RecordPartitioner(newPartitioner()))
	if ex.autoCreate {
		opts = append(opts, kgo.AllowAutoTopicCreation())
	}
	opts = append(opts, ex.producer...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	return &producer{cl: cl}, nil
}

func (p *producer) Produce(r *kafka.Record, done func(*kafka.Record, error)) {
	p.flight.produce(p.cl, r, done)
}

// Flush waits until every record produced so far is acknowledged or failed
// and its callback has run.
func (p *producer) Flush(ctx context.Context) error {
	if err := p.cl.Flush(ctx); err != nil {
		return err
	}
	return p.flight.wait(ctx)
}

// Close fails what is still buffered (Flush first to keep it).
func (p *producer) Close() { p.cl.Close() }
