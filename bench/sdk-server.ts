// The benchmark's SDK-built MCP server on stdio: one trivial read-only tool, as a typical server's
// fastest call. Here the server, not the client, should be the limit.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'bench-sdk-server', version: '1.0.0' });
server.registerTool('echo', {
  description: 'Returns its text',
  inputSchema: { text: z.string().default('hello') },
  annotations: { readOnlyHint: true },
}, async ({ text }) => ({ content: [{ type: 'text', text }] }));

await server.connect(new StdioServerTransport());
process.stdin.on('end', () => process.exit(0));
