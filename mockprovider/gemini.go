package mockprovider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/gemini"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// geminiResponseIDLen is the length of a Gemini responseId.
const geminiResponseIDLen = 22

// geminiRequest is the part of a generateContent request the mock reads.
// Parts are measured, not kept, except what tells a user's turn from a
// reply of function responses. The API takes snake_case names as well as
// camelCase; clients send camelCase.
type geminiRequest struct {
	Contents          []geminiContent    `json:"contents"`
	SystemInstruction rawSize            `json:"systemInstruction"`
	Tools             rawSize            `json:"tools"`
	ToolConfig        *gemini.ToolConfig `json:"toolConfig"`
}

type geminiContent struct {
	Role  string       `json:"role"`
	Parts []geminiPart `json:"parts"`
}

// geminiPart records which kind of part it is and its size.
type geminiPart struct {
	Text             rawSize `json:"text"`
	FunctionCall     rawSize `json:"functionCall"`
	FunctionResponse rawSize `json:"functionResponse"`
}

func (s *Server) handleProviderGemini(w http.ResponseWriter, r *http.Request) {
	if p := s.namedProvider(w, r, geminiDialect{}.writeError); p != nil {
		s.gemini(w, r, p)
	}
}

func (s *Server) handleGemini(w http.ResponseWriter, r *http.Request) { s.gemini(w, r, nil) }

// gemini answers one generateContent or streamGenerateContent request for
// p, or for the provider of the URL's model when p is nil. The path's last
// segment is MODEL:METHOD.
func (s *Server) gemini(w http.ResponseWriter, r *http.Request, p *provider) {
	d := geminiDialect{}
	model, method, _ := strings.Cut(r.PathValue("call"), ":")
	stream := method == gemini.MethodStream
	switch {
	case method != gemini.MethodGenerate && !stream:
		drain(r)
		d.writeError(w, &apiError{status: http.StatusNotFound, message: fmt.Sprintf("Method %q is not served by the mock: it serves %s and %s.", method, gemini.MethodGenerate, gemini.MethodStream)})
		return
	case r.Method != http.MethodPost:
		drain(r)
		w.Header().Set("Allow", http.MethodPost)
		d.writeError(w, &apiError{status: http.StatusMethodNotAllowed, message: "Method " + r.Method + " is not allowed; use POST."})
		return
	case stream && r.URL.Query().Get("alt") != "sse":
		drain(r)
		d.writeError(w, &apiError{status: http.StatusBadRequest, message: "The mock streams with alt=sse only: add ?alt=sse to streamGenerateContent."})
		return
	case r.Header.Get(gemini.HeaderAPIKey) == "" && r.URL.Query().Get("key") == "":
		drain(r)
		d.writeError(w, &apiError{status: http.StatusForbidden, message: "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."})
		return
	}
	bufs := s.getBuffers()
	defer s.putBuffers(bufs)
	var req geminiRequest
	if aerr := decodeGemini(w, r, &bufs.body, &req); aerr != nil {
		d.writeError(w, aerr)
		return
	}
	if p == nil {
		p = s.providerFor(model)
	}
	turn, replies, results, size := geminiPosition(req.Contents)
	ex := exchange{
		model:       model,
		stream:      stream,
		turn:        turn,
		replies:     replies,
		results:     results,
		promptBytes: size + int(req.SystemInstruction) + int(req.Tools),
	}
	if tc := req.ToolConfig; tc != nil && tc.FunctionCallingConfig != nil {
		switch fc := tc.FunctionCallingConfig; fc.Mode {
		case gemini.ModeNone:
			ex.choice = choiceNone
		case gemini.ModeAny:
			ex.choice = choiceRequired
			if len(fc.AllowedFunctionNames) == 1 {
				ex.choice = fc.AllowedFunctionNames[0]
			}
		}
	}
	s.answer(w, r, d, p, ex, bufs)
}

// decodeGemini reads and checks the request, answering with the API's
// messages for the common mistakes.
func decodeGemini(w http.ResponseWriter, r *http.Request, body *bytes.Buffer, req *geminiRequest) *apiError {
	if aerr := readBody(w, r, body); aerr != nil {
		return aerr
	}
	bad := func(msg string) *apiError { return &apiError{status: http.StatusBadRequest, message: msg} }
	if err := json.Unmarshal(body.Bytes(), req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return bad(fmt.Sprintf("Invalid JSON payload received. Invalid value at '%s' (%s)", te.Field, te.Value))
		}
		return bad("Invalid JSON payload received. " + err.Error())
	}
	if len(req.Contents) == 0 {
		return bad("* GenerateContentRequest.contents: contents is not specified\n")
	}
	for i, c := range req.Contents {
		if c.Role != "" && c.Role != gemini.RoleUser && c.Role != gemini.RoleModel {
			return bad(fmt.Sprintf("Please use a valid role: user, model. (contents[%d].role %q)", i, c.Role))
		}
		if len(c.Parts) == 0 {
			return bad(fmt.Sprintf("* GenerateContentRequest.contents[%d].parts: contents.parts must not be empty.\n", i))
		}
	}
	return nil
}

