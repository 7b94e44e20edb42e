package attacker

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// mcpDirectJob loads an MCP server with no model: each Do is one operation
// (tools/call, tools/list, resources/read or prompts/get) drawn from the
// scenario's weighted mix.
type mcpDirectJob struct {
	client  *mcpClient
	pool    *sessionPool
	perCall bool
	ops     []directOp
	cum     []uint64 // cumulative weights, for the draw
	seed    uint64
	// opTimeout is client.conversation_timeout, which bounds an operation
	// here (handshake, call and retries); 0 for none.
	opTimeout time.Duration
}

// directOp is one entry of the mix, its request built once.
type directOp struct {
	req *mcpRequest
}

func newMCPDirectJob(d *scenarios.MCPDirect, seed int64, client *mcpClient) (*mcpDirectJob, error) {
	if len(d.Mix) == 0 {
		return nil, fmt.Errorf("mcp_direct: the mix is empty")
	}
	j := &mcpDirectJob{
		client:  client,
		pool:    newSessionPool(client),
		perCall: d.Session == scenarios.SessionPerCall,
		seed:    uint64(seed),
	}
	var total uint64
	for i := range d.Mix {
		req, err := directRequest(&d.Mix[i], client.server)
		if err != nil {
			return nil, fmt.Errorf("mcp_direct.mix[%d]: %w", i, err)
		}
		w := d.Mix[i].Weight
		if w <= 0 {
			w = 1
		}
		total += uint64(w)
		j.ops = append(j.ops, directOp{req: req})
		j.cum = append(j.cum, total)
	}
	return j, nil
}

// directRequest builds the request of one mix entry on server.
func directRequest(op *scenarios.MCPOp, server string) (*mcpRequest, error) {
	var args []byte
	if op.Arguments != nil {
		b, err := json.Marshal(op.Arguments)
		if err != nil {
			return nil, fmt.Errorf("%s: marshalling arguments: %w", op.OpName(), err)
		}
		args = b
	}
	switch op.OpName() {
	case scenarios.MCPOpToolsCall:
		// ApplyDefaults sets progress for the tools whose mock sends it.
		return toolCallRequest(op.Tool, args, op.Progress != nil && *op.Progress), nil
	case scenarios.MCPOpToolsList:
		return &mcpRequest{method: scenarios.MCPOpToolsList, key: record.ToolsListKey(server), kind: record.StepMCP, what: "tools/list"}, nil
	case scenarios.MCPOpResourcesRead:
		params := appendJSONString([]byte(`"uri":`), op.URI)
		return &mcpRequest{method: scenarios.MCPOpResourcesRead, key: record.ResourceKey(op.URI), kind: record.StepMCP, params: params, what: "resource " + op.URI}, nil
	case scenarios.MCPOpPromptsGet:
		params := appendJSONString([]byte(`"name":`), op.Prompt)
		if args != nil {
			params = append(append(params, `,"arguments":`...), args...)
		}
		return &mcpRequest{method: scenarios.MCPOpPromptsGet, key: record.PromptKey(op.Prompt), kind: record.StepMCP, params: params, what: "prompt " + op.Prompt}, nil
	}
	return nil, fmt.Errorf("unknown op %q (want one of %v)", op.Op, scenarios.MCPOps())
}

// pick draws the operation of arrival seq. The draw hashes seq with the
// seed instead of consuming a shared random source, so it needs no lock and
// the same seed gives the same sequence of operations in any schedule.
func (j *mcpDirectJob) pick(seq uint64) *directOp {
	r := splitmix64(j.seed^splitmix64(seq)) % j.cum[len(j.cum)-1]
	i := sort.Search(len(j.cum), func(i int) bool { return j.cum[i] > r })
	return &j.ops[i]
}

// splitmix64 is a strong 64-bit mixer (Steele et al., SplitMix).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Do runs one operation: per_vu on the slot's session (initialized on first
// use and after expiry), per_call on a session of its own that is
// initialized first and deleted after. The step covers the handshake when
// there is one; the DELETE is recorded as an attempt but is not part of it.
func (j *mcpDirectJob) Do(ctx context.Context, seq uint64, slot int, sink Sink) JobResult {
	ctx, cancel := policy.WithConversationTimeout(ctx, j.opTimeout)
	defer cancel()
	op := j.pick(seq)
	start := time.Now()
	var (
		sess *mcpSession
		hs   mcpOutcome
		ttft time.Duration
	)
	if j.perCall {
		sess, hs = j.client.initialize(ctx, seq, 0, sink)
	} else {
		sess, hs = j.pool.get(ctx, slot, seq, 0, sink)
	}
	res := JobResult{URL: j.client.url, BytesIn: uint64(hs.bytesIn), Code: uint16(hs.status)}
	if sess == nil {
		res.Outcome, res.Err = hs.outcome, "MCP server "+j.client.server+": "+hs.err
	} else {
		call := j.client.call(ctx, sess, seq, 0, op.req, sink)
		res.BytesIn += uint64(call.bytesIn)
		res.Code = uint16(call.status)
		res.Outcome, res.Err = call.outcome, call.err
		// A tool that reports progress: the step's time to first
		// progress notification, from sending the call (the ttft level).
		ttft = call.firstProgress
	}
	sink.Step(StepRecord{
		Conversation: seq,
		Kind:         record.StepMCP,
		Key:          op.req.key,
		Start:        start,
		Latency:      time.Since(start),
		Outcome:      res.Outcome,
		TTFT:         ttft,
	})
	// A stopped run skips the DELETE: Do must return promptly, and a
	// request on a cancelled context would only be a canceled attempt.
	if j.perCall && sess != nil && ctx.Err() == nil {
		ex := j.client.close(ctx, sess, seq, 0, sink)
		res.BytesIn += uint64(ex.bytesIn)
	}
	if res.Outcome == record.OutcomeOK {
		res.Err = ""
	}
	res.Err = j.client.redact.clip(res.Err)
	return res
}

// Release implements slotReleaser: it ends the per_vu session of slot.
func (j *mcpDirectJob) Release(ctx context.Context, slot int) { j.pool.release(ctx, slot) }

// Close ends the per_vu sessions (DELETE, best effort). The scheduler calls
// it once the run is over.
func (j *mcpDirectJob) Close(ctx context.Context) error {
	j.pool.closeAll(ctx)
	return nil
}
