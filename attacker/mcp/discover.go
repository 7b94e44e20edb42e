package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// Bounds of a listing at start: a server that pages forever, or lists
// without end, must not hold the run before it starts.
const (
	MaxListPages = 100
	MaxListed    = 10_000
)

// Methods that list what a server offers.
const (
	MethodToolsList     = scenarios.MCPOpToolsList
	MethodResourcesList = "resources/list"
	MethodPromptsList   = "prompts/list"
)

// Open opens a session on c, outside any run: nothing is recorded. The
// error is the handshake's failure, redacted by c.
func Open(ctx context.Context, c Client) (Session, error) {
	sess, tot := c.Handshake(ctx, 0, 0, discard{})
	if sess == nil {
		return nil, fmt.Errorf("mcp server %q: handshake: %s", c.Server(), c.Clip(firstNonEmpty(tot.Err, tot.Outcome)))
	}
	return sess, nil
}

// List sends method (MethodToolsList, MethodResourcesList or
// MethodPromptsList) on sess page by page, following nextCursor for at
// most MaxListPages pages and MaxListed items, and returns the items as the
// server sent them, and the pages read. Nothing is recorded. The error
// holds the server's answer, redacted by c.
func List(ctx context.Context, c Client, sess Session, method string) ([]json.RawMessage, int, error) {
	field := strings.TrimSuffix(method, "/list")
	var (
		items  []json.RawMessage
		cursor string
		seen   = map[string]bool{}
	)
	for page := 1; ; page++ {
		var (
			fields    map[string]json.RawMessage
			decodeErr error
		)
		req := &Request{Method: method, Key: "mcp:" + c.Server() + "/" + method, Kind: record.StepMCP, What: method}
		if cursor != "" {
			req.Params = httpx.AppendJSONString([]byte(`"cursor":`), cursor)
		}
		req.onResult = func(result json.RawMessage) {
			// The result is the transport's buffer; what is kept is copied.
			decodeErr = json.Unmarshal(result, &fields)
		}
		res := c.Call(ctx, sess, 0, 0, req, discard{})
		if res.Outcome != record.OutcomeOK {
			return nil, page - 1, fmt.Errorf("mcp server %q: %s (page %d): %s", c.Server(), method, page, c.Clip(firstNonEmpty(res.Err, res.Outcome)))
		}
		if decodeErr != nil || fields == nil {
			return nil, page - 1, fmt.Errorf("mcp server %q: %s (page %d): result is not an object: %v", c.Server(), method, page, decodeErr)
		}
		var list []json.RawMessage
		if err := json.Unmarshal(fields[field], &list); err != nil || list == nil {
			return nil, page - 1, fmt.Errorf("mcp server %q: %s (page %d): result has no %s list", c.Server(), method, page, field)
		}
		items = append(items, list...)
		if len(items) > MaxListed {
			return nil, page, fmt.Errorf("mcp server %q: %s: more than %d items", c.Server(), method, MaxListed)
		}
		if raw := fields["nextCursor"]; len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
			if err := json.Unmarshal(raw, &cursor); err != nil {
				return nil, page, fmt.Errorf("mcp server %q: %s (page %d): nextCursor is not a string", c.Server(), method, page)
			}
		} else {
			cursor = ""
		}
		switch {
		case cursor == "":
			return items, page, nil
		case seen[cursor]:
			return nil, page, fmt.Errorf("mcp server %q: %s: page %d repeats an earlier nextCursor; the listing would never end", c.Server(), method, page)
		case page == MaxListPages:
			return nil, page, fmt.Errorf("mcp server %q: %s: still a nextCursor after %d pages", c.Server(), method, MaxListPages)
		}
		seen[cursor] = true
	}
}

// Listing is the tools one server listed at start.
type Listing struct {
	// Raw are the tools as the server sent them, for the run folder.
	Raw []json.RawMessage
	// Tools are the same, as scenario tools (Server left empty).
	Tools []*scenarios.Tool
	Pages int
	// Version is the protocol revision of the session that listed them.
	Version string
}

// ListTools opens a session on c, lists every tool (see List), decodes
// them with ScenarioTool, and closes the session.
func ListTools(ctx context.Context, c Client) (*Listing, error) {
	sess, err := Open(ctx, c)
	if err != nil {
		return nil, err
	}
	defer c.End(context.WithoutCancel(ctx), sess, 0, 0, nil)
	return ListToolsOn(ctx, c, sess)
}

// ListToolsOn is ListTools on the open session sess.
func ListToolsOn(ctx context.Context, c Client, sess Session) (*Listing, error) {
	raw, pages, err := List(ctx, c, sess, MethodToolsList)
	if err != nil {
		return nil, err
	}
	l := &Listing{Raw: raw, Pages: pages, Version: sess.Version()}
	for i, r := range raw {
		t, err := ScenarioTool(r)
		if err != nil {
			return nil, fmt.Errorf("mcp server %q: tools/list: tool %d: %s", c.Server(), i, c.Clip(err.Error()))
		}
		l.Tools = append(l.Tools, t)
	}
	return l, nil
}

// ScenarioTool decodes one tool of a tools/list answer with the go-sdk's
// Tool (execution, which it lacks, and annotations, whose hints it reads
// as plain bools, by the scenario's own types), into a scenario tool.
func ScenarioTool(raw json.RawMessage) (*scenarios.Tool, error) {
	var t sdk.Tool
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("not an MCP tool: %v: %s", err, httpx.Snippet(raw))
	}
	var rest struct {
		Annotations *scenarios.ToolAnnotations `json:"annotations"`
		Execution   *scenarios.ToolExecution   `json:"execution"`
	}
	if err := json.Unmarshal(raw, &rest); err != nil {
		return nil, fmt.Errorf("tool %q: %v", t.Name, err)
	}
	if t.Name == "" {
		return nil, errors.New("a tool without a name: " + httpx.Snippet(raw))
	}
	in, ok := t.InputSchema.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("tool %q: inputSchema is not a JSON object", t.Name)
	}
	out := &scenarios.Tool{
		Name: t.Name, Title: t.Title, Description: t.Description, InputSchema: in,
		Annotations: rest.Annotations, Execution: rest.Execution, Meta: t.Meta,
	}
	if t.OutputSchema != nil {
		schema, ok := t.OutputSchema.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("tool %q: outputSchema is not a JSON object", t.Name)
		}
		out.OutputSchema = schema
	}
	for _, ic := range t.Icons {
		out.Icons = append(out.Icons, scenarios.Icon{Src: ic.Source, MimeType: ic.MIMEType, Sizes: ic.Sizes, Theme: string(ic.Theme)})
	}
	return out, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return "failed"
}

// discard is the sink of exchanges made outside a run.
type discard struct{}

func (discard) Attempt(*record.Attempt) {}
func (discard) Event(*record.Event)     {}
