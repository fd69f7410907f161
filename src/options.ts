// The command line: options, their defaults (in one place) and checks, and the help text. A mistake is one
// sentence that says what to do (CannotRun, exit 2), before any server starts.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { CannotRun } from './errors.js';
import { checkRemote } from './server/remote.js';
import { eraOf, spoken } from './transport/era.js';
import type { ProgressLine } from './report/progress.js';
import type { Results, TestName } from './results.js';
import { VERSION } from './version.js';

export const HELP = `mcp-hammer ${VERSION}: stress tests for MCP servers

Usage:
  mcp-hammer <memory|cache|ratelimit> [options] [-- <server command> [args...]]
  mcp-hammer <memory|cache|ratelimit> --url <http://host:port/path> [options] [-- <server command> [args...]]

Tests:
  memory      does memory grow with every request? (leak test)
  cache       does memory grow with every new argument value? (unbounded cache test)
  ratelimit   does the server refuse floods quickly and let clients back in?

Options:
  --tool <name>            tool to call, repeatable (default: every tool annotated readOnlyHint: true, and
                           the server's resources and prompts)
  --args <json>            arguments for --tool (default: generated from the tool's inputSchema)
  --resource <uri>         resource to read, repeatable: a URI, or a URI template to fill
  --prompt <name>          prompt to get, repeatable; arguments generated, or given as name={"arg":"value"}
  --requests <n>           stop after n requests
  --duration <time>        stop after a time, e.g. 90s, 5m (default: when the verdict is decided; with
                           --requests, whichever first)
  --max-duration <time>    without --duration or --requests: the longest a run may take to decide (default 5m)
  --leak-size <size>       memory and cache: the smallest leak a PASS must rule out, per request (or per key),
                           e.g. 256, 4KB (default 1KB; with --requests-per-session also 16 KB per session)
  --concurrency <n>        requests in flight (default 16)
  --timeout <time>         per-request timeout (default 10s)
  --startup-timeout <time> time for the server to finish the MCP handshake (default 30s)
  --protocol <revision>    speak only this MCP revision, e.g. 2026-07-28 or 2025-06-18 (default: the newest
                           both sides speak, found with server/discover, else the 2025 initialize)
  --out <dir>              results folder (default: results)
  --json                   also print the results JSON on stdout
  --heap                   Node.js servers: watch the JS heap through the inspector (loopback only) and
                           name what grew, with the file and line that allocated it
  --vary <property>        cache: argument to make unique, repeatable (default: every string argument)
  --max-rate <n>           ratelimit: highest offered rate in requests/s
  --recovery-timeout <time> ratelimit: how long to wait for the limiter to let requests in again (default 2m)
  --url <url>              reach the server over Streamable HTTP at this address; with a command after --,
                           start it and wait until the address answers
  --sse                    with --url: the legacy HTTP+SSE transport (give the SSE endpoint, e.g. /sse)
  -H, --header <h>         with --url: "Name: value" sent on every request, repeatable; values are never shown
  --requests-per-session <n>  with --url: open a new MCP session every n requests (default: one session);
                           a 2026-07-28 server has no sessions: a new HTTP connection every n requests
  --pid <pid>              with --url: measure this already-running server process (and its descendants)
  --help, --version

Without a server command the bundled example time server is tested.
Exit status: 0 PASS, 1 FAIL, 2 the test could not run, 130 interrupted.

Example:
  mcp-hammer memory -- node dist/index.js
  mcp-hammer memory --tool search --args '{"query":"cats"}' --duration 2m -- npx -y my-mcp-server
  mcp-hammer memory --url http://127.0.0.1:3000/mcp --requests-per-session 20 -- node dist/http.js`;

const TESTS: TestName[] = ['memory', 'cache', 'ratelimit'];

