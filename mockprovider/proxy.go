package mockprovider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mcpload/mcpload/scenarios"
)

// The fault proxy: the mock in front of a real provider or MCP server. It
// forwards each request to the upstream and the answer back untouched,
// flushing as bytes arrive, except where the fault timeline or the
// provider's mock.limits say otherwise: then it answers in the provider's
// own error shape, as the mock does, or spoils the upstream's answer (a
// stall or a cut mid-stream, a malformed event).

// WithUpstream makes the Server a fault proxy in front of rawURL: every
// request whose target has no upstream of its own (providers.NAME.upstream,
// mcp_servers.NAME.upstream) goes to the same path on rawURL, less the
// /providers/NAME prefix of the mock's per-provider routes. The caller
// checks that rawURL may be loaded (loopback, or --allow-remote).
func WithUpstream(rawURL string) Option {
	return func(s *Server) { s.upstreamURL = rawURL }
}

// upstreamMode is how a request's path maps onto an upstream's URL.
type upstreamMode uint8

const (
	// upstreamRoot (--upstream): the mock stands at the upstream's
	// address; the path goes on the URL's path whole.
	upstreamRoot upstreamMode = iota
	// upstreamBase (providers.NAME.upstream): the URL is a base URL up to
	// its version, as base_url is; what follows the mock's
	// /providers/NAME/v1 (or /v1beta) goes on it.
	upstreamBase
	// upstreamEndpoint (mcp_servers.NAME.upstream): the URL is the
	// endpoint itself.
	upstreamEndpoint
)

// upstream is one URL the proxy forwards to.
type upstream struct {
	base *url.URL
	mode upstreamMode
	rp   *httputil.ReverseProxy
}

// proxy holds the Server's upstreams.
type proxy struct {
	transport *http.Transport
	// root serves what has no upstream of its own; nil without --upstream.
	root      *upstream
	providers map[string]*upstream
	mcps      map[string]*upstream
	// buffers are ReverseProxy's copy buffers, reused across requests.
	buffers *bufferPool
}

// errUpstream marks an error about the upstream configuration.
var errUpstream = errors.New("upstream")

// newProxy builds the proxy of sc's upstreams and of root (the
// WithUpstream URL, "" for none). It returns nil when nothing is proxied,
// so that the mock's routes stay as they are.
func (s *Server) newProxy(sc *scenarios.Scenario, root string) (*proxy, error) {
	p := &proxy{
		providers: map[string]*upstream{},
		mcps:      map[string]*upstream{},
		buffers:   &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}},
		transport: &http.Transport{
			// The upstream is named by the scenario or the flag, never by
			// the environment's proxy variables.
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			IdleConnTimeout:       90 * time.Second,
			// A load test keeps many requests in flight to one upstream:
			// the default of 2 idle connections would close and redial most.
			MaxIdleConnsPerHost: 1024,
			// The client's Accept-Encoding, or its absence, goes through
			// as it is; the answer's bytes are not decoded.
			DisableCompression: true,
		},
	}
	var err error
	if root != "" {
		if p.root, err = s.newUpstream(p, "--upstream", root, upstreamRoot); err != nil {
			return nil, err
		}
	}
	for name, pr := range sc.Providers {
		if pr != nil && pr.IsProxied() {
			if p.providers[name], err = s.newUpstream(p, "providers."+name+".upstream", pr.Upstream, upstreamBase); err != nil {
				return nil, err
			}
		}
	}
	for name, m := range sc.MCPServers {
		if m != nil && m.IsProxied() {
			if p.mcps[name], err = s.newUpstream(p, "mcp_servers."+name+".upstream", m.Upstream, upstreamEndpoint); err != nil {
				return nil, err
			}
		}
	}
	if p.root == nil && len(p.providers) == 0 && len(p.mcps) == 0 {
		return nil, nil
	}
	return p, nil
}

func (s *Server) newUpstream(p *proxy, what, raw string, mode upstreamMode) (*upstream, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%w: %s: expected an http(s) URL with a host and no credentials", errUpstream, what)
	}
	up := &upstream{base: u, mode: mode}
	up.rp = &httputil.ReverseProxy{
		Rewrite:   up.rewrite,
		Transport: p.transport,
		// Flush every write: SSE and any other stream reach the client
		// as the upstream sends them.
		FlushInterval: -1,
		BufferPool:    p.buffers,
		ErrorLog:      slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ErrorHandler:  proxyError,
	}
	return up, nil
}

