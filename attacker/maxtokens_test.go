package attacker

import (
	"context"
	"testing"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// TestMaxTokensAgainstMock: the mock takes provider.max_tokens in each
// API's form, in a whole conversation (llm's TestMaxTokensDialects checks
// the field each sends).
func TestMaxTokensAgainstMock(t *testing.T) {
	for _, api := range scenarios.APIs() {
		t.Run(api, func(t *testing.T) {
			sc := jobsConversationScenario()
			p := sc.Providers["primary"]
			p.API, p.Model, p.MaxTokens = api, dialectModels[api], 256
			j := jobsNewJob(t, sc, jobConfig{MockURL: jobsStartMock(t, sc)})
			if res := j.Do(context.Background(), 1, 0, &jobsSink{}); res.Outcome != record.OutcomeOK {
				t.Fatalf("the mock refused a request with max tokens: %+v", res)
			}
		})
	}
}
