// Which requests a test sends: the tools (read-only unless the user names one) and their arguments,
// generated from each tool's inputSchema when the user gives none.
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ServerInfo } from './session.js';
import { CannotRun } from './errors.js';
import type { Connection } from './client.js';
import { classify, describeError } from './hammer.js';

import { matches, matching } from './pattern.js';

export interface Call {
  method: string;
  /** The tool's name, for tools/call. */
  tool?: string;
  arguments?: Record<string, unknown>;
  /** The params, serialised once: the load loop sends the same text many times. */
  paramsJson?: string;
}

export interface CallChoice {
  calls: Call[];
  /** Said to the user when the choice is not what they might expect. */
  notice?: string;
}

export function toolCall(tool: string, args: Record<string, unknown>): Call {
  return { method: 'tools/call', tool, arguments: args, paramsJson: JSON.stringify({ name: tool, arguments: args }) };
}

/**
 * The calls for a run. Named tools must exist; without names, every tool annotated readOnlyHint: true.
 * A stress test must never call write_file or delete_entities a hundred thousand times on its own.
 */
export function chooseCalls(info: ServerInfo, names: string[], argsJson: string[]): CallChoice {
  const parsedArgs = argsJson.map(parseArgsJson);
  if (names.length) {
    if (parsedArgs.length > 1 && parsedArgs.length !== names.length) {
      throw new CannotRun(`give one --args for all tools or one per --tool (${names.length} tools, ${parsedArgs.length} --args)`);
    }
    const calls = names.map((name, i) => {
      const tool = info.tools.find((t) => t.name === name);
      if (!tool) {
        const have = info.tools.map((t) => t.name).join(', ') || 'no tools';
        throw new CannotRun(`unknown tool '${name}'; this server has: ${have}`);
      }
      return toolCall(name, parsedArgs[parsedArgs.length > 1 ? i : 0] ?? argumentsFor(tool));
    });
    return { calls };
  }
  if (parsedArgs.length) throw new CannotRun('--args needs --tool: name the tool the arguments are for');
  const readOnly = info.tools.filter((t) => t.annotations?.readOnlyHint === true);
  if (readOnly.length) return { calls: readOnly.map((t) => toolCall(t.name, argumentsFor(t))) };
  const calls: Call[] = [];
  if (info.capabilities.tools) calls.push({ method: 'tools/list' });
  if (info.capabilities.resources) calls.push({ method: 'resources/list' });
  if (info.capabilities.prompts) calls.push({ method: 'prompts/list' });
  calls.push({ method: 'ping' });
  const some = info.tools.slice(0, 3).map((t) => t.name);
  const how = some.length ? ` (this server has: ${some.join(', ')}${info.tools.length > 3 ? ', …' : ''})` : '';
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

type Schema = Record<string, any>;

/** Arguments that satisfy the tool's inputSchema: its required properties only. */
export function argumentsFor(tool: Tool): Record<string, unknown> {
  return (valueFor(tool.inputSchema as Schema) ?? {}) as Record<string, unknown>;
}

/**
 * A value the schema accepts. With `unique`, a value woven from that number, different for every number
 * (for the cache test), where the schema lets the value vary; otherwise the schema's own default or example.
 */
export function valueFor(schema: Schema | undefined, unique?: number): unknown {
  if (!schema || typeof schema !== 'object') return unique === undefined ? 'x' : `k${unique}`;
  if ('const' in schema) return schema.const;
  if (unique === undefined) {
    if ('default' in schema) return schema.default;
    if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  }
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const options = schema.anyOf ?? schema.oneOf ?? schema.allOf;
  if (Array.isArray(options) && options.length) {
    return valueFor(options.find((o: Schema) => o?.type !== 'null') ?? options[0], unique);
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  switch (type ?? (schema.properties ? 'object' : 'string')) {
    case 'string': return stringFor(schema, unique);
    case 'integer': return numberFor(schema, true, unique);
    case 'number': return numberFor(schema, false, unique);
    case 'boolean': return false;
    case 'null': return null;
    case 'array': {
      const n = Math.max(0, schema.minItems ?? 0);
      return Array.from({ length: n }, (_, i) => valueFor(schema.items, unique === undefined ? undefined : unique + i));
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const name of schema.required ?? []) out[name] = valueFor(schema.properties?.[name], unique);
      return out;
    }
    default: return unique === undefined ? 'x' : `k${unique}`;
  }
}

function numberFor(schema: Schema, integer: boolean, unique?: number): number {
  let low = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + (integer ? 1 : 1e-6) : undefined);
  let high = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - (integer ? 1 : 1e-6) : undefined);
  if (integer) {
    low = low === undefined ? undefined : Math.ceil(low);
    high = high === undefined ? undefined : Math.floor(high);
  }
  const base = low ?? (high !== undefined ? Math.min(1, high) : 1);
  if (unique === undefined) return base;
  const span = high === undefined ? Number.MAX_SAFE_INTEGER : high - base;
  return integer ? base + (unique % (span + 1)) : base + (span === Infinity ? unique : (unique % 1e9) / 1e9 * span);
}

