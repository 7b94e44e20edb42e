package hostile

import (
	"net/http"
	"strings"
	"time"
)

// EndlessToolCalls is a provider whose every answer, in any of the three
// APIs, is an event stream of calls of tool that never ends, as fast as
// the client reads: the client must stop reading, or hold every call.
func EndlessToolCalls(tool string) http.Handler { return ToolCallStream(tool, 0) }

// ToolCallStream is a provider whose every answer, in any of the three
// APIs, is an event stream of calls of tool, as fast as the client reads,
// for d, then a proper end (0: no end): a client that reads it all has
// hundreds of thousands of calls to run.
func ToolCallStream(tool string, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api := modelAPI(r)
		if api == "" {
			http.NotFound(w, r)
			return
		}
		var end <-chan time.Time
		if d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			end = t.C
		}
		s := newSSE(w)
		b := appendToolCall(startFrames(api), api, 0, tool)
		if s.write(b) != nil {
			return
		}
		s.flush()
		// Calls go out 64 to a write: a client that reads them one by
		// one still gets them by the hundred thousand.
		for i := 1; r.Context().Err() == nil; {
			select {
			case <-end:
				_ = s.write(endFrames(api))
				return
			default:
			}
			b = b[:0]
			for last := i + 64; i < last; i++ {
				b = appendToolCall(b, api, i, tool)
			}
			if s.write(b) != nil {
				return
			}
		}
	})
}

// EndlessStream is a provider whose every answer, in any of the three
// APIs, is an event stream of text deltas of eventBytes each that never
// ends, as fast as the client reads: the client must bound what it reads.
func EndlessStream(eventBytes int) http.Handler {
	text := strings.Repeat("x", eventBytes)
	frames := map[string][2][]byte{}
	for _, api := range []string{OpenAI, Anthropic, Gemini} {
		open, delta := textFrames(api, text)
		frames[api] = [2][]byte{append(startFrames(api), open...), delta}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := frames[modelAPI(r)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		s := newSSE(w)
		if s.write(f[0]) != nil || s.write(f[1]) != nil {
			return
		}
		s.flush()
		for r.Context().Err() == nil {
			if s.write(f[1]) != nil {
				return
			}
		}
	})
}
