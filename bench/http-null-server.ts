// The benchmark's null MCP server over Streamable HTTP: node:http, JSON answers (no SSE), keep-alive,
// a session id handed out on initialize and accepted without checks; with `modern`, 2026-07-28 only
// (no sessions). Usage: http-null-server.js <port> [modern]
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { answer } from './null-mcp.js';

const port = Number(process.argv[2] ?? 0);
const modern = process.argv[3] === 'modern';

const server = createServer((req, res) => {
  if (req.method === 'DELETE') {
    res.writeHead(200).end();
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST, DELETE' }).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
    const text = answer(body, modern);
    if (text === undefined) {
      res.writeHead(202).end(); // a notification
      return;
    }
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
    if (!modern && body.includes('"initialize"')) headers['mcp-session-id'] = randomUUID();
    res.writeHead(200, headers).end(text);
  });
});
// Clients keep connections open between runs of the benchmark; a long idle timeout avoids races on reuse.
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stderr.write(`listening on ${typeof address === 'object' && address ? address.port : port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
