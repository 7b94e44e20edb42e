package mockprovider

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mcpload/mcpload/scenarios"
)

// Defaults of fault fields left at zero. The scenarios package fills the
// same ones in; the mock applies them again so that a Scenario built in Go,
// or a timeline sent to the admin endpoint, behaves the same.
const (
	defaultAfterChunks  = 1
	defaultJSONRPCCode  = -32603
	defaultHTTPStatus   = http.StatusInternalServerError
	defaultRateLimitRA  = time.Second // Retry-After of a rate_limit fault without retry_after
	defaultToolErrorMsg = "mcpload mock: injected tool error"
	defaultJSONRPCMsg   = "Internal error"
)

// chatKinds and toolKinds are the fault kinds each kind of target allows.
var (
	chatKinds = []string{
		scenarios.FaultLatency, scenarios.FaultHang, scenarios.FaultHTTPError, scenarios.FaultRateLimit,
		scenarios.FaultOverloaded, scenarios.FaultReset, scenarios.FaultSlowHeaders, scenarios.FaultStreamStall,
		scenarios.FaultStreamCut, scenarios.FaultMalformed,
	}
	toolKinds = []string{
		scenarios.FaultLatency, scenarios.FaultHang, scenarios.FaultHTTPError, scenarios.FaultRateLimit,
		scenarios.FaultReset, scenarios.FaultSlowHeaders, scenarios.FaultMalformed, scenarios.FaultToolError,
		scenarios.FaultJSONRPCError,
	}
)

// targetKind is what a fault's target names.
type targetKind uint8

const (
	targetProvider targetKind = iota + 1
	targetModel
	targetTool
)

// fault is one compiled entry of a timeline.
type fault struct {
	// spec is the entry with its defaults filled in.
	spec   scenarios.Fault
	target targetKind
	// name is the target's name, after its prefix.
	name string
	// from and until bound the window; open means no end.
	from, until time.Duration
	open        bool
	prob        float64
	// salt makes each fault's draw independent of the others'.
	salt uint64
}

// active reports whether the window of f contains elapsed.
func (f *fault) active(elapsed time.Duration) bool {
	return elapsed >= f.from && (f.open || elapsed < f.until)
}

// timeline is a compiled fault timeline. It is immutable once built: the
// Server swaps whole timelines, so that the request path reads one with a
// single atomic load and no lock.
type timeline struct {
	faults []fault
	// chat and tool report whether any fault targets chat completions or
	// tools, so that other requests skip the timeline at once.
	chat, tool bool
}

// emptyTimeline is the timeline of a mock without faults.
var emptyTimeline = &timeline{}

// decision is what the timeline does to one request: a delay added by the
// latency faults that fired, and at most one other fault.
type decision struct {
	delay time.Duration
	f     *fault
}

// drawer gives the uniform draws of one request's faults. With the
// attacker's headers, the draws derive from the seed and the request's
// identity, so that the same conversation step meets the same faults in
// every run and every policy; otherwise they come from the shared RNG.
type drawer struct {
	src  *rngSource
	base uint64
	have bool
}

// newDrawer derives the draws of a request to endpoint. step stands in
// for the Mcpload-Step header when the client did not send it.
func (s *rngSource) newDrawer(h http.Header, endpoint, step uint64) drawer {
	seq, ok := headerUint(h, HeaderSeq)
	if !ok {
		return drawer{src: s}
	}
	if v, ok := headerUint(h, HeaderStep); ok {
		step = v
	}
	attempt, _ := headerUint(h, HeaderAttempt)
	k := mix(mix(mix(mix(mix(s.seed, faultSalt), seq), step), attempt), endpoint)
	return drawer{base: k, have: true}
}

// faultSalt keeps fault draws apart from the latency and id draws of the
// same request.
const faultSalt = 0x6661756c74

// hit draws against f's probability.
func (d *drawer) hit(f *fault) bool {
	switch {
	case f.prob >= 1:
		return true
	case f.prob <= 0:
		return false
	}
	d.fix()
	u := mix(d.base, f.salt) >> 11 // 53 bits
	return float64(u)/(1<<53) < f.prob
}

