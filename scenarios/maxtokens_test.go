package scenarios

import "testing"

// TestMaxTokens: Anthropic's required max_tokens is filled in, the other
// APIs are left at the model's limit, and a negative cap is refused where
// it is written.
func TestMaxTokens(t *testing.T) {
	for api, want := range map[string]int{APIAnthropic: DefaultAnthropicMaxTokens, APIOpenAI: 0, APIGemini: 0} {
		s := mustParse(t, edit(t, "    model: m\n", "    api: "+api+"\n    model: m\n"))
		if got := s.Providers["p"].MaxTokens; got != want {
			t.Errorf("%s: max_tokens %d, want %d", api, got, want)
		}
	}
	s := mustParse(t, edit(t, "    model: m\n", "    api: anthropic\n    model: m\n    max_tokens: 512\n"))
	if got := s.Providers["p"].MaxTokens; got != 512 {
		t.Errorf("anthropic max_tokens: 512 became %d", got)
	}
	checkErrors(t, parseErrors(t, edit(t, "    model: m\n", "    model: m\n    max_tokens: -1\n")),
		want{"7:17", "providers.p.max_tokens", "must not be negative, got -1"})
}
