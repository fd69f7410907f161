// The two eras of MCP that mcp-hammer speaks, and what a request of each carries. The 2025 revisions
// ("legacy" in the SDK's words): an initialize handshake, then sessions. 2026-07-28 ("modern"): stateless,
// every request naming its protocol revision, client and capabilities in a `_meta` envelope, and over HTTP
// in headers too. The constants come from the official SDKs: the 2025 revisions from
// @modelcontextprotocol/sdk (1.x, whose schemas check the handshake), the envelope's keys and the error codes
// from @modelcontextprotocol/client (2.x). The 2.x package is imported only when a run starts: it costs about
// 0.1 s, paid while the server starts, and --version or --help never pays it.
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import type { ProtocolEra } from '@modelcontextprotocol/client';
import { VERSION } from '../version.js';

export type Era = ProtocolEra;

/**
 * The modern revisions mcp-hammer speaks, newest first. No package exports "2026-07-28" as a value: the
 * 2.x SDK keeps its list of modern revisions internal (its exported LATEST_PROTOCOL_VERSION and
 * SUPPORTED_PROTOCOL_VERSIONS are the 2025 ones), and names 2026-07-28 only in a type. The nearest
 * official source at run time is the server's own server/discover answer (supportedVersions), which is
 * what the era is chosen from.
 */
export const MODERN_REVISIONS: readonly string[] = ['2026-07-28'];
/** The 2025-era revisions, newest first, and the one asked for by default. */
export const LEGACY_REVISIONS: readonly string[] = SUPPORTED_PROTOCOL_VERSIONS;
export const LEGACY_REVISION: string = LATEST_PROTOCOL_VERSION;

export function eraOf(revision: string): Era | undefined {
  return MODERN_REVISIONS.includes(revision) ? 'modern' : LEGACY_REVISIONS.includes(revision) ? 'legacy' : undefined;
}

/** Every revision mcp-hammer speaks, for messages: "2026-07-28, 2025-11-25, 2025-06-18, ...". */
export function spoken(): string {
  return [...MODERN_REVISIONS, ...LEGACY_REVISIONS].join(', ');
}

/** The newest of our revisions that the server also names, if any. */
export function mutual(ours: readonly string[], theirs: unknown): string | undefined {
  return Array.isArray(theirs) ? ours.find((r) => theirs.includes(r)) : undefined;
}

type Sdk2 = typeof import('@modelcontextprotocol/client');
let sdk2: Promise<Sdk2> | undefined;

/** The 2.x SDK, imported once, on first use (start it early: it loads while the server starts). */
export function modernSdk(): Promise<Sdk2> {
  return (sdk2 ??= import('@modelcontextprotocol/client'));
}

/** What every request of the modern era carries: its revision, and the `_meta` object as JSON. */
export interface Envelope {
  revision: string;
  meta: string;
}

/**
 * The envelope for a revision. mcp-hammer declares no client capabilities: it answers no input requests
 * (elicitation, sampling, roots), so a server that needs one says so (input_required, or -32021) rather
 * than waiting for an answer that never comes.
 */
export async function envelope(revision: string): Promise<Envelope> {
  const k = await modernSdk();
  return {
    revision,
    meta: JSON.stringify({
      [k.PROTOCOL_VERSION_META_KEY]: revision,
      [k.CLIENT_INFO_META_KEY]: { name: 'mcp-hammer', version: VERSION },
      [k.CLIENT_CAPABILITIES_META_KEY]: {},
    }),
  };
}

/**
 * The params with the envelope spliced in as `_meta`. Params are a JSON object serialised once per call
 * (calls.ts, flood.ts): the envelope goes in before its closing brace, without parsing it again.
 */
export function withMeta(paramsJson: string | undefined, meta: string): string {
  if (paramsJson === undefined) return `{"_meta":${meta}}`;
  const body = paramsJson.trimEnd();
  const close = body.length - 1;
  if (body[0] !== '{' || body[close] !== '}') return paramsJson; // not an object: sent as it is, the server says what it thinks
  return /^\{\s*\}$/.test(body) ? `{"_meta":${meta}}` : `${body.slice(0, close)},"_meta":${meta}}`;
}

/**
 * A few calls' worth of text built once each: the load rotates through its calls, so a cache of one would
 * rebuild on every request of a run with several tools. Looked up by the method and the params text, which
 * is the same string object every time the same call is sent (compared by identity first).
 */
export function perCall<T>(build: (method: string, paramsJson: string | undefined) => T, size = 8): (method: string, paramsJson: string | undefined) => T {
  const methods: string[] = [];
  const params: (string | undefined)[] = [];
  const built: T[] = [];
  let next = 0;
  return (method, paramsJson) => {
    for (let i = 0; i < built.length; i++) {
      if (params[i] === paramsJson && methods[i] === method) return built[i];
    }
    const value = build(method, paramsJson);
    methods[next] = method;
    params[next] = paramsJson;
    built[next] = value;
    next = (next + 1) % size;
    return value;
  };
}
