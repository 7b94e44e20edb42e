//lint:file-ignore SA1019 the mock serves sampling and logging, deprecated in 2026-07-28 (SEP-2577) but still served and tested by MCP clients

package mockprovider

import (
	"bytes"
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/scenarios"
)

// conformanceScenario is the embedded mcp-conformance, with its watched
// resource updated often enough for a test.
func conformanceScenario(t testing.TB) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load("mcp-conformance")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sc.Resources {
		if r.Mock.UpdateEvery > 0 {
			r.Mock.UpdateEvery = scenarios.Duration(20 * time.Millisecond)
		}
	}
	return sc
}

// fixtureClient records what the mock sends to a client.
type fixtureClient struct {
	mu       sync.Mutex
	logs     []string
	progress []float64
	updated  []string
	sampled  *mcp.CreateMessageParams
	elicited *mcp.ElicitParams
}

func (f *fixtureClient) options() *mcp.ClientOptions {
	return &mcp.ClientOptions{
		LoggingMessageHandler: func(_ context.Context, r *mcp.LoggingMessageRequest) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.logs = append(f.logs, string(r.Params.Level)+" "+r.Params.Data.(string))
		},
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.progress = append(f.progress, r.Params.Progress)
		},
		ResourceUpdatedHandler: func(_ context.Context, r *mcp.ResourceUpdatedNotificationRequest) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.updated = append(f.updated, r.Params.URI)
		},
		CreateMessageHandler: func(_ context.Context, r *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.sampled = r.Params
			return &mcp.CreateMessageResult{Content: &mcp.TextContent{Text: "forty-two"}, Model: "test-model", Role: "assistant"}, nil
		},
		ElicitationHandler: func(_ context.Context, r *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.elicited = r.Params
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"username": "ada", "email": "ada@example.com"}}, nil
		},
	}
}

// connectWith connects the go-sdk client, with opts, to the mock's MCP
// endpoint at url.
func connectWith(t *testing.T, url string, opts *mcp.ClientOptions, so *mcp.ClientSessionOptions) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "mockprovider-test", Version: "1"}, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1}, so)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func callTool(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	return res
}

func textOf(t *testing.T, c mcp.Content) string {
	t.Helper()
	tc, ok := c.(*mcp.TextContent)
	if !ok {
		t.Fatalf("content %T, want text", c)
	}
	return tc.Text
}

