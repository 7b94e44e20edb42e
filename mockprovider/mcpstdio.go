package mockprovider

import (
	"context"
	"fmt"
	"io"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ServeStdio serves one MCP server of the mock over a stdio pair: name is
// an mcp_servers entry, or "" for the server of every tool (/mcp over
// HTTP). Messages are newline-delimited JSON-RPC, as MCP's stdio transport
// has them. It returns when in ends, ctx is done or the mock closes. The
// fault timeline applies over HTTP only: stdio has no status codes or
// connections to break.
func (s *Server) ServeStdio(ctx context.Context, name string, in io.ReadCloser, out io.WriteCloser) error {
	ep := s.mcps[name]
	if ep == nil {
		return fmt.Errorf("mockprovider: unknown MCP server %q; the mock serves %v", name, s.mcpNames[1:])
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	ss, err := ep.server.Connect(ctx, &mcp.IOTransport{Reader: in, Writer: out}, nil)
	if err != nil {
		return fmt.Errorf("mockprovider: stdio: %w", err)
	}
	werr := make(chan error, 1)
	go func() { werr <- ss.Wait() }()
	select {
	case err = <-werr:
	case <-ctx.Done():
		ss.Close()
		err = <-werr
	}
	if err != nil && ctx.Err() == nil && err != io.EOF {
		return fmt.Errorf("mockprovider: stdio: %w", err)
	}
	return nil
}

// MCPServerNames lists the names ServeStdio takes: "" (every tool) first,
// then the mcp_servers entries the mock serves.
func (s *Server) MCPServerNames() []string { return append([]string(nil), s.mcpNames...) }
