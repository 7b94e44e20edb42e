package compare

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/internal/synth"
)

// policyRuns writes three runs of the same 20 s load and fault (the
// primary hangs from 5 s to 10 s) under three policies:
//
//   - seed: three attempts per step in the window (30 req/s on the
//     primary), conversations fail from 5 s to 11 s, back 2 s after;
//   - fallback: the breaker opens after the first second, the rest go to
//     the secondary; nothing fails;
//   - naive: fails from 5 s to the end of the run.
func policyRuns(t *testing.T) []PolicyRun {
	root := t.TempDir()
	seed := synth.New(t, 20)
	fallback := synth.New(t, 20)
	naive := synth.New(t, 20)
	for _, s := range []*synth.Folder{seed, fallback, naive} {
		s.Faults = synth.HangFault
	}
	for sec := 0; sec < 20; sec++ {
		inWindow := sec >= 5 && sec < 10
		for j := 0; j < 10; j++ {
			conv := uint64(sec*10 + j)
			at := float64(sec) + 0.05*float64(j)

			// seed
			switch {
			case inWindow:
				for n := 1; n <= 3; n++ {
					seed.Attempt(conv, 0, n, synth.Primary, at+0.2*float64(n-1), record.OutcomeTimeout)
				}
				seed.Conversation(at, 6*time.Second, "timeout: attempt 3 of 3")
			case sec == 10 || sec == 11:
				seed.Attempt(conv, 0, 1, synth.Primary, at, record.OutcomeTimeout)
				seed.Conversation(at, 2*time.Second, "timeout: still draining")
			default:
				seed.Attempt(conv, 0, 1, synth.Primary, at, record.OutcomeOK)
				seed.Conversation(at, 200*time.Millisecond, "")
			}

			// fallback
			switch {
			case sec == 5:
				fallback.Attempt(conv, 0, 1, synth.Primary, at, record.OutcomeTimeout)
				fallback.Attempt(conv, 0, 2, synth.Secondary, at+0.5, record.OutcomeOK)
				fallback.Conversation(at, 700*time.Millisecond, "")
			case inWindow:
				fallback.Attempt(conv, 0, 1, synth.Secondary, at, record.OutcomeOK)
				fallback.Conversation(at, 300*time.Millisecond, "")
			default:
				fallback.Attempt(conv, 0, 1, synth.Primary, at, record.OutcomeOK)
				fallback.Conversation(at, 100*time.Millisecond, "")
			}

			// naive
			if sec >= 5 {
				naive.Attempt(conv, 0, 1, synth.Primary, at, record.OutcomeTimeout)
				naive.Conversation(at, 2*time.Second, "timeout: x")
			} else {
				naive.Attempt(conv, 0, 1, synth.Primary, at, record.OutcomeOK)
				naive.Conversation(at, 100*time.Millisecond, "")
			}
		}
	}
	seed.Run.Attempts = record.AttemptCounts{Retries: 100, Steps: 200, StepAttempts: 300}
	seed.Run.Tokens = record.Tokens{Prompt: 1000, Completion: 200}
	fallback.Run.Attempts = record.AttemptCounts{Fallbacks: 50, Steps: 200, StepAttempts: 210}
	fallback.Run.Tokens = record.Tokens{Prompt: 900, Completion: 150}
	naive.Run.Attempts = record.AttemptCounts{Steps: 200, StepAttempts: 200}

	var runs []PolicyRun
	for _, p := range []struct {
		name, desc string
		s          *synth.Folder
	}{
		{"seed", "the seed's client: 3 attempts | 1/2/4 s", seed},
		{"fallback-breaker", "breaker on the primary, fallback to the secondary", fallback},
		{"naive", "", naive},
	} {
		src := p.s.Write()
		dst := filepath.Join(root, p.name)
		synth.Must(t, os.Rename(src, dst))
		runs = append(runs, PolicyRun{Name: p.name, Description: p.desc, Dir: dst})
	}
	return runs
}

