package mockprovider

import (
	"math/rand/v2"
	"net/http"

	"github.com/mcpload/mcpload/wire/openaichat"
)

// dialect is one provider API the mock speaks: OpenAI Chat Completions,
// Anthropic Messages or Gemini generateContent. Each handler decodes its
// API's request into an exchange; from there prepare runs the same script,
// rate limits, fault timeline and latencies for every dialect, calling the
// dialect for what the API answers then: its errors and its rate-limit
// headers. The handler then writes the answer or the stream with its
// dialect's own functions.
type dialect interface {
	// writeError answers e in the API's error shape.
	writeError(w http.ResponseWriter, e *apiError)
	// limitHeaders writes the rate-limit headers of an admitted request.
	// (limitState goes by value: a pointer through the interface would
	// move it to the heap.)
	limitHeaders(h http.Header, st limitState)
	// rateLimited answers 429 for st, a refusal of the limiter or of a
	// rate_limit fault.
	rateLimited(w http.ResponseWriter, st limitState, model string)
	// httpError answers an http_error fault (500, 502 or 503).
	httpError(w http.ResponseWriter, f *fault)
	// overloaded answers an overloaded fault.
	overloaded(w http.ResponseWriter, f *fault)
}

// answerer is a dialect that writes its own answers, whole or streamed:
// Anthropic's and Gemini's. (OpenAI's are plain functions, called directly
// from its handler.)
type answerer interface {
	dialect
	complete(w http.ResponseWriter, wt *waiter, bufs *buffers, ex exchange, rep *reply, rng *rand.Rand, usage openaichat.Usage, f *fault)
	stream(w http.ResponseWriter, wt *waiter, bufs *buffers, ex exchange, p *provider, rep *reply, rng *rand.Rand, usage openaichat.Usage, f *fault)
}

// answer answers the decoded request ex for provider p in d's format,
// once prepare has drawn its reply, latency and fault.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, d answerer, p *provider, ex exchange, bufs *buffers) {
	wt := waiter{ctx: r.Context(), done: s.done, waiting: &s.waiting}
	defer wt.stop()
	a, ok := s.prepare(w, r, d, p, ex, &wt)
	if !ok {
		return
	}
	if err := wt.wait(a.wait); err != nil {
		s.abortIn(w, d, err)
		return
	}
	if ex.stream {
		d.stream(w, &wt, bufs, ex, p, a.rep, a.rng, a.usage, a.f)
		return
	}
	d.complete(w, &wt, bufs, ex, a.rep, a.rng, a.usage, a.f)
}

// exchange is what prepare needs of a decoded request, whatever its API.
type exchange struct {
	// model is the model the request named (the URL's, for Gemini).
	model string
	// stream asks for SSE; includeUsage for OpenAI's usage chunk.
	stream, includeUsage bool
	// turn and replies place the request in the script (see position);
	// results counts the tool results since the turn's user message, which
	// place it when calls go one at a time; promptBytes is the size of its
	// messages and tools, for the prompt estimate.
	turn, replies, results, promptBytes int
	// choice is the request's tool choice: "" (auto), "none", "required",
	// or the name of the one tool the model must call.
	choice string
	// serial forbids parallel tool calls: the script's calls of one reply
	// go out one per answer.
	serial bool
}

// Tool choices of exchange.choice besides a tool's name.
const (
	choiceNone     = "none"
	choiceRequired = "required"
)

// openAI is the Chat Completions dialect: the mock's first, whose
// functions predate the others and are called as they were.
type openAI struct{}

func (openAI) writeError(w http.ResponseWriter, e *apiError) { writeError(w, e) }
func (openAI) limitHeaders(h http.Header, st limitState)     { st.setHeaders(h) }
func (openAI) rateLimited(w http.ResponseWriter, st limitState, model string) {
	rateLimited(w, &st, model)
}
func (openAI) httpError(w http.ResponseWriter, f *fault) { writeHTTPError(w, f) }

// overloaded answers 529 in Anthropic's shape: OpenAI has no overloaded
// status of its own, and 529 is what the incident reports call overload.
func (openAI) overloaded(w http.ResponseWriter, f *fault) { writeOverloaded(w, f) }
