// The 2025-era conversation before any load: initialize, version check, and what the server offers (the
// 2026-07-28 one is in discover.ts; which of them a run holds is decided in server/negotiate.ts).
// The SDK provides the protocol versions and the schemas the answers are checked against.
import {
  InitializeResultSchema, ListToolsResultSchema,
  type InitializeResult, type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Connection, Message, Outcome } from './connection.js';
import { LEGACY_REVISION, LEGACY_REVISIONS, type Era } from './era.js';
import { VERSION } from '../version.js';
import { CannotRun } from '../errors.js';

export interface ServerInfo {
  /** The revision the run speaks, and its era. */
  protocolVersion: string;
  era: Era;
  name: string;
  version: string;
  capabilities: InitializeResult['capabilities'];
  tools: Tool[];
}

/** The server refused a step of the handshake: the sentence, and the answer it gave (to tell eras apart). */
export class Refused extends CannotRun {
  constructor(message: string, readonly outcome: Outcome) {
    super(message);
  }
}

export function answer(outcome: Outcome, what: string): Message {
  if (outcome.kind === 'timeout') throw new Refused(`the server did not answer ${what} in time`, outcome);
  if (outcome.kind !== 'answer') throw new Refused(`the server closed the connection during ${what}`, outcome);
  const msg = outcome.message;
  if (msg.error) throw new Refused(`the server refused ${what}: ${msg.error.message} (code ${msg.error.code})`, outcome);
  return msg;
}

/**
 * initialize, notifications/initialized and tools/list (every page). With `pinned` (--protocol), a server
 * that answers with another revision than the one asked for cannot be tested in it.
 */
export async function handshake(conn: Connection, revision = LEGACY_REVISION, pinned = false): Promise<ServerInfo> {
  const result = await initialize(conn, revision);
  if (!LEGACY_REVISIONS.includes(result.protocolVersion)) {
    throw new CannotRun(`the server speaks MCP protocol version ${JSON.stringify(result.protocolVersion)}, which mcp-hammer does not support (supported: ${LEGACY_REVISIONS.join(', ')})`);
  }
  if (pinned && result.protocolVersion !== revision) {
    throw new CannotRun(`the server does not support protocol revision ${revision} (--protocol): asked for it, it answered initialize with ${result.protocolVersion}`);
  }
  conn.notify('notifications/initialized');
  return {
    protocolVersion: result.protocolVersion,
    era: 'legacy',
    name: result.serverInfo.name,
    version: result.serverInfo.version,
    capabilities: result.capabilities,
    tools: result.capabilities.tools ? await listTools(conn) : [],
  };
}

/** The initialize request of a 2025-era client, and the server's answer checked against the SDK's schema. */
export async function initialize(conn: Connection, revision = LEGACY_REVISION): Promise<InitializeResult> {
  const init = answer(await conn.request('initialize', initializeParams(revision)), 'initialize');
  const parsed = InitializeResultSchema.safeParse(init.result);
  if (!parsed.success) throw new Refused('the server answered initialize with something that is not an MCP initialize result', { kind: 'answer', message: init, latencyMs: 0 });
  return parsed.data;
}

export function initializeParams(revision = LEGACY_REVISION): string {
  return JSON.stringify({
    protocolVersion: revision,
    capabilities: { roots: { listChanged: false } },
    clientInfo: { name: 'mcp-hammer', version: VERSION },
  });
}

/**
 * Every page of tools/list. In the 2026-07-28 era the connection adds the envelope, and the result's cache
 * hints (ttlMs, cacheScope) are read past: a stress test asks once and keeps the list for the run.
 */
export async function listTools(conn: Connection): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const msg = answer(await conn.request('tools/list', cursor ? JSON.stringify({ cursor }) : undefined), 'tools/list');
    const list = ListToolsResultSchema.safeParse(msg.result);
    if (!list.success) throw new CannotRun('the server answered tools/list with something that is not a tool list');
    tools.push(...list.data.tools);
    cursor = list.data.nextCursor;
    if (!cursor) break;
  }
  return tools;
}
