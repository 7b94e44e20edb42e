package htmlreport

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/plot"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/thresholds"
)

func readPage(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, File))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// externalRef finds anything a browser would fetch or follow off the
// folder: a URL with a scheme in src, href, action or a CSS url(), other
// than data:, and any script.
var externalRef = regexp.MustCompile(`(?i)(src|href|action|poster|srcset)\s*=\s*"(https?:|//|ftp:|ws)|url\(\s*['"]?(https?:|//)|<script|@import`)

func TestWriteRunPage(t *testing.T) {
	dir := t.TempDir()
	plots := writeFixtureRun(t, dir, 3)
	s := fixtureSummary()
	if err := Write(dir, s, plots); err != nil {
		t.Fatal(err)
	}
	page := readPage(t, dir)

	if m := externalRef.FindString(page); m != "" {
		t.Errorf("the page refers outside itself: %q", m)
	}
	// Everything the run folder says is escaped.
	for _, raw := range []string{fixtureName, fixtureError, "<b>overloaded", `<script>alert`, "<i>", "<desc>"} {
		if strings.Contains(page, raw) {
			t.Errorf("the page holds %q unescaped", raw)
		}
	}
	for _, escaped := range []string{"fixture &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co", "upstream said &lt;b&gt;overloaded&lt;/b&gt;"} {
		if !strings.Contains(page, escaped) {
			t.Errorf("the page lacks %q", escaped)
		}
	}

	// The verdict comes first, and says which thresholds failed.
	verdict := strings.Index(page, `id="verdict"`)
	if verdict < 0 || verdict > strings.Index(page, `id="thresholds"`) {
		t.Fatalf("the verdict is not before the thresholds")
	}
	banner := page[verdict : verdict+600]
	if !strings.Contains(banner, ">FAIL<") || !strings.Contains(banner, "2 of 3 thresholds failed: success_rate &gt;= 99%; cost.total &lt; $1.") {
		t.Errorf("banner:\n%s", banner)
	}
	// Sections in the brief's order.
	last := 0
	for _, id := range []string{"thresholds", "claims", "plots", "run", "latency", "attempts", "errors", "resilience", "cost", "scenario"} {
		i := strings.Index(page, `<section id="`+id+`"`)
		if i < last {
			t.Errorf("section %s missing or out of order (at %d, after %d)", id, i, last)
		}
		last = max(last, i)
	}

	// Each plot is embedded as a PNG, titled and captioned.
	imgs := regexp.MustCompile(`<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)">`).FindAllStringSubmatch(page, -1)
	if len(imgs) != len(plots) {
		t.Fatalf("%d embedded images, want %d", len(imgs), len(plots))
	}
	for i, p := range plots {
		if want := strings.ReplaceAll(p.Title, "<", "&lt;"); !strings.Contains(imgs[i][2], want[:len("Fake plot 0")]) {
			t.Errorf("image %d alt %q, want the title %q", i, imgs[i][2], p.Title)
		}
		if !strings.Contains(page, "Caption "+string(rune('0'+i))+": how to read it &amp; why.") {
			t.Errorf("caption of plot %d missing", i)
		}
		if !strings.Contains(page, `href="`+p.SVG+`"`) {
			t.Errorf("no link to %s", p.SVG)
		}
	}

	// Claims, with their verdicts colored.
	for _, c := range s.Claims {
		if !strings.Contains(page, `<span class="pill `+claimPill(c.Verdict)+`">`+c.Verdict+`</span>`) {
			t.Errorf("claim %q: no %s verdict", c.Name, c.Verdict)
		}
	}
	// The errors, grouped, most frequent first.
	timeout := strings.Index(page, "context deadline exceeded")
	overloaded := strings.Index(page, "overloaded")
	if timeout < 0 || overloaded < 0 || timeout > overloaded {
		t.Errorf("errors not listed most frequent first (timeout at %d, 5xx at %d)", timeout, overloaded)
	}
	for _, want := range []string{
		"12 attempts failed.",   // 7 + 3 + 2 in attempts.jsonl
		"1.3 months", "944.10%", // payback
		"deepseek-v3.2", "0.028", // what-if
		"relay-example",       // baseline
		"primary → secondary", // fallback routes
		"half_open",           // breaker timeline
		"2.5 s after",         // recovery
		"not in the catalog",  // unpriced model
		"# resolved\nversion: 1\nname: &#34;fixture &lt;script&gt;&#34;", // the scenario, escaped
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if !strings.Contains(page, "$6,141.80 on the baseline") {
		t.Errorf("monthly baseline not shown with thousands separators")
	}
}

func claimPill(verdict string) string {
	switch verdict {
	case summary.ClaimHolds:
		return "pass"
	case summary.ClaimRefuted:
		return "fail"
	}
	return "warn"
}

// A run without plots, thresholds, resilience, claims or cost (as before
// the plots are drawn, or for a bare run) still makes a whole page.
func TestWriteRunPageBare(t *testing.T) {
	dir := t.TempDir()
	s := fixtureSummary()
	s.Thresholds, s.Claims, s.Resilience, s.Cost = nil, nil, nil, nil
	s.Status = record.StatusInterrupted
	if err := Write(dir, s, nil); err != nil {
		t.Fatal(err)
	}
	page := readPage(t, dir)
	for _, absent := range []string{"<img", `id="plots"`, `id="claims"`, `id="resilience"`} {
		if strings.Contains(page, absent) {
			t.Errorf("a bare run's page has %s", absent)
		}
	}
	for _, want := range []string{">PASS<", "No thresholds were set.", "interrupted", "the figures cover the partial run",
		"No attempts were recorded.", "No attempt failed.", "Nothing was priced", "The folder has no scenario.yaml."} {
		if !strings.Contains(page, want) {
			t.Errorf("a bare run's page lacks %q", want)
		}
	}
}

// A run that did not complete says so beside its verdict.
func TestWriteRunPageStatus(t *testing.T) {
	for status, want := range map[string]string{
		record.StatusComplete:    "",
		record.StatusInterrupted: "interrupted: the figures cover the partial run",
		record.StatusAborted:     "stopped itself before its schedule ended (spend cap reached)",
		record.StatusRunning:     "did not finish",
	} {
		dir := t.TempDir()
		s := fixtureSummary()
		s.Status, s.StopReason = status, "spend cap reached"
		must(t, Write(dir, s, nil))
		page := readPage(t, dir)
		pill := `<span class="pill warn">` + status + `</span>`
		if status == record.StatusComplete {
			pill = `<span class="pill ok">complete</span>`
		}
		if !strings.Contains(page, pill) || !strings.Contains(page, want) {
			t.Errorf("status %s: the banner lacks %s or %q", status, pill, want)
		}
	}
}

// A plot that cannot be read leaves a note in its place, and the page is
// still written.
func TestWriteRunPageBadPlots(t *testing.T) {
	dir := t.TempDir()
	plots := writeFixtureRun(t, dir, 1)
	must(t, os.WriteFile(filepath.Join(dir, "notpng.png"), []byte("GIF89a"), 0o644))
	plots = append(plots,
		plot.File{Name: "gone", Title: "Gone", PNG: "plots/gone.png"},
		plot.File{Name: "escape", Title: "Escape", PNG: "../../etc/passwd"},
		plot.File{Name: "gif", Title: "Gif", PNG: "notpng.png"},
	)
	if err := Write(dir, fixtureSummary(), plots); err != nil {
		t.Fatal(err)
	}
	page := readPage(t, dir)
	if n := strings.Count(page, "<img "); n != 1 {
		t.Errorf("%d images, want the 1 readable plot", n)
	}
	for _, want := range []string{"Gone: plot: open", "Escape: plot &#34;../../etc/passwd&#34;: not a path inside the run folder", "Gif: plot notpng.png: not a PNG file"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks the note %q", want)
		}
	}
}

