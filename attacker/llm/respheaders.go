package llm

import (
	"net/http"
	"net/textproto"
	"slices"
	"strings"

	"github.com/mcpload/mcpload/attacker/httpx"
)

// requestIDHeaders are the headers a provider names its request by, in the
// order they are looked for: OpenAI's x-request-id (its API reference's
// "Debugging requests"; the Python and Node SDKs expose it as _request_id),
// Anthropic's request-id (anthropic-sdk-go's apierror.Error.RequestID),
// and Google's x-goog-request-id. The Gemini API sends none: its answers
// carry responseId, which the Gemini dialect reads instead.
var requestIDHeaders = []string{"X-Request-Id", "Request-Id", "X-Goog-Request-Id"}

// builtinRecordHeaders are recorded on every model attempt that carries
// them: the providers' rate-limit state, and what the AI gateways report
// of the work they did behind the client (docs/gateways.md cites where
// each name comes from).
var builtinRecordHeaders = []string{
	// OpenAI's rate limits (and LiteLLM's, which uses the same names).
	"X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests",
	"X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens",
	"Retry-After", "Retry-After-Ms",
	// Anthropic's.
	"Anthropic-Ratelimit-Requests-Limit", "Anthropic-Ratelimit-Requests-Remaining", "Anthropic-Ratelimit-Requests-Reset",
	"Anthropic-Ratelimit-Tokens-Limit", "Anthropic-Ratelimit-Tokens-Remaining", "Anthropic-Ratelimit-Tokens-Reset",
	"Anthropic-Ratelimit-Input-Tokens-Remaining", "Anthropic-Ratelimit-Output-Tokens-Remaining",
	// LiteLLM's proxy.
	"X-Litellm-Attempted-Retries", "X-Litellm-Attempted-Fallbacks", "X-Litellm-Model-Api-Base",
	"X-Litellm-Model-Id", "X-Litellm-Call-Id",
	// Portkey's gateway.
	"X-Portkey-Retry-Attempt-Count", "X-Portkey-Last-Used-Option-Index", "X-Portkey-Trace-Id",
	"X-Portkey-Provider", "X-Portkey-Cache-Status",
}

// MaxHeaderValue bounds a recorded header value, once redacted: ids,
// counts and URLs fit; a target that sends more is cut.
const MaxHeaderValue = 128

// HeaderRecorder picks out of a response's headers what an attempt
// records. It is immutable once built, and shared by a provider's jobs.
type HeaderRecorder struct {
	// names are canonical header keys: the built-ins, then the
	// scenario's record_headers; lower holds them as recorded.
	names, lower []string
}

// NewHeaderRecorder returns the recorder of the built-ins and extra, the
// scenario's record_headers of one provider.
func NewHeaderRecorder(extra []string) *HeaderRecorder {
	names := slices.Clone(builtinRecordHeaders)
	for _, n := range extra {
		if c := textproto.CanonicalMIMEHeaderKey(n); !slices.Contains(names, c) && !slices.Contains(requestIDHeaders, c) {
			names = append(names, c)
		}
	}
	lower := make([]string, len(names))
	for i, n := range names {
		lower[i] = strings.ToLower(n)
	}
	return &HeaderRecorder{names: names, lower: lower}
}

// read returns the request id in h, and the recorded headers present in h
// by lower-case name (nil when none is: no allocation for a provider that
// sends none). Values are the first of each header, unclipped; record
// clips them.
func (hr *HeaderRecorder) read(h http.Header) (reqID string, m map[string]string) {
	for _, n := range requestIDHeaders {
		if v := h[n]; len(v) > 0 && v[0] != "" {
			reqID = v[0]
			break
		}
	}
	if hr == nil {
		return reqID, nil
	}
	for i, n := range hr.names {
		v := h[n]
		if len(v) == 0 {
			continue
		}
		if m == nil {
			m = make(map[string]string, 4)
		}
		m[hr.lower[i]] = v[0]
	}
	return reqID, m
}

// clipHeader redacts a target's header value, then cuts it to
// MaxHeaderValue bytes (the order Clip keeps, so that no part of a key is
// left at the cut).
func clipHeader(rd Redactor, s string) string {
	return httpx.Truncate(rd.Redact(s), MaxHeaderValue)
}

// clipHeaders clips m's values in place.
func clipHeaders(rd Redactor, m map[string]string) map[string]string {
	for k, v := range m {
		m[k] = clipHeader(rd, v)
	}
	return m
}
