// Which era of MCP a run speaks, found the way a current client finds it: server/discover with the
// 2026-07-28 envelope first, and the 2025 initialize handshake when that is not answered as a modern server
// answers it. --protocol pins one revision, so that a server serving both eras can be tested on each path.
//
// stdio: one process serves one era, fixed by its first messages. The probe goes to the process under
// test: a modern server (and a dual one, the SDK v2's default) is then pinned to the modern era, which is
// what the run wants; a 2025 server answers "method not found" and takes initialize on the same process.
// A server that cannot take initialize after the probe (one that exits on an unknown request, or that the
// probe pinned to an era it then refuses) is restarted, and the new process hand-shaken without a probe.
// A server that leaves server/discover unanswered is sent initialize after PATIENCE_MS.
// HTTP: every request stands alone, so a failed probe costs nothing; the fallback is a 2025 connection.
import type { Connection, Outcome } from '../transport/connection.js';
import { CannotRun } from '../errors.js';
import { envelope, eraOf, LEGACY_REVISION, modernSdk, MODERN_REVISIONS, spoken } from '../transport/era.js';
import { discover, modernInfo, supportedIn, type Probe } from '../transport/discover.js';
import { handshake, initializeParams, Refused, type ServerInfo } from '../transport/handshake.js';

/** How long server/discover may go unanswered on stdio before the 2025 handshake is tried as well. */
export const PATIENCE_MS = 10_000;

export interface Negotiated {
  info: ServerInfo;
  /** Said to the user with the run's warnings: a restart, a fallback, the path of a dual server not tested. */
  notices: string[];
}

/** The notice of a run in the modern era on stdio, where whether the server serves 2025 clients too is unknown. */
const OTHER_PATH_STDIO = 'the 2026-07-28 path was tested; if the server also serves 2025-era clients '
  + '(SDK v2 and Python mcp 2.x servers do by default), --protocol 2025-11-25 tests that path';

export async function negotiateStdio(conn: Connection, o: { protocol?: string; restart: () => Promise<Connection> }): Promise<Negotiated & { conn: Connection }> {
  const pinned = o.protocol;
  if (pinned && eraOf(pinned) === 'legacy') {
    return { conn, notices: [], info: await legacyOrSay(conn, pinned, undefined) };
  }
  const e = await envelope(pinned ?? MODERN_REVISIONS[0]);
  conn.setEnvelope!(e);
  const probing = discover(conn);
  const probe = (await Promise.race([probing, sleep(pinned ? Infinity : PATIENCE_MS)])) ?? null;
  if (probe?.kind === 'modern') {
    return { conn, notices: pinned ? [] : [OTHER_PATH_STDIO], info: await modernInfo(conn, probe.revision, probe.result) };
  }
  if (pinned) throw new CannotRun(notModern(pinned, probe!));
  conn.setEnvelope!(undefined);
  if (probe === null) {
    // No answer yet: a server that ignores unknown requests, or one slow to start. initialize goes to the same
    // process; whichever era answers decides (a dual server that reads both is pinned by the initialize).
    const init = handshake(conn).then((info) => ({ info }), (err: unknown) => ({ err }));
    const first = await init;
    if ('info' in first) {
      return { conn, info: first.info, notices: [`server/discover went unanswered for ${PATIENCE_MS / 1000} s, so the server was tested in the 2025 era (--protocol 2026-07-28 waits for it)`] };
    }
    const late = await probing;
    if (late.kind === 'modern') {
      conn.setEnvelope!(e);
      return { conn, notices: [OTHER_PATH_STDIO], info: await modernInfo(conn, late.revision, late.result) };
    }
    return restartAfter(late, first.err, o.restart);
  }
  try {
    return { conn, notices: [], info: await handshake(conn) };
  } catch (err) {
    return restartAfter(probe, err, o.restart);
  }
}

/**
 * initialize failed on the process that was probed. If the process is gone, or the probe may have pinned it
 * (it answered server/discover, and then refused the 2025 handshake as unsupported), a new one is started
 * and hand-shaken without a probe; otherwise the server has refused both eras, and the user is told so.
 */
