package mockprovider

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/mcpload/mcpload/scenarios"
)

// rateWindow is the period limits are counted over: rpm and tpm are per
// minute, unless Limits.Quantum enforces them over a shorter window.
const rateWindow = time.Minute

// limiter enforces a provider's rpm and tpm over a rolling one-minute
// window. It keeps a log of the requests it admitted (when, and how many
// tokens), so that its counts are exact: remaining is what a request
// arriving now may still use, and Retry-After is the time until the oldest
// requests leave the window and free enough capacity. A token bucket would
// let a full minute's quota through in a burst and then a trickle; a rolling
// window says what "60 requests per minute" says, and its headers are
// accurate at every instant.
//
// Rejected requests are not logged: a 429 uses no quota, so clients that
// honour Retry-After get in when it says.
type limiter struct {
	mu     sync.Mutex
	limits scenarios.Limits
	// window is rateWindow, or the quantum; rpm and tpm are the limits
	// scaled to it.
	window   time.Duration
	rpm, tpm int
	// base anchors the log's offsets; offsets keep the monotonic clock.
	base time.Time
	log  []admitted // log[head:] is in the window, oldest first
	head int
	// tokens is the sum of log[head:].tokens.
	tokens int
}

type admitted struct {
	at     time.Duration // since base
	tokens int
}

func newLimiter(l scenarios.Limits, now time.Time) *limiter {
	lim := &limiter{base: now}
	lim.setQuantum(l)
	return lim
}

// setQuantum sets the limits and the window they are enforced over.
func (l *limiter) setQuantum(lim scenarios.Limits) {
	l.limits, l.window, l.rpm, l.tpm = lim, rateWindow, lim.RPM, lim.TPM
	if q := lim.Quantum.D(); q > 0 && q < rateWindow {
		scale := func(n int) int {
			if n <= 0 {
				return n
			}
			return max(1, int(int64(n)*int64(q)/int64(rateWindow)))
		}
		l.window, l.rpm, l.tpm = q, scale(lim.RPM), scale(lim.TPM)
	}
}

// limitState is what x-ratelimit-* headers report, and why a request was
// refused.
type limitState struct {
	limits scenarios.Limits
	// remaining capacity after this request; reset is the time until the
	// oldest admitted request leaves the window and frees capacity.
	remainingRequests, remainingTokens int
	resetRequests, resetTokens         time.Duration
	// Set when the request was refused: on "requests" or "tokens", when it
	// may be retried, and the figures of the message.
	refused    string
	retryAfter time.Duration
	used       int
	requested  int
}

// setLimits changes the limits; the window's log is kept.
func (l *limiter) setLimits(lim scenarios.Limits) {
	l.mu.Lock()
	l.setQuantum(lim)
	l.mu.Unlock()
}

// usage reports the limits and what the window holds now.
func (l *limiter) usage(now time.Time) (lim scenarios.Limits, requests, tokens int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(now.Sub(l.base))
	return l.limits, len(l.log) - l.head, l.tokens
}

// admit counts a request of tokens at now, or refuses it.
func (l *limiter) admit(now time.Time, tokens int) limitState {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := now.Sub(l.base)
	l.expire(t)
	st := limitState{limits: l.limits}
	n := len(l.log) - l.head
	rpm, tpm := l.rpm, l.tpm
	switch {
	case rpm > 0 && n+1 > rpm:
		st.refused, st.used, st.requested = "requests", n, 1
		// Only the oldest has to leave.
		st.retryAfter = l.log[l.head].at + l.window - t
	case tpm > 0 && l.tokens+tokens > tpm:
		st.refused, st.used, st.requested = "tokens", l.tokens, tokens
		st.retryAfter = l.tokensFreeAt(t, l.tokens+tokens-tpm, tokens > tpm) - t
	}
	if st.refused == "" {
		l.log = append(l.log, admitted{at: t, tokens: tokens})
		l.tokens += tokens
		n++
	}
	st.remainingRequests = max(rpm-n, 0)
	st.remainingTokens = max(tpm-l.tokens, 0)
	if n > 0 {
		st.resetRequests = l.log[l.head].at + l.window - t
		st.resetTokens = st.resetRequests
	}
	switch st.refused {
	case "requests":
		st.remainingRequests = 0
	case "tokens":
		st.resetTokens = st.retryAfter
	}
	return st
}

// tokensFreeAt is when, at the earliest, need tokens have left the window.
// A request larger than the whole limit never fits; it is told to wait a
// window, which is what a client can act on.
func (l *limiter) tokensFreeAt(t time.Duration, need int, tooLarge bool) time.Duration {
	if !tooLarge {
		freed := 0
		for _, a := range l.log[l.head:] {
			freed += a.tokens
			if freed >= need {
				return a.at + l.window
			}
		}
	}
	return t + l.window
}

