package live

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/report/cost"
	"github.com/mcpload/mcpload/report/htmlreport"
	"github.com/mcpload/mcpload/report/plot"
	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/scenarios"
)

// liveRun is a run of testdata/outage.yaml against the in-process mock,
// followed by a Feed into a Hub, as `mcpload run` wires them.
type liveRun struct {
	dir string
	hub *Hub
	// rendered closes once the run's folder is rendered, done once its
	// report is also on the Hub.
	rendered, done chan struct{}
	// summary is the rendered run's, set when rendered closes; err any
	// error.
	summary *summary.Summary
	err     error
	// hold, when set before the run ends, keeps the report from the Hub
	// until it is closed: the final frame stays on the page till then.
	hold chan struct{}
}

// startRun starts the run in the background. Its interval is half the
// command's, so that a few seconds give the watchers several frames.
func startRun(t *testing.T, hub *Hub, hold chan struct{}) *liveRun {
	t.Helper()
	sc, err := scenarios.Load(filepath.Join("testdata", "outage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	mock, err := mockprovider.New(sc, mockprovider.WithSeed(sc.Seed))
	if err != nil {
		t.Fatal(err)
	}
	url, err := mock.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mock.Close() })
	cat, _, err := cost.Catalogs(sc)
	if err != nil {
		t.Fatal(err)
	}
	r := &liveRun{dir: filepath.Join(t.TempDir(), "run"), hub: hub, done: make(chan struct{}), rendered: make(chan struct{}), hold: hold}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	// Fault windows count from the start of the load.
	mock.SetEpoch(time.Now())
	go func() {
		defer close(r.done)
		defer cancel()
		r.summary, r.err = r.run(ctx, sc, url, cat)
		close(r.rendered)
		if r.err == nil && r.hold != nil {
			<-r.hold
		}
		hub.ReportReady(r.dir)
	}()
	t.Cleanup(func() { <-r.done })
	return r
}

// run runs the scenario with a feed, and renders its folder as `mcpload
// run` does.
func (r *liveRun) run(ctx context.Context, sc *scenarios.Scenario, url string, cat *pricing.Catalog) (*summary.Summary, error) {
	feed := Start(r.hub, sc, r.dir, cat)
	_, err := attacker.Run(ctx, sc, r.dir, attacker.WithMockURL(url), attacker.WithProgress(feed.Progress), attacker.WithInterval(500*time.Millisecond))
	if ferr := feed.Finish(); err == nil {
		err = ferr
	}
	if err != nil {
		return nil, err
	}
	s, err := report.Write(r.dir)
	if err != nil {
		return nil, err
	}
	plots, err := plot.Run(r.dir, s)
	if err != nil {
		return nil, err
	}
	return s, htmlreport.Write(r.dir, s, plots)
}

// wait waits for the run to end and returns its summary.
func (r *liveRun) wait(t *testing.T) *summary.Summary {
	t.Helper()
	<-r.done
	if r.err != nil {
		t.Fatalf("run: %v", r.err)
	}
	return r.summary
}

// frameLog keeps the frames a Hub published, as a watcher sees them.
type frameLog struct {
	mu     sync.Mutex
	frames []*Frame
}

// watchFrames logs hub's frames until the test ends.
func watchFrames(hub *Hub) *frameLog {
	l := &frameLog{}
	go func() {
		var seq int64
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			f, report, err := hub.Wait(ctx, seq, "")
			cancel()
			if err != nil || report != "" {
				return
			}
			if f != nil && f.Seq > seq {
				seq = f.Seq
				l.mu.Lock()
				l.frames = append(l.frames, f)
				l.mu.Unlock()
			}
			if f != nil && f.Final {
				return
			}
		}
	}()
	return l
}

// inWindow reports whether a frame of the running run fell between from
// and to seconds.
func (l *frameLog) inWindow(from, to float64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.frames {
		if !f.Final && f.ElapsedS >= from && f.ElapsedS < to {
			return true
		}
	}
	return false
}
