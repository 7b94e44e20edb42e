package scenarios

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// FaultKinds lists the fault kinds, in the order error messages give them.
func FaultKinds() []string {
	return []string{
		FaultLatency, FaultHang, FaultHTTPError, FaultRateLimit, FaultOverloaded, FaultReset,
		FaultSlowHeaders, FaultStreamStall, FaultStreamCut, FaultMalformed, FaultToolError, FaultJSONRPCError,
	}
}

// FaultKindsFor lists the kinds a target prefix (TargetProvider,
// TargetModel or TargetTool) allows: a model endpoint can stream and
// overload, an MCP tool can answer isError or a JSON-RPC error.
func FaultKindsFor(prefix string) []string {
	switch prefix {
	case TargetTool:
		return []string{FaultLatency, FaultHang, FaultHTTPError, FaultRateLimit, FaultReset,
			FaultSlowHeaders, FaultMalformed, FaultToolError, FaultJSONRPCError}
	default:
		return []string{FaultLatency, FaultHang, FaultHTTPError, FaultRateLimit, FaultOverloaded, FaultReset,
			FaultSlowHeaders, FaultStreamStall, FaultStreamCut, FaultMalformed}
	}
}

// plannedDuration is the length of s's schedule: its stages end to end.
func plannedDuration(s *Scenario) Duration {
	var total Duration
	for _, st := range s.Load.Stages {
		if st.Duration > 0 {
			total += st.Duration
		}
	}
	return total
}

func (v *validator) faults(s *Scenario) {
	planned := plannedDuration(s)
	for i := range s.Faults {
		v.fault(s, index("faults", i), &s.Faults[i], planned)
	}
}

func (v *validator) fault(s *Scenario, path string, f *Fault, planned Duration) {
	prefix := v.faultTarget(s, field(path, "target"), f.Target)
	kp := field(path, "kind")
	kinds := FaultKinds()
	known := slices.Contains(kinds, f.Kind)
	switch {
	case f.Kind == "":
		v.errorf(kp, "missing; one of %s", strings.Join(kinds, ", "))
	case !known:
		v.errorf(kp, "%s", unknownValue("fault kind", f.Kind, kinds))
	case prefix != "" && !slices.Contains(FaultKindsFor(prefix), f.Kind):
		what := "a model endpoint (provider: or model: target)"
		if prefix == TargetTool {
			what = "an MCP tool (tool: target)"
		}
		v.errorf(kp, "kind %s does not apply to %s; it takes %s", f.Kind, what, strings.Join(FaultKindsFor(prefix), ", "))
	}
	if p := f.Probability; p != nil && !(*p >= 0 && *p <= 1) {
		v.errorf(field(path, "probability"), "must be from 0 to 1 (the share of requests hit), got %v", *p)
	}
	switch {
	case f.From < 0:
		v.errorf(field(path, "from"), "must not be negative")
	case planned > 0 && f.From >= planned:
		v.errorf(field(path, "from"), "the window opens at %s, when the run's schedule (%s, the sum of load.stages) is over; the fault would never fire", f.From.D(), planned.D())
	}
	if f.For < 0 {
		v.errorf(field(path, "for"), "must not be negative")
	}
	if known {
		v.faultParams(path, f)
	}
}

// faultTarget checks a fault's target and returns its prefix, or "" when
// the target is not usable.
func (v *validator) faultTarget(s *Scenario, path, target string) string {
	const forms = "provider:NAME, model:MODEL or tool:NAME"
	if target == "" {
		v.errorf(path, "missing; name what the fault hits: %s", forms)
		return ""
	}
	kind, name, _ := strings.Cut(target, ":")
	prefix := kind + ":"
	if !slices.Contains([]string{TargetProvider, TargetModel, TargetTool}, prefix) || name == "" {
		v.errorf(path, "expected %s, got %q", forms, target)
		return ""
	}
	switch prefix {
	case TargetProvider:
		if s.Providers[name] == nil {
			v.errorf(path, "provider %q is not defined in providers (defined: %s)", name, names(s.Providers))
		}
	case TargetModel:
		var models []string
		for _, pn := range slices.Sorted(maps.Keys(s.Providers)) {
			if p := s.Providers[pn]; p != nil && p.Model != "" && !slices.Contains(models, p.Model) {
				models = append(models, p.Model)
			}
		}
		if !slices.Contains(models, name) {
			v.errorf(path, "no provider asks for model %q (models: %s)", name, listOrNone(models))
		}
	case TargetTool:
		if !slices.ContainsFunc(s.Tools, func(t *Tool) bool { return t != nil && t.Name == name }) {
			v.errorf(path, "tool %q is not defined in tools (defined: %s)", name, toolNames(s))
		}
	}
	v.faultReaches(s, path, prefix, name)
	return prefix
}

