package mockprovider

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryField is the SSE field that sets a client's reconnection delay.
func retryField(d time.Duration) []byte {
	return []byte("retry: " + strconv.FormatInt(d.Milliseconds(), 10) + "\n")
}

// retryWriter puts the endpoint's retry: field in the first event of an
// event-stream answer. The SDK writes whole events, the first of which is
// the priming event (an id and empty data) when the stream is resumable;
// the field joins that event rather than making one of its own, so that
// the priming event stays first. Other answers pass through untouched.
type retryWriter struct {
	http.ResponseWriter
	field   []byte
	started bool
}

func (w *retryWriter) Write(p []byte) (int, error) {
	if !w.started {
		w.started = true
		if strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream") {
			if _, err := w.ResponseWriter.Write(w.field); err != nil {
				return 0, err
			}
		}
	}
	return w.ResponseWriter.Write(p)
}

// finish sends the retry: field, as an event of its own, on an event
// stream that ends without one (one a tool closed before anything was
// written): a client that must reconnect is told when.
func (w *retryWriter) finish() {
	if w.started || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream") {
		return
	}
	w.started = true
	w.ResponseWriter.Write(append(w.field, '\n'))
}

// Flush flushes each event as the SDK asks.
func (w *retryWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *retryWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
