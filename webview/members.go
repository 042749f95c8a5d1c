package webview

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/franz"
)

// members is this replica's view of the members topic, and its own record
// there (see the package doc).
type members struct {
	s     *Server
	topic string
	// process tells this process's records from those of another
	// process that advertises the same URL (a mistake).
	process string

	mu     sync.Mutex
	byURL  map[string]memberRecord
	warned bool // a duplicate URL was reported

	pubMu     sync.Mutex // one write at a time, in order
	published []int32    // the partitions last written; nil: none yet
	withdrawn bool
}

// memberRecord is a record of the members topic, and its offset.
type memberRecord struct {
	URL        string  `json:"url"`
	Instance   string  `json:"instance,omitempty"`
	Process    string  `json:"process"`
	Partitions []int32 `json:"partitions"`
	offset     int64
}

// MembersTopic is the members topic of an app id.
func MembersTopic(appID string) string { return appID + "-members" }

func newMembers(s *Server) *members {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &members{s: s, topic: MembersTopic(s.app.ID), process: hex.EncodeToString(b[:]), byURL: map[string]memberRecord{}}
}

// run follows the members topic and keeps this replica's record current
// until ctx ends.
func (m *members) run(ctx context.Context) {
	if !m.ensureTopic(ctx) {
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.follow(ctx)
	}()
	t := time.NewTicker(m.s.opts.MembersInterval)
	defer t.Stop()
	for {
		m.publish(ctx)
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
		}
	}
}

// ensureTopic declares the members topic (or, when the app may not
// declare topics, waits for it to exist); false when ctx ended first.
func (m *members) ensureTopic(ctx context.Context) bool {
	client, err := engine.ClientFor(m.s.app.Client)
	if err != nil {
		m.s.log.Error("the members topic cannot be used: keys held by other replicas answer 503", "error", err)
		return false
	}
	cfg := &m.s.app.Spec.App.Spec.Config
	spec := kafka.TopicSpec{Name: m.topic, Partitions: 1, ReplicationFactor: int16(cfg.TopicReplicationFactor), Config: map[string]string{"cleanup.policy": "compact"}}
	backoff := 100 * time.Millisecond
	reported := false
	for {
		err := func() error {
			admin, err := client.NewAdmin(m.s.app.Kafka)
			if err != nil {
				return err
			}
			defer admin.Close()
			if cfg.TopicAllowDeclare {
				res, err := admin.CreateTopics(ctx, []kafka.TopicSpec{spec})
				if err != nil {
					return err
				}
				return res[m.topic]
			}
			have, err := admin.DescribeTopics(ctx, []string{m.topic})
			if err != nil {
				return err
			}
			if _, ok := have[m.topic]; !ok {
				return fmt.Errorf("the topic does not exist and topicAllowDeclare is false: create it with 1 partition and cleanup.policy=compact")
			}
			return nil
		}()
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if !reported {
			m.s.log.Error("the members topic is not usable yet: keys held by other replicas answer 503 until it is", "topic", m.topic, "error", err)
			reported = true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// follow reads the members topic from its start until ctx ends.
func (m *members) follow(ctx context.Context) {
	r, err := franz.NewReader(m.s.app.Kafka)
	if err != nil {
		m.s.log.Error("reading the members topic: keys held by other replicas answer 503", "topic", m.topic, "error", err)
		return
	}
	defer r.Close()
	r.Add(map[kafka.TopicPartition]int64{{Topic: m.topic, Partition: 0}: franz.OffsetStart})
	for {
		fs, err := r.Poll(ctx)
		for _, f := range fs {
			for _, rec := range f.Records {
				m.apply(rec)
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			m.s.logError("reading the members topic", "topic", m.topic, "error", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// apply takes in one record of the members topic.
func (m *members) apply(rec *kafka.Record) {
	url := string(rec.Key)
	m.mu.Lock()
	defer m.mu.Unlock()
	if rec.Value == nil {
		delete(m.byURL, url)
		return
	}
	var mr memberRecord
	if err := json.Unmarshal(rec.Value, &mr); err != nil || mr.URL != url {
		m.s.logError("a record of the members topic is not a member", "topic", m.topic, "offset", rec.Offset, "error", err)
		return
	}
	mr.offset = rec.Offset
	if url == m.s.url && mr.Process != m.process && !m.warned {
		m.warned = true
		m.s.log.Error("another process advertises this replica's URL: give each replica its own --advertise-url", "url", url)
	}
	m.byURL[url] = mr
}

// holder returns the URL of the replica that holds partition p: the one
// whose last record claims p and was written last. None is known when
// none claims p, or when the last claim is this replica's own (it is
// stale: this replica does not hold p).
func (m *members) holder(p int32) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	best := memberRecord{offset: -1}
	for _, mr := range m.byURL {
		if mr.offset > best.offset && slices.Contains(mr.Partitions, p) {
			best = mr
		}
	}
	if best.offset < 0 || best.URL == m.s.url {
		return "", false
	}
	return best.URL, true
}

// snapshot returns the members as read, in URL order.
func (m *members) snapshot() []memberRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]memberRecord, 0, len(m.byURL))
	for _, mr := range m.byURL {
		out = append(out, mr)
	}
	slices.SortFunc(out, func(a, b memberRecord) int {
		switch {
		case a.URL < b.URL:
			return -1
		case a.URL > b.URL:
			return 1
		}
		return 0
	})
	return out
}

// publish writes this replica's record when the partitions it holds
// changed since the last write.
func (m *members) publish(ctx context.Context) {
	m.pubMu.Lock()
	defer m.pubMu.Unlock()
	if m.withdrawn {
		return
	}
	held := m.s.rt.Held(m.s.name)
	if held == nil {
		held = []int32{}
	}
	if m.published != nil && slices.Equal(held, m.published) {
		return
	}
	if !m.s.rt.Running(m.s.name) {
		return
	}
	value, err := json.Marshal(memberRecord{URL: m.s.url, Instance: m.s.app.InstanceID, Process: m.process, Partitions: held})
	if err != nil {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := m.s.produce(wctx, &kafka.Record{Topic: m.topic, Partition: 0, Key: []byte(m.s.url), Value: value}); err != nil {
		if ctx.Err() == nil {
			m.s.logError("writing this replica's record to the members topic failed; it is tried again", "topic", m.topic, "error", err)
		}
		return
	}
	m.published = held
	m.s.log.Debug("wrote this replica's partitions to the members topic", "partitions", held)
}

// withdraw writes a tombstone for this replica, once it has written a
// record: it no longer answers for any partition.
func (m *members) withdraw(ctx context.Context) {
	m.pubMu.Lock()
	defer m.pubMu.Unlock()
	if m.withdrawn {
		return
	}
	m.withdrawn = true
	if m.published == nil || !m.s.rt.Running(m.s.name) {
		return
	}
	if err := m.s.produce(ctx, &kafka.Record{Topic: m.topic, Partition: 0, Key: []byte(m.s.url)}); err != nil {
		m.s.log.Warn("withdrawing this replica from the members topic failed: the replicas that took its partitions over will say so", "topic", m.topic, "error", err)
	}
}
