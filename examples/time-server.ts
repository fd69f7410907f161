#!/usr/bin/env node
// The bundled example target: a small MCP time server built with the official SDK, every tool read-only.
// `mcp-hammer memory` and `mcp-hammer cache` run against it when no server command is given. Its date-times
// are declared as such (format date-time), so the cache test can flood them with valid values.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'example-time-server', version: '1.0.0' });
const readOnly = { readOnlyHint: true, openWorldHint: false };

// One formatter per time zone, memoised: building one costs far more than using it. The memo is keyed by
// an argument, yet bounded: an unknown zone throws before it is stored, so it holds at most the few hundred
// IANA zones.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, dateStyle: 'short', timeStyle: 'long', hourCycle: 'h23' });
    formatters.set(timezone, f);
  }
  return f;
}

function timeIn(timezone: string, at = new Date()): string {
  return formatter(timezone).format(at);
}

function checkZone(timezone: string): string | null {
  try {
    formatter(timezone);
    return null;
  } catch {
    return `unknown time zone '${timezone}'; use an IANA name such as Europe/Paris`;
  }
}

const failure = (text: string) => ({ isError: true, content: [{ type: 'text' as const, text }] });

server.registerTool('get_current_time', {
  description: 'The current time in a time zone',
  inputSchema: { timezone: z.string().default('UTC').describe('IANA time zone, e.g. Europe/Paris') },
  annotations: readOnly,
}, async ({ timezone }) => {
  const bad = checkZone(timezone);
  if (bad) return failure(bad);
  return { content: [{ type: 'text', text: JSON.stringify({ timezone, time: timeIn(timezone) }) }] };
});

server.registerTool('convert_time', {
  description: 'Convert an ISO time from one time zone to another',
  inputSchema: {
    time: z.iso.datetime({ offset: true }).default('2026-01-01T12:00:00Z').describe('ISO 8601 date-time'),
    target_timezone: z.string().default('Asia/Tokyo'),
  },
  annotations: readOnly,
}, async ({ time, target_timezone }) => {
  const bad = checkZone(target_timezone);
  if (bad) return failure(bad);
  const at = new Date(time);
  if (Number.isNaN(at.getTime())) return failure(`'${time}' is not an ISO 8601 date-time`);
  return { content: [{ type: 'text', text: JSON.stringify({ time, target_timezone, converted: timeIn(target_timezone, at) }) }] };
});

server.registerTool('time_difference', {
  description: 'Hours between two ISO date-times',
  inputSchema: {
    from: z.iso.datetime({ offset: true }).default('2026-01-01T00:00:00Z'),
    to: z.iso.datetime({ offset: true }).default('2026-01-02T06:30:00Z'),
  },
  annotations: readOnly,
}, async ({ from, to }) => {
  const ms = new Date(to).getTime() - new Date(from).getTime();
  if (Number.isNaN(ms)) return failure('both times must be ISO 8601 date-times');
  return { content: [{ type: 'text', text: JSON.stringify({ hours: ms / 3_600_000 }) }] };
});

await server.connect(new StdioServerTransport());
