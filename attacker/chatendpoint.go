package attacker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

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

// chatEndpoint is where one provider's chat requests go, and how their
// bodies start.
type chatEndpoint struct {
	provider string
	url      string // .../chat/completions, .../messages, ...:generateContent
	dialect  dialect
	// hdrs carry the key (and the API's version).
	hdrs   []header
	stream bool
	// prefix is the request body up to the conversation: model, stream
	// options and the tools, marshalled once per job.
	prefix []byte
}

// newChatEndpoint builds the endpoint of provider name at url (its model
// step URL) in dialect d; apiKey is "" for the mock.
func newChatEndpoint(name string, p *scenarios.Provider, d dialect, url, apiKey string, tools []*scenarios.Tool) (*chatEndpoint, error) {
	prefix, err := d.prefix(p, tools)
	if err != nil {
		return nil, err
	}
	return &chatEndpoint{provider: name, url: url, dialect: d, hdrs: d.headers(apiKey), stream: p.Stream, prefix: prefix}, nil
}

// body returns the request body of a step over msgs.
func (ep *chatEndpoint) body(msgs []openaichat.Message) []byte {
	b := make([]byte, 0, len(ep.prefix)+256*len(msgs)+2)
	return ep.dialect.appendBody(append(b, ep.prefix...), msgs)
}

// setHeaders sets the endpoint's key headers into h.
func (ep *chatEndpoint) setHeaders(h http.Header) {
	for _, kv := range ep.hdrs {
		h[kv.name] = kv.value
	}
}

// accept returns the Accept header of the endpoint's requests.
func (ep *chatEndpoint) accept() []string {
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
func (ep *chatEndpoint) rewriteFrom(primary *chatEndpoint) func(*http.Request) (*http.Request, error) {
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
