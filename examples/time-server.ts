#!/usr/bin/env node
// The bundled example target: a small MCP time server built with the official SDK, every tool read-only.
// `mcp-hammer memory` runs against it when no server command is given.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'example-time-server', version: '1.0.0' });
const readOnly = { readOnlyHint: true, openWorldHint: false };

// One formatter per time zone: making an Intl.DateTimeFormat is costly, and the zones are a fixed, known
// set (the name is checked before it becomes a key), so this cache is bounded.
const formatters = new Map<string, Intl.DateTimeFormat>();

function timeIn(timezone: string, at = new Date()): string {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, dateStyle: 'short', timeStyle: 'long', hourCycle: 'h23' });
    formatters.set(timezone, format);
  }
  return format.format(at);
}

function checkZone(timezone: string): string | null {
  if (formatters.has(timezone)) return null;
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
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
    time: z.string().default('2026-01-01T12:00:00Z').describe('ISO 8601 date-time'),
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
    from: z.string().default('2026-01-01T00:00:00Z'),
    to: z.string().default('2026-01-02T06:30:00Z'),
  },
  annotations: readOnly,
}, async ({ from, to }) => {
  const ms = new Date(to).getTime() - new Date(from).getTime();
  if (Number.isNaN(ms)) return failure('both times must be ISO 8601 date-times');
  return { content: [{ type: 'text', text: JSON.stringify({ hours: ms / 3_600_000 }) }] };
});

await server.connect(new StdioServerTransport());
