package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/weirstream/weir/internal/host"
	"github.com/weirstream/weir/spec"
	"github.com/weirstream/weir/webview/control"
)

// The control API: its flags and server in weir run and dev (apiFlags),
// and weir apps, its command-line client.

// apiFlags are run's and dev's control API flags, and the server they
// make.
type apiFlags struct {
	fs        *flag.FlagSet
	addr      string
	token     string
	tokenFile string

	logs *control.Logs
	srv  *control.Server
	err  error // of control.New, reported at start
}

func (a *apiFlags) register(fs *flag.FlagSet) {
	a.fs = fs
	fs.StringVar(&a.addr, "api-addr", envOr("WEIR_API_ADDR", control.DefaultAddr), `the control API's address, host:port ("off": none); beyond the loopback interface it needs a token (WEIR_API_ADDR)`)
	fs.StringVar(&a.token, "api-token", os.Getenv("WEIR_API_TOKEN"), "the bearer token every control API request must carry (WEIR_API_TOKEN; prefer --api-token-file)")
	fs.StringVar(&a.tokenFile, "api-token-file", os.Getenv("WEIR_API_TOKEN_FILE"), "a file holding the control API's bearer token (WEIR_API_TOKEN_FILE)")
}

func (a *apiFlags) on() bool { return a.addr != "off" }

// setUp checks the flags and, with the API on, returns a logger that also
// keeps each app's recent lines for the API.
func (a *apiFlags) setUp(log *slog.Logger) (*slog.Logger, error) {
	if !a.on() {
		return log, nil
	}
	tok, err := readToken(a.token, a.tokenFile)
	if err != nil {
		return nil, err
	}
	a.token = tok
	if err := control.CheckAddr(a.addr, a.token); err != nil {
		return nil, fmt.Errorf("--api-addr: %w", err)
	}
	a.logs = control.NewLogs(0)
	return slog.New(a.logs.Handler(log.Handler())), nil
}

// readToken is the token of --api-token or --api-token-file.
func readToken(token, file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(token), nil
	}
	if token != "" {
		return "", errors.New("give --api-token or --api-token-file, not both")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--api-token-file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("--api-token-file: %s is empty", file)
	}
	return tok, nil
}

// newHost is host.New, with the apps the control API kept in the data dir
// held, so that they start with the folders' apps.
func (a *apiFlags) newHost(opts host.Options, dataDir string) *host.Host {
	opts.AllowEmpty = a.on()
	h := host.New(opts)
	if a.on() {
		a.srv, a.err = control.New(h, control.Options{Addr: a.addr, Token: a.token, DataDir: dataDir, Logs: a.logs, Logger: opts.Logger})
	}
	return h
}

// start serves the control API; the host has started. Left to its
// default, an address in use only turns the API off, with a warning.
func (a *apiFlags) start(ctx context.Context, log *slog.Logger, dev bool, stdout io.Writer) error {
	if !a.on() {
		return nil
	}
	if a.err != nil {
		return a.err
	}
	err := a.srv.Start(ctx)
	if err != nil && errors.Is(err, syscall.EADDRINUSE) && !a.explicit() {
		log.Warn("the control API is off: its default address is in use; give --api-addr (port 0 takes a free one)", "addr", a.addr)
		a.srv = nil
		return nil
	}
	if err != nil {
		return err
	}
	if dev {
		fmt.Fprintf(stdout, "weir dev: control API at %s\n", a.srv.URL())
	}
	return nil
}

// explicit reports whether the address was given (flag or environment).
func (a *apiFlags) explicit() bool {
	set := os.Getenv("WEIR_API_ADDR") != ""
	a.fs.Visit(func(f *flag.Flag) { set = set || f.Name == "api-addr" })
	return set
}

// stop stops the control API; call it before the runtime stops.
func (a *apiFlags) stop(log *slog.Logger) {
	if a.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), webStopTimeout)
	defer cancel()
	if err := a.srv.Stop(ctx); err != nil {
		log.Warn("the control API stopped before its requests in flight finished", "error", err)
	}
}

