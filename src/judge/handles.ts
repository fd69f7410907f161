// Pure: the handle counts of the server's tree at each block floor in, per kind a trend and a verdict out,
// with the sentences a FAIL gives. Cheap enough to run after every block on the series so far.
//
// The rule, in plain words: warm-up is left out as for memory. Counts do not saw-tooth as memory does (a
// descriptor is open or it is not), so after warm-up a count that keeps climbing with the requests is a
// leak however slowly it climbs, once the climb is clearly beyond the count's own jitter: the Theil-Sen fit
// predicts at least 8 more handles (and 4 times the jitter), the count reached new highs in at least 4
// blocks, 2 of them in the second half, and the second half climbed at half the first half's pace or more.
// A pool that fills up and stops, a thread pool started once (Node: 7 -> 11 threads), a count that
// wobbles: none of those keeps reaching new highs, so none is a leak.
import { DEFAULT_BUDGETS, type Point } from './trend.js';
import { fitLine, median, scatterAbout, theilSen, thin } from './stats.js';
import type { Judged } from './run.js';
import type { HandleCounts, HandleKind, HandleKindSection, HandleShape } from '../results.js';
import { count as n } from '../format.js';

/** The kinds, in the order a FAIL names them (a process brings threads and descriptors with it). */
export const HANDLE_KINDS: HandleKind[] = ['processes', 'threads', 'files', 'sockets', 'pipes', 'other'];
const FD_KINDS: HandleKind[] = ['files', 'sockets', 'pipes', 'other'];

/** One floor: [requests, counts]; counts beyond the six kinds (limits, names) are optional. */
export type HandlePoint = [number, Pick<HandleCounts, HandleKind> & Partial<HandleCounts>];

export interface HandleRules {
  /**
   * Warm-up: this share of the blocks at least, and at least warmupRequests (up to 3/4). Counts do not
   * saw-tooth, so a fixed share serves: what settles (a thread pool starting its threads, a connection pool
   * filling) does so in the first few hundred requests; the recorded pools and thread pools settle well
   * inside 5,000.
   */
  warmupFraction: number;
  warmupRequests: number;
  /** Fewest floors after warm-up for a verdict. */
  minBlocks: number;
  /** Fewest handles of growth after warm-up (by the fit) that can be called a leak... */
  minGrowth: number;
  /** ...and at least this many times the count's jitter (robust scatter about the fit). */
  jitterTimes: number;
  /** Fewest floors after warm-up at which the count reached a new high. */
  minRises: number;
}

export const HANDLE_RULES: HandleRules = {
  warmupFraction: 0.25,
  warmupRequests: 5_000,
  minBlocks: DEFAULT_BUDGETS.minBlocks,
  minGrowth: 8,
  jitterTimes: 4,
  minRises: 4,
};

export interface HandleJudgeOptions extends Partial<HandleRules> {
  /** Where the server said it ran out of descriptors: an EMFILE line from its answers or its stderr. */
  emfile?: { text: string; where: 'answers' | 'stderr' };
}

/** One kind judged: the fields its section in the results holds (but the series), and what the verdict needs. */
export interface KindJudged extends Omit<HandleKindSection, 'series'> {
  kind: HandleKind;
  /** Still climbing but not (yet) enough to call: a longer run could establish a leak. */
  growing: boolean;
  /** Requests from the end of warm-up to the last floor. */
  measuredRequests: number;
}

export interface HandlesJudged {
  kinds: Record<HandleKind, KindJudged>;
  /** Some kind leaks (or the server ran out of descriptors). */
  leaking: boolean;
  /** Too few floors after warm-up to judge any trend yet. */
  warmingUp: boolean;
  /** Some kind still climbs without being a leak yet. */
  growing: boolean;
  /** One sentence per finding, for the verdict. */
  reasons: string[];
  warmupBlocks: number;
  warmupRequests: number;
}

