package compare

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/claims"
	"github.com/mcpload/mcpload/report/confidence"
	"github.com/mcpload/mcpload/report/markdown"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/report/summary"
)

// RunComparisonSchema identifies the version of `mcpload compare
// --format json`'s layout.
const RunComparisonSchema = "mcpload.compare/v1"

// Regression verdicts of a judged row.
const (
	VerdictRegression  = "regression"
	VerdictImprovement = "improvement"
	VerdictNoise       = "within_noise"
)

// RegressionOptions say how large a change must be to count.
type RegressionOptions struct {
	// Tolerance is the relative change a latency or the cost per
	// successful conversation may make and still count as noise: 0.10
	// lets a p99 rise by 10%.
	Tolerance float64
	// RateTolerance is the drop in success rate, in percentage points,
	// that counts as noise even when the two runs' intervals part.
	RateTolerance float64
}

// DefaultRegressionOptions are `mcpload compare`'s defaults.
var DefaultRegressionOptions = RegressionOptions{Tolerance: 0.10, RateTolerance: 0.5}

// RunComparison sets two runs side by side: the main figures with their
// changes, and a verdict on each figure that can regress.
type RunComparison struct {
	Schema string `json:"schema"`
	Base   RunRef `json:"base"`
	New    RunRef `json:"new"`
	// TolerancePercent and RateTolerancePoints are the options the
	// verdicts used.
	TolerancePercent    float64 `json:"tolerance_percent"`
	RateTolerancePoints float64 `json:"rate_tolerance_points"`
	Rows                []Row   `json:"rows"`
	// Regressions and Improvements name the rows with those verdicts.
	Regressions  []string `json:"regressions"`
	Improvements []string `json:"improvements"`
	Notes        []string `json:"notes,omitempty"`
}

// RunRef names one side of a comparison.
type RunRef struct {
	Dir       string  `json:"dir"`
	Scenario  string  `json:"scenario"`
	Seed      int64   `json:"seed"`
	Status    string  `json:"status"`
	DurationS float64 `json:"duration_s"`
}

// Row is one figure of both runs.
type Row struct {
	Metric string `json:"metric"`
	// Unit is ms, %, /s, USD, or empty for counts and ratios.
	Unit string `json:"unit"`
	// Base and New are null when a run has no value (no ok conversation
	// for a latency, no cost section).
	Base *float64 `json:"base"`
	New  *float64 `json:"new"`
	// Delta is New − Base; DeltaPercent is the change relative to Base,
	// null when Base is 0.
	Delta        *float64 `json:"delta"`
	DeltaPercent *float64 `json:"delta_percent"`
	// Ratio is the 95% bootstrap interval of New/Base for latencies.
	Ratio *confidence.Interval `json:"ratio,omitempty"`
	// BaseInterval and NewInterval are each run's Wilson 95% interval,
	// for the success rate, in percent.
	BaseInterval *confidence.Interval `json:"base_interval,omitempty"`
	NewInterval  *confidence.Interval `json:"new_interval,omitempty"`
	// Verdict is regression, improvement or within_noise for the figures
	// that are judged, and empty for the others.
	Verdict string `json:"verdict,omitempty"`
	// Note says why a judged figure has no verdict.
	Note string `json:"note,omitempty"`
}

// RunFolder checks that dir is a run folder, and says what it is
// otherwise: a missing folder, a policy comparison (whose runs are its
// sub-folders), or something else.
func RunFolder(dir string) error {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: no such folder", dir)
	case err != nil:
		return err
	case !info.IsDir():
		return fmt.Errorf("%s is a file, not a run folder", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, record.RunFile)); err == nil {
		return nil
	}
	if b, err := record.ReadRegular(filepath.Join(dir, "comparison.json"), record.MaxDocumentBytes); err == nil {
		var c Comparison
		if json.Unmarshal(b, &c) == nil && len(c.Policies) > 0 {
			names := make([]string, len(c.Policies))
			for i, p := range c.Policies {
				names[i] = p.Name
			}
			return fmt.Errorf("%s is a policy comparison, not a run: compare one policy's run, such as %s (policies: %s)",
				dir, filepath.Join(dir, names[0]), strings.Join(names, ", "))
		}
	}
	return fmt.Errorf("%s is not a run folder: it has no %s", dir, record.RunFile)
}