// weir apps: the client.

const appsUsage = `Usage: weir apps COMMAND [flags] [ID]

Manages the apps of a running weir (weir run or dev) through its control API.

Commands:
  apply -f PATH...   create the app of the manifests in PATH (a file or folder), or update it
  list               list the apps: id, name, source, state, generation, created
  get ID             print an app: spec (secrets redacted), state, figures
  delete [--purge] ID
                     tear an app down; --purge also deletes its internal topics and local state
  logs [-f] ID       print an app's recent log lines; -f follows them

Flags of every command:
  --api-addr URL     the control API (WEIR_API_ADDR; default 127.0.0.1:8080)
  --api-token T      its bearer token (WEIR_API_TOKEN)
  --api-token-file F a file holding it (WEIR_API_TOKEN_FILE)
`

func runAppsCommand(args []string, stdout, stderr io.Writer) int {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	return runAppsCmd(ctx, args, stdout, stderr)
}

// appsClient talks to a control API.
type appsClient struct {
	base   string
	token  string
	http   *http.Client
	stdout io.Writer
	stderr io.Writer
}

func runAppsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := stderr
		if len(args) > 0 {
			w = stdout
		}
		fmt.Fprint(w, appsUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd := args[0]
	fs := flag.NewFlagSet("apps "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, appsUsage) }
	addr := fs.String("api-addr", envOr("WEIR_API_ADDR", control.DefaultAddr), "")
	token := fs.String("api-token", os.Getenv("WEIR_API_TOKEN"), "")
	tokenFile := fs.String("api-token-file", os.Getenv("WEIR_API_TOKEN_FILE"), "")
	var files multiFlag
	var purge, follow bool
	tailN := -1
	switch cmd {
	case "apply":
		fs.Var(&files, "f", "")
	case "delete":
		fs.BoolVar(&purge, "purge", false, "")
	case "logs":
		fs.BoolVar(&follow, "f", false, "")
		fs.BoolVar(&follow, "follow", false, "")
		fs.IntVar(&tailN, "tail", -1, "")
	case "list", "get":
	default:
		fmt.Fprintf(stderr, "weir apps: unknown command %q\n\n%s", cmd, appsUsage)
		return exitUsage
	}
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	wantArgs := map[string]int{"apply": 0, "list": 0, "get": 1, "delete": 1, "logs": 1}[cmd]
	if fs.NArg() != wantArgs || (cmd == "apply" && len(files) == 0) {
		fmt.Fprint(stderr, appsUsage)
		return exitUsage
	}
	tok, err := readToken(*token, *tokenFile)
	if err != nil {
		fmt.Fprintf(stderr, "weir apps: %v\n", err)
		return exitUsage
	}
	base, err := apiBase(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "weir apps: %v\n", err)
		return exitUsage
	}
	c := &appsClient{base: base, token: tok, http: &http.Client{}, stdout: stdout, stderr: stderr}
	switch cmd {
	case "apply":
		return c.apply(ctx, files)
	case "list":
		return c.list(ctx)
	case "get":
		return c.get(ctx, fs.Arg(0))
	case "delete":
		return c.delete(ctx, fs.Arg(0), purge)
	default:
		return c.logs(ctx, fs.Arg(0), follow, tailN)
	}
}

// multiFlag is a flag that may be given many times.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// apiBase is the URL of an --api-addr: host:port or a URL.
func apiBase(addr string) (string, error) {
	if addr == "off" {
		return "", errors.New("the control API address is off: give --api-addr")
	}
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		return strings.TrimSuffix(addr, "/"), nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("--api-addr %q: want host:port or a URL", addr)
	}
	return "http://" + addr, nil
}

// apiAnswer is an answer of the API, read whole.
type apiAnswer struct {
	status int
	body   []byte
}