function judgeKind(kind: HandleKind, points: Point[], warmupBlocks: number, r: HandleRules): KindJudged {
  const measured = points.slice(Math.max(0, warmupBlocks - 1));
  const span = measured.length ? measured.at(-1)!.requests - measured[0].requests : 0;
  const judged: KindJudged = {
    kind, start: measured[0]?.bytes ?? 0, end: points.at(-1)?.bytes ?? 0, perRequest: 0, jitter: 0,
    shape: 'too short', leaking: false, growing: false, measuredRequests: span,
  };
  // The baseline floor and at least minBlocks after it.
  if (measured.length <= r.minBlocks || span <= 0) return judged;
  const values = measured.map((p) => p.bytes);
  if (Math.max(...values) === Math.min(...values)) return { ...judged, shape: 'flat' };

  // Thinned so that a long run stays cheap to judge after every block.
  const fit = thin(measured, 150);
  const line = fitLine(fit);
  const slope = line.slope;
  const jitter = scatterAbout(fit, line);
  const half = measured.length >> 1;
  const early = theilSen(thin(measured.slice(0, half + 1), 100));
  const late = theilSen(thin(measured.slice(half), 100));
  const lateSpan = measured.at(-1)!.requests - measured[half].requests;
  // New highs: a pool filling up reaches its size and stops; jitter comes back down; a leak keeps going.
  let high = values[0];
  let rises = 0;
  let lateRises = 0;
  values.forEach((v, i) => {
    if (v <= high) return;
    high = v;
    rises++;
    if (i >= half) lateRises++;
  });
  const significant = Math.max(r.minGrowth, r.jitterTimes * jitter);
  const growth = slope * span;
  const stillClimbing = late > 0 && late >= 0.5 * early;
  const leaking = growth >= significant && late * lateSpan >= significant / 2 && stillClimbing
    && rises >= r.minRises && lateRises >= 2;
  const rose = Math.max(growth, median(values.slice(half)) - values[0]) >= significant;
  const shape: HandleShape = leaking ? 'rising' : rose && !stillClimbing ? 'levels off' : 'flat';
  const growing = !leaking && stillClimbing && lateRises >= 1 && growth > 0;
  return { ...judged, perRequest: slope, jitter, shape, leaking, growing };
}

/**
 * The handle verdict on the floors so far (requests ascending). Pure and cheap: the stopping rule may
 * call it after every block.
 */
export function judgeHandles(series: HandlePoint[], o: HandleJudgeOptions = {}): HandlesJudged {
  const r: HandleRules = { ...HANDLE_RULES, ...o };
  const len = series.length;
  const byShare = Math.ceil(len * r.warmupFraction);
  const byCount = series.findIndex(([requests]) => requests >= r.warmupRequests) + 1 || len;
  const warmupBlocks = Math.min(len, Math.max(byShare, Math.min(byCount, Math.floor(len * 0.75))));
  const kinds = {} as Record<HandleKind, KindJudged>;
  for (const kind of HANDLE_KINDS) {
    kinds[kind] = judgeKind(kind, series.map(([requests, c]) => ({ requests, bytes: c[kind] })), warmupBlocks, r);
  }
  const last = series.at(-1)?.[1];
  const reasons = leakSentences(kinds, last);
  if (o.emfile) {
    const kind = emfileKind(kinds, series);
    reasons.push(emfileSentence(kind, kinds[kind], last, o.emfile));
    kinds[kind] = { ...kinds[kind], leaking: true };
  }
  const all = Object.values(kinds);
  return {
    kinds,
    leaking: all.some((k) => k.leaking),
    warmingUp: len - warmupBlocks < r.minBlocks,
    growing: all.some((k) => k.growing),
    reasons,
    warmupBlocks,
    warmupRequests: series[Math.max(0, warmupBlocks - 1)]?.[0] ?? 0,
  };
}

const NAMES: Record<HandleKind, string> = {
  processes: 'child processes', threads: 'threads', files: 'open files', sockets: 'open sockets', pipes: 'open pipes',
  other: 'other open descriptors (events, timers, watches)',
};

