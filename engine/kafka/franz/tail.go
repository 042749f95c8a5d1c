package franz

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/engine/kafka"
)

// Tail reads topics without a consumer group, from their start, as a
// read_committed reader, calling fn for each record until fn returns false
// or ctx ends (then it returns nil). It is for tools (`weir consume`), not
// for apps: nothing is committed.
func Tail(ctx context.Context, cfg kafka.Config, topics []string, fn func(*kafka.Record) bool) error {
	ex, err := parseExtras(cfg.Extra)
	if err != nil {
		return err
	}
	opts, err := baseOpts(cfg, ex)
	if err != nil {
		return err
	}
	opts = append(opts, kgo.ConsumeTopics(topics...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && ferr == nil {
				ferr = fmt.Errorf("reading %s[%d]: %w", t, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		for _, r := range convertRecords(fs.Records()) {
			if !fn(r) {
				return nil
			}
		}
	}
}
