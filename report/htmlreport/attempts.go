package htmlreport

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mcpload/mcpload/record"
)

// Bounds of the attempts scan, so that a run of millions of attempts
// whose errors all differ costs the page a fixed amount of memory.
const (
	// maxErrorGroups is how many distinct (key, outcome, error) groups
	// are counted; attempts of further groups are counted together.
	maxErrorGroups = 2000
	// maxErrorRows is how many groups the page lists, most frequent first.
	maxErrorRows = 20
	// maxAttemptKeys is how many attempt keys are counted apart; a run has
	// one per provider model, tool and MCP session call.
	maxAttemptKeys = 200
	// maxAttemptLine bounds one line of attempts.jsonl, against a
	// corrupt file; lines are a few hundred bytes.
	maxAttemptLine = 16 << 20
	// otherKey collects the attempts of keys beyond maxAttemptKeys.
	otherKey = "(other keys)"
)

// errorGroup is one distinct error of the run.
type errorGroup struct {
	Key, Outcome, Error string
}

// keyCounts counts the attempts of one attempt key by outcome.
type keyCounts struct {
	total     uint64
	byOutcome map[string]uint64
}

// attemptScan is what the page reads from attempts.jsonl beyond the
// summary: attempts by key and outcome, and the distinct errors.
type attemptScan struct {
	byKey  map[string]*keyCounts
	errors map[errorGroup]uint64
	// ungrouped counts failed attempts whose group came after the map
	// was full.
	ungrouped uint64
	// skipped counts lines that did not parse (a torn last line).
	skipped int
}

// attemptLine is the part of a record.Attempt the scan needs.
type attemptLine struct {
	Key     string `json:"key"`
	Outcome string `json:"outcome"`
	Error   string `json:"error"`
}

// scanAttempts reads dir's attempts.jsonl in one streaming pass. A
// missing file is an empty scan. Errors are already redacted by the
// attacker; they are shown as written.
func scanAttempts(dir string) (*attemptScan, error) {
	sc := &attemptScan{byKey: map[string]*keyCounts{}, errors: map[errorGroup]uint64{}}
	f, err := record.OpenRegular(filepath.Join(dir, record.AttemptsFile))
	if errors.Is(err, os.ErrNotExist) {
		return sc, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read attempts: %w", err)
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	lines.Buffer(make([]byte, 0, 64<<10), maxAttemptLine)
	for lines.Scan() {
		b := lines.Bytes()
		if len(b) == 0 {
			continue
		}
		var a attemptLine
		if err := json.Unmarshal(b, &a); err != nil {
			sc.skipped++
			continue
		}
		sc.add(a)
	}
	if err := lines.Err(); err != nil {
		return nil, fmt.Errorf("read attempts: %w", err)
	}
	return sc, nil
}

func (sc *attemptScan) add(a attemptLine) {
	key := a.Key
	kc := sc.byKey[key]
	if kc == nil {
		if len(sc.byKey) >= maxAttemptKeys {
			key = otherKey
			kc = sc.byKey[key]
		}
		if kc == nil {
			kc = &keyCounts{byOutcome: map[string]uint64{}}
			sc.byKey[key] = kc
		}
	}
	kc.total++
	kc.byOutcome[a.Outcome]++
	if a.Outcome == record.OutcomeOK {
		return
	}
	g := errorGroup{Key: a.Key, Outcome: a.Outcome, Error: strings.TrimSpace(a.Error)}
	if _, ok := sc.errors[g]; !ok && len(sc.errors) >= maxErrorGroups {
		sc.ungrouped++
		return
	}
	sc.errors[g]++
}

// errorRow is one listed error and how many attempts it failed.
type errorRow struct {
	errorGroup
	Count uint64
}

// topErrors returns the n most frequent errors (ties in key, outcome and
// message order), and the distinct groups and attempts left out.
func (sc *attemptScan) topErrors(n int) (rows []errorRow, moreGroups int, moreAttempts uint64) {
	for g, c := range sc.errors {
		rows = append(rows, errorRow{g, c})
	}
	slices.SortFunc(rows, func(a, b errorRow) int {
		return cmp.Or(
			cmp.Compare(b.Count, a.Count),
			cmp.Compare(a.Key, b.Key),
			cmp.Compare(a.Outcome, b.Outcome),
			cmp.Compare(a.Error, b.Error),
		)
	})
	if len(rows) > n {
		for _, r := range rows[n:] {
			moreAttempts += r.Count
		}
		moreGroups = len(rows) - n
		rows = rows[:n]
	}
	return rows, moreGroups, moreAttempts + sc.ungrouped
}

// failed counts the attempts that did not end ok.
func (sc *attemptScan) failed() uint64 {
	var n uint64
	for _, c := range sc.errors {
		n += c
	}
	return n + sc.ungrouped
}
