package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Threshold is one entry of the scenario's thresholds: list, a CI gate such
// as "conversation.p99 < 2s". In YAML it is the expression string, or a
// mapping that adds abort_on_fail and delay:
//
//	thresholds:
//	  - conversation.p99 < 2s
//	  - expr: success_rate >= 99%
//	    abort_on_fail: true
//	    delay: 30s
type Threshold struct {
	Expr string `yaml:"expr"`
	// AbortOnFail stops the run as soon as the threshold fails while the
	// run goes on, as k6's abortOnFail does: a run that has already lost
	// its gate need not spend the rest of its schedule (or budget).
	AbortOnFail bool `yaml:"abort_on_fail,omitempty"`
	// Delay is how long after the start of the load abort_on_fail waits
	// before it judges: early seconds hold too few samples to judge on.
	Delay Duration `yaml:"delay,omitempty"`
}

// UnmarshalYAML accepts the expression string form; the decoder reads the
// mapping form field by field. The expression itself is checked by
// validation, which places errors inside it.
func (t *Threshold) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return fmt.Errorf("expected an expression string, such as \"conversation.p99 < 2s\", or a mapping with expr, abort_on_fail and delay, got %s", describe(n))
	}
	t.Expr = n.Value
	return nil
}

// MarshalYAML writes t as its expression string when that says it all.
func (t Threshold) MarshalYAML() (any, error) {
	if !t.AbortOnFail && t.Delay == 0 {
		return t.Expr, nil
	}
	type plain Threshold
	return plain(t), nil
}

// MetricKind says what a threshold metric measures, which decides the units
// its limit may be written in.
type MetricKind int

// Metric kinds.
const (
	// MetricLatency is a latency level: its statistics are in ms, except
	// count, which is a count.
	MetricLatency MetricKind = iota + 1
	// MetricPercent is a share from 0 to 100; the limit may end in "%".
	MetricPercent
	// MetricCount is a number of things: no unit.
	MetricCount
	// MetricRatio is a dimensionless ratio, such as attempts per step.
	MetricRatio
	// MetricRate is per second; the limit may end in "/s".
	MetricRate
	// MetricUSD is US dollars; the limit may start with "$".
	MetricUSD
)

// thresholdMetrics maps each metric a threshold can name to its kind.
var thresholdMetrics = map[string]MetricKind{
	"conversation":  MetricLatency,
	"service":       MetricLatency,
	"step.model":    MetricLatency,
	"step.tool":     MetricLatency,
	"attempt.model": MetricLatency,
	"attempt.tool":  MetricLatency,
	"ttft.model":    MetricLatency,
	// MCP-direct operations, per operation key: tool:NAME, resource:URI,
	// prompt:NAME, mcp:SERVER/tools/list and mcp:SERVER/initialize.
	"step.mcp":    MetricLatency,
	"attempt.mcp": MetricLatency,

	// Streams, per model attempt key (README "Streaming metrics").
	"first_tool_call.model":    MetricLatency,
	"tool_args_complete.model": MetricLatency,
	"inter_token.model":        MetricLatency,
	"tpot.model":               MetricLatency,
	"output_tokens_per_s":      MetricRate,

	"success_rate": MetricPercent,
	"error_rate":   MetricPercent,
	"goodput":      MetricPercent,

	"started":           MetricCount,
	"ok":                MetricCount,
	"failed":            MetricCount,
	"dropped":           MetricCount,
	"retries":           MetricCount,
	"fallbacks":         MetricCount,
	"invalid_tool_args": MetricCount,
	"tokens.prompt":     MetricCount,
	"tokens.completion": MetricCount,
	"tokens.cached":     MetricCount,

	"retry_amplification": MetricRatio,

	"rate.target":     MetricRate,
	"rate.achieved":   MetricRate,
	"rate.throughput": MetricRate,

	"availability.model": MetricPercent,
	"cost.saving":        MetricPercent,

	"cost.total_usd":                       MetricUSD,
	"cost.per_conversation_usd":            MetricUSD,
	"cost.per_successful_conversation_usd": MetricUSD,
}

