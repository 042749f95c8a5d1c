package engine

import (
	"context"
	"time"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/franz"
	"github.com/weirstream/weir/engine/state"
)

// Global tables: every replica holds every partition. A follower per app
// reads the changelogs of its global tables, all partitions, from the
// offsets stored with the local copy, and applies what it reads. At start
// the app processes nothing until the follower has caught up with the
// changelogs' ends as they were then; afterwards it follows them for as
// long as the app runs.

// followGlobal runs the follower until ctx ends; ready is closed once it
// has caught up (or ctx ended first).
func (a *appRun) followGlobal(ctx context.Context, ready chan<- struct{}) {
	closeReady := func() {
		if ready != nil {
			close(ready)
			ready = nil
		}
	}
	defer closeReady()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := a.follow(ctx, closeReady)
		if ctx.Err() != nil {
			return
		}
		a.setUnready("following the global tables: " + err.Error())
		a.log.Error("following the global tables' changelogs: starting again", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (a *appRun) follow(ctx context.Context, caughtUp func()) error {
	rd, err := franz.NewReader(a.plan.Kafka)
	if err != nil {
		return err
	}
	defer rd.Close()
	byTopic := map[string]*tableRun{}
	ends := map[kafka.TopicPartition]int64{}
	from := map[kafka.TopicPartition]int64{}
	for _, t := range a.tables {
		if !t.plan.Global {
			continue
		}
		topic := t.plan.ChangelogTopic
		byTopic[topic] = t
		e, err := rd.Ends(ctx, topic)
		if err != nil {
			return err
		}
		s, err := rd.Starts(ctx, topic)
		if err != nil {
			return err
		}
		for p := range t.plan.Partitions {
			tp := kafka.TopicPartition{Topic: topic, Partition: p}
			stored, err := t.db.Offsets(t.id, t.plan.Name, p)
			if err != nil {
				return err
			}
			off := stored.Changelog
			if off > e[tp] {
				if err := t.db.DropPartition(t.id, t.plan.Name, p); err != nil {
					return err
				}
				off = -1
			}
			from[tp] = max(off, s[tp])
			ends[tp] = e[tp]
			pp := a.progressOf(t.plan.Name, p)
			pp.total.Store(max(e[tp]-from[tp], 0))
			pp.done.Store(0)
			pp.recovering.Store(true)
		}
	}
	rd.Add(from)
	var recs []state.ChangelogRecord
	caught := false
	for {
		if !caught {
			caught = true
			for tp, end := range ends {
				pos := rd.Position(tp)
				pp := a.progressOf(byTopic[tp.Topic].plan.Name, tp.Partition)
				pp.done.Store(max(pos-from[tp], 0))
				if pos < end {
					caught = false
				} else {
					pp.recovering.Store(false)
				}
			}
			if caught {
				caughtUp()
			}
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fetches, err := rd.Poll(pctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && pctx.Err() == nil {
			return err
		}
		for _, f := range fetches {
			t := byTopic[f.Topic]
			recs = recs[:0]
			for _, r := range f.Records {
				recs = append(recs, state.ChangelogRecord{Key: r.Key, Value: r.Value, Offset: r.Offset})
			}
			if err := t.db.ApplyChangelog(t.id, t.plan.Name, f.Partition, recs); err != nil {
				return err
			}
			if !caught {
				a.rec.replayed.Add(int64(len(recs)))
			}
		}
	}
}
