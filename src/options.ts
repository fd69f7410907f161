// The command line: options, their defaults (in one place) and checks, and the help text. A mistake is one
// sentence that says what to do (CannotRun, exit 2), before any server starts.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { CannotRun } from './errors.js';
import { checkRemote } from './server/remote.js';
import { eraOf, spoken } from './transport/era.js';
import type { TestName } from './results.js';
import { VERSION } from './version.js';
import { parseMix, POLITE, type Mix } from './clients/mix.js';

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
  --heap                   Node.js and Python servers: name what grew, with the file and line that
                           allocated it
  --no-inspector           Node.js servers: judge the process memory alone, without the heap after forced
                           GCs read through the inspector (loopback only; on by default: decides sooner)
  --vary <property>        cache: argument to make unique, repeatable (default: every string argument)
  --max-rate <n>           ratelimit: highest offered rate in requests/s
  --recovery-timeout <time> ratelimit: how long to wait for the limiter to let requests in again (default 2m)
  --url <url>              reach the server over Streamable HTTP at this address; with a command after --,
                           start it and wait until the address answers
  --sse                    with --url: the HTTP+SSE transport of 2024-11-05 (give the SSE endpoint, e.g. /sse)
  -H, --header <h>         with --url: "Name: value" sent on every request, repeatable; values are never shown
  --clients <mix>          memory: what the clients do besides calling (default: sessions=4,churn=50,length=5,
                           abandon=60,drop=10,cancel=3,hangup=2,refused=1; polite: one session, nothing else)
  --session-timeout <time> memory, with --url: the server frees a session left idle this long (e.g. 30m), too
                           long for the run to see: memory held for abandoned sessions is then bounded
  --requests-per-session <n>  with --url: polite clients, a new MCP session every n requests, each ended with
                           DELETE; a 2026-07-28 server has no sessions: a new HTTP connection every n requests
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
  /** The folder for the results file; none: no file (the library's default). */
  out?: string;
  json: boolean;
  /** --heap: name what grew in a Node.js server's heap (snapshots, allocation tracking) or a Python server's (tracemalloc). */
  heap: boolean;
  /** Read a Node.js server's heap after forced GCs through its inspector, as evidence (--no-inspector: not). */
  inspector: boolean;
  /** What the clients do besides calling (--clients). */
  clients: Mix;
  /** --session-timeout: the idle time after which the user says the server frees a session. */
  sessionTimeoutSeconds?: number;
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

/**
 * The options as a user gives them, named as the command line's flags in camelCase: what the library takes
 * (src/index.ts), and what the command line's flags are read into. Times are '90s', '5m', '500ms' or a
 * number of seconds; sizes '4KB', '256' or a number of bytes; repeatable flags take one value or a list.
 */
export interface UserOptions {
  /** The command that starts the server, e.g. ['node', 'dist/index.js']; with neither it nor url, the bundled example server. */
  command?: string[];
  tool?: string | string[];
  args?: string | string[];
  resource?: string | string[];
  prompt?: string | string[];
  requests?: number | string;
  duration?: number | string;
  maxDuration?: number | string;
  leakSize?: number | string;
  concurrency?: number | string;
  timeout?: number | string;
  startupTimeout?: number | string;
  protocol?: string;
  /** A folder to write the results file into (the command line's default: results). */
  out?: string;
  heap?: boolean;
  /** Node.js servers started by mcp-hammer: read the heap after forced GCs through the inspector (default true). */
  inspector?: boolean;
  /** The memory test's client mix, as --clients takes it ('polite', or key=value pairs over the default). */
  clients?: string;
  /** The idle time after which the server frees a session (--session-timeout), when the run cannot wait for it. */
  sessionTimeout?: number | string;
  vary?: string | string[];
  maxRate?: number | string;
  recoveryTimeout?: number | string;
  url?: string;
  sse?: boolean;
  /** "Name: value" headers sent on every request over HTTP (-H); their values are never shown or written. */
  header?: string | string[];
  requestsPerSession?: number | string;
  pid?: number | string;
}

