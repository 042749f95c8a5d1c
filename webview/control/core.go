package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/webview"
)

// The core every route group speaks through: what apps there are, and
// their creation, update and deletion. The routes only translate.

// Sources of an app.
const (
	SourceFile = "file"
	SourceAPI  = "api"
)

// States of an app.
const (
	StateRunning    = "running"    // the runtime runs it, and it is ready
	StateUnready    = "unready"    // it runs, but is not ready (starting, session failing, broker outage)
	StateRecovering = "recovering" // it runs, and recovers table partitions from their changelogs
	StateIdle       = "idle"       // it has neither agents nor tasks: the runtime has nothing to run
	StateFailed     = "failed"     // a kept app that did not load at the restart
)

// appInfo is an app as the routes see it.
type appInfo struct {
	ID         string
	Name       string
	Label      string // a compatibility client's name for it, else Name
	Source     string
	File       string // a folder app's KasprApp file
	Created    time.Time
	Updated    time.Time
	Generation int64
	State      string
	Reasons    []string
	Plan       *engine.AppPlan // nil for a failed app
	Failed     []apiError
}

// observe notes the apps of a plan: new ones, and new versions of known
// ones. The host calls it with every plan it applies.
func (s *Server) observe(p *engine.Plan) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	names := map[string]bool{}
	for _, ap := range p.Apps {
		names[ap.Name] = true
		h := appHash(ap)
		sn := s.seen[ap.Name]
		switch {
		case sn == nil:
			sn = &seen{created: now, updated: now, generation: 1, hash: h}
			if r := s.recs[ap.Name]; r != nil {
				sn.created, sn.updated, sn.generation = r.Created, r.Updated, r.Generation
			}
			s.seen[ap.Name] = sn
		case sn.hash != h:
			sn.hash, sn.updated = h, now
			sn.generation++
		}
	}
	for n := range s.seen {
		if !names[n] {
			delete(s.seen, n)
		}
	}
}

