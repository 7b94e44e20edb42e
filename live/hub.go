package live

import (
	"context"
	"sync"
)

// Hub holds the newest Frame of the command's runs, for the exporter and
// the dashboard, and wakes those that wait for the next one. One Hub
// serves every run of a command (each policy of a comparison in turn).
type Hub struct {
	mu      sync.Mutex
	seq     int64
	frame   *Frame
	report  string
	changed chan struct{}
}

// NewHub returns a Hub with no frame yet.
func NewHub() *Hub { return &Hub{changed: make(chan struct{})} }

// Latest returns the newest frame, or nil before the first.
func (h *Hub) Latest() *Frame {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.frame
}

// Report returns the run folder whose report.html is written and not yet
// followed by another run, or "".
func (h *Hub) Report() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.report
}

// Wait returns the newest frame once its Seq is above after, or the
// report's folder once it changes from report; or ctx's error.
func (h *Hub) Wait(ctx context.Context, after int64, report string) (*Frame, string, error) {
	for {
		h.mu.Lock()
		f, r, ch := h.frame, h.report, h.changed
		h.mu.Unlock()
		if (f != nil && f.Seq > after) || r != report {
			return f, r, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
	}
}

// publish numbers f and makes it the newest frame. A run's first frame
// takes the place of the previous run's report.
func (h *Hub) publish(f *Frame) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	f.Seq = h.seq
	if h.frame == nil || h.frame.Run != f.Run {
		h.report = ""
	}
	h.frame = f
	h.wake()
}

// ReportReady says that the run folder dir has its report.html written:
// the dashboard turns into it.
func (h *Hub) ReportReady(dir string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.report = dir
	h.wake()
}

// wake wakes every waiter; h.mu is held.
func (h *Hub) wake() {
	close(h.changed)
	h.changed = make(chan struct{})
}
