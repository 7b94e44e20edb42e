package scenarios

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseThresholdValid(t *testing.T) {
	cases := []struct {
		expr string
		want ThresholdExpr
	}{
		{"conversation.p99 < 2s", ThresholdExpr{Metric: "conversation", Kind: MetricLatency, Stat: "p99", Op: "<", Limit: 2000, LimitText: "2s"}},
		{"  service.p99.9<=1m30s ", ThresholdExpr{Metric: "service", Kind: MetricLatency, Stat: "p999", Op: "<=", Limit: 90000, LimitText: "1m30s"}},
		{"step.model{provider=primary}.p95 < 800ms", ThresholdExpr{Metric: "step.model", Kind: MetricLatency, Filters: []TagFilter{{"provider", "primary"}}, Stat: "p95", Op: "<", Limit: 800, LimitText: "800ms"}},
		{"attempt.model{ provider = primary , model=gpt-4.1-mini }.max < 250us", ThresholdExpr{Metric: "attempt.model", Kind: MetricLatency, Filters: []TagFilter{{"provider", "primary"}, {"model", "gpt-4.1-mini"}}, Stat: "max", Op: "<", Limit: 0.25, LimitText: "250us"}},
		{"step.tool{tool=get_weather}.count >= 10", ThresholdExpr{Metric: "step.tool", Kind: MetricLatency, Filters: []TagFilter{{"tool", "get_weather"}}, Stat: "count", Op: ">=", Limit: 10, LimitText: "10"}},
		{"ttft.model.mean < 1.5s", ThresholdExpr{Metric: "ttft.model", Kind: MetricLatency, Stat: "mean", Op: "<", Limit: 1500, LimitText: "1.5s"}},
		{"success_rate >= 99.9%", ThresholdExpr{Metric: "success_rate", Kind: MetricPercent, Op: ">=", Limit: 99.9, LimitText: "99.9%"}},
		{"error_rate < 1%", ThresholdExpr{Metric: "error_rate", Kind: MetricPercent, Op: "<", Limit: 1, LimitText: "1%"}},
		{"retry_amplification <= 1.2", ThresholdExpr{Metric: "retry_amplification", Kind: MetricRatio, Op: "<=", Limit: 1.2, LimitText: "1.2"}},
		{"dropped == 0", ThresholdExpr{Metric: "dropped", Kind: MetricCount, Op: "==", Limit: 0, LimitText: "0"}},
		{"failed != 3", ThresholdExpr{Metric: "failed", Kind: MetricCount, Op: "!=", Limit: 3, LimitText: "3"}},
		{"rate.achieved > 19.5/s", ThresholdExpr{Metric: "rate.achieved", Kind: MetricRate, Op: ">", Limit: 19.5, LimitText: "19.5/s"}},
		{"cost.per_conversation_usd < 0.002", ThresholdExpr{Metric: "cost.per_conversation_usd", Kind: MetricUSD, Op: "<", Limit: 0.002, LimitText: "0.002"}},
		{"cost.total_usd < $5", ThresholdExpr{Metric: "cost.total_usd", Kind: MetricUSD, Op: "<", Limit: 5, LimitText: "$5"}},
	}
	for _, tc := range cases {
		got, err := ParseThreshold(tc.expr)
		if err != nil {
			t.Errorf("ParseThreshold(%q): %v", tc.expr, err)
			continue
		}
		tc.want.Text = tc.expr
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("ParseThreshold(%q) =\n  %+v\nwant\n  %+v", tc.expr, *got, tc.want)
		}
	}
}

func TestParseThresholdInvalid(t *testing.T) {
	cases := []struct {
		expr   string
		offset int
		msg    string
	}{
		{"", 0, `expected a metric, such as conversation.p99 or success_rate, at the start of ""`},
		{"conversaton.p99 < 2s", 0, `unknown metric "conversaton"; did you mean "conversation"?`},
		{"conversation < 2s", 12, "missing a statistic: write conversation.p99 (one of p50, p90, p95, p99, p999, mean, min, max, count)"},
		{"conversation.p98 < 2s", 13, `unknown statistic "p98"; did you mean "p90"?`},
		{"conversation.p99 < 2", 19, "the limit 2 has no unit, which is ambiguous for a latency: write 2s or 2ms"},
		{"conversation.p99 < 2 s", 19, `expected a latency such as 800ms or 2s, got "2 s"`},
		{"conversation.p99 = 2s", 17, "use == to compare for equality, not ="},
		{"conversation.p99 2s", 17, "expected a comparison (<, <=, >, >=, ==, !=) after conversation.p99"},
		{"conversation.p99 <", 18, "missing the limit after <"},
		{"step.model{tool=x}.p95 < 1s", 11, `step.model takes the tag filters provider, model, not "tool"`},
		{"step.model{provider=primary.p95 < 1s", 32, `expected , or } in the tag filter, got '<'`},
		{"step.model{provider=primary}.p95 < 1s", -1, ""},
		{"step.model{provider=primary} < 1s", 28, "missing a statistic after the filter, as in step.model{...}.p99"},
		{"step.model.p95{provider=primary} < 1s", 14, "put the tag filter right after the metric, as in step.model{...}.p95"},
		{"step.tool{tool=}.p95 < 1s", 15, "expected a value after tool="},
		{"step.tool{tool=a,tool=b}.p95 < 1s", 17, "the tag tool is filtered twice"},
		{"success_rate{provider=p} > 99%", 12, "success_rate takes no tag filter"},
		{"success_rate >= 101%", 16, `a percentage is at most 100, got "101%"`},
		{"dropped == 0s", 11, `expected a number, without a unit, got "0s"`},
		{"dropped < -1", 10, `the limit must not be negative, got "-1"`},
		{"step.tool.count > 1ms", 18, `expected a number, without a unit, got "1ms"`},
		// A filter on a level that takes none panicked (found by fuzzing).
		{"conversation.{ < 2s", 13, "conversation takes no tag filter"},
		{"service{x=1}.p99 < 2s", 7, "service takes no tag filter"},
		{"conversation.{}.p99 < 2s", 13, "conversation takes no tag filter"},
	}
	for _, tc := range cases {
		_, err := ParseThreshold(tc.expr)
		if tc.offset < 0 {
			if err != nil {
				t.Errorf("ParseThreshold(%q): %v", tc.expr, err)
			}
			continue
		}
		te, ok := err.(*ThresholdError)
		if !ok {
			t.Errorf("ParseThreshold(%q) error = %v (%T), want a *ThresholdError", tc.expr, err, err)
			continue
		}
		if te.Offset != tc.offset || !strings.HasPrefix(te.Msg, tc.msg) {
			t.Errorf("ParseThreshold(%q) = offset %d %q\nwant offset %d %q", tc.expr, te.Offset, te.Msg, tc.offset, tc.msg)
		}
	}
}

