package httpx

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestCountingBodyLimit: a body of exactly the limit reads whole; one
// byte more fails with BodyTooLarge, having read no more than the limit
// and one byte, whatever the size of the reads.
func TestCountingBodyLimit(t *testing.T) {
	for _, chunk := range []int{1, 7, 4096, 1 << 20} {
		ok := &CountingBody{R: io.NopCloser(strings.NewReader(strings.Repeat("x", 1000))), Limit: 1000}
		var buf bytes.Buffer
		if _, err := io.CopyBuffer(&buf, struct{ io.Reader }{ok}, make([]byte, chunk)); err != nil || buf.Len() != 1000 {
			t.Errorf("chunk %d: a body of the limit: %d bytes, %v", chunk, buf.Len(), err)
		}
		big := &CountingBody{R: io.NopCloser(strings.NewReader(strings.Repeat("x", 1<<20))), Limit: 1000}
		buf.Reset()
		_, err := io.CopyBuffer(&buf, struct{ io.Reader }{big}, make([]byte, chunk))
		var tl *BodyTooLarge
		if !errors.As(err, &tl) || buf.Len() > 1000 || big.N > 1001 {
			t.Errorf("chunk %d: a longer body: %v, %d bytes kept, %d read", chunk, err, buf.Len(), big.N)
		}
		if err != nil && err.Error() != "response exceeds client.limits.max_response_bytes (1000 bytes)" {
			t.Errorf("error text %q", err)
		}
	}
}