// TestMCPFixtures drives every fixture kind of the mock with the go-sdk
// client: content types, logging, progress, completion, templates, blobs,
// subscriptions, sampling and elicitation.
func TestMCPFixtures(t *testing.T) {
	_, base := startMock(t, conformanceScenario(t))
	ctx := context.Background()
	f := &fixtureClient{}
	cs := connectWith(t, base+"/mcp/conformance", f.options(), nil)
	png, _ := base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")

	caps := cs.InitializeResult().Capabilities
	if caps.Logging == nil || caps.Completions == nil || caps.Resources == nil || !caps.Resources.Subscribe {
		t.Errorf("capabilities %+v: want logging, completions and resource subscriptions", caps)
	}

	t.Run("content", func(t *testing.T) {
		img := callTool(t, cs, "test_image_content", nil).Content[0].(*mcp.ImageContent)
		if img.MIMEType != "image/png" || !bytes.Equal(img.Data, png) {
			t.Errorf("image %s %x", img.MIMEType, img.Data)
		}
		if a := callTool(t, cs, "test_audio_content", nil).Content[0].(*mcp.AudioContent); a.MIMEType != "audio/wav" || !bytes.HasPrefix(a.Data, []byte("RIFF")) {
			t.Errorf("audio %s %q", a.MIMEType, a.Data)
		}
		if r := callTool(t, cs, "test_embedded_resource", nil).Content[0].(*mcp.EmbeddedResource).Resource; r.URI != "test://embedded-resource" || r.MIMEType != "text/plain" || r.Text == "" {
			t.Errorf("embedded resource %+v", r)
		}
		if l := callTool(t, cs, "test_resource_link", nil).Content[0].(*mcp.ResourceLink); l.URI != "test://static-text" || l.Name != "static-text" {
			t.Errorf("resource link %+v", l)
		}
		mixed := callTool(t, cs, "test_multiple_content_types", nil).Content
		var kinds []string
		for _, c := range mixed {
			kinds = append(kinds, typeName(c))
		}
		if want := []string{"text", "image", "resource"}; !slices.Equal(kinds, want) {
			t.Errorf("mixed content %v, want %v", kinds, want)
		}
		if res := callTool(t, cs, "test_error_handling", nil); !res.IsError || textOf(t, res.Content[0]) == "" {
			t.Errorf("error tool: %+v", res)
		}
	})

	t.Run("logging", func(t *testing.T) {
		if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
			t.Fatal(err)
		}
		callTool(t, cs, "test_tool_with_logging", nil)
		f.mu.Lock()
		got := slices.Clone(f.logs)
		f.logs = nil
		f.mu.Unlock()
		want := []string{"info Tool execution started", "info Tool processing data", "info Tool execution completed"}
		if !slices.Equal(got, want) {
			t.Errorf("logs %q, want %q", got, want)
		}
		// The client's level filters them.
		if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "error"}); err != nil {
			t.Fatal(err)
		}
		callTool(t, cs, "test_tool_with_logging", nil)
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.logs) != 0 {
			t.Errorf("logs at level error: %q", f.logs)
		}
	})

	t.Run("progress", func(t *testing.T) {
		p := &mcp.CallToolParams{Name: "test_tool_with_progress"}
		p.SetProgressToken("p1")
		if _, err := cs.CallTool(ctx, p); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if !slices.Equal(f.progress, []float64{1, 2, 3}) {
			t.Errorf("progress %v, want [1 2 3]", f.progress)
		}
	})

	t.Run("sampling and elicitation", func(t *testing.T) {
		res := callTool(t, cs, "test_sampling", map[string]any{"prompt": "What is six times seven?"})
		if got := textOf(t, res.Content[0]); got != "LLM response: forty-two" || res.IsError {
			t.Errorf("sampling result %q", got)
		}
		res = callTool(t, cs, "test_elicitation", map[string]any{"message": "Who are you?"})
		if got := textOf(t, res.Content[0]); got != `User response: action=accept content={"email":"ada@example.com","username":"ada"}` {
			t.Errorf("elicitation result %q", got)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.sampled == nil || f.sampled.MaxTokens != 100 || textOf(t, f.sampled.Messages[0].Content) != "What is six times seven?" {
			t.Errorf("sampling request %+v", f.sampled)
		}
		if f.elicited == nil || f.elicited.Message != "Who are you?" || f.elicited.RequestedSchema == nil {
			t.Errorf("elicitation request %+v", f.elicited)
		}
	})

	t.Run("client without sampling", func(t *testing.T) {
		plain := connectMCP(t, base+"/mcp/conformance")
		res, err := plain.CallTool(ctx, &mcp.CallToolParams{Name: "test_sampling", Arguments: map[string]any{"prompt": "x"}})
		if err != nil || !res.IsError || !strings.Contains(textOf(t, res.Content[0]), "sampling/createMessage failed") {
			t.Errorf("call: %v %+v", err, res)
		}
	})

	t.Run("completion", func(t *testing.T) {
		for typed, want := range map[string][]string{"par": {"paris", "park", "party"}, "pari": {"paris"}, "x": {}} {
			res, err := cs.Complete(ctx, &mcp.CompleteParams{
				Ref:      &mcp.CompleteReference{Type: "ref/prompt", Name: "test_prompt_with_arguments"},
				Argument: mcp.CompleteParamsArgument{Name: "arg1", Value: typed},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Completion.Values, want) {
				t.Errorf("complete %q: %v, want %v", typed, res.Completion.Values, want)
			}
		}
	})

	t.Run("resources", func(t *testing.T) {
		bin, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://static-binary"})
		if err != nil || !bytes.Equal(bin.Contents[0].Blob, png) || bin.Contents[0].Text != "" {
			t.Errorf("binary: %v %+v", err, bin)
		}
		tmpl, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://template/123/data"})
		if err != nil || tmpl.Contents[0].URI != "test://template/123/data" || tmpl.Contents[0].Text != `{"id":"123","templateTest":true,"data":"Data for ID: 123"}` {
			t.Errorf("template: %v %+v", err, tmpl)
		}
		list, err := cs.ListResourceTemplates(ctx, nil)
		if err != nil || len(list.ResourceTemplates) != 1 || list.ResourceTemplates[0].URITemplate != "test://template/{id}/data" {
			t.Errorf("templates: %v %+v", err, list)
		}
		if err := cs.Subscribe(ctx, &mcp.SubscribeParams{URI: "test://watched-resource"}); err != nil {
			t.Fatal(err)
		}
		if err := cs.Subscribe(ctx, &mcp.SubscribeParams{URI: "test://nothing"}); err == nil {
			t.Error("subscribing to an unknown resource succeeded")
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			f.mu.Lock()
			n := len(f.updated)
			f.mu.Unlock()
			if n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no notifications/resources/updated after subscribing")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := cs.Unsubscribe(ctx, &mcp.UnsubscribeParams{URI: "test://watched-resource"}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("prompts", func(t *testing.T) {
		p, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "test_prompt_with_embedded_resource", Arguments: map[string]string{"resourceUri": "test://example-resource"}})
		if err != nil {
			t.Fatal(err)
		}
		if r := p.Messages[0].Content.(*mcp.EmbeddedResource).Resource; r.URI != "test://example-resource" || len(p.Messages) != 2 {
			t.Errorf("embedded resource prompt %+v", p.Messages)
		}
		p, err = cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "test_prompt_with_image"})
		if err != nil {
			t.Fatal(err)
		}
		if img, ok := p.Messages[0].Content.(*mcp.ImageContent); !ok || !bytes.Equal(img.Data, png) {
			t.Errorf("image prompt %+v", p.Messages)
		}
	})
}

func typeName(c mcp.Content) string {
	switch c.(type) {
	case *mcp.TextContent:
		return "text"
	case *mcp.ImageContent:
		return "image"
	case *mcp.EmbeddedResource:
		return "resource"
	}
	return "other"
}
