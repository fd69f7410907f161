// Handle counts alone: the judge on synthetic and recorded series (the same verdict every time), the
// merge with the memory verdict, the Handles line, and the counting itself against real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readRecorded } from '../helpers/recorded.js';
import { formatPerRequest, judgeHandles, withHandles, type HandlePoint } from '../../src/judge/handles.js';
import { countHandles, kindOf } from '../../src/sampling/handles.js';
import { handlesLine } from '../../src/report/handles.js';
import { judgeRun, type Judged, type RunFacts } from '../../src/judge/run.js';
import { memoryTrend } from '../../src/judge/trend.js';
import type { HandleCounts, HandleKind, HandlesSection } from '../../src/results.js';

type Counts = Partial<Record<HandleKind, number>>;
const BASE = { files: 1, sockets: 3, pipes: 9, other: 6, threads: 11, processes: 1 };

/** 48 floors over total requests, each count BASE plus what f gives at that many requests. */
function series(total: number, f: (r: number, i: number) => Counts, extra: Partial<HandleCounts> = {}): HandlePoint[] {
  return Array.from({ length: 48 }, (_, k) => {
    const requests = Math.round((total * (k + 1)) / 48);
    return [requests, { ...BASE, ...f(requests, k), ...extra }];
  });
}

test('handles: flat counts are no leak', () => {
  const h = judgeHandles(series(300_000, () => ({})));
  assert.equal(h.leaking, false);
  assert.equal(h.growing, false);
  assert.equal(h.warmingUp, false);
  assert.deepEqual(h.reasons, []);
  assert.equal(h.kinds.files.shape, 'flat');
});

test('handles: a socket per 100 requests is a leak, named with its rate and counts', () => {
  const h = judgeHandles(series(412_000, (r) => ({ sockets: 3 + Math.floor(r / 100) })));
  assert.equal(h.leaking, true);
  assert.equal(h.kinds.sockets.leaking, true);
  assert.equal(h.kinds.files.leaking, false);
  assert.equal(h.reasons.length, 1);
  assert.match(h.reasons[0], /^open sockets grow with requests: \+1 per 100 requests, [\d,]+ -> 4,123 over [\d,]+ requests$/);
});

test('handles: one handle per 500 requests, slow, is a leak once beyond the jitter', () => {
  const wobble = (i: number) => ((i * 7919) % 5) - 2; // -2..2
  const h = judgeHandles(series(400_000, (r, i) => ({ files: 20 + Math.floor(r / 500) + wobble(i) })));
  assert.equal(h.kinds.files.leaking, true);
  assert.match(h.reasons[0], /open files grow with requests: \+1 per 500 requests/);
});

test('handles: a pool that fills and stops is not a leak, in warm-up or after it', () => {
  const inWarmup = judgeHandles(series(300_000, (r) => ({ sockets: 3 + Math.min(10, Math.floor(r / 500)) })));
  assert.equal(inWarmup.leaking, false);
  assert.equal(inWarmup.kinds.sockets.shape, 'flat');
  // Filling slowly after warm-up, to 20, then never more.
  const late = judgeHandles(series(300_000, (r) => ({ sockets: 3 + Math.max(0, Math.min(20, Math.floor((r - 80_000) / 4000))) })));
  assert.equal(late.leaking, false, late.reasons.join('; '));
  assert.equal(late.kinds.sockets.shape, 'levels off');
});

test('handles: a thread pool started once (Node: 7 -> 11 threads), late in the run, is not a leak', () => {
  for (const at of [100_000, 200_000, 280_000]) {
    const h = judgeHandles(series(300_000, (r) => ({ threads: r < at ? 7 : 11 })));
    assert.equal(h.leaking, false, `step at ${at}`);
  }
  // Even a larger step (a second process's pool, say) is one rise, not a climb.
  assert.equal(judgeHandles(series(300_000, (r) => ({ threads: r < 250_000 ? 7 : 23 }))).leaking, false);
});

test('handles: a count that wobbles is not a leak, nor still growing', () => {
  const h = judgeHandles(series(300_000, (_, i) => ({ threads: 11 + ((i * 31) % 7) - 3, other: 6 + (i % 2) })));
  assert.equal(h.leaking, false);
  assert.equal(h.kinds.threads.shape, 'flat');
});

