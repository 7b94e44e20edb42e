package httpx

import (
	"io"
	"strconv"

	"github.com/mcpload/mcpload/scenarios"
)

// CountingBody counts the bytes read from a response body and bounds
// them: past limit (client.limits.max_response_bytes; 0 is the default),
// Read fails with a *BodyTooLarge, streamed or not, so that no target can
// make an attempt read without end.
type CountingBody struct {
	// R is the body, N the bytes read from it, Limit the bound (0: the
	// default).
	R     io.ReadCloser
	N     int64
	Limit int64
}

func (c *CountingBody) Read(p []byte) (int, error) {
	limit := c.Limit
	if limit <= 0 {
		limit = scenarios.DefaultMaxResponseBytes
	}
	// One byte past the limit tells a body of exactly limit bytes from a
	// longer one.
	if left := limit + 1 - c.N; left <= 0 {
		return 0, &BodyTooLarge{limit}
	} else if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.R.Read(p)
	c.N += int64(n)
	if c.N > limit {
		return n - int(c.N-limit), &BodyTooLarge{limit}
	}
	return n, err
}

// BodyTooLarge is the error of a body longer than
// client.limits.max_response_bytes: a protocol failure of the target.
type BodyTooLarge struct{ Limit int64 }

func (e *BodyTooLarge) Error() string {
	return "response exceeds client.limits.max_response_bytes (" + strconv.FormatInt(e.Limit, 10) + " bytes)"
}

// DrainClose closes the body and returns the bytes read. With drain, it
// first reads a bounded remainder, so that the connection goes back to the
// pool instead of being torn down.
func (c *CountingBody) DrainClose(drain bool) int64 {
	if drain {
		n, _ := io.CopyN(io.Discard, c.R, DrainLimit)
		c.N += n
	}
	c.R.Close()
	return c.N
}