// apiProblem is the API's error answer.
type apiProblem struct {
	Error  string `json:"error"`
	ID     string `json:"id"`
	Source string `json:"source"`
	Errors []struct {
		Text string `json:"text"`
	} `json:"errors"`
}

func (c *appsClient) request(ctx context.Context, method, path, contentType string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return c.http.Do(req)
}

func (c *appsClient) call(ctx context.Context, method, path, contentType string, body []byte) (apiAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, control.DefaultChangeTimeout+30*time.Second)
	defer cancel()
	resp, err := c.request(ctx, method, path, contentType, body)
	if err != nil {
		return apiAnswer{}, fmt.Errorf("the control API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return apiAnswer{}, err
	}
	return apiAnswer{resp.StatusCode, b}, nil
}

// failed prints an error answer (each spec error on its line, as validate
// prints them) and returns the exit code.
func (c *appsClient) failed(cmd string, a apiAnswer) int {
	var p apiProblem
	if json.Unmarshal(a.body, &p) != nil || p.Error == "" {
		fmt.Fprintf(c.stderr, "weir apps %s: %d %s\n", cmd, a.status, strings.TrimSpace(string(a.body)))
		return exitInvalid
	}
	if len(p.Errors) > 0 {
		for _, e := range p.Errors {
			fmt.Fprintln(c.stderr, e.Text)
		}
	}
	fmt.Fprintf(c.stderr, "weir apps %s: %s\n", cmd, p.Error)
	return exitInvalid
}

func (c *appsClient) apply(ctx context.Context, paths []string) int {
	files, err := spec.ReadFiles(paths...)
	if err != nil {
		printLoadErrors(c.stderr, err)
		return exitInvalid
	}
	type file struct {
		File    string `json:"file"`
		Content string `json:"content"`
	}
	var body struct {
		Manifests []file `json:"manifests"`
	}
	for _, f := range files {
		body.Manifests = append(body.Manifests, file{f.Name, string(f.Data)})
	}
	b, err := json.Marshal(body)
	if err != nil {
		fmt.Fprintf(c.stderr, "weir apps apply: %v\n", err)
		return exitInvalid
	}
	a, err := c.call(ctx, "POST", "/api/v1/apps", "application/json", b)
	if err != nil {
		fmt.Fprintf(c.stderr, "weir apps apply: %v\n", err)
		return exitInvalid
	}
	verb := "created"
	if a.status == http.StatusConflict {
		// It exists: update it, when it is the API's.
		var p apiProblem
		if json.Unmarshal(a.body, &p) == nil && p.ID != "" && p.Source == control.SourceAPI {
			verb = "updated"
			if a, err = c.call(ctx, "PUT", "/api/v1/apps/"+p.ID, "application/json", b); err != nil {
				fmt.Fprintf(c.stderr, "weir apps apply: %v\n", err)
				return exitInvalid
			}
		}
	}
	if a.status != http.StatusCreated && a.status != http.StatusOK {
		return c.failed("apply", a)
	}
	var app struct {
		ID         string `json:"id"`
		State      string `json:"state"`
		Generation int64  `json:"generation"`
	}
	_ = json.Unmarshal(a.body, &app)
	fmt.Fprintf(c.stdout, "%s app %s (generation %d, %s)\n", verb, app.ID, app.Generation, app.State)
	return exitOK
}

