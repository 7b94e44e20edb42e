package mcp

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
)

// LegacySSE speaks the HTTP+SSE transport of MCP 2024-11-05: a session is
// a GET event stream, whose first event names the endpoint to POST
// requests to; responses come back on the stream, matched by id.
type LegacySSE struct {
	conn
	http *http.Client
	url  string
	// connectKey is the attempt key of opening the stream up to its
	// endpoint event.
	connectKey string
	// Headers go with every request (the stream's GET and each POST).
	Headers http.Header
}

// NewLegacySSE returns the client of MCP server server whose event stream
// is at url.
func NewLegacySSE(hc *http.Client, server, url string, timeout time.Duration, rd Redactor) *LegacySSE {
	c := &LegacySSE{http: hc, url: url, connectKey: "mcp:" + server + "/connect"}
	c.conn.init(c, server, timeout, rd)
	return c
}

// Target implements Client.
func (c *LegacySSE) Target() string { return c.url }

// Close implements Client: streams are closed through their pool.
func (c *LegacySSE) Close() error { return nil }

// sseSession is one open event stream.
type sseSession struct {
	mux
	c        *LegacySSE
	endpoint string
	version  string
	cancel   context.CancelFunc
}

// Version implements Session.
func (s *sseSession) Version() string { return s.version }

// Handshake implements Client: the GET stream up to its endpoint event
// (mcp:NAME/connect), then initialize and notifications/initialized.
func (c *LegacySSE) Handshake(ctx context.Context, seq uint64, step int, sink Sink) (Session, Total) {
	var out Total
	start := time.Now()
	var ex Exchange
	s := c.connect(ctx, &ex)
	c.record(sink, seq, step, record.KindSession, c.connectKey, start, &ex)
	out.add(&ex)
	if s == nil {
		return nil, out
	}
	if s.version = c.initializeOver(ctx, &s.mux, "2024-11-05", seq, step, sink, &out); s.version == "" {
		s.stop()
		return nil, out
	}
	return s, out
}

// connect opens the stream and waits, within the attempt timeout, for
// its endpoint event. The stream itself lives until the session ends.
func (c *LegacySSE) connect(ctx context.Context, ex *Exchange) *sseSession {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, c.url, nil)
	if err != nil {
		cancel()
		ex.Outcome, ex.Err = record.OutcomeProtocol, "building request: "+err.Error()
		return nil
	}
	req.Header["Accept"] = hdrAcceptSSE
	setHeaders(req.Header, c.Headers)
	timer := time.AfterFunc(c.timeout, cancel) // until the endpoint event
	resp, err := c.http.Do(req)
	if err != nil {
		timer.Stop()
		cancel()
		ex.Outcome, ex.Err = httpx.ClassifyTransportErr(ctx, sctx, err), httpx.H2Note(err)+err.Error()
		return nil
	}
	ex.Status, ex.Proto = resp.StatusCode, resp.Proto
	cb := &httpx.CountingBody{R: resp.Body, Limit: c.MaxBytes}
	if resp.StatusCode != http.StatusOK || !httpx.IsEventStream(resp.Header.Get("Content-Type")) {
		timer.Stop()
		ex.Outcome, ex.Err = httpx.ClassifyStatus(resp.StatusCode), "GET event stream: "+httpx.ErrorText(resp.StatusCode, cb)
		if resp.StatusCode == http.StatusOK {
			ex.Outcome, ex.Err = record.OutcomeProtocol, "GET answered "+resp.Header.Get("Content-Type")+", not an event stream: not a legacy HTTP+SSE server"
		}
		ex.BytesIn = cb.DrainClose(true)
		cancel()
		return nil
	}
	sr := httpx.NewSSEReader(cb)
	data, err := sr.Next()
	timer.Stop()
	if err != nil || len(data) == 0 || data[0] == '{' {
		sr.Release()
		ex.BytesIn = cb.DrainClose(false)
		cancel()
		ex.Outcome, ex.Err = record.OutcomeProtocol, "the stream did not start with an endpoint event"
		if err != nil {
			ex.Outcome, ex.Err = httpx.ClassifyBodyErr(ctx, sctx, err), "reading the endpoint event: "+err.Error()
		}
		return nil
	}
	ep, err := resp.Request.URL.Parse(string(bytes.TrimSpace(data)))
	if err != nil || ep.Host != resp.Request.URL.Host {
		// A server may only send requests to itself: a stream that names
		// another host is not followed.
		sr.Release()
		ex.BytesIn = cb.DrainClose(false)
		cancel()
		ex.Outcome, ex.Err = record.OutcomeProtocol, "endpoint event names no URL on the server's own host"
		return nil
	}
	ex.Outcome, ex.BytesIn = record.OutcomeOK, cb.N
	s := &sseSession{c: c, endpoint: ep.String(), cancel: cancel}
	s.mux = newMux(&c.conn, func(b []byte) error { return s.post(context.Background(), b) }, s.end)
	go s.read(sr, cb)
	return s
}

var hdrAcceptSSE = []string{"text/event-stream"}

// read dispatches the stream's events until it ends.
func (s *sseSession) read(sr *httpx.SSEReader, cb *httpx.CountingBody) {
	defer close(s.done)
	defer cb.DrainClose(false)
	defer sr.Release()
	for {
		data, err := sr.Next()
		if err != nil {
			if s.ended.Load() {
				s.fail("session ended")
			} else {
				s.fail("the event stream ended: " + err.Error())
			}
			return
		}
		if t := bytes.TrimSpace(data); len(t) > 0 && !s.dispatch(t) {
			return
		}
	}
}

// post sends one message to the endpoint; the server acknowledges it with
// a 2xx and answers on the stream.
func (s *sseSession) post(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header["Content-Type"] = hdrJSON
	setHeaders(req.Header, s.c.Headers)
	resp, err := s.c.http.Do(req)
	if err != nil {
		return err
	}
	cb := &httpx.CountingBody{R: resp.Body}
	defer cb.DrainClose(true)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &postError{code: resp.StatusCode, text: httpx.ErrorText(resp.StatusCode, cb)}
	}
	return nil
}

// postError is a POST the server refused.
type postError struct {
	code int
	text string
}

func (e *postError) Error() string { return e.text }

// status is the HTTP status of the refusal, for the attempt.
func (e *postError) status() int { return e.code }

// end closes the stream, once.
func (s *sseSession) end() {
	if !s.ended.Swap(true) {
		s.cancel()
	}
}

// attempt implements attempter.
func (c *LegacySSE) attempt(ctx context.Context, sess Session, st *policy.Step, req *Request, sink Sink) Result {
	s := sess.(*sseSession)
	return c.attemptOver(ctx, &s.mux, s.version, false, st, req, sink)
}

// End implements Client: the stream is closed.
func (c *LegacySSE) End(ctx context.Context, sess Session, seq uint64, step int, sink Sink) Exchange {
	ex := Exchange{Outcome: record.OutcomeOK}
	if s, _ := sess.(*sseSession); s != nil {
		s.end()
	}
	return ex
}

var (
	_ Client = (*LegacySSE)(nil)
	_ Client = (*Stdio)(nil)
	_ Client = (*Streamable)(nil)
)
