package httpx

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// KeyHeaders are the request headers that carry a provider's key: OpenAI's
// Authorization, Anthropic's x-api-key, Gemini's x-goog-api-key (and what
// a transport may have added). Once a redirect leaves a host, no hop
// carries them.
var KeyHeaders = []string{"Authorization", "X-Api-Key", "X-Goog-Api-Key", "Proxy-Authorization", "Cookie"}

// NoRedirects returns a copy of c that follows no redirect: the 3xx comes
// back as the response, so that the attempt records it (outcome redirect)
// or follows it itself, as one recorded attempt per hop. net/http would
// follow up to ten hops inside one Do, with every custom header (the keys
// among them) sent on to wherever the Location points.
func NoRedirects(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

// Redirects is client.follow_redirects for one client: how many hops a
// request may follow, and whether a hop may leave loopback.
type Redirects struct {
	Max         int
	AllowRemote bool
	// Drop names more headers that no hop to another host carries: the
	// scenario's own (a gateway's config, a tenant), which may be secrets.
	Drop []string
}

// Hop is the next request of a redirected one.
type Hop struct {
	url *url.URL
	// n counts the hops made, this one included.
	n int
	// crossHost is set once a hop has gone to another host (host and
	// port) than the request before it: from then on no key header is
	// sent, even back on the first host.
	crossHost bool
	drop      []string
}

// errNoLocation is why a 3xx without a usable Location is not followed.
var errNoLocation = errors.New("no Location to follow")

// next returns the hop that follows resp, a 3xx answer to a request that
// was the first (prev nil) or hop prev, or why it is not followed. The
// error's text is the attempt's error: it names the setting to change,
// never the Location, which the target wrote.
func (p Redirects) Next(resp *http.Response, prev *Hop) (*Hop, error) {
	n := 1
	if prev != nil {
		n = prev.n + 1
	}
	if n > p.Max {
		return nil, errors.New("not followed: client.follow_redirects is " + strconv.Itoa(p.Max))
	}
	if resp == nil || resp.Request == nil {
		return nil, errNoLocation
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, errNoLocation
	}
	u, err := resp.Request.URL.Parse(loc)
	if err != nil {
		return nil, errNoLocation
	}
	if err := CheckTarget(u.String(), p.AllowRemote); err != nil {
		return nil, errors.New("not followed: the Location is not on loopback, and --allow-remote is not set")
	}
	hop := &Hop{url: u, n: n, crossHost: !strings.EqualFold(u.Host, resp.Request.URL.Host), drop: p.Drop}
	if prev != nil && prev.crossHost {
		hop.crossHost = true
	}
	return hop, nil
}

// apply points out, a copy of the first request, at the hop, without its
// key headers once the hop has left the first host. out's header map must
// be out's own.
func (h *Hop) Apply(out *http.Request) {
	out.URL, out.Host = h.url, h.url.Host
	if h.crossHost {
		for _, k := range KeyHeaders {
			delete(out.Header, k)
		}
		for _, k := range h.drop {
			delete(out.Header, k)
		}
	}
}
