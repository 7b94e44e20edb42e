package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/pflag"

	"github.com/mcpload/mcpload/attacker"
	"github.com/mcpload/mcpload/live"
	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/scenarios"
)

// liveFlags serve a run while it goes on (docs/live.md).
type liveFlags struct {
	metricsAddr   string
	dashboardAddr string
	otlpEndpoint  string
	linger        time.Duration
}

// defaultLinger covers a Prometheus that scrapes every 15 s, the
// interval its example configuration sets.
const defaultLinger = 15 * time.Second

// otlpInterval is how often --otlp-endpoint pushes: the recorder's
// interval, as pushing more often would send the same frame again.
// otlpCloseTimeout bounds the last push.
const (
	otlpInterval     = time.Second
	otlpCloseTimeout = 10 * time.Second
)

// liveVars registers the live flags; dashboard says whether --dashboard
// is one (a capacity search's probes each have a report.html, and a page
// that turned into the first would stay there).
func liveVars(fs *pflag.FlagSet, f *liveFlags, dashboard bool) {
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics of the run at http://ADDR/metrics while it goes on (loopback unless --allow-remote)")
	if dashboard {
		fs.StringVar(&f.dashboardAddr, "dashboard", "", "serve a live page of the run at http://ADDR/ while it goes on; at the end it is the run's report.html (loopback unless --allow-remote)")
	}
	fs.StringVar(&f.otlpEndpoint, "otlp-endpoint", "", "push the same metrics over OTLP/HTTP every second to this collector URL, as in http://127.0.0.1:4318 (loopback unless --allow-remote)")
	f.linger = defaultLinger
	durationVar(fs, &f.linger, "live-linger", "after the runs, keep --metrics-addr and --dashboard up until Prometheus has scraped the final figures and open pages have loaded the report, but no longer than this (0: stop at once)")
}

// named returns the name of the first live flag set, or "".
func (f liveFlags) named() string {
	switch {
	case f.metricsAddr != "":
		return "metrics-addr"
	case f.dashboardAddr != "":
		return "dashboard"
	case f.otlpEndpoint != "":
		return "otlp-endpoint"
	}
	return ""
}

// liveServers are the metrics exporter and the dashboard of a command's
// runs, over one Hub.
type liveServers struct {
	hub       *live.Hub
	metrics   *live.Metrics
	dashboard *live.Dashboard
	otlp      *live.OTLP
	servers   []*live.Server
	linger    time.Duration
}

// startLive listens on the live flags' addresses before any run starts, so
// that a bad or busy address stops the command before it spends. It
// returns nil when no live flag is set.
func startLive(f liveFlags, allowRemote bool, stderr io.Writer) (*liveServers, error) {
	if f.named() == "" {
		return nil, nil
	}
	if f.linger < 0 {
		return nil, invalid(errors.New("--live-linger must not be negative"))
	}
	l := &liveServers{hub: live.NewHub(), linger: f.linger}
	serve := func(flag, addr, path string, h http.Handler) error {
		ln, err := live.Listen("--"+flag, addr, allowRemote)
		var addrErr *live.AddrError
		if errors.As(err, &addrErr) {
			return invalid(err)
		}
		if err != nil {
			return err
		}
		s := live.Serve(ln, h)
		l.servers = append(l.servers, s)
		fmt.Fprintf(stderr, "%s: %s%s\n", flag, s.URL(), path)
		return nil
	}
	if f.otlpEndpoint != "" {
		o, err := live.NewOTLP(context.Background(), l.hub, f.otlpEndpoint, otlpInterval, allowRemote)
		var addrErr *live.AddrError
		if errors.As(err, &addrErr) {
			return nil, invalid(err)
		}
		if err != nil {
			return nil, err
		}
		l.otlp = o
	}
	if f.metricsAddr != "" {
		l.metrics = live.NewMetrics(l.hub)
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", l.metrics.Handler())
		mux.Handle("GET /{$}", http.RedirectHandler("/metrics", http.StatusFound))
		if err := serve("metrics-addr", f.metricsAddr, "/metrics", mux); err != nil {
			l.close(context.Background(), io.Discard)
			return nil, err
		}
	}
	if f.dashboardAddr != "" {
		l.dashboard = live.NewDashboard(l.hub)
		if err := serve("dashboard", f.dashboardAddr, "/", l.dashboard); err != nil {
			l.close(context.Background(), io.Discard)
			return nil, err
		}
	}
	return l, nil
}

// feed follows the run of sc into dir; its option hands the feed the
// run's progress beside progress (nil: none), the command's own line.
func (l *liveServers) feed(sc *scenarios.Scenario, dir string, cat *pricing.Catalog, progress func(attacker.Progress)) (*live.Feed, attacker.Option) {
	fd := live.Start(l.hub, sc, dir, cat)
	return fd, attacker.WithProgress(func(p attacker.Progress) {
		if progress != nil {
			progress(p)
		}
		fd.Progress(p)
	})
}

// close waits, up to the linger, for the final figures to be read, and
// stops the servers. An interrupted command (ctx done: Ctrl-C) does not
// wait, nor does one interrupted while it waits.
func (l *liveServers) close(ctx context.Context, stderr io.Writer) {
	if l == nil {
		return
	}
	if l.linger > 0 && ctx.Err() == nil && !l.served() {
		fmt.Fprintf(stderr, "live: waiting up to %s for a last scrape or page load (--live-linger)\n", l.linger)
		deadline := time.NewTimer(l.linger)
		defer deadline.Stop()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
	wait:
		for !l.served() {
			select {
			case <-ctx.Done():
				break wait
			case <-deadline.C:
				break wait
			case <-tick.C:
			}
		}
	}
	for _, s := range l.servers {
		_ = s.Close()
	}
	if l.otlp != nil {
		// The last push, of the final frame, is made here.
		ctx, cancel := context.WithTimeout(context.Background(), otlpCloseTimeout)
		defer cancel()
		if err := l.otlp.Close(ctx); err != nil {
			fmt.Fprintln(stderr, "WARNING:", err)
		}
	}
}

// served reports whether the final state has been read: the metrics'
// final frame scraped, and every dashboard page turned into the report.
func (l *liveServers) served() bool {
	f := l.hub.Latest()
	if f == nil {
		return true
	}
	if l.metrics != nil && l.metrics.Scraped() < f.Seq {
		return false
	}
	return l.dashboard == nil || l.dashboard.Settled()
}

// chainProgress returns a progress callback that calls each of a and b
// that is not nil, or nil when both are.
func chainProgress(a, b func(attacker.Progress)) func(attacker.Progress) {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return func(p attacker.Progress) { a(p); b(p) }
}
