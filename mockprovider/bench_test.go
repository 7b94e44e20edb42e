package mockprovider

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/mcpload/mcpload/scenarios"
)

// benchBody is a second-turn request: system, user, the assistant's tool
// calls and their results, so the mock answers with the final text.
const benchBody = `{"model":"gpt-4.1-mini","messages":[` +
	`{"role":"system","content":"You are a helpful assistant."},` +
	`{"role":"user","content":"What's the weather in Paris, and what time is it there?"},` +
	`{"role":"assistant","content":null,"tool_calls":[` +
	`{"id":"call_abcdefghijklmnopqrstuvwx","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"units\":\"metric\"}"}},` +
	`{"id":"call_bcdefghijklmnopqrstuvwxy","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"Europe/Paris\"}"}}]},` +
	`{"role":"tool","tool_call_id":"call_abcdefghijklmnopqrstuvwx","content":"{\"sky\":\"clear\",\"temp_c\":21}"},` +
	`{"role":"tool","tool_call_id":"call_bcdefghijklmnopqrstuvwxy","content":"12:00"}],` +
	`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`

// benchToolBody is a first-turn request: the mock answers with tool calls.
const benchToolBody = `{"model":"gpt-4.1-mini","messages":[` +
	`{"role":"system","content":"You are a helpful assistant."},` +
	`{"role":"user","content":"What's the weather in Paris, and what time is it there?"}]}`

// BenchmarkChatCompletions measures the mock's capacity through the real
// handler over loopback HTTP, with a keep-alive client and zero latency.
// Client and server share the machine, so this is a lower bound.
func BenchmarkChatCompletions(b *testing.B) {
	for _, c := range []struct {
		name, body string
		faults     bool
	}{{"final", benchBody, false}, {"tool_calls", benchToolBody, false}, {"final_faults_idle", benchBody, true}, {"tool_calls_faults_idle", benchToolBody, true}} {
		b.Run(c.name, func(b *testing.B) {
			sc := testScenario()
			if c.faults {
				sc = idleFaultsScenario()
			}
			_, base := startMock(b, sc)
			url := base + "/providers/primary/v1/chat/completions"
			client := &http.Client{Transport: &http.Transport{
				MaxIdleConns:        1024,
				MaxIdleConnsPerHost: 1024,
			}}
			defer client.CloseIdleConnections()
			body := []byte(c.body)
			b.SetParallelism(4) // several connections per core, as a load generator would
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
					req.Header["Content-Type"] = jsonContentType
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "completions/s")
		})
	}
}

// BenchmarkChatCompletionsHandler measures the handler alone: decode, pick
// the reply, encode; no network.
func BenchmarkChatCompletionsHandler(b *testing.B) {
	for _, c := range []struct {
		name, body     string
		stream, faults bool
	}{
		{"final", benchBody, false, false}, {"tool_calls", benchToolBody, false, false}, {"final_stream", benchBody, true, false},
		{"final_faults_idle", benchBody, false, true}, {"final_stream_faults_idle", benchBody, true, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			sc := testScenario()
			if c.faults {
				sc = idleFaultsScenario()
			}
			s, err := New(sc)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			h := s.Handler()
			body := []byte(c.body)
			if c.stream {
				body = append(body[:len(body)-1], `,"stream":true,"stream_options":{"include_usage":true}}`...)
			}
			serveParallel(b, h, func() *http.Request {
				return httptest.NewRequest(http.MethodPost, "/providers/primary/v1/chat/completions", bytes.NewReader(body))
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "completions/s")
			b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
		})
	}
}

// serveParallel runs h on the requests newReq makes, in parallel, into
// discardWriters, and fails on a status other than 200.
func serveParallel(b *testing.B, h http.Handler, newReq func() *http.Request) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			req := newReq()
			clear(w.h)
			w.code = 0
			h.ServeHTTP(w, req)
			if w.code != 0 && w.code != http.StatusOK {
				b.Errorf("status %d", w.code)
				return
			}
		}
	})
}

// idleFaultsScenario has a fault timeline on chat that never fires for
// the benchmark's requests: another provider's fault, a window that has not
// opened, a probability of 0, and a tool's fault. Each request still walks
// the timeline.
func idleFaultsScenario() *scenarios.Scenario {
	return faultScenario(
		scenarios.Fault{Target: "provider:backup", Kind: scenarios.FaultHang},
		scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultHTTPError, Status: 503, From: sd(time.Hour)},
		scenarios.Fault{Target: "model:" + testModel, Kind: scenarios.FaultReset, Probability: prob(0)},
		scenarios.Fault{Target: "tool:get_time", Kind: scenarios.FaultToolError},
	)
}

// discardWriter is a ResponseWriter that keeps nothing, so that the
// handler benchmark measures the handler, not a recorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Flush()                      {}
