package scenarios

import (
	"slices"
	"strings"
	"testing"
)

func TestGatewayValidationErrors(t *testing.T) {
	latency := "      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n"
	many := "[" + strings.Repeat("x-a, ", 10) + "x-b]"
	cases := []struct {
		name string
		src  string
		want []want
	}{
		{"client record_headers", edit(t, "  timeout: 5s\n", "  timeout: 5s\n  record_headers: [x-ok, Set-Cookie, \"bad name\"]\n"),
			[]want{
				{"39:26", "client.record_headers[1]", "Set-Cookie carries credentials or a session and is never recorded"},
				{"39:38", "client.record_headers[2]", `"bad name" is not a header name`},
			}},
		{"too many", edit(t, "  timeout: 5s\n", "  timeout: 5s\n  record_headers: "+many+"\n", "    model: m\n", "    model: m\n    record_headers: [x-1, x-2, x-3, x-4, x-5, x-6]\n"),
			[]want{{"7:21", "providers.p.record_headers", "lists 6 headers (with client.record_headers: 17); at most 16"}}},
		{"mock gateway", edit(t, latency, latency+"      gateway: {style: kong, retries: {probability: 2, max: 11}, upstreams: [\"\"]}\n"),
			[]want{
				{"9:24", "providers.p.mock.gateway.style", `unsupported style "kong"; expected one of litellm, portkey`},
				{"9:53", "providers.p.mock.gateway.retries.probability", "must be from 0 to 1, got 2"},
				{"9:61", "providers.p.mock.gateway.retries.max", "must be from 0 to 10, got 11"},
				{"9:78", "providers.p.mock.gateway.upstreams[0]", "must be a name or URL of 1 to 200 characters"},
			}},
		{"policy record_headers", edit(t, "  timeout: 5s\n", "  timeout: 5s\npolicies:\n  - name: a\n    client: {record_headers: [cookie]}\n"),
			[]want{{"41:31", "policies[0].client.record_headers[0]", "cookie carries credentials"}}},
		{"gateway with upstream", edit(t, "    base_url: mock\n", "    base_url: mock\n    upstream: http://127.0.0.1:9/v1\n", "      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n", "      gateway: {style: litellm}\n"),
			[]want{{"9:16", "providers.p.mock.gateway", "not with upstream"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, parseErrors(t, tc.src), tc.want...)
		})
	}
}

func TestRecordHeaderNames(t *testing.T) {
	s := mustParse(t, edit(t, "  timeout: 5s\n", "  timeout: 5s\n  record_headers: [x-region, X-Trace]\n",
		"    model: m\n", "    model: m\n    record_headers: [X-REGION, cf-ray]\n",
		"      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n", "      latency: 1ms\n      gateway: {style: portkey, retries: {probability: 0.5, max: 2}, upstreams: [a, b]}\n"))
	got := s.RecordHeaderNames(s.Providers["p"])
	if want := []string{"X-Region", "X-Trace", "Cf-Ray"}; !slices.Equal(got, want) {
		t.Errorf("RecordHeaderNames = %v, want %v", got, want)
	}
	if g := s.Providers["p"].Mock.Gateway; g == nil || g.Style != GatewayPortkey || g.Retries.Max != 2 || len(g.Upstreams) != 2 {
		t.Errorf("gateway %+v", g)
	}
}
