package llm

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mcpload/mcpload/record"
)

// TestEventReader: the one reader of every dialect's stream returns each
// event's data ([DONE], which is no JSON, passes the bound), refuses an
// event whose arrays are past the bound before anyone decodes it, ends
// with io.EOF, and classifies a body that fails.
func TestEventReader(t *testing.T) {
	ctx := context.Background()
	big := `{"choices":[` + strings.Repeat(`{},`, 80) + `{}]}`
	events := newEventReader(ctx, ctx, strings.NewReader("data: [DONE]\n\ndata: "+big+"\n\n"), nil, 1, openAIArrays)
	defer events.release()
	if data, err := events.next(); err != nil || string(data) != "[DONE]" {
		t.Fatalf("first event %q, %v", data, err)
	}
	_, err := events.next()
	if o, text := events.fail(err); o != record.OutcomeProtocol || !strings.Contains(text, "it was not decoded") {
		t.Fatalf("an event of 81 choices for 1 call: %s %q", o, text)
	}

	end := newEventReader(ctx, ctx, strings.NewReader(": only a comment\n\n"), nil, 1, openAIArrays)
	defer end.release()
	if _, err := end.next(); err != io.EOF {
		t.Fatalf("want io.EOF, got %v", err)
	}

	broken := newEventReader(ctx, ctx, iotest.ErrReader(errors.New("connection reset by peer")), nil, 1, openAIArrays)
	defer broken.release()
	_, err = broken.next()
	if o, text := broken.fail(err); o != record.OutcomeProtocol || text != "reading stream: connection reset by peer" {
		t.Fatalf("a broken body: %s %q", o, text)
	}
}
