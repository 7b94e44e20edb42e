// Package report turns a run folder into what people and CI read. Write
// renders a folder's files: summary.json, timeseries.json, the .hgrm
// percentile files, junit.xml and report.md. Each figure is computed in
// one package and shown in others, and dependencies point one way, down
// this list:
//
//	report            Write: a run folder's files, from the packages below
//	compare           policies side by side (comparison.json), and two runs
//	                  (mcpload compare); it renders each policy's run by Write
//	plot, htmlreport  the figures and report.html; capacity: capacity folders
//	text, markdown,   the renderers: the terminal (text), report.md
//	junit             (markdown, which reuses text's rows) and junit.xml
//	claims            vendor claims judged on 95% intervals
//	thresholds        the CI gates, their verdict (Judge), availability
//	summary           summary.json computed from a run folder: counts,
//	                  latencies, resilience, timeseries.json, harness, MCP,
//	                  gateway, damage; Live follows a run being written
//	cost              the cost section: prices, baseline, monthly, payback
//	runfolder         a run folder's files read: run.json, scenario.yaml,
//	                  histograms, JSONL records, results.bin
//	pricing,          price catalogs; confidence intervals (bootstrap,
//	confidence        Wilson)
//
// The summary leaves Thresholds and Claims empty for the judges to fill:
// Summary, Threshold and Claim are plain data in package summary, and
// thresholds and claims import it. Nothing here imports the attacker, so
// `mcpload report DIR` can re-render any run, partial or not.
package report