// geminiPosition is position for Gemini: a user content is a new turn
// unless it carries function responses, which answer the model's last
// reply. A content without a role is the user's.
func geminiPosition(contents []geminiContent) (turn, replies, results, size int) {
	users, last := 0, -1
	for i, c := range contents {
		responses := false
		for _, part := range c.Parts {
			size += int(part.Text) + int(part.FunctionCall) + int(part.FunctionResponse)
			responses = responses || part.FunctionResponse > 0
		}
		if c.Role != gemini.RoleModel && !responses {
			users++
			last = i
		}
	}
	for _, c := range contents[last+1:] {
		if c.Role == gemini.RoleModel {
			replies++
		}
		for _, part := range c.Parts {
			if part.FunctionResponse > 0 {
				results++
			}
		}
	}
	return max(users-1, 0), replies, results, size
}

// geminiDialect answers as the Gemini API.
type geminiDialect struct{}

// writeError writes e in Google's shape; the status name follows the HTTP
// status.
func (geminiDialect) writeError(w http.ResponseWriter, e *apiError) {
	writeGeminiError(w, e.status, e.message, nil)
}

func writeGeminiError(w http.ResponseWriter, status int, message string, details []json.RawMessage) {
	body := gemini.ErrorBody{Error: gemini.ErrorDetail{Code: status, Message: message, Status: gemini.StatusName(status), Details: details}}
	b, _ := json.MarshalIndent(body, "", "  ") // Google's errors are indented
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// limitHeaders writes nothing: the Gemini API reports no limits in headers.
func (geminiDialect) limitHeaders(http.Header, limitState) {}

// rateLimited answers Gemini's 429 RESOURCE_EXHAUSTED. As the API does, it
// sends no Retry-After header: the wait is in the body, a RetryInfo detail
// whose retryDelay is a protobuf duration, beside a QuotaFailure naming
// the quota.
func (geminiDialect) rateLimited(w http.ResponseWriter, st limitState, model string) {
	metric, id, limit := "generate_content_requests", "GenerateRequestsPerMinutePerProjectPerModel", st.limits.RPM
	if st.refused == "tokens" {
		metric, id, limit = "generate_content_input_token_count", "GenerateContentInputTokensPerModelPerMinute", st.limits.TPM
	}
	quota, _ := json.Marshal(map[string]any{
		"@type": gemini.TypeQuotaFailure,
		"violations": []map[string]any{{
			"quotaMetric":     "generativelanguage.googleapis.com/" + metric,
			"quotaId":         id,
			"quotaDimensions": map[string]string{"location": "global", "model": model},
			"quotaValue":      strconv.Itoa(limit),
		}},
	})
	retry, _ := json.Marshal(gemini.RetryInfo{Type: gemini.TypeRetryInfo, RetryDelay: protoDuration(st.retryAfter)})
	writeGeminiError(w, http.StatusTooManyRequests,
		"You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
		[]json.RawMessage{quota, retry})
}

// protoDuration formats d as protobuf's JSON Duration: seconds, with 0, 3,
// 6 or 9 fractional digits, and an "s".
func protoDuration(d time.Duration) string {
	d = max(d, 0)
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return fmt.Sprintf("%d.%03ds", ms/1000, ms%1000)
}

// httpError answers an http_error fault in Google's shape.
func (geminiDialect) httpError(w http.ResponseWriter, f *fault) {
	status := f.spec.Status
	if status == 0 {
		status = defaultHTTPStatus
	}
	msg := "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
	switch status {
	case http.StatusServiceUnavailable:
		msg = "The service is currently unavailable."
		if f.spec.RetryAfter > 0 {
			setRetryAfter(w.Header(), f.spec.RetryAfter.D())
		}
	case http.StatusBadGateway:
		msg = "Bad Gateway"
	}
	writeGeminiError(w, status, msg, nil)
}

// overloaded answers as Gemini does when a model is overloaded: 503
// UNAVAILABLE. Gemini has no 529.
func (geminiDialect) overloaded(w http.ResponseWriter, f *fault) {
	if f.spec.RetryAfter > 0 {
		setRetryAfter(w.Header(), f.spec.RetryAfter.D())
	}
	writeGeminiError(w, http.StatusServiceUnavailable, "The model is overloaded. Please try again later.", nil)
}

// geminiUsage converts the mock's usage; Gemini's prompt count includes
// its cached part, as OpenAI's does.
func geminiUsage(u openaichat.Usage) *gemini.UsageMetadata {
	return &gemini.UsageMetadata{
		PromptTokenCount:        u.PromptTokens,
		CandidatesTokenCount:    u.CompletionTokens,
		CachedContentTokenCount: u.Cached(),
		TotalTokenCount:         u.TotalTokens,
	}
}

// functionCallPart is the part of a scripted call, with id when it is not
// "" (see geminiCallID).
func functionCallPart(c *call, id string) gemini.Part {
	return gemini.Part{FunctionCall: &gemini.FunctionCall{ID: id, Name: c.name, Args: json.RawMessage(c.args)}}
}

// geminiCallIDLen is the length of the id the mock gives a Gemini 3
// function call.
const geminiCallIDLen = 8

// geminiCallID is the id of a function call of model, or "". The Gemini
// API's FunctionCall.id is optional: Gemini 3 models send one (and want it
// back in the functionResponse), the 2.x models send none and the answer
// names the function only. The mock does as the model it plays.
func geminiCallID(model string, rng *rand.Rand) string {
	if !strings.HasPrefix(model, "gemini-3") {
		return ""
	}
	return randomID(rng, "", geminiCallIDLen)
}

// complete writes a whole answer: one candidate, its parts a text or one
// functionCall per call, finishReason STOP either way, as Gemini sends.
func (geminiDialect) complete(w http.ResponseWriter, wt *waiter, bufs *buffers, ex exchange, rep *reply, rng *rand.Rand, usage openaichat.Usage, f *fault) {
	content := &gemini.Content{Role: gemini.RoleModel}
	if len(rep.calls) > 0 {
		content.Parts = make([]gemini.Part, len(rep.calls))
		for i := range rep.calls {
			content.Parts[i] = functionCallPart(&rep.calls[i], geminiCallID(ex.model, rng))
		}
	} else {
		content.Parts = []gemini.Part{{Text: &rep.content}}
	}
	resp := gemini.Response{
		Candidates:    []gemini.Candidate{{Content: content, FinishReason: gemini.FinishStop}},
		UsageMetadata: geminiUsage(usage),
		ModelVersion:  ex.model,
		ResponseID:    randomID(rng, "", geminiResponseIDLen),
	}
	if err := bufs.enc.Encode(&resp); err != nil {
		writeGeminiError(w, http.StatusInternalServerError, "encoding the response: "+err.Error(), nil)
		return
	}
	w.Header()["Content-Type"] = geminiJSONContentType
	body := bufs.out.Bytes()
	if f != nil {
		completeFault(w, wt, f, rng, body)
		return
	}
	w.Write(body)
}

var geminiJSONContentType = []string{"application/json; charset=UTF-8"}

// stream writes rep as streamGenerateContent?alt=sse does: "data:" events
// only, no event names and no end marker, separated by CRLF CRLF. Each
// event is a whole response: text pieces, or one whole function call per
// event (Gemini does not split arguments); the last event has an empty
// text part, finishReason STOP and the usage. The first event waits ttft,
// each later one token_gap. f spoils the stream as for OpenAI:
// stream_stall and stream_cut act after f.AfterChunks events, or before
// the last when there are fewer; malformed sends an event whose data is
// not JSON in place of the first, and ends.
func (geminiDialect) stream(w http.ResponseWriter, wt *waiter, bufs *buffers, ex exchange, p *provider, rep *reply, rng *rand.Rand, usage openaichat.Usage, f *fault) {
	startSSE(w)
	e := newEvents(w, bufs, "\r\n\r\n")
	if f != nil && f.spec.Kind == scenarios.FaultMalformed {
		e.write(malformedGeminiEvent)
		return
	}
	var part [1]gemini.Part
	var cand [1]gemini.Candidate
	content := gemini.Content{Role: gemini.RoleModel, Parts: part[:]}
	cand[0].Content = &content
	resp := gemini.Response{Candidates: cand[:], ModelVersion: ex.model, ResponseID: randomID(rng, "", geminiResponseIDLen)}
	pc := newPacer(wt, p, rng)
	sent := 0
	send := func() bool {
		if pc.pause() != nil || e.send("", &resp) != nil {
			return true
		}
		sent++
		return f != nil && sent == f.spec.AfterChunks && streamFault(w, wt, f, rng)
	}
	if len(rep.calls) > 0 {
		for i := range rep.calls {
			part[0] = functionCallPart(&rep.calls[i], geminiCallID(ex.model, rng))
			if send() {
				return
			}
		}
	} else {
		for i := range rep.pieces {
			part[0] = gemini.Part{Text: &rep.pieces[i]}
			if send() {
				return
			}
		}
	}
	if f != nil && sent < f.spec.AfterChunks && streamFault(w, wt, f, rng) {
		return
	}
	if pc.pause() != nil {
		return
	}
	empty := ""
	part[0] = gemini.Part{Text: &empty}
	cand[0].FinishReason = gemini.FinishStop
	resp.UsageMetadata = geminiUsage(usage)
	e.send("", &resp)
}

// malformedGeminiEvent is an event whose data is not JSON: a response cut
// short.
var malformedGeminiEvent = []byte("data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"It is\r\n\r\n")
