package secrets

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/mcpload/mcpload/scenarios"
)

// Headers resolves the headers of a provider or MCP server: each
// ${VAR} from getenv (the scenario was checked for them; this is the
// run's environment), and bearerEnv's value as Authorization: Bearer.
// secrets are the values that came from the environment, for the
// redactor: a header built from one carries a credential.
func Headers(tmpl map[string]string, bearerEnv string, getenv func(string) string) (h http.Header, secrets []string, err error) {
	if len(tmpl) == 0 && bearerEnv == "" {
		return nil, nil, nil
	}
	lookup := func(name string) (string, bool) {
		v := getenv(name)
		return v, v != ""
	}
	h = make(http.Header, len(tmpl)+1)
	for _, name := range slices.Sorted(maps.Keys(tmpl)) {
		v, _, values, err := scenarios.Expand(tmpl[name], lookup, false)
		if err != nil {
			return nil, nil, fmt.Errorf("header %s: %w", name, err)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			// Never echo it: it came from the environment.
			return nil, nil, fmt.Errorf("header %s: its value holds a line break", name)
		}
		if len(values) > 0 {
			secrets = append(secrets, v)
			secrets = append(secrets, values...)
		}
		h[http.CanonicalHeaderKey(name)] = []string{v}
	}
	if bearerEnv != "" {
		tok := strings.TrimSpace(getenv(bearerEnv))
		if tok == "" {
			return nil, nil, errors.New("bearer_token_env: $" + bearerEnv + " is not set")
		}
		if strings.ContainsAny(tok, "\r\n\x00") {
			return nil, nil, errors.New("bearer_token_env: $" + bearerEnv + " holds a line break")
		}
		h["Authorization"] = []string{"Bearer " + tok}
		secrets = append(secrets, tok)
	}
	return h, secrets, nil
}

// Of is every credential the scenario's targets resolve to,
// used by the job or not: provider keys and the header values that came
// from the environment. Targets that do not resolve add nothing (they
// stop the run elsewhere).
func Of(sc *scenarios.Scenario, getenv func(string) string) []string {
	var out []string
	for _, p := range sc.Providers {
		if p == nil {
			continue
		}
		if k, err := Key(p, getenv); err == nil && k != "" {
			out = append(out, k)
		}
		if _, s, err := Headers(p.Headers, "", getenv); err == nil {
			out = append(out, s...)
		}
	}
	for _, m := range sc.MCPServers {
		if m == nil {
			continue
		}
		if _, s, err := Headers(m.Headers, m.BearerTokenEnv, getenv); err == nil {
			out = append(out, s...)
		}
	}
	return out
}
