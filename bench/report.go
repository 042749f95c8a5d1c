package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/weirstream/weir/spec"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as a table with notes on what it measured.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	if !slices.ContainsFunc(r.Results, func(res Result) bool { return res.Case != KindWeb }) && len(r.Results) > 0 {
		// Only web cases: their own table.
		r.writeWeb(&b)
		_, err := io.WriteString(w, b.String())
		return err
	}
	mode := "input produced before each case starts"
	if r.Mode == "rate" {
		mode = fmt.Sprintf("input fed at %d records/s while each case runs", r.Rate)
	}
	fmt.Fprintf(&b, "weir bench: %d records of %d bytes, %d partitions, %s; broker %s; %d CPUs (GOMAXPROCS %d), load average %.2f at start\n\n",
		r.Records, r.RecordBytes, r.Partitions, mode, r.Broker, r.NumCPU, r.GOMAXPROCS, r.LoadAverage)
	fmt.Fprintf(&b, "%-12s %-10s %8s %8s %10s %9s %9s %9s %6s %8s\n",
		"case", "client", "records", "seconds", "records/s", "p50 ms", "p99 ms", "peak RSS", "cpu s", "vs pass")
	for _, res := range r.Results {
		if res.Case == KindWeb {
			continue // below
		}
		if res.Error != "" {
			fmt.Fprintf(&b, "%-12s %-10s failed: %s\n", res.Case, res.Client, res.Error)
			continue
		}
		ratio := "-"
		if res.Ratio > 0 {
			ratio = fmt.Sprintf("%.2fx", res.Ratio)
		}
		fmt.Fprintf(&b, "%-12s %-10s %8d %8.2f %10.0f %9s %9s %9s %6.2f %8s\n",
			res.Case, res.Client, res.Records, res.Seconds, res.RecordsPerSecond,
			ms(res.LatencyP50Ms), ms(res.LatencyP99Ms), mib(res.PeakRSSBytes), res.CPUSeconds, ratio)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "records/s: %s.\n", r.Throughput)
	for _, res := range r.Results {
		if res.Case == KindCount {
			fmt.Fprintf(&b, "count: a count per key (%d distinct keys) in a table, exactly-once; its outputs are the table's changelog records, one per input record (no latency: they carry no input timestamp).\n", CountKeys)
			break
		}
	}
	for _, res := range r.Results {
		if res.Case == KindReplay && res.Error == "" {
			fmt.Fprintf(&b, "replay/%s: a runtime on an empty data dir replayed the count case's changelog, %d records in %.2fs (from the first table partition listed by Runtime.Tables to all recovered): %.0f records/s; all recovered %.2fs after Start (group join included).\n",
				res.Client, res.Records, res.Seconds, res.RecordsPerSecond, res.ReadySeconds)
		}
	}
	fmt.Fprintf(&b, "latency: %s.\n", r.Latency)
	fmt.Fprintf(&b, "peak RSS, cpu s: %s.\n", r.PeakRSS)
	var refs []string
	for _, res := range r.Results {
		if res.RatioOf != "" && res.RatioOf != KindPassthrough+"/"+res.Client {
			refs = append(refs, fmt.Sprintf("%s/%s against %s", res.Case, res.Client, res.RatioOf))
		}
	}
	if r.Mode == "rate" {
		b.WriteString("vs pass: none with a rate: every case runs at the feed rate (run without --rate to compare throughput).\n")
	} else if len(refs) > 0 {
		fmt.Fprintf(&b, "vs pass: app and count throughput over the passthrough's of the same client; %s.\n", strings.Join(refs, ", "))
	} else {
		b.WriteString("vs pass: app and count throughput over the passthrough's of the same client.\n")
	}
	for _, res := range r.Results {
		if res.Case == KindCount && res.Client == spec.ClientFranz && res.Ratio > 0 {
			verdict := "met"
			if res.Ratio < r.CountTarget {
				verdict = "NOT met"
			}
			fmt.Fprintf(&b, "target: count/franz >= %.2fx passthrough: %s (%.2fx).\n", r.CountTarget, verdict, res.Ratio)
		}
	}
	for _, res := range r.Results {
		if res.Case == KindApp && res.Client == spec.ClientFranz && res.Ratio > 0 {
			verdict := "met"
			if res.Ratio < r.Target {
				verdict = "NOT met"
			}
			fmt.Fprintf(&b, "target: app/franz >= %.2fx passthrough: %s (%.2fx).\n", r.Target, verdict, res.Ratio)
		}
	}
	for _, res := range r.Results {
		if res.Profile != "" && res.Error == "" && res.Case != KindWeb {
			fmt.Fprintf(&b, "cpu profile of %s/%s: %s\n", res.Case, res.Client, res.Profile)
		}
	}
	if slices.ContainsFunc(r.Results, func(res Result) bool { return res.Case == KindWeb }) {
		b.WriteString("\n")
		r.writeWeb(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ms formats milliseconds; "-" for none.
func ms(v float64) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", v)
}

func mib(n int64) string {
	if n <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
