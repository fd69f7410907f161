// Streamable HTTP as 2026-07-28 speaks it: stateless. No initialize, no Mcp-Session-Id, no DELETE; every
// POST carries the envelope in its params' `_meta` and names its revision and method in headers
// (MCP-Protocol-Version, Mcp-Method, and Mcp-Name for the methods that act on one named thing), which the
// server checks against the body. Params and headers are built once per call, not per request.
import type http from 'node:http';
import { connectHttp, type HttpConnection, type HttpOptions } from './http.js';
import { newSession, type Flavour } from './httpstate.js';
import { perCall, withMeta, type Envelope } from './era.js';

/** Where a method's Mcp-Name header comes from (absent for the list methods and server/discover). */
const NAMED_BY: Record<string, 'name' | 'uri'> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

export function connectStateless(o: HttpOptions, e: Envelope): Promise<HttpConnection> {
  let frameFor: ((method: string, paramsJson: string | undefined) => { params: string | undefined; options: http.RequestOptions }) | undefined;
  const flavour: Flavour = {
    sse: false,
    stateless: true,
    answersOnStream: false,
    open: (h) => newSession(h, h.url.pathname + h.url.search),
    started() {},
    end() {},
    frame(_h, s, method, paramsJson) {
      // One session object for the connection's life: its options are the base of every call's.
      frameFor ??= perCall((m, p) => {
        const headers: Record<string, string> = { ...(s.post.headers as Record<string, string>), 'mcp-protocol-version': e.revision, 'mcp-method': m };
        const name = mcpName(m, p);
        if (name !== undefined) headers['mcp-name'] = name;
        return { params: withMeta(p, e.meta), options: { ...s.post, headers } };
      });
      return frameFor(method, paramsJson);
    },
  };
  return connectHttp(o, flavour);
}

/** The Mcp-Name header of a call: the tool or prompt name, or the resource URI, encoded for a header. */
export function mcpName(method: string, paramsJson: string | undefined): string | undefined {
  const key = NAMED_BY[method];
  if (!key || paramsJson === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(paramsJson)?.[key];
  } catch {
    return undefined;
  }
  if (typeof value !== 'string') return undefined;
  // Printable ASCII without surrounding blanks goes as it is; anything else as base64 of its UTF-8.
  return /^[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?$/.test(value) ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}
