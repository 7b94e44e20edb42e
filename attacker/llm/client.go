package llm

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

// Client sends the model steps of a conversation: it builds the
// request for the conversation's provider and sends it through the
// provider's policy chain (policy.NewChain), or straight to its attempt
// RoundTripper when the scenario sets no policy. It does no redirects of
// its own, and every HTTP exchange in the chain is one recorded attempt.
type Client struct {
	rt       http.RoundTripper
	attempt  *Attempt  // the primary's, called directly without policies
	ep       *Endpoint // the primary provider
	stepKey  string    // record.ModelKey(primary)
	seed     uint64
	redact   Redactor
	accept   []string
	hasChain bool // a policy chain, not the bare attempt, is rt
}

// NewClient builds the model client of a conversation: attempts are the
// attempt RoundTrippers of the providers it may use, by name: primary
// (conversation.provider), and those its fallback chain names. rd
// redacts the errors of the policies.
func NewClient(c *scenarios.Client, seed int64, primary string, attempts map[string]*Attempt, rd Redactor) (*Client, error) {
	pa := attempts[primary]
	if pa == nil {
		return nil, fmt.Errorf("provider %q has no attempt", primary)
	}
	ep := pa.ep
	cc := &Client{
		attempt: pa,
		rt:      pa,
		ep:      ep,
		stepKey: record.ModelKey(primary),
		seed:    uint64(seed),
		redact:  rd,
		accept:  ep.accept(),
	}
	if !hasPolicies(c) {
		return cc, nil
	}
	var targets []policy.Target
	for name, a := range attempts {
		if name != primary {
			targets = append(targets, policy.Target{Provider: name, Attempt: a, Rewrite: a.ep.rewriteFrom(ep)})
		}
	}
	chain, err := policy.NewChain(c, policy.Target{Provider: primary, Attempt: pa}, targets...)
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

// Do runs model step step of conversation seq: one request through the
// chain, with every attempt recorded to sink as it ends. The result's
// Start, Latency and TTFT are the step's; its BytesIn sums every
// attempt's.
func (c *Client) Do(ctx context.Context, seq uint64, step int, msgs []openaichat.Message, sink Sink) Result {
	var r Result
	c.DoInto(ctx, seq, step, msgs, sink, &r)
	return r
}

// DoInto is Do filling r in place. A caller that keeps r off its own
// stack (a conversation keeps it in its state) keeps its goroutine's
// stack at 16 KiB while the answer is awaited: at 50,000 conversations
// in flight, each KiB of stack is 50 MiB.
func (c *Client) DoInto(ctx context.Context, seq uint64, step int, msgs []openaichat.Message, sink Sink, r *Result) {
	body := c.ep.body(msgs)
	if !c.hasChain {
		// No policy: one attempt, without a template request or a
		// context value, so that this path costs what it did before
		// policies existed.
		st := policy.Step{Conversation: seq, Index: step}
		start := time.Now()
		c.attempt.attempt(ctx, nil, body, &st, sink, r)
		r.Start, r.Latency, r.Provider = start, time.Since(start), c.ep.provider
		return
	}

	st := newStepState(seq, step, c.stepKey, c.ep.provider, c.seed, sink)
	st.msgs = msgs // for a fallback to another dialect
	start := time.Now()
	req, err := http.NewRequestWithContext(policy.WithStep(ctx, &st.Step), http.MethodPost, c.ep.url, bytes.NewReader(body))
	if err != nil {
		*r = Result{Outcome: record.OutcomeProtocol, Err: fmt.Sprintf("building request: %v", err)}
	} else {
		req.Header["Content-Type"] = hdrJSON
		req.Header["Accept"] = c.accept
		c.ep.setHeaders(req.Header)
		resp, err := c.rt.RoundTrip(req)
		c.result(ctx, resp, err, r)
	}
	if r.TTFT > 0 {
		r.TTFT += r.Start.Sub(start) // the winning attempt's, from the step's start
	}
	if st.Attempts() == 0 {
		r.TTFT = 0 // answered without an attempt: a cache hit
	}
	r.Start = start
	r.Latency = time.Since(start)
	r.BytesIn = st.bytesIn.Load()
	r.Provider = st.CurrentProvider()
}

// result puts the step's result into r from what the chain returned:
// the attempt's own, or the classified error of a policy (a breaker
// refusal, a wait cut short).
func (c *Client) result(ctx context.Context, resp *http.Response, err error, r *Result) {
	if err != nil {
		var ae *attemptError
		if errors.As(err, &ae) {
			*r = ae.res
			return
		}
		*r = Result{Outcome: policy.OutcomeOf(nil, err), Err: c.redact.Clip(err.Error())}
		if o := policy.StopOutcome(ctx); o != "" {
			r.Outcome = o
		}
		return
	}
	if b, ok := resp.Body.(*chatBody); ok {
		*r = b.res
		return
	}
	// Not an attempt's response: some RoundTripper in between made it.
	policy.Discard(resp)
	*r = Result{Status: resp.StatusCode, Outcome: policy.StatusOutcome(resp.StatusCode)}
	if r.Outcome == record.OutcomeOK {
		r.Outcome, r.Err = record.OutcomeProtocol, "response without a parsed body"
	} else {
		r.Err = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
}
