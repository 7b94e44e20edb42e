// Package secrets finds a run's credentials and keeps them out of what it
// writes. Key resolves a provider's API key from the environment or a
// credentials file, Headers a target's headers and bearer token, and Of
// every credential a scenario's targets resolve to. A Redactor built from
// them removes keys, parts of keys and bearer tokens from text a target
// controls before it reaches results, logs or file names; the MCP and
// model clients take it through their own small Redactor interfaces.
package secrets