async function restartAfter(probe: Probe & { kind: 'legacy' }, err: unknown, restart: () => Promise<Connection>): Promise<Negotiated & { conn: Connection }> {
  if (!(err instanceof Refused)) throw err;
  const gone = err.outcome.kind !== 'answer';
  if (!gone && !(probe.discovered && (await refusedVersion(err.outcome)))) {
    const both = await neither(probe, err);
    throw both ? new CannotRun(both) : err;
  }
  const conn = await restart();
  const info = await legacyOrSay(conn, undefined, probe);
  return {
    conn, info,
    notices: [`the server was restarted for the 2025 handshake: the first process, asked server/discover first, `
      + `${gone ? 'closed the connection' : 'then refused initialize'}; the run measures the second`],
  };
}

/** The 2025 handshake, its refusal told in the words of the eras. */
async function legacyOrSay(conn: Connection, pinned: string | undefined, probe: Probe | undefined): Promise<ServerInfo> {
  try {
    return await handshake(conn, pinned ?? LEGACY_REVISION, pinned !== undefined);
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    if (pinned && (await refusedVersion(err.outcome))) {
      const offered = supportedIn(refusal(err.outcome));
      throw new CannotRun(`the server does not serve protocol revision ${pinned} (--protocol): it refused initialize with ${said(err.outcome)}`
        + `${offered ? `; it speaks ${offered.join(', ')}: drop --protocol, or pin one of those` : ''}`);
    }
    const both = probe?.kind === 'legacy' ? await neither(probe, err) : undefined;
    // Otherwise the handshake's own refusal, which over HTTP gives way to what went wrong below MCP.
    throw both ? new CannotRun(both) : err;
  }
}

// ---- HTTP ----

export interface HttpWays<C extends Connection> {
  /** A 2026-07-28 connection (stateless.ts) with this revision's envelope, and a 2025 one (streamable.ts). */
  modern(revision: string): Promise<C>;
  legacy(): Promise<C>;
  /** The sentence of a failure below MCP (a 404, nothing listening), if one happened on the connection. */
  problem(conn: C): string | undefined;
  end(conn: C): Promise<void>;
}

/** The notice of a 2026-07-28 run on a server that also serves 2025-era clients, when that path went untested. */
export const LEGACY_UNTESTED = 'the server also serves 2025-era clients (it answered initialize); that path was not tested: --protocol 2025-11-25 tests it';

/**
 * alsoLegacy: the server also serves 2025-era clients with sessions; it opens such a connection, its
 * handshake done (the memory test's client mix puts session clients beside the 2026-07-28 ones).
 */
export async function negotiateHttp<C extends Connection>(ways: HttpWays<C>, o: { protocol?: string; sse: boolean }):
  Promise<Negotiated & { conn: C; alsoLegacy?: () => Promise<C> }> {
  const pinned = o.protocol;
  if (o.sse || (pinned && eraOf(pinned) === 'legacy')) {
    const conn = await ways.legacy();
    const info = await belowMcp(ways, conn, () => legacyOrSay(conn, pinned, undefined));
    // The other path of a dual server, asked once: every request stands alone over HTTP.
    const notices = !o.sse && (await answersDiscover(ways)) ? ['the server also speaks 2026-07-28 (it answered server/discover); its modern path was not tested: drop --protocol to test it'] : [];
    return { conn, info, notices };
  }
  const modern = await ways.modern(pinned ?? MODERN_REVISIONS[0]);
  modern.setTimeoutMs(Math.min(PATIENCE_MS, 30_000));
  const probe = await discover(modern);
  if (probe.kind === 'modern') {
    const info = await belowMcp(ways, modern, () => modernInfo(modern, probe.revision, probe.result));
    const legacy = await servesLegacy(ways);
    const notices = legacy ? [LEGACY_UNTESTED] : [];
    if (legacy !== 'sessions') return { conn: modern, info, notices };
    const alsoLegacy = async () => {
      const conn = await ways.legacy();
      await belowMcp(ways, conn, () => legacyOrSay(conn, undefined, undefined));
      return conn;
    };
    return { conn: modern, info, notices, alsoLegacy };
  }
  const problem = ways.problem(modern);
  await ways.end(modern);
  if (pinned) throw new CannotRun(problem && !probe.offered && !probe.rejected ? problem : notModern(pinned, probe));
  const conn = await ways.legacy();
  return { conn, notices: [], info: await belowMcp(ways, conn, () => legacyOrSay(conn, undefined, probe)) };
}

