package attacker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// chatClient sends the model steps of a conversation: it builds the
// request for the conversation's provider and sends it through the
// provider's policy chain (policy.NewChain), or straight to its attempt
// RoundTripper when the scenario sets no policy. It does no redirects of
// its own, and every HTTP exchange in the chain is one recorded attempt.
type chatClient struct {
	rt       http.RoundTripper
	attempt  *chatAttempt  // the primary's, called directly without policies
	ep       *chatEndpoint // the primary provider
	stepKey  string        // record.ModelKey(primary)
	seed     uint64
	redact   *redactor
	accept   []string
	hasChain bool // a policy chain, not the bare attempt, is rt
}

// newChatClient builds the model client of a conversation: primary is
// conversation.provider, others the providers its fallback chain may use,
// attempts their attempt RoundTrippers, by name.
func newChatClient(c *scenarios.Client, seed int64, primary *chatEndpoint, attempts map[string]*chatAttempt, others map[string]*chatEndpoint, rd *redactor) (*chatClient, error) {
	cc := &chatClient{
		ep:      primary,
		stepKey: record.ModelKey(primary.provider),
		seed:    uint64(seed),
		redact:  rd,
		accept:  primary.accept(),
	}
	cc.attempt = attempts[primary.provider]
	cc.rt = cc.attempt
	if !hasPolicies(c) {
		return cc, nil
	}
	var targets []policy.Target
	for name, ep := range others {
		targets = append(targets, policy.Target{Provider: name, Attempt: attempts[name], Rewrite: ep.rewriteFrom(primary)})
	}
	chain, err := policy.NewChain(c, policy.Target{Provider: primary.provider, Attempt: attempts[primary.provider]}, targets...)
	if err != nil {
		return nil, err
	}
	cc.rt, cc.hasChain = chain, true
	return cc, nil
}

// hasPolicies reports whether c sets any policy that wraps the attempt.
func hasPolicies(c *scenarios.Client) bool {
	return c.Retry != nil || c.Breaker != nil || len(c.Fallback) > 0 ||
		(c.Hedge != nil && c.Hedge.Delay > 0) || (c.Cache != nil && c.Cache.TTL > 0)
}

// do runs model step step of conversation seq: one request through the
// chain, with every attempt recorded to sink as it ends. The result's
// start, latency and TTFT are the step's; its bytes sum every attempt's.
func (c *chatClient) do(ctx context.Context, seq uint64, step int, msgs []openaichat.Message, sink Sink) chatResult {
	body := c.ep.body(msgs)
	if !c.hasChain {
		// No policy: one attempt, without a template request or a
		// context value, so that this path costs what it did before
		// policies existed.
		st := policy.Step{Conversation: seq, Index: step}
		start := time.Now()
		r, _ := c.attempt.attempt(ctx, nil, body, &st, sink)
		r.start, r.latency, r.provider = start, time.Since(start), c.ep.provider
		return r
	}

	st := newStepState(seq, step, c.stepKey, c.ep.provider, c.seed, sink)
	st.msgs = msgs // for a fallback to another dialect
	start := time.Now()
	var r chatResult
	req, err := http.NewRequestWithContext(policy.WithStep(ctx, &st.Step), http.MethodPost, c.ep.url, bytes.NewReader(body))
	if err != nil {
		r.outcome, r.err = record.OutcomeProtocol, fmt.Sprintf("building request: %v", err)
	} else {
		req.Header["Content-Type"] = hdrJSON
		req.Header["Accept"] = c.accept
		c.ep.setHeaders(req.Header)
		resp, err := c.rt.RoundTrip(req)
		r = c.result(ctx, resp, err)
	}
	if r.ttft > 0 {
		r.ttft += r.start.Sub(start) // the winning attempt's, from the step's start
	}
	if st.Attempts() == 0 {
		r.ttft = 0 // answered without an attempt: a cache hit
	}
	r.start = start
	r.latency = time.Since(start)
	r.bytesIn = st.bytesIn.Load()
	r.provider = st.CurrentProvider()
	return r
}

// result extracts the step's result from what the chain returned: the
// attempt's own, or the classified error of a policy (a breaker refusal,
// a wait cut short).
func (c *chatClient) result(ctx context.Context, resp *http.Response, err error) chatResult {
	if err != nil {
		var ae *attemptError
		if errors.As(err, &ae) {
			return ae.res
		}
		r := chatResult{outcome: policy.OutcomeOf(nil, err), err: c.redact.clip(err.Error())}
		if o := policy.StopOutcome(ctx); o != "" {
			r.outcome = o
		}
		return r
	}
	if b, ok := resp.Body.(*chatBody); ok {
		return b.res
	}
	// Not an attempt's response: some RoundTripper in between made it.
	policy.Discard(resp)
	r := chatResult{status: resp.StatusCode, outcome: policy.StatusOutcome(resp.StatusCode)}
	if r.outcome == record.OutcomeOK {
		r.outcome, r.err = record.OutcomeProtocol, "response without a parsed body"
	} else {
		r.err = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	return r
}