// faultParams checks the fields that belong to f's kind, and that fields
// of other kinds are not set: a status on a hang is a mistake, not a
// detail to ignore.
func (v *validator) faultParams(path string, f *Fault) {
	lp := field(path, "latency")
	switch f.Kind {
	case FaultLatency, FaultSlowHeaders:
		if f.Latency.IsZero() {
			v.errorf(lp, "missing; %s needs a latency, such as 45s or {dist: uniform, min: 1s, max: 5s}", f.Kind)
		}
		v.latency(lp, f.Latency)
	case FaultStreamStall:
		v.latency(lp, f.Latency) // optional: without one the stream stalls until the client gives up
	default:
		if !f.Latency.IsZero() {
			v.errorf(lp, "only applies to latency, slow_headers and stream_stall faults, not %s", f.Kind)
		}
	}

	sp := field(path, "status")
	switch {
	case f.Kind == FaultHTTPError && f.Status == 0:
		v.errorf(sp, "missing; http_error needs status 500, 502 or 503")
	case f.Kind == FaultHTTPError && f.Status != 500 && f.Status != 502 && f.Status != 503:
		v.errorf(sp, "expected 500, 502 or 503, got %d (for 429 use kind rate_limit, for 529 kind overloaded)", f.Status)
	case f.Kind != FaultHTTPError && f.Status != 0:
		v.errorf(sp, "only applies to http_error faults, not %s", f.Kind)
	}

	rp := field(path, "retry_after")
	takesRetryAfter := f.Kind == FaultRateLimit || f.Kind == FaultOverloaded || (f.Kind == FaultHTTPError && f.Status == 503)
	switch {
	case f.RetryAfter < 0:
		v.errorf(rp, "must not be negative")
	case f.RetryAfter != 0 && !takesRetryAfter && !(f.Kind == FaultHTTPError && f.Status == 0):
		v.errorf(rp, "only applies to rate_limit, overloaded and http_error status 503 faults")
	}

	ap := field(path, "after_chunks")
	switch {
	case f.Kind == FaultStreamStall || f.Kind == FaultStreamCut:
		if f.AfterChunks < 0 {
			v.errorf(ap, "must not be negative, got %d", f.AfterChunks)
		}
	case f.AfterChunks != 0:
		v.errorf(ap, "only applies to stream_stall and stream_cut faults, not %s", f.Kind)
	}

	if f.Code != 0 && f.Kind != FaultJSONRPCError {
		v.errorf(field(path, "code"), "only applies to jsonrpc_error faults, not %s", f.Kind)
	}
	if f.Kind == FaultJSONRPCError {
		v.jsonRPCCode(field(path, "code"), f.Code)
	}
	if f.Message != "" && f.Kind != FaultJSONRPCError && f.Kind != FaultToolError {
		v.errorf(field(path, "message"), "only applies to jsonrpc_error and tool_error faults, not %s", f.Kind)
	}
}

// limits checks a provider's mock rate limits.
func (v *validator) limits(path string, l *Limits) {
	if l == nil {
		return
	}
	if l.RPM < 0 {
		v.errorf(field(path, "rpm"), "must not be negative, got %d", l.RPM)
	}
	if l.TPM < 0 {
		v.errorf(field(path, "tpm"), "must not be negative, got %d", l.TPM)
	}
	if l.RPM <= 0 && l.TPM <= 0 {
		v.errorf(path, "set rpm (requests per minute), tpm (tokens per minute) or both to a limit above 0")
	}
	if q := l.Quantum.D(); q > time.Minute {
		v.errorf(field(path, "quantum"), "must be at most 1m (the limits are per minute), got %s", q)
	} else if q > 0 && l.RPM > 0 && l.RPM*int(q/time.Millisecond) < int(time.Minute/time.Millisecond) {
		v.errorf(field(path, "quantum"), "rpm %d over a quantum of %s admits less than one request; use a longer quantum", l.RPM, q)
	}
}

// unknownValue says that got is not one of want, with a guess when one is
// close.
func unknownValue(what, got string, want []string) string {
	best, bestDist := "", 3
	for _, w := range want {
		if d := editDistance(strings.ToLower(got), w); d < bestDist {
			best, bestDist = w, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown %s %q; did you mean %q?", what, got, best)
	}
	return fmt.Sprintf("unknown %s %q; expected one of: %s", what, got, strings.Join(want, ", "))
}

// finite reports whether x is a number that is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

// jsonRPCCode checks the code of a jsonrpc_error fault: an integer that
// JSON-RPC 2.0 lets a server send. Its pre-defined errors sit in -32768
// to -32000; of those, -32099 to -32000 are left to servers (the seed's
// -32001 to -32004 among them), and -32768 to -32100 hold only the five
// standard codes (-32700, -32600 to -32603).
func (v *validator) jsonRPCCode(path string, code int) {
	switch {
	case code < math.MinInt32 || code > math.MaxInt32:
		v.errorf(path, "%d does not fit a JSON-RPC error code (a 32-bit integer)", code)
	case code == 0:
		// Defaulted to -32603; 0 left only by code that skips defaults.
	case code >= -32768 && code <= -32100 && code != -32700 && !(code >= -32603 && code <= -32600):
		v.errorf(path, "%d is reserved by JSON-RPC 2.0 for errors it has not defined; use a standard code (-32700, -32600 to -32603), a server error (-32099 to -32000, such as -32001 tool not found, -32002 execution failed, -32003 timeout, -32004 rate limited) or an application code outside -32768 to -32000", code)
	}
}
