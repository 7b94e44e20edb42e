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

// mcpDirectJob loads an MCP server with no model: each Do is one tools/call
// drawn from the scenario's weighted mix.
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

// directOp is one entry of the mix, its arguments marshalled once.
type directOp struct {
	tool string
	key  string
	args []byte
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
	for i, op := range d.Mix {
		args := []byte("{}")
		if op.Arguments != nil {
			b, err := json.Marshal(op.Arguments)
			if err != nil {
				return nil, fmt.Errorf("mcp_direct.mix[%d] (%s): marshalling arguments: %w", i, op.Tool, err)
			}
			args = b
		}
		w := op.Weight
		if w <= 0 {
			w = 1
		}
		total += uint64(w)
		j.ops = append(j.ops, directOp{tool: op.Tool, key: record.ToolKey(op.Tool), args: args})
		j.cum = append(j.cum, total)
	}
	return j, nil
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
		call := j.client.callTool(ctx, sess, seq, 0, op.tool, op.args, sink)
		res.BytesIn += uint64(call.bytesIn)
		res.Code = uint16(call.status)
		res.Outcome, res.Err = call.outcome, call.err
	}
	sink.Step(StepRecord{
		Conversation: seq,
		Kind:         record.StepMCP,
		Key:          op.key,
		Start:        start,
		Latency:      time.Since(start),
		Outcome:      res.Outcome,
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
	res.Err = j.client.redact.redact(res.Err)
	return res
}

// Close ends the per_vu sessions (DELETE, best effort). The scheduler calls
// it once the run is over.
func (j *mcpDirectJob) Close(ctx context.Context) error {
	j.pool.closeAll(ctx)
	return nil
}