// ThresholdMetrics lists the metrics a threshold can name, sorted.
func ThresholdMetrics() []string {
	names := make([]string, 0, len(thresholdMetrics))
	for n := range thresholdMetrics {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ThresholdStats lists the statistics of a latency metric, in order.
var thresholdStats = []string{"p50", "p90", "p95", "p99", "p999", "mean", "min", "max", "count"}

// filterKeys lists the tag filters each latency metric takes.
func filterKeys(metric string) []string {
	switch {
	case strings.HasSuffix(metric, ".model"), metric == "output_tokens_per_s":
		return []string{"provider", "model"}
	case strings.HasSuffix(metric, ".tool"):
		return []string{"tool"}
	case strings.HasSuffix(metric, ".mcp"):
		return []string{"op", "tool", "uri", "prompt"}
	}
	return nil
}

// ThresholdOps are the comparisons a threshold can make.
var ThresholdOps = []string{"<", "<=", ">", ">=", "==", "!="}

// TagFilter is one {key=value} filter of a threshold's metric.
type TagFilter struct {
	Key, Value string
}

// ThresholdExpr is a parsed threshold: METRIC[{tag=value,...}][.STAT] OP
// VALUE[UNIT].
type ThresholdExpr struct {
	// Text is the expression as written.
	Text string
	// Metric is a name from ThresholdMetrics, such as "step.model".
	Metric  string
	Kind    MetricKind
	Filters []TagFilter
	// Stat is the statistic of a latency metric ("p99"; p99.9 is "p999"),
	// and empty for other metrics.
	Stat string
	Op   string
	// Limit is in the metric's base unit: ms for latencies, percent for
	// shares, per second for rates, USD for costs.
	Limit float64
	// LimitText is the limit as written, such as "2s".
	LimitText string
}

// ThresholdError is a problem in a threshold expression, at Offset bytes
// into it.
type ThresholdError struct {
	Offset int
	Msg    string
}

// Error returns the message; the caller places it.
func (e *ThresholdError) Error() string { return e.Msg }

// ParseThreshold parses a threshold expression. The error is a
// *ThresholdError.
func ParseThreshold(expr string) (*ThresholdExpr, error) {
	p := &thresholdParser{s: expr}
	t, err := p.parse()
	if err != nil {
		return nil, err
	}
	t.Text = expr
	return t, nil
}

type thresholdParser struct {
	s string
	i int
}

func (p *thresholdParser) fail(at int, format string, args ...any) error {
	return &ThresholdError{Offset: at, Msg: fmt.Sprintf(format, args...)}
}

func (p *thresholdParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// run reads the longest run of bytes that satisfy ok.
func (p *thresholdParser) run(ok func(byte) bool) string {
	start := p.i
	for p.i < len(p.s) && ok(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func isNameByte(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isTagByte(c byte) bool {
	return isNameByte(c) || c == '-' || c == ':' || c == '/'
}

func (p *thresholdParser) parse() (*ThresholdExpr, error) {
	p.space()
	start := p.i
	head := p.run(isNameByte)
	if p.i < len(p.s) && p.s[p.i] == '(' && slices.Contains([]string{"p", "avg", "med", "min", "max", "count", "rate"}, head) {
		return nil, p.fail(start, "k6's %s(...) needs a metric in mcpload: write METRIC.STAT, as in conversation.p95 < 200ms (p(95) is accepted after the metric: conversation.p(95))", head)
	}
	if head == "" {
		return nil, p.fail(start, "expected a metric, such as conversation.p99 or success_rate, at the start of %q", p.s)
	}
	t := &ThresholdExpr{}
	if err := p.metric(t, head, start); err != nil {
		return nil, err
	}
	if t.Kind == MetricLatency {
		if err := p.filtersAndStat(t, head, start); err != nil {
			return nil, err
		}
	} else if p.i < len(p.s) && p.s[p.i] == '{' {
		if filterKeys(t.Metric) == nil {
			return nil, p.fail(p.i, "%s takes no tag filter; only latency metrics such as step.model{provider=NAME}, availability.model and output_tokens_per_s do", t.Metric)
		}
		if err := p.filters(t); err != nil {
			return nil, err
		}
	}

	p.space()
	opAt := p.i
	for _, op := range []string{"<=", ">=", "==", "!=", "<", ">"} {
		if strings.HasPrefix(p.s[p.i:], op) {
			t.Op = op
			p.i += len(op)
			break
		}
	}
	if t.Op == "" {
		switch {
		case strings.HasPrefix(p.s[p.i:], "=<"):
			return nil, p.fail(opAt, "write <= for at most, not =<")
		case strings.HasPrefix(p.s[p.i:], "=>"):
			return nil, p.fail(opAt, "write >= for at least, not =>")
		case p.i < len(p.s) && p.s[p.i] == '=':
			return nil, p.fail(opAt, "use == to compare for equality, not =")
		}
		return nil, p.fail(opAt, "expected a comparison (%s) after %s", strings.Join(ThresholdOps, ", "), p.s[start:opAt])
	}
	p.space()
	valAt := p.i
	val := strings.TrimRight(p.s[p.i:], " \t")
	if val == "" {
		return nil, p.fail(valAt, "missing the limit after %s", t.Op)
	}
	limit, err := parseLimit(t, val)
	if err != nil {
		return nil, p.fail(valAt, "%s", err)
	}
	t.Limit, t.LimitText = limit, val
	return t, nil
}

// metric resolves head, the dotted name before any filter or operator, into
// a metric and, for latencies, a statistic.
func (p *thresholdParser) metric(t *ThresholdExpr, head string, at int) error {
	if k, ok := thresholdMetrics[head]; ok {
		t.Metric, t.Kind = head, k
		return nil
	}
	// The longest latency level that prefixes head: "step.model.p95".
	for _, name := range ThresholdMetrics() {
		if thresholdMetrics[name] != MetricLatency || !strings.HasPrefix(head, name+".") {
			continue
		}
		if len(name) > len(t.Metric) {
			t.Metric, t.Kind = name, MetricLatency
		}
	}
	if t.Metric != "" {
		return nil
	}
	name := head
	// Guess on the metric part: "conversaton.p99" -> "conversation".
	name = strings.TrimSuffix(name, ".p99.9")
	for _, st := range thresholdStats {
		if cut, ok := strings.CutSuffix(name, "."+st); ok {
			name = cut
		}
	}
	if _, ok := thresholdMetrics[name]; ok && name != head {
		return p.fail(at, "%s is not a latency and takes no statistic: write %s > LIMIT", name, name)
	}
	return p.fail(at, "%s", unknownValue("metric", name, ThresholdMetrics()))
}

// filtersAndStat reads what follows a latency level: an optional
// {tag=value,...} filter, then .STAT, which is required.
func (p *thresholdParser) filtersAndStat(t *ThresholdExpr, head string, at int) error {
	stat := strings.TrimPrefix(strings.TrimPrefix(head, t.Metric), ".")
	statAt := at + len(t.Metric) + 1
	if p.i < len(p.s) && p.s[p.i] == '{' {
		if filterKeys(t.Metric) == nil {
			return p.fail(p.i, "%s takes no tag filter; write %s.p99 (tag filters belong to the .model and .tool levels)", t.Metric, t.Metric)
		}
		if stat != "" {
			return p.fail(p.i, "put the tag filter right after the metric, as in %s{...}.%s", t.Metric, stat)
		}
		if err := p.filters(t); err != nil {
			return err
		}
		if p.i >= len(p.s) || p.s[p.i] != '.' {
			return p.fail(p.i, "missing a statistic after the filter, as in %s{...}.p99 (one of %s)", t.Metric, strings.Join(thresholdStats, ", "))
		}
		p.i++
		statAt = p.i
		stat = p.run(isNameByte)
	}
	if stat == "p" && p.i < len(p.s) && p.s[p.i] == '(' {
		k6, err := p.k6Percentile(statAt)
		if err != nil {
			return err
		}
		stat = k6
	}
	switch {
	case stat == "":
		return p.fail(statAt-1, "missing a statistic: write %s.p99 (one of %s)", t.Metric, strings.Join(thresholdStats, ", "))
	case stat == "p99.9":
		stat = "p999"
	case stat == "avg":
		return p.fail(statAt, "write mean, not k6's avg")
	case stat == "med":
		return p.fail(statAt, "write p50, not k6's med")
	case !slices.Contains(thresholdStats, stat):
		return p.fail(statAt, "%s", unknownValue("statistic", stat, thresholdStats))
	}
	t.Stat = stat
	return nil
}

// k6Percentile reads k6's p(N) after the "p" at statAt, and returns the
// mcpload statistic it means: p(95) is p95, p(99.9) is p999. Only the
// percentiles mcpload keeps are accepted.
func (p *thresholdParser) k6Percentile(statAt int) (string, error) {
	p.i++ // '('
	n := p.run(func(c byte) bool { return c == '.' || c >= '0' && c <= '9' })
	if p.i >= len(p.s) || p.s[p.i] != ')' {
		return "", p.fail(statAt, "expected a percentile such as p(95) or p95")
	}
	p.i++
	stat, ok := map[string]string{"50": "p50", "90": "p90", "95": "p95", "99": "p99", "99.9": "p999"}[n]
	if !ok {
		return "", p.fail(statAt, "p(%s) is not a percentile mcpload keeps: use one of %s", n, strings.Join(thresholdStats[:5], ", "))
	}
	return stat, nil
}

func (p *thresholdParser) filters(t *ThresholdExpr) error {
	allowed := filterKeys(t.Metric)
	open := p.i
	p.i++ // '{'
	for {
		p.space()
		keyAt := p.i
		key := p.run(isNameByte)
		if key == "" {
			return p.fail(keyAt, "expected a tag filter such as %s=NAME", allowed[0])
		}
		if !slices.Contains(allowed, key) {
			return p.fail(keyAt, "%s takes the tag filters %s, not %q", t.Metric, strings.Join(allowed, ", "), key)
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '=' {
			return p.fail(p.i, "expected = after the tag %s", key)
		}
		p.i++
		p.space()
		valAt := p.i
		val := p.run(isTagByte)
		if val == "" {
			return p.fail(valAt, "expected a value after %s=", key)
		}
		if slices.ContainsFunc(t.Filters, func(f TagFilter) bool { return f.Key == key }) {
			return p.fail(keyAt, "the tag %s is filtered twice", key)
		}
		t.Filters = append(t.Filters, TagFilter{Key: key, Value: val})
		p.space()
		if p.i >= len(p.s) {
			return p.fail(open, "the tag filter is not closed with }")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.fail(p.i, "expected , or } in the tag filter, got %q", p.s[p.i])
		}
	}
}

// parseLimit parses the limit val in the unit of t's metric and returns it
// in the metric's base unit.
func parseLimit(t *ThresholdExpr, val string) (float64, error) {
	number := func(s, what string) (float64, error) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("expected %s, got %q", what, val)
		}
		if f < 0 {
			return 0, fmt.Errorf("the limit must not be negative, got %q", val)
		}
		return f, nil
	}
	switch {
	case t.Kind == MetricLatency && t.Stat != "count":
		d, err := time.ParseDuration(strings.ReplaceAll(val, "µs", "us"))
		if err != nil {
			if _, nerr := strconv.ParseFloat(val, 64); nerr == nil {
				return 0, fmt.Errorf("the limit %s has no unit, which is ambiguous for a latency: write %ss or %sms", val, val, val)
			}
			return 0, fmt.Errorf("expected a latency such as 800ms or 2s, got %q", val)
		}
		if d < 0 {
			return 0, fmt.Errorf("the limit must not be negative, got %q", val)
		}
		return float64(d) / float64(time.Millisecond), nil
	case t.Kind == MetricPercent:
		pct, ok := strings.CutSuffix(val, "%")
		if !ok {
			// A bare number is a percentage to some and a fraction to
			// k6 users (rate<0.01 is 1%): only "%" says which.
			f, err := strconv.ParseFloat(val, 64)
			switch {
			case err != nil:
				return 0, fmt.Errorf("expected a percentage such as 99.9%%, got %q", val)
			case f > 0 && f <= 1:
				return 0, fmt.Errorf("%s is a percentage: write %s%%, or %s%% if %s is a fraction as in k6", t.Metric, val, strconv.FormatFloat(f*100, 'g', 10, 64), val)
			}
			return 0, fmt.Errorf("%s is a percentage: write the limit with %%, such as %s%%", t.Metric, val)
		}
		f, err := number(strings.TrimSpace(pct), "a percentage such as 99.9%")
		if err == nil && f > 100 {
			err = fmt.Errorf("a percentage is at most 100, got %q", val)
		}
		return f, err
	case t.Kind == MetricRate:
		return number(strings.TrimSpace(strings.TrimSuffix(val, "/s")), "a rate per second such as 20 or 20/s")
	case t.Kind == MetricUSD:
		return number(strings.TrimPrefix(val, "$"), "an amount in USD such as 0.002")
	case t.Kind == MetricRatio:
		return number(val, "a number such as 1.2")
	default: // counts, and the count of a latency level
		return number(val, "a number, without a unit")
	}
}

// Holds reports whether the measured value v meets the threshold.
func (t *ThresholdExpr) Holds(v float64) bool {
	switch t.Op {
	case "<":
		return v < t.Limit
	case "<=":
		return v <= t.Limit
	case ">":
		return v > t.Limit
	case ">=":
		return v >= t.Limit
	case "==":
		return v == t.Limit
	case "!=":
		return v != t.Limit
	}
	return false
}

// Format writes a measured value of t's metric with its unit, in the form
// a reader compares with the limit: 812ms, 2.41s, 99.95%, 1.02, 18.1/s.
func (t *ThresholdExpr) Format(v float64) string {
	g := func(x float64, prec int) string { return strconv.FormatFloat(x, 'f', prec, 64) }
	trim := func(s string) string {
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
		return s
	}
	switch {
	case t.Kind == MetricLatency && t.Stat != "count":
		switch {
		case v >= 1000:
			return trim(g(v/1000, 3)) + "s"
		case v >= 1:
			return trim(g(v, 1)) + "ms"
		default:
			return trim(g(v*1000, 0)) + "µs"
		}
	case t.Kind == MetricPercent:
		return trim(g(v, 3)) + "%"
	case t.Kind == MetricRate:
		return trim(g(v, 2)) + "/s"
	case t.Kind == MetricUSD:
		return "$" + trim(g(v, 6))
	case t.Kind == MetricRatio:
		return trim(g(v, 3))
	}
	return trim(g(v, 3))
}

// thresholds checks the scenario's threshold expressions, and each
// against what the scenario's runs can measure.
func (v *validator) thresholds(s *Scenario) {
	v.thresholdList(s, "thresholds", s.Thresholds)
}

// thresholdList checks the thresholds at path, which are judged on the
// runs of s (a scenario, or one policy's run of it).
func (v *validator) thresholdList(s *Scenario, at string, list []Threshold) {
	var scope *thresholdScope
	for i, th := range list {
		path := index(at, i)
		// Each entry stands alone: one that failed to decode (a mapping)
		// says nothing about the others, so only that one is skipped.
		if v.failedInside(path) {
			continue
		}
		if n := v.nodes[path]; n != nil && n.Kind == yaml.MappingNode {
			if th.Delay != 0 && !th.AbortOnFail {
				v.errorf(field(path, "delay"), "delay only applies with abort_on_fail: true")
			}
			path = field(path, "expr")
		}
		t := v.expression(path, th.Expr)
		if t == nil {
			continue
		}
		if scope == nil {
			scope = v.scope(s)
		}
		if off, msg := scope.check(t); msg != "" {
			v.exprError(path, th.Expr, &ThresholdError{Offset: off, Msg: msg})
		}
	}
}

// scope is what the runs of s measure, or nil while the sections that
// say it are missing or failed to decode: what they measure would be a
// guess, and their own errors suffice.
func (v *validator) scope(s *Scenario) *thresholdScope {
	if s.Conversation == nil && s.MCPDirect == nil || v.failedInside("conversation") || v.failedInside("mcp_direct") || v.failedInside("providers") {
		return nil
	}
	return scopeOf(s)
}

// expression parses expr, a threshold or claim expression at path, and
// reports an error at its place inside the expression. It returns the
// parsed expression, or nil when it does not parse.
func (v *validator) expression(path, expr string) *ThresholdExpr {
	t, err := ParseThreshold(expr)
	te, ok := err.(*ThresholdError)
	if !ok {
		return t
	}
	if strings.TrimSpace(expr) == "" {
		te.Msg, te.Offset = "empty; write an expression such as \"conversation.p99 < 2s\"", 0
	}
	v.exprError(path, expr, te)
	return nil
}

// exprError reports te at its place inside expr, the expression at path.
func (v *validator) exprError(path, expr string, te *ThresholdError) {
	e := &FieldError{File: v.file, Field: path, Msg: te.Msg}
	n := v.nodes[path]
	if n == nil {
		v.errs = append(v.errs, e)
		return
	}
	e.Line, e.Column = n.Line, n.Column
	// A plain or quoted one-line scalar maps offsets to columns; other
	// styles (folded, literal, escapes) keep the scalar's own column.
	switch n.Style {
	case 0:
		e.Column += te.Offset
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		if !strings.ContainsAny(expr, "\\'\"") {
			e.Column += te.Offset + 1
		}
	}
	v.errs = append(v.errs, e)
}
