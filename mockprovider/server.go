// Package mockprovider is mcpload's built-in target: a model provider that
// speaks OpenAI Chat Completions, Anthropic Messages and Gemini
// generateContent (JSON and SSE streaming) and follows a scenario's
// scripted conversation, and MCP servers over Streamable HTTP that run the
// scenario's tools. Latencies follow the scenario's latency
// models, drawn reproducibly from one seed.
//
// The mock runs in process on a loopback port during `mcpload run`, and
// standalone for `mcpload mock`. It keeps its per-request work small
// (decode, pick the scripted reply, encode) so that it is never the
// bottleneck of what it serves.
package mockprovider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpload/mcpload/scenarios"
)

// shutdownGrace bounds how long Close waits for in-flight responses to
// finish before it drops their connections. Mock waits end at once on
// Close, so only writes are left to finish.
const shutdownGrace = 5 * time.Second

// defaultProvider and defaultModel name the provider served when the
// scenario has no mock provider, so that `mcpload mock` always answers chat.
const (
	defaultProvider = "mock"
	defaultModel    = "mcpload-mock"
)

// Server is the mock provider and MCP server of one scenario. It is safe
// for concurrent use.
type Server struct {
	seed           int64
	log            *slog.Logger
	sessionTimeout time.Duration
	mcpSSE         bool
	admin          bool
	// now is the clock of fault windows and rate limits (WithClock).
	now func() time.Time

	// timeline is the fault timeline in force; the admin endpoint swaps it.
	timeline atomic.Pointer[timeline]
	// epoch is when fault windows start; epochSet records that SetEpoch
	// chose it, so that Start leaves it alone.
	epoch    atomic.Pointer[time.Time]
	epochSet atomic.Bool

	// providers holds the mock providers by name; providerNames is sorted.
	providers     map[string]*provider
	providerNames []string
	// otherProviders are the scenario's providers the mock does not serve.
	otherProviders []string
	// byModel picks the provider of a model for /v1/chat/completions.
	byModel map[string]*provider
	script  *script
	models  map[string][]byte // provider name ("" for all) -> /v1/models body

	// mcps holds one MCP endpoint per mock mcp_servers entry, and "" for
	// the endpoint that serves every tool.
	mcps     map[string]*mcpEndpoint
	mcpNames []string

	// upstreamURL is WithUpstream's; proxy forwards the proxied targets
	// (proxy.go), nil when there are none.
	upstreamURL string
	proxy       *proxy

	rng *rngSource
	// reqSeq numbers the request ids (gateway.go).
	reqSeq atomic.Uint64
	// fresh holds the connections that have not yet carried a request.
	// http.Server.Shutdown counts such a connection as busy for 5 s (a
	// client's transport often dials one it then never uses), so Close
	// closes them itself.
	fresh   sync.Map     // net.Conn -> struct{}
	waiting atomic.Int64 // waits in progress
	pool    sync.Pool    // *buffers
	mux     *http.ServeMux
	done    chan struct{}
	close   sync.Once

	// adminMu serialises admin changes of rate limiters.
	adminMu sync.Mutex

	mu      sync.Mutex
	httpSrv *http.Server
	baseURL string
	closed  bool
}

