// One request of the load, built once: its params serialised for the loop, its name on screen and its
// record in the results. Four kinds: a tool call, a listed resource read, a resource read through a URI
// template, a prompt get. A call keeps the schema of its arguments, so that learning (learn.ts) and the
// cache test's floods (flood.ts) can build it again with other values.
import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import type { CallRecord } from '../results.js';

export type Schema = Record<string, any>;

export interface Call {
  method: string;
  /** The tool's name, for tools/call. */
  tool?: string;
  /** resources/read: the URI read (for a template, filled in). */
  uri?: string;
  /** resources/read through a template: the template. */
  template?: string;
  /** prompts/get: the prompt's name. */
  prompt?: string;
  arguments?: Record<string, unknown>;
  /** The arguments' schema: a tool's inputSchema, a template's variables, a prompt's arguments. */
  schema?: Schema;
  /** Properties whose value came from the server's own answers, and from where ("path from list_directory"). */
  learnt?: Record<string, string>;
  /** The params, serialised once: the load loop sends the same text many times. */
  paramsJson?: string;
}

export function toolCall(tool: string, args: Record<string, unknown>, schema?: Schema): Call {
  return { method: 'tools/call', tool, arguments: args, schema, paramsJson: JSON.stringify({ name: tool, arguments: args }) };
}

export function resourceCall(uri: string): Call {
  return { method: 'resources/read', uri, paramsJson: JSON.stringify({ uri }) };
}

/** A read through a URI template, its variables filled from args (RFC 6570, as the SDK expands it). */
export function templateCall(template: string, args: Record<string, unknown>, schema?: Schema): Call {
  const vars = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)]));
  const uri = new UriTemplate(template).expand(vars);
  return { method: 'resources/read', uri, template, arguments: args, schema, paramsJson: JSON.stringify({ uri }) };
}

export function promptCall(prompt: string, args: Record<string, unknown>, schema?: Schema): Call {
  return { method: 'prompts/get', prompt, arguments: args, schema, paramsJson: JSON.stringify({ name: prompt, arguments: args }) };
}

/** The same call with other arguments; `learnt` says which came from the server's answers. */
export function withArguments(call: Call, args: Record<string, unknown>, learnt?: Record<string, string>): Call {
  const built = call.method === 'prompts/get' ? promptCall(call.prompt!, args, call.schema)
    : call.template ? templateCall(call.template, args, call.schema)
      : toolCall(call.tool!, args, call.schema);
  return learnt && Object.keys(learnt).length ? { ...built, learnt } : built;
}

/** How a call is named on screen: a tool by its name, a resource by its URI, a prompt as "prompt <name>". */
export function callName(c: { method: string; tool?: string; uri?: string; template?: string; prompt?: string }): string {
  if (c.tool) return c.tool;
  if (c.prompt) return `prompt ${c.prompt}`;
  return c.uri ?? c.template ?? c.method;
}

/** What the results JSON keeps of a call. */
export function callRecord(c: Call): CallRecord {
  const record: CallRecord = { method: c.method };
  if (c.tool !== undefined) record.tool = c.tool;
  if (c.uri !== undefined) record.uri = c.uri;
  if (c.template !== undefined) record.template = c.template;
  if (c.prompt !== undefined) record.prompt = c.prompt;
  if (c.arguments !== undefined) record.arguments = c.arguments;
  if (c.learnt) record.learnt = c.learnt;
  return record;
}
