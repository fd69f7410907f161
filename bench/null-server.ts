// The benchmark's null MCP server on stdio: newline-delimited JSON-RPC, every request answered at once,
// one write per chunk read (a client that batches its requests gets its answers batched too).
import { answer } from './null-mcp.js';

let partial = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text: string) => {
  const lines = (partial + text).split('\n');
  partial = lines.pop()!;
  let out = '';
  for (const line of lines) {
    const a = answer(line);
    if (a !== undefined) out += a + '\n';
  }
  if (out) process.stdout.write(out);
});
process.stdin.on('end', () => process.exit(0));