const BASE_TIME = Date.UTC(2026, 0, 1);

function stringFor(schema: Schema, unique?: number): string {
  const u = unique ?? 0;
  let text: string;
  switch (schema.format) {
    case 'date-time': text = new Date(BASE_TIME + u * 1000).toISOString(); break;
    case 'date': text = new Date(BASE_TIME + u * 86_400_000).toISOString().slice(0, 10); break;
    case 'time': text = new Date(BASE_TIME + u * 1000).toISOString().slice(11, 19); break;
    // Local addresses only: a tool that fetches what it is given must not send traffic off this machine.
    case 'hostname': text = 'localhost'; break;
    case 'ipv4': text = '127.0.0.1'; break;
    case 'ipv6': text = '::1'; break;
    case 'uuid': text = `00000000-0000-4000-8000-${u.toString(16).padStart(12, '0').slice(-12)}`; break;
    default: text = fitLength(schema, plainFor(schema, unique));
  }
  // A pattern the plain value misses (a code such as ^[A-Z]{3}-\d{4}$): build one from the pattern itself.
  if (typeof schema.pattern === 'string' && !matches(schema.pattern, text)) text = matching(schema.pattern, u) ?? text;
  return text;
}

/**
 * Call each chosen tool once before the load, and leave out of the default choice those that fail or take
 * longer than `slowMs`: a run whose mix holds a ten-second operation or a tool needing sampling measures
 * nothing else. Tools the user named are always kept.
 */
export async function preflight(conn: Connection, calls: Call[], named: boolean, slowMs: number): Promise<{ calls: Call[]; notices: string[] }> {
  if (named || calls.length < 2) return { calls, notices: [] };
  const kept: Call[] = [];
  const notices: string[] = [];
  for (const call of calls) {
    const outcome = await Promise.race([
      conn.request(call.method, call.paramsJson),
      new Promise<null>((r) => setTimeout(r, slowMs, null)),
    ]);
    const name = call.tool ?? call.method;
    if (outcome === null) notices.push(`${name} (took over ${slowMs / 1000} s)`);
    else if (classify(outcome) !== null) notices.push(`${name} (failed: ${describeError(outcome).slice(0, 60)})`);
    else {
      kept.push(call);
      continue;
    }
  }
  if (kept.length === 0) return { calls, notices: [] };
  if (notices.length === 0) return { calls: kept, notices };
  return { calls: kept, notices: [`left out of the load, after one trial call each: ${notices.join(', ')}; name tools with --tool to call them anyway`] };
}

function plainFor(schema: Schema, u?: number): string {
  const tag = u === undefined ? '' : String(u);
  if (schema.format === 'email') return `user${tag}@example.com`;
  if (schema.format === 'uri' || schema.format === 'url' || schema.format === 'iri') return `http://localhost/${tag}`;
  if (u === undefined) return 'x';
  // Room for fewer than ten million counters as k1234567: the counter alone in base 36, for every counter
  // (mixing the two spellings could make one value twice).
  return (schema.maxLength ?? Infinity) < 8 ? u.toString(36) : `k${u}`;
}

function fitLength(schema: Schema, text: string): string {
  if (schema.maxLength !== undefined && text.length > schema.maxLength) text = text.slice(-schema.maxLength);
  const min = schema.minLength ?? 0;
  return text.length < min ? text.padEnd(min, 'x') : text;
}

// Counters a varied value is tried with: the first thousand, and a spread up to a million, so that a schema
// whose values repeat (a short maxLength, a fixed-width pattern, a small integer range) is caught.
const TRIALS = [
  ...Array.from({ length: 1000 }, (_, i) => i),
  ...Array.from({ length: 2000 }, (_, i) => 1000 + ((i * 7_919_993) % 999_000)),
];

/** Why a property cannot take a million different values (an enum, a boolean, a short pattern), or null when it can. */
export function whyFixed(schema: Schema | undefined): string | null {
  if (schema && typeof schema === 'object') {
    if ('const' in schema) return 'it is a constant';
    if (Array.isArray(schema.enum)) return `it is an enum (${schema.enum.length} values)`;
    if (schema.type === 'boolean') return 'it is a boolean';
    if (['hostname', 'ipv4', 'ipv6'].includes(schema.format)) return `its format (${schema.format}) is kept to this machine's own address`;
  }
  const seen = new Set<string>();
  for (const u of TRIALS) {
    const value = valueFor(schema, u);
    if (typeof value === 'string' && schema?.pattern && !matches(schema.pattern, value)) {
      return `no value matching its pattern ${schema.pattern} could be generated`;
    }
    if (typeof value === 'string' && (value.length < (schema?.minLength ?? 0) || value.length > (schema?.maxLength ?? Infinity))) {
      return 'its length limits leave too little room';
    }
    const key = JSON.stringify(value);
    if (seen.has(key)) return 'its schema allows too few different values (a pattern, length limit or range)';
    seen.add(key);
  }
  return null;
}
