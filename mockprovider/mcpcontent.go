//lint:file-ignore SA1019 the mock serves sampling and logging, deprecated in 2026-07-28 (SEP-2577) but still served and tested by MCP clients

package mockprovider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/scenarios"
)

// Placeholders a tool's content can hold besides its call's arguments.
const (
	samplingPlaceholder    = "{{sampling}}"
	elicitationPlaceholder = "{{elicitation}}"
)

// mcpContents builds the SDK's content blocks of a scenario's, decoding
// base64 once.
func mcpContents(cs []scenarios.MCPContent) ([]mcp.Content, error) {
	out := make([]mcp.Content, 0, len(cs))
	for i, c := range cs {
		b, err := mcpBlock(c)
		if err != nil {
			return nil, fmt.Errorf("content[%d]: %w", i, err)
		}
		out = append(out, b)
	}
	return out, nil
}

func mcpBlock(c scenarios.MCPContent) (mcp.Content, error) {
	data, err := base64.StdEncoding.DecodeString(c.Data)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	blob, err := base64.StdEncoding.DecodeString(c.Blob)
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	switch c.Type {
	case scenarios.ContentText:
		return &mcp.TextContent{Text: c.Text}, nil
	case scenarios.ContentImage:
		return &mcp.ImageContent{Data: data, MIMEType: c.MIMEType}, nil
	case scenarios.ContentAudio:
		return &mcp.AudioContent{Data: data, MIMEType: c.MIMEType}, nil
	case scenarios.ContentResource:
		rc := &mcp.ResourceContents{URI: c.URI, MIMEType: c.MIMEType, Text: c.Text}
		if c.Blob != "" {
			rc.Blob = blob
		}
		return &mcp.EmbeddedResource{Resource: rc}, nil
	case scenarios.ContentResourceLink:
		return &mcp.ResourceLink{URI: c.URI, Name: c.Name, MIMEType: c.MIMEType}, nil
	}
	return nil, fmt.Errorf("unknown content type %q", c.Type)
}

// placeholder reports whether a block's text or URI has a {{...}} to fill
// in per request.
func placeholder(c mcp.Content) bool {
	switch c := c.(type) {
	case *mcp.TextContent:
		return strings.Contains(c.Text, "{{")
	case *mcp.EmbeddedResource:
		return strings.Contains(c.Resource.URI, "{{") || strings.Contains(c.Resource.Text, "{{")
	case *mcp.ResourceLink:
		return strings.Contains(c.URI, "{{")
	}
	return false
}

// fillContent copies content, with r applied to the text and URIs. The
// blocks of content are shared, never changed.
func fillContent(content []mcp.Content, r *strings.Replacer) []mcp.Content {
	out := make([]mcp.Content, len(content))
	for i, c := range content {
		switch c := c.(type) {
		case *mcp.TextContent:
			out[i] = &mcp.TextContent{Text: r.Replace(c.Text)}
		case *mcp.EmbeddedResource:
			rc := *c.Resource
			rc.URI, rc.Text = r.Replace(rc.URI), r.Replace(rc.Text)
			out[i] = &mcp.EmbeddedResource{Resource: &rc}
		case *mcp.ResourceLink:
			l := *c
			l.URI = r.Replace(l.URI)
			out[i] = &l
		default:
			out[i] = c
		}
	}
	return out
}

// argPairs lists the {{name}} → value pairs of a request's string
// arguments, for a strings.Replacer, with extra pairs after them.
func argPairs(args map[string]string, extra ...string) []string {
	pairs := make([]string, 0, 2*len(args)+len(extra))
	for _, k := range slices.Sorted(maps.Keys(args)) {
		pairs = append(pairs, "{{"+k+"}}", args[k])
	}
	return append(pairs, extra...)
}

// callArgs is a tools/call's string arguments; others are left out.
func callArgs(req *mcp.CallToolRequest) map[string]string {
	if req.Params == nil || len(req.Params.Arguments) == 0 {
		return nil
	}
	var raw map[string]any
	if json.Unmarshal(req.Params.Arguments, &raw) != nil {
		return nil
	}
	args := make(map[string]string, len(raw))
	for k, v := range raw {
		if s, ok := v.(string); ok {
			args[k] = s
		}
	}
	return args
}

