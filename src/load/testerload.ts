// How busy mcp-hammer itself was while it loaded the server, and what that means for the figures it
// reports. On two cores the tester's CPU is the server's loss, and a tester that sets the pace measures
// itself: the results say so.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import type { TesterLoad } from '../results.js';

/**
 * Start measuring. finish() takes the seconds the load ran (pauses left out: CPU over that time) and,
 * where known, the server's share of a core; the event loop's shares are over wall-clock time, pauses
 * included, since the thread counters do not pause.
 */
export function meterTester(clock: () => number = () => performance.now()): { finish(loadSeconds: number, serverCpuPercent?: number): TesterLoad } {
  const cpuStart = process.cpuUsage();
  const wallStart = clock();
  const threadStart = loopThreadTimes();
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  return {
    finish(loadSeconds, serverCpuPercent) {
      loopDelay.disable();
      const cpu = process.cpuUsage(cpuStart);
      const threadEnd = loopThreadTimes();
      const wall = (clock() - wallStart) / 1000;
      const thread = threadStart && threadEnd ? {
        loopPercent: percent((threadEnd.runNs - threadStart.runNs) / 1e9, wall),
        cpuWaitPercent: percent((threadEnd.waitNs - threadStart.waitNs) / 1e9, wall),
      } : {};
      return {
        cpuPercent: percent((cpu.user + cpu.system) / 1e6, loadSeconds),
        loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
        ...thread,
        ...(serverCpuPercent === undefined ? {} : { serverCpuPercent }),
      };
    },
  };
}

export function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 100) : 0;
}

/**
 * Time this process's event-loop thread has spent running and waiting to run, in nanoseconds, from
 * /proc/self/schedstat (the main thread's line; Linux only). process.cpuUsage() counts every thread, so it
 * cannot tell a saturated event loop from busy helper threads, and it cannot see the waiting.
 */
function loopThreadTimes(): { runNs: number; waitNs: number } | null {
  try {
    const [run, wait] = readFileSync('/proc/self/schedstat', 'latin1').split(' ').map(Number);
    return Number.isFinite(run) && Number.isFinite(wait) ? { runNs: run, waitNs: wait } : null;
  } catch {
    return null;
  }
}

/**
 * What the tester says about itself. It set the pace when its event loop ran nearly a whole core (it could
 * send no faster), or when it worked harder than the server: with requests in flight and the server answering
 * at once, the busier side is the bottleneck. The 20% floor keeps a tester that is only sampling memory next
 * to a server waiting on slow work from being blamed. A lagging event loop alone does not mean that: on a
 * machine busy with other work both sides wait for a CPU, and that is said separately.
 */
export function testerWarnings(t: TesterLoad): string[] {
  const warnings: string[] = [];
  const loop = t.loopPercent ?? t.cpuPercent;
  const server = t.serverCpuPercent;
  if (loop > 90 || (server !== undefined && loop >= 20 && t.cpuPercent > server)) {
    const own = t.loopPercent === undefined ? `CPU ${t.cpuPercent}% of a core` : `event loop busy ${t.loopPercent}% of the time, CPU ${t.cpuPercent}% of a core`;
    warnings.push(`mcp-hammer itself was the busier side (${own}${server === undefined ? '' : `; the server ${server}%`}): `
      + 'the request rate is limited by the tester, not the server');
  }
  const waited = t.cpuWaitPercent !== undefined && t.cpuWaitPercent > 25;
  if (waited || t.loopDelayP99Ms > 50) {
    warnings.push(`mcp-hammer's event loop was held up (delay p99 ${t.loopDelayP99Ms} ms`
      + `${t.cpuWaitPercent === undefined ? '' : `, waiting for a CPU ${t.cpuWaitPercent}% of the time`}): `
      + (waited ? 'this machine is busy with other work, so the rate is lower and the latencies higher than the server alone would give'
        : 'the latencies include that delay'));
  }
  return warnings;
}
