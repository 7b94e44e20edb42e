package attacker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcpload/mcpload/attacker/fdbudget"
	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/secrets"
	"github.com/mcpload/mcpload/attacker/selfcheck"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// closeTimeout bounds closing a job's sessions at the end of a run.
const closeTimeout = 5 * time.Second

// An Option configures Run.
type Option func(*options)

type options struct {
	mockURL  string
	client   *http.Client
	getenv   func(string) string
	progress func(Progress)
	interval time.Duration
	version  string

	allowRemote bool
	self        string
	// locked: the caller holds the run folder's lock (WithRunLock).
	locked bool

	// job replaces the scenario's job; tests set it.
	job Job

	// shard is the slice of the schedule to run (WithShard).
	shard ShardSpec
}

// WithMockURL sets the base URL of the built-in mock
// (http://127.0.0.1:PORT), for providers and MCP servers whose URL is "mock".
func WithMockURL(url string) Option { return func(o *options) { o.mockURL = url } }

// WithHTTPClient sets the client that sends every request. The default keeps
// many connections alive per host, as vegeta's does.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithGetenv sets how API keys are looked up in the environment; the default
// is os.Getenv.
func WithGetenv(getenv func(string) string) Option {
	return func(o *options) { o.getenv = getenv }
}

// WithProgress has fn called with the run's progress every interval, and
// once more at the end. fn runs on the recorder's goroutine; it should
// return quickly.
func WithProgress(fn func(Progress)) Option { return func(o *options) { o.progress = fn } }

// WithInterval sets how often the run's files are flushed, histograms are
// cut into intervals and progress is reported. The default is 1s.
func WithInterval(d time.Duration) Option { return func(o *options) { o.interval = d } }

// WithAllowRemote permits providers and MCP servers off loopback
// (--allow-remote). Without it, Run refuses them before any load starts:
// a real target spends real money.
func WithAllowRemote(allow bool) Option { return func(o *options) { o.allowRemote = allow } }

// WithSelf sets the binary that a stdio server's command "mcpload" runs
// (scenarios.SelfCommand); the default is the running executable, which
// is right for the mcpload command itself.
func WithSelf(path string) Option { return func(o *options) { o.self = path } }

// WithVersion sets the mcpload version recorded in run.json.
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// WithRunLock tells Run that the caller already holds outDir's lock
// (record.LockRun), as the command does from before the run until its
// report is written. Without it, Run locks outDir itself for the run.
func WithRunLock() Option { return func(o *options) { o.locked = true } }

// ConfigError is returned by Run when the scenario cannot run as
// configured: a bad load shape, a missing API key, a non-loopback target
// without opt-in. No load was sent and no run folder was written.
type ConfigError struct {
	Scenario string
	Err      error
}