// Runs reads the run folders base and next and compares next with
// base. Percentiles are judged on the 95% bootstrap interval of their
// ratio, so that a run's noise does not read as a change: a latency
// regressed when the whole interval lies above 1 + Tolerance.
func Runs(base, next string, o RegressionOptions) (*RunComparison, error) {
	bs, bh, err := summary.Summarize(base)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", base, err)
	}
	ns, nh, err := summary.Summarize(next)
	if err != nil {
		return nil, fmt.Errorf("new %s: %w", next, err)
	}
	c := compareSummaries(bs, bh, ns, nh, o)
	c.Base.Dir, c.New.Dir = base, next
	c.Notes = append(c.Notes, folderNotes("base", base, bs)...)
	c.Notes = append(c.Notes, folderNotes("new", next, ns)...)
	return c, nil
}

// folderNotes says when a run folder is still being written, or had damage
// that its summary skipped.
func folderNotes(side, dir string, s *summary.Summary) []string {
	var notes []string
	if h, ok := record.Writing(dir); ok {
		notes = append(notes, fmt.Sprintf("the %s run %s is still being written (%s): its figures are of the run so far", side, dir, h))
	}
	if s.Damaged != nil {
		notes = append(notes, fmt.Sprintf("the %s run %s is damaged: skipped %s", side, dir, s.Damaged))
	}
	return notes
}

// compareSummaries builds the comparison of two summaries and their
// histograms.
func compareSummaries(bs *summary.Summary, bh runfolder.Histograms, ns *summary.Summary, nh runfolder.Histograms, o RegressionOptions) *RunComparison {
	ref := func(s *summary.Summary) RunRef {
		return RunRef{Scenario: s.Scenario, Seed: s.Seed, Status: s.Status, DurationS: s.DurationS}
	}
	c := &RunComparison{
		Schema: RunComparisonSchema, Base: ref(bs), New: ref(ns),
		TolerancePercent: summary.Round3(100 * o.Tolerance), RateTolerancePoints: o.RateTolerance,
		Regressions: []string{}, Improvements: []string{},
	}
	if bs.Scenario != ns.Scenario {
		c.Notes = append(c.Notes, fmt.Sprintf("the runs are of different scenarios (%s and %s)", bs.Scenario, ns.Scenario))
	}
	for _, s := range []*summary.Summary{bs, ns} {
		if s.Status != record.StatusComplete {
			c.Notes = append(c.Notes, fmt.Sprintf("the %s run is %s: its figures cover a partial run", s.Scenario, s.Status))
		}
	}
	seed := uint64(bs.Seed)*0x9e3779b97f4a7c15 ^ uint64(ns.Seed)
	unit := "conversation"
	if bs.Kind == "mcp_direct" {
		unit = "operation"
	}
	add := func(r Row) { c.Rows = append(c.Rows, r) }
	bc, nc := bs.Conversations, ns.Conversations

	add(rateRow("success rate", bc, nc, o))
	add(valueRow("ok "+unit+"s", "", num(float64(bc.OK)), num(float64(nc.OK))))
	add(valueRow("failed "+unit+"s", "", num(float64(bc.Failed)), num(float64(nc.Failed))))
	add(valueRow("dropped "+unit+"s", "", num(float64(bc.Dropped)), num(float64(nc.Dropped))))
	add(valueRow("rate achieved", "/s", num(bs.Rate.Achieved), num(ns.Rate.Achieved)))

	for _, st := range []string{"p50", "p90", "p99", "p999", "mean"} {
		add(latencyCompareRow(unit+" "+statLabel(st), st, bs.LatencyMS.Conversation, ns.LatencyMS.Conversation,
			bh[record.LevelConversation], nh[record.LevelConversation], seed, o))
	}
	for _, key := range slices.Sorted(maps.Keys(bs.LatencyMS.Step)) {
		nst := ns.LatencyMS.Step[key]
		if nst == nil {
			continue
		}
		tag := record.Tag(record.LevelStep, key)
		for _, st := range []string{"p50", "p99"} {
			add(latencyCompareRow("step "+key+" "+statLabel(st), st, bs.LatencyMS.Step[key], nst, bh[tag], nh[tag], seed, o))
		}
	}
	if missing := onlyIn(bs.LatencyMS.Step, ns.LatencyMS.Step); len(missing) > 0 {
		c.Notes = append(c.Notes, "steps in one run only, not compared: "+strings.Join(missing, ", "))
	}

	add(valueRow("retry amplification", "", num(bs.Attempts.Amplification), num(ns.Attempts.Amplification)))
	add(valueRow("attempts", "", num(float64(bs.Attempts.Total)), num(float64(ns.Attempts.Total))))
	add(valueRow("retries", "", num(float64(bs.Attempts.Retries)), num(float64(ns.Attempts.Retries))))
	add(valueRow("fallbacks", "", num(float64(bs.Attempts.Fallbacks)), num(float64(ns.Attempts.Fallbacks))))

	add(valueRow("cost per "+unit, "USD", costPer(bs, bc.Started), costPer(ns, nc.Started)))
	add(costRow("cost per successful "+unit, costPer(bs, bc.OK), costPer(ns, nc.OK), o))
	add(valueRow("tokens per "+unit, "", tokensPer(bs), tokensPer(ns)))
	if bs.Cost != nil && ns.Cost != nil && bs.Cost.Catalog != ns.Cost.Catalog {
		c.Notes = append(c.Notes, fmt.Sprintf("the runs are priced on different catalogs (%s and %s)", bs.Cost.Catalog, ns.Cost.Catalog))
	}

	for _, r := range c.Rows {
		switch r.Verdict {
		case VerdictRegression:
			c.Regressions = append(c.Regressions, r.Metric)
		case VerdictImprovement:
			c.Improvements = append(c.Improvements, r.Metric)
		}
	}
	return c
}

