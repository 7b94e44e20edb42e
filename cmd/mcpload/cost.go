package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/report/pricing"
)

func costCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("cost", "cost DIR [--catalog FILE|relay-example] [--volume N/month | --tokens N/month]", stderr)
	catalog := fs.String("catalog", pricing.DefaultName, "price catalog: a YAML or LiteLLM JSON file, or an embedded name ("+pricing.DefaultName+", "+pricing.RelayName+")")
	volume := fs.String("volume", "", "project to this many conversations a month, as in 2M or 2M/month")
	tokens := fs.String("tokens", "", "project to this many tokens a month, as in 500M")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return invalid(errors.New("cost takes exactly one run folder"))
	}
	if *volume != "" && *tokens != "" {
		return invalid(errors.New("--volume and --tokens are exclusive"))
	}
	cat, err := pricing.Open(*catalog)
	if err != nil {
		return invalid(err)
	}
	s, _, err := report.Summarize(pos[0])
	if err != nil {
		return err
	}
	c, err := report.PriceRun(pos[0], s, cat)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintf(stdout, "Cost of %s, catalog %s\n\n", pos[0], cat.Name)
	fmt.Fprintln(tw, "model\tattempts\tprompt\tcached\tcompletion\tUSD\tretries USD\t")
	var all pricing.Usage
	for _, m := range c.ByModel {
		usd := "unpriced"
		if m.USD != nil {
			usd = fmt.Sprintf("%.6f", *m.USD)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%.6f\t\n", m.Model, m.Attempts, m.Prompt, m.Cached, m.Completion, usd, m.RetryUSD)
		all = all.Add(m.Usage)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\nTotal            $%.6f (%d conversations started, %d ok)\n", c.TotalUSD, s.Conversations.Started, s.Conversations.OK)
	fmt.Fprintf(stdout, "Per conversation $%.8f; per successful $%.8f\n", c.PerConversationUSD, c.PerSuccessfulConversationUSD)
	fmt.Fprintf(stdout, "Retry overhead   $%.6f\n", c.RetryOverheadUSD)
	if c.CacheSavingsUSD != nil {
		fmt.Fprintf(stdout, "Cache saved      ~$%.6f\n", *c.CacheSavingsUSD)
	}
	for _, n := range append(c.Assumptions, c.Notes...) {
		fmt.Fprintf(stdout, "Note: %s\n", n)
	}

	// scale turns measured usage into monthly: months[i] multiplies it.
	scale, basis := 0.0, ""
	measuredTokens := all.Prompt + all.Completion
	switch {
	case *volume != "":
		n, err := parseVolume(*volume)
		if err != nil {
			return invalid(fmt.Errorf("--volume: %w", err))
		}
		if s.Conversations.Started > 0 {
			scale, basis = n/float64(s.Conversations.Started), fmt.Sprintf("%s conversations/month", strings.TrimSuffix(*volume, "/month"))
		}
	case *tokens != "":
		n, err := parseVolume(*tokens)
		if err != nil {
			return invalid(fmt.Errorf("--tokens: %w", err))
		}
		if measuredTokens > 0 {
			scale, basis = n/float64(measuredTokens), fmt.Sprintf("%s tokens/month", strings.TrimSuffix(*tokens, "/month"))
		}
	}
	if basis != "" {
		fmt.Fprintf(stdout, "\nMonthly at %s: $%.2f\n", basis, c.TotalUSD*scale)
	} else if *volume != "" || *tokens != "" {
		fmt.Fprintln(stdout, "\nNo monthly projection: the run measured no usage to scale.")
	}
	whatIf(stdout, cat, all, scale)
	return nil
}

// whatIf prices the run's whole measured usage on every catalog model, the
// cheapest first, and per month when scale is set.
func whatIf(w io.Writer, cat *pricing.Catalog, u pricing.Usage, scale float64) {
	if u.Prompt+u.Completion == 0 {
		return
	}
	type row struct {
		p   pricing.Price
		usd float64
	}
	rows := make([]row, 0, len(cat.Models))
	for _, p := range cat.Models {
		rows = append(rows, row{p, p.Cost(u)})
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		switch {
		case a.usd < b.usd:
			return -1
		case a.usd > b.usd:
			return 1
		}
		return strings.Compare(a.p.Model, b.p.Model)
	})
	fmt.Fprintf(w, "\nWhat if the same usage (%d prompt, %d cached, %d completion tokens) ran on:\n\n", u.Prompt, u.Cached, u.Completion)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	head := "model\tprovider\tin $/MTok\tout $/MTok\trun USD\t"
	if scale > 0 {
		head += "monthly USD\t"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t%.6f\t", r.p.Model, r.p.Provider, r.p.Input, r.p.Output, r.usd)
		if scale > 0 {
			fmt.Fprintf(tw, "%.2f\t", r.usd*scale)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// parseVolume reads a count such as 500M, 2.5k, 1e6 or 500M/month.
func parseVolume(s string) (float64, error) {
	v := strings.TrimSuffix(strings.TrimSpace(s), "/month")
	mult := 1.0
	if n := len(v); n > 0 {
		switch v[n-1] {
		case 'k', 'K':
			mult, v = 1e3, v[:n-1]
		case 'm', 'M':
			mult, v = 1e6, v[:n-1]
		case 'b', 'B', 'g', 'G':
			mult, v = 1e9, v[:n-1]
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%q is not a positive count such as 500M", s)
	}
	return f * mult, nil
}
