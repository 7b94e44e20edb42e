package hostile

// KeyEnv is the environment variable Scenario's provider reads its key from.
const KeyEnv = "MCPLOAD_HOSTILE_KEY"

// Scenario returns a scenario (YAML) that loads the OpenAI-dialect
// provider at base with one conversation turn, rate conversations a second
// for duration, its key in $KeyEnv, and one declared tool on an MCP server
// nothing calls: what a hostile model does with its tool calls is its own.
// extra is appended, at the end of the client section.
func Scenario(base, rate, duration, extra string) string {
	return `version: 1
name: hostile
seed: 3
providers:
  primary: {api: openai, base_url: ` + base + `, model: gpt-4.1-mini, api_key_env: ` + KeyEnv + `}
mcp_servers:
  tools: {url: "http://127.0.0.1:1/mcp"}
tools:
  - name: get_weather
    description: Weather.
    inputSchema: {type: object}
conversation:
  provider: primary
  max_steps: 3
  turns: [{user: hi, model: [{content: hello}]}]
load:
  stages: [{rate: ` + rate + `, duration: ` + duration + `}]
client:
  timeout: 5s
` + extra
}
