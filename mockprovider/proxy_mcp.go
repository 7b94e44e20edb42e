package mockprovider

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// proxyMCP carries an MCP request to up through the tool faults. Only a
// POST can call a tool: other requests (the GET stream, DELETE) and, when
// no fault targets a tool, every request pass without being read.
// Faults at the HTTP level are answered as the mock answers them;
// tool_error and jsonrpc_error, which the upstream would have to say, are
// said by the proxy in a JSON response to the call, in the upstream's
// session, and the call does not reach the upstream.
func (s *Server) proxyMCP(w http.ResponseWriter, r *http.Request, up *upstream) {
	delete(r.Header, headerToolFault) // only the fault middleware sets it
	if tl := s.timeline.Load(); r.Method == http.MethodPost && tl.tool {
		msg, answered := peekRPC(w, r)
		if answered || s.rpcFaults(w, r, tl, msg, false) {
			return
		}
		if v := r.Header[headerToolFault]; len(v) > 0 {
			writeRPCFault(w, r, msg, v[0])
			return
		}
	}
	up.rp.ServeHTTP(w, r)
}

// writeRPCFault answers a tools/call with the tool_error or jsonrpc_error
// of v, the value of headerToolFault, as the mock's tool handler does.
func writeRPCFault(w http.ResponseWriter, r *http.Request, msg rpcPeek, v string) {
	resp := struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Result  any             `json:"result,omitempty"`
		Error   any             `json:"error,omitempty"`
	}{JSONRPC: "2.0", ID: msg.ID}
	if len(resp.ID) == 0 {
		resp.ID = json.RawMessage("null")
	}
	res, err := toolFaultResult(msg.Params.Name, v)
	if err != nil {
		resp.Error = err
	} else {
		resp.Result = res
	}
	b, err := json.Marshal(resp)
	if err != nil {
		http.Error(w, "mcpload fault proxy: encoding the fault: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	if sid := r.Header.Get("Mcp-Session-Id"); sid != "" {
		h.Set("Mcp-Session-Id", sid)
	}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
