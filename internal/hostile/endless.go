package hostile

import (
	"net/http"
	"strings"
)

// EndlessToolCalls is a provider whose every answer, in any of the three
// APIs, is an event stream of calls of tool, one per event, that never
// ends: the client must stop reading, or hold every call.
func EndlessToolCalls(tool string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api := modelAPI(r)
		if api == "" {
			http.NotFound(w, r)
			return
		}
		s := newSSE(w)
		if s.streamStart(api) != nil {
			return
		}
		for i := 0; r.Context().Err() == nil; i++ {
			if s.toolCallEvent(api, i, tool) != nil {
				return
			}
		}
	})
}

// EndlessStream is a provider whose every answer, in any of the three
// APIs, is an event stream of text deltas of eventBytes each that never
// ends: the client must bound what it reads.
func EndlessStream(eventBytes int) http.Handler {
	text := strings.Repeat("x", eventBytes)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api := modelAPI(r)
		if api == "" {
			http.NotFound(w, r)
			return
		}
		s := newSSE(w)
		if s.streamStart(api) != nil {
			return
		}
		for first := true; r.Context().Err() == nil; first = false {
			if s.textEvent(api, first, text) != nil {
				return
			}
		}
	})
}
