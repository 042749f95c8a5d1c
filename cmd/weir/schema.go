package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/weirstream/weir/schemas"
)

// shortNames are the kinds' kubectl short names, accepted wherever a kind is.
var shortNames = map[string]string{
	"kapp": "KasprApp", "kagent": "KasprAgent", "ktable": "KasprTable",
	"kwebview": "KasprWebView", "ktask": "KasprTask", "kjoin": "KasprJoin",
}

// kindOf reads a kind as a user types it: KasprAgent, kaspragent,
// kaspragents or kagent.
func kindOf(s string) (string, bool) {
	if k, ok := shortNames[strings.ToLower(s)]; ok {
		return k, true
	}
	for _, k := range schemas.Kinds {
		l := strings.ToLower(s)
		if l == strings.ToLower(k) || l == strings.ToLower(k)+"s" {
			return k, true
		}
	}
	return "", false
}

func runSchema(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("schema", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: weir schema [KIND]")
		fmt.Fprintln(stderr, "\nPrints the JSON Schema (draft 2020-12) of KIND, or with no KIND one schema that")
		fmt.Fprintln(stderr, "covers every kind, for editors. KIND is a kind (KasprAgent) or a short name (kagent).")
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	var (
		out []byte
		err error
	)
	switch fs.NArg() {
	case 0:
		out, err = schemas.BundleAll()
	case 1:
		k, ok := kindOf(fs.Arg(0))
		if !ok {
			fmt.Fprintf(stderr, "weir schema: unknown kind %q (one of %s)\n", fs.Arg(0), strings.Join(schemas.Kinds, ", "))
			return exitUsage
		}
		out, err = schemas.Bundle(k)
	default:
		fs.Usage()
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "weir schema: %v\n", err)
		return exitInvalid
	}
	stdout.Write(out)
	return exitOK
}

func runCRDs(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("crds", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outDir := fs.String("out", "", "write one file per kind, <plural>.yaml, into this folder instead of printing")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: weir crds [--out DIR]")
		fmt.Fprintln(stderr, "\nPrints the Kubernetes CustomResourceDefinitions of the kinds (group kaspr.io,")
		fmt.Fprintln(stderr, "version v1alpha1), generated from the JSON Schemas.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	if *outDir == "" {
		out, err := schemas.CRDs()
		if err != nil {
			fmt.Fprintf(stderr, "weir crds: %v\n", err)
			return exitInvalid
		}
		stdout.Write(out)
		return exitOK
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		fmt.Fprintf(stderr, "weir crds: %v\n", err)
		return exitInvalid
	}
	for _, k := range schemas.Kinds {
		out, err := schemas.CRD(k)
		if err == nil {
			err = os.WriteFile(filepath.Join(*outDir, strings.ToLower(k)+"s.yaml"), out, 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "weir crds: %s: %v\n", k, err)
			return exitInvalid
		}
	}
	return exitOK
}