// New builds the mock of a loaded, validated scenario whose defaults are
// filled in. It serves the providers whose base_url is "mock" and the
// mcp_servers whose url is "mock"; when there is no mock provider, it serves
// one named "mock" so that chat requests still get answers.
func New(sc *scenarios.Scenario, opts ...Option) (*Server, error) {
	if sc == nil {
		return nil, errors.New("mockprovider: nil scenario")
	}
	s := &Server{
		seed:           sc.Seed,
		sessionTimeout: DefaultMCPSessionTimeout,
		done:           make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	epoch := s.now()
	s.epoch.Store(&epoch)
	s.rng = newRNGSource(s.seed)
	s.pool.New = func() any { return newBuffers() }

	var err error
	if s.script, err = newScript(sc.Conversation); err != nil {
		return nil, fmt.Errorf("mockprovider: scenario %q: %w", sc.Name, err)
	}
	s.initProviders(sc)
	if err := s.initModels(); err != nil {
		return nil, fmt.Errorf("mockprovider: models: %w", err)
	}
	if err := s.initMCP(sc); err != nil {
		return nil, fmt.Errorf("mockprovider: scenario %q: %w", sc.Name, err)
	}
	tl, skipped, err := compileTimeline(sc.Faults, s.targets(), true)
	if err != nil {
		return nil, fmt.Errorf("mockprovider: scenario %q: %w", sc.Name, err)
	}
	for _, msg := range skipped {
		s.log.Warn("fault not carried out by the mock", "fault", msg)
	}
	s.timeline.Store(tl)
	if s.proxy, err = s.newProxy(sc, s.upstreamURL); err != nil {
		return nil, fmt.Errorf("mockprovider: scenario %q: %w", sc.Name, err)
	}
	s.mux = s.routes()
	return s, nil
}

func (s *Server) initProviders(sc *scenarios.Scenario) {
	s.providers = make(map[string]*provider)
	for name, p := range sc.Providers {
		if p == nil || !p.IsMock() {
			s.otherProviders = append(s.otherProviders, name)
			continue
		}
		mp := &provider{name: name, api: p.API, model: p.Model, mock: p.Mock, key: endpointKey("chat", name), counts: newGatewayCounts(p.Mock),
			capacity: newCapacity(p.Mock.Concurrency, p.Mock.LatencyPerInFlight)}
		if l := p.Mock.Limits; l != nil && (l.RPM > 0 || l.TPM > 0) {
			mp.limiter.Store(newLimiter(*l, s.now()))
		}
		s.providers[name] = mp
	}
	slices.Sort(s.otherProviders)
	if len(s.providers) == 0 {
		s.providers[defaultProvider] = &provider{name: defaultProvider, model: defaultModel, key: endpointKey("chat", defaultProvider), counts: newGatewayCounts(scenarios.ProviderMock{})}
	}
	s.providerNames = sortedKeys(s.providers)
	s.byModel = make(map[string]*provider)
	for _, name := range s.providerNames {
		p := s.providers[name]
		if _, ok := s.byModel[p.model]; !ok {
			s.byModel[p.model] = p
		}
	}
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/providers/{name}/v1/chat/completions", s.proxyOr(routeOpenAI, s.handleProviderChat))
	mux.HandleFunc("/v1/chat/completions", s.proxyOr(routeOpenAI, s.handleChat))
	mux.HandleFunc("/providers/{name}/v1/messages", s.proxyOr(routeAnthropic, s.handleProviderMessages))
	mux.HandleFunc("/v1/messages", s.proxyOr(routeAnthropic, s.handleMessages))
	mux.HandleFunc("/providers/{name}/v1beta/models/{call}", s.proxyOr(routeGemini, s.handleProviderGemini))
	mux.HandleFunc("/v1beta/models/{call}", s.proxyOr(routeGemini, s.handleGemini))
	mux.HandleFunc("/providers/{name}/v1/models", s.proxyOr(routeModels, s.handleProviderModels))
	mux.HandleFunc("/v1/models", s.proxyOr(routeModels, s.handleModels))
	mux.HandleFunc("/mcp/{server}", s.proxyOr(routeMCP, s.handleMCP))
	mux.HandleFunc("/mcp", s.proxyOr(routeMCP, s.handleMCP))
	mux.HandleFunc("GET /healthz", s.handleHealth)
	if s.admin {
		mux.HandleFunc("/admin/faults", s.handleAdminFaults)
		mux.HandleFunc("/admin/epoch", s.handleAdminEpoch)
		mux.HandleFunc("/admin/limits", s.handleAdminLimits)
		mux.HandleFunc("/admin/gateway", s.handleAdminGateway)
	}
	mux.HandleFunc("/", s.proxyOr(routeOther, notFound))
	return mux
}

// Handler returns the handler of every endpoint, for callers that run their
// own http.Server (or httptest.Server).
func (s *Server) Handler() http.Handler { return s.mux }

// Start listens on addr (such as "127.0.0.1:0") and serves in the
// background. It returns the base URL, http://HOST:PORT; a wildcard listen
// address is reported as 127.0.0.1. Fault windows count from now unless
// SetEpoch chose another time.
func (s *Server) Start(addr string) (baseURL string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("mockprovider: start: server closed")
	}
	if s.httpSrv != nil {
		return "", errors.New("mockprovider: start: already started at " + s.baseURL)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("mockprovider: listen: %w", err)
	}
	s.httpSrv = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ConnState:         s.trackConn,
		Protocols:         serverProtocols(),
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: MaxConcurrentStreams},
	}
	s.baseURL = "http://" + urlHost(ln.Addr().(*net.TCPAddr))
	if !s.epochSet.Load() {
		now := s.now()
		s.epoch.Store(&now)
	}
	srv := s.httpSrv
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("mock server stopped", "err", err)
		}
	}()
	s.log.Info("mock server listening", "url", s.baseURL)
	return s.baseURL, nil
}

