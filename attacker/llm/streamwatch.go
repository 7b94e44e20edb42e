package llm

import (
	"context"
	"fmt"
	"time"
)

// streamTimeout is the cause of an attempt cut by a stream timer.
type streamTimeout struct {
	timer string // ttft, idle or total
	d     time.Duration
}

// Timeout reports that a stream timer, not the peer, ended the attempt
// (see httpx.IsTimeout).
func (e *streamTimeout) Timeout() bool { return true }

func (e *streamTimeout) Error() string {
	switch e.timer {
	case "ttft":
		return fmt.Sprintf("no first token within client.stream.ttft (%s)", e.d)
	case "idle":
		return fmt.Sprintf("stream idle for client.stream.idle (%s)", e.d)
	default:
		return fmt.Sprintf("stream not done within client.stream.total (%s)", e.d)
	}
}

// streamWatch runs the stream timers of one attempt: ttft and total from
// the request's sending, idle from the first event and between events.
// Each that fires cancels the attempt with a *streamTimeout cause. The
// per-attempt timeout, which stops at nothing, still bounds it all. A nil
// *streamWatch does nothing.
type streamWatch struct {
	cancel       context.CancelCauseFunc
	idle         time.Duration
	ttftT, total *time.Timer
	idleT        *time.Timer
}

func watchStream(cancel context.CancelCauseFunc, ttft, idle, total time.Duration) *streamWatch {
	w := &streamWatch{cancel: cancel, idle: idle}
	if ttft > 0 {
		w.ttftT = time.AfterFunc(ttft, func() { cancel(&streamTimeout{"ttft", ttft}) })
	}
	if total > 0 {
		w.total = time.AfterFunc(total, func() { cancel(&streamTimeout{"total", total}) })
	}
	return w
}

// event notes an SSE event: the idle timer starts again.
func (w *streamWatch) event() {
	if w == nil || w.idle <= 0 {
		return
	}
	if w.idleT == nil {
		w.idleT = time.AfterFunc(w.idle, func() { w.cancel(&streamTimeout{"idle", w.idle}) })
		return
	}
	w.idleT.Reset(w.idle)
}

// firstDelta notes the first content or tool-call delta: ttft is met.
func (w *streamWatch) firstDelta() {
	if w != nil && w.ttftT != nil {
		w.ttftT.Stop()
	}
}

func (w *streamWatch) stop() {
	if w == nil {
		return
	}
	for _, t := range []*time.Timer{w.ttftT, w.total, w.idleT} {
		if t != nil {
			t.Stop()
		}
	}
}
