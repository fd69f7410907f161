// The 2026-07-28 conversation before any load: server/discover, with the envelope, tells whether the server
// speaks a modern revision mcp-hammer speaks too, and what it offers; then tools/list. There is no
// handshake: every later request carries the envelope (the connection adds it). What the answer to
// server/discover means follows the official client's reading: a DiscoverResult naming a revision we
// speak is the modern era; anything else (an error, a 2025 server's "method not found" or "not
// initialized", no answer) sends the caller to the 2025 handshake, keeping what the server said for the
// sentence the user gets if that fails too.
import type { Connection, Message, Outcome } from './connection.js';
import { listTools, type ServerInfo } from './handshake.js';
import { modernSdk, mutual, MODERN_REVISIONS } from './era.js';

export type Probe =
  | { kind: 'modern'; revision: string; result: any }
  | {
    kind: 'legacy';
    outcome: Outcome;
    /** The revisions the server said it supports (in a DiscoverResult, or in a -32022 error's data). */
    offered?: string[];
    /** The server refused mcp-hammer's envelope or headers: its words, for the user. */
    rejected?: string;
    /** It answered with a DiscoverResult: a modern server, with no revision in common. */
    discovered: boolean;
  };

/** server/discover, its envelope added by the connection. */
export async function discover(conn: Connection): Promise<Probe> {
  return readProbe(await conn.request('server/discover'));
}

export async function readProbe(outcome: Outcome): Promise<Probe> {
  const k = await modernSdk();
  if (outcome.kind !== 'answer') return { kind: 'legacy', outcome, discovered: false };
  const msg = outcome.message;
  const error = outcome.http?.error ?? msg.error;
  if (!error && (outcome.http === undefined || outcome.http.status < 300)) {
    if (!k.isSpecType.DiscoverResult(msg.result)) return { kind: 'legacy', outcome, discovered: false };
    const offered: string[] = msg.result.supportedVersions;
    const revision = mutual(MODERN_REVISIONS, offered);
    return revision ? { kind: 'modern', revision, result: msg.result } : { kind: 'legacy', outcome, offered, discovered: true };
  }
  if (!error) return { kind: 'legacy', outcome, discovered: false };
  // With another modern revision in data.supported the official client retries once with it; mcp-hammer
  // speaks one modern revision, which the server has just refused, so there is nothing to retry with.
  if (error.code === k.ProtocolErrorCode.UnsupportedProtocolVersion) {
    return { kind: 'legacy', outcome, offered: supportedIn(error), discovered: false };
  }
  return { kind: 'legacy', outcome, rejected: envelopeRejection(error), discovered: false };
}

/** data.supported of a -32022 error: the revisions the server speaks. */
export function supportedIn(error: Message['error']): string[] | undefined {
  const s = (error?.data as { supported?: unknown } | undefined)?.supported;
  return Array.isArray(s) && s.every((v) => typeof v === 'string') ? s : undefined;
}

/**
 * Words that mean a modern server refused the envelope or the headers (invalid params naming _meta or the
 * envelope, or -32020, a header mismatch), rather than a 2025 server not knowing server/discover.
 */
function envelopeRejection(error: NonNullable<Message['error']>): string | undefined {
  const headerMismatch = -32020; // the SDK's ProtocolErrorCode has no member for it
  if (error.code === headerMismatch || /_meta|envelope|MCP-Protocol-Version|Mcp-Method|Mcp-Name/i.test(error.message)) {
    return `${JSON.stringify(error.message.slice(0, 200))} (code ${error.code})`;
  }
  return undefined;
}

/** What a modern server offers: from its DiscoverResult, and tools/list through the envelope. */
export async function modernInfo(conn: Connection, revision: string, result: any): Promise<ServerInfo> {
  const k = await modernSdk();
  const serverInfo = result._meta?.[k.SERVER_INFO_META_KEY];
  const capabilities = result.capabilities ?? {};
  return {
    protocolVersion: revision,
    era: 'modern',
    name: typeof serverInfo?.name === 'string' ? serverInfo.name : 'server',
    version: typeof serverInfo?.version === 'string' ? serverInfo.version : '',
    capabilities,
    tools: capabilities.tools ? await listTools(conn) : [],
  };
}
