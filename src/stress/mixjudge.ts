// The memory verdict under a client mix: what a PASS must rule out at the rates the behaviours happened,
// the memory that abandoned sessions hold only for a while (the server frees them, caps them, or is
// declared to) left out of the series the trend is fitted to, no FAIL while abandoned sessions explain the
// growth and whether the server frees them is not yet known, a FAIL that waits for its attribution, and the
// verdict told what explains the growth. With a polite client and one call it changes nothing.
import type { Connection } from '../transport/connection.js';
import type { HttpConnection } from '../transport/http.js';
import type { Floor } from '../load/closedloop.js';
import type { Call } from '../requests/calls.js';
import { attribute, attributionSentence, type Attribution, type FactorInput } from '../judge/attribute.js';
import { memoryTrend, type Budgets, type Point, type Trend } from '../judge/trend.js';
import { chooseEvidence, heapPoints, heapTrend, lookAtEvidence } from '../judge/evidence.js';
import { sessionVerdict, type SessionBounds } from '../judge/reclaim.js';
import type { Decision, LeakTarget } from '../judge/stopping.js';
import type { Verdict } from '../judge/run.js';
import type { Rule } from '../judge/pipeline.js';
import { leakVerdict, type RunLength } from '../judge/leak.js';
import { formatBytes, formatDuration } from '../format.js';
import { pointsOf } from './look.js';
import { BEHAVIOURS, factorsOf } from './clients.js';
import { CALLS, type PhaseFinding } from './phases.js';

const KB = 1024;
/** The smallest leak per event that matters, by behaviour. */
const PER_EVENT: [string, string, number][] = [
  ['abandoned', 'abandoned session', 4 * KB], ['deleted', 'session ended with DELETE', 4 * KB], ['dropped', 'dropped stream', 16 * KB],
  ['cancelled', 'cancelled call', 16 * KB], ['hungUp', 'hung-up request', 16 * KB], ['refused', 'refused request', 16 * KB],
];

/** The two series a verdict reads, the memory abandoned sessions hold for a while left out. */
export interface Series {
  process: Point[];
  heap: Point[] | null;
}

export class MixJudge {
  private failedAt?: number;

  constructor(private readonly calls: Call[], private readonly budgets: Budgets, private readonly leak: LeakTarget,
    private readonly watched: boolean, private readonly conn: Connection, private readonly declaredSeconds?: number) {}

  /** What the server showed of freeing abandoned sessions, and what the user declared; null without a mix. */
  bounds(): SessionBounds | null {
    const r = (this.conn as HttpConnection).reclaim?.();
    const declared = this.declaredSeconds;
    if (!r) return declared === undefined ? null : { freed: 0, held: 0, declaredSeconds: declared };
    return { ...r, ...(declared !== undefined ? { declaredSeconds: declared } : {}) };
  }

  /** The idle time after which the server frees abandoned sessions: halfway between the oldest found held and the youngest found freed. */
  idle(): number | undefined {
    const b = this.bounds();
    if (!b?.freed || b.youngestFreedSeconds === undefined) return undefined;
    return ((b.oldestHeldSeconds ?? 0) + b.youngestFreedSeconds) / 2;
  }

  factors(floors: Floor[]): FactorInput[] {
    return factorsOf(floors, this.calls, this.idle());
  }

  /**
   * The series to judge: each less what abandoned sessions hold for a while, when that is known to be so:
   * sessions still held until the server frees them, or (capped, or declared freed) every abandoned one.
   */
  series(floors: Floor[]): Series {
    return { process: this.without(pointsOf(floors), floors, this.budgets), heap: this.watched ? this.without(heapPoints(floors), floors) : null };
  }

  private without(points: Point[], floors: Floor[], budgets?: Budgets): Point[] {
    const b = this.bounds();
    const name = b?.capAt !== undefined || b?.declaredSeconds !== undefined ? 'abandoned' : b?.freed ? 'held' : undefined;
    const factors = name ? this.factors(floors) : [];
    const factor = factors.find((f) => f.name === name);
    if (!factor) return points;
    const raw = budgets ? memoryTrend(points, budgets) : heapTrend(points);
    const cost = attributeOn(points, raw, factors)?.factors.find((f) => f.name === name)?.bytesPerEvent ?? 0;
    return cost ? points.map((p, k) => ({ ...p, bytes: p.bytes - cost * (factor.counts[k] - factor.counts[0]) })) : points;
  }

