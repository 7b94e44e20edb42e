package hostile

import (
	"crypto/rand"
	"net/http"
)

// RandomTools is a provider whose every answer, in any of the three APIs,
// is one whole answer of n calls of tools with random names, never the
// same twice: a client that keys anything by tool name grows without
// bound.
func RandomTools(n int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		names := make([]string, n)
		for i := range names {
			names[i] = "t_" + rand.Text()
		}
		modelJSON(w, modelAPI(r), names)
	})
}
