package attacker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/llm"
	"github.com/mcpload/mcpload/attacker/mcp"
	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/attacker/secrets"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// defaultAttemptTimeout bounds an attempt when the scenario sets no
// client.timeout (the loader normally fills it in).
const defaultAttemptTimeout = 60 * time.Second

// jobCloser is implemented by jobs that hold MCP sessions; the scheduler
// calls Close once the run is over so that servers can free them.
type jobCloser interface {
	Close(ctx context.Context) error
}

var (
	_ jobCloser    = (*conversationJob)(nil)
	_ jobCloser    = (*mcpDirectJob)(nil)
	_ slotReleaser = (*conversationJob)(nil)
	_ slotReleaser = (*mcpDirectJob)(nil)
)

// newJob builds the Job of sc. Everything that can be refused is refused
// here, before any load starts: targets off loopback without AllowRemote,
// providers without a key, tools on undefined servers, schemas that do not
// compile.
func newJob(sc *scenarios.Scenario, cfg jobConfig) (Job, error) {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	// Redirects are the attempts' to follow, hop by hop, or not at all.
	cfg.HTTPClient = httpx.NoRedirects(cfg.HTTPClient)
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	timeout := sc.Client.Timeout.D()
	if timeout <= 0 {
		timeout = defaultAttemptTimeout
	}
	if sc.Kind() == scenarios.KindMCPDirect {
		return newMCPDirect(sc, cfg, timeout)
	}
	return newConversation(sc, cfg, timeout)
}

func newMCPDirect(sc *scenarios.Scenario, cfg jobConfig, timeout time.Duration) (Job, error) {
	retry, rd := toolRetryFactory(sc), secrets.NewRedactor(secrets.Of(sc, cfg.Getenv)...)
	j, err := newMCPDirectJob(sc, func(server string) (mcp.Client, error) {
		return newMCPClient(sc, server, cfg, timeout, rd, retry())
	})
	if err != nil {
		return nil, err
	}
	j.opTimeout = sc.Client.ConversationTimeout.D()
	return j, nil
}

// resolveProvider finds provider name's base URL and API key, and
// refuses what must not run: an unknown provider or dialect, a target off
// loopback without opt-in, a missing key.
func resolveProvider(sc *scenarios.Scenario, name string, cfg jobConfig) (p *scenarios.Provider, base, key string, err error) {
	p = sc.Providers[name]
	if p == nil {
		return nil, "", "", fmt.Errorf("provider %q is not defined in providers", name)
	}
	basePath, err := llm.BasePath(p.API)
	if err != nil {
		return nil, "", "", fmt.Errorf("provider %q: %w", name, err)
	}
	base = p.BaseURL
	if p.IsMock() {
		if cfg.MockURL == "" {
			return nil, "", "", fmt.Errorf("provider %q uses the mock, but no mock is running", name)
		}
		base = cfg.MockURL + "/providers/" + name + basePath
		if err := checkUpstream(p.Upstream, cfg.AllowRemote); err != nil {
			return nil, "", "", fmt.Errorf("provider %q: %w", name, err)
		}
	} else if err := errors.Join(httpx.CheckTarget(base, cfg.AllowRemote), httpx.CheckProxy(cfg.Proxy, base)); err != nil {
		// Both, when both are off loopback: --allow-remote allows both.
		return nil, "", "", fmt.Errorf("provider %q: %w", name, err)
	}
	if key, err = secrets.Key(p, cfg.Getenv); err != nil {
		return nil, "", "", fmt.Errorf("provider %q: %w", name, err)
	}
	return p, base, key, nil
}

// attemptOptions are the model attempts' limits, timers and redirects of
// sc, each attempt bounded by timeout.
func attemptOptions(sc *scenarios.Scenario, timeout time.Duration, allowRemote bool) llm.Options {
	limits := sc.Client.Limits.WithDefaults()
	return llm.Options{
		Timeout:   timeout,
		MaxBytes:  limits.MaxResponseBytes,
		MaxCalls:  limits.MaxToolCalls,
		TTFT:      sc.Client.Stream.TTFT.D(),
		Idle:      sc.Client.Stream.Idle.D(),
		Total:     sc.Client.Stream.Total.D(),
		Redirects: httpx.Redirects{Max: sc.Client.FollowRedirects, AllowRemote: allowRemote},
	}
}

// toolRetryFactory returns a constructor of the tools/call retry policy of
// sc, one per MCP server (each with its own budget), or of nil when the
// scenario does not retry.
func toolRetryFactory(sc *scenarios.Scenario) func() *policy.Retry {
	c := sc.Client
	if c.Retry == nil {
		return func() *policy.Retry { return nil }
	}
	return func() *policy.Retry {
		var opts []policy.RetryOption
		if c.Budget != nil {
			opts = append(opts, policy.WithBudget(policy.NewBudget(*c.Budget)))
		}
		return policy.NewRetry(nil, *c.Retry, opts...)
	}
}

