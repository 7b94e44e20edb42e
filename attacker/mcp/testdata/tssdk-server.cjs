// An MCP server on the official TypeScript SDK's Streamable HTTP transport,
// for mcpload's client tests: node tssdk-server.cjs stateful|stateless json|sse
// prints "LISTEN <port>" once it listens on 127.0.0.1. Run with NODE_PATH
// pointing at the node_modules `make node` installs.
const http = require('node:http');
const { randomUUID } = require('node:crypto');
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { z } = require('zod');

const [mode, response] = process.argv.slice(2);
const enableJsonResponse = response === 'json';

function newServer() {
  const s = new McpServer({ name: 'tssdk-test', version: '1.0.0' });
  s.registerTool('echo', { description: 'Echo the text.', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text: 'echo: ' + text }] }));
  s.registerTool('broken', { description: 'Always fails.', inputSchema: {} },
    async () => { throw new Error('disk on fire'); });
  return s;
}

const sessions = new Map();
const srv = http.createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const parsed = body ? JSON.parse(body) : undefined;
  try {
    if (mode === 'stateless') {
      const s = newServer();
      const t = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse });
      res.on('close', () => { t.close(); s.close(); });
      await s.connect(t);
      await t.handleRequest(req, res, parsed);
      return;
    }
    const sid = req.headers['mcp-session-id'];
    let t = sid && sessions.get(sid);
    if (!t) {
      if (sid) { res.writeHead(404).end(); return; }
      t = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(), enableJsonResponse,
        onsessioninitialized: (id) => sessions.set(id, t),
      });
      t.onclose = () => sessions.delete(t.sessionId);
      await newServer().connect(t);
    }
    await t.handleRequest(req, res, parsed);
  } catch (e) {
    if (!res.headersSent) res.writeHead(500).end(String(e));
  }
});
srv.listen(0, '127.0.0.1', () => console.log('LISTEN ' + srv.address().port));
