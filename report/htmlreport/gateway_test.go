package htmlreport

import (
	"strings"
	"testing"

	"github.com/mcpload/mcpload/report/summary"
)

// TestWriteRunPageGateway: a run whose answers carried a gateway's headers
// has a section with the retries behind the client and each upstream's
// calls; one without has none.
func TestWriteRunPageGateway(t *testing.T) {
	dir := t.TempDir()
	s := fixtureSummary()
	if err := Write(dir, s, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(readPage(t, dir), `id="gateway"`) {
		t.Error("a run without gateway headers has a gateway section")
	}
	s.Gateway = &summary.Gateway{ClientAttempts: 41, Retries: 23, UpstreamCalls: 64, Amplification: 1.56, RetriesUnknown: 2,
		ByProvider: map[string]*summary.GatewayProvider{"gw": {Style: "litellm", ClientAttempts: 41, Retries: 23, UpstreamCalls: 64,
			ByUpstream: map[string]*summary.GatewayUpstream{"https://eu.example.com/v1": {Answered: 20, UpstreamCalls: 34}}}}}
	if err := Write(dir, s, nil); err != nil {
		t.Fatal(err)
	}
	page := readPage(t, dir)
	for _, want := range []string{`id="gateway"`, "41 client attempts became 64 upstream calls", "23 retries", "https://eu.example.com/v1", ">34<", "retry count -1"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
