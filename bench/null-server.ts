// The benchmark's null MCP server on stdio: newline-delimited JSON-RPC, every request answered at once,
// one write per chunk read (a client that batches its requests gets its answers batched too).
// Usage: null-server.js [modern]
import { answer } from './null-mcp.js';

const modern = process.argv[2] === 'modern';
let partial = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text: string) => {
  const lines = (partial + text).split('\n');
  partial = lines.pop()!;
  let out = '';
  for (const line of lines) {
    const a = answer(line, modern);
    if (a !== undefined) out += a + '\n';
  }
  if (out) process.stdout.write(out);
});
process.stdin.on('end', () => process.exit(0));