/** "+1 per 100 requests", or "+3 per request" when faster than one a request. */
export function formatPerRequest(perRequest: number): string {
  if (perRequest >= 0.67) return `+${perRequest >= 10 ? Math.round(perRequest) : Math.round(perRequest * 10) / 10} per request`;
  const per = 1 / perRequest;
  const digits = 10 ** Math.max(0, Math.floor(Math.log10(per)) - 1);
  return `+1 per ${n(Math.round(per / digits) * digits)} requests`;
}

function growthClause(k: KindJudged): string {
  return `${formatPerRequest(k.perRequest)}, ${n(k.start)} -> ${n(k.end)} over ${n(k.measuredRequests)} requests`;
}

/** Room left under the descriptor limit, for a growing descriptor kind. */
function headroom(k: KindJudged, last: HandlePoint[1] | undefined): string {
  if (!last?.fdLimit || !last.mostFds || !FD_KINDS.includes(k.kind)) return '';
  const left = (last.fdLimit - last.mostFds) / k.perRequest;
  const when = left > 0 ? ` (full in ~${n(Number(left.toPrecision(2)))} more requests at this rate)` : '';
  return `; one process holds ${n(last.mostFds)} descriptors of the ${n(last.fdLimit)} it may open${when}`;
}

function leakSentences(kinds: Record<HandleKind, KindJudged>, last: HandlePoint[1] | undefined): string[] {
  const leaking = HANDLE_KINDS.filter((k) => kinds[k].leaking);
  if (kinds.processes.leaking) {
    // What the new processes hold comes with them: one sentence, naming the newest.
    const names = [...new Set(last?.newest ?? [])];
    const rest = leaking.filter((k) => k !== 'processes').map((k) => NAMES[k]);
    return [`child processes grow with requests: ${growthClause(kinds.processes)}${names.length ? ` (newest: ${names.join(', ')})` : ''}`
      + `${rest.length ? `; ${rest.join(', ')} grow with them` : ''}`];
  }
  return leaking.map((k) => `${NAMES[k]} grow with requests: ${growthClause(kinds[k])}${headroom(kinds[k], last)}`);
}

/** The descriptor kind that grew most over the whole series (warm-up included); the largest at the end on a tie. */
function emfileKind(kinds: Record<HandleKind, KindJudged>, series: HandlePoint[]): HandleKind {
  const first = series[0]?.[1];
  const score = (k: HandleKind) => (first ? kinds[k].end - first[k] : 0) * 1e9 + kinds[k].end;
  return FD_KINDS.reduce((a, b) => (score(b) > score(a) ? b : a));
}

function emfileSentence(kind: HandleKind, k: KindJudged, last: HandlePoint[1] | undefined, e: NonNullable<HandleJudgeOptions['emfile']>): string {
  const at = Math.max(0, e.text.search(/EMFILE|too many open files/i));
  const quote = e.text.slice(at, at + 80).trim();
  const held = last?.fdLimit && last.mostFds
    ? `: ${n(last.mostFds)} open in one process, its limit is ${n(last.fdLimit)} (${n(k.end)} ${NAMES[kind]} in the tree)` : '';
  return `the server ran out of file descriptors${held}; EMFILE in its ${e.where} ("${quote}"): leaked descriptors are the likely cause of its errors`;
}

/**
 * The run's verdict with the handles' added: a handle leak makes a PASS a FAIL, is an extra reason to a
 * FAIL, and decides a run that memory alone could not (its reason then becomes a warning). An interrupted
 * run stays interrupted.
 */
export function withHandles(judged: Judged, h: HandlesJudged | null): Judged {
  if (!h?.leaking || judged.verdict === 'interrupted') return judged;
  if (judged.verdict === 'fail') return { ...judged, reasons: [...judged.reasons, ...h.reasons] };
  const warnings = judged.verdict === 'error' ? [...judged.reasons, ...judged.warnings] : judged.warnings;
  return { verdict: 'fail', reasons: h.reasons, warnings };
}