// fix draws the base from the shared RNG, once, when the request did not
// carry its identity. It is lazy so that faults of probability 0 or 1
// cost no lock.
func (d *drawer) fix() {
	if !d.have {
		d.src.mu.Lock()
		d.base = d.src.r.Uint64()
		d.src.mu.Unlock()
		d.have = true
	}
}

// rng returns an RNG for the latencies of the faults of a request that has
// no RNG of its own.
func (d *drawer) rng() *rand.Rand {
	d.fix()
	return rand.New(rand.NewPCG(d.base, mix(d.base, 2)))
}

// decide runs the timeline for one request at elapsed time since the
// epoch. match says whether a fault's target is the request's. Faults are
// tried in order: latency faults that fire add their delay and let later
// faults apply; the first other fault that fires is the decision.
func (tl *timeline) decide(elapsed time.Duration, match func(*fault) bool, d *drawer, rng func() *rand.Rand) decision {
	var dec decision
	for i := range tl.faults {
		f := &tl.faults[i]
		if !f.active(elapsed) || !match(f) || !d.hit(f) {
			continue
		}
		if f.spec.Kind == scenarios.FaultLatency {
			dec.delay += Sample(f.spec.Latency, rng())
			continue
		}
		dec.f = f
		return dec
	}
	return dec
}

// targets is what a Server serves, to check fault targets against.
type targets struct {
	// providers are the mock providers; others are the scenario's providers
	// the mock does not serve (their faults are skipped, with a warning).
	providers []string
	others    []string
	tools     []string
}

// compileTimeline checks faults and compiles them. Each error names the
// entry, as in faults[2].kind. With lenient set (a scenario's timeline),
// faults that target a provider the mock does not serve are left out and
// reported in skipped instead of failing.
func compileTimeline(faults []scenarios.Fault, tg targets, lenient bool) (tl *timeline, skipped []string, err error) {
	tl = &timeline{}
	var errs []error
	for i, spec := range faults {
		path := fmt.Sprintf("faults[%d]", i)
		f, skip, ferrs := compileFault(path, spec, tg, lenient)
		errs = append(errs, ferrs...)
		if skip != "" {
			skipped = append(skipped, skip)
		}
		if len(ferrs) > 0 || skip != "" {
			continue
		}
		f.salt = mix(uint64(i)+1, 0x5a17)
		tl.faults = append(tl.faults, f)
		if f.target == targetTool {
			tl.tool = true
		} else {
			tl.chat = true
		}
	}
	if len(errs) > 0 {
		return nil, skipped, errors.Join(errs...)
	}
	if len(tl.faults) == 0 {
		return emptyTimeline, skipped, nil
	}
	return tl, skipped, nil
}

// withDefaults returns spec with its zero fields defaulted.
func withDefaults(spec scenarios.Fault) scenarios.Fault {
	p := 1.0
	if spec.Probability != nil {
		p = *spec.Probability
	}
	spec.Probability = &p // a copy: the timeline shares nothing with its source
	switch spec.Kind {
	case scenarios.FaultStreamStall, scenarios.FaultStreamCut:
		if spec.AfterChunks == 0 {
			spec.AfterChunks = defaultAfterChunks
		}
	case scenarios.FaultJSONRPCError:
		if spec.Code == 0 {
			spec.Code = defaultJSONRPCCode
		}
	}
	if spec.Name == "" {
		spec.Name = spec.Kind + "@" + spec.Target
	}
	return spec
}

