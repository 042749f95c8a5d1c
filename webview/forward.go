package webview

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/weirstream/weir/engine"
)

// hopHeaders are the headers of one connection, not passed on.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Proxy-Connection"}

// Outcomes of forwarding, for the metrics.
const (
	fwdAnswered = "answered"   // the holder answered
	fwdUnknown  = "unknown"    // no replica is known to hold the partition
	fwdLoop     = "refused"    // a forwarded request needed another replica again
	fwdFailed   = "unanswered" // the holder did not answer
)

// forward answers a request whose table read needed a partition another
// replica holds with that replica's answer, or 503.
func (s *Server) forward(ctx context.Context, c *echo.Context, v *view, ee *engine.ElsewhereError, body []byte) {
	r := c.Request()
	if from := r.Header.Get(HeaderForwarded); from != "" {
		s.metrics.forwarded(v, fwdLoop)
		unavailable(c, fmt.Sprintf("partition %d of table %s is not held here; %s forwarded this request here, so its view of the replicas is out of date: retry", ee.Partition, ee.Table, from))
		return
	}
	members := s.members.Load()
	if members == nil {
		s.metrics.forwarded(v, fwdUnknown)
		unavailable(c, fmt.Sprintf("partition %d of table %s is not held here (it is being recovered or rebalanced): retry", ee.Partition, ee.Table))
		return
	}
	owner, ok := members.holder(ee.Partition)
	if !ok {
		s.metrics.forwarded(v, fwdUnknown)
		unavailable(c, fmt.Sprintf("no replica is known to hold partition %d of table %s yet (a rebalance or recovery is under way): retry", ee.Partition, ee.Table))
		return
	}
	fr, err := http.NewRequestWithContext(ctx, r.Method, owner+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		s.metrics.forwarded(v, fwdFailed)
		unavailable(c, "forwarding the request: "+err.Error())
		return
	}
	for k, vs := range r.Header {
		fr.Header[k] = vs
	}
	for _, h := range hopHeaders {
		fr.Header.Del(h)
	}
	fr.Header.Set(HeaderForwarded, s.url)
	resp, err := s.fwd.Do(fr)
	if err != nil {
		s.metrics.forwarded(v, fwdFailed)
		if errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil {
			unavailable(c, fmt.Sprintf("the replica holding partition %d of table %s (%s) did not answer within %s: retry", ee.Partition, ee.Table, owner, s.opts.HandlerTimeout))
			return
		}
		s.logError("forwarding a request failed", "to", owner, "error", err)
		unavailable(c, fmt.Sprintf("the replica holding partition %d of table %s (%s) could not be reached: retry", ee.Partition, ee.Table, owner))
		return
	}
	defer resp.Body.Close()
	s.metrics.forwarded(v, fwdAnswered)
	h := c.Response().Header()
	for k, vs := range resp.Header {
		h[k] = vs
	}
	for _, hh := range hopHeaders {
		h.Del(hh)
	}
	c.Response().WriteHeader(resp.StatusCode)
	if r.Method != http.MethodHead {
		if _, err := io.Copy(c.Response(), resp.Body); err != nil && !strings.Contains(err.Error(), "closed") {
			s.logError("passing on a forwarded answer failed", "from", owner, "error", err)
		}
	}
}
