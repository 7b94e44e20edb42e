package hostile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// MCPCall answers one tools/call request, whose JSON-RPC id is id.
type MCPCall func(w http.ResponseWriter, r *http.Request, id json.RawMessage)

// MCPServer is a Streamable HTTP MCP server that speaks the handshake as a
// real one does (initialize with a session id, 202 for notifications, 200
// for the session's DELETE) and answers every tools/call with call: the
// misbehaviour is all in the call.
func MCPServer(call MCPCall) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			return
		}
		id, method, ok := readRPC(w, r)
		if !ok {
			return
		}
		switch {
		case method == "initialize":
			w.Header().Set("Mcp-Session-Id", "hostile-session")
			writeInitialize(w, id)
		case strings.HasPrefix(method, "notifications/"):
			w.WriteHeader(http.StatusAccepted)
		case method == "tools/call":
			call(w, r, id)
		default:
			writeMethodNotFound(w, id)
		}
	})
}

// MCPEndlessStream answers a tools/call with an event stream of progress
// notifications of about eventBytes each, and never the response: the
// body grows until the client stops reading.
func MCPEndlessStream(eventBytes int) MCPCall {
	pad := strings.Repeat("x", max(0, eventBytes-120))
	return func(w http.ResponseWriter, r *http.Request, _ json.RawMessage) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		f, _ := w.(http.Flusher)
		for i := 0; r.Context().Err() == nil; i++ {
			if _, err := fmt.Fprintf(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":%d,\"message\":\"%s\"}}\n\n", i, pad); err != nil {
				return
			}
			if f != nil {
				f.Flush()
			}
		}
	}
}

// MCPHugeResult answers a tools/call with a JSON result whose one text
// content is n bytes long.
func MCPHugeResult(n int) MCPCall {
	text := strings.Repeat("y", n)
	return func(w http.ResponseWriter, _ *http.Request, id json.RawMessage) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"%s"}]}}`, id, text)
	}
}

// MCPWrongID answers a tools/call with a well-formed result for another
// request id.
func MCPWrongID() MCPCall {
	return func(w http.ResponseWriter, _ *http.Request, id json.RawMessage) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":"not-%s","result":{"content":[{"type":"text","text":"sunny"}]}}`, bytes.Trim(id, `"`))
	}
}

// MCPStall answers a tools/call's headers at once, then sends nothing for
// d: a body that never comes.
func MCPStall(d time.Duration) MCPCall {
	return func(w http.ResponseWriter, r *http.Request, _ json.RawMessage) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
	}
}

// MCPKeyInError answers a tools/call with a JSON-RPC error whose message
// quotes the request's Authorization header and the key, as a careless
// server's debug output does.
func MCPKeyInError(key string) MCPCall {
	return func(w http.ResponseWriter, r *http.Request, id json.RawMessage) {
		w.Header().Set("Content-Type", "application/json")
		msg, _ := json.Marshal(fmt.Sprintf("internal error handling %s (auth %q, key %s)", strings.Repeat("-", 150), r.Header.Get("Authorization"), key))
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32603,"message":%s}}`, id, msg)
	}
}

// MCPScenario returns a scenario (YAML) of conversations with an OpenAI
// provider at base ("mock" for the built-in mock, or the URL where the
// mock's handler serves it), whose script calls get_weather once and then
// answers, with get_weather served by the MCP server at url: rate
// conversations a second for duration, under a client.timeout of timeout.
// extra is appended to the client section, indented by two spaces. The
// provider's key is $KeyEnv, so that a leak of it can be looked for.
func MCPScenario(base, url string, rate int, duration, timeout, extra string) []byte {
	return fmt.Appendf(nil, `version: 1
name: hostile-mcp
seed: 1
providers:
  p: {base_url: "%s", model: gpt-4.1-mini, api_key_env: %s}
mcp_servers:
  tools: {url: "%s"}
tools:
  - name: get_weather
    description: Weather of a city
    server: tools
    inputSchema: {type: object}
conversation:
  provider: p
  turns:
    - user: Weather?
      model:
        - tool_calls: [{name: get_weather, arguments: {city: Hanoi}}]
        - content: done
load:
  stages: [{rate: %d, duration: %s}]
client:
  timeout: %s
%s`, base, KeyEnv, url, rate, duration, timeout, extra)
}