func TestThresholdValidationErrors(t *testing.T) {
	// afterBase puts "thresholds:" on line 39, its entries from line 40.
	src := edit(t, afterBase("thresholds:\n"+
		"  - conversation.p99 < 2s\n"+
		"  - conversation.p99 < 2\n"+
		"  - 'step.model{provder=p}.p95 < 1s'\n"+
		"  - {expr: conversation.p99 < 2s, abort_on_fail: true, delay: 5s}\n"+
		"  - success_rate >= 99%\n"+
		"  - \"\"\n"+
		"  - {expr: 'dropped == 0', delay: 5s, abort: true}\n"+
		"  - [conversation.p99 < 2s]\n"+
		"  - {expr: conversation.p99 <, abort_on_fail: true}\n")...)
	es := parseErrors(t, src)
	checkErrors(t, es,
		want{"41:24", "thresholds[1]", "the limit 2 has no unit"},
		want{"42:17", "thresholds[2]", `step.model takes the tag filters provider, model, not "provder"`},
		want{"45:6", "thresholds[5]", "empty; write an expression such as"},
		want{"46:39", "thresholds[6].abort", `unknown field "abort"`},
		want{"47:5", "thresholds[7]", "expected an expression string"},
		want{"48:30", "thresholds[8].expr", "missing the limit after <"},
	)
	// A list item that fails to decode quiets its siblings' checks, so this
	// one stands alone.
	es = parseErrors(t, edit(t, afterBase("thresholds:\n  - {expr: dropped == 0, delay: 5s}\n")...))
	checkErrors(t, es, want{"40:33", "thresholds[0].delay", "delay only applies with abort_on_fail: true"})
}

func TestThresholdsRoundTrip(t *testing.T) {
	src := edit(t, afterBase("thresholds:\n  - success_rate >= 99%   # a comment\n  - \"step.model{provider=p}.p95 < 800ms\"\n")...)
	src = strings.Replace(src, "  - success_rate >= 99%   # a comment\n", "  - success_rate >= 99%   # a comment\n  - {expr: dropped == 0, abort_on_fail: true, delay: 10s}\n", 1)
	s := mustParse(t, src)
	want := []Threshold{{Expr: "success_rate >= 99%"}, {Expr: "dropped == 0", AbortOnFail: true, Delay: Duration(10 * time.Second)}, {Expr: "step.model{provider=p}.p95 < 800ms"}}
	if !reflect.DeepEqual(s.Thresholds, want) {
		t.Fatalf("thresholds = %+v, want %+v", s.Thresholds, want)
	}
	out, err := s.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	back := mustParse(t, string(out))
	if !reflect.DeepEqual(back.Thresholds, want) {
		t.Errorf("after Resolved: thresholds = %+v, want %+v\n%s", back.Thresholds, want, out)
	}
}

func TestThresholdHoldsAndFormat(t *testing.T) {
	for _, tc := range []struct {
		expr  string
		v     float64
		holds bool
		text  string
	}{
		{"conversation.p99 < 2s", 2410, false, "2.41s"},
		{"conversation.p99 < 2s", 812.34, true, "812.3ms"},
		{"conversation.p99 <= 2s", 2000, true, "2s"},
		{"conversation.min > 1ms", 0.25, false, "250µs"},
		{"success_rate >= 99.9%", 99.95, true, "99.95%"},
		{"dropped == 0", 0, true, "0"},
		{"dropped != 0", 0, false, "0"},
		{"rate.throughput > 10", 9.876, false, "9.88/s"},
		{"cost.total_usd < 1", 0.0021, true, "$0.0021"},
		{"conversation.count >= 100", 180, true, "180"},
	} {
		th, err := ParseThreshold(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := th.Holds(tc.v); got != tc.holds {
			t.Errorf("%s with %v: holds = %v, want %v", tc.expr, tc.v, got, tc.holds)
		}
		if got := th.Format(tc.v); got != tc.text {
			t.Errorf("%s: Format(%v) = %q, want %q", tc.expr, tc.v, got, tc.text)
		}
	}
}
