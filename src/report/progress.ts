// What the user sees while a run goes on, on stderr: what is about to be tested, a live progress line, and
// the rate limit test's steps. The stress tests say what happens through the RunContext; this is where it
// is written.
import type { Progress } from '../load/closedloop.js';
import type { Results, StepSummary } from '../results.js';
import { count as n, formatDuration, formatRate, wholeMB as mb } from '../format.js';
import { callName } from '../requests/build.js';

/** Live progress: one rewritten line on a terminal, a line every ~10% elsewhere. */
export function progressPrinter(stream: NodeJS.WriteStream, label: string): { update(p: Progress): void; done(): void } {
  const tty = Boolean(stream.isTTY);
  let lastTenth = -1;
  let lastRequests = 0;
  let lastSeconds = 0;
  let drawn = false;
  return {
    update(p) {
      const rate = p.seconds > lastSeconds ? (p.requests - lastRequests) / (p.seconds - lastSeconds) : 0;
      lastRequests = p.requests;
      lastSeconds = p.seconds;
      // Built only when shown: off a terminal that is once per tenth of the run.
      const line = () => `${label}: ${n(p.requests)} requests  ${n(rate)} req/s  ${mb(p.bytes)}  ${Math.round(p.fraction * 100)}%${p.note ? `  ${p.note}` : ''}`;
      if (tty) {
        stream.write(`\r\x1b[K${line()}`);
        drawn = true;
      } else {
        const tenth = Math.floor(p.fraction * 10);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          stream.write(line() + '\n');
        }
      }
    },
    done() {
      if (tty && drawn) stream.write('\r\x1b[K');
    },
  };
}

/** Before the load: which server, what will be called, how; and the notices gathered so far. */
export function announcement(o: { example: boolean; test: string }, results: Results, plan: string[]): string {
  const lines: string[] = [];
  if (o.example) {
    lines.push('No server command given: testing the bundled example time server.', `To test your own: mcp-hammer ${o.test} -- node dist/index.js`);
  }
  const what = results.calls.map(callName).join(', ');
  const [first, ...rest] = plan;
  const { name, version, protocolVersion, era } = results.server;
  const spoken = protocolVersion ? ` (MCP ${protocolVersion}${era ? `, ${era === 'modern' ? 'stateless' : 'initialize and sessions'}` : ''})` : '';
  lines.push(`${name ?? 'server'} ${version ?? ''}${spoken}: calling ${what}${first}`, ...rest);
  // Calls given the same value from the same answer, together: "read_file, get_file_info: path = "/d/a.txt" (path from list_directory)".
  const learnt = new Map<string, string[]>();
  for (const c of results.calls) {
    for (const [p, from] of Object.entries(c.learnt ?? {})) {
      const key = `${p} = ${JSON.stringify((c.arguments as Record<string, unknown>)?.[p])} (${from})`;
      learnt.set(key, [...(learnt.get(key) ?? []), callName(c)]);
    }
  }
  if (learnt.size) lines.push(`Arguments from the server's own answers: ${[...learnt].map(([what, names]) => `${names.join(', ')}: ${what}`).join('; ')}`);
  for (const w of results.warnings) lines.push(`Notice: ${w}`);
  return lines.join('\n') + '\n';
}

/** The plan of a memory or cache run: concurrency, its length, and over HTTP where and how. */
export function loadPlan(o: { concurrency: number; requests?: number; durationSeconds?: number; maxDurationSeconds: number; sse: boolean; requestsPerSession?: number;
  bothEras?: boolean; },
  results: Results): string[] {
  const set = [o.requests && `${o.requests.toLocaleString('en-US')} requests`, o.durationSeconds && `${o.durationSeconds} s`].filter(Boolean).join(' or ');
  const limit = set || `until decided (at most ${formatDuration(o.maxDurationSeconds)})`;
  const plan = [`, ${o.concurrency} in flight, ${limit}`];
  if (results.server.url) {
    const every = o.requestsPerSession?.toLocaleString('en-US');
    // 2026-07-28 has no sessions: churn is a new HTTP connection every n requests.
    const churn = o.bothEras
      ? ': 2026-07-28 clients and 2025-era session clients, half the calls each'
      : results.server.era === 'modern'
      ? every ? `, no sessions (2026-07-28): a new connection every ${every} requests` : ', no sessions (2026-07-28)'
      : every ? `, a new session every ${every} requests` : ', one session';
    plan.push(`over ${o.sse ? 'HTTP+SSE' : 'Streamable HTTP'} at ${results.server.url}${churn}`);
  }
  return plan;
}

/** The plan of a rate limit run: the ladder of rates. */
export function ratePlan(baseRate: number, top: number): string[] {
  return [`; ${formatRate(baseRate)} req/s, then doubling up to ${formatRate(top)} req/s until calls are refused`];
}

/** One phase of the rate limit test, as it ends. */
export function stepLine(kind: string, rate: number, step: StepSummary): string {
  return `  ${kind.padEnd(8)} ${formatRate(rate).padStart(6)} req/s: ${step.sent} sent, ${step.ok} ok`
    + `${step.throttled ? `, ${step.throttled} throttled` : ''}${step.errors ? `, ${step.errors} failed` : ''}`
    + `${step.unanswered ? `, ${step.unanswered} unanswered` : ''}, p95 ${step.latencyMs.p95.toFixed(1)} ms`;
}