func num(v float64) *float64 { return &v }

// statLabel writes p999 as p99.9.
func statLabel(st string) string {
	if st == "p999" {
		return "p99.9"
	}
	return st
}

func onlyIn(a, b map[string]*summary.Stats) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if b[k] == nil {
			out = append(out, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if a[k] == nil {
			out = append(out, k)
		}
	}
	return out
}

// valueRow is a figure shown with its change and not judged.
func valueRow(metric, unit string, base, next *float64) Row {
	r := Row{Metric: metric, Unit: unit, Base: base, New: next}
	if base != nil && next != nil {
		r.Delta = num(*next - *base)
		if *base != 0 {
			r.DeltaPercent = num(100 * (*next - *base) / *base)
		}
	}
	return r
}

// rateRow judges the success rate on the two runs' Wilson intervals: it
// regressed when the new interval lies wholly below the base's and the
// rate fell by more than the rate tolerance.
func rateRow(metric string, bc, nc summary.Conversations, o RegressionOptions) Row {
	wilson := func(c summary.Conversations) *confidence.Interval {
		offered := c.Started + c.Dropped
		if offered == 0 {
			return nil
		}
		iv := claims.Percent(confidence.Wilson(c.OK, offered))
		return &iv
	}
	bi, ni := wilson(bc), wilson(nc)
	var base, next *float64
	if bi != nil {
		base = num(bi.Estimate)
	}
	if ni != nil {
		next = num(ni.Estimate)
	}
	r := valueRow(metric, "%", base, next)
	r.BaseInterval, r.NewInterval = bi, ni
	if bi == nil || ni == nil {
		r.Note = "a run offered no conversations"
		return r
	}
	drop := bi.Estimate - ni.Estimate
	switch {
	case ni.Hi < bi.Lo && drop > o.RateTolerance:
		r.Verdict = VerdictRegression
	case ni.Lo > bi.Hi && -drop > o.RateTolerance:
		r.Verdict = VerdictImprovement
	default:
		r.Verdict = VerdictNoise
	}
	return r
}

