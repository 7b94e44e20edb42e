package llm

import (
	"sync"
	"time"

	"github.com/mcpload/mcpload/record"
)

// streamClock times the output of one streamed answer, for the stream
// metrics that the README's "Streaming metrics" defines: TTFT, the first
// tool-call event, the tool-call arguments being complete, the gaps
// between output events (inter-token latency), the generation time and
// TPOT. Each dialect's readStream tells it which events carry output and
// which carry tool-call data; what an event is differs by dialect, what is
// measured does not.
//
// Every instant is an offset from the attempt's start (the request's
// sending), taken when the client has read the event: what the client
// receives, which is what a user of the API sees, batching and all. An
// event may carry several tokens.
//
// A zero streamClock, with its start set, is ready; a non-streamed answer
// leaves it zero, so that it costs that path nothing.
type streamClock struct {
	start time.Time
	// events counts the output events: text, or tool-call data.
	events int
	// first and last are the first and the latest output event.
	first, last time.Duration
	// firstTool is the first event with tool-call data; argsDone the event
	// after which every tool call's arguments were known. 0 when none.
	firstTool, argsDone time.Duration
	// gaps holds the gaps between consecutive output events, in µs. It
	// comes from a pool on the second output event: a stream of one event,
	// and every non-streamed answer, takes none.
	gaps *gapBuf
}

// gapBuf is a reusable slice of inter-event gaps.
type gapBuf struct{ us []int64 }

// maxPooledGaps bounds the gap slices kept for reuse: an outsized one (a
// very long answer) is let go rather than pinned.
const maxPooledGaps = 4096

var gapPool = sync.Pool{New: func() any { return &gapBuf{us: make([]int64, 0, 64)} }}

// now returns the time since the attempt's start.
func (c *streamClock) now() time.Duration { return time.Since(c.start) }

// output notes an event that carries output (a text or tool-call delta)
// and returns its instant. The first one meets the stream's ttft timer.
func (c *streamClock) output(w *streamWatch) time.Duration {
	at := c.now()
	if c.events == 0 {
		c.first = at
		w.firstDelta()
	} else {
		if c.gaps == nil {
			c.gaps = gapPool.Get().(*gapBuf)
		}
		c.gaps.us = append(c.gaps.us, (at - c.last).Microseconds())
	}
	c.last = at
	c.events++
	return at
}

// toolCall notes that the event at at carried tool-call data.
func (c *streamClock) toolCall(at time.Duration) {
	if c.firstTool == 0 {
		c.firstTool = at
	}
}

// argsComplete notes that, with the event at at, every tool call's
// arguments so far are known. The last call wins: the dialects call it
// after each call's end, and only the last end completes them all.
func (c *streamClock) argsComplete(at time.Duration) { c.argsDone = at }

// ttft returns the time to the first output event, 0 when there was none.
func (c *streamClock) ttft() time.Duration {
	if c.events == 0 {
		return 0
	}
	return c.first
}

// gen returns the generation time: from the first output event to the
// last.
func (c *streamClock) gen() time.Duration { return c.last - c.first }

// tpot returns the time per output token after the first event,
// gen / (completion - 1), as vLLM and GuideLLM compute it, or 0 when it
// is not measured: fewer than two output events or two tokens, or no time
// between them.
func (c *streamClock) tpot(completion int) time.Duration {
	if c.events < 2 || completion < 2 || c.gen() < time.Microsecond {
		return 0
	}
	return c.gen() / time.Duration(completion-1)
}

// fill sets the stream fields of a, the record of the attempt, whose
// outcome and tokens are set. Only an ok attempt has a TPOT: a cut
// stream's tokens, if any were reported, do not match its events.
func (c *streamClock) fill(a *record.Attempt) {
	if c.events == 0 {
		return
	}
	a.OutputEvents = c.events
	a.FirstToolUS = c.firstTool.Microseconds()
	a.ArgsDoneUS = c.argsDone.Microseconds()
	a.GenUS = c.gen().Microseconds()
	if c.gaps != nil {
		a.InterTokenUS = c.gaps.us
	}
	if a.Outcome == record.OutcomeOK {
		a.TPOTUS = c.tpot(a.CompletionTokens).Microseconds()
	}
}

// release gives the gap slice back to the pool; the clock no longer holds
// it, so a copy of the result that outlives the attempt cannot read
// another stream's gaps.
func (c *streamClock) release() {
	g := c.gaps
	if g == nil {
		return
	}
	c.gaps = nil
	if cap(g.us) > maxPooledGaps {
		return
	}
	g.us = g.us[:0]
	gapPool.Put(g)
}