// close drops the idle connections to the upstreams.
func (p *proxy) close() {
	if p != nil {
		p.transport.CloseIdleConnections()
	}
}

// rewrite points the outbound request at the upstream. The headers stay
// the client's (ReverseProxy has removed the hop-by-hop ones), the
// forwarding headers included: the proxy is a rehearsal's stand-in, not a
// hop the upstream should see.
func (u *upstream) rewrite(pr *httputil.ProxyRequest) {
	in := pr.In
	rest := in.URL.EscapedPath()
	if after, ok := strings.CutPrefix(rest, "/providers/"); ok {
		_, after, _ = strings.Cut(after, "/")
		rest = "/" + after
	}
	switch u.mode {
	case upstreamBase:
		rest = trimVersion(rest)
	case upstreamEndpoint:
		rest = ""
	}
	out := pr.Out.URL
	out.Scheme, out.Host = u.base.Scheme, u.base.Host
	raw := u.base.EscapedPath()
	if rest != "" {
		raw = strings.TrimSuffix(raw, "/") + rest
	}
	out.RawPath = raw
	out.Path, _ = url.PathUnescape(raw)
	if out.Path == raw {
		out.RawPath = ""
	}
	switch {
	case u.base.RawQuery == "":
		out.RawQuery = in.URL.RawQuery
	case in.URL.RawQuery == "":
		out.RawQuery = u.base.RawQuery
	default:
		out.RawQuery = u.base.RawQuery + "&" + in.URL.RawQuery
	}
	pr.Out.Host = "" // the upstream's host
	for _, k := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"} {
		if v, ok := in.Header[k]; ok {
			pr.Out.Header[k] = v
		}
	}
	delete(pr.Out.Header, headerToolFault)
}

// trimVersion removes the API version segment of the mock's provider
// routes (/v1, /v1beta) from path: a provider's upstream already ends
// with its version, as base_url does.
func trimVersion(path string) string {
	for _, v := range []string{"/v1beta", "/v1"} {
		if rest, ok := strings.CutPrefix(path, v); ok && (rest == "" || rest[0] == '/') {
			return rest
		}
	}
	return path
}

// proxyError answers a request the upstream did not answer: 502 in the
// dialect's shape, as a gateway does, without the upstream's URL (its
// query may hold a key). A client that went away gets nothing.
func proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := "mcpload fault proxy: the upstream did not answer: " + err.Error()
	if pw, ok := w.(*proxyWriter); ok && pw.d != nil {
		pw.d.writeError(pw.ResponseWriter, &apiError{status: http.StatusBadGateway, message: msg, typ: typeServer})
		return
	}
	http.Error(w, msg, http.StatusBadGateway)
}

// route is what a mock route serves, for the proxy to pick the dialect.
type route uint8

const (
	routeOpenAI route = iota + 1
	routeAnthropic
	routeGemini
	routeModels
	routeMCP
	routeOther
)

// dialectOf is the dialect of a route; for routeOther, the path's last
// part says, as on a gateway's own paths (/chat/completions,
// /anthropic/v1/messages, models/M:generateContent). nil: no model
// endpoint, no faults.
func dialectOf(rt route, path string) dialect {
	switch rt {
	case routeOpenAI:
		return openAI{}
	case routeAnthropic:
		return anthropicDialect{}
	case routeGemini:
		return geminiDialect{}
	case routeOther:
		switch {
		case strings.HasSuffix(path, "/chat/completions"):
			return openAI{}
		case strings.HasSuffix(path, "/messages"):
			return anthropicDialect{}
		case strings.Contains(path, "/models/") && (strings.HasSuffix(path, ":generateContent") || strings.HasSuffix(path, ":streamGenerateContent")):
			return geminiDialect{}
		}
	}
	return nil
}

// proxyOr is h, or, when the Server proxies, a handler that serves
// proxied targets through the fault proxy and the others with h.
func (s *Server) proxyOr(rt route, h http.HandlerFunc) http.HandlerFunc {
	if s.proxy == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.proxied(w, r, rt) {
			h(w, r)
		}
	}
}

