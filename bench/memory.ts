// SPDX-License-Identifier: MIT
// Scenario 5: peak memory of the tmiDB processes while scenario 1 runs, from /proc (Linux). Node
// processes report their peak RSS (VmHWM) and a sampled peak; PostgreSQL is the sum of the PSS of the
// postmaster and its backends (PSS splits shared_buffers fairly instead of counting it once per backend);
// nats-server is one process. The same samples add up the CPU time each group used (utime + stime of
// every pid seen), which says where the cores went.
//
// The sampler reads /proc asynchronously (libuv's thread pool), never on the driver's event loop: reading
// smaps_rollup of busy PostgreSQL backends takes the kernel 25–70 ms per sample on this machine, and a
// synchronous read stalled every request or WebSocket frame the driver was timing meanwhile (scenario 4's
// p99 was mostly that stall). Scenarios that report only CPU (3 and 4) sample no memory at all.
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/** How often the sampler reads /proc. */
export const memorySampleIntervalMs = 200;
/**
 * How often a sampler of CPU time alone reads /proc: CPU time adds up whenever it is read, so rarer samples
 * only miss processes that live less than this (each sample reads every /proc/<pid>/stat to find
 * PostgreSQL's backends: ~100 ms of CPU per second at the memory interval, taken from the run under test).
 */
export const cpuSampleIntervalMs = 1000;

export interface ProcessGroup {
  readonly name: string;
  /** The pids to add up now (evaluated at every sample: backends come and go). */
  readonly pids: () => Promise<readonly number[]>;
  /** 'rss' for single processes; 'pss' for process families that share memory; 'cpu': no memory. */
  readonly measure: 'rss' | 'pss' | 'cpu';
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

/** A `Field:   123 kB` line of /proc/<pid>/status or smaps_rollup, in bytes. */
function kbField(text: string, field: string): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

function statusField(pid: number, field: string): number | undefined {
  try {
    return kbField(readFileSync(`/proc/${pid}/status`, 'utf8'), field);
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

async function statusFieldOf(pid: number, field: string): Promise<number | undefined> {
  try {
    return kbField(await readFile(`/proc/${pid}/status`, 'utf8'), field);
  } catch {
    return undefined;
  }
}

/** Proportional set size: shared pages split between the processes sharing them. */
async function pssBytes(pid: number): Promise<number | undefined> {
  try {
    return kbField(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
  } catch {
    return statusFieldOf(pid, 'VmRSS');
  }
}

/** A process and its direct children (PostgreSQL's backends are children of the postmaster). */
async function withChildren(pid: number): Promise<number[]> {
  const entries = (await readdir('/proc')).filter((e) => /^\d+$/.test(e));
  const parents = await Promise.all(entries.map(async (e) => (await cpuStat(Number(e)))?.ppid));
  return [pid, ...entries.filter((_, i) => parents[i] === pid).map(Number)];
}

/** ppid and utime + stime (ms) of a process, off the event loop; undefined once it is gone. */
async function cpuStat(pid: number): Promise<{ ppid: number; cpuMs: number } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerS,
    };
  } catch {
    return undefined;
  }
}

/** The groups scenario 1 and 3 watch: each tmiDB process, them together, the servers, the driver. */
export function processGroups(
  tmidbPids: Readonly<Record<string, number>>,
  postmasterPid: () => number,
  natsPid: number,
  what: 'memory' | 'cpu' = 'memory',
): ProcessGroup[] {
  const one: ProcessGroup['measure'] = what === 'memory' ? 'rss' : 'cpu';
  return [
    ...Object.entries(tmidbPids).map(([name, pid]) => ({
      name: `tmidb:${name}`,
      pids: async () => [pid],
      measure: one,
    })),
    { name: 'tmidb:total', pids: async () => Object.values(tmidbPids), measure: one },
    {
      name: 'postgresql',
      pids: () => withChildren(postmasterPid()),
      measure: what === 'memory' ? ('pss' as const) : ('cpu' as const),
    },
    { name: 'nats-server', pids: async () => [natsPid], measure: one },
    { name: 'bench-driver', pids: async () => [process.pid], measure: one },
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

/**
 * A group's processes, or none when they cannot be named any more (a server stopped while a scenario
 * unwinds after a failure): the sampler's timer must not crash the run and hide the scenario's own error.
 */
async function pidsOf(g: ProcessGroup): Promise<readonly number[]> {
  try {
    return await g.pids();
  } catch {
    return [];
  }
}

/** Memory of one process as its group measures it (0 for CPU-only groups). */
async function memoryOf(g: ProcessGroup, pid: number): Promise<number> {
  if (g.measure === 'cpu') return 0;
  return (await (g.measure === 'pss' ? pssBytes(pid) : statusFieldOf(pid, 'VmRSS'))) ?? 0;
}

export class MemorySampler {
  private readonly peaks = new Map<string, number>();
  /** group → pid → [cpu ms when first seen, cpu ms when last seen]. */
  private readonly cpu = new Map<string, Map<number, [number, number]>>();
  private timer: NodeJS.Timeout | undefined;
  /** The sample being taken (a tick while one runs is skipped: samples never pile up). */
  private running: Promise<void> | undefined;
  private samples = 0;
  private machineStartMs = 0;

  constructor(private readonly groups: readonly ProcessGroup[]) {}

  async start(): Promise<void> {
    this.machineStartMs = machineBusyMs();
    await this.tick();
    const cpuOnly = this.groups.every((g) => g.measure === 'cpu');
    this.timer = setInterval(() => void this.tick(), cpuOnly ? cpuSampleIntervalMs : memorySampleIntervalMs);
    this.timer.unref();
  }

  private tick(): Promise<void> {
    this.running ??= this.sample().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async sample(): Promise<void> {
    this.samples++;
    await Promise.all(this.groups.map((g) => this.sampleGroup(g)));
  }

  private async sampleGroup(g: ProcessGroup): Promise<void> {
    let cpu = this.cpu.get(g.name);
    if (cpu === undefined) {
      cpu = new Map();
      this.cpu.set(g.name, cpu);
    }
    const pids = await pidsOf(g);
    const [memory, stats] = await Promise.all([
      Promise.all(pids.map((pid) => memoryOf(g, pid))),
      Promise.all(pids.map((pid) => cpuStat(pid))),
    ]);
    pids.forEach((pid, i) => {
      const ms = stats[i]?.cpuMs;
      if (ms === undefined) return;
      const seen = cpu.get(pid);
      if (seen === undefined) cpu.set(pid, [ms, ms]);
      else seen[1] = ms;
    });
    const sum = memory.reduce((a, b) => a + b, 0);
    if (sum > (this.peaks.get(g.name) ?? 0)) this.peaks.set(g.name, sum);
  }

  /** Stops sampling; `hwmPids` are read for their kernel peak (call before those processes exit). */
  async stop(hwmPids: Readonly<Record<string, number>>): Promise<MemoryPeaks> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.sample();
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
