package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/scenarios"
)

// mockRatio is the mock's completions per second over a bare net/http
// handler's that writes the same body, both served from this process and
// driven by the same vegeta attack, alternately.
type mockRatio struct {
	mock, bare []float64
	load       string
}

// benchMockRatio serves the one-turn scenario's completion from the mock's
// handler and from a bare handler that only reads the request and writes
// the bytes the mock wrote, and attacks each rounds times.
func benchMockRatio(vegeta, tmp string, d time.Duration, workers, rounds int) (*mockRatio, error) {
	sc, err := scenarios.Parse("bench.yaml", fmt.Appendf(nil, scenarioTmpl, "mock", d, workers))
	if err != nil {
		return nil, err
	}
	m, err := mockprovider.New(sc, mockprovider.WithSeed(1))
	if err != nil {
		return nil, err
	}
	defer m.Close()
	mockH := m.Handler()
	// The body the mock answers the attack's request with.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", bytes.NewReader([]byte(requestBody)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-bench-not-a-secret")
	mockH.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("mock answered %d: %s", rec.Code, rec.Body)
	}
	body, ctype := rec.Body.Bytes(), rec.Header().Get("Content-Type")
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header()["Content-Type"] = []string{ctype}
		_, _ = w.Write(body)
	})

	targets := map[string]string{}
	for name, h := range map[string]http.Handler{"mock": mockH, "bare": bare} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		target, _ := json.Marshal(map[string]any{
			"method": "POST", "url": "http://" + ln.Addr().String() + "/v1/chat/completions",
			"body": base64.StdEncoding.EncodeToString([]byte(requestBody)),
			"header": map[string][]string{"Content-Type": {"application/json"},
				"Authorization": {"Bearer sk-bench-not-a-secret"}},
		})
		targets[name] = filepath.Join(tmp, name+"-targets.json")
		if err := os.WriteFile(targets[name], append(target, '\n'), 0o644); err != nil {
			return nil, err
		}
	}
	r := &mockRatio{}
	for i := 0; i < rounds; i++ {
		b, err := runVegeta(vegeta, targets["bare"], d, workers)
		if err != nil {
			return nil, fmt.Errorf("bare handler: %w", err)
		}
		m, err := runVegeta(vegeta, targets["mock"], d, workers)
		if err != nil {
			return nil, fmt.Errorf("mock handler: %w", err)
		}
		r.bare, r.mock = append(r.bare, b), append(r.mock, m)
		fmt.Printf("round %d: bare handler %.0f req/s, mock handler %.0f req/s\n", i+1, b, m)
	}
	r.load = loadAvg()
	return r, nil
}

func printMockRatio(r *mockRatio) {
	b, m := median(r.bare), median(r.mock)
	fmt.Printf("\nThe mock against a bare net/http handler writing the same completion (same vegeta attack, same process), load average %s:\n", r.load)
	fmt.Printf("  bare handler                                     %8.0f req/s\n", b)
	fmt.Printf("  mock handler                                     %8.0f req/s\n", m)
	fmt.Printf("  ratio mock/bare                                  %8.2f  (target >= 0.80)\n", m/b)
}
