package httpx

import (
	"strings"
)

// h2Refusals are net/http's words for an HTTP/2 connection that the
// server never took up: the TCP connection came up, and then the server
// answered the h2 preface in HTTP/1.1 (an HTTP/1.1 header where a frame
// should be) or closed it before the first stream. The errors are not
// exported, so their text is all there is to match.
var h2Refusals = []string{
	"looked like an HTTP/1.1 header",
	"http2: client conn could not be established",
}

// IsH2Refused reports whether err is an HTTP/2 connection the server did
// not take up: a target that does not speak HTTP/2 where client.http
// "2" insists on it. Retrying does not change it, so it is a protocol
// failure rather than a connection one.
func IsH2Refused(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	for _, s := range h2Refusals {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// H2Note is what to put before err's text when IsH2Refused(err), to say
// what to change (first: error texts are clipped); "" otherwise.
func H2Note(err error) string {
	if !IsH2Refused(err) {
		return ""
	}
	return `the server does not speak HTTP/2 (client.http "2"; auto or "1.1" for HTTP/1.1): `
}
