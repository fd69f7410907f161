// --heap: which watch a server gets once it has answered. The runtime is not known before the server
// starts (a wrapper, uv, a shell script may stand in front of it), so both ways are prepared: the Node.js
// inspector (inspectors.ts) and the Python hook with its private channel (python/channel.ts). A Node.js
// process with an inspector is watched through it; else a Python process that claimed the channel is
// watched through tracemalloc; else one sentence says why not, and the test runs without --heap.
import type { LiveHeap } from './live.js';
import type { HeapProbe } from './probe.js';
import { HeapWatch } from './watch.js';
import { PyChannel, type Hello } from './python/channel.js';
import { PyHeapWatch } from './python/watch.js';
import type { ServerProcess } from '../server/process.js';
import type { Runtime } from '../sampling/runtime.js';

/** How long a Python server's hello may lag behind its handshake (both are written before it answers). */
const HELLO_MS = 1000;

const WITHOUT = 'the test runs without it';

export async function chooseHeap(o: { live: LiveHeap | null; server: ServerProcess; runtime: Runtime })
  : Promise<{ heap: HeapProbe | null; warning?: string }> {
  if (o.live?.watching()) {
    o.server.channel?.destroy();
    return { heap: new HeapWatch(o.live) };
  }
  if (!o.server.channel) return { heap: null, warning: `--heap works on Node.js and Python servers that mcp-hammer starts: ${WITHOUT}` };
  const channel = new PyChannel(o.server.channel);
  const hello = await channel.waitHello(o.runtime === 'node' ? 0 : HELLO_MS);
  const refuse = (why: string) => {
    channel.close();
    return { heap: null, warning: `${why}: ${WITHOUT}` };
  };
  if (hello) {
    const unfit = unfitPython(hello);
    return unfit ? refuse(unfit) : { heap: new PyHeapWatch(channel, hello) };
  }
  if (o.runtime === 'node') {
    return refuse(o.live
      ? '--heap works on Node.js and Python servers, and no Node.js process of this server opened an inspector'
      : '--heap reads a Node.js server\'s heap through its inspector, which --no-inspector turns off');
  }
  if (o.runtime === 'cpython') {
    return refuse('--heap on a Python server loads mcp-hammer\'s sitecustomize from PYTHONPATH and talks to it over an inherited file '
      + 'descriptor, and no Python process of this server took them up (started with -I, -E or -S, or behind a wrapper that closes '
      + 'inherited descriptors?)');
  }
  return refuse('--heap works on Node.js and Python servers, and no process of this server opened a Node.js inspector or loaded mcp-hammer\'s Python hook');
}

/** Why a Python that claimed the channel cannot be traced (too old, not CPython), or undefined. */
export function unfitPython(hello: Hello): string | undefined {
  const [major, minor] = hello.python.split('.').map(Number);
  if (major < 3 || (major === 3 && minor < 10)) {
    return `--heap on a Python server needs Python 3.10 or newer, and this server runs Python ${hello.python} (${hello.executable})`;
  }
  if (hello.implementation !== 'cpython') return `--heap on a Python server needs CPython (tracemalloc), and this server runs ${hello.implementation}`;
  return undefined;
}