// latencyCompareRow judges one latency statistic on the 95% bootstrap
// interval of new/base over the two runs' whole-run histograms.
func latencyCompareRow(metric, st string, bst, nst *summary.Stats, bh, nh *hdrhistogram.Histogram, seed uint64, o RegressionOptions) Row {
	pick := func(s *summary.Stats) *float64 {
		if s == nil {
			return nil
		}
		v, ok := s.Value(st)
		if !ok {
			return nil
		}
		return num(v)
	}
	r := valueRow(metric, "ms", pick(bst), pick(nst))
	if bh == nil || nh == nil || bh.TotalCount() == 0 || nh.TotalCount() == 0 {
		r.Note = "no ok samples in a run"
		return r
	}
	stat := claims.Statistic(st)
	if ok, need := stat.Enough(uint64(min(bh.TotalCount(), nh.TotalCount()))); !ok {
		// Not judged: too few samples beyond the percentile to trust an
		// interval, so no verdict either way.
		r.Note = fmt.Sprintf("too few samples to judge %s: %d needed in each run", st, need)
		return r
	}
	iv := confidence.BootstrapRatio(confidence.FromHistogram(bh, 1/runfolder.USPerMS), confidence.FromHistogram(nh, 1/runfolder.USPerMS), stat, seed)
	if math.IsNaN(iv.Lo) || math.IsNaN(iv.Hi) {
		r.Note = "the base value is 0: no ratio"
		return r
	}
	r.Ratio = &iv
	r.Verdict = ratioVerdict(iv.Lo, iv.Hi, o.Tolerance)
	return r
}

// ratioVerdict judges a ratio new/base known to lie in [lo, hi].
func ratioVerdict(lo, hi, tolerance float64) string {
	switch {
	case lo > 1+tolerance:
		return VerdictRegression
	case hi < 1-tolerance:
		return VerdictImprovement
	}
	return VerdictNoise
}

// costRow judges the cost per successful conversation: it regressed when
// it rose by more than the tolerance. Cost has no sampling interval here:
// the tokens a scripted conversation spends barely vary, and what does
// (retries, failures) shows in the other rows.
func costRow(metric string, base, next *float64, o RegressionOptions) Row {
	r := valueRow(metric, "USD", base, next)
	switch {
	case base == nil || next == nil:
		r.Note = "a run has no cost, or no successful conversation"
	case *base == 0:
		r.Note = "the base run cost nothing"
	default:
		r.Verdict = ratioVerdict(*next / *base, *next / *base, o.Tolerance)
	}
	return r
}

// costPer is the run's cost over n conversations; nil without a cost
// section or conversations.
func costPer(s *summary.Summary, n uint64) *float64 {
	if s.Cost == nil || n == 0 {
		return nil
	}
	return num(s.Cost.TotalUSD / float64(n))
}

// tokensPer is prompt plus completion tokens per started conversation.
func tokensPer(s *summary.Summary) *float64 {
	if s.Conversations.Started == 0 {
		return nil
	}
	return num(float64(s.Tokens.Prompt+s.Tokens.Completion) / float64(s.Conversations.Started))
}

// verdictText is a row's verdict as the tables show it.
func (r Row) verdictText() string {
	switch r.Verdict {
	case VerdictNoise:
		return "within noise"
	case "":
		if r.Note != "" {
			return "n/a (" + r.Note + ")"
		}
	}
	return r.Verdict
}

// cells formats a row: base, new, delta, delta %, interval.
func (r Row) cells() (base, next, delta, pct, interval string) {
	base, next, delta, pct = "—", "—", "—", "—"
	if r.Base != nil {
		base = formatValue(*r.Base, r.Unit)
	}
	if r.New != nil {
		next = formatValue(*r.New, r.Unit)
	}
	if r.Delta != nil {
		unit := r.Unit
		if unit == "%" {
			unit = "pt" // a change of a percentage is in points
		}
		delta = signed(formatValue(*r.Delta, unit))
	}
	if r.DeltaPercent != nil {
		pct = signed(strconv.FormatFloat(*r.DeltaPercent, 'f', 1, 64) + "%")
	}
	switch {
	case r.Ratio != nil:
		interval = fmt.Sprintf("×%.2f [%.2f, %.2f]", r.Ratio.Estimate, r.Ratio.Lo, r.Ratio.Hi)
	case r.BaseInterval != nil && r.NewInterval != nil:
		interval = fmt.Sprintf("[%s, %s] → [%s, %s]", pct2(r.BaseInterval.Lo), pct2(r.BaseInterval.Hi), pct2(r.NewInterval.Lo), pct2(r.NewInterval.Hi))
	}
	return base, next, delta, pct, interval
}

// signed puts a sign on a formatted change, and takes it off a change
// that rounds to zero: "-0.0ms" reads as a change that is not there.
func signed(v string) string {
	if strings.HasPrefix(v, "-") {
		if strings.Trim(v, "-$0.%/msptUSD") == "" {
			return "+" + v[1:]
		}
		return v
	}
	return "+" + v
}

