package webview

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"
)

// healthz is GET /healthz: the process serves.
func (s *Server) healthz(c *echo.Context) error {
	return c.JSONBlob(http.StatusOK, []byte(`{"status": "ok"}`+"\n"))
}

// readyz is GET /readyz: 200 when the app is ready, else 503 with the
// reasons.
func (s *Server) readyz(c *echo.Context) error {
	reasons := s.notReady()
	body := struct {
		Ready   bool     `json:"ready"`
		Reasons []string `json:"reasons"`
	}{len(reasons) == 0, reasons}
	code := http.StatusOK
	if !body.Ready {
		code = http.StatusServiceUnavailable
		c.Response().Header().Set("Retry-After", retryAfter)
	}
	return c.JSON(code, body)
}

// notReady are the reasons this app is not ready; none when it is.
func (s *Server) notReady() []string {
	name := s.name
	var out []string
	for _, why := range s.rt.NotReady() {
		if rest, ok := strings.CutPrefix(why, "app "+name+": "); ok {
			out = append(out, rest)
		} else if !strings.HasPrefix(why, "app ") {
			out = append(out, why)
		}
	}
	if s.cur().runs && !s.rt.Running(name) && len(out) == 0 {
		out = append(out, "not running")
	}
	if s.rt.Recovering(name) {
		out = append(out, "recovering table partitions from their changelogs")
	}
	if out == nil {
		out = []string{}
	}
	return out
}
