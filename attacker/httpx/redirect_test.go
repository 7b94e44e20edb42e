package httpx

import (
	"net/http"
	"net/url"
	"testing"
)

// TestHopDropsScenarioHeadersOffHost: a hop to another host carries
// neither the key headers nor the scenario's own; one on the same host
// keeps them.
func TestHopDropsScenarioHeadersOffHost(t *testing.T) {
	p := Redirects{Max: 2, Drop: []string{"X-Gateway-Config"}}
	first, _ := url.Parse("http://127.0.0.1:1/v1/chat")
	for _, c := range []struct {
		location string
		kept     bool
	}{
		{"http://127.0.0.1:1/other", true},
		{"http://127.0.0.1:2/other", false},
	} {
		resp := &http.Response{Header: http.Header{"Location": {c.location}}, Request: &http.Request{URL: first}}
		hop, err := p.Next(resp, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := &http.Request{Header: http.Header{"Authorization": {"Bearer k"}, "X-Gateway-Config": {"secret"}, "Content-Type": {"application/json"}}}
		hop.Apply(out)
		if got := out.Header.Get("X-Gateway-Config") != "" && out.Header.Get("Authorization") != ""; got != c.kept {
			t.Errorf("%s: headers %v, want kept %v", c.location, out.Header, c.kept)
		}
		if out.Header.Get("Content-Type") == "" {
			t.Errorf("%s: Content-Type dropped", c.location)
		}
	}
}
