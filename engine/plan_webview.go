package engine

import (
	"maps"
	"time"

	"github.com/weirstream/weir/interp"
	"github.com/weirstream/weir/spec"
)

// WebViewPlan is one HTTP endpoint of an app.
type WebViewPlan struct {
	Name       string
	Spec       *spec.KasprWebView
	Program    *interp.Program
	Method     string
	Path       string
	PathParams []string
	Response   ResponsePlan
	Ops        []OpPlan
}

// ResponsePlan shapes a web view's answers.
type ResponsePlan struct {
	ContentType        string
	StatusCode         int
	Headers            map[string]string
	BodySelector       HandlerPlan
	StatusCodeSelector HandlerPlan
	HeadersSelector    HandlerPlan
}

// HandlerPlan is code run on success or on error; either is nil when
// absent.
type HandlerPlan struct {
	OnSuccess *interp.Func
	OnError   *interp.Func
}

// TaskPlan is a pipeline run once at start or on a schedule.
type TaskPlan struct {
	Name    string
	Spec    *spec.KasprTask
	Program *interp.Program
	// OnLeader: only one replica of the app runs it.
	OnLeader bool
	// Schedule is nil for a task run once at start.
	Schedule *SchedulePlan
	Ops      []OpPlan
}

// SchedulePlan is when a task runs: every Interval, or at the times of
// the cron expression Cron in Location (UTC unless a timezone is given).
type SchedulePlan struct {
	Interval time.Duration
	Cron     string
	Location *time.Location
}

func (a *appCompiler) webView(w *spec.KasprWebView) *WebViewPlan {
	prog := a.compile(w)
	s := &w.Spec
	handler := func(path string, h *spec.ResultHandler) HandlerPlan {
		if h == nil {
			return HandlerPlan{}
		}
		return HandlerPlan{OnSuccess: fn(prog, path+".onSuccess"), OnError: fn(prog, path+".onError")}
	}
	return &WebViewPlan{
		Name:       s.Name,
		Spec:       w,
		Program:    prog,
		Method:     s.Request.Method,
		Path:       s.Request.Path,
		PathParams: s.Request.PathParams(),
		Response: ResponsePlan{
			ContentType:        s.Response.ContentType,
			StatusCode:         s.Response.StatusCode,
			Headers:            maps.Clone(s.Response.Headers),
			BodySelector:       handler("spec.response.bodySelector", s.Response.BodySelector),
			StatusCodeSelector: handler("spec.response.statusCodeSelector", s.Response.StatusCodeSelector),
			HeadersSelector:    handler("spec.response.headersSelector", s.Response.HeadersSelector),
		},
		Ops: a.ops(w, prog, s.Processors),
	}
}

func (a *appCompiler) task(t *spec.KasprTask) *TaskPlan {
	prog := a.compile(t)
	s := &t.Spec
	p := &TaskPlan{Name: s.Name, Spec: t, Program: prog, OnLeader: s.OnLeader, Ops: a.ops(t, prog, s.Processors)}
	if sc := s.Schedule; sc != nil {
		p.Schedule = &SchedulePlan{Interval: sc.Interval.Value(), Cron: sc.Cron}
		if sc.Cron != "" {
			p.Schedule.Location = time.UTC
			if sc.Timezone != "" {
				loc, err := time.LoadLocation(sc.Timezone)
				if err != nil {
					// spec checked the name; the zone database may differ.
					a.errorf(t, "spec.schedule.timezone", "unknown time zone %q: %v", sc.Timezone, err)
				}
				p.Schedule.Location = loc
			}
		}
	}
	return p
}
