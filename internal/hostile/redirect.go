package hostile

import (
	"net/http"
	"sync"
)

// Redirect answers every request with status code (301, 302, 307, 308)
// and a Location of to plus the request's path and query, as a provider
// or MCP server that moved would.
func Redirect(code int, to string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loc := to + r.URL.Path
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", loc)
		w.WriteHeader(code)
	})
}

// Catcher serves with Next and keeps the headers of every request it
// received, so that a test can see which keys a redirect carried to it.
type Catcher struct {
	Next http.Handler

	mu      sync.Mutex
	headers []http.Header
}

func (c *Catcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.headers = append(c.headers, r.Header.Clone())
	c.mu.Unlock()
	c.Next.ServeHTTP(w, r)
}

// Headers returns the headers of the requests received so far.
func (c *Catcher) Headers() []http.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]http.Header(nil), c.headers...)
}