func compileFault(path string, spec scenarios.Fault, tg targets, lenient bool) (f fault, skipped string, errs []error) {
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", path, field, fmt.Sprintf(format, args...)))
	}
	spec = withDefaults(spec)
	f.spec = spec

	prefix, name, found := strings.Cut(spec.Target, ":")
	f.name = name
	allowed := chatKinds
	if !found || name == "" {
		prefix = "" // falls to the default case
	}
	switch prefix + ":" {
	case scenarios.TargetProvider:
		f.target = targetProvider
		switch {
		case slices.Contains(tg.providers, name):
		case lenient && slices.Contains(tg.others, name):
			return f, fmt.Sprintf("%s: %s is not served by the mock", path, spec.Target), nil
		default:
			bad("target", "provider %q is not served by the mock (it serves: %s)", name, strings.Join(tg.providers, ", "))
		}
	case scenarios.TargetModel:
		f.target = targetModel
	case scenarios.TargetTool:
		f.target = targetTool
		allowed = toolKinds
		if !slices.Contains(tg.tools, name) {
			bad("target", "tool %q is not a tool of the scenario (tools: %s)", name, listOrNone(tg.tools))
		}
	default:
		bad("target", "%q: expected provider:NAME, model:MODEL or tool:NAME", spec.Target)
	}

	switch {
	case spec.Kind == "":
		bad("kind", "missing; one of %s", strings.Join(allKinds(), ", "))
	case !slices.Contains(chatKinds, spec.Kind) && !slices.Contains(toolKinds, spec.Kind):
		bad("kind", "unknown kind %q; expected one of %s", spec.Kind, strings.Join(allKinds(), ", "))
	case f.target != 0 && !slices.Contains(allowed, spec.Kind):
		bad("kind", "%s does not apply to a %s target (it takes: %s)", spec.Kind, strings.TrimSuffix(prefix, ":"), strings.Join(allowed, ", "))
	}

	f.prob = *spec.Probability
	if !(f.prob >= 0 && f.prob <= 1) { // also rejects NaN
		bad("probability", "%v is not a probability: expected a number from 0 to 1", f.prob)
	}
	if spec.From < 0 || spec.For < 0 {
		bad("for", "a window must not be negative (from %s, for %s)", spec.From.D(), spec.For.D())
	}
	f.from = spec.From.D()
	f.open = spec.For == 0
	f.until = f.from + spec.For.D()
	if slices.Contains(chatKinds, spec.Kind) || slices.Contains(toolKinds, spec.Kind) {
		checkParams(spec, lenient, bad)
	}
	return f, "", errs
}

// checkParams checks the fields of spec's kind, and that the fields of
// other kinds are not set, as the scenario validator does: a status on a
// hang is a mistake, not a detail to ignore. With lenient set, a missing
// http_error status means 500.
func checkParams(spec scenarios.Fault, lenient bool, bad func(field, format string, args ...any)) {
	kind := spec.Kind
	switch kind {
	case scenarios.FaultLatency, scenarios.FaultSlowHeaders:
		if spec.Latency.IsZero() {
			bad("latency", "missing; %s needs a latency, such as 45s or {dist: uniform, min: 1s, max: 5s}", kind)
		}
	case scenarios.FaultStreamStall: // optional: without one the stream stalls until the client gives up
	default:
		if !spec.Latency.IsZero() {
			bad("latency", "only applies to latency, slow_headers and stream_stall faults, not %s", kind)
		}
	}
	if msg := checkLatency(spec.Latency); msg != "" {
		bad("latency", "%s", msg)
	}
	switch {
	case kind == scenarios.FaultHTTPError && spec.Status == 0 && lenient:
	case kind == scenarios.FaultHTTPError && spec.Status != 500 && spec.Status != 502 && spec.Status != 503:
		bad("status", "expected 500, 502 or 503, got %d (for 429 use kind rate_limit, for 529 kind overloaded)", spec.Status)
	case kind != scenarios.FaultHTTPError && spec.Status != 0:
		bad("status", "only applies to http_error faults, not %s", kind)
	}
	takesRetryAfter := kind == scenarios.FaultRateLimit || kind == scenarios.FaultOverloaded ||
		(kind == scenarios.FaultHTTPError && (spec.Status == 503 || spec.Status == 0))
	switch {
	case spec.RetryAfter < 0:
		bad("retry_after", "must not be negative")
	case spec.RetryAfter != 0 && !takesRetryAfter:
		bad("retry_after", "only applies to rate_limit, overloaded and http_error status 503 faults")
	}
	switch kind {
	case scenarios.FaultStreamStall, scenarios.FaultStreamCut:
		if spec.AfterChunks < 0 {
			bad("after_chunks", "must not be negative, got %d", spec.AfterChunks)
		}
	default:
		if spec.AfterChunks != 0 {
			bad("after_chunks", "only applies to stream_stall and stream_cut faults, not %s", kind)
		}
	}
	if spec.Code != 0 && kind != scenarios.FaultJSONRPCError {
		bad("code", "only applies to jsonrpc_error faults, not %s", kind)
	}
	if spec.Message != "" && kind != scenarios.FaultJSONRPCError && kind != scenarios.FaultToolError {
		bad("message", "only applies to jsonrpc_error and tool_error faults, not %s", kind)
	}
}