func pct2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// formatValue writes v in unit for a table.
func formatValue(v float64, unit string) string {
	switch unit {
	case "ms":
		return strconv.FormatFloat(v, 'f', 1, 64) + "ms"
	case "%":
		return strconv.FormatFloat(v, 'f', 2, 64) + "%"
	case "pt":
		return strconv.FormatFloat(v, 'f', 2, 64) + "pt"
	case "/s":
		return strconv.FormatFloat(v, 'f', 2, 64) + "/s"
	case "USD":
		s := "$" + strconv.FormatFloat(math.Abs(v), 'g', 4, 64)
		if v < 0 {
			s = "-" + s
		}
		return s
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// Summary is the one-line verdict: how many figures regressed, and which.
func (c *RunComparison) Summary() string {
	tol := fmt.Sprintf("tolerance %s%%, success rate %s points", strconv.FormatFloat(c.TolerancePercent, 'f', -1, 64), strconv.FormatFloat(c.RateTolerancePoints, 'f', -1, 64))
	switch n := len(c.Regressions); n {
	case 0:
		s := "no regression"
		if len(c.Improvements) > 0 {
			s += fmt.Sprintf("; %d improved: %s", len(c.Improvements), strings.Join(c.Improvements, ", "))
		}
		return s + " (" + tol + ")"
	case 1:
		return "1 regression: " + c.Regressions[0] + " (" + tol + ")"
	default:
		return fmt.Sprintf("%d regressions: %s (%s)", n, strings.Join(c.Regressions, ", "), tol)
	}
}

// WriteText writes the comparison as an aligned terminal table.
func (c *RunComparison) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Base  %s (%s, seed %d, %s, %ss)\n", c.Base.Dir, c.Base.Scenario, c.Base.Seed, c.Base.Status, strconv.FormatFloat(c.Base.DurationS, 'f', -1, 64))
	fmt.Fprintf(&b, "New   %s (%s, seed %d, %s, %ss)\n\n", c.New.Dir, c.New.Scenario, c.New.Seed, c.New.Status, strconv.FormatFloat(c.New.DurationS, 'f', -1, 64))
	rows := [][]string{{"metric", "base", "new", "delta", "delta %", "95% interval", "verdict"}}
	for _, r := range c.Rows {
		base, next, delta, pct, iv := r.cells()
		rows = append(rows, []string{r.Metric, base, next, delta, pct, iv, r.verdictText()})
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	for _, row := range rows {
		var line strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-len([]rune(cell)))
			switch {
			case i == 0 || i >= 5: // names and words read left to right
				line.WriteString(cell + pad)
			default: // numbers line up on their units
				line.WriteString(pad + cell)
			}
			if i < len(row)-1 {
				line.WriteString("  ")
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	b.WriteString("\n")
	for _, n := range c.Notes {
		b.WriteString("Note: " + n + "\n")
	}
	b.WriteString("Verdict: " + c.Summary() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the comparison for a pull-request comment: the
// verdict first, then the table.
func (c *RunComparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	mark := "✅"
	if len(c.Regressions) > 0 {
		mark = "❌"
	}
	fmt.Fprintf(&b, "### mcpload compare: %s %s\n\n", mark, markdown.Text(c.Summary()))
	fmt.Fprintf(&b, "Base `%s` (%s, seed %d) → new `%s` (%s, seed %d). Latency intervals are the 95%% bootstrap interval of new/base.\n\n",
		markdown.Code(c.Base.Dir), markdown.Text(c.Base.Scenario), c.Base.Seed, markdown.Code(c.New.Dir), markdown.Text(c.New.Scenario), c.New.Seed)
	b.WriteString("| metric | base | new | delta | delta % | 95% interval | verdict |\n| --- | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, r := range c.Rows {
		base, next, delta, pct, iv := r.cells()
		verdict := markdown.Text(r.verdictText())
		switch r.Verdict {
		case VerdictRegression:
			verdict = "❌ **regression**"
		case VerdictImprovement:
			verdict = "✅ improvement"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", markdown.Text(r.Metric), markdown.Text(base), markdown.Text(next), markdown.Text(delta), markdown.Text(pct), markdown.Text(iv), verdict)
	}
	for _, n := range c.Notes {
		b.WriteString("\n" + markdown.Text("Note: "+n) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the comparison as JSON, for scripts.
func (c *RunComparison) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("encode comparison: %w", err)
	}
	return nil
}
