package scenarios

import "strings"

// Claim is something a vendor says about its service, to be checked
// against the run's measurements. Expect is written as a threshold
// expression over the metric that tests it:
//
//	claims:
//	  - name: "<50 ms average latency"
//	    source: https://vendor.example/pricing
//	    expect: attempt.model{provider=relay}.mean < 50ms
//	  - name: 99.9% uptime
//	    expect: availability.model{provider=relay} >= 99.9%
//	  - name: 85% cheaper than list price
//	    expect: cost.saving >= 85%
//
// Unlike a threshold, a claim is judged with a 95% confidence interval: it
// holds when the whole interval satisfies Expect, is refuted when the whole
// interval breaks it, and is inconclusive otherwise. A claim never gates
// the exit code; a threshold does.
type Claim struct {
	// Name is the claim as the vendor words it.
	Name string `yaml:"name"`
	// Source says where the vendor makes the claim: a URL or a citation.
	Source string `yaml:"source,omitempty"`
	// Expect is the expression that the claim asserts.
	Expect string `yaml:"expect"`
}

// ClaimStats are the latency statistics a claim can test: a claim about a
// minimum, a maximum or a count has no confidence interval worth the name.
var ClaimStats = []string{"mean", "p50", "p90", "p95", "p99", "p999"}

// Claimable reports whether a claim can test the parsed expression t, and
// if not, why.
func Claimable(t *ThresholdExpr) (bool, string) {
	switch t.Kind {
	case MetricLatency:
		for _, s := range ClaimStats {
			if t.Stat == s {
				return true, ""
			}
		}
		return false, "a claim about latency tests one of " + strings.Join(ClaimStats, ", ") + ", not " + t.Stat
	case MetricPercent:
		if t.Metric == "goodput" {
			return false, "goodput has no sampling interval; claim success_rate or availability.model instead"
		}
		return true, ""
	}
	return false, t.Metric + " is not a measurement a claim can test: claim a latency, success_rate, error_rate, availability.model or cost.saving"
}

// claims checks every claim.
func (v *validator) claims(s *Scenario) { v.claimList("claims", s.Claims) }

// claimList checks the claims at path (the scenario's, or a policy's).
func (v *validator) claimList(at string, claims []Claim) {
	names := map[string]bool{}
	for i, c := range claims {
		path := index(at, i)
		if v.failedInside(path) {
			continue
		}
		switch {
		case strings.TrimSpace(c.Name) == "":
			v.errorf(field(path, "name"), "missing; name the claim as the vendor words it, such as \"<50 ms average latency\"")
		case names[c.Name]:
			v.errorf(field(path, "name"), "claim %q is listed twice", c.Name)
		}
		names[c.Name] = true
		t := v.expression(field(path, "expect"), c.Expect)
		if t == nil {
			continue
		}
		if ok, why := Claimable(t); !ok {
			v.errorf(field(path, "expect"), "%s", why)
		}
		if t.Op == "==" || t.Op == "!=" {
			v.errorf(field(path, "expect"), "a claim compares with <, <=, > or >=: a measured value never equals a limit exactly")
		}
	}
}
