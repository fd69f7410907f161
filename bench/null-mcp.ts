// The answers of the benchmark's null MCP server, shared by its stdio and HTTP forms. No SDK: the server
// must cost next to nothing, so that the rate measured is the client's. Answers are built as text from
// constants; only the id changes from one answer to the next. It speaks the 2025 era (initialize), or with
// `modern` only 2026-07-28 (server/discover, results marked complete, initialize refused with -32022); it
// checks no envelope, so that it costs the same in both eras.

const TOOL = {
  name: 'echo',
  description: 'Returns its text',
  inputSchema: { type: 'object', properties: { text: { type: 'string', default: 'hello' } } },
  annotations: { readOnlyHint: true },
};
const LIST_RESULT = JSON.stringify({ tools: [TOOL] });
// The same answer the SDK benchmark server gives, so both servers send the same bytes per call.
const CALL_RESULT = JSON.stringify({ content: [{ type: 'text', text: 'hello' }] });
// A version every client of this era speaks, used when the client asks for none.
const FALLBACK_VERSION = '2025-06-18';
const MODERN = '2026-07-28';
const MODERN_LIST = JSON.stringify({ tools: [TOOL], resultType: 'complete', ttlMs: 0, cacheScope: 'private' });
const MODERN_CALL = JSON.stringify({ content: [{ type: 'text', text: 'hello' }], resultType: 'complete' });
const DISCOVER = JSON.stringify({ supportedVersions: [MODERN], capabilities: { tools: {} }, resultType: 'complete', ttlMs: 0, cacheScope: 'private',
  _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'null-server', version: '1.0.0' } } });
const REFUSED = JSON.stringify({ code: -32022, message: 'Unsupported protocol version', data: { supported: [MODERN] } });

/** The answer line (without newline) to one request line; undefined for notifications and blank lines. */
export function answer(line: string, modern = false): string | undefined {
  let msg: any;
  try {
    msg = JSON.parse(line);
  } catch {
    if (line.trim() === '') return undefined;
    return '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}';
  }
  if (msg === null || typeof msg !== 'object' || msg.id === undefined || msg.id === null || msg.method === undefined) {
    return undefined; // notifications, and answers to requests we never send
  }
  const id = typeof msg.id === 'number' ? msg.id : JSON.stringify(msg.id);
  if (modern) {
    switch (msg.method) {
      case 'tools/call': return `{"jsonrpc":"2.0","id":${id},"result":${MODERN_CALL}}`;
      case 'tools/list': return `{"jsonrpc":"2.0","id":${id},"result":${MODERN_LIST}}`;
      case 'server/discover': return `{"jsonrpc":"2.0","id":${id},"result":${DISCOVER}}`;
      case 'initialize': return `{"jsonrpc":"2.0","id":${id},"error":${REFUSED}}`;
      default: return `{"jsonrpc":"2.0","id":${id},"error":{"code":-32601,"message":"Method not found"}}`;
    }
  }
  switch (msg.method) {
    case 'tools/call': return `{"jsonrpc":"2.0","id":${id},"result":${CALL_RESULT}}`;
    case 'ping': return `{"jsonrpc":"2.0","id":${id},"result":{}}`;
    case 'tools/list': return `{"jsonrpc":"2.0","id":${id},"result":${LIST_RESULT}}`;
    case 'initialize': {
      const version = typeof msg.params?.protocolVersion === 'string' ? msg.params.protocolVersion : FALLBACK_VERSION;
      const result = { protocolVersion: version, capabilities: { tools: {} }, serverInfo: { name: 'null-server', version: '1.0.0' } };
      return `{"jsonrpc":"2.0","id":${id},"result":${JSON.stringify(result)}}`;
    }
    default: return `{"jsonrpc":"2.0","id":${id},"error":{"code":-32601,"message":"Method not found"}}`;
  }
}