// expire drops the requests that left the window by t.
func (l *limiter) expire(t time.Duration) {
	for l.head < len(l.log) && l.log[l.head].at+l.window <= t {
		l.tokens -= l.log[l.head].tokens
		l.head++
	}
	// Compact once the dead prefix is half the log, so that the log stays
	// as long as the window holds.
	if l.head > 1024 && l.head*2 > len(l.log) {
		n := copy(l.log, l.log[l.head:])
		l.log = l.log[:n]
		l.head = 0
	}
	if l.head == len(l.log) {
		l.log, l.head = l.log[:0], 0
	}
}

// Header names of OpenAI's rate limit headers.
const (
	hdrLimitRequests     = "X-Ratelimit-Limit-Requests"
	hdrRemainingRequests = "X-Ratelimit-Remaining-Requests"
	hdrResetRequests     = "X-Ratelimit-Reset-Requests"
	hdrLimitTokens       = "X-Ratelimit-Limit-Tokens"
	hdrRemainingTokens   = "X-Ratelimit-Remaining-Tokens"
	hdrResetTokens       = "X-Ratelimit-Reset-Tokens"
	hdrRetryAfterMs      = "Retry-After-Ms"
	hdrShouldRetry       = "X-Should-Retry"
)

// setHeaders writes st as x-ratelimit-* headers, for the limits that are set.
func (st *limitState) setHeaders(h http.Header) {
	if st.limits.RPM > 0 {
		h[hdrLimitRequests] = []string{strconv.Itoa(st.limits.RPM)}
		h[hdrRemainingRequests] = []string{strconv.Itoa(st.remainingRequests)}
		h[hdrResetRequests] = []string{resetString(st.resetRequests)}
	}
	if st.limits.TPM > 0 {
		h[hdrLimitTokens] = []string{strconv.Itoa(st.limits.TPM)}
		h[hdrRemainingTokens] = []string{strconv.Itoa(st.remainingTokens)}
		h[hdrResetTokens] = []string{resetString(st.resetTokens)}
	}
}

// resetString formats a duration as OpenAI's x-ratelimit-reset-* headers
// do ("1s", "6m0s", "120ms"), which is Go's format at millisecond precision.
func resetString(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return d.Round(time.Millisecond).String()
}

// setRetryAfter sets Retry-After in whole seconds, rounded up (a client
// that waits exactly that long is not early), and retry-after-ms.
func setRetryAfter(h http.Header, d time.Duration) {
	if d < 0 {
		d = 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	secs := (d + time.Second - 1) / time.Second
	h["Retry-After"] = []string{strconv.FormatInt(int64(secs), 10)}
	h[hdrRetryAfterMs] = []string{strconv.FormatInt(int64(ms), 10)}
}

// rateLimited writes OpenAI's 429 for st.
func rateLimited(w http.ResponseWriter, st *limitState, model string) {
	h := w.Header()
	st.setHeaders(h)
	setRetryAfter(h, st.retryAfter)
	h[hdrShouldRetry] = []string{"true"}
	var what string
	var limit int
	if st.refused == "tokens" {
		what, limit = "tokens per min (TPM)", st.limits.TPM
	} else {
		what, limit = "requests per min (RPM)", st.limits.RPM
	}
	wait := resetString(st.retryAfter)
	writeError(w, &apiError{
		status: http.StatusTooManyRequests,
		message: fmt.Sprintf("Rate limit reached for %s in organization org-mcpload-mock on %s: Limit %d, Used %d, Requested %d. Please try again in %s. Visit https://platform.openai.com/account/rate-limits to learn more.",
			model, what, limit, st.used, st.requested, wait),
		typ:  st.refused,
		code: "rate_limit_exceeded",
	})
}

// Limits a rate_limit fault reports when its provider has none: OpenAI's
// tier-1 limits of a small model.
var faultLimits = scenarios.Limits{RPM: 500, TPM: 200000}

// faultLimitState is what a rate_limit fault answers: the provider's limits
// (or faultLimits), every request used, free again after retryAfter.
func faultLimitState(lim *limiter, now time.Time, tokens int, retryAfter time.Duration) *limitState {
	limits := faultLimits
	if lim != nil {
		if l, _, _ := lim.usage(now); l.RPM > 0 || l.TPM > 0 {
			limits = l
		}
	}
	if limits.RPM <= 0 {
		limits.RPM = faultLimits.RPM
	}
	if limits.TPM <= 0 {
		limits.TPM = faultLimits.TPM
	}
	return &limitState{
		limits:            limits,
		remainingRequests: 0,
		remainingTokens:   max(limits.TPM-tokens, 0),
		resetRequests:     retryAfter,
		resetTokens:       retryAfter,
		refused:           "requests",
		retryAfter:        retryAfter,
		used:              limits.RPM,
		requested:         1,
	}
}
