package control

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/spec"
)

// With a token every route needs it; without one the server will not
// listen beyond the loopback interface.
func TestToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := start(t, ctx, envOptions{token: "s3cret-token"})
	s := e.s
	for _, rt := range s.routes {
		path := pathParam.ReplaceAllString(rt.path, "tally")
		for _, tok := range []string{"", "wrong", "s3cret-token-and-more"} {
			a := e.doWith(rt.method, path, "application/yaml", nil, tok)
			if a.status != http.StatusUnauthorized || !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("%s %s with token %q: %d %s", rt.method, path, tok, a.status, a.body)
			}
		}
	}
	e.must(http.StatusCreated, "POST", "/api/v1/apps", "application/yaml", []byte(tally(t, "one")))
	e.must(http.StatusOK, "GET", "/api/v1/apps", "", nil)
	e.must(http.StatusOK, "GET", "/api/v1/openapi.json", "", nil)

	for _, c := range []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:0", "", true},
		{"localhost:0", "", true},
		{"[::1]:0", "", true},
		{"0.0.0.0:0", "", false},
		{":8080", "", false},
		{"10.1.2.3:8080", "", false},
		{"weir.example:8080", "", false},
		{"0.0.0.0:0", "t", true},
		{"nonsense", "t", false},
	} {
		if err := CheckAddr(c.addr, c.token); (err == nil) != c.ok {
			t.Errorf("CheckAddr(%q, %q): %v", c.addr, c.token, err)
		}
	}
	if _, err := New(e.h, Options{Addr: "0.0.0.0:0"}); err == nil || !strings.Contains(err.Error(), "without a token") {
		t.Fatalf("New bound to every interface without a token: %v", err)
	}
}

// Without a token the server answers loopback names only, refuses what a
// browser marks as cross-origin, and bounds bodies; nothing it returns
// of a spec holds a secret.
func TestGuards(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := start(t, ctx, envOptions{})
	send := func(method, path string, body []byte, header ...string) (int, string) {
		req, err := http.NewRequestWithContext(ctx, method, e.url+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(header); i += 2 {
			if header[i] == "Host" {
				req.Host = header[i+1]
			} else {
				req.Header.Set(header[i], header[i+1])
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		header []string
		want   int
	}{
		{nil, http.StatusOK},
		{[]string{"Host", "localhost:8080"}, http.StatusOK},
		{[]string{"Host", "attacker.example"}, http.StatusForbidden},
		{[]string{"Host", "attacker.example:8080"}, http.StatusForbidden},
		{[]string{"Origin", "https://attacker.example"}, http.StatusForbidden},
		{[]string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{[]string{"Sec-Fetch-Site", "none"}, http.StatusOK},
	} {
		if got, body := send("GET", "/api/v1/apps", nil, c.header...); got != c.want {
			t.Errorf("GET with %v: %d %s; want %d", c.header, got, body, c.want)
		}
	}
	// A cross-site form post cannot tear an app down.
	if got, _ := send("POST", "/pipeline/teardown/tally", nil, "Origin", "http://evil.example", "Content-Type", "application/x-www-form-urlencoded"); got != http.StatusForbidden {
		t.Errorf("a cross-site teardown: %d", got)
	}
	big := bytes.Repeat([]byte("# padding\n"), DefaultMaxBodyBytes/10+1)
	if got, body := send("POST", "/api/v1/apps", big, "Content-Type", "application/yaml"); got != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over the limit: %d %s", got, body)
	}
	if got, body := send("PATCH", "/api/v1/apps", nil); got != http.StatusMethodNotAllowed || !strings.Contains(body, "GET, POST") {
		t.Errorf("PATCH: %d %s", got, body)
	}
	if got, body := send("GET", "/nothing/here", nil); got != http.StatusNotFound || !strings.Contains(body, `"error"`) {
		t.Errorf("an unknown path: %d %s", got, body)
	}

}

// Secrets written in a spec are redacted from what the API returns of it;
// where they are found (files, secret names) is kept.
func TestRedact(t *testing.T) {
	withSecret := strings.Replace(tally(t, "one"), "    webPort: 16102\n",
		"    webPort: 16102\n    kafka:\n      sasl.password: hunter2\n      sasl.jaas.config: user=\"u\" password=\"hunter2\"\n      ssl.key.pem: hunter2\n      client.id: kept\n", 1)
	withSecret = strings.Replace(withSecret, "  bootstrapServers: localhost:9092\n",
		"  bootstrapServers: localhost:9092\n  authentication:\n    type: scram-sha-512\n    username: kept-user\n    passwordFile: /kept/file\n", 1)
	b, err := spec.Parse(spec.File{Name: "a.yaml", Data: []byte(withSecret)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(resources(b.Apps[0]))
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	if strings.Contains(got, "hunter2") || strings.Count(got, "redacted") != 3 {
		t.Fatalf("redacted resources:\n%s", got)
	}
	for _, kept := range []string{`"client.id":"kept"`, `"username":"kept-user"`, `"passwordFile":"/kept/file"`} {
		if !strings.Contains(got, kept) {
			t.Errorf("%s is not kept:\n%s", kept, got)
		}
	}
}
