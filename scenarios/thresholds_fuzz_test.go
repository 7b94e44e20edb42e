package scenarios

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseThreshold checks that ParseThreshold never panics, that an error
// is a *ThresholdError placed inside the expression, and that an expression
// it accepts round-trips: written back in canonical form, it parses to the
// same metric, filters, statistic, operator and limit.
func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{
		"conversation.p99 < 2s",
		"  service.p99.9<=1m30s ",
		"step.model{provider=primary}.p95 < 800ms",
		"attempt.model{ provider = primary , model=gpt-4.1-mini }.max < 250us",
		"step.tool{tool=get_weather}.count >= 10",
		"success_rate >= 99.9%",
		"retry_amplification <= 1.2",
		"rate.achieved > 19.5/s",
		"cost.total_usd < $5",
		"availability.model{provider=p} >= 99%",
		"output_tokens_per_s{model=m} > 20/s",
		"step.model{provider=a,model=b,} < 1s",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		th, err := ParseThreshold(expr)
		if err != nil {
			te, ok := err.(*ThresholdError)
			if !ok {
				t.Fatalf("ParseThreshold(%q) error %T %v, want a *ThresholdError", expr, err, err)
			}
			if te.Offset < 0 || te.Offset > len(expr) || te.Msg == "" {
				t.Fatalf("ParseThreshold(%q) error at offset %d %q: outside the expression or empty", expr, te.Offset, te.Msg)
			}
			return
		}
		if th.Text != expr || th.Kind == 0 || thresholdMetrics[th.Metric] != th.Kind {
			t.Fatalf("ParseThreshold(%q) = %+v: text, metric or kind wrong", expr, th)
		}
		if math.IsNaN(th.Limit) || math.IsInf(th.Limit, 0) || th.Limit < 0 {
			t.Fatalf("ParseThreshold(%q) limit %v", expr, th.Limit)
		}
		canon := canonicalThreshold(th)
		again, err := ParseThreshold(canon)
		if err != nil {
			t.Fatalf("ParseThreshold(%q) accepted, but its canonical form %q fails: %v", expr, canon, err)
		}
		again.Text = th.Text
		if !reflect.DeepEqual(th, again) {
			t.Fatalf("%q and its canonical form %q differ:\n%+v\n%+v", expr, canon, th, again)
		}
		_ = th.Format(th.Limit)
	})
}

// canonicalThreshold writes th back as METRIC{k=v,...}.STAT OP LIMIT.
func canonicalThreshold(th *ThresholdExpr) string {
	var b strings.Builder
	b.WriteString(th.Metric)
	if len(th.Filters) > 0 {
		b.WriteByte('{')
		for i, f := range th.Filters {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(f.Key + "=" + f.Value)
		}
		b.WriteByte('}')
	}
	if th.Stat != "" {
		b.WriteString("." + th.Stat)
	}
	b.WriteString(" " + th.Op + " " + th.LimitText)
	return b.String()
}
