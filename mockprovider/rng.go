package mockprovider

import (
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
)

// Request headers that make draws reproducible under concurrency. A client
// that sends them gets the same latency draws and ids for the same
// conversation step, whatever order requests arrive in.
const (
	// HeaderSeq carries the conversation's sequence number.
	HeaderSeq = "Mcpload-Seq"
	// HeaderStep carries the step number within the conversation. Chat
	// completions do not need it (the turn and reply follow from the
	// messages); MCP tool calls use it to tell two calls of one tool apart.
	HeaderStep = "Mcpload-Step"
	// HeaderAttempt carries the attempt number within the step, from 1, so
	// that a retry meets its own latency and fault draws rather than the
	// first attempt's again.
	HeaderAttempt = "Mcpload-Attempt"
)

// rngSource hands each request its own small RNG: derived from the seed and
// the request's identity when the client sent HeaderSeq, otherwise split off
// a shared, seeded, mutex-guarded RNG (one lock per request, not per draw).
type rngSource struct {
	seed uint64
	mu   sync.Mutex
	r    *rand.Rand
}

func newRNGSource(seed int64) *rngSource {
	s := uint64(seed)
	return &rngSource{seed: s, r: rand.New(rand.NewPCG(s, mix(s, 0x6d6f636b)))}
}

// forRequest returns the RNG of one request. endpoint identifies what is
// served (a provider or a tool); a and b are the step within the conversation
// (turn and reply for chat, step for tools).
func (s *rngSource) forRequest(h http.Header, endpoint, a, b uint64) *rand.Rand {
	if seq, ok := headerUint(h, HeaderSeq); ok {
		k := mix(mix(mix(mix(s.seed, seq), a), b), endpoint)
		// Attempt 1 (or none) keeps the draws requests had before attempts
		// were numbered.
		if att, ok := headerUint(h, HeaderAttempt); ok && att > 1 {
			k = mix(k, att)
		}
		return rand.New(rand.NewPCG(k, mix(k, 1)))
	}
	s.mu.Lock()
	x, y := s.r.Uint64(), s.r.Uint64()
	s.mu.Unlock()
	return rand.New(rand.NewPCG(x, y))
}

// headerUint parses a header holding an unsigned integer. It indexes the map
// directly: the names above are already canonical.
func headerUint(h http.Header, name string) (uint64, bool) {
	v := h[name]
	if len(v) == 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(v[0], 10, 64)
	return n, err == nil
}

// mix folds v into h with splitmix64's finaliser, so that nearby inputs
// (seq 1, seq 2) give unrelated streams.
func mix(h, v uint64) uint64 {
	z := h ^ (v + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2))
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// endpointKey hashes an endpoint's name for mix.
func endpointKey(kind, name string) uint64 {
	f := fnv.New64a()
	f.Write([]byte(kind))
	f.Write([]byte{0})
	f.Write([]byte(name))
	return f.Sum64()
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomID returns prefix followed by n random alphanumerics, as OpenAI's
// ids look (call_..., chatcmpl-...).
func randomID(r *rand.Rand, prefix string, n int) string {
	b := make([]byte, len(prefix), len(prefix)+n)
	copy(b, prefix)
	for n > 0 {
		// 62^10 < 2^64: ten characters per draw.
		x := r.Uint64()
		for i := 0; i < 10 && n > 0; i++ {
			b = append(b, alnum[x%62])
			x /= 62
			n--
		}
	}
	return string(b)
}