  /** --leak-size per request, and per event of each behaviour at the rate it happened (see PER_EVENT). */
  target(floors: Floor[]): LeakTarget {
    const last = floors.at(-1);
    if (!last?.counts || !last.requests) return this.leak;
    const b = this.bounds();
    const freesAbandoned = Boolean(b && (b.freed > 0 || b.capAt !== undefined || b.declaredSeconds !== undefined));
    const perEvent = PER_EVENT.flatMap(([key, unit, bytes]) => {
      const rate = (last.counts![this.calls.length + BEHAVIOURS.findIndex(([k]) => k === key)] ?? 0) / last.requests;
      return rate > 0 && !(key === 'abandoned' && freesAbandoned) ? [{ unit, bytes, perRequest: rate }] : [];
    });
    return perEvent.length ? { ...this.leak, perEvent } : this.leak;
  }

  /** The trends of both series. */
  trends(floors: Floor[]): { process: Trend; heap: Trend | null } {
    const s = this.series(floors);
    return { process: memoryTrend(s.process, this.budgets), heap: s.heap ? heapTrend(s.heap) : null };
  }

  /** The growth attributed, on the evidence that decides (or on the trend given). */
  attribution(floors: Floor[], trend?: Trend): Attribution | null {
    const factors = this.factors(floors);
    if (factors.length < 2) return null;
    // On the series as measured: the memory held for a while is a factor of its own there.
    const t = this.trends(floors);
    const deciding = trend ?? chooseEvidence(t.process, t.heap, this.target(floors)).trend;
    const onHeap = this.watched && (deciding === t.heap || (trend !== undefined && trend !== t.process && t.heap !== null));
    return attributeOn(onHeap ? heapPoints(floors) : pointsOf(floors), deciding, factors);
  }

  /**
   * After the run: the behaviours to try alone, when the evidence that decides says memory keeps rising and
   * abandoned sessions alone do not explain it as memory the server frees (most costly in the run first).
   */
  suspects(floors: Floor[]): string[] {
    const t = this.trends(floors);
    const deciding = chooseEvidence(t.process, t.heap, this.target(floors)).trend;
    if (deciding.shape !== 'rising') return [];
    const a = this.attribution(floors, deciding);
    const cost = (name: string) => a?.factors.find((f) => f.name === name)?.bytesPerEvent ?? 0;
    const last = floors.at(-1)?.counts ?? [];
    return BEHAVIOURS.map(([key]) => key)
      .filter((key) => (last[this.calls.length + BEHAVIOURS.findIndex(([k]) => k === key)] ?? 0) > 0)
      .sort((x, y) => cost(y) - cost(x));
  }

  /** One look: the decision and what it rules out; no FAIL while abandoned sessions explain the growth and may yet be freed. */
  look(floors: Floor[]): { decision: Decision; ruledOut: number } {
    const t = this.trends(floors);
    const seen = lookAtEvidence(t.process, t.heap, this.target(floors));
    if (seen.decision !== 'fail') return seen;
    const span = (floors.at(-1)?.seconds ?? 0) - (floors[t.process.warmupBlocks]?.seconds ?? 0);
    const sessions = sessionVerdict(this.attribution(floors), this.bounds(), formatBytes, formatDuration, span);
    return sessions && sessions.kind !== 'kept' ? { ...seen, decision: null } : seen;
  }

  /**
   * Whether a decided look may stop the run: a PASS may; a FAIL once a call or behaviour established explains
   * half of the growth, or with nothing to attribute, or after as long again as the FAIL took to come.
   */
  ready(decision: Decision, floors: Floor[]): boolean {
    if (decision !== 'fail' || this.factors(floors).length < 2) return true;
    const seconds = floors.at(-1)?.seconds ?? 0;
    this.failedAt ??= seconds;
    if (seconds >= 2 * this.failedAt) return true;
    const a = this.attribution(floors);
    return Boolean(a && a.factors.filter((f) => f.established).reduce((s, f) => s + f.bytes, 0) >= 0.5 * a.growth);
  }

