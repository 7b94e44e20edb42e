package attacker

import "github.com/mcpload/mcpload/attacker/policy"

// mcpSlots bounds the MCP tool calls in flight: those of the whole run
// (client.limits.max_mcp_in_flight), so that a run stays within its
// descriptors whatever the model asks for, and those of one conversation
// (max_mcp_in_flight_per_conversation), so that one answer's calls cannot
// take every slot of the run. A call waits for a slot of each, and the
// wait counts in its step's latency, as any wait of an open-model client
// does. A nil channel is no bound.
type mcpSlots struct {
	run  chan struct{}
	conv chan struct{}
}

// forBatch returns the slots of one batch of n parallel calls of a
// conversation: the run's, and a bound of perConv of its own when n is
// more than perConv (a smaller batch cannot exceed it: the conversation
// runs one batch at a time).
func (s mcpSlots) forBatch(n, perConv int) mcpSlots {
	if perConv > 0 && n > perConv {
		s.conv = make(chan struct{}, perConv)
	}
	return s
}

// acquire waits for a slot of the conversation and one of the run, or for
// the conversation to stop; it then returns the stop's outcome and takes
// no slot.
func (s mcpSlots) acquire(c *conversation) string {
	if s.conv != nil {
		select {
		case s.conv <- struct{}{}:
		case <-c.ctx.Done():
			return policy.StopOutcome(c.ctx)
		}
	}
	if s.run != nil {
		select {
		case s.run <- struct{}{}:
		case <-c.ctx.Done():
			if s.conv != nil {
				<-s.conv
			}
			return policy.StopOutcome(c.ctx)
		}
	}
	return ""
}

// release gives back what acquire took.
func (s mcpSlots) release() {
	if s.run != nil {
		<-s.run
	}
	if s.conv != nil {
		<-s.conv
	}
}
