package live

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mcpload/mcpload/attacker"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/scenarios"
)

// Feed gathers one Frame per interval of a run and publishes it to a Hub.
// The attacker's progress callback (Progress) paces it: each call comes
// right after the recorder flushed the interval to the run folder, so the
// folder holds what the progress counts. The gathering runs on the feed's
// own goroutine, never on the attacker's.
type Feed struct {
	hub    *Hub
	dir    string
	faults []scenarios.Fault

	live  *summary.Live
	fol   *follower
	dists map[string]*Dist

	progress chan attacker.Progress
	stop     chan struct{}
	done     chan struct{}
}

// Start follows the run that writes the folder dir for scenario sc,
// pricing it with cat, until Finish. Pass its Progress to the run with
// attacker.WithProgress.
func Start(hub *Hub, sc *scenarios.Scenario, dir string, cat *pricing.Catalog) *Feed {
	f := &Feed{
		hub: hub, dir: dir, faults: sc.Faults,
		live: summary.NewLive(dir, cat), fol: newFollower(dir), dists: map[string]*Dist{},
		progress: make(chan attacker.Progress, 1),
		stop:     make(chan struct{}), done: make(chan struct{}),
	}
	go f.loop()
	return f
}

// Progress hands the feed the run's progress; it never blocks, and a
// progress the feed has not taken yet gives way to the newer one.
func (f *Feed) Progress(p attacker.Progress) {
	for {
		select {
		case f.progress <- p:
			return
		default:
		}
		select {
		case <-f.progress:
		default:
		}
	}
}

// Finish stops following and publishes the run's final frame, gathered
// from the finished folder. Call it after attacker.Run returns.
func (f *Feed) Finish() error {
	close(f.stop)
	<-f.done
	fr, err := f.gather(nil)
	if err != nil {
		return fmt.Errorf("live: final frame: %w", err)
	}
	if fr != nil {
		f.hub.publish(fr)
	}
	return nil
}

func (f *Feed) loop() {
	defer close(f.done)
	for {
		select {
		case <-f.stop:
			return
		case p := <-f.progress:
			// A frame that cannot be gathered now (a file being written)
			// is skipped: the next interval reads what this one missed.
			if fr, err := f.gather(&p); err == nil && fr != nil {
				f.hub.publish(fr)
			}
		}
	}
}

// gather reads what the run appended and builds a frame: of the running
// run with its progress p, or, with p nil, of the finished run. It
// returns nil before run.json exists.
func (f *Feed) gather(p *attacker.Progress) (*Frame, error) {
	run, err := runfolder.ReadRun(f.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f.fol.started = run.Started
	if err := f.fol.next(); err != nil {
		return nil, err
	}
	fr := &Frame{
		Run: filepath.Base(f.dir), Scenario: run.Scenario, Version: run.Version,
		Status: run.Status, Final: p == nil,
		PlannedS:      run.Planned.Seconds(),
		Conversations: run.Conversations,
		Attempts:      run.Attempts,
		Tokens:        run.Tokens,
		At:            time.Now(),
	}
	if p != nil {
		fr.ElapsedS, fr.TargetRate, fr.Rate, fr.InFlight = p.Elapsed.Seconds(), p.TargetRate, p.Rate, p.InFlight
		// The progress was taken after run.json was written: it is the
		// newer count.
		fr.Conversations.Started = max(fr.Conversations.Started, p.Started)
	} else {
		// A run that crashed has no end: its frame is as of now.
		end := run.Ended
		if end.IsZero() {
			end = fr.At
		}
		fr.ElapsedS = end.Sub(run.Started).Seconds()
		fr.TargetRate, fr.Rate = run.Rate.Target, run.Rate.Achieved
	}
	// The cost is the gates' own reading of the run (summary.Live); a
	// reading that fails now leaves the cost out of this frame only.
	if s, err := f.live.Update(); err == nil && s != nil && s.Cost != nil {
		usd := s.Cost.TotalUSD
		fr.CostUSD = &usd
	}
	f.addDists(fr)
	fr.Harness = f.fol.sample
	fr.Faults = windows(f.faults, fr.ElapsedS)
	for _, name := range f.fol.order {
		b := *f.fol.breakers[name]
		b.Moves = slices.Clone(b.Moves)
		fr.Breakers = append(fr.Breakers, b)
	}
	return fr, nil
}

// addDists puts the distributions of the run so far in fr, summarising
// again only the histograms that changed since the last frame.
func (f *Feed) addDists(fr *Frame) {
	for tag := range f.fol.changed {
		f.dists[tag] = newDist(tag, f.fol.hists[tag])
		delete(f.fol.changed, tag)
	}
	for tag, d := range f.dists {
		switch {
		case tag == record.LevelScheduleLag:
			fr.ScheduleLag = d
		case strings.HasPrefix(tag, record.LevelScheduleLag+"."):
			// Per stage: the dashboard and the exporter show the run's.
		default:
			fr.Latency = append(fr.Latency, d)
		}
	}
	slices.SortFunc(fr.Latency, func(a, b *Dist) int { return strings.Compare(a.Tag, b.Tag) })
}

// windows places the scenario's fault windows at elapsed seconds.
func windows(faults []scenarios.Fault, elapsed float64) []Window {
	var out []Window
	for _, ft := range faults {
		w := Window{Name: ft.Name, FromS: ft.From.D().Seconds()}
		if ft.For > 0 {
			w.ToS = w.FromS + ft.For.D().Seconds()
		}
		w.Active = elapsed >= w.FromS && (w.ToS == 0 || elapsed < w.ToS)
		out = append(out, w)
	}
	return out
}
