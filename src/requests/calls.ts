// Which requests a test sends: the read-only tools, listed resources and prompts (or those the user names)
// with their arguments, and the trial call each default one gets before the load, with arguments learnt
// from the server's answers (learn.ts) for those whose generated arguments fail.
import type { ServerInfo } from '../transport/handshake.js';
import type { Connection } from '../transport/connection.js';
import { CannotRun } from '../errors.js';
import { classify, describeError } from '../transport/outcome.js';
import { throttleOf } from '../transport/throttled.js';
import { argumentsFor } from './arguments.js';
import { callName, toolCall, type Call } from './build.js';
import { listOffered, namedPrompt, namedResource, offeredCalls, type Offered } from './offered.js';
import { addOffer, harvest, hiddenError, learn, LEARNING, newOffers, slotsOf, timed, type Stuck } from './learn.js';

export { callName, callRecord, toolCall, type Call } from './build.js';

export interface CallChoice {
  calls: Call[];
  /** Said to the user when the choice is not what they might expect. */
  notice?: string;
}

/** What the user named, and the per-request timeout. */
export interface LoadOptions {
  tools: string[];
  toolArgs: string[];
  resources: string[];
  prompts: string[];
  timeoutMs: number;
}

export interface LoadRules {
  /**
   * Resources and prompts only when no tool is annotated read-only: the rate limit test, since the MCP
   * specification asks servers to rate-limit tool calls, and reads let through would look like a high limit.
   */
  toolsFirst?: boolean;
  /** Keep calls that fail their trial (the cache test's trial floods judge them), learning arguments all the same. */
  keepFailing?: boolean;
}

/**
 * The calls of a run, tried: the named ones as given, or the default choice after a trial call each (those
 * failing or slow left out, said in `warnings`), with arguments learnt from the server where generated
 * ones failed.
 */
export async function chooseLoad(target: { conn: Connection; info: ServerInfo }, o: LoadOptions, warnings: string[], rules: LoadRules = {}): Promise<Call[]> {
  const named = o.tools.length + o.resources.length + o.prompts.length > 0;
  const offered = await listOffered(target.conn, target.info, { resources: !named || o.resources.length > 0, prompts: !named || o.prompts.length > 0 });
  const choice = chooseCalls(target.info, offered, o, rules);
  if (choice.notice) warnings.push(choice.notice);
  if (named) return choice.calls;
  warnings.push(...offered.problems);
  const trial = await preflight(target.conn, choice.calls, offered, Math.min(o.timeoutMs, 2000), rules.keepFailing ?? false);
  warnings.push(...trial.notices);
  return trial.calls;
}

/**
 * The calls for a run. Named tools, resources and prompts must exist; without names, every tool annotated
 * readOnlyHint: true, and the listed resources and prompts. A stress test must never call write_file or
 * delete_entities a hundred thousand times on its own.
 */
export function chooseCalls(info: ServerInfo, offered: Offered, o: Omit<LoadOptions, 'timeoutMs'>, rules: LoadRules = {}): CallChoice {
  const parsedArgs = o.toolArgs.map(parseArgsJson);
  if (o.tools.length + o.resources.length + o.prompts.length) {
    if (parsedArgs.length && !o.tools.length) throw new CannotRun('--args needs --tool: name the tool the arguments are for');
    if (parsedArgs.length > 1 && parsedArgs.length !== o.tools.length) {
      throw new CannotRun(`give one --args for all tools or one per --tool (${o.tools.length} tools, ${parsedArgs.length} --args)`);
    }
    const tools = o.tools.map((name, i) => {
      const tool = info.tools.find((t) => t.name === name);
      if (!tool) {
        const have = info.tools.map((t) => t.name).join(', ') || 'no tools';
        throw new CannotRun(`unknown tool '${name}'; this server has: ${have}`);
      }
      return toolCall(name, parsedArgs[parsedArgs.length > 1 ? i : 0] ?? argumentsFor(tool), tool.inputSchema);
    });
    return { calls: [...tools, ...o.resources.map((uri) => namedResource(uri, info, offered)), ...o.prompts.map((p) => namedPrompt(p, info, offered))] };
  }
  if (parsedArgs.length) throw new CannotRun('--args needs --tool: name the tool the arguments are for');
  const readOnly = info.tools.filter((t) => t.annotations?.readOnlyHint === true).map((t) => toolCall(t.name, argumentsFor(t), t.inputSchema));
  const others = rules.toolsFirst && readOnly.length ? [] : offeredCalls(offered);
  const some = info.tools.slice(0, 3).map((t) => t.name);
  const how = some.length ? ` (this server has: ${some.join(', ')}${info.tools.length > 3 ? ', …' : ''})` : '';
  if (readOnly.length || others.length) {
    const notice = !readOnly.length && info.tools.length
      ? `no tool is annotated readOnlyHint: true, so only resources and prompts are read; name a tool that is safe to call many times with --tool${how}`
      : undefined;
    return { calls: [...readOnly, ...others], notice };
  }
  const calls: Call[] = [];
  if (info.capabilities.tools) calls.push({ method: 'tools/list' });
  if (info.capabilities.resources) calls.push({ method: 'resources/list' });
  if (info.capabilities.prompts) calls.push({ method: 'prompts/list' });
  // ping does not exist in 2026-07-28 (method not found; over HTTP a 404).
  if (info.era !== 'modern') calls.push({ method: 'ping' });
  return {
    calls,
    notice: `no tool is annotated readOnlyHint: true, so only ${calls.map((c) => c.method).join(', ')} are called; `
      + `name a tool that is safe to call many times with --tool${how}`,
  };
}

function parseArgsJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CannotRun(`--args is not valid JSON (${(err as Error).message}); example: --args '{"timezone":"UTC"}'`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CannotRun('--args must be a JSON object, for example --args \'{"timezone":"UTC"}\'');
  }
  return value as Record<string, unknown>;
}

/**
 * Call each default call once before the load, and leave out those that fail or take longer than
 * `slowMs`: a run whose mix holds a ten-second operation or a tool needing sampling measures nothing
 * else. A call with a path or URI argument that fails (or whose answer hides a failed path) first gets
 * values from the answers of the others (learn.ts). When every call fails, all are kept: the load then
 * reports the errors.
 */
export async function preflight(conn: Connection, calls: Call[], offered: Offered, slowMs: number, keepFailing: boolean)
  : Promise<{ calls: Call[]; notices: string[] }> {
  const learnable = calls.some((c) => slotsOf(c).length > 0);
  // One call that can learn nothing would only be tried to be kept anyway; the cache test tries its own floods.
  if (!learnable && (calls.length < 2 || keepFailing)) return { calls, notices: [] };
  const offers = newOffers();
  for (const uri of offered.uris) addOffer(offers, { value: uri, kind: 'uri', from: 'resources/list' });
  const fate: ({ ok: Call } | { stuck: Stuck; fallback?: Call } | { out: string })[] = [];
  for (const call of calls) {
    const outcome = await timed(conn, call, slowMs);
    const name = callName(call);
    const slots = slotsOf(call);
    if (outcome === null) {
      fate.push({ out: `took over ${slowMs / 1000} s` });
    } else if (classify(outcome) === 'inputRequired') {
      fate.push({ out: `asks for client input: ${describeError(outcome).slice(0, 60)}` });
    } else if (classify(outcome) === null && outcome.kind === 'answer') {
      const hidden = slots.length ? hiddenError(outcome.message.result) : null;
      if (hidden) fate.push({ stuck: { call, error: hidden }, fallback: call });
      else {
        const asked = slots.find((s) => s.kind === 'path' && !s.array);
        harvest(offers, outcome.message.result, name, asked && String(call.arguments?.[asked.name]));
        fate.push({ ok: call });
      }
    } else if (slots.length && !throttleOf(outcome)) {
      fate.push({ stuck: { call, error: describeError(outcome) } });
    } else {
      fate.push({ out: `failed: ${describeError(outcome).slice(0, 100)}` });
    }
  }
  const stuck = fate.flatMap((f) => ('stuck' in f ? [f.stuck] : []));
  const { solved, tried } = stuck.length ? await learn(conn, stuck, offers, { ...LEARNING, slowMs }) : { solved: new Map(), tried: new Map() };
  const kept: Call[] = [];
  const left: { call: Call; why: string }[] = [];
  fate.forEach((f, i) => {
    if ('ok' in f) kept.push(f.ok);
    else if (keepFailing) kept.push('stuck' in f ? solved.get(f.stuck) ?? calls[i] : calls[i]);
    else if ('out' in f) left.push({ call: calls[i], why: f.out });
    else if (solved.has(f.stuck) || f.fallback) kept.push(solved.get(f.stuck) ?? f.fallback!);
    else {
      const n = tried.get(f.stuck) ?? 0;
      left.push({ call: calls[i], why: `failed: ${f.stuck.error.slice(0, 100)}${n ? `; so did ${n} value(s) from the server's answers` : ''}` });
    }
  });
  if (kept.length === 0) return { calls, notices: [] };
  if (left.length === 0) return { calls: kept, notices: [] };
  // Calls that failed alike, together: a file server denying every made-up path says so once.
  const alike = new Map<string, string[]>();
  for (const l of left) alike.set(l.why, [...(alike.get(l.why) ?? []), callName(l.call)]);
  const how = left.every((l) => l.call.tool) ? 'name tools with --tool' : 'name them with --tool, --resource or --prompt';
  return { calls: kept, notices: [`left out of the load, after one trial call each: ${[...alike].map(([why, names]) => `${names.join(', ')} (${why})`).join('; ')}; ${how} to call them anyway`] };
}
