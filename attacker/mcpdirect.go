package attacker

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/mcpload/mcpload/attacker/mcp"
	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// mcpDirectJob loads MCP servers with no model: each Do is one operation
// (tools/call, tools/list, resources/read or prompts/get) drawn from the
// scenario's weighted mix, on its lane.
type mcpDirectJob struct {
	lanes []*directLane
	ops   []directOp
	cum   []uint64 // cumulative weights, for the draw
	seed  uint64
	// opTimeout is client.conversation_timeout, which bounds an operation
	// here (handshake, call and retries); 0 for none.
	opTimeout time.Duration
}

// directLane is a server and a session mode: its client and its sessions.
// Mix entries on one server in one mode share a lane, so that lanes side
// by side in one run (a session per slot, churn, stateless) each keep
// their own sessions.
type directLane struct {
	client  mcp.Client
	pool    *mcp.Pool
	perCall bool
	// shared: every slot uses slot 0's session.
	shared bool
}

// directOp is one entry of the mix, its request built once.
type directOp struct {
	req  *mcp.Request
	lane *directLane
}

// newMCPDirectJob builds the job of d; newClient builds the client of an
// MCP server. A tools/call runs on its tool's server (tools[].server),
// anything else on mcp_direct.server; mix[].session overrides
// mcp_direct.session.
func newMCPDirectJob(sc *scenarios.Scenario, newClient func(server string) (mcp.Client, error)) (*mcpDirectJob, error) {
	d := sc.MCPDirect
	if len(d.Mix) == 0 {
		return nil, fmt.Errorf("mcp_direct: the mix is empty")
	}
	j := &mcpDirectJob{seed: uint64(sc.Seed)}
	lanes := map[[2]string]*directLane{}
	var total uint64
	for i := range d.Mix {
		op := &d.Mix[i]
		server, session := d.Server, d.Session
		if op.OpName() == scenarios.MCPOpToolsCall {
			for _, t := range sc.Tools {
				if t != nil && t.Name == op.Tool && t.Server != "" {
					server = t.Server
				}
			}
		}
		if op.Session != "" {
			session = op.Session
		}
		ln := lanes[[2]string{server, session}]
		if ln == nil {
			c, err := newClient(server)
			if err != nil {
				return nil, fmt.Errorf("mcp_direct: %w", err)
			}
			ln = &directLane{client: c, pool: mcp.NewPool(c), perCall: session == scenarios.SessionPerCall, shared: session == scenarios.SessionShared}
			lanes[[2]string{server, session}] = ln
			j.lanes = append(j.lanes, ln)
		}
		req, err := mcp.OpRequest(op, server)
		if err != nil {
			return nil, fmt.Errorf("mcp_direct.mix[%d]: %w", i, err)
		}
		w := op.Weight
		if w <= 0 {
			w = 1
		}
		total += uint64(w)
		j.ops = append(j.ops, directOp{req: req, lane: ln})
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
		sess mcp.Session
		hs   mcp.Total
		ttft time.Duration
	)
	ln := op.lane
	if ln.perCall {
		sess, hs = ln.client.Handshake(ctx, seq, 0, sink)
	} else {
		if ln.shared {
			slot = 0
		}
		sess, hs = ln.pool.Get(ctx, slot, seq, 0, sink)
	}
	res := JobResult{URL: ln.client.Target(), BytesIn: uint64(hs.BytesIn), Code: uint16(hs.Status)}
	if sess == nil {
		res.Outcome, res.Err = hs.Outcome, "MCP server "+ln.client.Server()+": "+hs.Err
	} else {
		call := ln.client.Call(ctx, sess, seq, 0, op.req, sink)
		res.BytesIn += uint64(call.BytesIn)
		res.Code = uint16(call.Status)
		res.Outcome, res.Err = call.Outcome, call.Err
		// A tool that reports progress: the step's time to first
		// progress notification, from sending the call (the ttft level).
		ttft = call.FirstProgress
	}
	sink.Step(StepRecord{
		Conversation: seq,
		Kind:         record.StepMCP,
		Key:          op.req.Key,
		Start:        start,
		Latency:      time.Since(start),
		Outcome:      res.Outcome,
		TTFT:         ttft,
	})
	// A stopped run does not record the teardown: Do must return
	// promptly, and a DELETE on a cancelled context would only be a
	// canceled attempt. A process is still killed.
	if ln.perCall && sess != nil {
		if ctx.Err() == nil {
			ex := ln.client.End(ctx, sess, seq, 0, sink)
			res.BytesIn += uint64(ex.BytesIn)
		} else {
			ln.client.End(ctx, sess, seq, 0, nil) // a process must not outlive its call
		}
	}
	if res.Outcome == record.OutcomeOK {
		res.Err = ""
	}
	res.Err = ln.client.Clip(res.Err)
	return res
}

// Release implements slotReleaser: it ends the per_vu session of slot.
// The shared session outlives any slot.
func (j *mcpDirectJob) Release(ctx context.Context, slot int) {
	for _, ln := range j.lanes {
		if !ln.shared {
			ln.pool.Release(ctx, slot)
		}
	}
}

// Close ends the pooled sessions (DELETE, best effort) and kills any
// process left. The scheduler calls it once the run is over.
func (j *mcpDirectJob) Close(ctx context.Context) error {
	for _, ln := range j.lanes {
		_ = ln.pool.Close(ctx)
	}
	return nil
}
