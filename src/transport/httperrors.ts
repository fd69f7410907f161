// What went wrong below MCP when talking to a server over HTTP, as one sentence that says what to do:
// nothing listening, a name that does not resolve, TLS, a wrong path, an HTML page, missing credentials.
// Pure functions; the connection keeps the first such sentence and the handshake shows it (exit 2).
import { STATUS_CODES } from 'node:http';

/** Where the server is, for messages: the URL without its query (which may carry a token). */
export function where(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Errors that mean the server cannot be reached at all, rather than one request failing. */
export const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

const CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT/;

export function networkProblem(url: URL, err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  const host = url.host;
  if (code === 'ECONNREFUSED') return `nothing is listening at ${url.origin} (connection refused): is the server running, and on that port?`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot find the host '${url.hostname}' (DNS lookup failed): check the address in --url`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ETIMEDOUT') return `cannot reach ${host} (${code}): check the address in --url`;
  if (CERTIFICATE.test(code)) {
    return `the TLS certificate of ${host} is not trusted (${code}); for a private certificate authority, point NODE_EXTRA_CA_CERTS at its certificate file`;
  }
  if (code === 'EPROTO' || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
    return `the TLS handshake with ${host} failed (${code}): does the server speak plain http? then use an http:// URL`;
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/.test(err.message)) {
    return `the server at ${url.origin} closed the connection without an HTTP answer: is it an HTTP server${url.protocol === 'http:' ? ' (or does it expect https://)' : ''}?`;
  }
  return `cannot talk to ${url.origin}: ${code || err.message}`;
}

/** A refusal (non-2xx) of the request that opens the session. */
export function statusProblem(url: URL, status: number, text: string, o: { sse: boolean; method: string; headerNames: string[] }): string {
  const got = `${status} ${STATUS_CODES[status] ?? ''}`.trim();
  if (status === 404) {
    return `the server answered ${got} for ${where(url)}: is the MCP endpoint path right (often /mcp${o.sse ? ', or /sse for HTTP+SSE' : '; /sse with --sse for an HTTP+SSE (2024-11-05) server'})?`;
  }
  if (status === 401 || status === 403) {
    const names = o.headerNames.length ? `check the header${o.headerNames.length > 1 ? 's' : ''} given with -H (${o.headerNames.join(', ')})` : `give credentials with -H, e.g. -H 'Authorization: Bearer <token>'`;
    return `the server refused access (${got}) at ${where(url)}: ${names}`;
  }
  if (status === 405 && o.method === 'POST') {
    return `the server does not accept POST at ${where(url)} (${got}): for an HTTP+SSE (2024-11-05) server add --sse and give its SSE endpoint`;
  }
  if (o.method === 'GET' && status >= 400 && status < 500) {
    return `the server would not open an event stream at ${where(url)} (${got}${text ? `: ${text}` : ''}): is it an HTTP+SSE endpoint (often /sse)? for a Streamable HTTP server drop --sse`;
  }
  const said = text ? `: ${text}` : '';
  return `the server answered ${got} at ${where(url)} when the session was opened${said}`;
}

/** A 2xx answer that is neither JSON nor an event stream (or, for --sse, not an event stream). */
export function typeProblem(url: URL, type: string, o: { sse: boolean }): string {
  if (/html/i.test(type)) {
    return `the server at ${where(url)} answered with an HTML page, not MCP: is the path right (often /mcp${o.sse ? ', or /sse for HTTP+SSE' : ''})?`;
  }
  if (o.sse) {
    return `the server at ${where(url)} did not open an event stream (content type ${type || 'none'}): is it an HTTP+SSE endpoint? for Streamable HTTP drop --sse`;
  }
  return `the server at ${where(url)} answered with content type ${type || 'none'}, not JSON or an event stream: is it an MCP endpoint?`;
}

/** The readable part of an error body: a JSON-RPC or JSON error message, or the start of the text. */
export function bodyText(text: string): string {
  try {
    const body = JSON.parse(text);
    const message = body?.error?.message ?? body?.error ?? body?.message;
    if (typeof message === 'string') return message.slice(0, 200);
  } catch {
    // not JSON
  }
  return /<html|<!doctype/i.test(text) ? 'an HTML page' : text.replace(/\s+/g, ' ').trim().slice(0, 200);
}
