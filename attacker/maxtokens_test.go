package attacker

import (
	"context"
	"reflect"
	"testing"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// TestMaxTokensDialects: provider.max_tokens goes out in each API's field,
// nothing is sent when it is unset except Anthropic's required default, and
// the mock takes every form in a whole conversation.
func TestMaxTokensDialects(t *testing.T) {
	for _, tc := range []struct {
		api       string
		maxTokens int
		path      []string
		want      any // nil: absent
	}{
		{scenarios.APIOpenAI, 256, []string{"max_completion_tokens"}, 256.0},
		{scenarios.APIOpenAI, 0, []string{"max_completion_tokens"}, nil},
		{scenarios.APIAnthropic, 256, []string{"max_tokens"}, 256.0},
		{scenarios.APIAnthropic, 0, []string{"max_tokens"}, float64(scenarios.DefaultAnthropicMaxTokens)},
		{scenarios.APIGemini, 256, []string{"generationConfig", "maxOutputTokens"}, 256.0},
		{scenarios.APIGemini, 0, []string{"generationConfig"}, nil},
	} {
		sc := jobsConversationScenario()
		p := sc.Providers["primary"]
		p.API, p.Model, p.MaxTokens = tc.api, dialectModels[tc.api], tc.maxTokens
		d, _ := dialectFor(tc.api)
		prefix, err := d.prefix(p, sc.Tools)
		if err != nil {
			t.Fatal(err)
		}
		var got any
		mustUnmarshal(t, d.appendBody(prefix, jobsMsgs), &got)
		for _, k := range tc.path {
			m, _ := got.(map[string]any)
			got = m[k]
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s max_tokens %d: %v = %v, want %v", tc.api, tc.maxTokens, tc.path, got, tc.want)
		}
		if tc.maxTokens == 0 {
			continue
		}
		t.Run(tc.api, func(t *testing.T) {
			j := jobsNewJob(t, sc, jobConfig{MockURL: jobsStartMock(t, sc)})
			if res := j.Do(context.Background(), 1, 0, &jobsSink{}); res.Outcome != record.OutcomeOK {
				t.Fatalf("the mock refused a request with max tokens: %+v", res)
			}
		})
	}
}
