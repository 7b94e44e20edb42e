package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	comparereport "github.com/mcpload/mcpload/report/compare"
	costreport "github.com/mcpload/mcpload/report/cost"
	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/scenarios"
)

// noBaseline is the --baseline value that turns the comparison off.
const noBaseline = "none"

// costFlags are cost's overrides of the scenario's cost: section.
type costFlags struct {
	catalog, baseline, volume, tokens, format string
	hours, rate                               float64
}

func newCostCmd(stdout, _ io.Writer) *cobra.Command {
	var f costFlags
	c := &cobra.Command{
		Use:   "cost DIR",
		Short: "Price a run, project it per month, and compare models",
		Example: `  mcpload cost results/quickstart-20261205T010203Z --volume 2M
  mcpload cost results/run --catalog litellm.json --format json`,
		Args:              args(1, 1, "exactly one run folder"),
		ValidArgsFunction: completeDirs,
		RunE: func(cmd *cobra.Command, a []string) error {
			set := map[string]bool{}
			cmd.Flags().Visit(func(fl *pflag.Flag) { set[fl.Name] = true })
			return cost(a[0], f, set, stdout)
		},
	}
	fs := c.Flags()
	fs.StringVar(&f.catalog, "catalog", "", "price catalog: a YAML or LiteLLM JSON file, or an embedded name ("+pricing.DefaultName+", "+pricing.RelayName+"); default the scenario's cost.catalog")
	fs.StringVar(&f.baseline, "baseline", "", "catalog to compare with, or "+noBaseline+"; default the scenario's cost.baseline, else "+pricing.DefaultName+" when the catalog is another")
	fs.StringVar(&f.volume, "volume", "", "project to this many conversations a month, as in 2M or 2M/month (overrides cost.monthly)")
	fs.StringVar(&f.tokens, "tokens", "", "project to this many model tokens (prompt + completion) a month, as in 500M (overrides cost.monthly)")
	fs.Float64Var(&f.hours, "hours", 0, "implementation hours of the switch, for payback (overrides cost.switch)")
	fs.Float64Var(&f.rate, "hourly-rate", 0, "USD per implementation hour (overrides cost.switch)")
	fs.StringVar(&f.format, "format", "text", "output: text or json")
	_ = c.RegisterFlagCompletionFunc("catalog", completeCatalog)
	_ = c.RegisterFlagCompletionFunc("baseline", completeCatalog)
	_ = c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// cost prices the run in dir; set holds the flags the command line set.
func cost(dir string, f costFlags, set map[string]bool, stdout io.Writer) error {
	catalog, baseline, volume, tokens, hours, rate := &f.catalog, &f.baseline, &f.volume, &f.tokens, &f.hours, &f.rate
	if f.format != "text" && f.format != "json" {
		return invalid(fmt.Errorf("--format: expected text or json, got %q", f.format))
	}
	if err := comparereport.RunFolder(dir); err != nil {
		return invalid(err)
	}
	sc, err := runfolder.ReadScenario(dir)
	if err != nil {
		return err
	}
	var cost scenarios.Cost
	if sc != nil && sc.Cost != nil {
		cost = *sc.Cost
	}
	if err := overrideCost(&cost, set, *catalog, *baseline, *volume, *tokens, *hours, *rate); err != nil {
		return invalid(err)
	}
	if *baseline == noBaseline {
		cost.Baseline = ""
	}
	o, err := costreport.NewOptions(&cost)
	if err != nil {
		if set["catalog"] || set["baseline"] {
			return invalid(err)
		}
		return fmt.Errorf("%w (override it with --catalog or --baseline)", err)
	}
	if *baseline == noBaseline {
		o.Baseline = nil
	}
	s, _, err := summary.SummarizeWith(dir, o)
	if err != nil {
		return err
	}
	if f.format == "json" {
		return writeCostJSON(stdout, dir, s, o)
	}
	printCost(stdout, dir, s, o)
	return nil
}

// costJSON is what cost --format json prints: summary.json's cost section,
// and every what-if row, where summary.json keeps only the cheapest.
type costJSON struct {
	Run           string                 `json:"run"`
	Conversations uint64                 `json:"conversations_started"`
	OK            uint64                 `json:"conversations_ok"`
	Cost          *costreport.Cost       `json:"cost"`
	WhatIf        []costreport.WhatIfRow `json:"what_if"`
}

func writeCostJSON(w io.Writer, dir string, s *summary.Summary, o costreport.Options) error {
	out := costJSON{Run: dir, Conversations: s.Conversations.Started, OK: s.Conversations.OK, Cost: s.Cost}
	if c := s.Cost; c != nil {
		var scale float64
		if c.Monthly != nil {
			scale = c.Monthly.Scale
		}
		out.WhatIf = costreport.WhatIf(o.Catalog, c.Usage(), scale)
	}
	if out.WhatIf == nil {
		out.WhatIf = []costreport.WhatIfRow{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// overrideCost applies the flags that were set to the scenario's cost:
// section c.
func overrideCost(c *scenarios.Cost, set map[string]bool, catalog, baseline, volume, tokens string, hours, rate float64) error {
	if set["catalog"] {
		c.Catalog = catalog
	}
	if set["baseline"] {
		c.Baseline = baseline
	}
	switch {
	case set["volume"] && set["tokens"]:
		return errors.New("--volume and --tokens are exclusive")
	case set["volume"]:
		n, err := parseVolume(volume)
		if err != nil {
			return fmt.Errorf("--volume: %w", err)
		}
		c.Monthly = &scenarios.Monthly{Conversations: scenarios.Count(n)}
	case set["tokens"]:
		n, err := parseVolume(tokens)
		if err != nil {
			return fmt.Errorf("--tokens: %w", err)
		}
		c.Monthly = &scenarios.Monthly{Tokens: scenarios.Count(n)}
	}
	if set["hours"] || set["hourly-rate"] {
		sw := scenarios.Switch{}
		if c.Switch != nil {
			sw = *c.Switch
		}
		if set["hours"] {
			sw.ImplementationHours = hours
		}
		if set["hourly-rate"] {
			sw.HourlyRateUSD = rate
		}
		if sw.ImplementationHours < 0 || sw.HourlyRateUSD < 0 {
			return errors.New("--hours and --hourly-rate must not be negative")
		}
		c.Switch = &sw
	}
	return nil
}

// printCost writes the cost of the run in dir: per model, the totals, the
// baseline, the monthly projection, the payback and every what-if row.
func printCost(w io.Writer, dir string, s *summary.Summary, o costreport.Options) {
	c := s.Cost
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(w, "Cost of %s, catalog %s\n\n", dir, c.Catalog)
	fmt.Fprintln(tw, "model\tattempts\tprompt\tcached\tcompletion\tUSD\tretries USD\tcatalog entry\t")
	for _, m := range c.ByModel {
		usd, entry := "unpriced", "-"
		if m.USD != nil {
			usd = fmt.Sprintf("%.6f", *m.USD)
		}
		if m.CatalogEntry != "" {
			entry = m.CatalogEntry
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%.6f\t%s\t\n", m.Model, m.Attempts, m.Prompt, m.Cached, m.Completion, usd, m.RetryUSD, entry)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nTotal            %s (%d conversations started, %d ok)\n", costreport.USD(c.TotalUSD), s.Conversations.Started, s.Conversations.OK)
	fmt.Fprintf(w, "Per conversation %s; per successful %s\n", costreport.USD(c.PerConversationUSD), costreport.USD(c.PerSuccessfulConversationUSD))
	fmt.Fprintf(w, "Retry overhead   %s\n", costreport.USD(c.RetryOverheadUSD))
	if c.CacheSavingsUSD != nil {
		fmt.Fprintf(w, "Cache saved      ~%s\n", costreport.USD(*c.CacheSavingsUSD))
	}
	if b := c.Baseline; b != nil {
		partial := ""
		if !b.Complete {
			partial = ", over the models both catalogs price"
		}
		fmt.Fprintf(w, "Baseline         %s on %s: saving %.2f%% (%s)%s\n", costreport.USD(b.TotalUSD), b.Catalog, b.SavingPercent, costreport.USD(b.SavingUSD), partial)
	}
	if m := c.Monthly; m != nil {
		fmt.Fprintf(w, "\nMonthly at %s: %s", m.Basis, costreport.USD(m.USD))
		if m.Baseline != nil {
			fmt.Fprintf(w, " (baseline %s)", costreport.USD(*m.Baseline))
		}
		fmt.Fprintln(w)
	}
	if p := c.Payback; p != nil {
		fmt.Fprintf(w, "Switching        %s h × %s/h = %s; saving %s/month, %s/year\n",
			strconv.FormatFloat(p.ImplementationHours, 'f', -1, 64), costreport.USD(p.HourlyRateUSD), costreport.USD(p.ImplementationUSD),
			costreport.USD(p.MonthlySavingUSD), costreport.USD(p.AnnualSavingUSD))
		fmt.Fprintf(w, "Payback          %s; 12-month ROI %s\n", p.MonthsText(), p.ROIText())
	}
	for _, n := range append(c.Assumptions, c.Notes...) {
		fmt.Fprintf(w, "Note: %s\n", n)
	}

	// summary.json keeps the cheapest rows; the terminal shows them all.
	u := c.Usage()
	var scale float64
	if c.Monthly != nil {
		scale = c.Monthly.Scale
	}
	rows := costreport.WhatIf(o.Catalog, u, scale)
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\nWhat if the same usage (%d prompt, %d cached, %d completion tokens) ran on:\n\n", u.Prompt, u.Cached, u.Completion)
	head := "model\tprovider\tin $/MTok\tcached $/MTok\tout $/MTok\trun USD\t"
	if scale > 0 {
		head += "monthly USD\t"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		cached := "-"
		if r.CachedInputPerMTok != nil {
			cached = fmt.Sprintf("%.3f", *r.CachedInputPerMTok)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%s\t%.3f\t%.6f\t", r.Model, r.Provider, r.InputPerMTok, cached, r.OutputPerMTok, r.USD)
		if r.MonthlyUSD != nil {
			fmt.Fprintf(tw, "%.2f\t", *r.MonthlyUSD)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// parseVolume reads a positive count such as 500M, 2.5k, 1e6 or
// 500M/month, as the scenario's cost.monthly does.
func parseVolume(s string) (float64, error) {
	v, err := scenarios.ParseCount(s)
	if err != nil {
		return 0, err
	}
	if v <= 0 {
		return 0, fmt.Errorf("%q: give a volume of more than 0", s)
	}
	return v, nil
}