/** A handshake whose plain failures are told as what went wrong below MCP, when something did. */
async function belowMcp<C extends Connection>(ways: HttpWays<C>, conn: C, step: () => Promise<ServerInfo>): Promise<ServerInfo> {
  try {
    return await step();
  } catch (err) {
    const problem = ways.problem(conn);
    await ways.end(conn);
    throw err instanceof Refused && problem ? new CannotRun(problem) : err;
  }
}

async function answersDiscover<C extends Connection>(ways: HttpWays<C>): Promise<boolean> {
  const conn = await ways.modern(MODERN_REVISIONS[0]);
  try {
    return (await discover(conn)).kind === 'modern';
  } finally {
    await ways.end(conn);
  }
}

/** Whether the server serves 2025-era clients too, and whether with sessions (an Mcp-Session-Id) or each request alone. */
async function servesLegacy<C extends Connection>(ways: HttpWays<C>): Promise<false | 'sessions' | 'stateless'> {
  const conn = await ways.legacy();
  try {
    const outcome = await conn.request('initialize', initializeParams());
    if (outcome.kind !== 'answer' || outcome.message.error || typeof outcome.message.result?.protocolVersion !== 'string') return false;
    return conn.stats.sessions?.stateless ? 'stateless' : 'sessions';
  } finally {
    await ways.end(conn); // DELETE, if it handed out a session
  }
}

// ---- sentences ----

function refusal(outcome: Outcome) {
  return outcome.kind === 'answer' ? outcome.http?.error ?? outcome.message.error : undefined;
}

async function refusedVersion(outcome: Outcome): Promise<boolean> {
  return refusal(outcome)?.code === (await modernSdk()).ProtocolErrorCode.UnsupportedProtocolVersion;
}

function said(outcome: Outcome): string {
  if (outcome.kind === 'timeout') return 'no answer in time';
  if (outcome.kind !== 'answer') return 'the connection closed';
  const e = refusal(outcome);
  return e ? `${JSON.stringify(e.message.slice(0, 200))} (code ${e.code})` : 'an answer that is not a DiscoverResult';
}

/** --protocol named a modern revision the server does not speak. */
function notModern(revision: string, probe: Probe & { kind: 'legacy' }): string {
  if (probe.rejected) return `the server rejected mcp-hammer's ${revision} request envelope: ${probe.rejected}`;
  if (probe.offered) return `the server does not support protocol revision ${revision} (--protocol): it offers ${probe.offered.join(', ') || 'none'}`;
  return `the server does not speak protocol revision ${revision} (--protocol): it answered server/discover with ${said(probe.outcome)}; drop --protocol to test it in the era it speaks`;
}

/** Both eras refused: what the server said to each, in one sentence (undefined: the refusal says it all). */
async function neither(probe: Probe & { kind: 'legacy' }, err: Refused): Promise<string | undefined> {
  if (probe.rejected) return `the server rejected mcp-hammer's ${MODERN_REVISIONS[0]} request envelope: ${probe.rejected}; and the 2025 handshake: ${err.message}`;
  const offered = probe.offered ?? ((await refusedVersion(err.outcome)) ? supportedIn(refusal(err.outcome)) : undefined);
  if (offered && !offered.some((r) => eraOf(r))) {
    return `the server supports neither era mcp-hammer speaks: it offers ${offered.join(', ') || 'none'}; mcp-hammer speaks ${spoken()}`;
  }
  if (offered?.some((r) => eraOf(r) === 'modern')) {
    return `the server speaks ${offered.join(', ')} (it said so refusing initialize), but answered server/discover with ${said(probe.outcome)}`;
  }
  return undefined;
}

function sleep(ms: number): Promise<undefined> {
  return new Promise((r) => {
    if (Number.isFinite(ms)) setTimeout(() => r(undefined), ms).unref();
  });
}
