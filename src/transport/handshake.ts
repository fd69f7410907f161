// The MCP conversation before any load: initialize, version check, and what the server offers.
// The SDK provides the protocol versions and the schemas the answers are checked against.
import {
  InitializeResultSchema, LATEST_PROTOCOL_VERSION, ListToolsResultSchema, SUPPORTED_PROTOCOL_VERSIONS,
  type InitializeResult, type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Connection, Message, Outcome } from './connection.js';
import { VERSION } from '../version.js';
import { CannotRun } from '../errors.js';

export interface ServerInfo {
  protocolVersion: string;
  name: string;
  version: string;
  capabilities: InitializeResult['capabilities'];
  tools: Tool[];
}

function answer(outcome: Outcome, what: string): Message {
  if (outcome.kind === 'timeout') throw new CannotRun(`the server did not answer ${what} in time`);
  if (outcome.kind === 'closed') throw new CannotRun(`the server closed the connection during ${what}`);
  const msg = outcome.message;
  if (msg.error) throw new CannotRun(`the server refused ${what}: ${msg.error.message} (code ${msg.error.code})`);
  return msg;
}

/** initialize, notifications/initialized and tools/list (every page). */
export async function handshake(conn: Connection): Promise<ServerInfo> {
  const init = answer(await conn.request('initialize', JSON.stringify({
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: { roots: { listChanged: false } },
    clientInfo: { name: 'mcp-hammer', version: VERSION },
  })), 'initialize');
  const parsed = InitializeResultSchema.safeParse(init.result);
  if (!parsed.success) throw new CannotRun('the server answered initialize with something that is not an MCP initialize result');
  const result = parsed.data;
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(result.protocolVersion)) {
    throw new CannotRun(`the server speaks MCP protocol version ${JSON.stringify(result.protocolVersion)}, which mcp-hammer does not support (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`);
  }
  conn.notify('notifications/initialized');
  const tools: Tool[] = [];
  if (result.capabilities.tools) {
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const msg = answer(await conn.request('tools/list', cursor ? JSON.stringify({ cursor }) : undefined), 'tools/list');
      const list = ListToolsResultSchema.safeParse(msg.result);
      if (!list.success) throw new CannotRun('the server answered tools/list with something that is not a tool list');
      tools.push(...list.data.tools);
      cursor = list.data.nextCursor;
      if (!cursor) break;
    }
  }
  return {
    protocolVersion: result.protocolVersion,
    name: result.serverInfo.name,
    version: result.serverInfo.version,
    capabilities: result.capabilities,
    tools,
  };
}
