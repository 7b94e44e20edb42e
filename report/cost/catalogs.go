package cost

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/scenarios"
)

// Options is a resolved cost: section: the catalogs that price and
// compare a run, the volume it is projected to and the cost of switching.
type Options struct {
	// Catalog prices the run; nil means the embedded list prices.
	Catalog *pricing.Catalog
	// Baseline is what the run's cost is compared with; nil for no
	// comparison (and no payback).
	Baseline *pricing.Catalog
	// Monthly is the volume of the monthly projection; nil for none.
	Monthly *scenarios.Monthly
	// Switch is the one-off cost of switching, for the payback; nil for
	// no payback.
	Switch *scenarios.Switch
}

// Catalogs resolves the catalogs of sc's cost: section. run is
// cost.catalog, the embedded list prices by default. baseline is
// cost.baseline when set; otherwise the list prices when the run is priced
// on another catalog, so that a run on a relay's prices shows what it
// saves; and nil when the run is priced on its baseline itself. sc may be
// nil, or have no cost: section.
//
// Catalog files are read now, not when the scenario was validated: a file
// that has gone since the run gives an error naming it.
func Catalogs(sc *scenarios.Scenario) (run, baseline *pricing.Catalog, err error) {
	var c scenarios.Cost
	if sc != nil && sc.Cost != nil {
		c = *sc.Cost
	}
	return catalogsOf(c)
}

// NewOptions resolves a cost: section; c may be nil.
func NewOptions(c *scenarios.Cost) (Options, error) {
	if c == nil {
		c = &scenarios.Cost{}
	}
	run, baseline, err := catalogsOf(*c)
	if err != nil {
		return Options{}, err
	}
	return Options{Catalog: run, Baseline: baseline, Monthly: c.Monthly, Switch: c.Switch}, nil
}

func catalogsOf(c scenarios.Cost) (run, baseline *pricing.Catalog, err error) {
	if run, err = openCatalog("cost.catalog", c.Catalog); err != nil {
		return nil, nil, err
	}
	switch {
	case c.Baseline != "" && catalogRef(c.Baseline) == catalogRef(c.Catalog):
		return run, nil, nil
	case c.Baseline != "":
		if baseline, err = openCatalog("cost.baseline", c.Baseline); err != nil {
			return nil, nil, err
		}
	case catalogRef(c.Catalog) != pricing.DefaultName:
		baseline = pricing.Default()
	}
	return run, baseline, nil
}

// catalogRef is the canonical form of a catalog reference, so that "",
// "list-prices", "relay" and "./x.yaml" compare with their other spellings.
func catalogRef(ref string) string {
	switch ref {
	case "", pricing.DefaultName:
		return pricing.DefaultName
	case "relay", pricing.RelayName:
		return pricing.RelayName
	}
	return filepath.Clean(ref)
}

// openCatalog opens the catalog that field of the cost: section names.
func openCatalog(field, ref string) (*pricing.Catalog, error) {
	cat, err := pricing.Open(ref)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: the price catalog file %s does not exist: name an embedded catalog (%s, %s) or an existing YAML or LiteLLM JSON file: %w",
			field, ref, pricing.DefaultName, pricing.RelayName, err)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return cat, nil
}
