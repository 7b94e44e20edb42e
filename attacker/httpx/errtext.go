package httpx

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/mcpload/mcpload/wire/openaichat"
)

// ErrorText describes a failed response: the status and, when the body
// is OpenAI's error shape, its message; otherwise the start of the body.
func ErrorText(code int, body io.Reader) string {
	buf := GetBuffer()
	defer PutBuffer(buf)
	_, _ = buf.ReadFrom(io.LimitReader(body, DrainLimit))
	data := buf.Bytes()
	msg := ""
	var eb openaichat.ErrorBody
	if json.Unmarshal(data, &eb) == nil && eb.Error.Message != "" {
		msg = Truncate(eb.Error.Message, MaxErrorDetail)
	} else {
		msg = Snippet(data)
	}
	if msg == "" {
		return "HTTP " + strconv.Itoa(code)
	}
	return "HTTP " + strconv.Itoa(code) + ": " + msg
}

// Snippet returns the start of a body for an error message.
func Snippet(b []byte) string {
	return Truncate(string(bytes.TrimSpace(b)), MaxErrorDetail)
}

// Truncate cuts s to at most n bytes on a rune boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func IsEventStream(contentType string) bool {
	return len(contentType) >= len("text/event-stream") && contentType[:len("text/event-stream")] == "text/event-stream"
}
