package llm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// Header values shared by every request. They are assigned into the header
// map directly, which saves Header.Set's canonicalisation and a slice per
// request; nothing mutates them.
var (
	hdrJSON       = []string{"application/json"}
	hdrAcceptChat = []string{"application/json, text/event-stream"}
)

// Endpoint is where one provider's model requests go, and how their
// bodies start.
type Endpoint struct {
	provider string
	key      string // record.AttemptModelKey, its attempts'
	url      string // .../chat/completions, .../messages, ...:generateContent
	dialect  dialect
	// hdrs carry the key (and the API's version).
	hdrs   []header
	stream bool
	// prefix is the request body up to the conversation: model, stream
	// options and the tools, marshalled once per job.
	prefix []byte
}

// NewEndpoint builds the endpoint of provider name of the scenario, p: in
// p's dialect, at base (the API's base URL: p.BaseURL, or the mock's,
// which ends in BasePath), with key ("" for the mock, and for a key-less
// provider on loopback, which is then sent no key header at all), the
// tools the model is offered, and extra, the scenario's own headers.
func NewEndpoint(name string, p *scenarios.Provider, base, key string, tools []*scenarios.Tool, extra http.Header) (*Endpoint, error) {
	d, err := dialectFor(p.API)
	if err != nil {
		return nil, err
	}
	prefix, err := d.prefix(p, tools)
	if err != nil {
		return nil, err
	}
	return &Endpoint{
		provider: name,
		key:      record.AttemptModelKey(name, p.Model),
		url:      d.url(base, p.Model, p.Stream),
		dialect:  d,
		hdrs:     endpointHeaders(p, key, d.headers(key), extra),
		stream:   p.Stream,
		prefix:   prefix,
	}, nil
}

// BasePath is the path of api's base URL on the mock, after
// /providers/NAME: "/v1", or "/v1beta" for Gemini.
func BasePath(api string) (string, error) {
	d, err := dialectFor(api)
	if err != nil {
		return "", err
	}
	return d.basePath(), nil
}

// URL is where the endpoint's model steps go.
func (ep *Endpoint) URL() string { return ep.url }

// endpointHeaders are an endpoint's headers: the dialect's key headers,
// none of them when a provider off the mock has no key (a key-less server
// on loopback), then the scenario's own.
func endpointHeaders(p *scenarios.Provider, key string, keyHdrs []header, extra http.Header) []header {
	var out []header
	for _, kv := range keyHdrs {
		if key == "" && !p.IsMock() && slices.Contains(httpx.KeyHeaders, http.CanonicalHeaderKey(kv.name)) {
			continue
		}
		out = append(out, kv)
	}
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		out = append(out, header{name, extra[name]})
	}
	return out
}

// body returns the request body of a step over msgs.
func (ep *Endpoint) body(msgs []openaichat.Message) []byte {
	b := make([]byte, 0, len(ep.prefix)+256*len(msgs)+2)
	return ep.dialect.appendBody(append(b, ep.prefix...), msgs)
}

// setHeaders sets the endpoint's key headers into h.
func (ep *Endpoint) setHeaders(h http.Header) {
	for _, kv := range ep.hdrs {
		h[kv.name] = kv.value
	}
}

// accept returns the Accept header of the endpoint's requests.
func (ep *Endpoint) accept() []string {
	if ep.stream {
		return hdrAcceptChat
	}
	return hdrJSON
}

// rewriteFrom returns the fallback rewrite from the primary's requests to
// this endpoint: the same conversation for this provider (its model,
// stream options and dialect), at its URL, with its credentials. Within a
// dialect the primary's body keeps its conversation behind this
// provider's prefix; across dialects the conversation, which the step
// carries, is written anew.
func (ep *Endpoint) rewriteFrom(primary *Endpoint) func(*http.Request) (*http.Request, error) {
	return func(req *http.Request) (*http.Request, error) {
		var body []byte
		if ep.dialect == primary.dialect {
			if req.GetBody == nil {
				return nil, errors.New("fallback: request body cannot be read again")
			}
			rc, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("fallback: %w", err)
			}
			old, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("fallback: %w", err)
			}
			if !bytes.HasPrefix(old, primary.prefix) {
				return nil, errors.New("fallback: request was not built for the primary provider")
			}
			body = make([]byte, 0, len(ep.prefix)+len(old)-len(primary.prefix))
			body = append(append(body, ep.prefix...), old[len(primary.prefix):]...)
		} else {
			ss := stepStateFrom(req.Context())
			if ss == nil || ss.msgs == nil {
				return nil, errors.New("fallback: the step's conversation is not known")
			}
			body = ep.body(ss.msgs)
		}
		out, err := http.NewRequestWithContext(req.Context(), http.MethodPost, ep.url, bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("fallback: %w", err)
		}
		out.Header = req.Header.Clone()
		out.Header["Accept"] = ep.accept()
		for _, kv := range primary.hdrs {
			delete(out.Header, kv.name)
		}
		ep.setHeaders(out.Header)
		return out, nil
	}
}
