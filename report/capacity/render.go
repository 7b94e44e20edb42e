package capacity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcpload/mcpload/record"
)

// Plot is the latency-versus-rate plot of a capacity folder, paths
// relative to it; zero when none was drawn.
type Plot struct {
	PNG, SVG, Caption string
}

// Write writes c into the capacity folder dir: capacity.json, report.md
// and report.html.
func Write(dir string, c *record.Capacity, p Plot) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("capacity.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, record.CapacityFile), b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write capacity.json: %w", err)
	}
	b.Reset()
	if err := WriteMarkdown(&b, c, p); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write report.md: %w", err)
	}
	b.Reset()
	if err := WriteHTML(&b, c, p); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.html"), b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write report.html: %w", err)
	}
	return nil
}

// Read reads capacity.json from dir.
func Read(dir string) (*record.Capacity, error) {
	b, err := record.ReadRegular(filepath.Join(dir, record.CapacityFile), record.MaxDocumentBytes)
	if err != nil {
		return nil, fmt.Errorf("read capacity: %w", err)
	}
	var c record.Capacity
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("read capacity: %w", err)
	}
	return &c, nil
}

// Headline is the one-line answer: the rate with its interval.
func Headline(c *record.Capacity) string {
	switch c.Status {
	case "none":
		return fmt.Sprintf("no capacity: even %.4g/s failed the SLO", c.Bracket[1])
	case "limited":
		return fmt.Sprintf("at least %.4g/s: the highest rate probed (--max-rate) met the SLO", c.Rate)
	case "incomplete":
		return fmt.Sprintf("incomplete: %.4g/s met the SLO, bracket [%.4g, %.4g]/s not narrowed to the tolerance", c.Rate, c.Bracket[0], c.Bracket[1])
	}
	return fmt.Sprintf("%.4g/s (interval [%.4g, %.4g]/s, %.0f%% confidence; bracket [%.4g, %.4g]/s)",
		c.Rate, c.Interval[0], c.Interval[1], 100*c.Confidence, c.Bracket[0], c.Bracket[1])
}

// rows are the figures at the capacity, label and value.
func rows(c *record.Capacity) [][2]string {
	r := [][2]string{{"capacity", Headline(c)}}
	if a := c.At; a != nil {
		r = append(r,
			[2]string{"concurrency needed (Little's law)", fmt.Sprintf("%.1f (measured in flight %.1f, %s)", a.Concurrency, a.MeasuredInFlight, littleCheck(a))},
			[2]string{"goodput", fmt.Sprintf("%.4g ok conversations/s", a.GoodputPerS)},
			[2]string{"tokens", fmt.Sprintf("%.4g tokens/s", a.TokensPerS)})
		if a.MonthlyCostUSD != nil {
			r = append(r, [2]string{"monthly cost at this rate", fmt.Sprintf("$%.2f (30 days, $%.6f per conversation)", *a.MonthlyCostUSD, *a.CostPerConversationUSD)})
		}
	}
	r = append(r, [2]string{"SLO", strings.Join(c.SLO, "; ")},
		[2]string{"probes", fmt.Sprintf("%d in %.0fs (tolerance %.3g, %d repeats at each end)", len(c.Probes), c.ElapsedS, c.Tolerance, c.Repeats)})
	return r
}

// verdict is a probe's verdict in words.
func verdict(p record.CapacityProbe) string {
	switch {
	case p.Pass:
		return "pass"
	case p.Saturated:
		return "saturated"
	}
	return "fail"
}

