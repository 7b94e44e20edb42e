package attacker

import (
	"testing"

	"github.com/mcpload/mcpload/attacker/fdbudget"
	"github.com/mcpload/mcpload/scenarios"
)

// TestNeedFDs: a schedule that plans its arrivals bounds the conversations
// in flight below load.max_in_flight.
func TestNeedFDs(t *testing.T) {
	quickstart, err := scenarios.Load("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	poisson, _ := scenarios.Load("quickstart")
	poisson.Load.Arrival = scenarios.ArrivalPoisson
	poisson.Load.MaxInFlight = 10000
	const reserve = fdbudget.Reserve
	for _, tc := range []struct {
		name  string
		sc    *scenarios.Scenario
		mock  bool
		want  fdbudget.Need
		total uint64
	}{
		// 20/s ramped up over 2 s, then 8 s at 20/s: 180 arrivals (+1),
		// under max_in_flight 200. The model and the three parallel tool
		// calls share the mock's one host, so at most 3 connections, and
		// the mock holds the other end of each.
		{"quickstart in process", quickstart, true, fdbudget.Need{InFlight: 181, MaxInFlight: 200, Client: 3, Mock: 3, Reserve: reserve}, 181*6 + reserve},
		{"quickstart, mock elsewhere", quickstart, false, fdbudget.Need{InFlight: 181, MaxInFlight: 200, Client: 3, Reserve: reserve}, 181*3 + reserve},
		// Poisson arrivals: 181 planned plus six standard deviations, sqrt(181) each, plus one.
		{"poisson", poisson, true, fdbudget.Need{InFlight: 263, MaxInFlight: 10000, Client: 3, Mock: 3, Reserve: reserve}, 263*6 + reserve},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NeedFDs(tc.sc, tc.mock)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || got.Total() != tc.total {
				t.Errorf("NeedFDs = %+v (total %d), want %+v (total %d)", got, got.Total(), tc.want, tc.total)
			}
		})
	}
}