// proxied serves r through the fault proxy when its target is proxied,
// and reports whether it did.
func (s *Server) proxied(w http.ResponseWriter, r *http.Request, rt route) bool {
	if rt == routeMCP {
		up := s.proxy.mcps[r.PathValue("server")]
		if up == nil {
			up = s.proxy.root
		}
		if up == nil {
			return false
		}
		s.proxyMCP(w, r, up)
		return true
	}
	var p *provider
	up := s.proxy.root
	if name := r.PathValue("name"); name != "" {
		if p = s.providers[name]; p != nil && s.proxy.providers[name] != nil {
			up = s.proxy.providers[name]
		}
	}
	if up == nil {
		return false
	}
	d := dialectOf(rt, r.URL.Path)
	if d == nil {
		up.rp.ServeHTTP(w, r) // model lists and the like: untouched
		return true
	}
	s.proxyChat(w, r, d, p, up)
	return true
}

// chatPeek is what the proxy reads of a model request: the model, for
// model: faults and provider choice, and the answer's size the client
// allows, for the tokens a rate limit counts.
type chatPeek struct {
	Model               string `json:"model"`
	MaxTokens           int    `json:"max_tokens"`
	MaxCompletionTokens int    `json:"max_completion_tokens"`
	GenerationConfig    struct {
		MaxOutputTokens int `json:"maxOutputTokens"`
	} `json:"generationConfig"`
}

// proxyChat carries a model request to up through the timeline and p's
// limits (p nil: the provider of the request's model).
func (s *Server) proxyChat(w http.ResponseWriter, r *http.Request, d dialect, p *provider, up *upstream) {
	// Not a pooled buffer: the transport may still read the body after
	// the response is over.
	var body bytes.Buffer
	if aerr := readBody(w, r, &body); aerr != nil {
		d.writeError(w, aerr)
		return
	}
	var pk chatPeek
	_ = json.Unmarshal(body.Bytes(), &pk) // what is not a request goes on as it is, for the upstream to refuse
	model := pk.Model
	if _, ok := d.(geminiDialect); ok {
		model = geminiModel(r.URL.Path)
	}
	if p == nil {
		p = s.providerFor(model)
		if pu := s.proxy.providers[p.name]; pu != nil {
			up = pu
		}
	}
	// OpenAI counts a request's tokens for its limits before the answer:
	// the prompt's estimate and the most the answer may use.
	tokens := estimateTokens(body.Len()) + max(pk.MaxTokens, pk.MaxCompletionTokens, pk.GenerationConfig.MaxOutputTokens)
	rng := s.rng.forRequest(r.Header, p.key, 0, 0)
	wt := waiter{ctx: r.Context(), done: s.done, waiting: &s.waiting}
	defer wt.stop()
	pw := &proxyWriter{ResponseWriter: w, d: d, wt: &wt}
	if lim := p.limiter.Load(); lim != nil {
		st := lim.admit(s.now(), tokens)
		if st.refused != "" {
			d.rateLimited(w, st, model)
			return
		}
		pw.limits, pw.hasLimits = st, true
	}
	var dec decision
	if tl := s.timeline.Load(); tl.chat {
		dec = s.chatDecision(tl, r, p, model, 0, 0, rng)
	}
	delay := dec.delay
	if f := dec.f; f != nil {
		if s.failFast(w, &wt, d, f, delay, p, tokens, model) {
			return
		}
		switch f.spec.Kind {
		case scenarios.FaultSlowHeaders:
			delay += Sample(f.spec.Latency, rng)
		default: // stream_stall, stream_cut, malformed: they spoil the answer
			pw.f = f
			pw.stall = Sample(f.spec.Latency, rng)
		}
	}
	if err := wt.wait(delay); err != nil {
		s.abortIn(w, d, err)
		return
	}
	r.Body = io.NopCloser(&body)
	r.ContentLength = int64(body.Len())
	up.rp.ServeHTTP(pw, r)
}

// geminiModel is the model of a Gemini path, .../models/MODEL:METHOD.
func geminiModel(path string) string {
	_, call, _ := strings.Cut(path, "/models/")
	model, _, _ := strings.Cut(call, ":")
	return model
}

// bufferPool is an httputil.BufferPool.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte  { return *b.p.Get().(*[]byte) }
func (b *bufferPool) Put(x []byte) { b.p.Put(&x) }

// Upstream is the WithUpstream URL for people to read (scenarios.RedactURL),
// or "" without one.
func (s *Server) Upstream() string {
	if s.proxy == nil || s.proxy.root == nil {
		return ""
	}
	return scenarios.RedactURL(s.proxy.root.base.String())
}
