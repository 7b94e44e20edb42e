package policy

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Hint is what a response tells its client about retrying it, in the
// headers that OpenAI's and Anthropic's SDKs read.
type Hint struct {
	// Wait is the delay the server asks for; HasWait says it asked.
	Wait    time.Duration
	HasWait bool
	// ShouldRetry is x-should-retry: +1 for true, -1 for false, 0 when
	// absent or neither.
	ShouldRetry int
}

// HintOf reads h at time now:
//
//   - retry-after-ms (milliseconds, fractions allowed) wins when present and
//     valid, as in OpenAI's SDK;
//   - else Retry-After, in seconds (fractions allowed) or as an HTTP-date,
//     which counts from now and is 0 once past;
//   - x-should-retry: true or false.
func HintOf(h http.Header, now time.Time) Hint {
	var hint Hint
	if h == nil {
		return hint
	}
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && ms >= 0 && !math.IsInf(ms, 0) {
			hint.Wait, hint.HasWait = seconds(ms/1000), true
		}
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" && !hint.HasWait {
		if s, err := strconv.ParseFloat(v, 64); err == nil {
			if s >= 0 && !math.IsInf(s, 0) {
				hint.Wait, hint.HasWait = seconds(s), true
			}
		} else if t, err := http.ParseTime(v); err == nil {
			hint.Wait, hint.HasWait = max(t.Sub(now), 0), true
		}
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("X-Should-Retry"))) {
	case "true":
		hint.ShouldRetry = 1
	case "false":
		hint.ShouldRetry = -1
	}
	return hint
}

// seconds converts s seconds to a Duration, saturating instead of
// overflowing.
func seconds(s float64) time.Duration {
	if s*float64(time.Second) >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(s * float64(time.Second))
}