func TestScanAttemptsBounded(t *testing.T) {
	dir := t.TempDir()
	var attempts []record.Attempt
	const distinct = maxErrorGroups + 500
	for i := range distinct {
		a := record.Attempt{Key: "model:p/m", Outcome: "5xx", Error: "error " + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + itoa(i)}
		attempts = append(attempts, a, a) // each error twice
	}
	for i := range maxAttemptKeys + 10 {
		attempts = append(attempts, record.Attempt{Key: "tool:t" + itoa(i), Outcome: "ok"})
	}
	writeAttempts(t, dir, attempts)
	// A torn last line, as a crash leaves it.
	f, err := os.OpenFile(filepath.Join(dir, record.AttemptsFile), os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteString(`{"key":"model:p/m","outc`)
	must(t, err)
	must(t, f.Close())

	sc, err := scanAttempts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.errors) > maxErrorGroups || len(sc.byKey) > maxAttemptKeys+1 {
		t.Errorf("scan holds %d error groups and %d keys, bounds %d and %d", len(sc.errors), len(sc.byKey), maxErrorGroups, maxAttemptKeys+1)
	}
	if sc.skipped != 1 {
		t.Errorf("skipped %d lines, want the torn one", sc.skipped)
	}
	if got := sc.failed(); got != 2*distinct {
		t.Errorf("failed = %d, want %d: every failure counts, grouped or not", got, 2*distinct)
	}
	rows, moreGroups, moreAttempts := sc.topErrors(maxErrorRows)
	var listed uint64
	for _, r := range rows {
		listed += r.Count
	}
	if len(rows) != maxErrorRows || listed+moreAttempts != 2*distinct || moreGroups != maxErrorGroups-maxErrorRows {
		t.Errorf("top %d rows (%d attempts), %d more groups, %d more attempts; want %d rows covering %d attempts in all",
			len(rows), listed, moreGroups, moreAttempts, maxErrorRows, 2*distinct)
	}
	var total uint64
	for _, kc := range sc.byKey {
		total += kc.total
	}
	if want := uint64(len(attempts)); total != want {
		t.Errorf("attempts by key sum to %d, want %d", total, want)
	}
	if sc.byKey[otherKey] == nil || sc.byKey[otherKey].total < 10 {
		t.Errorf("keys past the bound are not counted together: %+v", sc.byKey[otherKey])
	}
}

