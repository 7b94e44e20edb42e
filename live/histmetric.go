package live

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// histMetric is a Dist as one Prometheus histogram that carries both
// forms: the classic buckets at Bounds, which every scraper reads, and the
// native exponential buckets, which a scraper that asks for protobuf and
// has native histograms on keeps instead. client_golang's const
// histograms hold one form or the other, not both.
type histMetric struct {
	desc   *prometheus.Desc
	d      *Dist
	labels []*dto.LabelPair
}

func newHistMetric(desc *prometheus.Desc, d *Dist, labelValues ...string) histMetric {
	return histMetric{desc: desc, d: d, labels: prometheus.MakeLabelPairs(desc, labelValues)}
}

// Desc implements prometheus.Metric.
func (h histMetric) Desc() *prometheus.Desc { return h.desc }

// Write implements prometheus.Metric.
func (h histMetric) Write(m *dto.Metric) error {
	count, sum := h.d.Count, h.d.SumS
	schema, zero, zeroCount := int32(NativeSchema), 0.0, uint64(0)
	hist := &dto.Histogram{
		SampleCount: &count, SampleSum: &sum,
		Schema: &schema, ZeroThreshold: &zero, ZeroCount: &zeroCount,
	}
	for i, bound := range Bounds {
		c, b := h.d.Buckets[i], bound
		hist.Bucket = append(hist.Bucket, &dto.Bucket{CumulativeCount: &c, UpperBound: &b})
	}
	hist.PositiveSpan, hist.PositiveDelta = spans(h.d.Native)
	if len(hist.PositiveSpan) == 0 {
		// An empty span marks the histogram native though it is empty, as
		// client_golang's own do.
		var off int32
		var n uint32
		hist.PositiveSpan = []*dto.BucketSpan{{Offset: &off, Length: &n}}
	}
	m.Label = h.labels
	m.Histogram = hist
	return nil
}

// spans encodes native bucket counts by index as Prometheus's spans of
// consecutive buckets and the deltas between neighbouring counts.
func spans(buckets map[int]int64) ([]*dto.BucketSpan, []int64) {
	idx := make([]int, 0, len(buckets))
	for i, n := range buckets {
		if n != 0 {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	var out []*dto.BucketSpan
	var deltas []int64
	var prevCount int64
	for k, i := range idx {
		if k == 0 || i != idx[k-1]+1 {
			off := int32(i)
			if k > 0 {
				off = int32(i - idx[k-1] - 1)
			}
			var n uint32
			out = append(out, &dto.BucketSpan{Offset: &off, Length: &n})
		}
		*out[len(out)-1].Length++
		deltas = append(deltas, buckets[i]-prevCount)
		prevCount = buckets[i]
	}
	return out, deltas
}
