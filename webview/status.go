package webview

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v5"

	"github.com/weirstream/weir/engine"
)

// status is GET /status/: Kaspr's fields (leader, rebalancing, recovering,
// assignment, tables) and weir's (readiness, members, recovery progress,
// config generation and hash).
type status struct {
	App         string        `json:"app"`
	ID          string        `json:"id"`
	URL         string        `json:"url"`
	Running     bool          `json:"running"`
	Leader      bool          `json:"leader"`
	Rebalancing bool          `json:"rebalancing"`
	Recovering  bool          `json:"recovering"`
	Ready       bool          `json:"ready"`
	NotReady    []string      `json:"notReady"`
	Assignment  assignment    `json:"assignment"`
	Tables      []tableStatus `json:"tables"`
	Members     []memberView  `json:"members"`
	Config      configStatus  `json:"config"`
}

type assignment struct {
	// Partitions are the partitions this replica holds (assigned and
	// recovered).
	Partitions []int32 `json:"partitions"`
}

type tableStatus struct {
	Name       string            `json:"name"`
	Global     bool              `json:"global"`
	Partitions int32             `json:"partitions"`
	Changelog  string            `json:"changelog"`
	Keys       map[string]int    `json:"keys"` // by partition held here
	Recovery   []recoveryStatus  `json:"recovery"`
	Windowed   bool              `json:"windowed,omitempty"`
	Options    map[string]any    `json:"options,omitempty"`
	Extra      map[string]string `json:"extraTopicConfigs,omitempty"`
}

type recoveryStatus struct {
	Partition  int32 `json:"partition"`
	Recovering bool  `json:"recovering"`
	// Applied and Target are changelog offsets: how far the replay has
	// come of how far it must go.
	Applied int64 `json:"applied"`
	Target  int64 `json:"target"`
}

type memberView struct {
	URL        string  `json:"url"`
	Instance   string  `json:"instance,omitempty"`
	Partitions []int32 `json:"partitions"`
	Self       bool    `json:"self"`
}

type configStatus struct {
	Generation int64  `json:"generation"`
	Hash       string `json:"hash"`
	// LastReloadError is why the last reload was refused (the running
	// apps were left as they were); absent after a good one.
	LastReloadError string `json:"lastReloadError,omitempty"`
	ReloadFailures  int64  `json:"reloadFailures"`
}

func (s *Server) status(c *echo.Context) error {
	name := s.name
	cur := s.cur()
	st := status{
		App:        name,
		ID:         s.app.ID,
		URL:        s.url,
		Running:    s.rt.Running(name),
		Leader:     s.rt.Leader(name),
		Recovering: s.rt.Recovering(name),
		NotReady:   s.notReady(),
		Assignment: assignment{Partitions: s.rt.Held(name)},
		Config:     s.config(cur),
		Tables:     []tableStatus{},
		Members:    []memberView{},
	}
	st.Ready = len(st.NotReady) == 0
	if st.Assignment.Partitions == nil {
		st.Assignment.Partitions = []int32{}
	}
	keys, _ := s.tableKeys()
	progress := map[string][]recoveryStatus{}
	for _, tp := range s.rt.Tables() {
		if tp.App == name {
			progress[tp.Table] = append(progress[tp.Table], recoveryStatus{Partition: tp.Partition, Recovering: tp.Recovering, Applied: tp.Done, Target: tp.Total})
		}
	}
	for _, t := range cur.app.Tables {
		ts := tableStatus{Name: t.Name, Global: t.Global, Partitions: t.Partitions, Changelog: t.ChangelogTopic,
			Keys: map[string]int{}, Recovery: progress[t.Name], Windowed: t.Window != nil, Options: t.Options, Extra: t.ExtraTopicConfigs}
		for p, n := range keys[t.Name] {
			ts.Keys[strconv.Itoa(int(p))] = n
		}
		if ts.Recovery == nil {
			ts.Recovery = []recoveryStatus{}
		}
		st.Tables = append(st.Tables, ts)
	}
	if m := s.members.Load(); m != nil {
		for _, mr := range m.snapshot() {
			st.Members = append(st.Members, memberView{URL: mr.URL, Instance: mr.Instance, Partitions: mr.Partitions, Self: mr.URL == s.url})
		}
		st.Rebalancing = st.Recovering || s.unheld(cur, m)
	} else {
		st.Rebalancing = st.Recovering
	}
	return c.JSONPretty(http.StatusOK, st, "  ")
}

// unheld reports whether a partition of the app's partitioned tables has
// no known holder.
func (s *Server) unheld(cur *site, m *members) bool {
	var n int32
	for _, t := range cur.app.Tables {
		if !t.Global {
			n = max(n, t.Partitions)
		}
	}
	held := s.rt.Held(s.name)
	for p := range n {
		if slices.Contains(held, p) {
			continue
		}
		if _, ok := m.holder(p); !ok {
			return true
		}
	}
	return false
}

// tableKeys returns the keys of each table partition held here.
func (s *Server) tableKeys() (map[string]map[int32]int, error) {
	if !s.rt.Running(s.name) {
		return nil, nil
	}
	return s.rt.TableKeys(s.name)
}

// config is the generation and hash of the manifests served: Options' when
// given, else the runtime's (its hash, or a hash of the app's resources).
func (s *Server) config(cur *site) configStatus {
	gen, hash := s.rt.Generation()
	if s.opts.ConfigGeneration > 0 {
		gen = s.opts.ConfigGeneration
	}
	if s.opts.ConfigHash != "" {
		hash = s.opts.ConfigHash
	}
	if gen <= 0 {
		gen = 1
	}
	if hash == "" {
		hash = cur.hash
	}
	last, failures := s.rt.ReloadStatus()
	return configStatus{Generation: gen, Hash: hash, LastReloadError: last, ReloadFailures: failures}
}

// rebalance is POST /signal/rebalance.
func (s *Server) rebalance(c *echo.Context) error {
	if err := s.rt.Rebalance(s.name); err != nil {
		writeError(c, http.StatusConflict, err.Error())
		return nil
	}
	return c.JSON(http.StatusAccepted, map[string]string{"status": "rebalancing: this replica leaves the group and joins again after its transaction in flight"})
}

// configHash is a hash of the app's resources as loaded.
func configHash(app *engine.AppPlan) string {
	b, err := json.Marshal(app.Spec)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
