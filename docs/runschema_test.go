package docs

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mcpload/mcpload/record"
)

// TestGenerateSchemasRun derives schemas/run.schema.json from record.Run,
// with TestGenerateSchemas (its name matches that test's -run pattern):
// go test ./docs -run TestGenerateSchemas -update-schemas. TestDocs checks
// every run.json its commands write against it, shards' and merged runs'
// among them (sharding.md).
func TestGenerateSchemasRun(t *testing.T) {
	if !*updateSchemas {
		t.Skip("rewrites the schemas only with -update-schemas")
	}
	run, err := jsonschema.For[record.Run](nil)
	if err != nil {
		t.Fatal(err)
	}
	writeSchema(t, "run.schema.json", run, reflect.TypeFor[record.Run](), goDocs(t, "../record"), schemaHead{
		title:       "mcpload run.json",
		description: "A run's metadata and counters, rewritten every second while it runs; a shard's has shard, a merged run's merged. It changes only by adding fields. See docs/results.md and docs/sharding.md.",
		fixed: map[string]map[string]any{
			"status":     {"enum": []string{record.StatusRunning, record.StatusComplete, record.StatusInterrupted, record.StatusAborted, record.StatusFailed}},
			"started":    {"format": "date-time", "description": "When the schedule started."},
			"planned_ns": {"description": "The length of the arrival schedule, in ns."},
		},
	})
}

// TestRunSchemaTakesShards: the run.json of a shard and of a merged run
// match run.schema.json.
func TestRunSchemaTakesShards(t *testing.T) {
	s := loadSchema(t, "run.schema.json")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	counts := record.Counts{ByOutcome: map[string]uint64{}}
	attempts := record.AttemptCounts{ByOutcome: map[string]uint64{}}
	for _, r := range []record.Run{
		{Scenario: "s", Status: record.StatusComplete, Started: now, ScenarioHash: "sha256:00", Conversations: counts, Attempts: attempts,
			Shard: &record.Shard{Index: 1, Count: 2, StartAt: now, StartSkewNS: 5, MaxInFlight: 3, Notes: []string{"n"}}},
		{Scenario: "s", Status: record.StatusComplete, Started: now, ScenarioHash: "sha256:00", Conversations: counts, Attempts: attempts,
			Merged: &record.Merged{Shards: 1, From: []record.MergedShard{{Index: 0, Dir: "d", Status: record.StatusComplete, Started: now, Conversations: counts}}}},
	} {
		var v any
		if err := roundTrip(r, &v); err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(v); err != nil {
			t.Errorf("%+v does not match run.schema.json: %v", r, err)
		}
	}
}

// roundTrip decodes v's JSON into out, as a reader of the file would.
func roundTrip(v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
