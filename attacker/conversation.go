package attacker

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpload/mcpload/attacker/llm"
	"github.com/mcpload/mcpload/attacker/mcp"
	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/attacker/secrets"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// defaultMaxSteps bounds model steps per user turn when the scenario does
// not say.
const defaultMaxSteps = 10

// conversationJob runs one tool-use conversation per Do: for each user
// turn, model steps alternate with parallel tool calls until the model gives
// a final answer.
type conversationJob struct {
	provider string
	modelKey string // record.ModelKey(provider)
	chat     *llm.Client
	// convTimeout is client.conversation_timeout, 0 for none.
	convTimeout time.Duration
	url         string
	// system and users are built once, so a conversation only copies them.
	system   *openaichat.Message
	users    []openaichat.Message
	maxSteps int
	tools    map[string]*convTool
	args     *argValidator
	redact   *secrets.Redactor
	pools    []*mcp.Pool
	// mcp bounds the run's MCP calls in flight; mcpPerConv those of one
	// conversation (client.limits).
	mcp        mcpSlots
	mcpPerConv int

	msgs sync.Pool // *[]openaichat.Message, reused across conversations
}

// convTool is where a tool runs.
type convTool struct {
	client mcp.Client
	pool   *mcp.Pool
}

// Do runs conversation seq. slot picks the MCP sessions it uses.
func (j *conversationJob) Do(ctx context.Context, seq uint64, slot int, sink Sink) JobResult {
	ctx, cancel := policy.WithConversationTimeout(ctx, j.convTimeout)
	defer cancel()
	c := &conversation{j: j, ctx: ctx, seq: seq, slot: slot, sink: sink}
	mp, _ := j.msgs.Get().(*[]openaichat.Message)
	if mp == nil {
		s := make([]openaichat.Message, 0, 8)
		mp = &s
	}
	msgs := (*mp)[:0]
	defer func() {
		clear(msgs) // drop the strings; keep the array
		*mp = msgs[:0]
		j.msgs.Put(mp)
	}()
	msgs = c.run(msgs)
	return c.result()
}

// Close ends the job's pooled MCP sessions (DELETE, best effort) and
// its MCP servers' processes. The
// scheduler calls it once the run is over.
func (j *conversationJob) Close(ctx context.Context) error {
	for _, p := range j.pools {
		_ = p.Close(ctx)
	}
	return nil
}

// Release implements slotReleaser: it ends the MCP sessions of slot.
func (j *conversationJob) Release(ctx context.Context, slot int) {
	for _, p := range j.pools {
		p.Release(ctx, slot)
	}
}

// conversation is the state of one Do.
type conversation struct {
	j    *conversationJob
	ctx  context.Context
	seq  uint64
	slot int
	sink Sink

	step    int      // next step index
	mcp     mcpSlots // of the batch of tool calls running
	code    uint16
	bytesIn atomic.Int64

	// ended is the outcome that stopped the conversation; spoiled the
	// first failure it survived (a tool error fed back to the model).
	ended, endErr string
	mu            sync.Mutex
	spoiled       string
	spoilErr      string

	// res is the model step's result, here rather than in run's frame so
	// that a conversation waiting on its answer keeps a small stack: at
	// 50,000 in flight, each KiB of it is 50 MiB.
	res llm.Result
}

// run plays every turn, appending to msgs, and returns msgs for reuse.
func (c *conversation) run(msgs []openaichat.Message) []openaichat.Message {
	j := c.j
	if j.system != nil {
		msgs = append(msgs, *j.system)
	}
	for ti := range j.users {
		msgs = append(msgs, j.users[ti])
		answered := false
		for n := 0; n < j.maxSteps; n++ {
			if o := policy.StopOutcome(c.ctx); o != "" {
				c.end(o, stopText(c.ctx))
				return msgs
			}
			res := &c.res
			j.chat.DoInto(c.ctx, c.seq, c.step, msgs, c.sink, res)
			c.modelStep(res)
			c.step++
			c.code = uint16(res.Status)
			c.bytesIn.Add(res.BytesIn)
			if res.Outcome != record.OutcomeOK {
				c.end(res.Outcome, fmt.Sprintf("turn %d, model: %s", ti+1, res.Err))
				return msgs
			}
			calls := res.Msg.ToolCalls
			if len(calls) == 0 {
				if res.Finish == openaichat.FinishToolCalls {
					c.end(record.OutcomeProtocol, fmt.Sprintf("turn %d, model: finish_reason tool_calls without tool calls", ti+1))
					return msgs
				}
				msgs = append(msgs, res.Msg)
				answered = true
				break
			}
			if n == j.maxSteps-1 {
				// No model step is left to read the results: running
				// the tools would be load that no agent would send.
				break
			}
			for i := range calls {
				if calls[i].ID == "" {
					// The tool messages must name the call they answer.
					calls[i].ID = "call_" + strconv.Itoa(c.step) + "_" + strconv.Itoa(i)
				}
			}
			msgs = append(msgs, res.Msg)
			msgs = c.runTools(ti, calls, msgs)
		}
		if !answered {
			c.end(record.OutcomeProtocol, fmt.Sprintf("turn %d: no final answer after %d model steps (max_steps)", ti+1, j.maxSteps))
			return msgs
		}
	}
	return msgs
}

