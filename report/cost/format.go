package cost

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// SavingText is the saving for people: "85.00%", and which models it
// covers when some are priced in one catalog only.
func (b *Baseline) SavingText() string {
	s := fmt.Sprintf("%.2f%%", b.SavingPercent)
	if !b.Complete {
		s += " (models priced in both catalogs)"
	}
	return s
}

// USDText is the monthly cost for people, with the baseline's beside it.
func (m *Monthly) USDText() string {
	s := USD(m.USD)
	if m.Baseline != nil {
		s += " (baseline " + USD(*m.Baseline) + ")"
	}
	return s
}

// MonthsText is the payback time for people: "1.2 months", "never (no
// saving)" or "immediate (switching costs nothing)".
func (p *Payback) MonthsText() string {
	switch {
	case p.PaybackMonths == nil:
		return "never (no saving)"
	case *p.PaybackMonths == 0:
		return "immediate (switching costs nothing)"
	}
	return fmt.Sprintf("%.1f months", *p.PaybackMonths)
}

// ROIText is the 12-month ROI for people: "920%", or why there is none.
func (p *Payback) ROIText() string {
	if p.ROI12Percent == nil {
		return "n/a (switching costs nothing)"
	}
	return strconv.FormatFloat(math.Round(*p.ROI12Percent), 'f', 0, 64) + "%"
}

// USD writes an amount for people: cents and thousands separators from
// $1 up ("$40,800.00"), three significant digits below ("$0.000123").
func USD(v float64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	if v == 0 {
		return "$0"
	}
	if v < 1 {
		decimals := min(2-int(math.Floor(math.Log10(v))), 12)
		s := strconv.FormatFloat(v, 'f', decimals, 64)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
		return sign + "$" + s
	}
	s := strconv.FormatFloat(v, 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var g strings.Builder
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			g.WriteByte(',')
		}
		g.WriteRune(d)
	}
	return sign + "$" + g.String() + "." + frac
}
