package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// plausibleTokens reports whether every count is one an answer can report:
// from 0 to record.MaxReportedTokens. Counts outside it are a target's
// error or a lie, and would make cost negative or overflow its sums.
func plausibleTokens(counts ...int) bool {
	for _, n := range counts {
		if n < 0 || n > record.MaxReportedTokens {
			return false
		}
	}
	return true
}

// checkUsage classifies an ok answer whose usage cannot be true as
// bad_usage, and zeroes its usage so that none of it is counted or
// priced. The dialects mark usage whose raw fields were out of range by a
// negative prompt (see implausibleUsage).
func checkUsage(r *Result) {
	u := &r.Usage
	if plausibleTokens(u.PromptTokens, u.CompletionTokens, u.Cached()) {
		return
	}
	r.Outcome = record.OutcomeBadUsage
	r.Err = fmt.Sprintf("implausible usage: prompt %d, completion %d, cached %d tokens (each must be from 0 to %d)",
		u.PromptTokens, u.CompletionTokens, u.Cached(), record.MaxReportedTokens)
	r.Usage = openaichat.Usage{}
}

// implausibleUsage is the usage a dialect returns when the raw counts it
// would sum are out of range: a sum could wrap back into range.
func implausibleUsage() openaichat.Usage { return openaichat.Usage{PromptTokens: -1} }

// decodeOutcome classifies a JSON decoding error of an answer: a usage
// count that is no integer (1.5, "10", 1e30) is bad_usage, anything else
// a protocol failure.
func decodeOutcome(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && strings.Contains(strings.ToLower(te.Field), "usage") {
		return record.OutcomeBadUsage
	}
	return record.OutcomeProtocol
}