// WriteMarkdown writes the capacity folder's report.md.
func WriteMarkdown(w io.Writer, c *record.Capacity, p Plot) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Capacity: %s\n\n", c.Scenario)
	for _, g := range c.Gates {
		if !g.Pass {
			b.WriteString("**FAIL**: a capacity gate failed.\n\n")
			break
		}
	}
	for _, w := range c.Warnings {
		fmt.Fprintf(&b, "> **Warning (harness):** %s\n\n", w)
	}
	b.WriteString("| | |\n| --- | --- |\n")
	for _, r := range rows(c) {
		fmt.Fprintf(&b, "| %s | %s |\n", r[0], strings.ReplaceAll(r[1], "|", `\|`))
	}
	if len(c.Gates) > 0 {
		b.WriteString("\n## Gates\n\n")
		for _, g := range c.Gates {
			mark, got := "✓", fmt.Sprintf("measured %.4g", g.Measured)
			if !g.Pass {
				mark = "✗"
			}
			if g.Note != "" {
				got = g.Note
			}
			fmt.Fprintf(&b, "- %s `%s` %s\n", mark, g.Expr, got)
		}
	}
	if p.PNG != "" {
		fmt.Fprintf(&b, "\n![Latency versus arrival rate](%s)\n\n%s\n", p.PNG, p.Caption)
	}
	b.WriteString("\n## Probes\n\n| # | rate/s | verdict | p50 ms | p99 ms | achieved/s | in flight | lag s | folder | why |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for i, pr := range c.Probes {
		fmt.Fprintf(&b, "| %d | %.4g | %s | %.1f | %.1f | %.4g | %.1f | %.2f | %s | %s |\n", i+1, pr.Rate, verdict(pr), pr.P50MS, pr.P99MS, pr.Achieved, pr.MeanInFlight, pr.LagS, pr.Dir, strings.ReplaceAll(pr.Reason, "|", `\|`))
	}
	b.WriteString("\nEach probe is a run folder of its own, with its own report. See docs/capacity.md for the method.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

var page = template.Must(template.New("capacity").Funcs(template.FuncMap{"verdict": verdict, "inc": func(i int) int { return i + 1 }}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Capacity: {{.C.Scenario}}</title>
<style>body{font-family:"Liberation Sans",Arial,sans-serif;max-width:960px;margin:2em auto;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
.fail{color:#D55E00;font-weight:bold}.pass{color:#009E73}.saturated{color:#888}
.warning{background:#fff3cd;border:1px solid #e0c36c;padding:6px 10px}</style></head><body>
<h1>Capacity: {{.C.Scenario}}</h1>
{{if .Failed}}<p class="fail">FAIL: a capacity gate failed.</p>{{end}}
{{range .C.Warnings}}<p class="warning" role="alert"><strong>Warning (harness):</strong> {{.}}</p>{{end}}
<section id="capacity"><table>{{range .Rows}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
{{if .C.Gates}}<h2>Gates</h2><ul>{{range .C.Gates}}<li class="{{if .Pass}}pass{{else}}fail{{end}}">{{if .Pass}}✓{{else}}✗{{end}} <code>{{.Expr}}</code> {{if .Note}}{{.Note}}{{else}}measured {{printf "%.4g" .Measured}}{{end}}</li>{{end}}</ul>{{end}}
{{if .P.SVG}}<figure><img src="{{.P.SVG}}" alt="Latency versus arrival rate" width="900"><figcaption>{{.P.Caption}}</figcaption></figure>{{end}}
<h2>Probes</h2><table><tr><th>#</th><th>rate/s</th><th>verdict</th><th>p50 ms</th><th>p99 ms</th><th>achieved/s</th><th>in flight</th><th>lag s</th><th>folder</th><th>why</th></tr>
{{range $i, $p := .C.Probes}}<tr><td>{{inc $i}}</td><td>{{printf "%.4g" $p.Rate}}</td><td class="{{verdict $p}}">{{verdict $p}}</td><td>{{printf "%.1f" $p.P50MS}}</td><td>{{printf "%.1f" $p.P99MS}}</td><td>{{printf "%.4g" $p.Achieved}}</td><td>{{printf "%.1f" $p.MeanInFlight}}</td><td>{{printf "%.2f" $p.LagS}}</td><td><a href="{{$p.Dir}}/report.html">{{$p.Dir}}</a></td><td>{{$p.Reason}}</td></tr>
{{end}}</table></section></body></html>
`))

// WriteHTML writes the capacity folder's report.html: the same section as
// report.md, with the plot, and links to each probe's own report.
func WriteHTML(w io.Writer, c *record.Capacity, p Plot) error {
	failed := false
	for _, g := range c.Gates {
		failed = failed || !g.Pass
	}
	return page.Execute(w, struct {
		C      *record.Capacity
		P      Plot
		Rows   [][2]string
		Failed bool
	}{c, p, rows(c), failed})
}

// littleCheck compares Little's law with the in flight the probes
// measured: they agree on a steady probe with enough samples.
func littleCheck(a *record.CapacityAt) string {
	if a.Concurrency <= 0 {
		return "nothing to check"
	}
	gap := math.Abs(a.MeasuredInFlight-a.Concurrency) / a.Concurrency
	if gap <= 0.25 {
		return fmt.Sprintf("within %.0f%%", 100*gap)
	}
	return fmt.Sprintf("off by %.0f%%: too few samples, or a load that was not steady", 100*gap)
}