func TestComparePolicies(t *testing.T) {
	runs := policyRuns(t)
	c, err := Policies(runs)
	if err != nil {
		t.Fatal(err)
	}
	if c.Scenario != "synthetic" || c.Seed != 7 || strings.Join(c.FailingTargets, ",") != "provider:primary" {
		t.Errorf("comparison = %s seed %d failing %v", c.Scenario, c.Seed, c.FailingTargets)
	}
	if len(c.Policies) != 3 {
		t.Fatalf("rows = %d, want 3", len(c.Policies))
	}
	seed, fb, naive := c.Policies[0], c.Policies[1], c.Policies[2]
	if seed.SuccessRate != 65 || seed.OK != 130 || seed.Failed != 70 || seed.Offered != 200 {
		t.Errorf("seed row = %+v, want 65%%: 130 ok, 70 failed of 200", seed)
	}
	if seed.PeakFailingRPS == nil || *seed.PeakFailingRPS != 30 {
		t.Errorf("seed peak on the failing provider = %v, want 30", seed.PeakFailingRPS)
	}
	if seed.RecoveryS == nil || *seed.RecoveryS != 2 || seed.NeverRecovered {
		t.Errorf("seed recovery = %v, want 2 s", seed.RecoveryS)
	}
	if seed.Amplification != 1.5 || seed.Tokens != 1200 || seed.Retries != 100 || seed.GoodputShare != 65 {
		t.Errorf("seed row = %+v, want amplification 1.5, 1200 tokens, 100 retries, goodput 65%%", seed)
	}
	if seed.P50MS == nil || *seed.P50MS < 199 || *seed.P50MS > 201 {
		t.Errorf("seed p50 = %v, want 200 ms", seed.P50MS)
	}
	if fb.SuccessRate != 100 || fb.Fallbacks != 50 || fb.PeakFailingRPS == nil || *fb.PeakFailingRPS != 10 ||
		fb.RecoveryS == nil || *fb.RecoveryS != 0 {
		t.Errorf("fallback row = %+v, want 100%%, 50 fallbacks, peak 10, recovery 0", fb)
	}
	if !naive.NeverRecovered || naive.RecoveryS != nil {
		t.Errorf("naive row = %+v, want never recovered", naive)
	}
	for _, r := range runs {
		if _, err := os.Stat(filepath.Join(r.Dir, record.SummaryFile)); err != nil {
			t.Errorf("policy %s: no summary.json: %v", r.Name, err)
		}
	}

	t.Run("text", func(t *testing.T) {
		var b strings.Builder
		synth.Must(t, c.WriteText(&b))
		out := b.String()
		lines := strings.Split(out, "\n")
		table := lines[1:5] // header + 3 policies
		cell := map[string]map[string]string{}
		header := strings.Fields(table[0])
		for _, line := range table[1:] {
			f := strings.Fields(line)
			if len(f) != len(header) {
				t.Fatalf("row %q has %d cells, header %d:\n%s", line, len(f), len(header), out)
			}
			cell[f[0]] = map[string]string{}
			for i, h := range header {
				cell[f[0]][h] = f[i]
			}
			if len(line) != len(table[0]) {
				t.Errorf("row %q is not aligned with the header:\n%s", line, out)
			}
		}
		for _, want := range []struct{ policy, col, value string }{
			{"seed", "success", "65.00%"}, {"seed", "peak/s", "30"}, {"seed", "recovery", "2s"},
			{"seed", "amplif", "1.50"}, {"seed", "p50", "200.1ms"}, {"seed", "tokens", "1200"},
			{"seed", "retries", "100"}, {"seed", "failed", "70"},
			{"fallback-breaker", "success", "100.00%"}, {"fallback-breaker", "peak/s", "10"},
			{"fallback-breaker", "recovery", "0s"}, {"fallback-breaker", "fallbacks", "50"},
			{"naive", "recovery", "never"}, {"naive", "goodput", "25.00%"},
		} {
			if got := cell[want.policy][want.col]; got != want.value {
				t.Errorf("%s %s = %q, want %q:\n%s", want.policy, want.col, got, want.value, out)
			}
		}
		// These runs have no streams: the terminal leaves
		// those columns out rather than print a column of dashes.
		for _, h := range []string{"ttft50", "itl50", "tok/s"} {
			if slices.Contains(header, h) {
				t.Errorf("column %s, empty in every row, is in the table:\n%s", h, out)
			}
		}
		if !strings.Contains(out, "fallback-breaker  breaker on the primary, fallback to the secondary") {
			t.Errorf("text lacks the policy descriptions:\n%s", out)
		}
	})

	t.Run("markdown", func(t *testing.T) {
		var b strings.Builder
		synth.Must(t, c.WriteMarkdown(&b))
		out := b.String()
		var rows []string
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "|") {
				rows = append(rows, line)
			}
		}
		if len(rows) != 5 {
			t.Fatalf("markdown table has %d rows, want header, separator and 3 policies:\n%s", len(rows), out)
		}
		unescaped := regexp.MustCompile(`(^|[^\\])\|`)
		pipes := func(s string) int { return len(unescaped.FindAllString(s, -1)) }
		want := pipes(rows[0])
		if want != len(comparisonColumns)+3 {
			t.Errorf("header has %d cells, want %d", want-1, len(comparisonColumns)+2)
		}
		for _, r := range rows {
			if pipes(r) != want || !strings.HasSuffix(r, "|") {
				t.Errorf("row %q has %d cell borders, want %d:\n%s", r, pipes(r), want, out)
			}
		}
		if !regexp.MustCompile(`^\|( ---:? \|)+$`).MatchString(rows[1]) {
			t.Errorf("separator row %q is not a GitHub table separator", rows[1])
		}
		if !strings.Contains(rows[2], `3 attempts \| 1/2/4 s`) || !strings.Contains(rows[2], "| 65.00% |") {
			t.Errorf("seed row = %q, want the escaped description and 65.00%%", rows[2])
		}
	})

	t.Run("json", func(t *testing.T) {
		var b strings.Builder
		synth.Must(t, c.WriteJSON(&b))
		var doc struct {
			Schema   string           `json:"schema"`
			Policies []map[string]any `json:"policies"`
		}
		synth.Must(t, json.Unmarshal([]byte(b.String()), &doc))
		if doc.Schema != ComparisonSchema || len(doc.Policies) != 3 {
			t.Fatalf("comparison.json = %s", b.String())
		}
		if doc.Policies[0]["peak_failing_rps"] != 30.0 || doc.Policies[2]["recovery_s"] != nil || doc.Policies[2]["never_recovered"] != true {
			t.Errorf("comparison.json rows = %v", doc.Policies)
		}
	})
}

func TestComparePoliciesErrors(t *testing.T) {
	if _, err := Policies(nil); err == nil {
		t.Error("no runs: no error")
	}
	_, err := Policies([]PolicyRun{{Name: "gone", Dir: filepath.Join(t.TempDir(), "missing")}})
	if err == nil || !strings.Contains(err.Error(), `policy "gone"`) {
		t.Errorf("missing run folder: err = %v, want one naming the policy", err)
	}
}