// trackConn keeps s.fresh. It runs on every state change of every
// connection, so its common case, a request starting on a known connection,
// is a lock-free miss in the sync.Map.
func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		s.fresh.Store(c, struct{}{})
		// Close may have swept s.fresh before the Store: check after it.
		select {
		case <-s.done:
			c.Close()
		default:
		}
	case http.StateActive, http.StateHijacked, http.StateClosed:
		s.fresh.Delete(c)
	}
}

// urlHost is the host:port to put in a URL for a listener address.
func urlHost(a *net.TCPAddr) string {
	ip := a.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(a.Port))
}

// Close stops the server: waits in progress end at once (streams stop,
// waiting requests get 503), MCP sessions are closed, and the listener, if
// Start opened one, shuts down gracefully. It is safe to call more than once.
func (s *Server) Close() error {
	var err error
	s.close.Do(func() {
		close(s.done)
		defer s.proxy.close()
		for _, name := range s.mcpNames {
			s.mcps[name].closeSessions()
		}
		s.mu.Lock()
		s.closed = true
		srv := s.httpSrv
		s.mu.Unlock()
		// done is closed: connections accepted from now on close themselves.
		s.fresh.Range(func(c, _ any) bool {
			c.(net.Conn).Close()
			return true
		})
		if srv == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err = srv.Shutdown(ctx); err != nil {
			err = errors.Join(fmt.Errorf("mockprovider: shutdown: %w", err), srv.Close())
		}
	})
	return err
}

// Endpoint describes one endpoint the Server serves.
type Endpoint struct {
	Name   string
	Method string
	// URL is absolute once Start has run, else a path.
	URL         string
	Description string
}

// Endpoints lists every endpoint served, for `mcpload mock` to print.
func (s *Server) Endpoints() []Endpoint {
	s.mu.Lock()
	base := s.baseURL
	s.mu.Unlock()
	var eps []Endpoint
	add := func(name, method, path, desc string) {
		eps = append(eps, Endpoint{Name: name, Method: method, URL: base + path, Description: desc})
	}
	for _, name := range s.providerNames {
		p := s.providers[name]
		switch p.api {
		case scenarios.APIAnthropic:
			add("messages:"+name, http.MethodPost, "/providers/"+name+"/v1/messages",
				fmt.Sprintf("Anthropic messages of provider %s (model %s); base URL %s/providers/%s", name, p.model, base, name))
		case scenarios.APIGemini:
			add("gemini:"+name, http.MethodPost, "/providers/"+name+"/v1beta/models/"+p.model+":generateContent",
				fmt.Sprintf("Gemini generateContent and streamGenerateContent?alt=sse of provider %s (model %s); base URL %s/providers/%s", name, p.model, base, name))
		default:
			add("chat:"+name, http.MethodPost, "/providers/"+name+"/v1/chat/completions",
				fmt.Sprintf("OpenAI chat completions of provider %s (model %s); OpenAI base URL %s/providers/%s/v1", name, p.model, base, name))
		}
		add("models:"+name, http.MethodGet, "/providers/"+name+"/v1/models", "OpenAI model list of provider "+name)
	}
	add("chat", http.MethodPost, "/v1/chat/completions", "OpenAI chat completions; the provider is chosen by model, else "+s.providerNames[0])
	add("messages", http.MethodPost, "/v1/messages", "Anthropic messages; the provider is chosen by model, as for chat")
	add("gemini", http.MethodPost, "/v1beta/models/MODEL:generateContent", "Gemini generateContent and streamGenerateContent?alt=sse; the provider is chosen by model, as for chat")
	add("models", http.MethodGet, "/v1/models", "OpenAI model list of every mock provider")
	for _, name := range s.mcpNames {
		m := s.mcps[name]
		if name == "" {
			add("mcp", "POST, GET, DELETE", "/mcp", fmt.Sprintf("MCP Streamable HTTP serving every tool (%d)", len(m.tools)))
			continue
		}
		add("mcp:"+name, "POST, GET, DELETE", "/mcp/"+name, fmt.Sprintf("MCP Streamable HTTP of server %s (%d tools)", name, len(m.tools)))
	}
	add("healthz", http.MethodGet, "/healthz", "liveness")
	if s.admin {
		add("admin:faults", "GET, PUT", "/admin/faults", "the fault timeline: GET it as JSON, PUT a JSON or YAML list of faults to replace it")
		add("admin:epoch", http.MethodPost, "/admin/epoch", "restart the clock of fault windows: they count from now")
		add("admin:limits", "GET, PUT", "/admin/limits", "providers' rate limits: GET all, PUT {rpm, tpm} with ?provider=NAME")
	}
	return eps
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status":"ok"}` + "\n"))
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
