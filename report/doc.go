// Package report turns a run folder into what people and CI read. Write
// renders a folder's files: summary.json, timeseries.json, the .hgrm
// percentile files, junit.xml and report.md.
//
// Each figure is computed in one package and shown in others. A package
// imports only packages below it in this list:
//
//	htmlreport  report.html, of a run or of a policy comparison
//	plot        the plots, PNG and SVG
//	compare     policies side by side (comparison.json), rendering each
//	            policy's run by Write; two runs judged for regressions
//	            (mcpload compare)
//	report      Write: a run folder's files, from the packages below
//	markdown    report.md; it reuses text's rows and words
//	text        the terminal summary
//	junit       junit.xml
//	claims      vendor claims, judged on 95% intervals
//	thresholds  the CI gates, availability, and a run's verdict (Judge)
//	summary     summary.json computed from a run folder: counts,
//	            latencies, resilience and timeseries.json, harness, MCP,
//	            gateway, damage; Live follows a run being written
//	cost        the cost section: priced usage, baseline, monthly
//	            projection, payback, what-if
//	runfolder   a run folder's files read: run.json, scenario.yaml, the
//	            histograms, the JSONL records, results.bin
//	pricing     price catalogs
//	confidence  bootstrap and Wilson intervals
//
// Package capacity renders a capacity search's folder and imports none of
// them. Summary, Threshold and Claim are plain data in package summary:
// Summarize leaves Thresholds and Claims empty, and the judges
// (thresholds, claims), which import summary, fill them. Nothing here
// imports the attacker, so `mcpload report DIR` can re-render any run,
// partial or not.
package report