  /**
   * The verdict told what explains the growth: a FAIL names it; one explained by abandoned sessions the server
   * frees, caps, or is declared to free, a PASS saying so; sessions never freed, what to do.
   */
  verdict(v: Verdict, floors: Floor[], trend: Trend, phases: PhaseFinding[] = []): Verdict {
    const a = this.attribution(floors, trend);
    const b = this.bounds();
    const held = this.heldSentence(a, b);
    if (v.pass) return held ? { ...v, reasons: [...v.reasons, held] } : v;
    if (v.undecided) return v;
    if (phases.length) return this.byPhases(v, a, b, phases, this.abandonedRate(floors, trend));
    if (!a) return v;
    const sessions = sessionVerdict(a, b, formatBytes, formatDuration);
    const explained = attributionSentence(a, formatBytes);
    if (sessions?.kind === 'bounded') {
      const cleared = explained?.split('; ').filter((p) => !p.startsWith('explained by')) ?? [];
      return { pass: true, reasons: [sessions.sentence, ...(cleared.length ? [cleared.join('; ')] : [])] };
    }
    return { ...v, reasons: [v.reasons[0], ...(explained ? [explained] : []), ...(sessions ? [sessions.sentence] : []), ...v.reasons.slice(1)] };
  }

  /**
   * A FAIL told by what was tried alone: the calls that keep memory, the behaviours that left memory behind,
   * and those cleared; growth that none of them reproduces, from abandoned sessions the server frees or is
   * declared to free, a PASS that says so. A behaviour the deadline left untried is said, and bars a PASS.
   */
  private byPhases(v: Verdict, a: Attribution | null, b: SessionBounds | null, phases: PhaseFinding[], abandonedPerSecond: number): Verdict {
    const control = phases.find((p) => p.name === CALLS);
    const behaviours = phases.filter((p) => p.name !== CALLS && !p.skipped);
    const untried = phases.filter((p) => p.skipped).map((p) => p.unit);
    const freesAbandoned = Boolean(b && (b.freed > 0 || b.capAt !== undefined || b.declaredSeconds !== undefined));
    // Capped or declared freed: what abandoned sessions hold when tried alone is held for a while, not kept.
    const held = b && (b.capAt !== undefined || b.declaredSeconds !== undefined) ? behaviours.find((p) => p.name === 'abandoned' && p.leaks) : undefined;
    const leaking = behaviours.filter((p) => p.leaks && p !== held);
    const calls = this.leakingCalls(control, phases, a);
    const tried = `(${[...(control ? ['the calls'] : []), ...behaviours.map((p) => p.unit)].join(', ')}, each tried alone)`;
    const notReached = untried.length ? [`not tried alone, out of time: ${untried.join(', ')}`] : [];
    if (!leaking.length && !calls.length && !untried.length) {
      if (held && this.explains([held], a)) {
        return { pass: true, reasons: [this.boundedSentence(held.bytesPerEvent, b!, abandonedPerSecond), `nothing else left memory behind ${tried}`] };
      }
      if (freesAbandoned) return { pass: true, reasons: [`memory grew with abandoned sessions, which the server frees; nothing left memory behind once it had ${tried}`] };
    }
    if (!leaking.length && !calls.length) {
      return { ...v, reasons: [v.reasons[0], `nothing left memory behind when tried alone ${tried}: the growth comes from their mix`, ...notReached, ...v.reasons.slice(1)] };
    }
    const named = [...calls, ...leaking.map((p) => `${p.unit}: ${formatBytes(p.bytesPerEvent)} each (${p.events.toLocaleString('en-US')} tried alone kept ${formatBytes(p.keptBytes)})`)];
    const cleared = [...(control && !control.leaks ? ['the calls'] : []), ...behaviours.filter((p) => !p.leaks).map((p) => p.unit)];
    const abandoned = leaking.find((p) => p.name === 'abandoned');
    const advice = !abandoned ? [] : b?.freed
      ? [`abandoned sessions leave ${formatBytes(abandoned.bytesPerEvent)} each behind even once the server has freed them: the cleanup on that path is incomplete`]
      : [`abandoned sessions are not freed (${formatBytes(abandoned.bytesPerEvent)} each): free a session after an idle timeout and cap their number, or give the timeout the server has with --session-timeout`];
    const bounded = held ? [this.boundedSentence(held.bytesPerEvent, b!, abandonedPerSecond)] : [];
    return { ...v, reasons: [v.reasons[0], `explained by ${named.join(' and ')}${cleared.length ? `; cleared when tried alone: ${cleared.join(', ')}` : ''}`, ...advice, ...bounded, ...notReached, ...v.reasons.slice(1)] };
  }

