// Package attacker runs a scenario and records it (Run): the open-model
// schedule (the pacers, shards, schedule lag), the pool of workers that
// runs each arrival's job, the conversation and MCP jobs, and the
// Recorder that streams the records into a run folder.
//
// The clients and the harness's own checks are packages of their own. A
// package imports only packages below it in this list:
//
//	attacker   Run, the schedule and the pool, the jobs, the Recorder
//	llm        the model clients: one file per API dialect, the attempt,
//	           the stream timers
//	mcp        the MCP client: one file per transport and lane
//	secrets    API keys and target headers resolved; the Redactor that
//	           keeps them out of results, logs and file names
//	fdbudget   the descriptors a run may hold, RLIMIT_NOFILE, the cap on
//	           connections to the in-process mock, spare descriptors
//	httpx      the HTTP exchange plumbing the clients share: bounded
//	           bodies, failures classified, error text, SSE, redirects,
//	           TLS, proxies, the loopback check
//	policy     the client policies (retry, budget, breaker, fallback,
//	           hedge, cache), each an http.RoundTripper, and the outcome
//	           classes
//
// Package selfcheck samples the process (harness.jsonl) and package
// capacity searches the highest rate that meets the SLO; neither imports
// the others. None of them imports attacker: the clients take what they
// need of it through small interfaces (llm.Redactor, mcp.Redactor,
// selfcheck.Source).
package attacker
