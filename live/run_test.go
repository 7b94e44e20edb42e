package live

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/report/htmlreport"
	"github.com/mcpload/mcpload/report/plot"
	"github.com/mcpload/mcpload/scenarios"
)

// liveRun is a run of testdata/outage.yaml against the in-process mock,
// followed by a Feed into a Hub, as `mcpload run` wires them.
type liveRun struct {
	dir  string
	hub  *Hub
	done chan struct{}
	// summary is the rendered run's, set when done closes; err any error.
	summary *report.Summary
	err     error
}

// startRun starts the run in the background. Its interval is half the
// command's, so that a few seconds give the watchers several frames.
func startRun(t *testing.T, hub *Hub) *liveRun {
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
	cat, _, err := report.Catalogs(sc)
	if err != nil {
		t.Fatal(err)
	}
	r := &liveRun{dir: filepath.Join(t.TempDir(), "run"), hub: hub, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	go func() {
		defer close(r.done)
		defer cancel()
		feed := Start(hub, sc, r.dir, cat)
		mock.SetEpoch(time.Now())
		_, err := attacker.Run(ctx, sc, r.dir, attacker.WithMockURL(url), attacker.WithProgress(feed.Progress), attacker.WithInterval(500*time.Millisecond))
		if ferr := feed.Finish(); err == nil {
			err = ferr
		}
		if err != nil {
			r.err = err
			return
		}
		s, err := report.Write(r.dir)
		if err != nil {
			r.err = err
			return
		}
		plots, err := plot.Run(r.dir, s)
		if err == nil {
			err = htmlreport.Write(r.dir, s, plots)
		}
		r.summary, r.err = s, err
		hub.ReportReady(r.dir)
	}()
	t.Cleanup(func() { <-r.done })
	return r
}

// wait waits for the run to end and returns its summary.
func (r *liveRun) wait(t *testing.T) *report.Summary {
	t.Helper()
	<-r.done
	if r.err != nil {
		t.Fatalf("run: %v", r.err)
	}
	return r.summary
}
