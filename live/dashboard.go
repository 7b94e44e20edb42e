package live

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"time"
)

//go:embed dashboard.html
var dashboardPage []byte

// ReportFile is the run folder's page, which the dashboard turns into
// (htmlreport.File; live does not import the renderer for one name).
const ReportFile = "report.html"

// keepAlive is how often an idle event stream sends a comment, so that a
// proxy or the browser does not drop it between frames.
const keepAlive = 15 * time.Second

// Dashboard serves the live page of the Hub's runs: GET / is the page (one
// file, its script and style inline, nothing fetched from elsewhere), GET
// /events the frames as server-sent events, GET /frame.json the newest
// frame. Once the run's report.html is written, / serves it, and the open
// pages load it.
type Dashboard struct {
	hub *Hub

	mu sync.Mutex
	// streams counts the event streams open; ever whether any was.
	streams int
	ever    bool
	// reportServed is the run folder whose report.html was last served.
	reportServed string
}

// NewDashboard returns the dashboard of hub's runs.
func NewDashboard(hub *Hub) *Dashboard { return &Dashboard{hub: hub} }

// ServeHTTP implements http.Handler.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/", "/" + ReportFile:
		if dir := d.hub.Report(); dir != "" {
			d.mu.Lock()
			d.reportServed = dir
			d.mu.Unlock()
			w.Header().Set("Cache-Control", "no-store")
			http.ServeFile(w, r, filepath.Join(dir, ReportFile))
			return
		}
		if r.URL.Path != "/" {
			http.Error(w, "the run's report is not written yet", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(dashboardPage)
	case "/frame.json":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(d.hub.Latest())
	case "/events":
		d.events(w, r)
	default:
		http.NotFound(w, r)
	}
}

// events streams every new frame as an event "frame", and an event
// "report" once the run's report is written, after which it ends.
func (d *Dashboard) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	d.mu.Lock()
	d.streams++
	d.ever = true
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.streams--
		d.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	var seq int64
	// The page learns of a report written before it connected as of the
	// run it shows: it asks for the stream again after each report.
	report := ""
	for {
		ctx, cancel := context.WithTimeout(r.Context(), keepAlive)
		f, rep, err := d.hub.Wait(ctx, seq, report)
		cancel()
		if r.Context().Err() != nil {
			return
		}
		if err != nil {
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
			continue
		}
		if f != nil && f.Seq > seq {
			seq = f.Seq
			b, err := json.Marshal(f)
			if err != nil {
				return
			}
			fmt.Fprintf(w, "event: frame\ndata: %s\n\n", b)
		}
		if rep != report {
			report = rep
			if rep != "" {
				fmt.Fprintf(w, "event: report\ndata: %q\n\n", filepath.Base(rep))
				fl.Flush()
				return
			}
		}
		fl.Flush()
	}
}

// Settled reports whether every page that watched the run has turned into
// its report: no event stream is open, and the report was served since it
// was written (when a page was ever open).
func (d *Dashboard) Settled() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.streams == 0 && (!d.ever || d.reportServed == d.hub.Report())
}