test('handles: child processes name the newest, and what grows with them in the same sentence', () => {
  const h = judgeHandles(series(150_000, (r) => {
    const kids = Math.floor(r / 1000);
    return { processes: 1 + kids, threads: 11 + kids, files: 1 + 3 * kids };
  }, { newest: ['sleep', 'sleep', 'sleep'] }));
  assert.equal(h.kinds.processes.leaking, true);
  assert.equal(h.reasons.length, 1);
  assert.match(h.reasons[0], /^child processes grow with requests: \+1 per 1,000 requests, \d+ -> 151 over [\d,]+ requests \(newest: sleep\); threads, open files grow with them$/);
});

test('handles: growth with headroom: how close the descriptor limit is', () => {
  const h = judgeHandles(series(200_000, (r) => ({ files: 1 + Math.floor(r / 20) }), { mostFds: 10_020, fdLimit: 20_000 }));
  assert.match(h.reasons[0], /one process holds 10,020 descriptors of the 20,000 it may open \(full in ~200,000 more requests at this rate\)/);
});

test('handles: EMFILE in the answers is said as the likely cause, even with counts capped from the start', () => {
  const h = judgeHandles(series(120_000, () => ({ files: 238 }), { mostFds: 256, fdLimit: 256 }),
    { emfile: { text: "open /tmp/x/held.txt after 237 kept: EMFILE: too many open files, open '/tmp/x/held.txt'", where: 'answers' } });
  assert.equal(h.leaking, true);
  assert.equal(h.kinds.files.leaking, true);
  assert.match(h.reasons[0], /^the server ran out of file descriptors: 256 open in one process, its limit is 256 \(238 open files in the tree\); EMFILE in its answers \("EMFILE: too many open files/);
  assert.match(h.reasons[0], /likely cause/);
});

test('handles: too few floors after warm-up: warming up, nothing established', () => {
  const h = judgeHandles(series(300_000, (r) => ({ files: Math.floor(r / 20) })).slice(0, 6));
  assert.equal(h.warmingUp, true);
  assert.equal(h.leaking, false);
  assert.equal(h.kinds.files.shape, 'too short');
});

test('handles: a climb too small to call yet is "growing", for the stopping rule', () => {
  // +1 per 10,000 requests over 80,000: 6 after warm-up, under the 8 a leak needs.
  const h = judgeHandles(series(80_000, (r) => ({ processes: 1 + Math.floor(r / 10_000) })));
  assert.equal(h.leaking, false);
  assert.equal(h.growing, true);
  assert.equal(h.kinds.processes.growing, true);
});

test('handles: cheap enough to judge after every block', () => {
  const long: HandlePoint[] = Array.from({ length: 600 }, (_, i) => [i * 1000, { ...BASE, files: i, sockets: 3 + (i % 5), threads: 11 + (i % 3) }]);
  const started = performance.now();
  for (let i = 0; i < 5; i++) judgeHandles(long);
  const ms = (performance.now() - started) / 5;
  assert.ok(ms < 100, `${ms.toFixed(1)} ms per call on 600 floors`);
});

test('handles: the rate reads as people say it', () => {
  assert.equal(formatPerRequest(0.01), '+1 per 100 requests');
  assert.equal(formatPerRequest(1 / 98.7), '+1 per 99 requests');
  assert.equal(formatPerRequest(1 / 1003), '+1 per 1,000 requests');
  assert.equal(formatPerRequest(1 / 20.4), '+1 per 20 requests');
  assert.equal(formatPerRequest(1), '+1 per request');
  assert.equal(formatPerRequest(2.54), '+2.5 per request');
});

test('handles: a leak makes PASS a FAIL, adds to a FAIL, decides an undecided run; interrupted stays', () => {
  const leak = judgeHandles(series(412_000, (r) => ({ sockets: 3 + Math.floor(r / 100) })));
  const judged = (verdict: Judged['verdict'], reasons: string[]): Judged => ({ verdict, reasons, warnings: ['w'] });
  assert.deepEqual(withHandles(judged('pass', []), leak), { verdict: 'fail', reasons: leak.reasons, warnings: ['w'] });
  assert.deepEqual(withHandles(judged('fail', ['memory grows']), leak).reasons, ['memory grows', ...leak.reasons]);
  const undecided = withHandles(judged('error', ['cannot tell a leak from a heap still settling']), leak);
  assert.equal(undecided.verdict, 'fail');
  assert.deepEqual(undecided.warnings, ['cannot tell a leak from a heap still settling', 'w']);
  assert.equal(withHandles(judged('interrupted', ['interrupted']), leak).verdict, 'interrupted');
  const clean = judgeHandles(series(300_000, () => ({})));
  assert.deepEqual(withHandles(judged('pass', []), clean), judged('pass', []));
  assert.deepEqual(withHandles(judged('pass', []), null), judged('pass', []));
});

test('handles: a run stopped at a handle leak before memory had a trend does not ask for a longer run', () => {
  const leak = judgeHandles(series(412_000, (r) => ({ files: 1 + Math.floor(r / 50) })));
  const short = memoryTrend(Array.from({ length: 6 }, (_, i) => ({ requests: (i + 1) * 30_000, bytes: 60e6, seconds: (i + 1) / 2 })));
  assert.equal(short.shape, 'too short');
  const facts = (stopReason: RunFacts['stopReason']): RunFacts => ({
    requests: 200_000, ok: 200_000, errorCount: 0, errorSamples: [], stopReason, timeoutMs: 10_000, durationSeconds: 5,
    requestsPerSecond: 40_000, stderrTail: [], overHttp: false,
  });
  const stopped = withHandles(judgeRun(facts('decided'), short, () => ({ pass: true, reasons: [] })), leak);
  assert.equal(stopped.verdict, 'fail');
  assert.deepEqual(stopped.reasons, leak.reasons);
  assert.match(stopped.warnings[0], /^memory was not judged: the run stopped once decided, \d+ blocks after warm-up, too few for a trend$/);
  // A run the user cut short is still told to run longer.
  assert.match(judgeRun(facts('duration'), short, () => ({ pass: true, reasons: [] })).reasons[0], /give a longer --duration/);
});

/** A recorded series: [requests, files, sockets, pipes, other, threads, processes] per floor, and the last floor's extras. */
function recorded(name: string): { series: HandlePoint[]; emfile?: { text: string; where: 'answers' | 'stderr' } } {
  const r = readRecorded(`handles-${name}`);
  const series: HandlePoint[] = r.series.map(([requests, files, sockets, pipes, other, threads, processes]: number[]) =>
    [requests, { files, sockets, pipes, other, threads, processes }]);
  Object.assign(series.at(-1)![1], r.last);
  return { series, emfile: r.emfile && { text: r.emfile, where: 'answers' } };
}

for (const [name, kind] of [['file-leak', 'files'], ['socket-leak', 'sockets'], ['child-leak', 'processes'], ['emfile', 'files']] as const) {
  test(`handles, recorded: ${name} leaks ${kind}`, () => {
    const { series: s, emfile } = recorded(name);
    const h = judgeHandles(s, { emfile });
    assert.equal(h.kinds[kind].leaking, true);
    assert.equal(h.reasons.length, 1, h.reasons.join('; '));
  });
}

for (const name of ['clean', 'clean-file', 'pool']) {
  test(`handles, recorded: ${name} does not leak`, () => {
    const h = judgeHandles(recorded(name).series);
    assert.equal(h.leaking, false, h.reasons.join('; '));
    assert.equal(h.warmingUp, false);
  });
}

test('handles: the line under the memory lines', () => {
  const kinds = (f: (k: HandleKind) => Partial<HandlesSection['kinds'][HandleKind]>) => Object.fromEntries(
    (['files', 'sockets', 'pipes', 'other', 'threads', 'processes'] as HandleKind[]).map((k) => [k,
      { start: BASE[k], end: BASE[k], perRequest: 0, jitter: 0, shape: 'flat', leaking: false, series: [], ...f(k) }]),
  ) as HandlesSection['kinds'];
  const section = (k: HandlesSection['kinds']): HandlesSection => ({
    kinds: k, warmupRequests: 20_000, mostFds: 19, fdLimit: 20_000, newest: [], outlived: [], costMs: { median: 0.3, max: 1 },
  });
  assert.equal(handlesLine(section(kinds(() => ({})))), 'Handles: 1 file, 3 sockets, 9 pipes, 11 threads, 1 process: flat');
  assert.equal(handlesLine(section(kinds((k) => (k === 'sockets' ? { start: 12, end: 4130, shape: 'rising', leaking: true } : {})))),
    'Handles: 1 file, 12 -> 4,130 sockets, 9 pipes, 11 threads, 1 process: sockets rising');
  assert.equal(handlesLine(section(kinds((k) => (k === 'files' ? { start: 238, end: 238, leaking: true } : {})))),
    'Handles: 238 files, 3 sockets, 9 pipes, 11 threads, 1 process: files at the descriptor limit');
  assert.equal(handlesLine(section(kinds((k) => (k === 'threads' ? { start: 7, end: 11, shape: 'levels off' } : {})))),
    'Handles: 1 file, 3 sockets, 9 pipes, 7 -> 11 threads, 1 process: threads levels off');
});

test('handles: kinds from the link targets /proc gives', () => {
  assert.equal(kindOf('/tmp/x (deleted)'), 'files');
  assert.equal(kindOf('/dev/null'), 'files');
  assert.equal(kindOf('socket:[123]'), 'sockets');
  assert.equal(kindOf('pipe:[123]'), 'pipes');
  assert.equal(kindOf('anon_inode:[eventfd]'), 'other');
  assert.equal(kindOf('anon_inode:inotify'), 'other');
});

/** A real `node -e` process holding what the script opens; resolves once the script calls ready(). */
async function holder(script: string): Promise<{ pid: number; end: () => void }> {
  const child = spawn(process.execPath, ['-e', `const ready = () => console.log('ready'); ${script}; setInterval(() => {}, 1000);`],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { if (d.includes('ready')) resolve(); });
    child.once('exit', () => reject(new Error('the holder exited')));
  });
  return { pid: child.pid!, end: () => child.kill('SIGKILL') };
}