func (e *ConfigError) Error() string { return "scenario " + e.Scenario + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// AbortError is the cause to cancel Run's context with when the run
// should stop itself rather than be interrupted: a failed abort_on_fail
// threshold or a reached spend cap. The run is then recorded with status
// aborted and Reason as its stop_reason.
type AbortError struct {
	Reason string
}

func (e *AbortError) Error() string { return "aborted: " + e.Reason }

// Run runs sc and records it into outDir, which it creates and locks
// (record.LockRun; a folder another run holds gives a
// *record.LockedError): the arrivals of
// sc.Load, each running the scenario's job, until the schedule ends or ctx
// is done. It returns the final counters. When ctx is cancelled (Ctrl-C) it
// stops starting conversations, cancels those in flight, records all of it,
// and returns the run with status interrupted and a nil error, so that the
// caller can still report it.
//
// A scenario that cannot run (a bad load, a missing API key, a non-loopback
// target without opt-in) fails before any load starts and before anything
// is written into outDir. sc.Seed is the seed; the caller picks one if the
// scenario has none.
func Run(ctx context.Context, sc *scenarios.Scenario, outDir string, opts ...Option) (*record.Run, error) {
	o := options{getenv: os.Getenv, interval: time.Second, version: "dev"}
	for _, opt := range opts {
		opt(&o)
	}
	if o.interval <= 0 {
		return nil, fmt.Errorf("attacker: interval must be positive, got %s", o.interval)
	}

	if err := o.shard.validate(); err != nil {
		return nil, &ConfigError{Scenario: sc.Name, Err: err}
	}
	pacer, planned, err := NewShardedPacer(sc.Load, sc.Seed, o.shard.Index, o.shard.Count)
	if err != nil {
		return nil, &ConfigError{Scenario: sc.Name, Err: err}
	}
	slots, drop := o.shard.slots(sc.Load.MaxInFlight), sc.Load.OnCap == scenarios.OnCapDrop
	if slots <= 0 {
		slots, drop = uncappedSlots, false
	}
	proxy := httpx.ProxyFunc(o.getenv, o.allowRemote)
	if o.client == nil {
		o.client = defaultHTTPClient(fdbudget.NewMockConns(o.mockURL, fdbudget.SoftLimit()), &sc.Client)
		httpx.SetProxy(o.client, proxy)
		defer o.client.CloseIdleConnections()
	}
	clones := &clientClones{}
	defer clones.closeIdle()
	cfg := jobConfig{
		MockURL:     o.mockURL,
		HTTPClient:  o.client,
		Getenv:      o.getenv,
		Slots:       slots,
		AllowRemote: o.allowRemote,
		Proxy:       proxy,
		Clones:      clones,
		RunDir:      outDir,
		Self:        o.self,
	}
	// Discovered tools are part of the scenario the job is built from.
	found, err := discoverTools(ctx, sc, cfg)
	if err != nil {
		return nil, err
	}
	job := o.job
	if job == nil {
		job, err = newJob(sc, cfg)
		if err != nil {
			return nil, &ConfigError{Scenario: sc.Name, Err: err}
		}
	}
	if !o.locked {
		// A second run into the same folder would splice its records
		// into ours. A *record.LockedError names the holder.
		lock, err := record.LockRun(outDir)
		if err != nil {
			return nil, err
		}
		defer lock.Close()
	}
	if c, ok := job.(jobCloser); ok {
		defer func() {
			// The run's ctx may be cancelled by now; sessions are still
			// worth closing, briefly.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
			defer cancel()
			_ = c.Close(cctx)
		}()
	}

	hash, err := writeScenario(sc, filepath.Join(outDir, record.ScenarioFile))
	if err != nil {
		return nil, err
	}
	if err := found.write(outDir); err != nil {
		return nil, err
	}
	self, err := selfcheck.New(outDir, o.interval, slots)
	if err != nil {
		return nil, err
	}
	meta := record.Run{
		Scenario:     sc.Name,
		Kind:         sc.Kind(),
		Seed:         sc.Seed,
		Version:      o.version,
		Planned:      planned,
		Rate:         record.RunRate{Target: meanRate(pacer, planned)},
		Warnings:     sc.TLSWarnings(),
		ScenarioHash: hash,
		Shard:        o.shard.record(sc, slots),
	}
	if meta.Shard != nil {
		meta.Shard.ClockOffsetNS = clockOffset(outDir)
	}
	began := o.shard.waitStart(ctx)
	meta.Started = began
	o.shard.startSkew(&meta, began)
	rec, err := NewRecorder(outDir, meta)
	if err != nil {
		self.Abort()
		return nil, err
	}
	rec.redact = runRedactor(sc, o.getenv)
	rec.self = self
	self.Start(rec, began)
	mon := &monitor{
		rec:      rec,
		pacer:    pacer,
		planned:  planned,
		began:    began,
		interval: o.interval,
		report:   o.progress,
	}
	mon.start()

	s := &scheduler{pacer: pacer, planned: planned, job: job, rec: rec, slots: slots, drop: drop, stages: newStageIndex(sc.Load.Stages), shard: o.shard}
	s.run(ctx, began)

	selfErr := self.Stop()
	flushErr := errors.Join(mon.stop(), selfErr)
	status, reason := record.StatusComplete, ""
	if ctx.Err() != nil {
		status = record.StatusInterrupted
		var abort *AbortError
		if errors.As(context.Cause(ctx), &abort) {
			status, reason = record.StatusAborted, abort.Reason
		}
	}
	rec.meta.StopReason = reason
	run, err := rec.Close(status)
	if o.progress != nil {
		mon.tick(time.Now())
	}
	if err = errors.Join(flushErr, err); err != nil {
		return run, fmt.Errorf("recording run: %w", err)
	}
	return run, nil
}

// runRedactor returns the redactor of every key and header secret the
// scenario's targets resolve to, used or not: the recorder's last guard does not depend on
// which job reads which key.
func runRedactor(sc *scenarios.Scenario, getenv func(string) string) *secrets.Redactor {
	return secrets.NewRedactor(secrets.Of(sc, getenv)...)
}

// writeScenario writes the resolved scenario, with the seed that was used,
// and returns its hash (record.ScenarioHash).
func writeScenario(sc *scenarios.Scenario, path string) (string, error) {
	b, err := sc.Resolved()
	if err != nil {
		return "", fmt.Errorf("encoding %s: %w", record.ScenarioFile, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return "", fmt.Errorf("writing %s: %w", record.ScenarioFile, err)
	}
	return record.ScenarioHash(b), nil
}

// meanRate returns the mean rate of p's schedule over planned.
func meanRate(p vegeta.Pacer, planned time.Duration) float64 {
	if planned <= 0 {
		return 0
	}
	switch p := p.(type) {
	case cumulative:
		return p.Hits(planned) / planned.Seconds()
	case *PoissonPacer:
		return meanRate(p.base, planned)
	case *ShardPacer:
		return meanRate(p.base, planned) / float64(p.count)
	}
	// Midpoint rule, fine enough for smooth pacers such as vegeta's.
	const n = 10000
	var sum float64
	for i := range n {
		sum += p.Rate(time.Duration((float64(i) + 0.5) / n * float64(planned)))
	}
	if math.IsNaN(sum) || math.IsInf(sum, 0) {
		return 0
	}
	return sum / n
}
