package hostile

import (
	"net/http"
	"slices"
)

// ToolCalls is a provider whose every answer, in any of the three APIs,
// is one whole (non-streamed) answer of n calls of tool: far more than any
// agent runs at once, enough to exhaust a client that sends them all.
func ToolCalls(n int, tool string) http.Handler {
	names := slices.Repeat([]string{tool}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		modelJSON(w, modelAPI(r), names)
	})
}
