package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/mcpload/mcpload/attacker"
)

// showProgress decides whether to draw live progress: on a terminal and
// not in CI, unless the user said otherwise.
func showProgress(mode string, w io.Writer) bool {
	switch mode {
	case "on":
		return true
	case "off":
		return false
	}
	if os.Getenv("CI") != "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressLine redraws one status line in place.
type progressLine struct {
	mu    sync.Mutex
	w     io.Writer
	drawn bool
}

func newProgressLine(w io.Writer) *progressLine { return &progressLine{w: w} }

func (p *progressLine) update(s attacker.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pct := 0.0
	if s.Planned > 0 {
		pct = 100 * min(1, s.Elapsed.Seconds()/s.Planned.Seconds())
	}
	fmt.Fprintf(p.w, "\r\033[K%5.1fs/%.0fs %3.0f%%  rate %.1f/s (target %.1f)  in flight %d  ok %d  failed %d  dropped %d",
		s.Elapsed.Seconds(), s.Planned.Seconds(), pct, s.Rate, s.TargetRate, s.InFlight, s.OK, s.Failed, s.Dropped)
	p.drawn = true
}

func (p *progressLine) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
