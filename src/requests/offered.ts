// What a server offers besides tools, as calls a load can make: its listed resources (resources/read),
// its URI templates (read with the variables filled like tool arguments) and its prompts (prompts/get with
// arguments generated from the ones they declare). Reading a resource and getting a prompt are read-only
// by the protocol's definition, so the default load makes them; a sample of them, for a server may list
// thousands of files. Also the resources and prompts named with --resource and --prompt.
import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import type { ServerInfo } from '../transport/handshake.js';
import type { Connection } from '../transport/connection.js';
import { classify, describeError } from '../transport/outcome.js';
import { CannotRun } from '../errors.js';
import { valueFor } from './arguments.js';
import { promptCall, resourceCall, templateCall, type Call, type Schema } from './build.js';

/** At most this many distinct listed URIs are read, templates filled and prompts got by default. */
export const MAX_RESOURCES = 10;
export const MAX_TEMPLATES = 5;
export const MAX_PROMPTS = 10;
const MAX_PAGES = 5;

export interface Offered {
  /** Every listed resource URI seen (all pages read, up to MAX_PAGES): values a tool argument may take. */
  uris: string[];
  templates: { uriTemplate: string; name?: string }[];
  prompts: { name: string; arguments?: { name: string; description?: string; required?: boolean }[] }[];
  /** Every page of each list was read: a URI missing from it does not exist. */
  complete: boolean;
  /** Lists the server failed to give, said to the user. */
  problems: string[];
}

/** The server's resources, templates and prompts, for those of them its capabilities declare. */
export async function listOffered(conn: Connection, info: ServerInfo, o: { resources: boolean; prompts: boolean }): Promise<Offered> {
  const offered: Offered = { uris: [], templates: [], prompts: [], complete: true, problems: [] };
  const add = async (method: string, key: string, into: (items: any[]) => void) => {
    const listed = await listPages(conn, method, key);
    into(listed.items);
    if (!listed.complete) offered.complete = false;
    if (listed.problem) offered.problems.push(listed.problem);
  };
  if (o.resources && info.capabilities.resources) {
    await add('resources/list', 'resources', (items) => {
      offered.uris = [...new Set(items.map((r) => r?.uri).filter((u): u is string => typeof u === 'string'))];
    });
    await add('resources/templates/list', 'resourceTemplates', (items) => {
      offered.templates = items.filter((t) => typeof t?.uriTemplate === 'string' && parses(t.uriTemplate));
    });
  }
  if (o.prompts && info.capabilities.prompts) {
    await add('prompts/list', 'prompts', (items) => { offered.prompts = items.filter((p) => typeof p?.name === 'string'); });
  }
  return offered;
}

async function listPages(conn: Connection, method: string, key: string): Promise<{ items: any[]; complete: boolean; problem?: string }> {
  const items: any[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const outcome = await conn.request(method, cursor ? JSON.stringify({ cursor }) : undefined);
    if (outcome.kind !== 'answer' || classify(outcome) !== null) {
      // A server that declares the capability but has no such list (-32601) simply offers none.
      const missing = outcome.kind === 'answer' && outcome.message.error?.code === -32601;
      return { items, complete: missing, problem: missing ? undefined : `${method} failed (${describeError(outcome)}), so what it lists is left out of the load` };
    }
    const result = outcome.message.result;
    if (Array.isArray(result?.[key])) items.push(...result[key]);
    cursor = typeof result?.nextCursor === 'string' && result.nextCursor ? result.nextCursor : undefined;
    if (!cursor) return { items, complete: true };
  }
  return { items, complete: false };
}

/** A template the SDK's RFC 6570 reader accepts (a malformed one is not offered). */
function parses(template: string): boolean {
  try {
    return new UriTemplate(template).variableNames.length >= 0;
  } catch {
    return false;
  }
}

/** A template's variables as the schema of its arguments: each a required string. */
export function templateSchema(template: string): Schema {
  const names = new UriTemplate(template).variableNames;
  return { type: 'object', properties: Object.fromEntries(names.map((n) => [n, { type: 'string' }])), required: names };
}

/** A prompt's declared arguments as a schema: strings, required where it says so. */
export function promptSchema(prompt: Offered['prompts'][number]): Schema {
  const args = (prompt.arguments ?? []).filter((a) => typeof a?.name === 'string');
  return {
    type: 'object',
    properties: Object.fromEntries(args.map((a) => [a.name, { type: 'string', ...(a.description ? { description: a.description } : {}) }])),
    required: args.filter((a) => a.required).map((a) => a.name),
  };
}

/** The default load's resource reads and prompt gets: a bounded sample, arguments generated. */
export function offeredCalls(offered: Offered): Call[] {
  const calls: Call[] = offered.uris.slice(0, MAX_RESOURCES).map(resourceCall);
  for (const t of offered.templates.slice(0, MAX_TEMPLATES)) calls.push(filledTemplate(t.uriTemplate));
  for (const p of offered.prompts.slice(0, MAX_PROMPTS)) {
    const schema = promptSchema(p);
    calls.push(promptCall(p.name, valueFor(schema) as Record<string, unknown>, schema));
  }
  return calls;
}

function filledTemplate(template: string): Call {
  const schema = templateSchema(template);
  return templateCall(template, valueFor(schema) as Record<string, unknown>, schema);
}

/** A resource named with --resource: a listed URI, one a template matches, or a template to fill. */
export function namedResource(uri: string, info: ServerInfo, offered: Offered): Call {
  if (!info.capabilities.resources) throw new CannotRun(`--resource ${uri}: this server offers no resources`);
  if (UriTemplate.isTemplate(uri)) {
    if (!parses(uri)) throw new CannotRun(`--resource ${uri}: not a URI template that can be filled (RFC 6570)`);
    return filledTemplate(uri);
  }
  const known = offered.uris.includes(uri) || offered.templates.some((t) => new UriTemplate(t.uriTemplate).match(uri) !== null);
  if (!known && offered.complete) {
    const have = [...offered.uris.slice(0, 5), ...offered.templates.slice(0, 3).map((t) => t.uriTemplate)];
    throw new CannotRun(`unknown resource '${uri}'; this server has: ${have.join(', ') || 'no resources listed'}${offered.uris.length > 5 ? ', …' : ''}`);
  }
  return resourceCall(uri);
}

/** A prompt named with --prompt, as `name` (arguments generated) or `name={"arg":"value"}`. */
export function namedPrompt(spec: string, info: ServerInfo, offered: Offered): Call {
  const eq = spec.indexOf('={');
  const name = eq === -1 ? spec : spec.slice(0, eq);
  if (!info.capabilities.prompts) throw new CannotRun(`--prompt ${name}: this server offers no prompts`);
  const prompt = offered.prompts.find((p) => p.name === name);
  if (!prompt) throw new CannotRun(`unknown prompt '${name}'; this server has: ${offered.prompts.map((p) => p.name).join(', ') || 'no prompts'}`);
  const schema = promptSchema(prompt);
  if (eq === -1) return promptCall(name, valueFor(schema) as Record<string, unknown>, schema);
  let args: unknown;
  try {
    args = JSON.parse(spec.slice(eq + 1));
  } catch (err) {
    throw new CannotRun(`--prompt ${name}: the arguments after = are not valid JSON (${(err as Error).message}); example: --prompt '${name}={"topic":"tides"}'`);
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) throw new CannotRun(`--prompt ${name}: give the arguments as a JSON object after =`);
  return promptCall(name, args as Record<string, unknown>, schema);
}
