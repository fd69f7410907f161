// The benchmark's null MCP server over Streamable HTTP: JSON answers (no SSE), keep-alive, a session id
// handed out on initialize and accepted without checks; with `modern`, 2026-07-28 only (no sessions).
// Usage: http-null-server.js <port> [modern]
//
// HTTP/1.1 is read and written by hand on node:net, not with node:http's server: that server costs about
// twice the CPU per request that node:http's client does, so on two cores it, not the client, set the rate
// of every HTTP row, and what the client mix's extra connections and sessions cost the server read as the
// driver's slowness. This one only has to understand what the clients of the benchmark send: a request
// line, headers, a body of content-length bytes (no chunked bodies), keep-alive.
import { createServer, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { answer } from './null-mcp.js';

const port = Number(process.argv[2] ?? 0);
const modern = process.argv[3] === 'modern';

const EMPTY_200 = 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n';
const ACCEPTED = 'HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n';
const NOT_ALLOWED = 'HTTP/1.1 405 Method Not Allowed\r\nallow: POST, DELETE\r\ncontent-length: 0\r\n\r\n';
const CHUNKED = 'HTTP/1.1 501 Not Implemented\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';

/** The answer to one request, whole. */
function respond(method: string, body: string): string {
  if (method === 'DELETE') return EMPTY_200;
  if (method !== 'POST') return NOT_ALLOWED;
  const text = answer(body, modern);
  if (text === undefined) return ACCEPTED; // a notification
  const session = !modern && body.includes('"initialize"') ? `mcp-session-id: ${randomUUID()}\r\n` : '';
  return `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n${session}\r\n${text}`;
}

function serve(socket: Socket): void {
  let pending: Buffer | null = null;
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    const data = pending ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    let out = '';
    for (;;) {
      const end = data.indexOf('\r\n\r\n', at);
      if (end < 0) break;
      const head = data.toString('latin1', at, end);
      if (/\r\ntransfer-encoding:/i.test(head)) return void socket.end(out + CHUNKED);
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (end + 4 + length > data.length) break;
      out += respond(head.slice(0, head.indexOf(' ')), data.toString('utf8', end + 4, end + 4 + length));
      at = end + 4 + length;
    }
    pending = at < data.length ? data.subarray(at) : null;
    if (out) socket.write(out);
  });
}

const server = createServer({ noDelay: true }, serve);
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stderr.write(`listening on ${typeof address === 'object' && address ? address.port : port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