// askClient makes the server→client requests of a tool's mock, sampling
// then elicitation, and returns the placeholder pairs of their answers.
// A refusal or a client without the capability is the tool's error
// result, as MCP asks of a server whose client cannot help.
func askClient(ctx context.Context, ss *mcp.ServerSession, m *scenarios.ToolMock, args map[string]string) ([]string, *mcp.CallToolResult) {
	var pairs []string
	fill := strings.NewReplacer(argPairs(args)...)
	if sm := m.Sampling; sm != nil {
		maxTokens := sm.MaxTokens
		if maxTokens == 0 {
			maxTokens = scenarios.DefaultSamplingMaxTokens
		}
		res, err := ss.CreateMessage(ctx, &mcp.CreateMessageParams{
			Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: fill.Replace(sm.Prompt)}}},
			MaxTokens: int64(maxTokens),
		})
		if err != nil {
			return nil, errorResult("sampling/createMessage failed: " + err.Error())
		}
		text := "(non-text answer)"
		if tc, ok := res.Content.(*mcp.TextContent); ok {
			text = tc.Text
		}
		pairs = append(pairs, samplingPlaceholder, text)
	}
	if em := m.Elicitation; em != nil {
		res, err := ss.Elicit(ctx, &mcp.ElicitParams{Message: fill.Replace(em.Message), RequestedSchema: em.RequestedSchema})
		if err != nil {
			return nil, errorResult("elicitation/create failed: " + err.Error())
		}
		content, _ := json.Marshal(res.Content) // decoded from JSON: cannot fail
		pairs = append(pairs, elicitationPlaceholder, "action="+res.Action+" content="+string(content))
	}
	return pairs, nil
}

func errorResult(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: msg}}, IsError: true}
}

// uriTemplate matches URIs against an RFC 6570 level-1 template: each
// {name} is one path segment or more of non-'/' characters.
type uriTemplate struct {
	re    *regexp.Regexp
	names []string
}

var templateVar = regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)

func newURITemplate(t string) (*uriTemplate, error) {
	var sb strings.Builder
	var names []string
	sb.WriteByte('^')
	last := 0
	for _, m := range templateVar.FindAllStringSubmatchIndex(t, -1) {
		sb.WriteString(regexp.QuoteMeta(t[last:m[0]]))
		sb.WriteString(`([^/]+)`)
		names = append(names, t[m[2]:m[3]])
		last = m[1]
	}
	sb.WriteString(regexp.QuoteMeta(t[last:]))
	sb.WriteByte('$')
	re, err := regexp.Compile(sb.String())
	if err != nil {
		return nil, fmt.Errorf("uriTemplate %q: %w", t, err)
	}
	return &uriTemplate{re: re, names: names}, nil
}

// match returns the template's variables in uri, or nil.
func (u *uriTemplate) match(uri string) map[string]string {
	m := u.re.FindStringSubmatch(uri)
	if m == nil {
		return nil
	}
	vars := make(map[string]string, len(u.names))
	for i, n := range u.names {
		vars[n] = m[i+1]
	}
	return vars
}

// completions answers completion/complete from the prompts' argument
// completions: the values that start with what was typed.
func completions(prompts []*scenarios.Prompt) func(context.Context, *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
	values := map[string][]string{} // prompt \x00 argument → values
	for _, p := range prompts {
		for _, a := range p.Arguments {
			if len(a.Completions) > 0 {
				values[p.Name+"\x00"+a.Name] = a.Completions
			}
		}
	}
	if len(values) == 0 {
		return nil
	}
	return func(_ context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
		res := &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: []string{}}}
		if req.Params == nil || req.Params.Ref == nil || req.Params.Ref.Type != "ref/prompt" {
			return res, nil
		}
		for _, v := range values[req.Params.Ref.Name+"\x00"+req.Params.Argument.Name] {
			if strings.HasPrefix(v, req.Params.Argument.Value) {
				res.Completion.Values = append(res.Completion.Values, v)
			}
		}
		res.Completion.Total = len(res.Completion.Values)
		return res, nil
	}
}

// watchResources sends notifications/resources/updated for each resource
// that has an update interval, to the sessions subscribed to it, until the
// mock closes.
func (s *Server) watchResources(srv *mcp.Server, rs []*scenarios.Resource) {
	for _, r := range rs {
		every := r.Mock.UpdateEvery.D()
		if every <= 0 {
			continue
		}
		go func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-s.done:
					return
				case <-t.C:
					ctx, cancel := context.WithTimeout(context.Background(), every)
					// A session gone in between is not the mock's error.
					_ = srv.ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: r.URI})
					cancel()
				}
			}
		}()
	}
}

// subscribable reports whether any of rs can be subscribed to.
func subscribable(rs []*scenarios.Resource) bool {
	return slices.ContainsFunc(rs, func(r *scenarios.Resource) bool { return r.Mock.UpdateEvery > 0 })
}
