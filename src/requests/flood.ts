// The cache test's requests: which properties of each tool's arguments vary, and for every request an
// argument set never sent before (a counter woven into values the schema accepts, see arguments.ts).
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { toolCall, type Call } from './calls.js';
import { valueFor, whyFixed } from './arguments.js';
import { CannotRun } from '../errors.js';

type Schema = Record<string, any>;

export interface Flood {
  tool: string;
  varied: string[];
  /** The arguments the varied properties are woven into (from --args, or generated). */
  base: Record<string, unknown>;
  /** The one argument set the control phase repeats. */
  control: Call;
  /** The call for counter u: the varied properties made from u, so no two counters give the same arguments. */
  unique(u: number): Call;
}

const MARK = '\u0000vary';

/**
 * The params JSON is built once with a placeholder per varied property and cut there; a request then only
 * joins the pieces with its own values, instead of serialising the whole arguments object again.
 */
export function floodFor(tool: Tool, base: Record<string, unknown>, varied: string[]): Flood {
  const props: Record<string, Schema> = (tool.inputSchema.properties ?? {}) as Record<string, Schema>;
  const controlArgs = { ...base };
  const marked: Record<string, unknown> = { ...base };
  varied.forEach((name, i) => {
    if (!(name in controlArgs)) controlArgs[name] = valueFor(props[name]);
    marked[name] = `${MARK}${i}`;
  });
  const pieces = JSON.stringify({ name: tool.name, arguments: marked }).split(/"\\u0000vary(\d+)"/);
  const schemas = varied.map((name) => props[name]);
  return {
    tool: tool.name,
    varied,
    base,
    control: toolCall(tool.name, controlArgs),
    unique(u) {
      let json = pieces[0];
      for (let i = 1; i < pieces.length; i += 2) json += JSON.stringify(valueFor(schemas[Number(pieces[i])], u)) + pieces[i + 1];
      return { method: 'tools/call', tool: tool.name, paramsJson: json };
    },
  };
}

export interface FloodPlan {
  floods: Flood[];
  /** Tools left out and why, said to the user. */
  notices: string[];
}

/**
 * What to flood: for each chosen tool, the properties named with --vary or, by default, every string
 * property that can take a million different values. Tools with nothing to vary are left out; when no
 * tool is left, the test cannot run.
 */
export function planFlood(calls: Call[], tools: Tool[], vary: string[]): FloodPlan {
  const floods: Flood[] = [];
  const notices: string[] = [];
  const fixedWhy: string[] = [];
  const seen = new Set<string>();
  for (const call of calls) {
    const tool = tools.find((t) => t.name === call.tool);
    if (!tool) continue;
    const props: Record<string, Schema> = (tool.inputSchema.properties ?? {}) as Record<string, Schema>;
    const candidates = vary.length
      ? vary.filter((name) => name in props)
      : Object.keys(props).filter((name) => typeof valueFor(props[name], 1) === 'string');
    candidates.forEach((name) => seen.add(name));
    const varied: string[] = [];
    for (const name of candidates) {
      const why = whyFixed(props[name]);
      if (why) fixedWhy.push(`${tool.name}.${name}: ${why}`);
      else varied.push(name);
    }
    if (varied.length) floods.push(floodFor(tool, (call.arguments ?? {}) as Record<string, unknown>, varied));
    else notices.push(`${tool.name} is left out: ${nothingIn(tool, candidates, fixedWhy, vary)}`);
  }
  const missing = vary.filter((name) => !seen.has(name));
  if (missing.length) {
    const have = calls.map((c) => c.tool && `${c.tool}(${Object.keys(tools.find((t) => t.name === c.tool)?.inputSchema.properties ?? {}).join(', ')})`);
    throw new CannotRun(`--vary ${missing[0]}: no tool called has that argument; `
      + (have.some(Boolean) ? `the tools called take: ${have.filter(Boolean).join('; ')}` : 'name a tool with --tool'));
  }
  if (!floods.length) {
    if (!calls.some((c) => c.tool)) {
      throw new CannotRun('nothing to vary: no tool is called (none is annotated readOnlyHint: true); name one whose arguments feed a cache with --tool');
    }
    throw new CannotRun(`nothing to vary: ${fixedWhy.length ? fixedWhy.join('; ') : 'no tool called has a string argument'}; `
      + 'an enum or a boolean cannot be flooded (name another argument with --vary, or another tool with --tool)');
  }
  return { floods, notices };
}

function nothingIn(tool: Tool, candidates: string[], fixedWhy: string[], vary: string[]): string {
  if (!candidates.length) return vary.length ? `it has no argument named ${vary.join(' or ')}` : 'it has no string argument to vary';
  return `nothing in it can vary (${fixedWhy.filter((w) => w.startsWith(`${tool.name}.`)).map((w) => w.slice(tool.name.length + 1)).join('; ')})`;
}
