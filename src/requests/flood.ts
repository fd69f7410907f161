// The cache test's requests: which properties of each tool's, template's or prompt's arguments vary, and
// for every request an argument set never sent before (a counter woven into values the schema accepts,
// see arguments.ts).
import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import { callName, withArguments, type Call, type Schema } from './build.js';
import { valueFor, whyFixed } from './arguments.js';
import { CannotRun } from '../errors.js';

export interface Flood {
  /** The call as chosen: its arguments are those the varied properties are woven into. */
  call: Call;
  /** How it is named on screen: a tool's name, a template, "prompt <name>". */
  name: string;
  varied: string[];
  /** The one argument set the control phase repeats. */
  control: Call;
  /** The call for counter u: the varied properties made from u, so no two counters give the same arguments. */
  unique(u: number): Call;
}

const MARK = '\u0000vary';

/**
 * A tool call or prompt get: the params JSON is built once with a placeholder per varied property and cut
 * there; a request then only joins the pieces with its own values, instead of serialising the whole
 * arguments object again. A template read: the URI filled in afresh for every request.
 */
export function floodFor(call: Call, varied: string[]): Flood {
  const props: Record<string, Schema> = call.schema?.properties ?? {};
  const base = call.arguments ?? {};
  const controlArgs = { ...base };
  varied.forEach((name) => {
    if (!(name in controlArgs)) controlArgs[name] = valueFor(props[name]);
  });
  const schemas = varied.map((name) => props[name]);
  const flood = { call, name: callName(call), varied, control: withArguments(call, controlArgs, call.learnt) };
  if (call.template) {
    const template = new UriTemplate(call.template);
    const vars: Record<string, string> = Object.fromEntries(Object.entries(controlArgs).map(([k, v]) => [k, String(v)]));
    return {
      ...flood,
      unique(u) {
        varied.forEach((name, i) => { vars[name] = String(valueFor(schemas[i], u)); });
        return { method: 'resources/read', template: call.template, paramsJson: JSON.stringify({ uri: template.expand(vars) }) };
      },
    };
  }
  const marked: Record<string, unknown> = { ...base };
  varied.forEach((name, i) => { marked[name] = `${MARK}${i}`; });
  const pieces = JSON.stringify({ name: call.tool ?? call.prompt, arguments: marked }).split(/"\\u0000vary(\d+)"/);
  return {
    ...flood,
    unique(u) {
      let json = pieces[0];
      for (let i = 1; i < pieces.length; i += 2) json += JSON.stringify(valueFor(schemas[Number(pieces[i])], u)) + pieces[i + 1];
      // Only the fields the loop reads: this runs once per request of the flood.
      return call.tool ? { method: 'tools/call', tool: call.tool, paramsJson: json } : { method: 'prompts/get', prompt: call.prompt, paramsJson: json };
    },
  };
}

export interface FloodPlan {
  floods: Flood[];
  /** Calls left out and why, said to the user. */
  notices: string[];
}

/**
 * What to flood: for each chosen call (a tool, a template, a prompt), the properties named with --vary or,
 * by default, every string property that can take a million different values, but for those whose value
 * was learnt from the server (a path that exists: a generated one would be refused). Calls with nothing to
 * vary (a listed resource, a prompt without arguments) are left out; when none is left, the test cannot run.
 */
export function planFlood(calls: Call[], vary: string[]): FloodPlan {
  const floods: Flood[] = [];
  const notices: string[] = [];
  const fixedWhy: string[] = [];
  const nothing: string[] = [];
  const offeredOnly: string[] = [];
  const seen = new Set<string>();
  for (const call of calls) {
    const props: Record<string, Schema> = call.schema?.properties ?? {};
    const name = callName(call);
    if (!call.schema || (!call.tool && !Object.keys(props).length)) {
      if (call.uri || call.prompt) nothing.push(name);
      continue;
    }
    const learnt = Object.keys(call.learnt ?? {});
    const strings = Object.keys(props).filter((p) => typeof valueFor(props[p], 1) === 'string');
    const candidates = vary.length ? vary.filter((p) => p in props) : strings.filter((p) => !learnt.includes(p));
    vary.filter((p) => p in props).forEach((p) => seen.add(p));
    const varied: string[] = [];
    for (const p of candidates) {
      const why = whyFixed(props[p]);
      if (why) fixedWhy.push(`${name}.${p}: ${why}`);
      else varied.push(p);
    }
    if (varied.length) floods.push(floodFor(call, varied));
    else if (!candidates.length && strings.some((p) => learnt.includes(p))) offeredOnly.push(`${name} (${learnt.map((p) => `${p}: ${call.learnt![p]}`).join(', ')})`);
    else notices.push(`${name} is left out: ${nothingIn(name, candidates, fixedWhy, vary)}`);
  }
  if (nothing.length) notices.push(`left out, nothing in ${nothing.length > 1 ? 'them' : 'it'} can vary: ${nothing.join(', ')}`);
  if (offeredOnly.length) {
    notices.push(`left out, their string arguments take only values the server offered (generated ones were refused): ${offeredOnly.join(', ')}`);
  }
  const missing = vary.filter((p) => !seen.has(p));
  if (missing.length) {
    const have = calls.filter((c) => c.schema).map((c) => `${callName(c)}(${Object.keys(c.schema!.properties ?? {}).join(', ')})`);
    throw new CannotRun(`--vary ${missing[0]}: no tool called has that argument; `
      + (have.length ? `the tools called take: ${have.join('; ')}` : 'name a tool with --tool'));
  }
  if (!floods.length) {
    if (!calls.some((c) => c.schema)) {
      throw new CannotRun('nothing to vary: no tool is called (none is annotated readOnlyHint: true); name one whose arguments feed a cache with --tool');
    }
    throw new CannotRun(`nothing to vary: ${fixedWhy.length ? fixedWhy.join('; ') : notices.length ? notices.join('; ') : 'no tool called has a string argument'}; `
      + 'an enum or a boolean cannot be flooded (name another argument with --vary, or another tool with --tool)');
  }
  return { floods, notices };
}

function nothingIn(name: string, candidates: string[], fixedWhy: string[], vary: string[]): string {
  if (!candidates.length) return vary.length ? `it has no argument named ${vary.join(' or ')}` : 'it has no string argument to vary';
  return `nothing in it can vary (${fixedWhy.filter((w) => w.startsWith(`${name}.`)).map((w) => w.slice(name.length + 1)).join('; ')})`;
}
