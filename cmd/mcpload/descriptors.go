package main

import (
	"github.com/mcpload/mcpload/attacker"
	"github.com/mcpload/mcpload/attacker/fdbudget"
	"github.com/mcpload/mcpload/scenarios"
)

// checkDescriptors makes sure the run fits in the descriptors this process
// may open (raising the soft limit when it can), before anything starts:
// a run that runs out half-way measures mcpload, not the target. It is
// skipped with --fd-check=false.
func checkDescriptors(sc *scenarios.Scenario, on bool) error {
	if !on {
		return nil
	}
	need, err := attacker.NeedFDs(sc, needsMock(sc))
	if err != nil {
		return invalid(err)
	}
	if err := fdbudget.Ensure(need); err != nil {
		return invalid(err)
	}
	return nil
}
