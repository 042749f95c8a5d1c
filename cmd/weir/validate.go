package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/spec"
)

func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "output format: text (errors on stderr) or json (a report on stdout)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: weir validate [--format text|json] PATH...")
		fmt.Fprintln(stderr, "\nChecks the manifests in the given files and folders and reports every problem")
		fmt.Fprintln(stderr, "as file:line:column. Exits 0 when they are valid, 1 when they are not.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "weir validate: --format must be text or json, not %q\n", *format)
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	bundle, err := spec.Load(fs.Args()...)
	if err == nil {
		// The same path as a start or a reload: code blocks are compiled
		// and the plan is made, files the manifests name included. Only the
		// SASL password is taken as given: it is a secret of the runtime.
		_, err = engine.Compile(bundle, engine.Options{Env: func(k string) string {
			if v := os.Getenv(k); v != "" || k != engine.PasswordEnv {
				return v
			}
			return "(given at run time)"
		}})
	}
	if err == nil && len(bundle.Apps) == 0 {
		err = spec.Errors{{Pos: spec.Pos{File: strings.Join(fs.Args(), ", ")}, Message: "no manifests found (weir reads *.yaml and *.yml files)"}}
	}
	var errs spec.Errors
	if err != nil && !errors.As(err, &errs) {
		fmt.Fprintf(stderr, "weir validate: %v\n", err)
		return exitInvalid
	}
	if *format == "json" {
		report := validateReport{Valid: err == nil, Errors: errs}
		if report.Errors == nil {
			report.Errors = spec.Errors{}
		}
		if bundle != nil {
			report.Apps = summarize(bundle)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(report)
	} else if err != nil {
		for _, e := range errs {
			fmt.Fprintln(stderr, e)
		}
		fmt.Fprintf(stderr, "%d %s\n", len(errs), plural(len(errs), "error", "errors"))
	} else {
		for _, a := range summarize(bundle) {
			fmt.Fprintf(stdout, "ok: app %s: %s\n", a.Name, a.describe())
		}
	}
	if err != nil {
		return exitInvalid
	}
	return exitOK
}

type validateReport struct {
	Valid  bool         `json:"valid"`
	Errors spec.Errors  `json:"errors"`
	Apps   []appSummary `json:"apps,omitempty"`
}

type appSummary struct {
	Name     string `json:"name"`
	Agents   int    `json:"agents"`
	Tables   int    `json:"tables"`
	WebViews int    `json:"webViews"`
	Tasks    int    `json:"tasks"`
	Joins    int    `json:"joins"`
}

func summarize(b *spec.Bundle) []appSummary {
	out := make([]appSummary, len(b.Apps))
	for i, a := range b.Apps {
		out[i] = appSummary{a.Name(), len(a.Agents), len(a.Tables), len(a.WebViews), len(a.Tasks), len(a.Joins)}
	}
	return out
}

func (a appSummary) describe() string {
	parts := []string{
		fmt.Sprintf("%d %s", a.Agents, plural(a.Agents, "agent", "agents")),
		fmt.Sprintf("%d %s", a.Tables, plural(a.Tables, "table", "tables")),
		fmt.Sprintf("%d %s", a.WebViews, plural(a.WebViews, "web view", "web views")),
		fmt.Sprintf("%d %s", a.Tasks, plural(a.Tasks, "task", "tasks")),
		fmt.Sprintf("%d %s", a.Joins, plural(a.Joins, "join", "joins")),
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
