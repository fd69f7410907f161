// Which requests a test sends: the tools (read-only unless the user names one) with their arguments, and
// the trial call each default tool gets before the load.
import type { ServerInfo } from '../transport/handshake.js';
import type { Connection } from '../transport/connection.js';
import { CannotRun } from '../errors.js';
import { classify, describeError } from '../transport/outcome.js';
import { argumentsFor } from './arguments.js';

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
  // ping does not exist in 2026-07-28 (method not found; over HTTP a 404).
  if (info.era !== 'modern') calls.push({ method: 'ping' });
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
    else if (classify(outcome) === 'inputRequired') notices.push(`${name} (asks for client input: ${describeError(outcome).slice(0, 60)})`);
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