func itoa(i int) string { return count(i) }

func TestWriteComparison(t *testing.T) {
	dir := t.TempDir()
	cmp := fixtureComparison(t, dir, "seed", "no-retry", "breaker-fallback")
	plots := writePlots(t, dir, 2)
	if err := WriteComparison(dir, cmp, plots); err != nil {
		t.Fatal(err)
	}
	page := readPage(t, dir)
	if m := externalRef.FindString(page); m != "" {
		t.Errorf("the page refers outside itself: %q", m)
	}
	if strings.Contains(page, "<replay>") || strings.Contains(page, "<desc>") {
		t.Error("the comparison page holds markup from the run unescaped")
	}
	if !strings.Contains(page, ">FAIL<") || !strings.Contains(page, "1 of 3 policies missed their expectation: seed (fail).") {
		t.Error("the banner does not fail on the policy that failed")
	}
	if n := strings.Count(page, "<img "); n != len(plots) {
		t.Errorf("%d images, want %d", n, len(plots))
	}
	// Each policy links to its own page, by a relative path that exists.
	links := regexp.MustCompile(`<a href="([^"#]+)">`).FindAllStringSubmatch(page, -1)
	linked := map[string]bool{}
	for _, l := range links {
		if strings.HasSuffix(l[1], ".svg") {
			continue
		}
		if filepath.IsAbs(l[1]) {
			t.Errorf("absolute link %s", l[1])
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(l[1]))); err != nil {
			t.Errorf("link %s: %v", l[1], err)
		}
		linked[l[1]] = true
	}
	for _, p := range cmp.Policies {
		if !linked[p.Name+"/"+File] {
			t.Errorf("no link to %s/%s", p.Name, File)
		}
	}

	// The table has comparison.md's figures: each policy's row, with the
	// page's spacing, separators and units taken out, is the Markdown row.
	var md bytes.Buffer
	must(t, cmp.WriteMarkdown(&md))
	sec := comparisonSection(cmp, nil)
	for i, p := range cmp.Policies {
		var mdRow []string
		for _, line := range strings.Split(md.String(), "\n") {
			if strings.HasPrefix(line, "| "+p.Name+" |") {
				mdRow = strings.Split(strings.Trim(line, "| "), " | ")
			}
		}
		if mdRow == nil {
			t.Fatalf("comparison.md has no row for %s", p.Name)
		}
		// The outcomes table after the name, then the models table after
		// the name and the model (which comparison.md puts in the
		// description).
		var row []cell
		var heads []col
		row = append(row, sec.Tables[0].Rows[i][1:]...)
		heads = append(heads, sec.Tables[0].Cols[1:]...)
		row = append(row, sec.Tables[1].Rows[i][2:]...)
		heads = append(heads, sec.Tables[1].Cols[2:]...)
		mdFigures := mdRow[2:] // after the name and description
		if len(row) != len(mdFigures) {
			t.Fatalf("%s: %d figures, comparison.md has %d", p.Name, len(row), len(mdFigures))
		}
		norm := strings.NewReplacer(" ", "", ",", "", "/s", "", dash, "-")
		for j, c := range row {
			if got, want := norm.Replace(c.Text), norm.Replace(mdFigures[j]); got != want {
				t.Errorf("%s, column %s: %q, comparison.md has %q", p.Name, heads[j].Head, c.Text, mdFigures[j])
			}
		}
	}
}

