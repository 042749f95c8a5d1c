package webview

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/weirstream/weir/engine"
)

// webCase is one case of a cases file: a request and the answer expected.
type webCase struct {
	line   int // where the case starts
	method string
	target string
	header http.Header
	body   string

	status     int
	wantHeader http.Header
	wantBody   string
}

// readCases reads a cases file (see testdata/selectors.txt).
func readCases(t *testing.T, path string) []webCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []webCase
	var lines []string
	start, n := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		if line != "====" {
			if len(lines) == 0 && (line == "" || strings.HasPrefix(line, "#")) {
				continue
			}
			if len(lines) == 0 {
				start = n
			}
			lines = append(lines, line)
			continue
		}
		cases = append(cases, parseCase(t, path, start, lines))
		lines = nil
	}
	if len(lines) > 0 {
		t.Fatalf("%s:%d: a case without its closing ====", path, start)
	}
	return cases
}

func parseCase(t *testing.T, path string, start int, lines []string) webCase {
	t.Helper()
	c := webCase{line: start, header: http.Header{}, wantHeader: http.Header{}}
	sep := -1
	for i, l := range lines {
		if l == "----" {
			sep = i
		}
	}
	if sep < 1 {
		t.Fatalf("%s:%d: a case needs a request, ---- and an answer", path, start)
	}
	method, target, ok := strings.Cut(lines[0], " ")
	if !ok {
		t.Fatalf("%s:%d: want METHOD TARGET, not %q", path, start, lines[0])
	}
	c.method, c.target = method, target
	c.body = headersAndBody(t, path, start, lines[1:sep], c.header)
	status, err := strconv.Atoi(lines[sep+1])
	if err != nil {
		t.Fatalf("%s:%d: want a status after ----, not %q", path, start, lines[sep+1])
	}
	c.status = status
	c.wantBody = headersAndBody(t, path, start, lines[sep+2:], c.wantHeader)
	return c
}

// headersAndBody reads "Name: value" lines into h until a blank line, and
// returns what follows.
func headersAndBody(t *testing.T, path string, start int, lines []string, h http.Header) string {
	for i, l := range lines {
		if l == "" {
			return strings.Join(lines[i+1:], "\n")
		}
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			t.Fatalf("%s:%d: want a header line, not %q", path, start, l)
		}
		h.Add(k, v)
	}
	return ""
}

// sameBody compares bodies as JSON when both parse, else as text.
func sameBody(got, want string) bool {
	var g, w any
	if json.Unmarshal([]byte(got), &g) == nil && json.Unmarshal([]byte(want), &w) == nil {
		return reflect.DeepEqual(g, w)
	}
	return strings.TrimSpace(got) == strings.TrimSpace(want)
}

// TestSelectors runs the cases of testdata/selectors.txt against the web
// views of testdata/selectors: the request object, path parameters,
// selectors on success and on error, content types and weir's own
// answers. Those views read no table and send nothing: no broker.
func TestSelectors(t *testing.T) {
	p := compile(t, load(t, "testdata/selectors"), nil, "")
	rt := engine.NewRuntime(p, engine.RuntimeOptions{Logger: testLogger(t)})
	s := startServer(t, rt, p.Apps[0], Options{})
	const file = "testdata/selectors.txt"
	for _, c := range readCases(t, file) {
		got := do(t, c.method, s.root()+c.target, c.header, []byte(c.body))
		where := file + ":" + strconv.Itoa(c.line) + ": " + c.method + " " + c.target
		if got.status != c.status {
			t.Errorf("%s: status %d, want %d (body %s)", where, got.status, c.status, got.body)
		}
		for k, vs := range c.wantHeader {
			if g := got.header.Get(k); g != vs[0] {
				t.Errorf("%s: header %s %q, want %q", where, k, g, vs[0])
			}
		}
		if !sameBody(string(got.body), c.wantBody) {
			t.Errorf("%s: body\n%s\nwant\n%s", where, got.body, c.wantBody)
		}
	}
}