  /**
   * The calls named as keeping memory: when the calls alone kept more than the leak size each, those the run's
   * attribution established (or the calls together). A run without the calls alone (recorded before them):
   * those established, unless the behaviours' costs alone explain the growth (the calls' counts rose
   * together with theirs).
   */
  private leakingCalls(control: PhaseFinding | undefined, phases: PhaseFinding[], a: Attribution | null): string[] {
    const established = (a?.factors ?? []).filter((f) => f.kind === 'call' && f.established)
      .map((f) => `${f.unit}: ${formatBytes(f.bytesPerEvent)} each (${Math.round(f.events).toLocaleString('en-US')} of them, ${formatBytes(f.bytes)})`);
    if (control) {
      if (!control.leaks) return [];
      return established.length ? established : [`calls: ${formatBytes(control.bytesPerEvent)} each (${control.events.toLocaleString('en-US')} made alone kept ${formatBytes(control.keptBytes)})`];
    }
    return this.explains(phases.filter((p) => p.leaks), a) ? [] : established;
  }

  /** The rule the verdict pipeline judges the run by: the leak rule at the mix's targets, told what explains the growth. */
  rule(floors: Floor[], ran: RunLength, phases: PhaseFinding[] = []): Rule<Trend> {
    const target = this.target(floors);
    return { main: (t) => t, decide: (t) => this.verdict(leakVerdict(t, target, ran), floors, t, phases), target };
  }

  /** Abandoned sessions per second over the trend's measured span. */
  private abandonedRate(floors: Floor[], trend: Trend): number {
    const from = floors[trend.warmupBlocks] ?? floors[0];
    const to = floors.at(-1);
    const k = this.calls.length + BEHAVIOURS.findIndex(([key]) => key === 'abandoned');
    const seconds = (to?.seconds ?? 0) - (from?.seconds ?? 0);
    return to?.counts && from?.counts && seconds > 0 ? (to.counts[k] - from.counts[k]) / seconds : 0;
  }

  /**
   * The behaviours' costs measured alone explain the run's growth: what they leave unexplained, spread over
   * the calls made, is under the leak size per request.
   */
  private explains(leaking: PhaseFinding[], a: Attribution | null): boolean {
    if (!a || !leaking.length) return false;
    const events = (name: string) => a.factors.find((f) => f.name === name)?.events ?? 0;
    const behaviours = leaking.reduce((s, p) => s + p.bytesPerEvent * events(p.name), 0);
    const calls = a.factors.filter((f) => f.kind === 'call').reduce((s, f) => s + f.events, 0);
    return calls > 0 && Math.max(0, a.growth - behaviours) / calls < this.leak.bytesPerRequest;
  }

  /** Abandoned sessions capped or declared freed: the memory they hold at most, at the cap or at this run's rate. */
  private boundedSentence(each: number, b: SessionBounds, perSecond: number): string {
    if (b.capAt !== undefined) {
      return `memory grew with abandoned sessions (${formatBytes(each)} each, tried alone), which the server caps: it refused a new one (503) with ${b.capAt.toLocaleString('en-US')} open, which hold up to ${formatBytes(each * b.capAt)}`;
    }
    const seconds = b.declaredSeconds ?? 0;
    return `memory grew with abandoned sessions (${formatBytes(each)} each, tried alone), which the server frees after ${formatDuration(seconds)} idle as declared with --session-timeout (not verified by this run): `
      + `at this run's ${Math.round(perSecond * 60).toLocaleString('en-US')} abandoned a minute they hold up to ${formatBytes(each * perSecond * seconds)}`;
  }

  /** What abandoned sessions hold for a while, left out of the trend: said beside a PASS. */
  private heldSentence(a: Attribution | null, b: SessionBounds | null): string | undefined {
    const held = a?.factors.find((f) => f.name === 'held' && f.bytesPerEvent > 0);
    if (!held || !b?.freed) return undefined;
    return `abandoned sessions hold ${formatBytes(held.bytesPerEvent)} each until the server frees them, ${formatDuration(b.youngestFreedSeconds ?? 0)} `
      + `or less after they are left (${Math.round(held.peak).toLocaleString("en-US")} held at most: ${formatBytes(held.bytesPerEvent * held.peak)}); that memory is left out of the trend`;
  }
}

/** The attribution on a trend, from its own points after its warm-up. */
export function attributeOn(points: Point[], trend: Trend, factors: FactorInput[]): Attribution | null {
  if (!factors.length || trend.shape === 'too short') return null;
  return attribute(points, factors, trend.warmupBlocks, trend.significant);
}