// TestComparisonCardsSkipFailing: no headline card goes to a policy that
// stopped early or failed its gate, however good its partial figures; the
// banner and the tables say which policy failed, as expected or not.
func TestComparisonCardsSkipFailing(t *testing.T) {
	dir := t.TempDir()
	cmp := fixtureComparison(t, dir, "a", "b", "c", "d")
	// c has the best success and the lowest p99 of the four, over the
	// first seconds only: a threshold stopped it.
	cmp.Policies[2].Status, cmp.Policies[2].StopReason = record.StatusAborted, "threshold failed: conversation.p99 < 1s"
	cmp.Policies[2].Verdict = thresholds.VerdictExpectedFail
	cmp.Policies[2].ExpectationMet = true
	// d is better still, but failed its thresholds.
	cmp.Policies[3].Verdict, cmp.Policies[3].Thresholds, cmp.Policies[3].ThresholdsFailed = thresholds.VerdictFail, 1, 1
	cmp.Policies[3].Status = record.StatusComplete
	*cmp.Policies[3].P99MS = 10
	for _, f := range comparisonHeadline(cmp.Policies) {
		if strings.HasPrefix(f.Sub, "c") || strings.HasPrefix(f.Sub, "d") {
			t.Errorf("card %s = %s goes to %s, which did not pass its gate", f.Label, f.Value, f.Sub)
		}
	}
	var best figure
	for _, f := range comparisonHeadline(cmp.Policies) {
		if f.Label == "Lowest p99" {
			best = f
		}
	}
	if best.Sub != "a" {
		t.Errorf("lowest p99 card = %+v, want policy a's", best)
	}
	if err := WriteComparison(dir, cmp, nil); err != nil {
		t.Fatal(err)
	}
	page := readPage(t, dir)
	for _, want := range []string{"EXPECTED FAIL", "expected fail", "aborted", "threshold failed: conversation.p99 &lt; 1s", "d (fail)"} {
		if !strings.Contains(page, want) {
			t.Errorf("the comparison page does not say %q", want)
		}
	}
	// When no policy passed, no card names a best one.
	for i := range cmp.Policies {
		cmp.Policies[i].Status = record.StatusAborted
	}
	if h := comparisonHeadline(cmp.Policies); len(h) != 1 || h[0].Value != "none" {
		t.Errorf("headline with every policy aborted = %+v", h)
	}
}

// A comparison whose policy folder has no summary still gets a page, with
// that policy's verdict unknown.
func TestWriteComparisonMissingSummary(t *testing.T) {
	dir := t.TempDir()
	cmp := fixtureComparison(t, dir, "a", "b")
	must(t, os.Remove(filepath.Join(dir, "b", record.SummaryFile)))
	if err := WriteComparison(dir, cmp, nil); err != nil {
		t.Fatal(err)
	}
	page := readPage(t, dir)
	if !strings.Contains(page, "No summary for b") || !strings.Contains(page, `<span class="pill warn">unknown</span>`) {
		t.Error("a policy without a summary is not marked unknown")
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{count(0), "0"}, {count(999), "999"}, {count(1000), "1,000"}, {count(-47832), "-47,832"},
		{count(uint64(18446744073709551615)), "18,446,744,073,709,551,615"},
		{usd(0), "$0.00"}, {usd(0.000532), "$0.000532"}, {usd(0.0478), "$0.0478"}, {usd(0.1), "$0.10"}, {usd(0.0020576), "$0.002058"}, {usd(0.9999), "$0.9999"},
		{usd(1), "$1.00"}, {usd(1.999), "$2.00"}, {usd(6141.8), "$6,141.80"}, {usd(-3.5), "−$3.50"},
		{latency(333.62), "333.6 ms"}, {latency(3450), "3.45 s"},
		{secs(2.5), "2.5 s"}, {secs(0.1254), "0.125 s"},
		{pct(88.525), "88.53%"}, {ratio(0.976), "97.60%"},
		{perMTok(0.028), "0.028"}, {perMTok(1.25), "1.25"}, {perMTok(3), "3.00"},
		{plural(1, "line"), "1 line"}, {plural(2000, "attempt"), "2,000 attempts"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
