package mockprovider

import (
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// streamDone is the last SSE event of a stream.
var streamDone = []byte("data: " + openaichat.StreamDone + "\n\n")

// sse writes a chat completion stream, one flushed event per chunk.
type sse struct {
	w     http.ResponseWriter
	fl    http.Flusher
	bufs  *buffers
	chunk openaichat.Chunk
}

// send writes the current chunk as one event.
func (e *sse) send() error {
	out := &e.bufs.out
	out.Reset()
	out.WriteString("data: ")
	if err := e.bufs.enc.Encode(&e.chunk); err != nil { // Encode adds the first '\n'
		return err
	}
	out.WriteByte('\n')
	return e.write(out.Bytes())
}

func (e *sse) write(b []byte) error {
	if _, err := e.w.Write(b); err != nil {
		return err
	}
	if e.fl != nil {
		e.fl.Flush()
	}
	return nil
}

// streamOpenAI writes rep as an SSE stream in OpenAI's order: a role chunk, then
// content pieces or, per tool call, a chunk naming the call and chunks of
// argument fragments; a chunk with the finish reason; a usage chunk when
// asked for; and [DONE]. The first delta after the role chunk waits ttft,
// each later one token_gap. The provider latency has already been waited
// before the headers.
//
// f, when set, is a fault that spoils the stream: stream_stall and
// stream_cut act once f.AfterChunks deltas (content or tool call chunks,
// after the role chunk) have gone out, or before the finish chunk when the
// reply has fewer; malformed sends a data line that is not JSON in place of
// the first delta, then [DONE].
func streamOpenAI(w http.ResponseWriter, wt *waiter, bufs *buffers, model string, p *provider, rep *reply, rng *rand.Rand, usage openaichat.Usage, includeUsage bool, f *fault) {
	h := w.Header()
	h["Content-Type"] = sseContentType
	h["Cache-Control"] = noCache
	w.WriteHeader(http.StatusOK)

	e := sse{w: w, bufs: bufs}
	e.fl, _ = w.(http.Flusher)
	var choice [1]openaichat.ChunkChoice
	e.chunk = openaichat.Chunk{
		ID:      randomID(rng, "chatcmpl-", completionIDLen),
		Object:  "chat.completion.chunk",
		Created: time.Now().Unix(),
		Model:   model,
		Choices: choice[:],
	}
	empty := ""
	choice[0].Delta = openaichat.Delta{Role: "assistant", Content: &empty}
	if e.send() != nil {
		return
	}
	if f != nil && f.spec.Kind == scenarios.FaultMalformed {
		if e.write(malformedChunk(e.chunk.ID)) == nil {
			e.write(streamDone)
		}
		return
	}

	sent := 0
	// spoil counts a delta that went out and carries out f after the
	// right one; it reports whether the stream must end.
	spoil := func() bool {
		sent++
		return f != nil && sent == f.spec.AfterChunks && streamFault(w, wt, f, rng)
	}
	first := true
	pause := func() error {
		l := p.mock.TokenGap
		if first {
			l, first = p.mock.TTFT, false
		}
		return wt.wait(Sample(l, rng))
	}
	if len(rep.calls) > 0 {
		var index int
		var delta [1]openaichat.ToolCall
		for i, c := range rep.calls {
			index = i
			if pause() != nil {
				return
			}
			delta[0] = openaichat.ToolCall{
				Index:    &index,
				ID:       randomID(rng, "call_", callIDLen),
				Type:     "function",
				Function: openaichat.FunctionCall{Name: c.name},
			}
			choice[0].Delta = openaichat.Delta{ToolCalls: delta[:]}
			if e.send() != nil || spoil() {
				return
			}
			for _, frag := range c.frags {
				if pause() != nil {
					return
				}
				delta[0] = openaichat.ToolCall{Index: &index, Function: openaichat.FunctionCall{Arguments: frag}}
				if e.send() != nil || spoil() {
					return
				}
			}
		}
	} else {
		for i := range rep.pieces {
			if pause() != nil {
				return
			}
			choice[0].Delta = openaichat.Delta{Content: &rep.pieces[i]}
			if e.send() != nil || spoil() {
				return
			}
		}
	}
	if f != nil && sent < f.spec.AfterChunks && streamFault(w, wt, f, rng) {
		return
	}
	if pause() != nil {
		return
	}
	choice[0].Delta = openaichat.Delta{}
	choice[0].FinishReason = &rep.finish
	if e.send() != nil {
		return
	}
	if includeUsage {
		e.chunk.Choices = choice[:0]
		e.chunk.Usage = &usage
		if e.send() != nil {
			return
		}
	}
	e.write(streamDone)
}

// streamFault carries out a stream_stall or stream_cut in the middle of a
// stream. It reports whether the stream must end (the client or the server
// went away during a stall); a cut does not return.
func streamFault(w http.ResponseWriter, wt *waiter, f *fault, rng *rand.Rand) bool {
	switch f.spec.Kind {
	case scenarios.FaultStreamStall:
		return stall(wt, Sample(f.spec.Latency, rng)) != nil
	case scenarios.FaultStreamCut:
		cutConn(w) // no finish chunk, no [DONE]
	}
	return false
}

// malformedChunk is an SSE event whose data is not JSON: a chunk cut short.
func malformedChunk(id string) []byte {
	return []byte(`data: {"id":"` + id + `","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"It is` + "\n\n")
}

// events writes the SSE streams of the dialects whose events are not
// OpenAI's chunks: each event is an optional "event:" line and one data
// line holding v as JSON, flushed on its own.
type events struct {
	w    http.ResponseWriter
	fl   http.Flusher
	bufs *buffers
	// sep ends each event: "\n\n", or "\r\n\r\n" as Google's servers send.
	sep string
}

func newEvents(w http.ResponseWriter, bufs *buffers, sep string) *events {
	e := &events{w: w, bufs: bufs, sep: sep}
	e.fl, _ = w.(http.Flusher)
	return e
}

// send writes one event named name ("" for none) with v as its data.
func (e *events) send(name string, v any) error {
	out := &e.bufs.out
	out.Reset()
	if name != "" {
		out.WriteString("event: ")
		out.WriteString(name)
		out.WriteString(e.sep[:len(e.sep)/2])
	}
	out.WriteString("data: ")
	if err := e.bufs.enc.Encode(v); err != nil {
		return err
	}
	out.Truncate(out.Len() - 1) // Encode's '\n'
	out.WriteString(e.sep)
	return e.write(out.Bytes())
}

// write writes b as it is and flushes it.
func (e *events) write(b []byte) error {
	if _, err := e.w.Write(b); err != nil {
		return err
	}
	if e.fl != nil {
		e.fl.Flush()
	}
	return nil
}

// startSSE writes the headers of a 200 event stream.
func startSSE(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = sseContentType
	h["Cache-Control"] = noCache
	w.WriteHeader(http.StatusOK)
}

// pacer waits out a stream's delays: ttft before the first delta,
// token_gap before each later one.
type pacer struct {
	wt    *waiter
	p     *provider
	rng   *rand.Rand
	first bool
}

func newPacer(wt *waiter, p *provider, rng *rand.Rand) *pacer {
	return &pacer{wt: wt, p: p, rng: rng, first: true}
}

// pause waits before the next delta.
func (pc *pacer) pause() error {
	l := pc.p.mock.TokenGap
	if pc.first {
		l, pc.first = pc.p.mock.TTFT, false
	}
	return pc.wt.wait(Sample(l, pc.rng))
}