export interface Options {
  test: TestName;
  command: string;
  serverArgs: string[];
  /** True when no command was given and the bundled example server runs. */
  example: boolean;
  tools: string[];
  toolArgs: string[];
  /** --resource: URIs (or templates) to read; --prompt: prompts to get, as name or name={json}. */
  resources: string[];
  prompts: string[];
  requests?: number;
  /** The run's length as the user set it; without it and --requests, the run lasts until decided. */
  durationSeconds?: number;
  /** The cap on a run that lasts until decided. */
  maxDurationSeconds: number;
  /** The smallest leak per request (per key, in the cache test) a PASS must rule out. */
  leakBytesPerRequest: number;
  concurrency: number;
  timeoutMs: number;
  startupMs: number;
  out: string;
  json: boolean;
  /** Watch the server's JavaScript heap through the Node.js inspector. */
  heap: boolean;
  vary: string[];
  maxRate?: number;
  recoveryTimeoutMs: number;
  /** Over HTTP (see server/remote.ts): the address, the transport, -H headers as given, churn, a running process. */
  url?: string;
  sse: boolean;
  headers: string[];
  requestsPerSession?: number;
  pid?: number;
  /** --protocol: the one MCP revision to speak (default: negotiated, see server/negotiate.ts). */
  protocol?: string;
}

/** What a stress test is given besides its options: the signal to stop, and where to say what happens. */
export interface RunContext {
  signal: AbortSignal;
  /** Say, before the load starts, what is about to be tested (the plan: how it will be loaded). */
  announce(results: Results, plan: string[]): void;
  /** A live progress line for one phase of the load. */
  progress(label: string): ProgressLine;
  /** One line on what the run is doing (the rate limit test's steps, the heap probe). */
  say(line: string): void;
}

const DEFAULTS = {
  'max-duration': '5m', 'leak-size': '1KB', concurrency: '16', timeout: '10s', 'startup-timeout': '30s', out: 'results', 'recovery-timeout': '2m',
};

/** "90s", "5m", "1h", "500ms" or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms'] : NaN;
  if (!(ms > 0)) throw new CannotRun(`--${name} must be a time such as 90s, 5m or 500ms (got '${text}')`);
  return ms;
}

/** "1KB", "512", "2.5 MB" (K and M count in 1024s), in bytes. */
export function parseSize(text: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib)?$/i.exec(text.trim());
  const unit = (m?.[2] ?? 'b').toLowerCase()[0];
  const bytes = m ? Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1) : NaN;
  if (!(bytes >= 1)) throw new CannotRun(`--${name} must be a size such as 256, 1KB or 4KB (got '${text}')`);
  return bytes;
}

function parseCount(text: string, name: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new CannotRun(`--${name} must be a whole number of at least 1 (got '${text}')`);
  }
  return n;
}

