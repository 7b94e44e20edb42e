package llm

import (
	"net/http"
	"slices"
	"testing"

	"github.com/mcpload/mcpload/scenarios"
)

// TestKeylessLoopbackProvider: a provider on loopback with no key is sent
// no key header at all, in any dialect, but the scenario's own headers;
// the mock still gets its placeholder key.
func TestKeylessLoopbackProvider(t *testing.T) {
	for _, api := range scenarios.APIs() {
		p := &scenarios.Provider{API: api, BaseURL: "http://127.0.0.1:8080/v1", Model: "m"}
		ep, err := NewEndpoint("p", p, p.BaseURL, "", nil, http.Header{"X-Gw": {"1"}})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, h := range ep.hdrs {
			names = append(names, http.CanonicalHeaderKey(h.name))
		}
		for _, k := range []string{"Authorization", "X-Api-Key", "X-Goog-Api-Key"} {
			if slices.Contains(names, k) {
				t.Errorf("%s: headers %v hold %s", api, names, k)
			}
		}
		if !slices.Contains(names, "X-Gw") {
			t.Errorf("%s: headers %v lack the scenario's", api, names)
		}
		mock := &scenarios.Provider{API: api, BaseURL: scenarios.MockURL, Model: "m"}
		ep, err = NewEndpoint("p", mock, "http://127.0.0.1:1/providers/p/v1", "", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if api != scenarios.APIOpenAI && len(ep.hdrs) == 0 {
			t.Errorf("%s: the mock lost its placeholder key", api)
		}
	}
}