func newConversation(sc *scenarios.Scenario, cfg jobConfig, timeout time.Duration) (Job, error) {
	conv := sc.Conversation
	if conv == nil {
		return nil, fmt.Errorf("scenario %q has neither conversation nor mcp_direct", sc.Name)
	}
	name := conv.Provider
	// The providers the conversation may use: its own, then its fallback
	// chain's, each resolved (URL, key) and checked before any load.
	names := []string{name}
	for _, f := range sc.Client.Fallback {
		names = append(names, f.Provider)
	}
	type resolved struct {
		p         *scenarios.Provider
		base, key string
	}
	provs := make(map[string]resolved, len(names))
	var keys []string
	for _, n := range names {
		if _, dup := provs[n]; dup {
			continue
		}
		p, base, key, err := resolveProvider(sc, n, cfg)
		if err != nil {
			return nil, err
		}
		provs[n] = resolved{p, base, key}
		keys = append(keys, key)
	}
	rd := secrets.NewRedactor(append(keys, secrets.Of(sc, cfg.Getenv)...)...)
	limits := sc.Client.Limits.WithDefaults()
	var chatURL string
	attempts := make(map[string]*llm.Attempt, len(provs))
	for n, r := range provs {
		extra, _, err := secrets.Headers(r.p.Headers, "", cfg.Getenv)
		if err != nil {
			return nil, fmt.Errorf("provider %q: %w", n, err)
		}
		ep, err := llm.NewEndpoint(n, r.p, r.base, r.key, sc.Tools, extra)
		if err != nil {
			return nil, fmt.Errorf("provider %q: %w", n, err)
		}
		hc, err := targetClient(cfg, r.p.TLS)
		if err != nil {
			return nil, fmt.Errorf("provider %q: %w", n, err)
		}
		opt := attemptOptions(sc, timeout, cfg.AllowRemote)
		opt.Redirects.Drop = slices.Collect(maps.Keys(extra))
		opt.Headers = llm.NewHeaderRecorder(sc.RecordHeaderNames(r.p))
		attempts[n] = llm.NewAttempt(hc, ep, rd, opt)
		if n == name {
			chatURL = ep.URL()
		}
	}
	chat, err := llm.NewClient(&sc.Client, sc.Seed, name, attempts, rd)
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", name, err)
	}
	toolRetry := toolRetryFactory(sc)

	// One client and one session pool per server: sessions belong to a
	// server, and tools on one server share them.
	clients := map[string]*convTool{}
	tools := make(map[string]*convTool, len(sc.Tools))
	for _, t := range sc.Tools {
		server := t.Server
		if server == "" && len(sc.MCPServers) == 1 {
			for name := range sc.MCPServers {
				server = name // the loader's default, should it not have run
			}
		}
		ct := clients[server]
		if ct == nil {
			c, err := newMCPClient(sc, server, cfg, timeout, rd, toolRetry())
			if err != nil {
				return nil, fmt.Errorf("tool %q: %w", t.Name, err)
			}
			ct = &convTool{client: c, pool: mcp.NewPool(c)}
			clients[server] = ct
		}
		tools[t.Name] = ct
	}
	args, err := newArgValidator(sc.Tools)
	if err != nil {
		return nil, err
	}

	j := &conversationJob{
		provider:    name,
		modelKey:    record.ModelKey(name),
		chat:        chat,
		convTimeout: sc.Client.ConversationTimeout.D(),
		url:         chatURL,
		maxSteps:    conv.MaxSteps,
		tools:       tools,
		args:        args,
		redact:      rd,
		mcp:         mcpSlots{run: make(chan struct{}, limits.MaxMCPInFlight)},
		mcpPerConv:  limits.MaxMCPInFlightPerConversation,
	}
	if j.maxSteps <= 0 {
		j.maxSteps = defaultMaxSteps
	}
	if conv.System != "" {
		j.system = &openaichat.Message{Role: "system", Content: openaichat.Str(conv.System)}
	}
	for _, t := range conv.Turns {
		j.users = append(j.users, openaichat.Message{Role: "user", Content: openaichat.Str(t.User)})
	}
	for _, ct := range clients {
		j.pools = append(j.pools, ct.pool)
	}
	return j, nil
}

// serverURL resolves the endpoint of MCP server name and checks it.
func serverURL(sc *scenarios.Scenario, name string, cfg jobConfig) (string, error) {
	s := sc.MCPServers[name]
	if s == nil {
		return "", fmt.Errorf("mcp server %q is not defined in mcp_servers", name)
	}
	if s.IsMock() {
		if cfg.MockURL == "" {
			return "", fmt.Errorf("mcp server %q uses the mock, but no mock is running", name)
		}
		if err := checkUpstream(s.Upstream, cfg.AllowRemote); err != nil {
			return "", fmt.Errorf("mcp server %q: %w", name, err)
		}
		return cfg.MockURL + "/mcp/" + name, nil
	}
	if err := errors.Join(httpx.CheckTarget(s.URL, cfg.AllowRemote), httpx.CheckProxy(cfg.Proxy, s.URL)); err != nil {
		return "", fmt.Errorf("mcp server %q: %w", name, err)
	}
	return s.URL, nil
}
