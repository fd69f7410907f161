// Arguments a tool's inputSchema accepts, generated when the user gives none: the schema's own defaults
// and examples, or values of the right type and format; for the cache test, a different value for every
// counter, woven into what the schema allows.
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { matches, matching } from './schemapattern.js';

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
