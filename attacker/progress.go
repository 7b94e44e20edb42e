package attacker

import (
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Progress is the state of a run, reported every interval.
type Progress struct {
	// Elapsed is the time since the run began; Planned the schedule's length.
	Elapsed, Planned time.Duration
	// TargetRate is the schedule's rate now, per second.
	TargetRate float64
	// Started counts conversations started, Completed those finished (OK
	// plus Failed), Dropped those that found max_in_flight full.
	Started, Completed, OK, Failed, Dropped uint64
	// InFlight counts conversations running now.
	InFlight int64
	// Rate is conversations started per second over the last interval.
	Rate float64
}

// monitor flushes the recorder and reports progress every interval, until
// stopped.
type monitor struct {
	rec      *Recorder
	pacer    vegeta.Pacer
	planned  time.Duration
	began    time.Time
	interval time.Duration
	report   func(Progress)

	lastAt      time.Time
	lastStarted uint64

	stopc, done chan struct{}
	err         error // the first flush error, read after done closes
}

// start runs the monitor in a goroutine until stop.
func (m *monitor) start() {
	m.lastAt = m.began
	m.stopc, m.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(m.done)
		t := time.NewTicker(m.interval)
		defer t.Stop()
		for {
			select {
			case <-m.stopc:
				return
			case now := <-t.C:
				if err := m.rec.Flush(); err != nil && m.err == nil {
					m.err = err
				}
				m.tick(now)
			}
		}
	}()
}

// stop ends the monitor and returns the first error a flush met.
func (m *monitor) stop() error {
	close(m.stopc)
	<-m.done
	return m.err
}

// tick reports progress as of now.
func (m *monitor) tick(now time.Time) {
	if m.report == nil {
		return
	}
	m.report(m.progress(now))
}

func (m *monitor) progress(now time.Time) Progress {
	run := m.rec.Snapshot()
	elapsed := now.Sub(m.began)
	p := Progress{
		Elapsed:    elapsed,
		Planned:    m.planned,
		TargetRate: m.pacer.Rate(elapsed),
		Started:    run.Conversations.Started,
		Completed:  run.Conversations.OK + run.Conversations.Failed,
		OK:         run.Conversations.OK,
		Failed:     run.Conversations.Failed,
		Dropped:    run.Conversations.Dropped,
		InFlight:   m.rec.InFlight(),
	}
	if d := now.Sub(m.lastAt).Seconds(); d > 0 {
		p.Rate = float64(p.Started-m.lastStarted) / d
	}
	m.lastAt, m.lastStarted = now, p.Started
	return p
}
