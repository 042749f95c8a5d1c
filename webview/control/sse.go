package control

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// keepAlive is how often an idle follower gets a comment, so that
// proxies keep the stream open.
const keepAlive = 15 * time.Second

// tail reads ?tail=N: how many recent lines to send (0: all kept).
func tail(r *http.Request, dflt int) (int, *problem) {
	v := r.URL.Query().Get("tail")
	if v == "" {
		return dflt, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, newProblem(http.StatusBadRequest, "tail=%q: want a count of lines, 0 for all", v)
	}
	return n, nil
}

// recentLines are an app's latest lines, as ?tail asks.
func (s *Server) recentLines(r *http.Request, id string) ([]Line, *problem) {
	n, p := tail(r, 0)
	if p != nil {
		return nil, p
	}
	return s.logs.Recent(id, 0, n), nil
}

// followLogs streams an app's lines as Server-Sent Events: the recent
// ones (?tail=N, 100 by default; after Last-Event-ID when the client
// reconnects), then each new one as it is logged. Each event's id is the
// line's number, its data the line. The stream ends with an "end" event
// when the app is deleted or the server stops, and with an "overflow"
// event when the client reads too slowly (it may reconnect with
// Last-Event-ID).
func (s *Server) followLogs(w http.ResponseWriter, r *http.Request, id string) {
	n, p := tail(r, 100)
	if p != nil {
		writeProblem(w, p)
		return
	}
	var after int64
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		if after, _ = strconv.ParseInt(v, 10, 64); after > 0 {
			n = 0
		}
	}
	select {
	case s.followers <- struct{}{}:
		defer func() { <-s.followers }()
	default:
		w.Header().Set("Retry-After", "5")
		writeProblem(w, newProblem(http.StatusServiceUnavailable, "%d log followers are open: the most the server keeps", cap(s.followers)))
		return
	}
	rc := http.NewResponseController(w)
	// The server's read deadline bounds the reading of requests; a
	// stream stays open for long.
	_ = rc.SetReadDeadline(time.Time{})
	backlog, f, cancel := s.logs.Follow(id, after, n)
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	for _, l := range backlog {
		writeEvent(w, l)
	}
	if err := rc.Flush(); err != nil {
		return
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case l, ok := <-f.ch:
			if !ok {
				overflow, ended := s.logs.reason(f)
				switch {
				case overflow:
					fmt.Fprint(w, "event: overflow\ndata: the client read too slowly and lines were lost: reconnect with Last-Event-ID\n\n")
				case ended != "":
					fmt.Fprintf(w, "event: end\ndata: %s\n\n", ended)
				}
				_ = rc.Flush()
				return
			}
			writeEvent(w, l)
			// Send what else is queued in the same write.
			for more := true; more; {
				select {
				case l, ok := <-f.ch:
					if ok {
						writeEvent(w, l)
					}
					more = ok
				default:
					more = false
				}
			}
			if err := rc.Flush(); err != nil {
				return
			}
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			if err := rc.Flush(); err != nil {
				return
			}
		case <-s.closing:
			fmt.Fprint(w, "event: end\ndata: the control API is stopping\n\n")
			_ = rc.Flush()
			return
		case <-r.Context().Done():
			return
		}
	}
}

// writeEvent writes one line as an event; a line holds no newline, but
// one that did would be split into data fields.
func writeEvent(w http.ResponseWriter, l Line) {
	var b strings.Builder
	b.WriteString("id: " + strconv.FormatInt(l.Seq, 10) + "\n")
	for _, part := range strings.Split(l.Text, "\n") {
		b.WriteString("data: " + part + "\n")
	}
	b.WriteString("\n")
	_, _ = fmt.Fprint(w, b.String())
}