// appHash identifies a version of an app's resources.
func appHash(ap *engine.AppPlan) string {
	b, err := json.Marshal(ap.Spec)
	if err != nil {
		return fmt.Sprintf("unhashable %p", ap)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// apps returns every app: those of the plan, and the kept apps that
// failed to load, by id.
func (s *Server) apps() []*appInfo {
	rt := s.rt()
	p := rt.Plan()
	notReady := rt.NotReady()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*appInfo
	for _, ap := range p.Apps {
		a := &appInfo{ID: ap.Name, Name: ap.Name, Label: ap.Name, Source: SourceFile, File: ap.Spec.App.File(), Plan: ap, Generation: 1}
		if sn := s.seen[ap.Name]; sn != nil {
			a.Created, a.Updated, a.Generation = sn.created, sn.updated, sn.generation
		}
		if r := s.recs[ap.Name]; r != nil {
			a.Source, a.File = SourceAPI, ""
			if r.Label != "" {
				a.Label = r.Label
			}
		}
		a.State, a.Reasons = appState(rt, ap, notReady)
		out = append(out, a)
	}
	for id, r := range s.recs {
		if r.failed == nil {
			continue
		}
		label := r.Label
		if label == "" {
			label = id
		}
		out = append(out, &appInfo{ID: id, Name: id, Label: label, Source: SourceAPI, Created: r.Created, Updated: r.Updated,
			Generation: r.Generation, State: StateFailed, Failed: r.failed,
			Reasons: []string{"its manifests did not load when the process started: update it (PUT) or delete it"}})
	}
	slices.SortFunc(out, func(a, b *appInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// app returns one app by id, or nil.
func (s *Server) app(id string) *appInfo {
	for _, a := range s.apps() {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// appState says how an app of the plan is doing, and why when it is not
// well.
func appState(rt *engine.Runtime, ap *engine.AppPlan, notReady []string) (string, []string) {
	if len(ap.Agents) == 0 && len(ap.Tasks) == 0 {
		return StateIdle, []string{}
	}
	if !rt.Running(ap.Name) {
		return StateUnready, []string{"not running"}
	}
	reasons := []string{}
	for _, why := range notReady {
		if rest, ok := strings.CutPrefix(why, "app "+ap.Name+": "); ok {
			reasons = append(reasons, rest)
		}
	}
	if rt.Recovering(ap.Name) {
		return StateRecovering, append(reasons, "recovering table partitions from their changelogs")
	}
	if len(reasons) > 0 {
		return StateUnready, reasons
	}
	return StateRunning, reasons
}

// refusal is the answer to a change the host refused (see refused). When
// every error is in other apps' files, the apps are compiled again without
// the change: if they compile, it is the change that conflicts with them
// (a 422 that points at the other files), else they were broken before it
// (409).
func (s *Server) refusal(err error, id string) *problem {
	p := refused(err, id)
	if p.status == http.StatusConflict {
		if _, _, err := s.h.Snapshot(); err == nil {
			p.status = http.StatusUnprocessableEntity
			p.Msg = fmt.Sprintf("the manifests conflict with the other apps: %d %s; nothing was changed", len(p.Errors), plural(len(p.Errors), "error", "errors"))
		}
	}
	return p
}

// readOnly is the answer to a change of an app the API did not create.
func readOnly(a *appInfo) *problem {
	return &problem{status: http.StatusConflict, ID: a.ID, Source: a.Source,
		Msg: fmt.Sprintf("app %s comes from the watched folder (%s) and is read-only here: change its manifests there, and weir reloads them", a.ID, a.File)}
}

// changeCtx bounds a change. It does not end with the request: a client
// that goes away does not leave an apply half done.
func (s *Server) changeCtx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), s.opts.ChangeTimeout)
}

// create makes a new app of a request's manifests. label is a
// compatibility client's name for it ("" for none).
func (s *Server) create(ctx context.Context, req *appRequest, label string) (*appInfo, *problem) {
	app, p := parseAlone(req.Files)
	if p != nil {
		return nil, p
	}
	id := app.Name()
	if req.Name != "" && req.Name != id {
		return nil, newProblem(http.StatusUnprocessableEntity, "name %q is not the name of the manifests' KasprApp (%q): an app's name is its id", req.Name, id)
	}
	s.change.Lock()
	defer s.change.Unlock()
	if a := s.app(id); a != nil {
		how := "was created through the API: update it with PUT /api/v1/apps/" + id
		if a.Source == SourceFile {
			how = fmt.Sprintf("comes from the watched folder (%s)", a.File)
		}
		return nil, &problem{status: http.StatusConflict, ID: id, Source: a.Source, Msg: fmt.Sprintf("an app named %s exists already: it %s", id, how)}
	}
	now := time.Now().UTC()
	rec := &record{ID: id, Label: label, Created: now, Updated: now, Generation: 1, Files: req.Files}
	if label == id {
		rec.Label = ""
	}
	s.mu.Lock()
	s.recs[id] = rec // seen by observe during the apply
	s.mu.Unlock()
	if err := s.h.Put(ctx, owner(id), rec.files(), "control API: create app "+id); err != nil {
		s.forget(id)
		return nil, s.refusal(err, id)
	}
	if err := s.keep(rec); err != nil {
		s.forget(id)
		if uerr := s.h.Put(ctx, owner(id), nil, "control API: app "+id+" could not be kept"); uerr != nil {
			s.log.Error("an app that could not be kept is still running", "app", id, "error", uerr)
		}
		return nil, newProblem(http.StatusInternalServerError, "app %s was not created: %v", id, err)
	}
	s.log.Info("app created through the control API", "app", id)
	return s.app(id), nil
}

// update gives an app of the API new manifests through the reload path;
// when they do not compile the app is left as it was.
func (s *Server) update(ctx context.Context, id string, req *appRequest, label string) (*appInfo, *problem) {
	s.change.Lock()
	defer s.change.Unlock()
	a := s.app(id)
	if a == nil {
		return nil, newProblem(http.StatusNotFound, "no app %s", id)
	}
	if a.Source != SourceAPI {
		return nil, readOnly(a)
	}
	app, p := parseAlone(req.Files)
	if p != nil {
		return nil, p
	}
	if app.Name() != id || (req.Name != "" && req.Name != id) {
		return nil, newProblem(http.StatusUnprocessableEntity, "the manifests define app %q, not %q: an app's name is its id; create %s with POST and delete %s", app.Name(), id, app.Name(), id)
	}
	s.mu.Lock()
	old := s.recs[id]
	s.mu.Unlock()
	rec := *old
	rec.Files, rec.failed = req.Files, nil
	if label != "" {
		rec.Label = label
		if label == id {
			rec.Label = ""
		}
	}
	if err := s.h.Put(ctx, owner(id), rec.files(), "control API: update app "+id); err != nil {
		return nil, s.refusal(err, id)
	}
	s.mu.Lock()
	if sn := s.seen[id]; sn != nil {
		rec.Generation, rec.Updated = sn.generation, sn.updated.UTC()
	}
	s.recs[id] = &rec
	s.mu.Unlock()
	if err := s.keep(&rec); err != nil {
		// The running app is the new one; what is kept is the old. Say so
		// rather than pretend.
		return nil, newProblem(http.StatusInternalServerError, "app %s runs its new manifests, but they could not be kept in the data dir (the old ones come back at a restart): %v", id, err)
	}
	s.log.Info("app updated through the control API", "app", id, "generation", rec.Generation)
	return s.app(id), nil
}

// deleted says what a delete did.
type deleted struct {
	ID      string   `json:"id"`
	Deleted bool     `json:"deleted"`
	Purged  bool     `json:"purged"`
	Topics  []string `json:"deletedTopics,omitempty"`
	State   bool     `json:"deletedState,omitempty"`
	Errors  []string `json:"purgeErrors,omitempty"`
}

// remove tears an app of the API down: stopped (its work in flight
// committed) and forgotten. With purge its internal topics (changelogs,
// dead letters, leader and members topics) and its local table state are
// deleted too.
func (s *Server) remove(ctx context.Context, id string, purge bool) (*deleted, *appInfo, *problem) {
	s.change.Lock()
	defer s.change.Unlock()
	a := s.app(id)
	if a == nil {
		return nil, nil, newProblem(http.StatusNotFound, "no app %s", id)
	}
	if a.Source != SourceAPI {
		return nil, a, readOnly(a)
	}
	if a.Plan != nil {
		if err := s.h.Put(ctx, owner(id), nil, "control API: delete app "+id); err != nil {
			return nil, a, s.refusal(err, id)
		}
	}
	out := &deleted{ID: id, Deleted: true, Purged: purge}
	if err := s.store.removeIf(id); err != nil {
		out.Errors = append(out.Errors, err.Error())
	}
	s.forget(id)
	if purge && a.Plan != nil {
		s.purge(ctx, a.Plan, out)
	}
	s.logs.Drop(id, "app "+id+" was deleted")
	s.log.Info("app deleted through the control API", "app", id, "purge", purge, "deletedTopics", len(out.Topics))
	return out, a, nil
}

// keep writes a record to the data dir, when there is one.
func (s *Server) keep(r *record) error {
	if s.store == nil {
		return nil
	}
	return s.store.save(r)
}

func (st *store) removeIf(id string) error {
	if st == nil {
		return nil
	}
	return st.remove(id)
}

// forget drops an app from the API's records.
func (s *Server) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.recs, id)
}

// internalTopics are the topics weir made for an app's own use.
func internalTopics(ap *engine.AppPlan) []string {
	var out []string
	add := func(t string) {
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, t := range ap.Tables {
		add(t.ChangelogTopic)
	}
	for _, ag := range ap.Agents {
		add(ag.DeadLetterTopic)
	}
	add(ap.LeaderTopic)
	if len(ap.WebViews) > 0 {
		add(webview.MembersTopic(ap.ID))
	}
	return out
}

// usedTopics are the topics the apps of a plan read, write or declare.
func usedTopics(p *engine.Plan) map[string]bool {
	used := map[string]bool{}
	for _, ap := range p.Apps {
		for _, t := range internalTopics(ap) {
			used[t] = true
		}
		for _, t := range append(slices.Clone(ap.Topics), ap.MustExist...) {
			used[t.Name] = true
		}
		for _, ag := range ap.Agents {
			for _, t := range ag.Input.Topics {
				used[t] = true
			}
			for _, o := range ag.Outputs {
				used[o.Topic] = true
			}
		}
	}
	return used
}

// purge deletes a stopped app's internal topics that no other app uses,
// and its local table state.
func (s *Server) purge(ctx context.Context, ap *engine.AppPlan, out *deleted) {
	used := usedTopics(s.rt().Plan())
	var topics []string
	for _, t := range internalTopics(ap) {
		if !used[t] {
			topics = append(topics, t)
		}
	}
	if len(topics) > 0 {
		if err := deleteTopics(ctx, ap, topics, out); err != nil {
			out.Errors = append(out.Errors, err.Error())
		}
	}
	had, err := s.rt().DropAppState(ap)
	if err != nil {
		out.Errors = append(out.Errors, err.Error())
	}
	out.State = had && err == nil
}

// deleteTopics deletes those of the topics that exist.
func deleteTopics(ctx context.Context, ap *engine.AppPlan, topics []string, out *deleted) error {
	client, err := engine.ClientFor(ap.Client)
	if err != nil {
		return err
	}
	admin, err := client.NewAdmin(ap.Kafka)
	if err != nil {
		return fmt.Errorf("deleting topics: %w", err)
	}
	defer admin.Close()
	have, err := admin.DescribeTopics(ctx, topics)
	if err != nil {
		return fmt.Errorf("deleting topics: %w", err)
	}
	var present []string
	for _, t := range topics {
		if _, ok := have[t]; ok {
			present = append(present, t)
		}
	}
	if len(present) == 0 {
		return nil
	}
	if err := admin.DeleteTopics(ctx, present); err != nil {
		return fmt.Errorf("deleting topics %s: %w", strings.Join(present, ", "), err)
	}
	out.Topics = present
	return nil
}
