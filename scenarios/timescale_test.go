package scenarios

import (
	"reflect"
	"testing"
	"time"
)

// TestScaleTimeIncident: the embedded incident is written at 1/10 of real
// time; at scale 1 it is the incident as it happened: 45.23 s answers
// behind a 30 s timeout, in every policy's client too.
func TestScaleTimeIncident(t *testing.T) {
	orig, err := Load("incident-replay")
	if err != nil {
		t.Fatal(err)
	}
	if orig.TimeScaleOf() != 0.1 {
		t.Fatalf("incident-replay time_scale = %g, want 0.1", orig.TimeScaleOf())
	}
	sc, _ := Load("incident-replay")
	if err := sc.ScaleTime(1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want Duration
	}{
		{"faults[0].latency", sc.Faults[0].Latency.Value, Duration(45230 * time.Millisecond)},
		{"faults[0].from", sc.Faults[0].From, Duration(60 * time.Second)},
		{"client.timeout", sc.Client.Timeout, Duration(30 * time.Second)},
		{"policies[0].client.timeout", sc.Policies[0].Client.Timeout, Duration(30 * time.Second)},
		{"policies[0].client.conversation_timeout", sc.Policies[0].Client.ConversationTimeout, Duration(60 * time.Second)},
		{"policies[0].client.retry.initial", sc.Policies[0].Client.Retry.Initial, Duration(time.Second)},
		{"providers.primary.mock.latency.p50", sc.Providers["primary"].Mock.Latency.P50, Duration(800 * time.Millisecond)},
		{"load.stages[0].duration", sc.Load.Stages[0].Duration, Duration(250 * time.Second)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.name, c.got.D(), c.want.D())
		}
	}
	if sc.TimeScale != 1 || sc.Load.Stages[0].Rate != orig.Load.Stages[0].Rate || sc.Load.MaxInFlight != orig.Load.MaxInFlight {
		t.Errorf("time_scale %g, rate %g, max_in_flight %d: want 1 and the rate and cap as written", sc.TimeScale, sc.Load.Stages[0].Rate, sc.Load.MaxInFlight)
	}
	if err := sc.Validate(); err != nil {
		t.Errorf("the incident in real time does not validate: %v", err)
	}
	// Back to the file's scale: the scenario as loaded.
	if err := sc.ScaleTime(0.1); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sc, orig) {
		t.Errorf("scaling to 1 and back to 0.1 changed the scenario")
	}
	for _, bad := range []float64{0, -1, MaxTimeScale + 1} {
		if err := sc.ScaleTime(bad); err == nil {
			t.Errorf("ScaleTime(%g) = nil, want an error", bad)
		}
	}
}

func TestTimeScaleValidation(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       want
	}{
		{"zero", "time_scale: 0", want{"3:13", "time_scale", "must be more than 0 and at most 1000 (1: the file's times are real times), got 0"}},
		{"negative", "time_scale: -0.5", want{"3:13", "time_scale", "got -0.5"}},
		{"huge", "time_scale: 5000", want{"3:13", "time_scale", "got 5000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, parseErrors(t, edit(t, "name: t\n", "name: t\n"+tc.line+"\n")), tc.want)
		})
	}
}
