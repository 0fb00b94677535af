// SPDX-License-Identifier: MIT
// Scenario 5: peak memory of the tmiDB processes while scenario 1 runs, from /proc (Linux). Node
// processes report their peak RSS (VmHWM) and a sampled peak; PostgreSQL is the sum of the PSS of the
// postmaster and its backends (PSS splits shared_buffers fairly instead of counting it once per backend);
// nats-server is one process. The same samples add up the CPU time each group used (utime + stime of
// every pid seen), which says where the cores went.
import { readdirSync, readFileSync } from 'node:fs';

/** How often the sampler reads /proc. */
export const memorySampleIntervalMs = 200;

export interface ProcessGroup {
  readonly name: string;
  /** The pids to add up now (evaluated at every sample: backends come and go). */
  readonly pids: () => readonly number[];
  /** 'rss' for single processes; 'pss' for process families that share memory. */
  readonly measure: 'rss' | 'pss';
}

export interface MemoryPeaks {
  /** Peak of the sampled sum, MiB, per group. */
  readonly peakMiB: Record<string, number>;
  /** CPU time used while sampling, ms, per group. */
  readonly cpuMs: Record<string, number>;
  /** The kernel's peak RSS (VmHWM) per tmiDB process, MiB, read at the end. */
  readonly hwmMiB: Record<string, number>;
  readonly samples: number;
}

function statusField(pid: number, field: string): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function rssBytes(pid: number): number | undefined {
  return statusField(pid, 'VmRSS');
}

/** Peak resident set size of a live process (the kernel's high-water mark). */
export function hwmBytes(pid: number): number | undefined {
  return statusField(pid, 'VmHWM');
}

export function pssBytes(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const m = /^Pss:\s+(\d+) kB/m.exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return rssBytes(pid);
  }
}

/** A process and its direct children (PostgreSQL's backends are children of the postmaster). */
export function withChildren(pid: number): number[] {
  const out = [pid];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The groups scenario 1 and 3 watch: each tmiDB process, them together, the servers, the driver. */
export function processGroups(
  tmidbPids: Readonly<Record<string, number>>,
  postmasterPid: () => number,
  natsPid: number,
): ProcessGroup[] {
  return [
    ...Object.entries(tmidbPids).map(([name, pid]) => ({
      name: `tmidb:${name}`,
      pids: () => [pid],
      measure: 'rss' as const,
    })),
    { name: 'tmidb:total', pids: () => Object.values(tmidbPids), measure: 'rss' },
    { name: 'postgresql', pids: () => withChildren(postmasterPid()), measure: 'pss' },
    { name: 'nats-server', pids: () => [natsPid], measure: 'rss' },
    { name: 'bench-driver', pids: () => [process.pid], measure: 'rss' },
  ];
}

/** Average cores used by processes that are not part of the run (other work on the machine). */
export function otherCores(peaks: MemoryPeaks, ms: number): number {
  return Math.round(((peaks.cpuMs[otherProcesses] ?? 0) / ms) * 100) / 100;
}

export const otherProcesses = 'other processes (noise)';

export const mib = (bytes: number): number => Math.round((bytes / 1024 ** 2) * 10) / 10;

const clockTicksPerS = 100; // USER_HZ on Linux

/** CPU time the whole machine spent busy (all cores, not idle, not waiting for I/O), ms. */
export function machineBusyMs(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const t = line.trim().split(/\s+/).slice(1).map(Number);
    const total = t.slice(0, 8).reduce((a, b) => a + b, 0);
    return ((total - (t[3] ?? 0) - (t[4] ?? 0)) * 1000) / clockTicksPerS;
  } catch {
    return 0;
  }
}

/** utime + stime of a process, ms. */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerS;
  } catch {
    return undefined;
  }
}

/**
 * A group's processes, or none when they cannot be named any more (a server stopped while a scenario
 * unwinds after a failure): the sampler's timer must not crash the run and hide the scenario's own error.
 */
function pidsOf(g: ProcessGroup): readonly number[] {
  try {
    return g.pids();
  } catch {
    return [];
  }
}

export class MemorySampler {
  private readonly peaks = new Map<string, number>();
  /** group → pid → [cpu ms when first seen, cpu ms when last seen]. */
  private readonly cpu = new Map<string, Map<number, [number, number]>>();
  private timer: NodeJS.Timeout | undefined;
  private samples = 0;
  private machineStartMs = 0;

  constructor(private readonly groups: readonly ProcessGroup[]) {}

  start(): void {
    this.machineStartMs = machineBusyMs();
    this.sample();
    this.timer = setInterval(() => this.sample(), memorySampleIntervalMs);
    this.timer.unref();
  }

  sample(): void {
    this.samples++;
    for (const g of this.groups) {
      let sum = 0;
      let cpu = this.cpu.get(g.name);
      if (cpu === undefined) {
        cpu = new Map();
        this.cpu.set(g.name, cpu);
      }
      for (const pid of pidsOf(g)) {
        sum += (g.measure === 'pss' ? pssBytes(pid) : rssBytes(pid)) ?? 0;
        const ms = cpuTimeMs(pid);
        if (ms === undefined) continue;
        const seen = cpu.get(pid);
        if (seen === undefined) cpu.set(pid, [ms, ms]);
        else seen[1] = ms;
      }
      if (sum > (this.peaks.get(g.name) ?? 0)) this.peaks.set(g.name, sum);
    }
  }

  /** Stops sampling; `hwmPids` are read for their kernel peak (call before those processes exit). */
  stop(hwmPids: Readonly<Record<string, number>>): MemoryPeaks {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    const peakMiB: Record<string, number> = {};
    for (const [name, bytes] of this.peaks) peakMiB[name] = mib(bytes);
    const hwmMiB: Record<string, number> = {};
    for (const [name, pid] of Object.entries(hwmPids)) hwmMiB[name] = mib(hwmBytes(pid) ?? 0);
    const cpuMs: Record<string, number> = {};
    for (const [name, pids] of this.cpu) {
      let ms = 0;
      for (const [first, last] of pids.values()) ms += last - first;
      cpuMs[name] = Math.round(ms);
    }
    const machineMs = machineBusyMs() - this.machineStartMs;
    const ours = Object.entries(cpuMs).reduce((n, [name, ms]) => (name.endsWith(':total') ? n : n + ms), 0);
    cpuMs[otherProcesses] = Math.max(0, Math.round(machineMs - ours));
    return { peakMiB, cpuMs, hwmMiB, samples: this.samples };
  }
}
