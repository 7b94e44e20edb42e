package mockprovider

import (
	"log/slog"
	"time"
)

// An Option configures a Server.
type Option func(*Server)

// WithSeed sets the seed that drives latency draws and generated ids,
// overriding the scenario's seed.
func WithSeed(seed int64) Option {
	return func(s *Server) { s.seed = seed }
}

// WithLogger sets where the server logs. nil, the default, is silent.
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) { s.log = l }
}

// WithMCPSessionTimeout sets how long an idle MCP session lives before the
// server closes it. Clients that never send DELETE (a crashed load generator,
// per-call sessions abandoned mid-run) would otherwise leak a session each.
// 0 disables the timeout. The default is DefaultMCPSessionTimeout.
func WithMCPSessionTimeout(d time.Duration) Option {
	return func(s *Server) { s.sessionTimeout = d }
}

// WithMCPStreaming makes MCP POST responses text/event-stream instead of the
// default application/json. JSON is cheaper and is what a load test of tool
// latency wants; SSE exercises a client's stream handling.
func WithMCPStreaming(on bool) Option {
	return func(s *Server) { s.mcpSSE = on }
}

// WithAdmin serves the admin endpoints (/admin/faults, /admin/epoch,
// /admin/limits), through which the fault timeline and rate limits can be
// changed while the mock runs. `mcpload mock` turns them on so that clients
// nobody here wrote can be rehearsed against faults; the in-process mock of
// `mcpload run` keeps them off, since its timeline is the scenario's.
func WithAdmin(on bool) Option {
	return func(s *Server) { s.admin = on }
}

// WithClock sets the clock of fault windows and rate limits (time.Now by
// default), so that tests can move time without sleeping. Waits (latencies,
// stalls) still take real time.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// DefaultMCPSessionTimeout is the idle lifetime of an MCP session unless
// WithMCPSessionTimeout says otherwise. It is long enough for a slot that
// reuses its session at a low rate, short enough that abandoned sessions
// do not pile up during a soak.
const DefaultMCPSessionTimeout = 2 * time.Minute