/** The command line read into a test's name and the user's options; or help, or version. */
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
        tool: { type: 'string', multiple: true },
        args: { type: 'string', multiple: true },
        resource: { type: 'string', multiple: true },
        prompt: { type: 'string', multiple: true },
        requests: { type: 'string' },
        duration: { type: 'string' },
        'max-duration': { type: 'string' },
        'leak-size': { type: 'string' },
        concurrency: { type: 'string' },
        timeout: { type: 'string' },
        'startup-timeout': { type: 'string' },
        out: { type: 'string', default: DEFAULTS.out },
        json: { type: 'boolean', default: false },
        heap: { type: 'boolean' },
        'no-inspector': { type: 'boolean' },
        clients: { type: 'string' },
        'session-timeout': { type: 'string' },
        vary: { type: 'string', multiple: true },
        'max-rate': { type: 'string' },
        'recovery-timeout': { type: 'string' },
        url: { type: 'string' },
        sse: { type: 'boolean' },
        header: { type: 'string', short: 'H', multiple: true },
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
  const user: UserOptions = {
    command: serverCommand.length ? serverCommand : undefined,
    tool: v.tool, args: v.args, resource: v.resource, prompt: v.prompt, requests: v.requests, duration: v.duration,
    maxDuration: v['max-duration'], leakSize: v['leak-size'], concurrency: v.concurrency, timeout: v.timeout,
    startupTimeout: v['startup-timeout'], protocol: v.protocol, out: v.out, heap: v.heap, inspector: v['no-inspector'] ? false : undefined, clients: v.clients, sessionTimeout: v['session-timeout'], vary: v.vary, maxRate: v['max-rate'],
    recoveryTimeout: v['recovery-timeout'], url: v.url, sse: v.sse, header: v.header, requestsPerSession: v['requests-per-session'], pid: v.pid,
  };
  return { ...resolveOptions(test as TestName, user), json: v.json };
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const text = (v: number | string | undefined, fallback: string): string => (v === undefined ? fallback : String(v));

/**
 * A user's options checked and completed with the defaults, for the command line and the library alike.
 * A mistake is one sentence that says what to do (CannotRun), before any server starts.
 */
export function resolveOptions(test: TestName, o: UserOptions): Options {
  if (!TESTS.includes(test)) throw new CannotRun(`unknown test '${test}'; choose memory, cache or ratelimit`);
  if (o.heap && test === 'ratelimit') throw new CannotRun('--heap works with the memory and cache tests, not ratelimit');
  if (o.sessionTimeout !== undefined && (test !== 'memory' || o.url === undefined)) throw new CannotRun('--session-timeout works with the memory test over HTTP (--url)');
  if (o.clients !== undefined && test !== 'memory') throw new CannotRun('--clients works with the memory test; the cache and rate limit tests load as one polite client');
  if (o.clients !== undefined && o.requestsPerSession !== undefined) {
    throw new CannotRun('--requests-per-session makes polite clients that end every session with DELETE; give it or --clients, not both');
  }
  const count = (v: number | string | undefined, name: string) => (v === undefined ? undefined : parseCount(String(v), name));
  const durationMs = o.duration === undefined ? undefined : parseDuration(String(o.duration), 'duration');
  const command = o.command ?? [];
  const headers = list(o.header);
  checkRemoteArgs(test, { url: o.url, sse: o.sse ?? false, header: headers, pid: o.pid === undefined ? undefined : String(o.pid),
    'requests-per-session': o.requestsPerSession === undefined ? undefined : String(o.requestsPerSession) }, command.length > 0);
  checkProtocol(o.protocol, o.sse ?? false);
  const example = command.length === 0 && o.url === undefined;
  return {
    test,
    command: example ? process.execPath : command[0] ?? '',
    serverArgs: example ? [fileURLToPath(new URL('../examples/time-server.js', import.meta.url))] : command.slice(1),
    example,
    tools: list(o.tool),
    toolArgs: list(o.args),
    resources: list(o.resource),
    prompts: list(o.prompt),
    requests: count(o.requests, 'requests'),
    durationSeconds: durationMs === undefined ? undefined : durationMs / 1000,
    maxDurationSeconds: parseDuration(text(o.maxDuration, DEFAULTS['max-duration']), 'max-duration') / 1000,
    leakBytesPerRequest: parseSize(text(o.leakSize, DEFAULTS['leak-size']), 'leak-size'),
    concurrency: parseCount(text(o.concurrency, DEFAULTS.concurrency), 'concurrency'),
    timeoutMs: parseDuration(text(o.timeout, DEFAULTS.timeout), 'timeout'),
    startupMs: parseDuration(text(o.startupTimeout, DEFAULTS['startup-timeout']), 'startup-timeout'),
    out: o.out,
    json: false,
    heap: o.heap ?? false,
    inspector: o.inspector ?? true,
    // The cache and rate limit tests, and churn with --requests-per-session, load as polite clients.
    clients: test === 'memory' && o.requestsPerSession === undefined ? parseMix(o.clients) : { ...POLITE },
    sessionTimeoutSeconds: o.sessionTimeout === undefined ? undefined : parseDuration(String(o.sessionTimeout), 'session-timeout') / 1000,
    vary: list(o.vary),
    maxRate: count(o.maxRate, 'max-rate'),
    recoveryTimeoutMs: parseDuration(text(o.recoveryTimeout, DEFAULTS['recovery-timeout']), 'recovery-timeout'),
    url: o.url,
    sse: o.sse ?? false,
    headers,
    requestsPerSession: count(o.requestsPerSession, 'requests-per-session'),
    pid: count(o.pid, 'pid'),
    protocol: o.protocol,
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
