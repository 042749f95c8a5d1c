package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	// Time zones of cron schedules are checked and run anywhere, also in
	// images without a zoneinfo database.
	_ "time/tzdata"
)

// command is one subcommand of weir.
type command struct {
	name    string
	args    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = []command{
	{"validate", "[--format text|json] PATH...", "check manifests: schema, references and code blocks", runValidate},
	{"run", "[flags] PATH...", "run the apps in PATH on their Kafka", runRun},
	{"dev", "[flags] PATH...", "run the apps in PATH on an embedded broker (no Kafka needed)", runDev},
	{"produce", "[flags] TOPIC", "send records, from flags or one per input line", runProduce},
	{"consume", "[flags] TOPIC...", "print the committed records of topics", runConsume},
	{"apps", "COMMAND [flags] [ID]", "manage the apps of a running weir over its control API", runAppsCommand},
	{"bench", "[flags]", "measure throughput, latency and memory on an embedded broker", runBench},
	{"schema", "[KIND]", "print the JSON Schema of a kind, or of any manifest", runSchema},
	{"crds", "[--out DIR]", "print or write the Kubernetes CRDs of the kinds", runCRDs},
	{"version", "", "print weir's version", runVersion},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK      = 0
	exitInvalid = 1 // the input is wrong: invalid manifests
	exitUsage   = 2 // the command line is wrong
)

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	case "-version", "--version":
		return runVersion(nil, stdout, stderr)
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "weir: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("weir runs stream-processing apps written as Kaspr manifests.\n\nUsage:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  weir %-9s %-30s %s\n", c.name, c.args, c.summary)
	}
	b.WriteString("\nRun 'weir COMMAND -h' for a command's flags.\n")
	io.WriteString(w, b.String())
}
