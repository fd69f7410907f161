// The handles line under the memory lines: each count at the end of warm-up and at the end, and what the
// verdict made of them. Rendering only: it reads the results, never the server.
import type { HandleKind, HandlesSection } from '../results.js';
import { count as n } from '../format.js';

const SHOWN: [HandleKind, string, string][] = [
  ['files', 'file', 'files'], ['sockets', 'socket', 'sockets'], ['pipes', 'pipe', 'pipes'], ['other', 'other', 'other'],
  ['threads', 'thread', 'threads'], ['processes', 'process', 'processes'],
];

/** "Handles: 14 files, 3 sockets, 2 pipes, 11 threads, 1 process: flat"; a count that changed shows "12 -> 4,130". */
export function handlesLine(h: HandlesSection): string {
  const parts: string[] = [];
  for (const [kind, one, many] of SHOWN) {
    const k = h.kinds[kind];
    // Other descriptors (event loops' eventfds and epoll) are shown only when they leak.
    if (kind === 'other' && !k.leaking) continue;
    const value = k.start === k.end ? n(k.end) : `${n(k.start)} -> ${n(k.end)}`;
    parts.push(`${value} ${k.start === k.end && k.end === 1 ? one : many}`);
  }
  const all = SHOWN.map(([kind]) => [kind, h.kinds[kind]] as const);
  const rising = all.filter(([, k]) => k.leaking && k.shape === 'rising').map(([kind]) => kind);
  // Leaking without a rise after warm-up: the server ran out of descriptors (EMFILE) early in the run.
  const atLimit = all.filter(([, k]) => k.leaking && k.shape !== 'rising').map(([kind]) => kind);
  const level = all.filter(([, k]) => k.shape === 'levels off').map(([kind]) => kind);
  const verdict = rising.length || atLimit.length
    ? [rising.length ? `${rising.join(', ')} rising` : '', atLimit.length ? `${atLimit.join(', ')} at the descriptor limit` : ''].filter(Boolean).join('; ')
    : level.length ? `${level.join(', ')} level${level.length > 1 ? '' : 's'} off`
      : all.every(([, k]) => k.shape === 'too short') ? 'too short to judge' : 'flat';
  return `Handles: ${parts.join(', ')}: ${verdict}`;
}
