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
	"github.com/mcpload/mcpload/attacker/mcp"
	"github.com/mcpload/mcpload/attacker/policy"
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
	retry, rd := toolRetryFactory(sc), newRedactor(scenarioSecrets(sc, cfg.Getenv)...)
	j, err := newMCPDirectJob(sc, func(server string) (mcp.Client, error) {
		return newMCPClient(sc, server, cfg, timeout, rd, retry())
	})
	if err != nil {
		return nil, err
	}
	j.opTimeout = sc.Client.ConversationTimeout.D()
	return j, nil
}

// resolveProvider finds provider name's dialect, model step URL and API
// key, and refuses what must not run: an unknown provider or dialect, a
// target off loopback without opt-in, a missing key.
func resolveProvider(sc *scenarios.Scenario, name string, cfg jobConfig) (*scenarios.Provider, dialect, string, string, error) {
	p := sc.Providers[name]
	if p == nil {
		return nil, nil, "", "", fmt.Errorf("provider %q is not defined in providers", name)
	}
	d, err := dialectFor(p.API)
	if err != nil {
		return nil, nil, "", "", fmt.Errorf("provider %q: %w", name, err)
	}
	base := p.BaseURL
	if p.IsMock() {
		if cfg.MockURL == "" {
			return nil, nil, "", "", fmt.Errorf("provider %q uses the mock, but no mock is running", name)
		}
		base = cfg.MockURL + "/providers/" + name + d.basePath()
		if err := checkUpstream(p.Upstream, cfg.AllowRemote); err != nil {
			return nil, nil, "", "", fmt.Errorf("provider %q: %w", name, err)
		}
	} else if err := errors.Join(httpx.CheckTarget(base, cfg.AllowRemote), httpx.CheckProxy(cfg.Proxy, base)); err != nil {
		// Both, when both are off loopback: --allow-remote allows both.
		return nil, nil, "", "", fmt.Errorf("provider %q: %w", name, err)
	}
	key, err := resolveKey(p, cfg.Getenv)
	if err != nil {
		return nil, nil, "", "", fmt.Errorf("provider %q: %w", name, err)
	}
	return p, d, d.url(base, p.Model, p.Stream), key, nil
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
		p        *scenarios.Provider
		d        dialect
		url, key string
	}
	provs := make(map[string]resolved, len(names))
	var keys []string
	for _, n := range names {
		if _, dup := provs[n]; dup {
			continue
		}
		p, d, url, key, err := resolveProvider(sc, n, cfg)
		if err != nil {
			return nil, err
		}
		provs[n] = resolved{p, d, url, key}
		keys = append(keys, key)
	}
	rd := newRedactor(append(keys, scenarioSecrets(sc, cfg.Getenv)...)...)
	limits := sc.Client.Limits.WithDefaults()
	chatURL := provs[name].url
	endpoints := make(map[string]*chatEndpoint, len(provs))
	attempts := make(map[string]*chatAttempt, len(provs))
	others := map[string]*chatEndpoint{}
	for n, r := range provs {
		ep, err := newChatEndpoint(n, r.p, r.d, r.url, r.key, sc.Tools)
		if err != nil {
			return nil, fmt.Errorf("provider %q: %w", n, err)
		}
		extra, _, err := targetHeaders(r.p.Headers, "", cfg.Getenv)
		if err != nil {
			return nil, fmt.Errorf("provider %q: %w", n, err)
		}
		ep.hdrs = endpointHeaders(r.p, r.key, ep.hdrs, extra)
		hc, err := targetClient(cfg, r.p.TLS)
		if err != nil {
			return nil, fmt.Errorf("provider %q: %w", n, err)
		}
		endpoints[n] = ep
		attempts[n] = &chatAttempt{
			hc:        hc,
			ep:        ep,
			key:       record.AttemptModelKey(n, r.p.Model),
			timeout:   timeout,
			maxBytes:  limits.MaxResponseBytes,
			maxCalls:  limits.MaxToolCalls,
			ttft:      sc.Client.Stream.TTFT.D(),
			idle:      sc.Client.Stream.Idle.D(),
			total:     sc.Client.Stream.Total.D(),
			redact:    rd,
			redirects: httpx.Redirects{Max: sc.Client.FollowRedirects, AllowRemote: cfg.AllowRemote, Drop: slices.Collect(maps.Keys(extra))},
		}
		if n != name {
			others[n] = ep
		}
	}
	chat, err := newChatClient(&sc.Client, sc.Seed, endpoints[name], attempts, others, rd)
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