// checkLatency checks a latency model the way the scenario validator
// does, briefly: a known distribution and sane parameters.
func checkLatency(l scenarios.Latency) string {
	if l.IsZero() {
		return ""
	}
	for _, d := range []scenarios.Duration{l.Value, l.Min, l.Max, l.Mean, l.Stddev, l.P50, l.P99} {
		if d < 0 {
			return "durations must not be negative"
		}
	}
	switch l.Dist {
	case scenarios.DistFixed:
	case scenarios.DistUniform:
		if l.Min > l.Max {
			return fmt.Sprintf("max %s is less than min %s", l.Max.D(), l.Min.D())
		}
	case scenarios.DistNormal:
		if l.Stddev <= 0 {
			return "stddev must be greater than 0 (for a constant latency use dist: fixed)"
		}
	case scenarios.DistLognormal:
		if l.P50 <= 0 || l.P99 <= l.P50 {
			return "lognormal needs 0 < p50 < p99"
		}
	case "":
		return "dist missing; one of fixed, uniform, normal, lognormal"
	default:
		return fmt.Sprintf("unknown distribution %q; expected fixed, uniform, normal or lognormal", l.Dist)
	}
	return ""
}

// allKinds lists every fault kind once.
func allKinds() []string {
	out := slices.Clone(chatKinds)
	for _, k := range toolKinds {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

// specs returns the timeline's faults as scenario entries, defaults filled in.
func (tl *timeline) specs() []scenarios.Fault {
	out := make([]scenarios.Fault, len(tl.faults))
	for i := range tl.faults {
		out[i] = tl.faults[i].spec
	}
	return out
}

// SetEpoch sets the time fault windows count from. By default it is when
// Start ran (or New, for a Server used through Handler only); `mcpload run`
// sets it to the start of the attack so that windows line up with the
// schedule.
func (s *Server) SetEpoch(t time.Time) {
	s.epoch.Store(&t)
	s.epochSet.Store(true)
}

// Epoch returns the time fault windows count from.
func (s *Server) Epoch() time.Time { return *s.epoch.Load() }

// elapsed is the time since the epoch.
func (s *Server) elapsed() time.Duration { return s.now().Sub(*s.epoch.Load()) }

// Faults returns the current fault timeline, defaults filled in.
func (s *Server) Faults() []scenarios.Fault { return s.timeline.Load().specs() }

// SetFaults replaces the fault timeline. The faults are checked as the
// admin endpoint checks them: every target must be served by the mock.
// Requests in progress finish under the timeline they started with.
func (s *Server) SetFaults(faults []scenarios.Fault) error {
	tl, _, err := compileTimeline(faults, s.targets(), false)
	if err != nil {
		return err
	}
	s.timeline.Store(tl)
	return nil
}

// targets lists what fault targets may name.
func (s *Server) targets() targets {
	tg := targets{providers: s.providerNames, others: s.otherProviders}
	for _, t := range s.mcps[""].tools {
		tg.tools = append(tg.tools, t.def.Name)
	}
	return tg
}

// chatDecision runs the timeline for a chat request to p.
func (s *Server) chatDecision(tl *timeline, r *http.Request, p *provider, model string, turn, replies int, rng *rand.Rand) decision {
	d := s.rng.newDrawer(r.Header, p.key, uint64(turn)<<32|uint64(replies))
	match := func(f *fault) bool {
		switch f.target {
		case targetProvider:
			return f.name == p.name
		case targetModel:
			return f.name == p.model || f.name == model
		}
		return false
	}
	return tl.decide(s.elapsed(), match, &d, func() *rand.Rand { return rng })
}