/** Opens n descriptors of one temporary file (removed at once; the descriptors keep it). */
const openFiles = (n: number) => `const fs = require('fs'), file = require('path').join(require('os').tmpdir(), 'handles-test-' + process.pid);
  fs.writeFileSync(file, 'x'); globalThis.kept = [];
  for (let i = 0; i < ${n}; i++) kept.push(fs.openSync(file, 'r'));
  fs.unlinkSync(file);`;

test('handles: counted on real processes, by kind, and the tester keeps no descriptor of theirs', { skip: process.platform !== 'linux' }, async () => {
  const plain = await holder('ready()');
  const busy = await holder(`${openFiles(40)}
    for (let i = 0; i < 5; i++) kept.push(require('child_process').spawn('sleep', ['30'], { stdio: 'ignore' }));
    const net = require('net');
    let accepted = 0;
    const server = net.createServer((s) => { kept.push(s); if (++accepted === 10) setTimeout(ready, 200); });
    server.listen(0, '127.0.0.1', () => { for (let i = 0; i < 10; i++) kept.push(net.connect(server.address().port, '127.0.0.1')); })`);
  try {
    const before = countHandles([process.pid]).mostFds;
    const a = countHandles([plain.pid]);
    const b = countHandles([busy.pid]);
    assert.equal(a.processes, 1);
    assert.ok(a.threads >= 5, `threads ${a.threads}`);
    assert.equal(b.files - a.files, 40, `files ${a.files} -> ${b.files}`);
    // The listener, 10 client ends and 10 accepted ones.
    assert.equal(b.sockets - a.sockets, 21, `sockets ${a.sockets} -> ${b.sockets}`);
    assert.ok(b.fdLimit !== null && b.fdLimit > 40);
    assert.equal(b.unreadable, 0);
    // The tree as the sampler gives it: the holder and its five sleeps, newest last.
    const kids = readFileSync(`/proc/${busy.pid}/task/${busy.pid}/children`, 'latin1').trim().split(' ').map(Number);
    const tree = countHandles([busy.pid, ...kids]);
    assert.equal(tree.processes, 6);
    assert.deepEqual(tree.newest, ['sleep', 'sleep', 'sleep']);
    assert.equal(tree.threads, b.threads + 5);
    // A process that has gone is left out, not an error.
    assert.equal(countHandles([busy.pid, 4_194_304 + 1]).processes, 1);
    assert.equal(countHandles([process.pid]).mostFds, before, 'counting leaves the tester no descriptor open');
  } finally {
    plain.end();
    busy.end();
  }
});

test('handles: thousands of descriptors are counted exactly, their kinds from a sample, in a few ms', { skip: process.platform !== 'linux' }, async () => {
  const many = await holder(`${openFiles(6000)} ready()`);
  try {
    countHandles([many.pid]);
    const c = countHandles([many.pid]);
    assert.ok(c.files >= 6000 && c.files <= 6010, `files ${c.files}`);
    assert.ok(c.mostFds >= 6010, `listed ${c.mostFds}`);
    // Node's own pipes have low numbers, all read.
    assert.ok(c.pipes >= 2 && c.pipes <= 12, `pipes ${c.pipes}: the low descriptors are read one by one`);
    assert.ok(c.ms < 60, `${c.ms} ms`);
  } finally {
    many.end();
  }
});