export function parseOptions(argv: string[]): Options | 'help' | 'version' {
  const dashdash = argv.indexOf('--');
  const own = dashdash === -1 ? argv : argv.slice(0, dashdash);
  const serverCommand = dashdash === -1 ? [] : argv.slice(dashdash + 1);
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      allowPositionals: true,
      options: {
        tool: { type: 'string', multiple: true, default: [] },
        args: { type: 'string', multiple: true, default: [] },
        resource: { type: 'string', multiple: true, default: [] },
        prompt: { type: 'string', multiple: true, default: [] },
        requests: { type: 'string' },
        duration: { type: 'string' },
        'max-duration': { type: 'string', default: DEFAULTS['max-duration'] },
        'leak-size': { type: 'string', default: DEFAULTS['leak-size'] },
        concurrency: { type: 'string', default: DEFAULTS.concurrency },
        timeout: { type: 'string', default: DEFAULTS.timeout },
        'startup-timeout': { type: 'string', default: DEFAULTS['startup-timeout'] },
        out: { type: 'string', default: DEFAULTS.out },
        json: { type: 'boolean', default: false },
        heap: { type: 'boolean', default: false },
        vary: { type: 'string', multiple: true, default: [] },
        'max-rate': { type: 'string' },
        'recovery-timeout': { type: 'string', default: DEFAULTS['recovery-timeout'] },
        url: { type: 'string' },
        sse: { type: 'boolean', default: false },
        header: { type: 'string', short: 'H', multiple: true, default: [] },
        'requests-per-session': { type: 'string' },
        pid: { type: 'string' },
        protocol: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (err) {
    throw new CannotRun(`${(err as Error).message.split('\n')[0].replace(/\. To specify.*$/, '')}; see mcp-hammer --help`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (v.version) return 'version';
  const [test, ...extra] = parsed.positionals;
  if (!test) throw new CannotRun('name a test: mcp-hammer memory, cache or ratelimit (see mcp-hammer --help)');
  if (!TESTS.includes(test as TestName)) throw new CannotRun(`unknown test '${test}'; choose memory, cache or ratelimit`);
  if (extra.length) throw new CannotRun(`unexpected argument '${extra[0]}'; put the server command after --, e.g. mcp-hammer ${test} -- node server.js`);
  if (v.heap && test === 'ratelimit') throw new CannotRun('--heap works with the memory and cache tests, not ratelimit');
  const requests = v.requests === undefined ? undefined : parseCount(v.requests, 'requests');
  const durationMs = v.duration === undefined ? undefined : parseDuration(v.duration, 'duration');
  const maxRate = v['max-rate'] === undefined ? undefined : parseCount(v['max-rate'], 'max-rate');
  const pid = v.pid === undefined ? undefined : parseCount(v.pid, 'pid');
  const requestsPerSession = v['requests-per-session'] === undefined ? undefined : parseCount(v['requests-per-session'], 'requests-per-session');
  checkRemoteArgs(test, v, serverCommand.length > 0);
  checkProtocol(v.protocol, v.sse);
  const example = serverCommand.length === 0 && v.url === undefined;
  return {
    test: test as TestName,
    command: example ? process.execPath : serverCommand[0] ?? '',
    serverArgs: example ? [fileURLToPath(new URL('../examples/time-server.js', import.meta.url))] : serverCommand.slice(1),
    example,
    tools: v.tool,
    toolArgs: v.args,
    resources: v.resource,
    prompts: v.prompt,
    requests,
    durationSeconds: durationMs === undefined ? undefined : durationMs / 1000,
    maxDurationSeconds: parseDuration(v['max-duration'], 'max-duration') / 1000,
    leakBytesPerRequest: parseSize(v['leak-size'], 'leak-size'),
    concurrency: parseCount(v.concurrency, 'concurrency'),
    timeoutMs: parseDuration(v.timeout, 'timeout'),
    startupMs: parseDuration(v['startup-timeout'], 'startup-timeout'),
    out: v.out,
    json: v.json,
    heap: v.heap,
    vary: v.vary,
    maxRate,
    recoveryTimeoutMs: parseDuration(v['recovery-timeout'], 'recovery-timeout'),
    url: v.url,
    sse: v.sse,
    headers: v.header,
    requestsPerSession,
    pid,
    protocol: v.protocol,
  };
}

/** --protocol names a revision mcp-hammer speaks, on a transport that can carry it. */
function checkProtocol(revision: string | undefined, sse: boolean): void {
  if (revision === undefined) return;
  const era = eraOf(revision);
  if (!era) throw new CannotRun(`--protocol must be an MCP revision mcp-hammer speaks: ${spoken()} (got '${revision}')`);
  if (era === 'modern' && sse) throw new CannotRun(`--sse is the 2024-11-05 HTTP+SSE transport, which cannot carry ${revision}; drop --sse for Streamable HTTP`);
}

/** The HTTP options go together: each needs --url, and memory and cache need the server's process. */
function checkRemoteArgs(test: string, v: { url?: string; sse: boolean; header: string[]; pid?: string; 'requests-per-session'?: string }, command: boolean): void {
  const needsUrl = [v.sse && '--sse', v.header.length && '-H', v.pid !== undefined && '--pid', v['requests-per-session'] !== undefined && '--requests-per-session'].filter(Boolean);
  if (v.url === undefined) {
    if (needsUrl.length) throw new CannotRun(`${needsUrl[0]} needs --url: it is for servers reached over HTTP`);
    return;
  }
  if (command && v.pid !== undefined) throw new CannotRun('give a server command after -- or --pid, not both');
  if (!command && v.pid === undefined && test !== 'ratelimit') {
    throw new CannotRun(`the ${test} test measures the server's memory, so it needs its process: put the command that starts it after -- (e.g. --url ${v.url} -- node server.js) or give the running server's --pid`);
  }
  checkRemote({ url: v.url, sse: v.sse, headers: v.header });
}