// modelStep records the model step that res ended.
func (c *conversation) modelStep(res *llm.Result) {
	c.sink.Step(StepRecord{
		Conversation: c.seq,
		Kind:         record.StepModel,
		Key:          c.j.stepKey(res.Provider),
		Start:        res.Start,
		Latency:      res.Latency,
		Outcome:      res.Outcome,
		TTFT:         res.TTFT,
	})
}

// runTools runs every call of one assistant message in parallel, as an
// agent does, and appends one tool message per call in the message's order.
func (c *conversation) runTools(turn int, calls []openaichat.ToolCall, msgs []openaichat.Message) []openaichat.Message {
	first := c.step
	c.step += len(calls)
	c.mcp = c.j.mcp.forBatch(len(calls), c.j.mcpPerConv)
	results := make([]string, len(calls))
	failed := make([]bool, len(calls))
	if len(calls) == 1 {
		results[0], failed[0] = c.runTool(turn, first, &calls[0])
	} else {
		var wg sync.WaitGroup
		for i := 1; i < len(calls); i++ {
			wg.Go(func() { results[i], failed[i] = c.runTool(turn, first+i, &calls[i]) })
		}
		results[0], failed[0] = c.runTool(turn, first, &calls[0])
		wg.Wait()
	}
	for i := range calls {
		msgs = append(msgs, openaichat.Message{
			Role:       "tool",
			Content:    &results[i],
			ToolCallID: calls[i].ID,
			IsError:    failed[i],
		})
	}
	return msgs
}

// runTool runs one tool call as step step and returns what the model is
// told, and whether the call failed (the dialects that can say so tell the
// model: Anthropic's is_error). Failures are fed back to the model as the
// tool's result, as a real agent does, and spoil the conversation's
// outcome without ending it.
func (c *conversation) runTool(turn, step int, tc *openaichat.ToolCall) (string, bool) {
	j := c.j
	name := tc.Function.Name
	if j.tools[name] == nil {
		return c.undeclaredTool(turn, step, name)
	}
	start := time.Now()
	outcome, errText, content := c.callTool(step, name, tc.Function.Arguments)
	c.sink.Step(StepRecord{
		Conversation: c.seq,
		Kind:         record.StepTool,
		Key:          record.ToolKey(name),
		Start:        start,
		Latency:      time.Since(start),
		Outcome:      outcome,
	})
	if outcome != record.OutcomeOK {
		c.spoil(outcome, j.redact.Clip(fmt.Sprintf("turn %d, tool %s: %s", turn+1, name, errText)))
	}
	return content, outcome != record.OutcomeOK
}

// callTool validates and sends one tool call. It returns the outcome, the
// error text for results, and the content for the model.
func (c *conversation) callTool(step int, name, args string) (outcome, errText, content string) {
	j := c.j
	t := j.tools[name]
	if t == nil {
		msg := "unknown tool " + strconv.Quote(name)
		return record.OutcomeToolError, msg, "error: " + msg
	}
	body, err := j.args.check(name, args)
	if err != nil {
		c.sink.InvalidToolArgs()
		return record.OutcomeToolError, err.Error(), "error: " + err.Error()
	}
	if o := c.mcp.acquire(c); o != "" {
		return o, stopText(c.ctx), "error: " + stopText(c.ctx)
	}
	defer c.mcp.release()
	sess, hs := t.pool.Get(c.ctx, c.slot, c.seq, step, c.sink)
	c.bytesIn.Add(hs.BytesIn)
	if sess == nil {
		msg := "MCP server " + t.client.Server() + ": " + hs.Err
		return hs.Outcome, msg, "error: " + msg
	}
	call := t.client.Call(c.ctx, sess, c.seq, step, mcp.ToolCall(name, body, false), c.sink)
	c.bytesIn.Add(call.BytesIn)
	switch call.Outcome {
	case record.OutcomeOK:
		return call.Outcome, "", call.Text
	case record.OutcomeToolError:
		return call.Outcome, call.Err, call.Text // the tool's own error message
	default:
		return call.Outcome, call.Err, "error: " + call.Err
	}
}

// stepKey is the step key of a model step that provider answered: the
// step is recorded under the provider that answered it, after a fallback
// too (its attempts are under their own keys).
func (j *conversationJob) stepKey(provider string) string {
	if provider == j.provider || provider == "" {
		return j.modelKey
	}
	return record.ModelKey(provider)
}

// stopText says why ctx, which is done, stopped the conversation.
func stopText(ctx context.Context) string {
	if policy.StopOutcome(ctx) == record.OutcomeTimeout {
		return context.Cause(ctx).Error()
	}
	return "run stopped"
}

// spoil records the first failure the conversation survived.
func (c *conversation) spoil(outcome, err string) {
	c.mu.Lock()
	if c.spoiled == "" {
		c.spoiled, c.spoilErr = outcome, err
	}
	c.mu.Unlock()
}

// end records the failure that stopped the conversation.
func (c *conversation) end(outcome, err string) {
	c.ended, c.endErr = outcome, err
}

func (c *conversation) result() JobResult {
	r := JobResult{
		Outcome: record.OutcomeOK,
		Code:    c.code,
		BytesIn: uint64(c.bytesIn.Load()),
		URL:     c.j.url,
	}
	switch {
	case c.ended != "":
		r.Outcome, r.Err = c.ended, c.endErr
	case c.spoiled != "":
		r.Outcome, r.Err = c.spoiled, c.spoilErr
	}
	r.Err = c.j.redact.Clip(r.Err)
	return r
}
