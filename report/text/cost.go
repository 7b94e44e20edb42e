package text

import (
	"fmt"
	"io"

	"github.com/mcpload/mcpload/report/cost"
)

// printCost writes the cost lines of the terminal summary to tw, a
// tabwriter of "name\t[fields]\tvalues" lines. A run without model usage
// has none.
func printCost(tw io.Writer, k *cost.Cost) {
	if k == nil || len(k.ByModel) == 0 {
		return
	}
	partial := ""
	if !k.Complete {
		partial = " (priced models only)"
	}
	fmt.Fprintf(tw, "Cost\t[total, per conversation, per ok] (%s)\t%s, %s, %s%s\n", k.Catalog, cost.USD(k.TotalUSD), cost.USD(k.PerConversationUSD), cost.USD(k.PerSuccessfulConversationUSD), partial)
	line := "Cost\t[retry overhead]\t" + cost.USD(k.RetryOverheadUSD)
	if k.CacheSavingsUSD != nil {
		line = "Cost\t[retry overhead, cache savings]\t" + cost.USD(k.RetryOverheadUSD) + ", ~" + cost.USD(*k.CacheSavingsUSD)
	}
	fmt.Fprintln(tw, line)
	if b := k.Baseline; b != nil {
		fmt.Fprintf(tw, "Baseline\t[total, saving] (%s)\t%s, %s\n", b.Catalog, cost.USD(b.TotalUSD), b.SavingText())
	}
	if m := k.Monthly; m != nil {
		fmt.Fprintf(tw, "Monthly\t[%s]\t%s\n", m.Basis, m.USDText())
	}
	if p := k.Payback; p != nil {
		fmt.Fprintf(tw, "Payback\t[switch cost, saving/month, payback, 12-month ROI]\t%s, %s, %s, %s\n",
			cost.USD(p.ImplementationUSD), cost.USD(p.MonthlySavingUSD), p.MonthsText(), p.ROIText())
	}
}
