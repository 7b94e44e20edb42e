// Package hostile serves misbehaving providers and MCP servers on loopback, for tests.
package hostile
