package httpx

import (
	"net/http"
	"strconv"

	"github.com/mcpload/mcpload/attacker/policy"
)

// Headers that tag model requests and MCP requests with their
// conversation, step and attempt (see AttemptTags).
const (
	HdrSeq     = "Mcpload-Seq"
	HdrStep    = "Mcpload-Step"
	HdrAttempt = "Mcpload-Attempt"
)

// AttemptTags sets the Mcpload-Seq, -Step and -Attempt headers of attempt n
// of st into h. The mock derives its latency and fault draws from them, so
// that a run is reproducible whatever order requests arrive in; other
// servers ignore them.
func AttemptTags(h http.Header, st *policy.Step, n int) {
	if st == nil {
		return
	}
	// One array for the three values: this runs for every request.
	v := [...]string{strconv.FormatUint(st.Conversation, 10), strconv.Itoa(st.Index), strconv.Itoa(n)}
	vs := v[:]
	h[HdrSeq], h[HdrStep], h[HdrAttempt] = vs[0:1:1], vs[1:2:2], vs[2:3:3]
}
