package policy

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// maxCachedBody bounds the plain bodies the cache keeps.
const maxCachedBody = 1 << 20

// ReplayableBody is a response body the cache can hand out again: the
// attempt RoundTripper's parsed bodies implement it, so a hit costs no
// parsing. Other bodies are read into memory (up to 1 MiB) instead.
type ReplayableBody interface {
	io.ReadCloser
	// Replay returns a fresh body with the same content, safe to use
	// (and modify) independently of the original.
	Replay() io.ReadCloser
}

// Cache answers identical requests from memory for a TTL, as the seed's
// client did: the key is the provider and the request (method, URL and
// body), only successes are kept, the least recently used entry goes first
// when max_entries is reached. A hit makes no attempt and is a
// record.EventCacheHit; a miss is a record.EventCacheMiss (counted, not
// written to events.jsonl).
//
// failsafe-go's cachepolicy wants its key in the context, computed by the
// caller, and has no TTL or bound of its own; a keyed LRU with a TTL is
// this.
type Cache struct {
	next       http.RoundTripper
	provider   string
	ttl        time.Duration
	maxEntries int
	now        func() time.Time

	mu      sync.Mutex
	lru     *list.List // of *cacheEntry, most recent first
	entries map[[sha256.Size]byte]*list.Element
}

type cacheEntry struct {
	key     [sha256.Size]byte
	expires time.Time
	status  int
	header  http.Header
	body    ReplayableBody // or nil, and raw
	raw     []byte
}

// CacheOption configures a Cache.
type CacheOption func(*Cache)

// WithCacheClock sets the cache's clock (tests).
func WithCacheClock(now func() time.Time) CacheOption { return func(c *Cache) { c.now = now } }

// NewCache returns cache c around next, whose requests go to provider. A
// zero max_entries takes the default.
func NewCache(next http.RoundTripper, provider string, c scenarios.Cache, opts ...CacheOption) *Cache {
	n := c.MaxEntries
	if n <= 0 {
		n = scenarios.DefaultCacheMaxEntries
	}
	ca := &Cache{
		next:       next,
		provider:   provider,
		ttl:        c.TTL.D(),
		maxEntries: n,
		now:        time.Now,
		lru:        list.New(),
		entries:    map[[sha256.Size]byte]*list.Element{},
	}
	for _, o := range opts {
		o(ca)
	}
	return ca
}

// Len returns the number of entries, expired ones included until they are
// looked up or evicted.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// RoundTrip implements http.RoundTripper.
func (c *Cache) RoundTrip(req *http.Request) (*http.Response, error) {
	key, ok := c.key(req)
	if !ok || c.ttl <= 0 {
		return c.next.RoundTrip(req)
	}
	st := StepFrom(req.Context())
	if resp := c.get(key, req); resp != nil {
		st.emit(record.Event{Kind: record.EventCacheHit, Provider: c.provider})
		return resp, nil
	}
	st.emit(record.Event{Kind: record.EventCacheMiss, Provider: c.provider})
	resp, err := c.next.RoundTrip(req)
	if err != nil || OutcomeOf(resp, nil) != record.OutcomeOK {
		return resp, err
	}
	e := &cacheEntry{key: key, status: resp.StatusCode, header: resp.Header}
	if rb, ok := resp.Body.(ReplayableBody); ok {
		// Keep a copy: the caller may modify what it was given.
		kept, ok := rb.Replay().(ReplayableBody)
		if !ok {
			return resp, nil
		}
		e.body = kept
	} else {
		raw, rerr := io.ReadAll(io.LimitReader(resp.Body, maxCachedBody+1))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(raw))
		if rerr != nil || len(raw) > maxCachedBody {
			return resp, nil
		}
		e.raw = raw
	}
	c.put(e)
	return resp, nil
}

// key hashes the provider and the request. Requests whose body cannot be
// read again are not cached.
func (c *Cache) key(req *http.Request) ([sha256.Size]byte, bool) {
	h := sha256.New()
	io.WriteString(h, c.provider)
	h.Write([]byte{0})
	io.WriteString(h, req.Method)
	h.Write([]byte{0})
	io.WriteString(h, req.URL.String())
	h.Write([]byte{0})
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return [sha256.Size]byte{}, false
		}
		body, err := req.GetBody()
		if err != nil {
			return [sha256.Size]byte{}, false
		}
		_, err = io.Copy(h, body)
		body.Close()
		if err != nil {
			return [sha256.Size]byte{}, false
		}
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k, true
}

// get returns a response for key from the cache, or nil.
func (c *Cache) get(key [sha256.Size]byte, req *http.Request) *http.Response {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.entries[key]
	if el == nil {
		return nil
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.lru.Remove(el)
		delete(c.entries, key)
		return nil
	}
	c.lru.MoveToFront(el)
	resp := &http.Response{
		Status:     http.StatusText(e.status),
		StatusCode: e.status,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  e.header.Clone(),
		Request: req,
	}
	if e.body != nil {
		resp.Body = e.body.Replay()
	} else {
		resp.Body = io.NopCloser(bytes.NewReader(e.raw))
		resp.ContentLength = int64(len(e.raw))
	}
	return resp
}

func (c *Cache) put(e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.expires = c.now().Add(c.ttl)
	if el := c.entries[e.key]; el != nil {
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	for c.lru.Len() >= c.maxEntries {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.entries, old.Value.(*cacheEntry).key)
	}
	c.entries[e.key] = c.lru.PushFront(e)
}
