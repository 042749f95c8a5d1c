package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/interp"
)

// More of what package webview uses of a running app (see webapi.go).

// ClientFor returns the Kafka library an app names (AppPlan.Client): for
// what serves an app beside its runtime, such as web view ingest for an
// app the runtime does not run and the replicas' members topic.
func ClientFor(name string) (kafka.Client, error) { return clientFor(name) }

// DeclareTopics declares an app's topics as Start does, for an app the
// runtime does not run (it has neither agents nor tasks) but whose web
// views send to topics it declares.
func DeclareTopics(ctx context.Context, ap *AppPlan, log *slog.Logger) error {
	client, err := clientFor(ap.Client)
	if err != nil {
		return err
	}
	return declareTopics(ctx, client, ap, log)
}

// Running reports whether the runtime runs an app now. An app with neither
// agents nor tasks is never run (it consumes and schedules nothing).
func (r *Runtime) Running(app string) bool { return r.app(app) != nil }

// Leader reports whether this replica leads an app (runs its onLeader
// tasks). An app without onLeader tasks elects no leader: every replica
// is its leader, as for Kaspr's single-worker default.
func (r *Runtime) Leader(app string) bool {
	a := r.app(app)
	return a != nil && a.isLeader()
}

// Recovering reports whether an app is recovering table partitions from
// their changelogs (partitions assigned but not yet held).
func (r *Runtime) Recovering(app string) bool {
	a := r.app(app)
	return a != nil && a.recovering()
}

// errNoChannel is a send to a channel no agent of the app consumes.
var errNoChannel = errors.New("no agent of the app consumes the channel")

// SendChannel queues an item on a channel of an app, outside any
// transaction (as a task's items are: processed at least once), waiting
// while the channel is full or until ctx ends: what a web view's topicSend
// to a channel does. key, value and headers are copied.
func (r *Runtime) SendChannel(ctx context.Context, app, channel string, key, value interp.Value, headers []interp.Header) (err error) {
	a := r.app(app)
	if a == nil {
		return fmt.Errorf("app %s is not running", app)
	}
	c := a.channels[channel]
	if c == nil {
		return fmt.Errorf("channel %q: %w", channel, errNoChannel)
	}
	if a.sess == nil && len(a.tasks) == 0 {
		// The app's loop and tasks are what keep its channels open (see
		// appRun.run): without either they are closed at the start.
		return fmt.Errorf("channel %q: the runtime keeps an app's channels open only while the app consumes topics or runs tasks, and app %s does neither", channel, app)
	}
	// What the consumers send of an item that is in no transaction goes
	// through the app's producer: make it now if the app has none.
	if _, err := a.ingestProducer(); err != nil {
		return err
	}
	it := &chanItem{channel: channel}
	if key != nil {
		it.ev.Key = interp.Copy(key)
	}
	it.ev.Value = interp.Copy(value)
	it.ev.Headers = append([]interp.Header(nil), headers...)
	// The queue is closed once the app stops; a send that loses that race
	// fails as a stopping app's sends do.
	defer func() {
		if recover() != nil {
			err = fmt.Errorf("channel %q is closed: %w", channel, errStopping)
		}
	}()
	select {
	case c.q <- it:
		return nil
	case <-a.stopping:
		return errStopping
	case <-ctx.Done():
		return ctx.Err()
	}
}
