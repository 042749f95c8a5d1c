package engine

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir/engine/kafka"
)

// Leadership. onLeader tasks run on exactly one replica of an app: the one
// that leads it. The leader is chosen by Kafka's group protocol, as Faust
// (and so Kaspr) does: every replica joins a second consumer group,
// <app-id>-leader, subscribed to a topic with a single partition,
// <app-id>-leader (declared with the app's topics; nothing is ever written
// to it). The group coordinator assigns that one partition to one member at
// a time, and that member leads. When it leaves or dies, the partition is
// revoked from it (or its session times out) and assigned to another.
//
// Guarantees: at most one replica that is in touch with the group leads at
// any time. A replica cut off from the brokers keeps believing it leads
// until its group session times out (session.timeout.ms) and then stops;
// a new leader is chosen only after that timeout, so an overlap needs a
// replica that is cut off from the brokers yet still runs its tasks, for at
// most that timeout. The leader group does not use static membership, even
// with --instance-id: a replica that stops leaves the group at once and
// another leads without waiting for a session timeout.

// leaderRun keeps a replica in its app's leader group.
type leaderRun struct {
	app    *appRun
	topic  string
	client kafka.Client
	log    *slog.Logger
	leads  atomic.Bool
}

func (l *leaderRun) config() kafka.SessionConfig {
	a := l.app.plan
	sc := kafka.SessionConfig{
		Config:    a.Kafka,
		Guarantee: kafka.AtLeastOnce,
		Group:     l.topic,
		Topics:    []string{l.topic},
	}
	mine := func(parts []kafka.TopicPartition) bool {
		return slices.Contains(parts, kafka.TopicPartition{Topic: l.topic, Partition: 0})
	}
	sc.OnAssigned = func(_ context.Context, parts []kafka.TopicPartition) {
		if mine(parts) && !l.leads.Swap(true) {
			l.log.Info("this replica leads the app: it runs the onLeader tasks")
		}
	}
	sc.OnRevoked = func(_ context.Context, parts []kafka.TopicPartition) {
		if mine(parts) && l.leads.Swap(false) {
			l.log.Info("this replica no longer leads the app")
		}
	}
	return sc
}

// run keeps the membership until ctx ends.
func (l *leaderRun) run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		sess, err := l.client.NewSession(l.config())
		if err != nil {
			l.log.Error("joining the leader group", "error", err)
		} else {
			err = l.member(ctx, sess)
			sess.Close()
			if l.leads.Swap(false) {
				l.log.Info("this replica no longer leads the app")
			}
			if err == nil {
				return
			}
			l.log.Error("leader group membership failed: joining again", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// member polls the leader topic (nothing arrives: polling is what keeps
// the membership and delivers the assignments) until ctx ends.
func (l *leaderRun) member(ctx context.Context, sess kafka.Session) error {
	for ctx.Err() == nil {
		if err := sess.Begin(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := sess.Poll(pctx)
		cancel()
		if err != nil && pctx.Err() == nil && !errors.Is(err, kafka.ErrClosed) {
			l.log.Debug("leader group poll", "error", err)
		}
		ectx, cancel := context.WithTimeout(context.Background(), endTimeout)
		_, err = sess.End(ectx, true)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// isLeader reports whether this replica leads the app (always, when the
// app has no leader group).
func (a *appRun) isLeader() bool {
	return a.leader == nil || a.leader.leads.Load()
}

// waitLeader waits until this replica leads the app; false if ctx ends first.
func (a *appRun) waitLeader(ctx context.Context) bool {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !a.isLeader() {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}
