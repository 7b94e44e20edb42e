package hostile

import "fmt"

// DialectScenario returns a scenario (YAML) of conversations with a provider of
// api at base, streamed or not, with its key in $HOSTILE_KEY: one declared
// tool, get_weather, on the built-in mock's MCP server; three model steps
// at most; rate conversations a second for duration (such as "1s"), under
// a client.timeout of timeout. extra is appended to the client section
// (client.limits...), indented by two spaces.
func DialectScenario(api, base string, stream bool, rate int, duration, timeout, extra string) []byte {
	return fmt.Appendf(nil, `version: 1
name: hostile
seed: 1
providers:
  p: {api: %s, base_url: %s, model: m, stream: %t, api_key_env: HOSTILE_KEY}
mcp_servers:
  tools: {url: mock}
tools:
  - name: get_weather
    description: Weather of a city
    server: tools
    inputSchema: {type: object}
    mock: {latency: 20ms, result: sunny}
conversation:
  provider: p
  max_steps: 3
  turns:
    - user: hi
      model: [{content: hello}]
load:
  stages: [{rate: %d, duration: %s}]
client:
  timeout: %s
%s`, api, base, stream, rate, duration, timeout, extra)
}