func (c *appsClient) list(ctx context.Context) int {
	a, err := c.call(ctx, "GET", "/api/v1/apps", "", nil)
	if err != nil {
		fmt.Fprintf(c.stderr, "weir apps list: %v\n", err)
		return exitInvalid
	}
	if a.status != http.StatusOK {
		return c.failed("list", a)
	}
	var out struct {
		Apps []struct {
			ID         string    `json:"id"`
			Name       string    `json:"name"`
			Source     string    `json:"source"`
			State      string    `json:"state"`
			Generation int64     `json:"generation"`
			Created    time.Time `json:"created"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil {
		fmt.Fprintf(c.stderr, "weir apps list: %v\n", err)
		return exitInvalid
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSOURCE\tSTATE\tGENERATION\tCREATED")
	for _, ap := range out.Apps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", ap.ID, ap.Name, ap.Source, ap.State, ap.Generation, ap.Created.Format(time.RFC3339))
	}
	_ = tw.Flush()
	return exitOK
}

func (c *appsClient) get(ctx context.Context, id string) int {
	a, err := c.call(ctx, "GET", "/api/v1/apps/"+id, "", nil)
	if err != nil {
		fmt.Fprintf(c.stderr, "weir apps get: %v\n", err)
		return exitInvalid
	}
	if a.status != http.StatusOK {
		return c.failed("get", a)
	}
	_, _ = c.stdout.Write(a.body)
	return exitOK
}

func (c *appsClient) delete(ctx context.Context, id string, purge bool) int {
	path := "/api/v1/apps/" + id
	if purge {
		path += "?purge=true"
	}
	a, err := c.call(ctx, "DELETE", path, "", nil)
	if err != nil {
		fmt.Fprintf(c.stderr, "weir apps delete: %v\n", err)
		return exitInvalid
	}
	if a.status != http.StatusOK {
		return c.failed("delete", a)
	}
	var out struct {
		Topics []string `json:"deletedTopics"`
		State  bool     `json:"deletedState"`
		Errors []string `json:"purgeErrors"`
	}
	_ = json.Unmarshal(a.body, &out)
	fmt.Fprintf(c.stdout, "deleted app %s\n", id)
	if len(out.Topics) > 0 {
		fmt.Fprintf(c.stdout, "deleted topics %s\n", strings.Join(out.Topics, ", "))
	}
	if out.State {
		fmt.Fprintln(c.stdout, "deleted its local table state")
	}
	for _, e := range out.Errors {
		fmt.Fprintf(c.stderr, "weir apps delete: purge: %s\n", e)
	}
	if len(out.Errors) > 0 {
		return exitInvalid
	}
	return exitOK
}

func (c *appsClient) logs(ctx context.Context, id string, follow bool, tailN int) int {
	path := "/api/v1/apps/" + id + "/logs"
	q := []string{}
	if follow {
		q = append(q, "follow=true")
	}
	if tailN >= 0 {
		q = append(q, fmt.Sprintf("tail=%d", tailN))
	}
	if len(q) > 0 {
		path += "?" + strings.Join(q, "&")
	}
	if !follow {
		a, err := c.call(ctx, "GET", path, "", nil)
		if err != nil {
			fmt.Fprintf(c.stderr, "weir apps logs: %v\n", err)
			return exitInvalid
		}
		if a.status != http.StatusOK {
			return c.failed("logs", a)
		}
		_, _ = c.stdout.Write(a.body)
		return exitOK
	}
	resp, err := c.request(ctx, "GET", path, "", nil)
	if err != nil {
		if ctx.Err() != nil {
			return exitOK
		}
		fmt.Fprintf(c.stderr, "weir apps logs: %v\n", err)
		return exitInvalid
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return c.failed("logs", apiAnswer{resp.StatusCode, b})
	}
	// Server-Sent Events: print each event's data; an end or overflow
	// event says why the stream ends.
	r := bufio.NewReader(resp.Body)
	event := ""
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if ctx.Err() != nil {
				return exitOK
			}
			fmt.Fprintf(c.stderr, "weir apps logs: the stream ended: %v\n", err)
			return exitInvalid
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			if event == "" {
				fmt.Fprintln(c.stdout, line[len("data: "):])
			} else {
				fmt.Fprintf(c.stderr, "weir apps logs: %s\n", line[len("data: "):])
			}
		case line == "" && event != "":
			if event == "overflow" {
				return exitInvalid
			}
			return exitOK
		}
	}
}
