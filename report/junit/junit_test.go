package junit

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/report/internal/sample"
	"github.com/mcpload/mcpload/report/thresholds"
)

func TestWriteJUnit(t *testing.T) {
	s := sample.Summary()
	s.Thresholds = thresholds.Evaluate(s, []string{
		"conversation.p99 < 2s",
		"success_rate >= 90%",
		"cost.total_usd < 1",
		`step.model{provider=primary}.p95 < 800ms`,
	})
	var b bytes.Buffer
	if err := Write(&b, s); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "<?xml") {
		t.Errorf("junit.xml has no XML declaration:\n%s", b.String())
	}
	var got Suites
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, b.String())
	}
	if len(got.Suites) != 1 {
		t.Fatalf("%d suites, want 1", len(got.Suites))
	}
	suite := got.Suites[0]
	if suite.Name != "mcpload.synthetic" || suite.Tests != 4 || suite.Failures != 2 || len(suite.Cases) != 4 {
		t.Fatalf("suite = %+v, want mcpload.synthetic, 4 tests, 2 failures", suite)
	}
	want := []struct{ name, failure string }{
		{"conversation.p99 < 2s", "measured 2.41s, limit 2s"},
		{"success_rate >= 90%", ""},
		{"cost.total_usd < 1", "no value: the run has no cost section (no pricing catalog priced it)"},
		{"step.model{provider=primary}.p95 < 800ms", ""},
	}
	for i, w := range want {
		c := suite.Cases[i]
		if c.Name != w.name || c.Classname != "thresholds" {
			t.Errorf("case %d = %q (%s), want %q (thresholds)", i, c.Name, c.Classname, w.name)
		}
		switch {
		case w.failure == "" && c.Failure != nil:
			t.Errorf("%s: unexpected failure %+v", w.name, c.Failure)
		case w.failure != "" && (c.Failure == nil || c.Failure.Message != w.failure):
			t.Errorf("%s: failure %+v, want message %q", w.name, c.Failure, w.failure)
		}
	}
}

func TestWriteJUnitNoThresholds(t *testing.T) {
	s := sample.Summary()
	var b bytes.Buffer
	if err := Write(&b, s); err != nil {
		t.Fatal(err)
	}
	var got Suites
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil || len(got.Suites) != 1 || got.Suites[0].Tests != 0 {
		t.Errorf("junit.xml without thresholds = %+v (%v), want one empty suite", got, err)
	}
}
